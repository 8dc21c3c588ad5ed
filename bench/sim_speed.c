/* sim_speed.c: simulator speed. Prints simulated instructions and cycles per host second for a
 * control-heavy scalar loop, a vector loop, an MVM-bound loop on full 256x256 crossbars, and a
 * 10^9-cycle run of very long MVMs (host time must follow instructions, not cycles).
 * Usage: sim_speed [ARCH.yaml] (default hwmodels/configs/edge-kan.yaml). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t
enc(unsigned op, unsigned a, unsigned b, unsigned c, unsigned d, int32_t imm)
{
	Insn in;
	memset(&in, 0, sizeof in);
	in.op = (uint8_t)op;
	in.a = (uint8_t)a, in.b = (uint8_t)b, in.c = (uint8_t)c, in.d = (uint8_t)d;
	in.imm = imm;
	return isa_encode(&in);
}

static uint64_t
enc_v(unsigned op, unsigned ty, unsigned a, unsigned b, unsigned c, unsigned d)
{
	Insn in;
	memset(&in, 0, sizeof in);
	in.op = (uint8_t)op;
	in.tin = in.tout = (uint8_t)ty;
	in.a = (uint8_t)a, in.b = (uint8_t)b, in.c = (uint8_t)c, in.d = (uint8_t)d;
	return isa_encode(&in);
}

static uint64_t
enc_mvm(unsigned out, unsigned in_, unsigned unit, unsigned nbits)
{
	Insn in;
	memset(&in, 0, sizeof in);
	in.op = OP_mvm;
	in.tin = in.tout = TY_I8;
	in.a = (uint8_t)out, in.b = (uint8_t)in_, in.unit = (uint8_t)unit,
	in.nbits = (uint8_t)nbits;
	in.gate = 1;
	return isa_encode(&in);
}

static uint64_t
enc_wait(uint32_t mask)
{
	Insn in;
	memset(&in, 0, sizeof in);
	in.op = OP_wait;
	in.mask = mask;
	return isa_encode(&in);
}

static double
measure(const char *name, const HwArch *arch, KProg *p)
{
	Diag d = {0};
	Sim *s = NULL;
	double t0, t1;
	const SimStats *st;
	if (sim_new(arch, p, NULL, &s, &d) != 0) {
		fprintf(stderr, "%s: %s\n", name, d.msg);
		exit(1);
	}
	t0 = now_s();
	if (sim_run(s, &d) != 0) {
		fprintf(stderr, "%s: %s\n", name, d.msg);
		exit(1);
	}
	t1 = now_s();
	st = sim_stats(s);
	printf("%-34s %12llu insns %14llu cycles %8.3f s  %8.2f M insn/s  %10.2f M cycles/s\n",
	       name, (unsigned long long)st->instructions, (unsigned long long)st->cycles, t1 - t0,
	       (double)st->instructions / (t1 - t0) / 1e6, (double)st->cycles / (t1 - t0) / 1e6);
	sim_free(s);
	kprog_free(p);
	return t1 - t0;
}

int
main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : KOLMO_SOURCE_DIR "/hwmodels/configs/edge-kan.yaml";
	HwArch arch;
	Diag d = {0};
	KProg *p;
	KCore *c;
	uint64_t w[16];
	static int32_t xb[256 * 256];
	int8_t in[256];
	unsigned i;
	if (hw_arch_load(&arch, path, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		return 1;
	}
	printf("simulator speed on %s (one host core)\n", arch.name);

	/* 1. control-heavy: 4 ALU ops + a taken dbnz per iteration, 3 x 10^6 iterations */
	p = kprog_new();
	c = kprog_core(p, 0, 0);
	w[0] = enc(OP_addi, 1, 0, 0, 0, 3000000);
	w[1] = enc(OP_add, 2, 2, 1, 0, 0);
	w[2] = enc(OP_xor, 3, 2, 1, 0, 0);
	w[3] = enc(OP_slli, 4, 3, 0, 0, 3);
	w[4] = enc(OP_sub, 5, 4, 2, 0, 0);
	w[5] = enc(OP_dbnz, 1, 0, 0, 0, -4);
	w[6] = enc(OP_halt, 0, 0, 0, 0, 0);
	kprog_add_code(c, w, 7);
	(void)measure("scalar loop (control heavy)", &arch, p);

	/* 2. vector: vadd + vmul of 16 i8 elements per iteration, 10^6 iterations */
	p = kprog_new();
	c = kprog_core(p, 0, 0);
	w[0] = enc(OP_addi, 1, 0, 0, 0, 1000000);
	w[1] = enc(OP_addi, 2, 0, 0, 0, 0x100);
	w[2] = enc(OP_addi, 3, 0, 0, 0, 0x200);
	w[3] = enc(OP_addi, 4, 0, 0, 0, 16);
	w[4] = enc_v(OP_vadd, TY_I8, 3, 2, 3, 4);
	w[5] = enc_v(OP_vmax, TY_I8, 2, 3, 2, 4);
	w[6] = enc(OP_dbnz, 1, 0, 0, 0, -2);
	w[7] = enc(OP_halt, 0, 0, 0, 0, 0);
	kprog_add_code(c, w, 8);
	(void)measure("vector loop (16 lanes)", &arch, p);

	/* 3. MVM-bound: rows x cols mvm on 2 MVMUs + wait, 2000 iterations; with R-1 rows the
	 *    8-bit ADC is lossless on edge-kan (exact integer path), with R rows it is not (the
	 *    bit-level datapath is emulated). */
	{
		uint32_t R = (uint32_t)arch.mvmu.rows, C = (uint32_t)arch.mvmu.cols, k;
		int64_t lo = -(1ll << (arch.mvmu.weight_bits - 1)) + 1;
		for (i = 0; i < R * C; i++)
			xb[i] =
			    (int32_t)(lo + (int64_t)((i * 2654435761u) % (uint32_t)(-2 * lo + 1)));
		for (i = 0; i < R && i < 256; i++)
			in[i] = (int8_t)((i * 37) % 200 - 100);
		for (k = 0; k < 2; k++) {
			uint32_t rows = k == 0 ? R - 1 : R, iters = k == 0 ? 20000 : 200;
			double t;
			p = kprog_new();
			c = kprog_core(p, 0, 0);
			kprog_add_xbar(c, 0, rows, C, (uint32_t)arch.mvmu.weight_bits, xb);
			kprog_add_xbar(c, 1, rows, C, (uint32_t)arch.mvmu.weight_bits, xb);
			kprog_add_spad(c, 0x0, in, rows);
			w[0] = enc(OP_addi, 1, 0, 0, 0, (int32_t)iters);
			w[1] = enc(OP_addi, 2, 0, 0, 0, 0x400);
			w[2] = enc(OP_addi, 3, 0, 0, 0, 0x800);
			w[3] = enc_mvm(2, 0, 0, 8);
			w[4] = enc_mvm(3, 0, 1, 8);
			w[5] = enc_wait(3);
			w[6] = enc(OP_dbnz, 1, 0, 0, 0, -3);
			w[7] = enc(OP_halt, 0, 0, 0, 0, 0);
			kprog_add_code(c, w, 8);
			t = measure(k == 0 ? "MVM loop, exact ADC (2 MVMUs)"
			                   : "MVM loop, lossy ADC bit-level",
			            &arch, p);
			printf("%-34s %.3g MACs per host second\n", "",
			       (double)iters * 2 * rows * C / t);
		}
	}

	/* 4. 10^9 cycles of long MVMs: a 2x2 image on an MVMU whose reads take 100 us */
	{
		HwArch slow = arch;
		int32_t tiny[4] = {1, 2, 3, 4};
		if (hw_arch_set(&slow, "mvmu.read_ns", "100000", &d)) {
			fprintf(stderr, "%s\n", d.msg);
			return 1;
		}
		p = kprog_new();
		c = kprog_core(p, 0, 0);
		kprog_add_xbar(c, 0, 2, 2, (uint32_t)slow.mvmu.weight_bits, tiny);
		kprog_add_spad(c, 0x0, in, 2);
		w[0] = enc(OP_addi, 1, 0, 0, 0, 1250);
		w[1] = enc(OP_addi, 2, 0, 0, 0, 0x400);
		w[2] = enc_mvm(2, 0, 0, 8);
		w[3] = enc_wait(1);
		w[4] = enc(OP_dbnz, 1, 0, 0, 0, -2);
		w[5] = enc(OP_halt, 0, 0, 0, 0, 0);
		kprog_add_code(c, w, 6);
		(void)measure("10^9 cycles of long MVMs", &slow, p);
	}
	return 0;
}
