/* SPDX-License-Identifier: Apache-2.0 */
package tokentap.agent;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import tokentap.boot.Hook;

/*
 * Loaded into a running JVM by the sensor (HotSpot dynamic attach); the jar
 * is on the bootstrap class path (Boot-Class-Path), so Hook is visible to
 * the JDK classes it instruments. The argument is the directory holding
 * tokentap-agent.jar and libtokentap_java.so.
 */
public final class Agent {
	static final String[] TARGETS = {
		"sun.security.ssl.SSLSocketImpl$AppOutputStream",
		"sun.security.ssl.SSLEngineImpl",
		"jdk.internal.net.http.common.SSLTube",
	};

	private Agent() {
	}

	public static void agentmain(String dir, Instrumentation inst) throws Exception {
		if (dir == null || dir.isEmpty() || !dir.startsWith("/"))
			throw new IllegalArgumentException("tokentap agent: an absolute directory is expected");
		/* a second attach (a restarted sensor) finds the hooks in place */
		if (!Hook.load(dir + "/libtokentap_java.so"))
			return;
		Module hook = Hook.class.getModule();
		Set<Module> to = Set.of(hook);
		/* the instrumented code calls Hook; Hook reads the sockets' private fields */
		inst.redefineModule(Object.class.getModule(), to, Map.of(),
				    Map.of("sun.security.ssl", to, "java.net", to, "java.io", to, "sun.nio.ch", to),
				    Set.of(), Map.of());
		Optional<Module> http = ModuleLayer.boot().findModule("java.net.http");
		if (http.isPresent())
			inst.redefineModule(http.get(), to, Map.of(), Map.of("jdk.internal.net.http", to), Set.of(),
					    Map.of());
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
