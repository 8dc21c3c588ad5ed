/* attn_sim.c: the integer self-similarity test of sparse attention (attn.h, docs/attention.md):
 * its fixed-point constants and its reference arithmetic, which the generated code
 * (attn_codegen.c) and the LLVM reference (ref/attn_quant.c) repeat step for step. */
#include <math.h>
#include <stdlib.h>

#include "attn.h"

int
cc_attn_sim_setup(CcAttn *a, double theta)
{
	uint32_t nmax = a->blkq > a->blkk ? a->blkq : a->blkk;
	a->simk = a->sparse && theta >= 0;
	if (!a->simk)
		return 0;
	/* sum_t x_t r_t stays below 2^31 for n <= 2^8 tokens; n2 << 6 below 2^31 for D <= 256 */
	if (nmax > 256 || a->D > 256)
		return -1;
	a->sim_thr = (int32_t)floor(theta * (double)(1 << ATTN_SIM_ONE));
	a->sim_kmul = (int32_t)floor((double)(1 << ATTN_SIM_ONE) / a->nk + 0.5);
	return 0;
}

static uint64_t
align16(uint64_t v)
{
	return (v + 15) & ~(uint64_t)15;
}

uint64_t
cc_attn_sim_scratch(const CcAttn *a)
{
	uint64_t nmax = a->blkq > a->blkk ? a->blkq : a->blkk;
	return 12 * nmax + align16(nmax) + 2 * align16(2 * (uint64_t)a->D) + 16;
}

uint64_t
cc_attn_sim_spad(const CcAttn *a)
{
	uint64_t b = 0;
	if (!a->simk)
		return 0;
	/* the scratch in the O buffer, the key flags in the K buffer, the accumulator the pooling
	 * one, when they fit */
	if (cc_attn_sim_scratch(a) > (uint64_t)a->blkq * (a->Dv + 1) * 4)
		b += align16(cc_attn_sim_scratch(a));
	if (a->nk > a->blkk * a->D)
		b += align16(a->nk);
	return b;
}

int64_t
cc_attn_isqrt(int64_t v)
{
	int64_t res = 0, bit = (int64_t)1 << 62;
	while (bit > v)
		bit >>= 2;
	for (; bit; bit >>= 2) {
		if (v >= res + bit) {
			v -= res + bit;
			res = (res >> 1) + bit;
		} else
			res >>= 1;
	}
	return res;
}

/* vrecip: round(2^(RS + P) / sq), the i32 maximum for 0 */
static int64_t
inv_norm(int64_t sq)
{
	uint64_t num = 1ull << (ATTN_SIM_RS + ATTN_SIM_P), q;
	if (sq == 0)
		return INT32_MAX;
	q = num / (uint64_t)sq;
	if ((num % (uint64_t)sq) * 2 >= (uint64_t)sq)
		q++;
	return cc_sat((int64_t)q, TY_I32);
}

static int64_t
token(const int32_t *x, const int32_t *mu, uint32_t D, uint32_t t, uint32_t e)
{
	int64_t v = x[(size_t)t * D + e];
	return mu ? cc_sat(v - mu[e], TY_I16) : v;
}

int
cc_attn_selfsim(const CcAttn *a, const int32_t *x, uint32_t n, const int32_t *mu)
{
	uint32_t t, e, D = a->D;
	unsigned sh = ATTN_SIM_RS - (15 - attn_log2(n));
	int64_t *r = xmalloc(sizeof(int64_t) * n), ss = 0;
	for (t = 0; t < n; t++) {
		int64_t n2 = 0;
		for (e = 0; e < D; e++)
			n2 += token(x, mu, D, t, e) * token(x, mu, D, t, e);
		r[t] = inv_norm(cc_attn_isqrt((int64_t)cc_sat(n2, TY_I32) << (2 * ATTN_SIM_P)));
	}
	for (e = 0; e < D; e++) {
		int64_t acc = 0, s;
		for (t = 0; t < n; t++)
			acc = cc_sat(acc + token(x, mu, D, t, e) * r[t], TY_I32);
		s = cc_sat(cc_rshift_round(acc, sh), TY_I32);
		ss += s * s;
	}
	free(r);
	return cc_sat(ss, TY_I32) > a->sim_thr;
}

void
cc_attn_sim_keys(const CcAttn *a, const int32_t *k, const int32_t *pk, uint8_t *nsk)
{
	uint32_t j, e, D = a->D;
	int32_t *mu = xmalloc(sizeof(int32_t) * D);
	for (e = 0; e < D; e++) {
		int64_t acc = 0;
		for (j = 0; j < a->nk; j++)
			acc = cc_sat(acc + pk[(size_t)j * D + e], TY_I32);
		mu[e] = cc_sat(cc_rshift_round(acc * a->sim_kmul, ATTN_SIM_ONE), TY_I16);
	}
	for (j = 0; j < a->nk; j++)
		nsk[j] = !cc_attn_selfsim(a, k + (size_t)j * a->blkk * D, a->blkk, mu);
	free(mu);
}
