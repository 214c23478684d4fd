/* SPDX-License-Identifier: Apache-2.0 */
package sun.security.ssl;

import java.io.FileDescriptor;
import java.lang.reflect.Field;
import java.net.Socket;
import java.net.SocketImpl;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.WeakHashMap;
import javax.net.ssl.SSLEngineResult;

/*
 * What the instrumented JDK methods call. The agent defines it inside
 * java.base (a package of the JDK's TLS), so that java.base and
 * java.net.http see it without any change to the bootstrap class path,
 * and it reads java.base's private fields as java.base itself. It hands each
 * plaintext about to be encrypted to libtokentap_java.so, whose exported
 * tokentap_java_tls_write the sensor probes. Nothing here may throw into
 * the application or change what it sends.
 */
public final class TokentapHook {
	/* The socket fd is unknown: bind by the record this thread writes next (SSLSocket). */
	static final int FD_BY_THREAD = -1;
	/* The socket fd is unknown and the thread writing the records may be another. */
	static final int FD_UNKNOWN = -2;
	/* Kinds of session in the connection id, so that ids of two kinds never collide. */
	private static final long KIND_SOCKET = 1, KIND_ENGINE = 2;

	private static volatile boolean ready;
	private static final Map<Object, Integer> engineFds = new WeakHashMap<>();
	private static Field outer, self, sockImpl, implFd, fdInt, tubeChannel, chanFdVal;

	private TokentapHook() {
	}

	private static native void write0(byte[] b, int off, int len, long conn, int fd);

	/* Called once by the agent: loads the native half. */
	public static synchronized boolean load(String lib) {
		if (ready)
			return false;
		System.load(lib);
		ready = true;
		return true;
	}

	/*
	 * A JVM-wide id of a session object: bit 62 set keeps it apart from the
	 * native TLS libraries' session pointers in the same process.
	 */
	private static long connId(long kind, Object o) {
		return (1L << 62) | (kind << 32) | (System.identityHashCode(o) & 0xffffffffL);
	}

	private static Field field(Class<?> c, String name) throws ReflectiveOperationException {
		for (Class<?> k = c; k != null; k = k.getSuperclass()) {
			try {
				Field f = k.getDeclaredField(name);
				f.setAccessible(true);
				return f;
			} catch (NoSuchFieldException e) {
				continue;
			}
		}
		throw new NoSuchFieldException(name);
	}

	/* The fd of the socket under an SSLSocketImpl$AppOutputStream, or FD_BY_THREAD. */
	private static int socketFd(Object appOut) {
		try {
			if (outer == null)
				outer = field(appOut.getClass(), "this$0");
			Object ssl = outer.get(appOut);
			if (self == null)
				self = field(ssl.getClass(), "self");
			/* a layered SSLSocket writes through the socket it wraps */
			Object s = self.get(ssl);
			if (sockImpl == null) {
				sockImpl = field(Socket.class, "impl");
				implFd = field(SocketImpl.class, "fd");
				fdInt = field(FileDescriptor.class, "fd");
			}
			Object impl = sockImpl.get(s != null ? s : ssl);
			Object fd = impl == null ? null : implFd.get(impl);
			return fd == null ? FD_BY_THREAD : fdInt.getInt(fd);
		} catch (Throwable t) {
			return FD_BY_THREAD;
		}
	}

	/* SSLSocketImpl$AppOutputStream.write(byte[], int, int), at entry. */
	public static void socketWrite(Object appOut, byte[] b, int off, int len) {
		if (!ready || b == null || len <= 0 || off < 0 || off > b.length - len)
			return;
		try {
			write0(b, off, len, connId(KIND_SOCKET, appOut), socketFd(appOut));
		} catch (Throwable t) {
			/* the application's write goes on */
		}
	}

	/*
	 * SSLTube(engine, ..., tube), at exit: HttpClient's engine and the socket
	 * its records go to (SocketTube.channel), whichever thread writes them.
	 */
	public static void tube(Object engine, Object tube) {
		if (!ready || engine == null || tube == null)
			return;
		try {
			if (tubeChannel == null)
				tubeChannel = field(tube.getClass(), "channel");
			Object ch = tubeChannel.get(tube);
			if (chanFdVal == null)
				chanFdVal = field(ch.getClass(), "fdVal");
			int fd = chanFdVal.getInt(ch);
			synchronized (engineFds) {
				engineFds.put(engine, fd);
			}
		} catch (Throwable t) {
			/* unknown: the engine's writes go without a socket */
		}
	}

	/* SSLEngineImpl.wrap(srcs, off, len, ...), at entry: where each source starts. */
	public static Object wrapEnter(ByteBuffer[] srcs, int off, int len) {
		if (!ready || srcs == null || off < 0 || len <= 0 || off > srcs.length - len)
			return null;
		try {
			int[] pos = new int[len];
			for (int i = 0; i < len; i++)
				pos[i] = srcs[off + i] == null ? -1 : srcs[off + i].position();
			return pos;
		} catch (Throwable t) {
			return null;
		}
	}

	/* The same wrap, at its return: the bytes it consumed are the plaintext sent. */
	public static void wrapExit(Object result, Object engine, Object snap, ByteBuffer[] srcs, int off,
				    int len) {
		if (!(snap instanceof int[]) || !(result instanceof SSLEngineResult))
			return;
		try {
			int[] pos = (int[]) snap;
			int total = ((SSLEngineResult) result).bytesConsumed();

			if (total <= 0 || pos.length != len)
				return;
			byte[] out = new byte[total];
			int n = 0;
			for (int i = 0; i < len && n < total; i++) {
				ByteBuffer b = srcs[off + i];
				if (b == null || pos[i] < 0)
					continue;
				int k = Math.min(b.position() - pos[i], total - n);
				if (k <= 0)
					continue;
				b.duplicate().position(pos[i]).get(out, n, k);
				n += k;
			}
			if (n <= 0)
				return;
			Integer fd;
			synchronized (engineFds) {
				fd = engineFds.get(engine);
			}
			write0(out, 0, n, connId(KIND_ENGINE, engine), fd == null ? FD_UNKNOWN : fd);
		} catch (Throwable t) {
			/* the application's wrap goes on */
		}
	}
}
