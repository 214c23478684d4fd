/* SPDX-License-Identifier: Apache-2.0 */
package tokentap.agent;

import java.io.InputStream;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandles;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/*
 * Loaded into a running JVM by the sensor (HotSpot dynamic attach). The
 * argument is the directory holding tokentap-agent.jar and
 * libtokentap_java.so. It defines the hook class inside java.base, next to
 * the JDK's TLS code (java/hook/), then instruments that code.
 */
public final class Agent {
	static final String[] TARGETS = {
		"sun.security.ssl.SSLSocketImpl$AppOutputStream",
		"sun.security.ssl.SSLEngineImpl",
		"jdk.internal.net.http.common.SSLTube",
	};
	static final String HOOK = "sun.security.ssl.TokentapHook";

	private Agent() {
	}

	private static byte[] resource(String name) throws Exception {
		try (InputStream in = Agent.class.getResourceAsStream(name)) {
			if (in == null)
				throw new IllegalStateException("tokentap agent: " + name + " missing from the jar");
			return in.readAllBytes();
		}
	}

	public static synchronized void agentmain(String dir, Instrumentation inst) throws Exception {
		if (dir == null || dir.isEmpty() || !dir.startsWith("/"))
			throw new IllegalArgumentException("tokentap agent: an absolute directory is expected");
		Module base = Object.class.getModule();
		Module self = Agent.class.getModule();
		Optional<Module> http = ModuleLayer.boot().findModule("java.net.http");
		Class<?> hook;
		try {
			/* a second attach (a restarted sensor) finds the hooks in place */
			hook = Class.forName(HOOK, false, null);
			return;
		} catch (ClassNotFoundException e) {
			/* first attach */
		}
		/* the agent defines the hook in sun.security.ssl and calls its load */
		inst.redefineModule(base, Set.of(), Map.of(), Map.of("sun.security.ssl", Set.of(self)), Set.of(),
				    Map.of());
		if (http.isPresent()) {
			/* SSLTube calls the hook, which reads the SocketTube's channel */
			inst.redefineModule(base, Set.of(), Map.of("sun.security.ssl", Set.of(http.get())), Map.of(),
					    Set.of(), Map.of());
			inst.redefineModule(http.get(), Set.of(), Map.of(), Map.of("jdk.internal.net.http", Set.of(base)),
					    Set.of(), Map.of());
		}
		MethodHandles.Lookup in = MethodHandles.privateLookupIn(
			Class.forName("sun.security.ssl.SSLEngineImpl", false, null), MethodHandles.lookup());
		hook = in.defineClass(resource("/hook/sun/security/ssl/TokentapHook.class"));
		hook.getMethod("load", String.class).invoke(null, dir + "/libtokentap_java.so");
		/*
		 * The transformer and ASM live under impl/ in the jar, in a loader of
		 * their own: the application never sees this ASM, nor we its.
		 */
		URLClassLoader impl = new URLClassLoader(
			new URL[] { new URL("jar:file:" + dir + "/tokentap-agent.jar!/impl/") }, null);
		ClassFileTransformer t = (ClassFileTransformer) impl.loadClass("tokentap.impl.Instrumenter")
			.getConstructor().newInstance();
		inst.addTransformer(t, true);
		List<Class<?>> loaded = new ArrayList<>();
		for (Class<?> c : inst.getAllLoadedClasses())
			for (String name : TARGETS)
				if (c.getName().equals(name) && inst.isModifiableClass(c))
					loaded.add(c);
		if (!loaded.isEmpty())
			inst.retransformClasses(loaded.toArray(new Class<?>[0]));
	}
}
