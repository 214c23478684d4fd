/* SPDX-License-Identifier: Apache-2.0 */
#include "probepoint.h"

#include <capstone/capstone.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_STRAIGHT 32  /* instructions searched for the call */
#define MAX_BRANCHES 16  /* conditional branches before it */
#define MAX_DFS 512      /* instructions examined per error path */

static const x86_reg arg_regs[6][5] = {
	{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, X86_REG_INVALID },
	{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL, X86_REG_INVALID },
	{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH },
	{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH },
	{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B, X86_REG_INVALID },
	{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B, X86_REG_INVALID },
};

static int arg_of_reg(uint16_t reg, int nargs)
{
	for (int a = 0; a < nargs; a++)
		for (int k = 0; k < 5; k++)
			if (arg_regs[a][k] != X86_REG_INVALID && arg_regs[a][k] == reg)
				return a;
	return -1;
}

static bool in_group(const cs_insn *in, uint8_t grp)
{
	for (uint8_t i = 0; i < in->detail->groups_count; i++)
		if (in->detail->groups[i] == grp)
			return true;
	return false;
}

/* Capstone 4 leaves loop/loope/loopne out of the jump group; they branch too. */
static bool is_jump(const cs_insn *in)
{
	return in_group(in, X86_GRP_JUMP) || in->id == X86_INS_LOOP || in->id == X86_INS_LOOPE ||
	       in->id == X86_INS_LOOPNE;
}

/* Target of a direct branch or call, or 0 when indirect. */
static uint64_t direct_target(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
		return (uint64_t)x->operands[0].imm;
	return 0;
}

/*
 * Only instructions the kernel emulates: push of a register, direct call,
 * direct jmp. These avoid the single-step trap.
 */
static bool emulated(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	if (in->id == X86_INS_PUSH)
		return x->op_count == 1 && x->operands[0].type == X86_OP_REG;
	if (in->id == X86_INS_CALL || in->id == X86_INS_JMP)
		return direct_target(in) != 0;
	return false;
}

/*
 * A sign or zero extension of an argument into its own full register
 * (movslq %edx,%rdx) keeps its value as the callee sees it.
 */
static bool extends_in_place(csh h, const cs_insn *in, int arg, int nargs)
{
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;

	if (in->id != X86_INS_MOVSXD && in->id != X86_INS_MOVSX && in->id != X86_INS_MOVZX)
		return false;
	/* movslq (%rdx),%rdx also reads only rdx, but loads a new value */
	if (in->detail->x86.op_count != 2 || in->detail->x86.operands[1].type != X86_OP_REG)
		return false;
	if (cs_regs_access(h, in, rd, &nrd, wr, &nwr) != CS_ERR_OK || nrd != 1 || nwr != 1)
		return false;
	return arg_of_reg(rd[0], nargs) == arg;
}

struct walk {
	csh h;
	const uint8_t *code;
	size_t len;
	uint64_t vaddr;
	uint64_t probe;   /* address of the chosen call */
	uint64_t target;  /* function that call reaches */
};

/*
 * Every path from start must end (ret, or a call past the function's end
 * such as __stack_chk_fail) without reaching the probe, calling the target,
 * or leaving by an indirect branch. Bounded depth-first search.
 */
static bool error_path(struct walk *w, uint64_t start)
{
	uint64_t stack[64], seen[MAX_DFS];
	size_t sp = 0, nseen = 0;
	cs_insn *in = cs_malloc(w->h);
	bool ok = true;

	if (!in)
		return false;
	stack[sp++] = start;
	while (ok && sp > 0) {
		uint64_t pc = stack[--sp];

		for (;;) {
			const uint8_t *p;
			size_t left;
			uint64_t a = pc;
			bool dup = false;

			for (size_t i = 0; i < nseen; i++)
				dup |= seen[i] == pc;
			if (dup)
				break;
			if (nseen == MAX_DFS || pc == w->probe || pc < w->vaddr || pc >= w->vaddr + w->len) {
				ok = false;
				break;
			}
			seen[nseen++] = pc;
			p = w->code + (pc - w->vaddr);
			left = w->len - (pc - w->vaddr);
			if (!cs_disasm_iter(w->h, &p, &left, &a, in)) {
				ok = false;
				break;
			}
			if (in_group(in, X86_GRP_RET) || in->id == X86_INS_UD2 || in->id == X86_INS_HLT ||
			    in->id == X86_INS_INT3)
				break;
			if (in_group(in, X86_GRP_CALL)) {
				uint64_t t = direct_target(in);

				if (t == 0 || t == w->target) {
					ok = false;
					break;
				}
				/* a call at the very end cannot return here: noreturn */
				if (a >= w->vaddr + w->len)
					break;
			} else if (is_jump(in)) {
				uint64_t t = direct_target(in);

				if (t == 0) {
					ok = false;
					break;
				}
				if (in->id == X86_INS_JMP) {
					pc = t;
					continue;
				}
				if (sp == sizeof(stack) / sizeof(stack[0])) {
					ok = false;
					break;
				}
				stack[sp++] = t;
			}
			pc = a;
		}
	}
	cs_free(in, 1);
	return ok;
}

uint64_t probe_point_choose(const uint8_t *code, size_t len, uint64_t vaddr, int nargs,
			    uint64_t *call_target, char *why, size_t whylen)
{
	uint64_t branches[MAX_BRANCHES], result = 0;
	size_t nbranch = 0;
	struct walk w = { .code = code, .len = len, .vaddr = vaddr };
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = vaddr;
	cs_insn *in;
	const char *reason = "entry: no provable call site";

	*call_target = 0;

	if (nargs < 1 || nargs > 6 || len == 0) {
		snprintf(why, whylen, "entry: bad input");
		return 0;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &w.h) != CS_ERR_OK) {
		snprintf(why, whylen, "entry: disassembler unavailable");
		return 0;
	}
	cs_option(w.h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(w.h);
	if (!in)
		goto out;

	for (int i = 0; i < MAX_STRAIGHT; i++) {
		uint64_t at = addr;
		cs_regs rd, wr;
		uint8_t nrd = 0, nwr = 0;

		if (!cs_disasm_iter(w.h, &p, &left, &addr, in)) {
			reason = "entry: undecodable instruction";
			break;
		}
		if (i == 0 && emulated(in)) {
			reason = "entry: emulated instruction";
			break;
		}
		if (in_group(in, X86_GRP_CALL)) {
			bool safe = true;

			w.target = direct_target(in);
			w.probe = at;
			if (w.target == 0) {
				reason = "entry: indirect call";
				break;
			}
			for (size_t b = 0; b < nbranch && safe; b++)
				safe = error_path(&w, branches[b]);
			if (!safe) {
				reason = "entry: a branch before the call may write";
				break;
			}
			result = at - vaddr;
			*call_target = w.target;
			reason = "call site: arguments intact, branches before it are error paths";
			break;
		}
		if (in_group(in, X86_GRP_RET) || in_group(in, X86_GRP_INT) || in_group(in, X86_GRP_IRET) ||
		    in->id == X86_INS_UD2 || in->id == X86_INS_HLT) {
			reason = "entry: returns before any call";
			break;
		}
		if (cs_regs_access(w.h, in, rd, &nrd, wr, &nwr) != CS_ERR_OK) {
			reason = "entry: register use unknown";
			break;
		}
		bool clobbers = false;
		for (uint8_t k = 0; k < nwr; k++) {
			int a = arg_of_reg(wr[k], nargs);

			if (a >= 0 && !extends_in_place(w.h, in, a, nargs))
				clobbers = true;
		}
		if (clobbers) {
			reason = "entry: an argument register is written before any call";
			break;
		}
		/* after the write check: loop decrements rcx as it branches */
		if (is_jump(in)) {
			uint64_t t = direct_target(in);

			if (in->id == X86_INS_JMP || t == 0 || nbranch == MAX_BRANCHES) {
				reason = "entry: jump before any call";
				break;
			}
			branches[nbranch++] = t;
		}
	}
	cs_free(in, 1);
out:
	cs_close(&w.h);
	snprintf(why, whylen, "%s", reason);
	return result;
}

int probe_getter_offset(const uint8_t *code, size_t len, uint64_t vaddr, int32_t *off)
{
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = vaddr;
	bool loaded = false;
	int ret = -1;
	cs_insn *in;
	csh h;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -1;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(h);
	for (int i = 0; in && i < 4 && cs_disasm_iter(h, &p, &left, &addr, in); i++) {
		const cs_x86 *x = &in->detail->x86;
		cs_regs rd, wr;
		uint8_t nrd = 0, nwr = 0;

		if (in->id == X86_INS_ENDBR64 && i == 0)
			continue;
		if (in_group(in, X86_GRP_RET)) {
			ret = loaded ? 0 : -1;
			break;
		}
		if (!loaded) {
			/* mov disp(%rdi),%eax: a 32-bit load of one field */
			if (in->id != X86_INS_MOV || x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
			    x->operands[0].reg != X86_REG_EAX || x->operands[1].type != X86_OP_MEM ||
			    x->operands[1].mem.base != X86_REG_RDI || x->operands[1].mem.index != X86_REG_INVALID ||
			    x->operands[1].mem.segment != X86_REG_INVALID || x->operands[1].size != 4 ||
			    x->operands[1].mem.disp < 0 || x->operands[1].mem.disp > 65536)
				break;
			*off = (int32_t)x->operands[1].mem.disp;
			loaded = true;
			continue;
		}
		/* anything after the load must leave %eax alone and not branch */
		if (is_jump(in) || in_group(in, X86_GRP_CALL) || in_group(in, X86_GRP_INT) ||
		    cs_regs_access(h, in, rd, &nrd, wr, &nwr) != CS_ERR_OK)
			break;
		for (uint8_t k = 0; k < nwr; k++)
			if (wr[k] == X86_REG_EAX || wr[k] == X86_REG_RAX || wr[k] == X86_REG_AX ||
			    wr[k] == X86_REG_AL || wr[k] == X86_REG_AH)
				goto out;
	}
out:
	if (in)
		cs_free(in, 1);
	cs_close(&h);
	return ret;
}

size_t probe_branches(const uint8_t *code, size_t len, uint64_t vaddr, struct probe_branch *out,
		      size_t max)
{
	const uint8_t *p = code;
	size_t left = len, n = 0;
	uint64_t addr = vaddr;
	cs_insn *in;
	csh h;

	if (max == 0 || cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return 0;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(h);
	for (int i = 0; in && n < max && i < MAX_DFS && cs_disasm_iter(h, &p, &left, &addr, in); i++) {
		const cs_x86 *x = &in->detail->x86;

		if (in->id != X86_INS_CALL && !is_jump(in))
			continue;
		if (direct_target(in)) {
			out[n++] = (struct probe_branch){ .target = direct_target(in), .via_slot = false };
			continue;
		}
		/* call/jmp *disp(%rip): the address of the pointer it reads */
		if (x->op_count == 1 && x->operands[0].type == X86_OP_MEM &&
		    x->operands[0].mem.base == X86_REG_RIP && x->operands[0].mem.index == X86_REG_INVALID)
			out[n++] = (struct probe_branch){ .target = in->address + in->size +
								   (uint64_t)x->operands[0].mem.disp,
							  .via_slot = true };
	}
	if (in)
		cs_free(in, 1);
	cs_close(&h);
	return n;
}

int probe_rust_self_arg(const uint8_t *code, size_t len, uint64_t vaddr)
{
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = vaddr;
	int ret = -1;
	cs_insn *in;
	csh h;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -1;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(h);
	for (int i = 0; in && ret < 0 && i < 8 && cs_disasm_iter(h, &p, &left, &addr, in); i++) {
		const cs_x86 *x = &in->detail->x86;

		/* a branch before the load: not the one-call wrapper this reads */
		if (is_jump(in) || in_group(in, X86_GRP_CALL) || in_group(in, X86_GRP_RET))
			break;
		for (uint8_t k = 0; k < x->op_count; k++) {
			const cs_x86_op *op = &x->operands[k];

			if (op->type != X86_OP_MEM || op->mem.disp != 0 || op->mem.index != X86_REG_INVALID ||
			    op->mem.segment != X86_REG_INVALID)
				continue;
			if (op->mem.base == X86_REG_RDI)
				ret = 0;
			else if (op->mem.base == X86_REG_RSI)
				ret = 1;
		}
	}
	if (in)
		cs_free(in, 1);
	cs_close(&h);
	return ret;
}

/* mem operand base+0x10 with base %r14 (the Go g register) */
static bool is_g_stackguard(const cs_x86_op *op)
{
	return op->type == X86_OP_MEM && op->mem.base == X86_REG_R14 &&
	       op->mem.index == X86_REG_INVALID && op->mem.segment == X86_REG_INVALID &&
	       op->mem.disp == 0x10;
}

uint64_t probe_go_stack_check(const uint8_t *code, size_t len, uint64_t vaddr)
{
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = vaddr, result = 0;
	x86_reg sp = X86_REG_RSP; /* the register compared with the stack guard */
	int step = 0;
	cs_insn *in;
	csh h;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return 0;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(h);
	while (in && step < 3) {
		uint64_t at = addr;
		const cs_x86 *x;

		if (!cs_disasm_iter(h, &p, &left, &addr, in))
			break;
		x = &in->detail->x86;
		if (step == 0 && in->id == X86_INS_LEA && x->op_count == 2 &&
		    x->operands[0].type == X86_OP_REG && x->operands[0].reg == X86_REG_R12 &&
		    x->operands[1].type == X86_OP_MEM && x->operands[1].mem.base == X86_REG_RSP &&
		    x->operands[1].mem.index == X86_REG_INVALID) {
			/* large frames compare rsp minus the frame size */
			sp = X86_REG_R12;
			step = 1;
			continue;
		}
		if (step <= 1 && in->id == X86_INS_CMP && x->op_count == 2 &&
		    ((x->operands[0].type == X86_OP_REG && x->operands[0].reg == sp &&
		      is_g_stackguard(&x->operands[1])) ||
		     (x->operands[1].type == X86_OP_REG && x->operands[1].reg == sp &&
		      is_g_stackguard(&x->operands[0])))) {
			step = 2;
			continue;
		}
		if (step == 2 && in->id == X86_INS_JBE && direct_target(in) != 0)
			result = at - vaddr;
		break;
	}
	if (in)
		cs_free(in, 1);
	cs_close(&h);
	return result;
}
