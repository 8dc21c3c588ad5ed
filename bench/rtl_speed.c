/* rtl_speed.c: simulated cycles per second of the RTL core (Verilator) and of the C simulator on
 * the same long program: a loop of mvm + wait + vector operations + a reduction, on the test
 * architecture (16 x 8 crossbars) and on edge-kan (256 x 256). Prints both rates and their ratio.
 * Usage: rtl_speed [ITERATIONS] (default 20000). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rtl.h"

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static Insn
mk(int op, int a, int b, int c, int d)
{
	Insn in;
	memset(&in, 0, sizeof in);
	in.op = (uint8_t)op;
	in.a = (uint8_t)a;
	in.b = (uint8_t)b;
	in.c = (uint8_t)c;
	in.d = (uint8_t)d;
	return in;
}

/* compute-bound (latency_bound 0): for i in 1..iters: mvm u0 (all rows, 8-bit inputs),
 * vadd/vmul over 64 i8, vredsum, add, wait, dbnz.
 * latency-bound (1): for i in 1..iters: dld 4 KiB, xbw 4 rows into u0, wait for both, dbnz. */
static KProg *
build(const HwArch *a, uint32_t iters, int latency_bound)
{
	KProg *p = kprog_new();
	KCore *c = kprog_core(p, 0, 0);
	uint32_t rows = (uint32_t)a->mvmu.rows, cols = (uint32_t)a->mvmu.cols, i, top;
	uint8_t *spad = calloc(8192, 1);
	int32_t *w = malloc((size_t)rows * cols * sizeof *w);
	uint64_t code[32];
	uint32_t n = 0;
	Insn in;
	for (i = 0; i < rows * cols; i++)
		w[i] = (int32_t)(i * 2654435761u % 255) - 127;
	for (i = 0; i < 8192; i++)
		spad[i] = (uint8_t)(i * 40503u >> 3);
	kprog_add_xbar(c, 0, rows, cols, (uint32_t)a->mvmu.weight_bits, w);
	kprog_add_spad(c, 0, spad, 8192);
#define EMIT(x)                                                                                    \
	do {                                                                                       \
		in = (x);                                                                          \
		code[n++] = isa_encode(&in);                                                       \
	} while (0)
#define LI(r, v)                                                                                   \
	do {                                                                                       \
		in = mk(OP_addi, r, 0, 0, 0);                                                      \
		in.imm = (int32_t)(v);                                                             \
		code[n++] = isa_encode(&in);                                                       \
	} while (0)
	LI(1, 0);      /* mvm input (i8 < 2^7 fits 8 bits) */
	LI(2, 0x2000); /* mvm output */
	LI(3, 0x1000); /* vector a */
	LI(4, 0x1100); /* vector b */
	LI(5, 0x1200); /* vector c */
	LI(6, 64);     /* n */
	LI(7, iters);  /* loop counter */
	top = n;
	if (latency_bound) {
		LI(10, 4096);
		LI(11, 4);
		EMIT(mk(OP_dld, 0, 0, 10, 0));
		in = mk(OP_xbw, 0, 1, 11, 0);
		EMIT(in);
		in = mk(OP_wait, 0, 0, 0, 0);
		in.mask = 1 | ISA_WAIT_DMA;
		EMIT(in);
		in = mk(OP_dbnz, 7, 0, 0, 0);
		in.imm = (int32_t)top - (int32_t)n;
		EMIT(in);
		EMIT(mk(OP_halt, 0, 0, 0, 0));
		kprog_add_code(c, code, n);
		free(spad);
		free(w);
		return p;
	}
	in = mk(OP_mvm, 2, 1, 0, 0);
	in.nbits = (uint8_t)a->mvmu.input_bits;
	in.gate = 1;
	EMIT(in);
	EMIT(mk(OP_vadd, 5, 3, 4, 6));
	in = mk(OP_vmul, 5, 5, 4, 6);
	in.shift = 3;
	EMIT(in);
	EMIT(mk(OP_vredsum, 8, 5, 0, 6));
	EMIT(mk(OP_add, 9, 9, 8, 0));
	in = mk(OP_wait, 0, 0, 0, 0);
	in.mask = 1;
	EMIT(in);
	in = mk(OP_dbnz, 7, 0, 0, 0);
	in.imm = (int32_t)top - (int32_t)n;
	EMIT(in);
	EMIT(mk(OP_halt, 0, 0, 0, 0));
	kprog_add_code(c, code, n);
	free(spad);
	free(w);
	return p;
}

static int
bench(const char *cfg, uint32_t iters, int latency_bound)
{
	char path[512];
	HwArch a;
	Diag d = {0};
	KProg *p;
	Sim *s;
	RtlCore *c;
	RtlRetire rr;
	SimOptions so;
	double t0, ts, tr;
	uint64_t cyc_s, cyc_r, ninsn = 0;
	int st;
	snprintf(path, sizeof path, "%s/%s", KOLMO_SOURCE_DIR, cfg);
	if (hw_arch_load(&a, path, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		return 1;
	}
	p = build(&a, iters, latency_bound);
	sim_options_default(&so);
	if (sim_new(&a, p, &so, &s, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		return 1;
	}
	t0 = now_s();
	if (sim_run(s, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		return 1;
	}
	ts = now_s() - t0;
	cyc_s = sim_stats(s)->cycles;
	sim_free(s);
	if (rtl_core_new(&a, p, 0, 0, NULL, NULL, -1, 0, &c, &d)) {
		fprintf(stderr, "%s\n", d.msg);
		return 1;
	}
	t0 = now_s();
	while ((st = rtl_core_step(c, UINT64_MAX, &rr, &d)) == 1)
		ninsn++;
	tr = now_s() - t0;
	cyc_r = rtl_core_cycles(c);
	rtl_core_free(c);
	kprog_free(p);
	if (st < 0 || cyc_r != cyc_s) {
		fprintf(stderr, "%s: RTL %s (cycles %llu vs %llu)\n", cfg, d.msg,
		        (unsigned long long)cyc_r, (unsigned long long)cyc_s);
		return 1;
	}
	printf("%-8s %-32s %3dx%-3d %9llu cycles %7llu insns | C sim %9.3g cycles/s (%.3f s) | "
	       "RTL %9.3g cycles/s (%.3f s) | C sim / RTL = %.0fx\n",
	       latency_bound ? "latency" : "compute", cfg, a.mvmu.rows, a.mvmu.cols,
	       (unsigned long long)cyc_s, (unsigned long long)ninsn, (double)cyc_s / ts, ts,
	       (double)cyc_r / tr, tr, tr / ts);
	return 0;
}

int
main(int argc, char **argv)
{
	uint32_t iters = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 20000;
	int r = 0;
	printf(
	    "rtl_speed: compute: %u iterations of mvm + vadd + vmul + vredsum + add + wait + dbnz;"
	    "\n           latency: %u iterations of dld 4 KiB + xbw 4 rows + wait + dbnz\n",
	    iters, iters / 10);
	r |= bench("tests/sim/sim-test.yaml", iters, 0);
	r |= bench("tests/sim/sim-test-digital.yaml", iters, 0);
	r |= bench("hwmodels/configs/edge-kan.yaml", iters / 20 ? iters / 20 : 1, 0);
	r |= bench("tests/sim/sim-test.yaml", iters / 10 ? iters / 10 : 1, 1);
	r |= bench("hwmodels/configs/edge-kan.yaml", iters / 10 ? iters / 10 : 1, 1);
	return r;
}
