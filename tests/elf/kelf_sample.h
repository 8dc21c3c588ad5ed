/* kelf_sample.h: a KProg with every kind of content, shared by the .kelf tests. */
#ifndef KOLMO_KELF_SAMPLE_H
#define KOLMO_KELF_SAMPLE_H

#include <string.h>

#include "isa.h"
#include "kelf.h"

static inline uint64_t
sample_insn(const char *text, uint32_t pc)
{
	Insn in;
	char err[128];
	int col;
	if (isa_parse(text, pc, NULL, NULL, &in, err, sizeof err, &col) != 0) {
		fprintf(stderr, "sample_insn(%s): %s\n", text, err);
		abort();
	}
	return isa_encode(&in);
}

/* sample_prog: 2 tiles, cores t0.c0, t0.c1, t1.c0; code with branches, a nonzero entry pc,
 * scratchpad/tile/DRAM segments of odd lengths, crossbars of 4-, 12- and 32-bit weights with
 * extreme values, every tensor type and space, rank 0 and rank 8, layer symbols. */
static inline KProg *
sample_prog(void)
{
	static const char *const code0[] = {"addi r1, r0, 3",
	                                    "vadd.i8 r2, r3, r4, r5",
	                                    "mvm.i8 r6, r7, 2, 8, acc, gate",
	                                    "wait 0x4",
	                                    "dbnz r1, -3",
	                                    "topk.i16 r1, r2, r3, r4, r5",
	                                    "halt"};
	static const char *const code1[] = {"nop", "bar 3", "jmp -1"};
	static const char *const code2[] = {"recv 0, 7", "send r1, r2, r3, 0, 7",
	                                    "sbu.i16.i8 r1, r2, r3, r4", "halt"};
	static const uint8_t bytes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
	int32_t w4[3 * 5], w12[2 * 3], w32[2 * 2] = {INT32_MIN, INT32_MAX, -1, 0};
	KProg *p = kprog_new();
	KCore *c;
	KTensor t;
	uint32_t i;
	uint64_t w;

	kprog_set_arch(p, "test-arch/v1", 0xfedcba9876543210ull);
	c = kprog_core(p, 0, 0);
	for (i = 0; i < NELEM(code0); i++) {
		w = sample_insn(code0[i], i);
		kprog_add_code(c, &w, 1);
	}
	for (i = 0; i < NELEM(w4); i++)
		w4[i] = (int32_t)i % 16 - 8;
	for (i = 0; i < NELEM(w12); i++)
		w12[i] = i % 2 ? 2047 : -2048;
	kprog_add_xbar(c, 5, 3, 5, 4, w4);
	kprog_add_xbar(c, 2, 2, 3, 12, w12);
	kprog_add_spad(c, 0x100, bytes, 13);
	kprog_add_spad(c, 0x10, bytes, 1);
	c = kprog_core(p, 1, 0); /* created out of order on purpose */
	for (i = 0; i < NELEM(code2); i++) {
		w = sample_insn(code2[i], i);
		kprog_add_code(c, &w, 1);
	}
	kprog_add_xbar(c, 15, 2, 2, 32, w32);
	c = kprog_core(p, 0, 1);
	for (i = 0; i < NELEM(code1); i++) {
		w = sample_insn(code1[i], i);
		kprog_add_code(c, &w, 1);
	}
	c->entry = 1;
	kprog_add_tmem(p, 1, 0x40, bytes, 7);
	kprog_add_tmem(p, 0, 0x0, bytes, 8);
	kprog_add_dram(p, 0xfffffff0u, bytes, 13);
	kprog_add_dram(p, 0x0, NULL, 3);

	memset(&t, 0, sizeof t);
	t.name = "input_x";
	t.dir = KDIR_IN;
	t.type = TY_I8;
	t.space = KSP_SPAD;
	t.rank = 2;
	t.dims[0] = 4;
	t.dims[1] = 16;
	t.addr = 0x200;
	t.scale = 0.0078125;
	kprog_add_io(p, &t);
	memset(&t, 0, sizeof t);
	t.name = "out.y";
	t.dir = KDIR_OUT;
	t.type = TY_I32;
	t.space = KSP_TMEM;
	t.tile = 1;
	t.rank = 8;
	for (i = 0; i < 8; i++)
		t.dims[i] = 2;
	t.addr = 0x1000;
	t.scale = 1.0 / 3.0;
	kprog_add_io(p, &t);
	memset(&t, 0, sizeof t);
	t.name = "s";
	t.dir = KDIR_OUT;
	t.type = TY_I16;
	t.space = KSP_DRAM;
	t.addr = 0x7ffe;
	t.scale = 1e-30;
	kprog_add_io(p, &t);

	kprog_add_sym(p, "loop", 0, 0, 1, 4);
	kprog_add_sym(p, "comm", 1, 0, 0, 2);
	kprog_add_sym(p, "init", 0, 0, 0, 1);
	kprog_add_sym(p, "spin", 0, 1, 0, 3);
	return p;
}

#endif
