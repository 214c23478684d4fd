/* SPDX-License-Identifier: Apache-2.0 */
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/*
 * A JVM that makes requests on demand, so one JVM start serves many tests.
 * Each stdin line: MODE URL TOKEN [N], MODE one of urlconn (HttpsURLConnection),
 * http1 and http2 (java.net.http.HttpClient). Prints "ok STATUS VERSION"
 * or "err CLASS" per line; "ready" once started. With N, makes the request
 * N times and prints "ok STATUS VERSION MEDIAN_US" (the median time of one
 * request, in microseconds). The token is read from
 * stdin so that it is never in the command line or environment.
 */
public final class JavaClient {
	public static void main(String[] args) throws Exception {
		/* the test servers' certificates are self-signed */
		TrustManager[] all = { new X509TrustManager() {
			public void checkClientTrusted(X509Certificate[] c, String a) {
			}

			public void checkServerTrusted(X509Certificate[] c, String a) {
			}

			public X509Certificate[] getAcceptedIssuers() {
				return new X509Certificate[0];
			}
		} };
		SSLContext ctx = SSLContext.getInstance("TLS");
		ctx.init(null, all, null);
		HttpsURLConnection.setDefaultSSLSocketFactory(ctx.getSocketFactory());
		HttpsURLConnection.setDefaultHostnameVerifier((h, s) -> true);
		HttpClient h1 = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1).build();
		HttpClient h2 = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_2).build();
		BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
		System.out.println("ready");
		System.out.flush();
		String line;
		while ((line = in.readLine()) != null) {
			String[] f = line.trim().split(" ");
			if (f.length != 3 && f.length != 4) {
				System.out.println("err usage");
				System.out.flush();
				continue;
			}
			try {
				int n = f.length == 4 ? Integer.parseInt(f[3]) : 1;
				long[] us = new long[n];
				String res = "";
				for (int i = 0; i < n; i++) {
					long t0 = System.nanoTime();
					res = request(f, h1, h2);
					us[i] = (System.nanoTime() - t0) / 1000;
				}
				java.util.Arrays.sort(us);
				System.out.println("ok " + res + (f.length == 4 ? " " + us[n / 2] : ""));
			} catch (Exception e) {
				System.out.println("err " + e.getClass().getName());
			}
			System.out.flush();
		}
	}

	/* One request; "STATUS VERSION". */
	private static String request(String[] f, HttpClient h1, HttpClient h2) throws Exception {
		if (f[0].equals("urlconn")) {
			HttpsURLConnection c = (HttpsURLConnection) new URL(f[1]).openConnection();
			c.setRequestProperty("Authorization", "Bearer " + f[2]);
			int code = c.getResponseCode();
			try (InputStream is = code < 400 ? c.getInputStream() : c.getErrorStream()) {
				if (is != null)
					is.readAllBytes();
			}
			return code + " HTTP_1_1";
		} else {
			HttpClient hc = f[0].equals("http2") ? h2 : h1;
			HttpRequest r = HttpRequest.newBuilder(URI.create(f[1]))
				.header("Authorization", "Bearer " + f[2]).GET().build();
			HttpResponse<String> resp = hc.send(r, HttpResponse.BodyHandlers.ofString());
			return resp.statusCode() + " " + resp.version();
		}
	}
}
