/* attn_quant_lin.c: the SLA / SLA2 linear branch of the attention lowering's integer model
 * (compiler/attn.h) in LLVM IR, written from attn.h and docs/attention.md as loops over the
 * values (no crossbars, one-hot reads or chunks): the per-block sums, their region total, its
 * 8-bit requantisation, the rows phi(q) S8, the division and the combine. Called by
 * attn_quant.c. */
#include <stdlib.h>
#include <string.h>

#include "attn.h"
#include "refint.h"

enum {
	LP_PHI,
	LP_WT,
	LP_B32,
	LP_B8,
	LP_A14,
	LP_LUT, /* the exp2 table (i16) */
	LP_SUMS,
	LP_PK,
	LP_VP,
	LP_S,
	LP_S8,
	LP_N,
	LP_P16,
	LP_PQ,
	LP_COUNT
};

_Static_assert(LP_COUNT <= 16, "ref_lower_attn_quant reserves 16 parameters for the branch");

typedef struct Lcg {
	Cg *c;
	const CcAttn *a;
	LLVMValueRef v[LP_COUNT];
} Lcg;

static LLVMValueRef
K(Lcg *g, int64_t v)
{
	return cg_i64(g->c, v);
}

static LLVMValueRef
ld(Lcg *g, int which, LLVMValueRef idx)
{
	return cg_ld(g->c, g->c->i64, g->v[which], idx);
}

static void
st(Lcg *g, int which, LLVMValueRef idx, LLVMValueRef v)
{
	cg_st(g->c, g->c->i64, g->v[which], idx, v);
}

static LLVMValueRef
get(Lcg *g, LLVMValueRef var)
{
	return cg_load(g->c, g->c->i64, var);
}

static void
set(Lcg *g, LLVMValueRef var, LLVMValueRef v)
{
	LLVMBuildStore(g->c->b, v, var);
}

static LLVMValueRef
add(Lcg *g, LLVMValueRef a, LLVMValueRef b)
{
	return cg_add(g->c, a, b);
}

static LLVMValueRef
mul(Lcg *g, LLVMValueRef a, LLVMValueRef b)
{
	return cg_mul(g->c, a, b);
}

/* phi8 of an i8 value (elu1, relu) */
static LLVMValueRef
phi(Lcg *g, LLVMValueRef x)
{
	return ci_ld8(g->c, g->v[LP_PHI], add(g, x, K(g, 128)));
}

static LLVMValueRef recip(Lcg *g, LLVMValueRef v, unsigned s);

/* dst[d0 + e] = phi8 of the D values x[x0 + e] (i32 vector): a table, or the softmax over e
 * (a key row normalised, a query row not) */
static void
phi_row(Lcg *g, LLVMValueRef x, LLVMValueRef x0, int key, int dst, LLVMValueRef d0)
{
	Cg *c = g->c;
	const CcAttnLin *l = g->a->lin;
	CgLoop le;
	LLVMValueRef e, mx, sum, mk;
	if (l->fmap != 0) {
		e = cg_loop_begin(c, &le, K(g, 0), K(g, g->a->D));
		st(g, dst, add(g, d0, e), phi(g, ci_ld32(c, x, add(g, x0, e))));
		cg_loop_end(c, &le);
		return;
	}
	mx = cg_var(c, c->i64, "pmax");
	sum = cg_var(c, c->i64, "psum");
	set(g, mx, K(g, INT32_MIN));
	set(g, sum, K(g, 0));
	e = cg_loop_begin(c, &le, K(g, 0), K(g, g->a->D));
	{
		LLVMValueRef v = ci_ld32(c, x, add(g, x0, e));
		set(g, mx, ci_sel(c, ci_icmp(c, LLVMIntSGT, v, get(g, mx)), v, get(g, mx)));
	}
	cg_loop_end(c, &le);
	e = cg_loop_begin(c, &le, K(g, 0), K(g, g->a->D));
	{
		LLVMValueRef z =
		    ci_sat(c, ci_sub(c, ci_ld32(c, x, add(g, x0, e)), get(g, mx)), TY_I32);
		LLVMValueRef z8 =
		    ci_sat(c, ci_rshift_round(c, mul(g, z, K(g, l->zphi)), ATTN_ZSH), TY_I8);
		LLVMValueRef p16 = ci_sext(c, cg_ld(c, LLVMInt16TypeInContext(c->ctx), g->v[LP_LUT],
		                                    add(g, z8, K(g, 128))));
		st(g, LP_P16, e, p16);
		set(g, sum, add(g, get(g, sum), p16));
	}
	cg_loop_end(c, &le);
	/* key: round(2^30 / sum) * gk as a 32-bit product */
	mk = key ? ci_sext(c, LLVMBuildTrunc(
	                          c->b,
	                          mul(g, recip(g, ci_sat(c, get(g, sum), TY_I32), 30), K(g, l->gk)),
	                          c->i32, ""))
	         : K(g, 127);
	e = cg_loop_begin(c, &le, K(g, 0), K(g, g->a->D));
	st(g, dst, add(g, d0, e),
	   ci_sat(c, ci_rshift_round(c, mul(g, ld(g, LP_P16, e), mk), key ? 30 : ATTN_LUT_SHIFT),
	          TY_I8));
	cg_loop_end(c, &le);
}

/* vrecip: round(2^s / v) half away from zero, sat32; INT32_MAX for v = 0 */
static LLVMValueRef
recip(Lcg *g, LLVMValueRef v, unsigned s)
{
	Cg *c = g->c;
	LLVMValueRef neg = ci_icmp(c, LLVMIntSLT, v, K(g, 0));
	LLVMValueRef den = ci_sel(c, neg, LLVMBuildNeg(c->b, v, ""), v);
	LLVMValueRef zero = ci_icmp(c, LLVMIntEQ, den, K(g, 0));
	LLVMValueRef safe = ci_sel(c, zero, K(g, 1), den), num = K(g, (int64_t)1 << s);
	LLVMValueRef q = LLVMBuildUDiv(c->b, num, safe, ""),
	             rem = LLVMBuildURem(c->b, num, safe, "");
	q = add(
	    g, q,
	    LLVMBuildZExt(c->b, ci_icmp(c, LLVMIntSGE, mul(g, rem, K(g, 2)), safe), c->i64, ""));
	q = ci_sat(c, ci_sel(c, neg, LLVMBuildNeg(c->b, q, ""), q), TY_I32);
	return ci_sel(c, zero, K(g, INT32_MAX), q);
}

uint32_t
ref_attn_lin_params(RefModel *r, const CcAttn *a, uint32_t base)
{
	const CcAttnLin *l = a->lin;
	size_t W = (size_t)a->Dv + 1, nS = (size_t)a->D * W;
	void **p = r->params + base;
	p[LP_PHI] = (void *)(uintptr_t)l->phi;
	p[LP_WT] = (void *)(uintptr_t)l->wt;
	p[LP_B32] = (void *)(uintptr_t)l->b32;
	p[LP_B8] = (void *)(uintptr_t)l->b8;
	p[LP_A14] = (void *)(uintptr_t)l->a14;
	p[LP_LUT] = (void *)(uintptr_t)a->lut;
	p[LP_P16] = ref_qown(r, 8 * (size_t)a->D);
	p[LP_PQ] = ref_qown(r, 8 * (size_t)a->D);
	p[LP_SUMS] = ref_qown(r, 8 * a->nk * nS);
	p[LP_PK] = ref_qown(r, 8 * (size_t)a->blkk * a->D);
	p[LP_VP] = ref_qown(r, 8 * (size_t)a->blkk * a->Dv);
	p[LP_S] = ref_qown(r, 8 * nS);
	p[LP_S8] = ref_qown(r, 8 * nS);
	p[LP_N] = ref_qown(r, 8 * W);
	return LP_COUNT;
}

static void
bind(Lcg *g, Cg *c, const CcAttn *a, LLVMValueRef arr, uint32_t base)
{
	int i;
	memset(g, 0, sizeof *g);
	g->c = c, g->a = a;
	for (i = 0; i < LP_COUNT; i++)
		g->v[i] =
		    cg_param(c, arr, base + (uint32_t)i,
		             i == LP_PHI || i == LP_B8 ? c->p8
		             : i == LP_LUT ? LLVMPointerType(LLVMInt16TypeInContext(c->ctx), 0)
		             : i <= LP_A14 ? c->p32
		                           : c->p64);
}

/* V'_t (row of the block at token row): v, or sla's projection sat8(round((W8 v + b32) mw >> 24))
 */
static void
values(Lcg *g, LLVMValueRef vh, LLVMValueRef row, LLVMValueRef t)
{
	Cg *c = g->c;
	const CcAttn *a = g->a;
	uint32_t Dv = a->Dv;
	CgLoop lf, le;
	LLVMValueRef f, e, acc = cg_var(c, c->i64, "vacc");
	f = cg_loop_begin(c, &lf, K(g, 0), K(g, Dv));
	if (a->lin->combine != 1) {
		st(g, LP_VP, add(g, mul(g, t, K(g, Dv)), f),
		   ci_ld32(c, vh, add(g, mul(g, row, K(g, Dv)), f)));
	} else {
		set(g, acc, ci_ld32(c, g->v[LP_B32], f));
		e = cg_loop_begin(c, &le, K(g, 0), K(g, Dv));
		set(g, acc,
		    add(g, get(g, acc),
		        mul(g, ci_ld32(c, vh, add(g, mul(g, row, K(g, Dv)), e)),
		            ci_ld32(c, g->v[LP_WT], add(g, mul(g, e, K(g, Dv + 1)), f)))));
		cg_loop_end(c, &le);
		st(g, LP_VP, add(g, mul(g, t, K(g, Dv)), f),
		   ci_sat(c,
		          ci_rshift_round(
		              c, mul(g, ci_sat(c, get(g, acc), TY_I32), K(g, a->lin->mw)), 24),
		          TY_I8));
	}
	cg_loop_end(c, &lf);
}

void
ref_attn_lin_sums(Cg *c, const CcAttn *a, LLVMValueRef params, uint32_t base, LLVMValueRef kh,
                  LLVMValueRef vh)
{
	Lcg g;
	uint32_t D = a->D, Dv = a->Dv, W = Dv + 1, bk = a->blkk;
	CgLoop lj, lt, le, lf;
	LLVMValueRef j, t, e, f, row, at, acc;
	bind(&g, c, a, params, base);
	acc = cg_var(c, c->i64, "sacc");
	j = cg_loop_begin(c, &lj, K(&g, 0), K(&g, a->nk));
	t = cg_loop_begin(c, &lt, K(&g, 0), K(&g, bk));
	row = add(&g, mul(&g, j, K(&g, bk)), t);
	phi_row(&g, kh, mul(&g, row, K(&g, D)), 1, LP_PK, mul(&g, t, K(&g, D)));
	values(&g, vh, row, t);
	cg_loop_end(c, &lt);
	e = cg_loop_begin(c, &le, K(&g, 0), K(&g, D));
	at = add(&g, mul(&g, j, K(&g, (int64_t)D * W)), mul(&g, e, K(&g, W)));
	f = cg_loop_begin(c, &lf, K(&g, 0), K(&g, Dv));
	set(&g, acc, K(&g, 0));
	t = cg_loop_begin(c, &lt, K(&g, 0), K(&g, bk));
	set(&g, acc,
	    add(&g, get(&g, acc),
	        mul(&g, ld(&g, LP_PK, add(&g, mul(&g, t, K(&g, D)), e)),
	            ld(&g, LP_VP, add(&g, mul(&g, t, K(&g, Dv)), f)))));
	cg_loop_end(c, &lt);
	st(&g, LP_SUMS, add(&g, at, f), ci_sat(c, get(&g, acc), TY_I32));
	cg_loop_end(c, &lf);
	/* S_j[e][Dv] = 128 x the sum of phi(k)[e]: a 32-bit shift of the saturated sum */
	set(&g, acc, K(&g, 0));
	t = cg_loop_begin(c, &lt, K(&g, 0), K(&g, bk));
	set(&g, acc, add(&g, get(&g, acc), ld(&g, LP_PK, add(&g, mul(&g, t, K(&g, D)), e))));
	cg_loop_end(c, &lt);
	st(&g, LP_SUMS, add(&g, at, K(&g, Dv)),
	   ci_sext(c, LLVMBuildTrunc(c->b, mul(&g, ci_sat(c, get(&g, acc), TY_I32), K(&g, 128)),
	                             c->i32, "")));
	cg_loop_end(c, &le);
	cg_loop_end(c, &lj);
}

void
ref_attn_lin_qblock(Cg *c, const CcAttn *a, LLVMValueRef params, uint32_t base, LLVMValueRef bh,
                    LLVMValueRef iq, LLVMValueRef mask, LLVMValueRef qh, LLVMValueRef oh)
{
	Lcg g;
	const CcAttnLin *l = a->lin;
	uint32_t D = a->D, Dv = a->Dv, W = Dv + 1;
	int64_t nS = (int64_t)D * W;
	CgLoop lj, li, lr, lf, le;
	LLVMValueRef j, i, r, f, e, R, mx, acc, cm, den, rl;
	bind(&g, c, a, params, base);
	mx = cg_var(c, c->i64, "smax");
	acc = cg_var(c, c->i64, "nacc");
	i = cg_loop_begin(c, &li, K(&g, 0), K(&g, nS));
	st(&g, LP_S, i, K(&g, 0));
	cg_loop_end(c, &li);
	j = cg_loop_begin(c, &lj, K(&g, 0), K(&g, a->nk));
	{
		LLVMBasicBlockRef skip = NULL;
		if (l->region == 1)
			skip = ci_if_begin(
			    c, ci_icmp(c, LLVMIntEQ,
			               ci_ld8(c, mask, add(&g, mul(&g, iq, K(&g, a->nk)), j)),
			               K(&g, 0)));
		i = cg_loop_begin(c, &li, K(&g, 0), K(&g, nS));
		st(&g, LP_S, i,
		   ci_sat(
		       c,
		       add(&g, ld(&g, LP_S, i), ld(&g, LP_SUMS, add(&g, mul(&g, j, K(&g, nS)), i))),
		       TY_I32));
		cg_loop_end(c, &li);
		if (skip)
			ci_if_end(c, skip);
	}
	cg_loop_end(c, &lj);
	set(&g, mx, K(&g, 128));
	i = cg_loop_begin(c, &li, K(&g, 0), K(&g, nS));
	{
		LLVMValueRef s = ld(&g, LP_S, i);
		set(&g, mx, ci_sel(c, ci_icmp(c, LLVMIntSGT, s, get(&g, mx)), s, get(&g, mx)));
	}
	cg_loop_end(c, &li);
	cm = mul(&g, recip(&g, get(&g, mx), 30), K(&g, 127));
	i = cg_loop_begin(c, &li, K(&g, 0), K(&g, nS));
	st(&g, LP_S8, i, ci_sat(c, ci_rshift_round(c, mul(&g, ld(&g, LP_S, i), cm), 30), TY_I8));
	cg_loop_end(c, &li);
	r = cg_loop_begin(c, &lr, K(&g, 0), K(&g, a->blkq));
	R = add(&g, mul(&g, iq, K(&g, a->blkq)), r);
	phi_row(&g, qh, mul(&g, R, K(&g, D)), 0, LP_PQ, K(&g, 0));
	f = cg_loop_begin(c, &lf, K(&g, 0), K(&g, W));
	set(&g, acc, K(&g, 0));
	e = cg_loop_begin(c, &le, K(&g, 0), K(&g, D));
	set(&g, acc,
	    add(&g, get(&g, acc),
	        mul(&g, ld(&g, LP_PQ, e), ld(&g, LP_S8, add(&g, mul(&g, e, K(&g, W)), f)))));
	cg_loop_end(c, &le);
	st(&g, LP_N, f, ci_sat(c, get(&g, acc), TY_I32));
	cg_loop_end(c, &lf);
	den = ld(&g, LP_N, K(&g, Dv));
	rl = recip(&g, den, 30);
	f = cg_loop_begin(c, &lf, K(&g, 0), K(&g, Dv));
	{
		LLVMValueRef at = add(&g, mul(&g, R, K(&g, Dv)), f), os = ci_ld32(c, oh, at), o;
		LLVMValueRef ol =
		    ci_sat(c, ci_rshift_round(c, mul(&g, ld(&g, LP_N, f), rl), 23), TY_I8);
		if (l->combine == 1) {
			ol = ci_sel(c, ci_icmp(c, LLVMIntEQ, den, K(&g, 0)),
			            ci_ld8(c, g.v[LP_B8], f), ol);
			o = ci_sat(c, add(&g, os, ol), TY_I8);
		} else {
			LLVMValueRef a14 =
			    ci_ld32(c, g.v[LP_A14], add(&g, mul(&g, bh, K(&g, a->N)), R));
			LLVMValueRef t = ci_sat(c, mul(&g, os, a14), TY_I32);
			t = ci_sat(c, add(&g, t, mul(&g, ol, ci_sub(c, K(&g, 16384), a14))),
			           TY_I32);
			o = ci_sat(c, ci_rshift_round(c, t, 14), TY_I8);
		}
		ci_st32(c, oh, at, o);
	}
	cg_loop_end(c, &lf);
	cg_loop_end(c, &lr);
}
