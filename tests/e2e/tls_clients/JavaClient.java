// SPDX-License-Identifier: Apache-2.0
// An HTTPS client on the JVM's own TLS (JSSE), which no uprobe sees: with
// no Java agent, run_coverage.py expects it reported as tls_uncovered with
// cause jvm_without_java. Usage: java JavaClient.java PORT. Trusts any
// certificate (the test server's is self-signed) on 127.0.0.1 only.
import java.io.InputStream;
import java.net.URL;
import java.security.cert.X509Certificate;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

public class JavaClient {
    public static void main(String[] args) throws Exception {
        TrustManager[] any = { new X509TrustManager() {
            public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
            public void checkClientTrusted(X509Certificate[] c, String t) {}
            public void checkServerTrusted(X509Certificate[] c, String t) {}
        } };
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, any, null);
        HttpsURLConnection.setDefaultSSLSocketFactory(ctx.getSocketFactory());
        HttpsURLConnection.setDefaultHostnameVerifier((h, s) -> h.equals("127.0.0.1"));
        URL url = new URL("https://127.0.0.1:" + args[0] + "/coverage/java");
        HttpsURLConnection c = (HttpsURLConnection) url.openConnection();
        c.setRequestProperty("X-Padding", "0123456789abcdef0123456789abcdef0123456789abcdef");
        try (InputStream in = c.getInputStream()) {
            in.readAllBytes();
        }
        if (c.getResponseCode() != 200)
            throw new RuntimeException("status " + c.getResponseCode());
    }
}
