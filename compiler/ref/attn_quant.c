/* attn_quant.c: the integer lowering of the attention lowering's model (compiler/attn.h) to LLVM
 * IR, written from docs/attention.md and docs/isa.md:
 *
 *   mask     key and query block means (sums shifted, rounding half away from zero), block
 *            scores, selection by repeated arg-max (ties: lower index) on the scores (top-k) or
 *            on the exp2 table of the scores minus their maximum (top-p, hybrid), causal prefix,
 *            sink; with simthresh >= 0 the self-similarity test (compiler/attn_sim.c): key
 *            flags from the smoothed keys, the query block's test, the two keep rules
 *   rows     per query row and selected key block: scores, running max, the exp2 table, 8-bit
 *            probabilities, rescale of O and l by the table's alpha, P V, sum of P
 *   output   O x round(2^30 / l) >> 30, saturated to 8 bits
 *
 * An attention layer (attn_proj.c) adds the projections around it: per token and output channel
 * the i64 dot product of the i8 row and weights, saturated to i32, plus the bias (saturated),
 * times the channel's multiplier shifted with rounding, saturated to 8 bits; q, k, v written to
 * head planes, the output projection reading them.
 *
 * The generated function is `void kolmo_ref_quant(const i32 *in, i32 *out, i8 **p)`; p holds the
 * exp2 table, scratch vectors and the projections' parameters. */
#include <stdlib.h>
#include <string.h>

#include "attn.h"
#include "refint.h"

enum {
	AP_LUT,
	AP_S,
	AP_P8,
	AP_O,
	AP_MASK,
	AP_PK,
	AP_PQ,
	AP_T,
	AP_E,
	AP_TAKEN,
	AP_NSK, /* key block not self-similar (simk) */
	AP_MU,  /* the key mean (simk) */
	AP_R,   /* inverse token norms (simk) */
	AP_QKV, /* attention layer: q, k, v head planes (i32) */
	AP_OH,  /* attention layer: the attention output's head planes (i32) */
	AP_NG,  /* attention layer: the layer norm's gamma, beta (i32) */
	AP_NB,
	AP_H,  /* attention layer: the layer norm's output (i32) */
	AP_PO, /* attention layer: the output projection's output before the residual add (i32) */
	AP_W,  /* + 3 s: projection s's weights (i8), bias, multipliers (i32) */
	AP_FFN = AP_W + 12, /* a block's feed-forward (attn_ffn_quant.c) */
	AP_COUNT = AP_FFN + REF_FFN_PARAMS
};

typedef struct Acg {
	Cg *c;
	const CcAttn *a;
	LLVMTypeRef i16;
	LLVMValueRef v[AP_COUNT];
	LLVMValueRef in, out;
} Acg;

static LLVMValueRef
K(Acg *g, int64_t v)
{
	return cg_i64(g->c, v);
}

static LLVMValueRef
ld(Acg *g, int which, LLVMValueRef idx)
{
	return cg_ld(g->c, g->c->i64, g->v[which], idx);
}

static void
st(Acg *g, int which, LLVMValueRef idx, LLVMValueRef v)
{
	cg_st(g->c, g->c->i64, g->v[which], idx, v);
}

static LLVMValueRef
var(Acg *g, const char *name, int64_t init)
{
	LLVMValueRef v = cg_var(g->c, g->c->i64, name);
	LLVMBuildStore(g->c->b, K(g, init), v);
	return v;
}

static LLVMValueRef
get(Acg *g, LLVMValueRef var)
{
	return cg_load(g->c, g->c->i64, var);
}

static void
set(Acg *g, LLVMValueRef var, LLVMValueRef v)
{
	LLVMBuildStore(g->c->b, v, var);
}

static LLVMValueRef
smax(Acg *g, LLVMValueRef a, LLVMValueRef b)
{
	return ci_sel(g->c, ci_icmp(g->c, LLVMIntSGT, a, b), a, b);
}

static LLVMValueRef
smin(Acg *g, LLVMValueRef a, LLVMValueRef b)
{
	return ci_sel(g->c, ci_icmp(g->c, LLVMIntSLT, a, b), a, b);
}

/* The exp2 table at z8 = sat8(round(sat32(z) * zmult >> 24)). */
static LLVMValueRef
table(Acg *g, LLVMValueRef z)
{
	Cg *c = g->c;
	LLVMValueRef z8 = ci_sat(
	    c, ci_rshift_round(c, cg_mul(c, ci_sat(c, z, TY_I32), K(g, g->a->zmult)), ATTN_ZSH),
	    TY_I8);
	return ci_sext(c, cg_ld(c, g->i16, g->v[AP_LUT], cg_add(c, z8, K(g, 128))));
}

/* dst[e] = sat8(round(sat32(sum of rows [t0, t0 + n) of x[., D]) >> log2 n)) */
static void
pool(Acg *g, LLVMValueRef x, LLVMValueRef t0, uint32_t n, int dst, LLVMValueRef dst0)
{
	Cg *c = g->c;
	CgLoop le, lt;
	LLVMValueRef e, t, acc = cg_var(c, c->i64, "pool");
	e = cg_loop_begin(c, &le, K(g, 0), K(g, g->a->D));
	set(g, acc, K(g, 0));
	t = cg_loop_begin(c, &lt, K(g, 0), K(g, n));
	set(g, acc,
	    cg_add(c, get(g, acc),
	           ci_ld32(c, x, cg_add(c, cg_mul(c, cg_add(c, t0, t), K(g, g->a->D)), e))));
	cg_loop_end(c, &lt);
	st(g, dst, cg_add(c, dst0, e),
	   ci_sat(c, ci_rshift_round(c, ci_sat(c, get(g, acc), TY_I32), attn_log2(n)), TY_I8));
	cg_loop_end(c, &le);
}

/* ---- self-similarity (simthresh >= 0; attn.h, compiler/attn_sim.c) ---- */

/* floor(sqrt(v)) for 0 <= v < 2^32: the bit-by-bit root over 16 steps */
static LLVMValueRef
sim_isqrt(Acg *g, LLVMValueRef v)
{
	Cg *c = g->c;
	CgLoop l;
	LLVMValueRef num = var(g, "sqn", 0), res = var(g, "sqr", 0), bit = var(g, "sqb", 1 << 30);
	set(g, num, v);
	cg_loop_begin(c, &l, K(g, 0), K(g, 16));
	{
		LLVMValueRef t = cg_add(c, get(g, res), get(g, bit));
		LLVMValueRef ge = ci_icmp(c, LLVMIntSGE, get(g, num), t);
		LLVMValueRef half = LLVMBuildAShr(c->b, get(g, res), K(g, 1), "");
		set(g, num, ci_sel(c, ge, ci_sub(c, get(g, num), t), get(g, num)));
		set(g, res, ci_sel(c, ge, cg_add(c, half, get(g, bit)), half));
		set(g, bit, LLVMBuildAShr(c->b, get(g, bit), K(g, 2), ""));
	}
	cg_loop_end(c, &l);
	return get(g, res);
}

/* vrecip: round(2^(RS + P) / sq) for sq >= 0, INT32_MAX for 0 */
static LLVMValueRef
sim_inv(Acg *g, LLVMValueRef sq)
{
	Cg *c = g->c;
	LLVMValueRef zero = ci_icmp(c, LLVMIntEQ, sq, K(g, 0));
	LLVMValueRef den = ci_sel(c, zero, K(g, 1), sq);
	LLVMValueRef num = K(g, (int64_t)1 << (ATTN_SIM_RS + ATTN_SIM_P));
	LLVMValueRef q = LLVMBuildUDiv(c->b, num, den, ""), rem = LLVMBuildURem(c->b, num, den, "");
	q = cg_add(
	    c, q,
	    LLVMBuildZExt(c->b, ci_icmp(c, LLVMIntSGE, cg_mul(c, rem, K(g, 2)), den), c->i64, ""));
	return ci_sel(c, zero, K(g, INT32_MAX), ci_sat(c, q, TY_I32));
}

/* Element e of token t0 + t of x [., D], minus the key mean when smooth (i16). */
static LLVMValueRef
sim_token(Acg *g, LLVMValueRef x, LLVMValueRef t0, LLVMValueRef t, LLVMValueRef e, int smooth)
{
	Cg *c = g->c;
	LLVMValueRef v = ci_ld32(c, x, cg_add(c, cg_mul(c, cg_add(c, t0, t), K(g, g->a->D)), e));
	return smooth ? ci_sat(c, ci_sub(c, v, ld(g, AP_MU, e)), TY_I16) : v;
}

/* 1 if the n tokens from t0 of x are self-similar (i64 0 / 1). */
static LLVMValueRef
sim_block(Acg *g, LLVMValueRef x, LLVMValueRef t0, uint32_t n, int smooth)
{
	Cg *c = g->c;
	const CcAttn *a = g->a;
	CgLoop lt, le;
	LLVMValueRef t, e, v, sp, acc = cg_var(c, c->i64, "sacc"), ss = var(g, "ss", 0);
	unsigned sh = ATTN_SIM_RS - (15 - attn_log2(n));
	t = cg_loop_begin(c, &lt, K(g, 0), K(g, n));
	set(g, acc, K(g, 0));
	e = cg_loop_begin(c, &le, K(g, 0), K(g, a->D));
	v = sim_token(g, x, t0, t, e, smooth);
	set(g, acc, cg_add(c, get(g, acc), cg_mul(c, v, v)));
	cg_loop_end(c, &le);
	v = LLVMBuildShl(c->b, ci_sat(c, get(g, acc), TY_I32), K(g, 2 * ATTN_SIM_P), "");
	st(g, AP_R, t, sim_inv(g, sim_isqrt(g, v)));
	cg_loop_end(c, &lt);
	e = cg_loop_begin(c, &le, K(g, 0), K(g, a->D));
	set(g, acc, K(g, 0));
	t = cg_loop_begin(c, &lt, K(g, 0), K(g, n));
	set(g, acc,
	    ci_sat(c,
	           cg_add(c, get(g, acc),
	                  cg_mul(c, sim_token(g, x, t0, t, e, smooth), ld(g, AP_R, t))),
	           TY_I32));
	cg_loop_end(c, &lt);
	sp = ci_sat(c, ci_rshift_round(c, get(g, acc), sh), TY_I32);
	set(g, ss, cg_add(c, get(g, ss), cg_mul(c, sp, sp)));
	cg_loop_end(c, &le);
	return LLVMBuildZExt(
	    c->b, ci_icmp(c, LLVMIntSGT, ci_sat(c, get(g, ss), TY_I32), K(g, a->sim_thr)), c->i64,
	    "");
}

/* The key flags of the head at kh (AP_NSK: 1 = not self-similar) after its block means
 * (AP_PK): the key mean, then each block's test on the smoothed keys. */
static void
sim_keys(Acg *g, LLVMValueRef kh)
{
	Cg *c = g->c;
	const CcAttn *a = g->a;
	CgLoop le, lj;
	LLVMValueRef e, j, acc = cg_var(c, c->i64, "kmu");
	e = cg_loop_begin(c, &le, K(g, 0), K(g, a->D));
	set(g, acc, K(g, 0));
	j = cg_loop_begin(c, &lj, K(g, 0), K(g, a->nk));
	set(g, acc,
	    ci_sat(c, cg_add(c, get(g, acc), ld(g, AP_PK, cg_add(c, cg_mul(c, j, K(g, a->D)), e))),
	           TY_I32));
	cg_loop_end(c, &lj);
	st(g, AP_MU, e,
	   ci_sat(c, ci_rshift_round(c, cg_mul(c, get(g, acc), K(g, a->sim_kmul)), ATTN_SIM_ONE),
	          TY_I16));
	cg_loop_end(c, &le);
	j = cg_loop_begin(c, &lj, K(g, 0), K(g, a->nk));
	cg_st(c, c->i8, g->v[AP_NSK], j,
	      LLVMBuildTrunc(c->b,
	                     LLVMBuildXor(c->b,
	                                  sim_block(g, kh, cg_mul(c, j, K(g, a->blkk)), a->blkk, 1),
	                                  K(g, 1), ""),
	                     c->i8, ""));
	cg_loop_end(c, &lj);
}

/* The block score of key block j: 2^30 lower when it is not self-similar. */
static LLVMValueRef
sim_score(Acg *g, LLVMValueRef j, LLVMValueRef t)
{
	Cg *c = g->c;
	if (!g->a->simk)
		return t;
	return ci_sat(c,
	              cg_add(c, t,
	                     ci_sel(c, ci_icmp(c, LLVMIntNE, ci_ld8(c, g->v[AP_NSK], j), K(g, 0)),
	                            K(g, ATTN_SIM_PEN), K(g, 0))),
	              TY_I32);
}

/* The table value of key block j: 0 when it is not self-similar. */
static LLVMValueRef
sim_e(Acg *g, LLVMValueRef j, LLVMValueRef e)
{
	Cg *c = g->c;
	if (!g->a->simk)
		return e;
	return ci_sel(c, ci_icmp(c, LLVMIntNE, ci_ld8(c, g->v[AP_NSK], j), K(g, 0)), K(g, 0), e);
}

/* Mask row iq after the selection: the allowed key blocks that are not self-similar, and every
 * allowed block when query block iq is not. */
static void
sim_rules(Acg *g, LLVMValueRef qh, LLVMValueRef iq, LLVMValueRef A)
{
	Cg *c = g->c;
	const CcAttn *a = g->a;
	CgLoop lj;
	LLVMValueRef j, at, keep, qsim = sim_block(g, qh, cg_mul(c, iq, K(g, a->blkq)), a->blkq, 0);
	j = cg_loop_begin(c, &lj, K(g, 0), A);
	at = cg_add(c, cg_mul(c, iq, K(g, a->nk)), j);
	keep = LLVMBuildOr(c->b, ci_ld8(c, g->v[AP_MASK], at),
	                   LLVMBuildOr(c->b, ci_ld8(c, g->v[AP_NSK], j),
	                               LLVMBuildXor(c->b, qsim, K(g, 1), ""), ""),
	                   "");
	cg_st(c, c->i8, g->v[AP_MASK], at, LLVMBuildTrunc(c->b, keep, c->i8, ""));
	cg_loop_end(c, &lj);
}

/* The block mask of query block iq of the head whose q starts at qh (mask row iq). */
static void
emit_mask_row(Acg *g, LLVMValueRef qh, LLVMValueRef iq, LLVMValueRef A)
{
	Cg *c = g->c;
	const CcAttn *a = g->a;
	CgLoop lj, le, lk;
	LLVMValueRef j, e, k, acc = cg_var(c, c->i64, "t"), mx = var(g, "mx", INT32_MIN);
	LLVMValueRef total = var(g, "total", 0), cdf = var(g, "cdf", 0), still = var(g, "still", 1);
	LLVMValueRef best = cg_var(c, c->i64, "best"), bv = cg_var(c, c->i64, "bv");
	LLVMValueRef row = cg_mul(c, iq, K(g, a->nk)), cntk = smin(g, K(g, a->nsel_k), A);
	int key = a->mode == 0 ? AP_T : AP_E;
	pool(g, qh, cg_mul(c, iq, K(g, a->blkq)), a->blkq, AP_PQ, K(g, 0));
	j = cg_loop_begin(c, &lj, K(g, 0), K(g, a->nk));
	set(g, acc, K(g, 0));
	e = cg_loop_begin(c, &le, K(g, 0), K(g, a->D));
	set(g, acc,
	    cg_add(
	        c, get(g, acc),
	        cg_mul(c, ld(g, AP_PQ, e), ld(g, AP_PK, cg_add(c, cg_mul(c, j, K(g, a->D)), e)))));
	cg_loop_end(c, &le);
	st(g, AP_T, j, sim_score(g, j, ci_sat(c, get(g, acc), TY_I32)));
	cg_st(c, c->i8, g->v[AP_MASK], cg_add(c, row, j), LLVMConstInt(c->i8, 0, 0));
	cg_st(c, c->i8, g->v[AP_TAKEN], j, LLVMConstInt(c->i8, 0, 0));
	cg_loop_end(c, &lj);
	if (a->mode != 0) {
		j = cg_loop_begin(c, &lj, K(g, 0), A);
		set(g, mx, smax(g, get(g, mx), ld(g, AP_T, j)));
		cg_loop_end(c, &lj);
		j = cg_loop_begin(c, &lj, K(g, 0), A);
		st(g, AP_E, j, sim_e(g, j, table(g, ci_sub(c, ld(g, AP_T, j), get(g, mx)))));
		set(g, total, cg_add(c, get(g, total), ld(g, AP_E, j)));
		cg_loop_end(c, &lj);
	}
	/* best-first order by repeated arg-max; include the prefix the mode keeps */
	k = cg_loop_begin(c, &lk, K(g, 0), A);
	set(g, best, K(g, -1));
	set(g, bv, K(g, 0));
	j = cg_loop_begin(c, &lj, K(g, 0), A);
	{
		LLVMValueRef free_ = ci_icmp(c, LLVMIntEQ, ci_ld8(c, g->v[AP_TAKEN], j), K(g, 0));
		LLVMValueRef better =
		    LLVMBuildOr(c->b, ci_icmp(c, LLVMIntSLT, get(g, best), K(g, 0)),
		                ci_icmp(c, LLVMIntSGT, ld(g, key, j), get(g, bv)), "");
		LLVMValueRef take = LLVMBuildAnd(c->b, free_, better, "");
		set(g, best, ci_sel(c, take, j, get(g, best)));
		set(g, bv, ci_sel(c, take, ld(g, key, j), get(g, bv)));
	}
	cg_loop_end(c, &lj);
	cg_st(c, c->i8, g->v[AP_TAKEN], get(g, best), LLVMConstInt(c->i8, 1, 0));
	{
		LLVMValueRef inc;
		if (a->mode == 0)
			inc = ci_icmp(c, LLVMIntSLT, k, cntk);
		else {
			LLVMValueRef in_p;
			set(g, cdf, cg_add(c, get(g, cdf), get(g, bv)));
			in_p =
			    LLVMBuildAnd(c->b, ci_icmp(c, LLVMIntNE, get(g, still), K(g, 0)),
			                 ci_icmp(c, LLVMIntSLE, cg_mul(c, get(g, cdf), K(g, 65536)),
			                         cg_mul(c, get(g, total), K(g, a->tau16))),
			                 "");
			set(g, still, LLVMBuildZExt(c->b, in_p, c->i64, ""));
			inc = LLVMBuildOr(c->b, in_p, ci_icmp(c, LLVMIntEQ, k, K(g, 0)), "");
			if (a->mode == 2)
				inc = LLVMBuildOr(c->b, inc, ci_icmp(c, LLVMIntSLT, k, cntk), "");
		}
		{
			LLVMBasicBlockRef m = ci_if_begin(c, inc);
			cg_st(c, c->i8, g->v[AP_MASK], cg_add(c, row, get(g, best)),
			      LLVMConstInt(c->i8, 1, 0));
			ci_if_end(c, m);
		}
	}
	cg_loop_end(c, &lk);
	if (a->sink)
		cg_st(c, c->i8, g->v[AP_MASK], row, LLVMConstInt(c->i8, 1, 0));
	if (a->simk)
		sim_rules(g, qh, iq, A);
}

/* Query row R (absolute) of query block iq: online softmax over the allowed, selected blocks. */
static void
emit_row(Acg *g, LLVMValueRef qh, LLVMValueRef kh, LLVMValueRef vh, LLVMValueRef oh,
         LLVMValueRef iq, LLVMValueRef R, LLVMValueRef A)
{
	Cg *c = g->c;
	const CcAttn *a = g->a;
	uint32_t bk = a->blkk, Dv = a->Dv, D = a->D;
	CgLoop lj, lt, le, lf;
	LLVMValueRef j, t, e, f, acc = cg_var(c, c->i64, "acc"), m = var(g, "m", ATTN_MINIT);
	LLVMValueRef mx = cg_var(c, c->i64, "mx"), alpha, ps = cg_var(c, c->i64, "ps"), l, rc;
	f = cg_loop_begin(c, &lf, K(g, 0), K(g, Dv + 1));
	st(g, AP_O, f, K(g, 0));
	cg_loop_end(c, &lf);
	j = cg_loop_begin(c, &lj, K(g, 0), A);
	{
		LLVMBasicBlockRef skip = NULL;
		LLVMValueRef t0 = cg_mul(c, j, K(g, bk));
		if (a->sparse)
			skip =
			    ci_if_begin(c, ci_icmp(c, LLVMIntNE,
			                           ci_ld8(c, g->v[AP_MASK],
			                                  cg_add(c, cg_mul(c, iq, K(g, a->nk)), j)),
			                           K(g, 0)));
		t = cg_loop_begin(c, &lt, K(g, 0), K(g, bk));
		set(g, acc, K(g, 0));
		e = cg_loop_begin(c, &le, K(g, 0), K(g, D));
		set(g, acc,
		    cg_add(c, get(g, acc),
		           cg_mul(c, ci_ld32(c, qh, cg_add(c, cg_mul(c, R, K(g, D)), e)),
		                  ci_ld32(c, kh,
		                          cg_add(c, cg_mul(c, cg_add(c, t0, t), K(g, D)), e)))));
		cg_loop_end(c, &le);
		{
			LLVMValueRef s = ci_sat(c, get(g, acc), TY_I32);
			if (a->causal)
				s = ci_sel(c, ci_icmp(c, LLVMIntSGT, cg_add(c, t0, t), R),
				           K(g, ATTN_MASKED), s);
			st(g, AP_S, t, s);
		}
		cg_loop_end(c, &lt);
		st(g, AP_S, K(g, bk), get(g, m));
		set(g, mx, K(g, INT32_MIN));
		t = cg_loop_begin(c, &lt, K(g, 0), K(g, bk + 1));
		set(g, mx, smax(g, get(g, mx), ld(g, AP_S, t)));
		cg_loop_end(c, &lt);
		set(g, m, get(g, mx));
		set(g, ps, K(g, 0));
		t = cg_loop_begin(c, &lt, K(g, 0), K(g, bk));
		{
			LLVMValueRef p8 =
			    ci_sat(c,
			           ci_rshift_round(
			               c,
			               cg_mul(c, table(g, ci_sub(c, ld(g, AP_S, t), get(g, mx))),
			                      K(g, 127)),
			               ATTN_LUT_SHIFT),
			           TY_I8);
			st(g, AP_P8, t, p8);
			set(g, ps, cg_add(c, get(g, ps), p8));
		}
		cg_loop_end(c, &lt);
		alpha = table(g, ci_sub(c, ld(g, AP_S, K(g, bk)), get(g, mx)));
		f = cg_loop_begin(c, &lf, K(g, 0), K(g, Dv + 1));
		st(g, AP_O, f,
		   ci_sat(c, ci_rshift_round(c, cg_mul(c, ld(g, AP_O, f), alpha), ATTN_LUT_SHIFT),
		          TY_I32));
		cg_loop_end(c, &lf);
		f = cg_loop_begin(c, &lf, K(g, 0), K(g, Dv));
		set(g, acc, ld(g, AP_O, f));
		t = cg_loop_begin(c, &lt, K(g, 0), K(g, bk));
		set(g, acc,
		    cg_add(c, get(g, acc),
		           cg_mul(c, ld(g, AP_P8, t),
		                  ci_ld32(c, vh,
		                          cg_add(c, cg_mul(c, cg_add(c, t0, t), K(g, Dv)), f)))));
		cg_loop_end(c, &lt);
		st(g, AP_O, f, ci_sat(c, get(g, acc), TY_I32));
		cg_loop_end(c, &lf);
		/* l += sum p8, a 32-bit register add */
		st(g, AP_O, K(g, Dv),
		   ci_sext(c, LLVMBuildTrunc(
		                  c->b,
		                  cg_add(c, ld(g, AP_O, K(g, Dv)), ci_sat(c, get(g, ps), TY_I32)),
		                  c->i32, "")));
		if (skip)
			ci_if_end(c, skip);
	}
	cg_loop_end(c, &lj);
	/* rc = round(2^30 / l) (vrecip), INT32_MAX for l = 0 */
	l = ld(g, AP_O, K(g, Dv));
	{
		LLVMValueRef neg = ci_icmp(c, LLVMIntSLT, l, K(g, 0));
		LLVMValueRef den = ci_sel(c, neg, LLVMBuildNeg(c->b, l, ""), l);
		LLVMValueRef safe = ci_sel(c, ci_icmp(c, LLVMIntEQ, den, K(g, 0)), K(g, 1), den);
		LLVMValueRef num = K(g, (int64_t)1 << ATTN_RECIP_SHIFT);
		LLVMValueRef qv = LLVMBuildUDiv(c->b, num, safe, "");
		LLVMValueRef rem = LLVMBuildURem(c->b, num, safe, "");
		qv = cg_add(c, qv,
		            LLVMBuildZExt(c->b,
		                          ci_icmp(c, LLVMIntSGE, cg_mul(c, rem, K(g, 2)), safe),
		                          c->i64, ""));
		qv = ci_sat(c, ci_sel(c, neg, LLVMBuildNeg(c->b, qv, ""), qv), TY_I32);
		rc = ci_sel(c, ci_icmp(c, LLVMIntEQ, den, K(g, 0)), K(g, INT32_MAX), qv);
	}
	f = cg_loop_begin(c, &lf, K(g, 0), K(g, Dv));
	ci_st32(
	    c, oh, cg_add(c, cg_mul(c, R, K(g, Dv)), f),
	    ci_sat(c, ci_rshift_round(c, cg_mul(c, ld(g, AP_O, f), rc), ATTN_RECIP_SHIFT), TY_I8));
	cg_loop_end(c, &lf);
}

static void
io(const CcModel *m, IrTensorId t, const char *name, double scale, RefIo *out)
{
	const IrType *it = &m->g->tensors[t].type;
	uint32_t k;
	memset(out, 0, sizeof *out);
	out->name = name;
	out->rank = it->rank;
	for (k = 0; k < it->rank; k++)
		out->dims[k] = it->dim[k];
	out->elems = (uint64_t)ir_type_elems(it);
	out->qtype = TY_I8;
	out->scale = scale;
}

/* Projection s from src (token-major, or the heads' planes of Dv when from_heads) to dst
 * (token-major, or planes of dh per head at dst when dh). */
static void
emit_proj(Acg *g, uint32_t s, LLVMValueRef src, int from_heads, LLVMValueRef dst, uint32_t dh)
{
	Cg *c = g->c;
	const CcAttn *a = g->a;
	const CcProj *pj = &a->pj[s];
	CgLoop lr, lo, li;
	LLVMValueRef r, o, i, acc, xi, w, bias, mult, v, di;
	LLVMValueRef pw = cg_param(c, LLVMGetParam(c->fn, 2), AP_W + 3 * s, c->p8);
	LLVMValueRef pb = cg_param(c, LLVMGetParam(c->fn, 2), AP_W + 3 * s + 1, c->p32);
	LLVMValueRef pm = cg_param(c, LLVMGetParam(c->fn, 2), AP_W + 3 * s + 2, c->p32);
	LLVMValueRef sum = cg_var(c, c->i64, "dot");
	r = cg_loop_begin(c, &lr, K(g, 0), K(g, a->N));
	o = cg_loop_begin(c, &lo, K(g, 0), K(g, pj->dout));
	LLVMBuildStore(c->b, K(g, 0), sum);
	i = cg_loop_begin(c, &li, K(g, 0), K(g, pj->din));
	if (from_heads) /* head i / Dv, row r, element i % Dv */
		xi = cg_add(
		    c,
		    cg_mul(c,
		           cg_add(c, cg_mul(c, LLVMBuildUDiv(c->b, i, K(g, a->Dv), ""), K(g, a->N)),
		                  r),
		           K(g, a->Dv)),
		    LLVMBuildURem(c->b, i, K(g, a->Dv), ""));
	else
		xi = cg_add(c, cg_mul(c, r, K(g, pj->din)), i);
	w = ci_ld8(c, pw, cg_add(c, cg_mul(c, o, K(g, pj->din)), i));
	LLVMBuildStore(c->b, cg_add(c, get(g, sum), cg_mul(c, ci_ld32(c, src, xi), w)), sum);
	cg_loop_end(c, &li);
	bias = ci_ld32(c, pb, o);
	mult = ci_ld32(c, pm, o);
	acc = ci_sat(c, cg_add(c, ci_sat(c, get(g, sum), TY_I32), bias), TY_I32);
	v = ci_sat(c, ci_rshift_round(c, cg_mul(c, acc, mult), pj->shift), TY_I8);
	if (dh)
		di = cg_add(
		    c,
		    cg_mul(
		        c,
		        cg_add(c, cg_mul(c, LLVMBuildUDiv(c->b, o, K(g, dh), ""), K(g, a->N)), r),
		        K(g, dh)),
		    LLVMBuildURem(c->b, o, K(g, dh), ""));
	else
		di = cg_add(c, cg_mul(c, r, K(g, pj->dout)), o);
	ci_st32(c, dst, di, v);
	cg_loop_end(c, &lo);
	cg_loop_end(c, &lr);
}

void
ref_emit_norm(Cg *c, const CcNorm *n, uint32_t N, LLVMValueRef pg, LLVMValueRef pb, LLVMValueRef x,
              LLVMValueRef h)
{
	Acg gg, *g = &gg;
	memset(&gg, 0, sizeof gg);
	gg.c = c;
	LLVMValueRef sum = cg_var(c, c->i64, "sum"), vv = cg_var(c, c->i64, "var");
	LLVMValueRef res = cg_var(c, c->i64, "res"), bit = cg_var(c, c->i64, "bit");
	LLVMValueRef r, i, row, mean, xc, ge, tmp, S, R, t, u;
	CgLoop lr, li, lk;
	r = cg_loop_begin(c, &lr, K(g, 0), K(g, N));
	row = cg_mul(c, r, K(g, n->W));
	LLVMBuildStore(c->b, K(g, 0), sum);
	LLVMBuildStore(c->b, K(g, 0), vv);
	i = cg_loop_begin(c, &li, K(g, 0), K(g, n->W));
	LLVMBuildStore(c->b, cg_add(c, get(g, sum), ci_ld32(c, x, cg_add(c, row, i))), sum);
	cg_loop_end(c, &li);
	mean = LLVMBuildAShr(c->b,
	                     cg_add(c, cg_mul(c, ci_sat(c, get(g, sum), TY_I32), K(g, n->recip)),
	                            K(g, (int64_t)1 << (n->rsh - 1))),
	                     K(g, n->rsh), "");
	i = cg_loop_begin(c, &li, K(g, 0), K(g, n->W));
	xc = ci_sub(c, ci_ld32(c, x, cg_add(c, row, i)), mean);
	LLVMBuildStore(c->b, cg_add(c, get(g, vv), cg_mul(c, xc, xc)), vv);
	cg_loop_end(c, &li);
	LLVMBuildStore(c->b,
	               LLVMBuildShl(c->b, cg_add(c, ci_sat(c, get(g, vv), TY_I32), K(g, n->eps)),
	                            K(g, n->p), ""),
	               vv);
	/* S = isqrt(v), bit by bit (cc_isqrt) */
	LLVMBuildStore(c->b, K(g, 0), res);
	LLVMBuildStore(c->b, K(g, (int64_t)1 << 30), bit);
	cg_loop_begin(c, &lk, K(g, 0), K(g, 16));
	tmp = cg_add(c, get(g, res), get(g, bit));
	ge = ci_icmp(c, LLVMIntSGE, get(g, vv), tmp);
	LLVMBuildStore(c->b, ci_sel(c, ge, ci_sub(c, get(g, vv), tmp), get(g, vv)), vv);
	LLVMBuildStore(c->b,
	               ci_sel(c, ge,
	                      cg_add(c, LLVMBuildAShr(c->b, get(g, res), K(g, 1), ""), get(g, bit)),
	                      LLVMBuildAShr(c->b, get(g, res), K(g, 1), "")),
	               res);
	LLVMBuildStore(c->b, LLVMBuildAShr(c->b, get(g, bit), K(g, 2), ""), bit);
	cg_loop_end(c, &lk);
	S = get(g, res);
	/* R = round(2^30 / S), the maximum for 0 */
	R = ci_sel(c, ci_icmp(c, LLVMIntEQ, S, K(g, 0)), K(g, INT32_MAX),
	           LLVMBuildSDiv(
	               c->b, cg_add(c, K(g, (int64_t)1 << 30), LLVMBuildSDiv(c->b, S, K(g, 2), "")),
	               ci_sel(c, ci_icmp(c, LLVMIntEQ, S, K(g, 0)), K(g, 1), S), ""));
	i = cg_loop_begin(c, &li, K(g, 0), K(g, n->W));
	xc = ci_sub(c, ci_ld32(c, x, cg_add(c, row, i)), mean);
	t = ci_sat(c, ci_rshift_round(c, cg_mul(c, xc, R), n->ta), TY_I32);
	u = ci_sat(c, ci_rshift_round(c, cg_mul(c, t, ci_ld32(c, pg, i)), n->gsh), TY_I32);
	ci_st32(c, h, cg_add(c, row, i),
	        ci_sat(c, ci_sat(c, cg_add(c, u, ci_ld32(c, pb, i)), TY_I32), TY_I8));
	cg_loop_end(c, &li);
	cg_loop_end(c, &lr);
}

void
ref_emit_add(Cg *c, const CcAdd *ad, LLVMValueRef a, LLVMValueRef b, LLVMValueRef y, uint64_t n)
{
	Acg gg, *g = &gg;
	CgLoop l;
	memset(&gg, 0, sizeof gg);
	gg.c = c;
	LLVMValueRef i = cg_loop_begin(c, &l, K(g, 0), K(g, (int64_t)n));
	LLVMValueRef A = ci_sat(c, cg_mul(c, ci_ld32(c, a, i), K(g, ad->ma)), TY_I32);
	LLVMValueRef B = ci_sat(c, cg_mul(c, ci_ld32(c, b, i), K(g, ad->mb)), TY_I32);
	ci_st32(c, y, i,
	        ci_sat(c, ci_rshift_round(c, ci_sat(c, cg_add(c, A, B), TY_I32), ATTN_ADD_SHIFT),
	               TY_I8));
	cg_loop_end(c, &l);
}

int
ref_lower_attn_quant(Cg *c, RefModel *r, Diag *d)
{
	const CcModel *m = r->m;
	const CcAttn *a = m->attn;
	Acg g;
	LLVMTypeRef pt[3];
	CgLoop lbh, lq, lr, lj;
	LLVMValueRef bh, iq, rr, j, qh, kh, vh, oh, kidx, A;
	uint64_t qtot = (uint64_t)a->B * a->H * a->N * a->D,
	         ktot = (uint64_t)a->B * a->Hk * a->M * a->D;
	(void)d;
	memset(&g, 0, sizeof g);
	g.c = c, g.a = a;
	g.i16 = LLVMInt16TypeInContext(c->ctx);
	r->nin = r->nout = 1;
	r->in = xcalloc(1, sizeof(RefIo));
	r->out = xcalloc(1, sizeof(RefIo));
	if (a->proj) {
		io(m, a->tx, m->g->tensors[a->tx].name, a->s_x, r->in);
		io(m, a->ty, m->g->outputs[0].name, m->out_scale, r->out);
	} else {
		io(m, a->tq, "q|k|v", a->s_in, r->in);
		r->in->elems = m->in_len;
		io(m, a->to, m->g->outputs[0].name, a->s_in, r->out);
	}
	r->nparams = AP_COUNT;
	r->params = xcalloc(AP_COUNT + 16, sizeof(void *)); /* 16: the linear branch's */
	if (a->lin)
		r->nparams += ref_attn_lin_params(r, a, AP_COUNT);
	r->params[AP_LUT] = (void *)(uintptr_t)a->lut;
	r->params[AP_S] = ref_qown(r, 8 * ((size_t)a->blkk + 1));
	r->params[AP_P8] = ref_qown(r, 8 * (size_t)a->blkk);
	r->params[AP_O] = ref_qown(r, 8 * ((size_t)a->Dv + 1));
	r->params[AP_MASK] = ref_qown(r, (size_t)a->nq * a->nk);
	r->params[AP_PK] = ref_qown(r, 8 * (size_t)a->nk * a->D);
	r->params[AP_PQ] = ref_qown(r, 8 * (size_t)a->D);
	r->params[AP_T] = ref_qown(r, 8 * (size_t)a->nk);
	r->params[AP_E] = ref_qown(r, 8 * (size_t)a->nk);
	r->params[AP_TAKEN] = ref_qown(r, a->nk);
	r->params[AP_NSK] = ref_qown(r, a->nk);
	r->params[AP_MU] = ref_qown(r, 8 * (size_t)a->D);
	r->params[AP_R] = ref_qown(r, 8 * (size_t)(a->blkq > a->blkk ? a->blkq : a->blkk));
	if (a->proj) {
		uint32_t s2;
		r->params[AP_QKV] =
		    ref_qown(r, 4 * (qtot + ktot + (uint64_t)a->B * a->Hk * a->M * a->Dv));
		r->params[AP_OH] = ref_qown(r, 4 * (size_t)a->B * a->H * a->N * a->Dv);
		if (a->has_norm) {
			r->params[AP_NG] = (void *)a->norm.g;
			r->params[AP_NB] = (void *)a->norm.b;
			r->params[AP_H] = ref_qown(r, 4 * (size_t)a->N * a->norm.W);
		}
		if (a->has_add)
			r->params[AP_PO] = ref_qown(r, 4 * (size_t)a->N * a->pj[3].dout);
		if (a->has_ffn)
			ref_attn_ffn_params(r, m, AP_FFN);
		for (s2 = 0; s2 < 4; s2++) {
			r->params[AP_W + 3 * s2] = (void *)a->pj[s2].w;
			r->params[AP_W + 3 * s2 + 1] = (void *)a->pj[s2].bias;
			r->params[AP_W + 3 * s2 + 2] = (void *)a->pj[s2].mult;
		}
	}
	pt[0] = c->p32, pt[1] = c->p32, pt[2] = c->pp8;
	cg_func(c, "kolmo_ref_quant", c->vd, pt, 3, 0);
	g.in = LLVMGetParam(c->fn, 0), g.out = LLVMGetParam(c->fn, 1);
	g.v[AP_LUT] = cg_param(c, LLVMGetParam(c->fn, 2), AP_LUT, LLVMPointerType(g.i16, 0));
	{
		int i;
		for (i = AP_S; i < AP_QKV; i++)
			g.v[i] =
			    cg_param(c, LLVMGetParam(c->fn, 2), (uint32_t)i,
			             i == AP_MASK || i == AP_TAKEN || i == AP_NSK ? c->p8 : c->p64);
	}
	if (a->proj) {
		/* the projections into head planes; the kernel reads and writes the scratch */
		LLVMValueRef x = g.in;
		if (a->has_norm) {
			LLVMValueRef h = cg_param(c, LLVMGetParam(c->fn, 2), AP_H, c->p32);
			ref_emit_norm(c, &a->norm, a->N,
			              cg_param(c, LLVMGetParam(c->fn, 2), AP_NG, c->p32),
			              cg_param(c, LLVMGetParam(c->fn, 2), AP_NB, c->p32), x, h);
			x = h;
		}
		g.in = cg_param(c, LLVMGetParam(c->fn, 2), AP_QKV, c->p32);
		emit_proj(&g, 0, x, 0, g.in, a->D);
		emit_proj(&g, 1, x, 0,
		          LLVMBuildGEP2(c->b, c->i32, g.in, (LLVMValueRef[]){K(&g, (int64_t)qtot)},
		                        1, ""),
		          a->D);
		emit_proj(&g, 2, x, 0,
		          LLVMBuildGEP2(c->b, c->i32, g.in,
		                        (LLVMValueRef[]){K(&g, (int64_t)(qtot + ktot))}, 1, ""),
		          a->Dv);
		g.out = cg_param(c, LLVMGetParam(c->fn, 2), AP_OH, c->p32);
	}
	bh = cg_loop_begin(c, &lbh, K(&g, 0), K(&g, (int64_t)a->B * a->H));
	/* key head b * Hk + h % Hk */
	kidx =
	    cg_add(c, cg_mul(c, LLVMBuildSDiv(c->b, bh, K(&g, a->H), ""), K(&g, a->Hk)),
	           LLVMBuildSRem(c->b, LLVMBuildSRem(c->b, bh, K(&g, a->H), ""), K(&g, a->Hk), ""));
	qh = LLVMBuildGEP2(c->b, c->i32, g.in,
	                   (LLVMValueRef[]){cg_mul(c, bh, K(&g, (int64_t)a->N * a->D))}, 1, "");
	kh = LLVMBuildGEP2(c->b, c->i32, g.in,
	                   (LLVMValueRef[]){cg_add(c, K(&g, (int64_t)qtot),
	                                           cg_mul(c, kidx, K(&g, (int64_t)a->M * a->D)))},
	                   1, "");
	vh = LLVMBuildGEP2(c->b, c->i32, g.in,
	                   (LLVMValueRef[]){cg_add(c, K(&g, (int64_t)(qtot + ktot)),
	                                           cg_mul(c, kidx, K(&g, (int64_t)a->M * a->Dv)))},
	                   1, "");
	oh = LLVMBuildGEP2(c->b, c->i32, g.out,
	                   (LLVMValueRef[]){cg_mul(c, bh, K(&g, (int64_t)a->N * a->Dv))}, 1, "");
	if (a->lin)
		ref_attn_lin_sums(c, a, LLVMGetParam(c->fn, 2), AP_COUNT, kh, vh);
	if (a->sparse) {
		j = cg_loop_begin(c, &lj, K(&g, 0), K(&g, a->nk));
		pool(&g, kh, cg_mul(c, j, K(&g, a->blkk)), a->blkk, AP_PK,
		     cg_mul(c, j, K(&g, a->D)));
		cg_loop_end(c, &lj);
		if (a->simk)
			sim_keys(&g, kh);
	}
	iq = cg_loop_begin(c, &lq, K(&g, 0), K(&g, a->nq));
	A = K(&g, a->nk);
	if (a->causal)
		A = smin(&g, A,
		         LLVMBuildSDiv(c->b,
		                       cg_add(c, cg_mul(c, cg_add(c, iq, K(&g, 1)), K(&g, a->blkq)),
		                              K(&g, a->blkk - 1)),
		                       K(&g, a->blkk), ""));
	if (a->sparse)
		emit_mask_row(&g, qh, iq, A);
	rr = cg_loop_begin(c, &lr, K(&g, 0), K(&g, a->blkq));
	emit_row(&g, qh, kh, vh, oh, iq, cg_add(c, cg_mul(c, iq, K(&g, a->blkq)), rr), A);
	cg_loop_end(c, &lr);
	if (a->lin)
		ref_attn_lin_qblock(c, a, LLVMGetParam(c->fn, 2), AP_COUNT, bh, iq, g.v[AP_MASK],
		                    qh, oh);
	cg_loop_end(c, &lq);
	cg_loop_end(c, &lbh);
	if (a->proj && a->has_add) {
		LLVMValueRef po = cg_param(c, LLVMGetParam(c->fn, 2), AP_PO, c->p32);
		emit_proj(&g, 3, g.out, 1, po, 0);
		LLVMValueRef rr2 = LLVMGetParam(c->fn, 1);
		if (a->has_ffn)
			rr2 = cg_param(c, LLVMGetParam(c->fn, 2), AP_FFN, c->p32);
		ref_emit_add(c, &a->add, LLVMGetParam(c->fn, 0), po, rr2,
		             (uint64_t)a->N * a->pj[3].dout);
		if (a->has_ffn)
			ref_emit_attn_ffn(c, m, LLVMGetParam(c->fn, 2), AP_FFN, rr2,
			                  LLVMGetParam(c->fn, 1));
	} else if (a->proj)
		emit_proj(&g, 3, g.out, 1, LLVMGetParam(c->fn, 1), 0);
	LLVMBuildRetVoid(c->b);
	return 0;
}
