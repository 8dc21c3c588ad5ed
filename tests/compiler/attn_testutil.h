/* attn_testutil.h: helpers of the attention lowering's tests (test_attn.c, test_attn_layers.c,
 * test_attn_linear.c): graphs from text, seeded inputs, and a run of a graph through the
 * compiler, the simulator, the C and LLVM integer references and the float interpreter. */
#ifndef KOLMO_ATTN_TESTUTIL_H
#define KOLMO_ATTN_TESTUTIL_H

#include <stdint.h>

#include "attn.h"
#include "interp.h"
#include "ref.h"
#include "sim.h"
#include "testutil.h"

#define SRAM SRC("hwmodels/configs/sram-cim.yaml")

typedef struct Result {
	int exact;
	int llvm_exact; /* the LLVM quantised reference equals the C integer reference */
	uint64_t cycles;
	double cos_float; /* cosine of the simulated output with the float reference */
} Result;

typedef void (*InputFn)(float *x, uint32_t n, uint32_t D, uint64_t seed);

/* parse: src as "attn.kir" with its weights (the test fails on an error) */
Graph *parse(const char *src);
/* model6 / model: a graph of inputs q, k, v ([B, H, N, D], [B, H, M, D], [B, H, M, Dv]) and
 * the node text, into a static buffer; model: self-attention, one batch */
char *model6(unsigned B, unsigned H, unsigned N, unsigned M, unsigned D, unsigned Dv,
             const char *node);
char *model(unsigned H, unsigned N, unsigned D, const char *node);
/* inputs: each head a slow random walk (q near k), so attention is peaked */
void inputs(float *x, uint32_t n, uint32_t D, uint64_t seed);
/* run_attn / run_attn_in: compile src for arch_path, run it on inputs (or gen's), and compare
 * the simulator with the C integer reference, that with the LLVM one, and the float output */
Result run_attn(const char *src, uint32_t D, const char *arch_path);
Result run_attn_in(const char *src, uint32_t D, const char *arch_path, InputFn gen);
/* subst: replace every `from` in buf (of size cap) by `to` */
void subst(char *buf, size_t cap, const char *from, const char *to);

#endif
