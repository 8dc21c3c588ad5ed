/* attn_ffn_quant.c: the integer lowering of a transformer block's feed-forward (compiler/attn.h,
 * attn_ffn.c) to LLVM IR, written from docs/attention.md and docs/compiler.md:
 *
 *   h = the layer norm of r (ref_emit_norm)
 *   per token, per layer: the drive (linear: the input; KAN: the SiLU table or the input, and
 *   the SBU segments dx = x - t0, m = dx >> sh, u = dx & (2^sh - 1), rows m-k..m from the basis
 *   table), the i64 dot product with the weights saturated to i32, the bias (saturating),
 *   sat(round(acc x M_o >> S)), ReLU or the SiLU table
 *   y = the residual add of r and the last layer's output (ref_emit_add)
 *
 * Parameters from `base`: r (scratch the caller writes), gamma, beta, h, x, y, drive, the
 * feed-forward's output, then per layer weights, bias, multipliers and the three tables. */
#include <stdlib.h>
#include <string.h>

#include "attn.h"
#include "refint.h"

enum { F_R, F_NG, F_NB, F_H, F_X, F_Y, F_DRIVE, F_OUT, F_LAYER };
enum { L_WQ, L_BQ, L_MULT, L_BASE, L_ACT, L_BASIS, L_PER };

void
ref_attn_ffn_params(RefModel *r, const CcModel *m, uint32_t base)
{
	const CcAttn *a = m->attn;
	uint32_t i, maxw = a->norm2.W, maxrows = 0;
	void **p = r->params + base;
	for (i = 0; i < a->nff; i++) {
		const CcLayer *l = &a->ff[i];
		void **q = p + F_LAYER + L_PER * i;
		maxw = l->out_len > maxw ? l->out_len : maxw;
		maxrows = l->rows > maxrows ? l->rows : maxrows;
		q[L_WQ] = l->wq;
		q[L_BQ] = l->bq;
		q[L_MULT] = l->mult;
		q[L_BASE] = (void *)l->base_lut;
		q[L_ACT] = (void *)l->act_lut;
		q[L_BASIS] = l->basis_lut;
	}
	p[F_R] = ref_qown(r, 4 * (size_t)a->N * a->norm2.W);
	p[F_NG] = a->norm2.g;
	p[F_NB] = a->norm2.b;
	p[F_H] = ref_qown(r, 4 * (size_t)a->N * a->norm2.W);
	p[F_X] = ref_qown(r, 4 * (size_t)maxw);
	p[F_Y] = ref_qown(r, 4 * (size_t)maxw);
	p[F_DRIVE] = ref_qown(r, 4 * (size_t)maxrows);
	p[F_OUT] = ref_qown(r, 4 * (size_t)a->N * a->norm2.W);
}

static LLVMValueRef
P(Cg *c, LLVMValueRef p, uint32_t i, LLVMTypeRef ty)
{
	return cg_param(c, p, i, ty);
}

/* drive = drive(x) of layer l */
static void
emit_drive(Cg *c, const CcLayer *l, LLVMValueRef x, LLVMValueRef dr, LLVMValueRef base,
           LLVMValueRef basis)
{
	LLVMValueRef i, xi, r, seg, dx, mm, u, row;
	LLVMBasicBlockRef after, inner;
	CgLoop lp, lr;
	uint32_t rr;
	i = cg_loop_begin(c, &lp, cg_i64(c, 0), cg_i64(c, l->in_len));
	xi = ci_ld32(c, x, i);
	if (l->kind == CC_LINEAR) {
		ci_st32(c, dr, i, xi);
		cg_loop_end(c, &lp);
		return;
	}
	ci_st32(c, dr, i, l->base_identity ? xi : ci_ld8(c, base, cg_add(c, xi, cg_i64(c, 128))));
	seg = cg_add(c, cg_i64(c, l->in_len), cg_mul(c, i, cg_i64(c, l->nb)));
	r = cg_loop_begin(c, &lr, cg_i64(c, 0), cg_i64(c, l->nb));
	ci_st32(c, dr, cg_add(c, seg, r), cg_i64(c, 0));
	cg_loop_end(c, &lr);
	dx = ci_sub(c, xi, cg_i64(c, l->sbu_t0));
	after = ci_if_begin(c, ci_icmp(c, LLVMIntSGE, dx, cg_i64(c, 0)));
	mm = LLVMBuildAShr(c->b, dx, cg_i64(c, l->sbu_sh), "");
	u = LLVMBuildAnd(c->b, dx, cg_i64(c, ((int64_t)1 << l->sbu_sh) - 1), "");
	for (rr = 0; rr <= l->k; rr++) {
		row = cg_add(c, mm, cg_i64(c, (int64_t)rr - (int64_t)l->k));
		inner =
		    ci_if_begin(c, LLVMBuildAnd(c->b, ci_icmp(c, LLVMIntSGE, row, cg_i64(c, 0)),
		                                ci_icmp(c, LLVMIntSLT, row, cg_i64(c, l->nb)), ""));
		ci_st32(
		    c, dr, cg_add(c, seg, row),
		    ci_ld8(c, basis, cg_add(c, cg_mul(c, u, cg_i64(c, l->k + 1)), cg_i64(c, rr))));
		ci_if_end(c, inner);
	}
	ci_if_end(c, after);
	cg_loop_end(c, &lp);
}

void
ref_emit_attn_ffn(Cg *c, const CcModel *m, LLVMValueRef p, uint32_t base, LLVMValueRef r,
                  LLVMValueRef y)
{
	const CcAttn *a = m->attn;
	uint32_t W = a->norm2.W, li;
	LLVMValueRef h = P(c, p, base + F_H, c->p32), x = P(c, p, base + F_X, c->p32);
	LLVMValueRef yv = P(c, p, base + F_Y, c->p32), dr = P(c, p, base + F_DRIVE, c->p32);
	LLVMValueRef out = P(c, p, base + F_OUT, c->p32);
	LLVMValueRef acc = cg_var(c, c->i64, "acc"), t, i, o, k, v;
	CgLoop lt, li2, lo, lk;
	ref_emit_norm(c, &a->norm2, a->N, P(c, p, base + F_NG, c->p32),
	              P(c, p, base + F_NB, c->p32), r, h);
	t = cg_loop_begin(c, &lt, cg_i64(c, 0), cg_i64(c, a->N));
	i = cg_loop_begin(c, &li2, cg_i64(c, 0), cg_i64(c, W));
	ci_st32(c, x, i, ci_ld32(c, h, cg_add(c, cg_mul(c, t, cg_i64(c, W)), i)));
	cg_loop_end(c, &li2);
	for (li = 0; li < a->nff; li++) {
		const CcLayer *l = &a->ff[li];
		uint32_t q = base + F_LAYER + L_PER * li;
		unsigned prety = l->act == CC_ACT_SILU ? TY_I8 : l->yty;
		LLVMValueRef wq = P(c, p, q + L_WQ, c->p32), mult = P(c, p, q + L_MULT, c->p32);
		emit_drive(c, l, x, dr, P(c, p, q + L_BASE, c->p8), P(c, p, q + L_BASIS, c->p8));
		o = cg_loop_begin(c, &lo, cg_i64(c, 0), cg_i64(c, l->out_len));
		LLVMBuildStore(c->b, cg_i64(c, 0), acc);
		k = cg_loop_begin(c, &lk, cg_i64(c, 0), cg_i64(c, l->rows));
		LLVMBuildStore(
		    c->b,
		    cg_add(c, cg_load(c, c->i64, acc),
		           cg_mul(c,
		                  ci_ld32(c, wq, cg_add(c, cg_mul(c, k, cg_i64(c, l->out_len)), o)),
		                  ci_ld32(c, dr, k))),
		    acc);
		cg_loop_end(c, &lk);
		v = ci_sat(c, cg_load(c, c->i64, acc), TY_I32);
		if (l->bq)
			v = ci_sat(c, cg_add(c, v, ci_ld32(c, P(c, p, q + L_BQ, c->p32), o)),
			           TY_I32);
		v = ci_sat(c, ci_rshift_round(c, cg_mul(c, v, ci_ld32(c, mult, o)), l->shift),
		           prety);
		if (l->act == CC_ACT_RELU)
			v = ci_sel(c, ci_icmp(c, LLVMIntSGT, v, cg_i64(c, 0)), v, cg_i64(c, 0));
		else if (l->act == CC_ACT_SILU)
			v = ci_ld8(c, P(c, p, q + L_ACT, c->p8), cg_add(c, v, cg_i64(c, 128)));
		ci_st32(c, yv, o, v);
		cg_loop_end(c, &lo);
		o = cg_loop_begin(c, &lo, cg_i64(c, 0), cg_i64(c, l->out_len));
		ci_st32(c, x, o, ci_ld32(c, yv, o));
		cg_loop_end(c, &lo);
	}
	i = cg_loop_begin(c, &li2, cg_i64(c, 0), cg_i64(c, W));
	ci_st32(c, out, cg_add(c, cg_mul(c, t, cg_i64(c, W)), i), ci_ld32(c, x, i));
	cg_loop_end(c, &li2);
	cg_loop_end(c, &lt);
	ref_emit_add(c, &a->add2, r, out, y, (uint64_t)a->N * W);
}
