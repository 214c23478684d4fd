/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The native half of the Java agent: the JVM encrypts in Java code, so the
 * agent hands each plaintext to this library, and the sensor probes
 * tokentap_java_tls_write like a TLS library's write function. Without
 * the sensor it does nothing.
 */
#include <jni.h>
#include <stddef.h>
#include <stdint.h>

/*
 * buf, len: the plaintext about to be encrypted. conn: the session (an id
 * with bit 62 set). fd: its socket, -1 for "the socket this thread writes
 * next", -2 for unknown. Kept out of line and exported: it is the probe
 * point, so it must exist as a function with these arguments.
 */
__attribute__((noinline, used, visibility("default"))) void
tokentap_java_tls_write(const void *buf, size_t len, uint64_t conn, int fd)
{
	/* an empty body the compiler may not drop or merge into the caller */
	__asm__ volatile("" : : "r"(buf), "r"(len), "r"(conn), "r"(fd) : "memory");
}

JNIEXPORT void JNICALL Java_sun_security_ssl_TokentapHook_write0(JNIEnv *env, jclass cls, jbyteArray arr, jint off,
						     jint len, jlong conn, jint fd)
{
	jsize n;
	jbyte *p;

	(void)cls;
	if (!arr || off < 0 || len <= 0)
		return;
	n = (*env)->GetArrayLength(env, arr);
	if (off > n || len > n - off)
		return;
	/* no copy: the array is pinned for the call and released unchanged */
	p = (*env)->GetPrimitiveArrayCritical(env, arr, NULL);
	if (!p)
		return;
	tokentap_java_tls_write(p + off, (size_t)len, (uint64_t)conn, fd);
	(*env)->ReleasePrimitiveArrayCritical(env, arr, p, JNI_ABORT);
}
