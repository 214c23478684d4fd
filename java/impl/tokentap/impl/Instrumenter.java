/* SPDX-License-Identifier: Apache-2.0 */
package tokentap.impl;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.commons.AdviceAdapter;

/*
 * Adds calls to sun.security.ssl.TokentapHook (java/hook/) to the JDK's TLS write paths:
 * SSLSocketImpl$AppOutputStream.write(byte[], int, int) (SSLSocket,
 * HttpsURLConnection), SSLEngineImpl.wrap(ByteBuffer[], int, int,
 * ByteBuffer[], int, int) (every SSLEngine wrap ends there; HttpClient),
 * and SSLTube's constructors (HttpClient: which socket an engine writes to).
 * Nothing else changes; any failure leaves the class as it was.
 */
public final class Instrumenter implements ClassFileTransformer {
	private static final String HOOK = "sun/security/ssl/TokentapHook";
	private static final String APP_OUT = "sun/security/ssl/SSLSocketImpl$AppOutputStream";
	private static final String ENGINE = "sun/security/ssl/SSLEngineImpl";
	private static final String TUBE = "jdk/internal/net/http/common/SSLTube";
	private static final String WRAP_DESC =
		"([Ljava/nio/ByteBuffer;II[Ljava/nio/ByteBuffer;II)Ljavax/net/ssl/SSLEngineResult;";

	@Override
	public byte[] transform(Module module, ClassLoader loader, String name, Class<?> redefined,
				ProtectionDomain pd, byte[] bytes) {
		if (name == null || !(name.equals(APP_OUT) || name.equals(ENGINE) || name.equals(TUBE)))
			return null;
		try {
			ClassReader r = new ClassReader(bytes);
			/* no new branches: maximum stack and locals are enough, frames are kept */
			ClassWriter w = new ClassWriter(r, ClassWriter.COMPUTE_MAXS);
			r.accept(new Adder(w, name), ClassReader.EXPAND_FRAMES);
			return w.toByteArray();
		} catch (Throwable t) {
			return null;
		}
	}

	private static final class Adder extends ClassVisitor {
		private final String cls;

		Adder(ClassVisitor cv, String cls) {
			super(Opcodes.ASM9, cv);
			this.cls = cls;
		}

		@Override
		public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] exc) {
			MethodVisitor mv = super.visitMethod(access, name, desc, sig, exc);
			if ((access & (Opcodes.ACC_STATIC | Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) != 0)
				return mv;
			if (cls.equals(APP_OUT) && name.equals("write") && desc.equals("([BII)V"))
				return new SocketWrite(mv, access, name, desc);
			if (cls.equals(ENGINE) && name.equals("wrap") && desc.equals(WRAP_DESC))
				return new EngineWrap(mv, access, name, desc);
			if (cls.equals(TUBE) && name.equals("<init>") &&
			    desc.endsWith("Ljdk/internal/net/http/common/FlowTube;)V") &&
			    desc.startsWith("(Ljavax/net/ssl/SSLEngine;"))
				return new TubeInit(mv, access, name, desc);
			return mv;
		}
	}

	private static final class SocketWrite extends AdviceAdapter {
		SocketWrite(MethodVisitor mv, int access, String name, String desc) {
			super(Opcodes.ASM9, mv, access, name, desc);
		}

		@Override
		protected void onMethodEnter() {
			loadThis();
			loadArg(0);
			loadArg(1);
			loadArg(2);
			visitMethodInsn(INVOKESTATIC, HOOK, "socketWrite", "(Ljava/lang/Object;[BII)V", false);
		}
	}

	private static final class EngineWrap extends AdviceAdapter {
		private int snap;

		EngineWrap(MethodVisitor mv, int access, String name, String desc) {
			super(Opcodes.ASM9, mv, access, name, desc);
		}

		@Override
		protected void onMethodEnter() {
			loadArg(0);
			loadArg(1);
			loadArg(2);
			visitMethodInsn(INVOKESTATIC, HOOK, "wrapEnter", "([Ljava/nio/ByteBuffer;II)Ljava/lang/Object;",
					false);
			snap = newLocal(Type.getType(Object.class));
			storeLocal(snap);
		}

		@Override
		protected void onMethodExit(int opcode) {
			if (opcode != ARETURN)
				return;
			dup();
			loadThis();
			loadLocal(snap);
			loadArg(0);
			loadArg(1);
			loadArg(2);
			visitMethodInsn(INVOKESTATIC, HOOK, "wrapExit",
					"(Ljava/lang/Object;Ljava/lang/Object;Ljava/lang/Object;[Ljava/nio/ByteBuffer;II)V",
					false);
		}
	}

	private static final class TubeInit extends AdviceAdapter {
		private final int tubeArg;

		TubeInit(MethodVisitor mv, int access, String name, String desc) {
			super(Opcodes.ASM9, mv, access, name, desc);
			tubeArg = Type.getArgumentTypes(desc).length - 1;
		}

		@Override
		protected void onMethodExit(int opcode) {
			if (opcode != RETURN)
				return;
			loadArg(0);
			loadArg(tubeArg);
			visitMethodInsn(INVOKESTATIC, HOOK, "tube", "(Ljava/lang/Object;Ljava/lang/Object;)V", false);
		}
	}
}
