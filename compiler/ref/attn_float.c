/* attn_float.c: the float32 lowering of the attention ops to LLVM IR, written from
 * reference/sparse_attention.md: `attention`, `block_mask` (SpargeAttn stage 1: K smoothing, block
 * means and self-similarity over valid tokens, pooled-score softmax, stable best-first order by
 * repeated arg-max, top-k / top-p / hybrid, causal, sink), `sparse_attention` (base-2 online
 * softmax over the selected blocks with the P.V skip test; SLA and SLA2 combines) and
 * `linear_attention` (feature maps softmax, elu+1, relu; all keys or the mask's complement).
 * One loop nest per head; scratch buffers are the model's. */
#include <math.h>
#include <string.h>

#include "refint.h"

enum {
	S_KMEAN,
	S_POOLQ,
	S_POOLK,
	S_SIMQ,
	S_SIMK,
	S_P,
	S_TAKEN,
	S_VEC,
	S_ROW,
	S_MASK,
	S_S,
	S_ACC,
	S_OL,
	S_SS,
	S_Z,
	S_PHQ,
	S_PHK,
	S_COUNT
};

typedef struct Fa {
	Cg *c;
	const Graph *g;
	IrNodeId id;
	const IrNode *n;
	int64_t B, H, N, M, D, Dv, blkq, blkk, nq, nk;
	LLVMValueRef s[S_COUNT]; /* scratch */
} Fa;

static LLVMValueRef
I(Fa *a, int64_t v)
{
	return cg_i64(a->c, v);
}

static LLVMValueRef
F(Fa *a, double v)
{
	return cg_f32(a->c, v);
}

static LLVMValueRef
ldf(Fa *a, LLVMValueRef p, LLVMValueRef i)
{
	return cg_ld(a->c, a->c->f32, p, i);
}

static void
stf(Fa *a, LLVMValueRef p, LLVMValueRef i, LLVMValueRef v)
{
	cg_st(a->c, a->c->f32, p, i, v);
}

static LLVMValueRef
fv(Fa *a, const char *name, double init)
{
	LLVMValueRef v = cg_var(a->c, a->c->f32, name);
	LLVMBuildStore(a->c->b, F(a, init), v);
	return v;
}

static LLVMValueRef
fget(Fa *a, LLVMValueRef v)
{
	return cg_load(a->c, a->c->f32, v);
}

static void
fset(Fa *a, LLVMValueRef var, LLVMValueRef v)
{
	LLVMBuildStore(a->c->b, v, var);
}

static LLVMValueRef
f_add(Fa *a, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildFAdd(a->c->b, x, y, "");
}

static LLVMValueRef
f_sub(Fa *a, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildFSub(a->c->b, x, y, "");
}

static LLVMValueRef
f_mul(Fa *a, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildFMul(a->c->b, x, y, "");
}

static LLVMValueRef
f_div(Fa *a, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildFDiv(a->c->b, x, y, "");
}

static LLVMValueRef
fcmp(Fa *a, LLVMRealPredicate p, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildFCmp(a->c->b, p, x, y, "");
}

static LLVMValueRef
fsel(Fa *a, LLVMValueRef cond, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildSelect(a->c->b, cond, x, y, "");
}

static LLVMValueRef
fmaxv(Fa *a, LLVMValueRef x, LLVMValueRef y)
{
	return fsel(a, fcmp(a, LLVMRealOGT, x, y), x, y);
}

/* a libm function of one float: expf, exp2f, sqrtf */
static LLVMValueRef
libm(Fa *a, const char *name, LLVMValueRef x)
{
	Cg *c = a->c;
	LLVMTypeRef ft = LLVMFunctionType(c->f32, &c->f32, 1, 0);
	LLVMValueRef f = LLVMGetNamedFunction(c->mod, name);
	if (!f)
		f = LLVMAddFunction(c->mod, name, ft);
	return LLVMBuildCall2(c->b, ft, f, &x, 1, "");
}

static LLVMValueRef
at(Fa *a, LLVMValueRef base, LLVMValueRef off)
{
	return LLVMBuildGEP2(a->c->b, a->c->f32, base, &off, 1, "");
}

static LLVMValueRef
icmp(Fa *a, LLVMIntPredicate p, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildICmp(a->c->b, p, x, y, "");
}

static LLVMValueRef
itof(Fa *a, LLVMValueRef i)
{
	return LLVMBuildSIToFP(a->c->b, i, a->c->f32, "");
}

/* ---- block mask of one head: mask[nq * nk] (0/1 floats) ---- */
static void
emit_mask(Fa *a, LLVMValueRef q, LLVMValueRef k, LLVMValueRef mask)
{
	Cg *c = a->c;
	const Graph *g = a->g;
	int mode = (int)ir_attr_int(g, a->id, "mode"),
	    causal = (int)ir_attr_int(g, a->id, "causal");
	int sink = (int)ir_attr_int(g, a->id, "sink");
	double rho = ir_attr_float(g, a->id, "rho"), tau = ir_attr_float(g, a->id, "tau");
	double theta = ir_attr_float(g, a->id, "simthresh");
	int64_t D = a->D, nq = a->nq, nk = a->nk, nsel_k = (int64_t)floor(rho * (double)nk), side;
	CgLoop l1, l2, l3;
	LLVMValueRef t, e, i, j;
	if (nsel_k == 0)
		nsel_k = 1;
	e = cg_loop_begin(c, &l1, I(a, 0), I(a, D));
	stf(a, a->s[S_KMEAN], e, F(a, 0));
	cg_loop_end(c, &l1);
	t = cg_loop_begin(c, &l1, I(a, 0), I(a, a->M));
	e = cg_loop_begin(c, &l2, I(a, 0), I(a, D));
	stf(a, a->s[S_KMEAN], e,
	    f_add(a, ldf(a, a->s[S_KMEAN], e),
	          f_div(a, ldf(a, k, cg_add(c, cg_mul(c, t, I(a, D)), e)), F(a, (double)a->M))));
	cg_loop_end(c, &l2);
	cg_loop_end(c, &l1);
	/* pooled means and self-similarity of the Q blocks (side 0) and smoothed K blocks (1) */
	for (side = 0; side < 2; side++) {
		int64_t blk = side ? a->blkk : a->blkq, len = side ? a->M : a->N,
		        nb = side ? nk : nq;
		LLVMValueRef x = side ? k : q, pool = a->s[side ? S_POOLK : S_POOLQ];
		LLVMValueRef sim = a->s[side ? S_SIMK : S_SIMQ];
		LLVMValueRef b = cg_loop_begin(c, &l1, I(a, 0), I(a, nb)), t0, t1, nv, sumsq;
		t0 = cg_mul(c, b, I(a, blk));
		t1 = cg_add(c, t0, I(a, blk));
		t1 = LLVMBuildSelect(c->b, icmp(a, LLVMIntSGT, t1, I(a, len)), I(a, len), t1, "");
		nv = itof(a, ci_sub(c, t1, t0));
		e = cg_loop_begin(c, &l2, I(a, 0), I(a, D));
		stf(a, a->s[S_VEC], e, F(a, 0));
		stf(a, pool, cg_add(c, cg_mul(c, b, I(a, D)), e), F(a, 0));
		cg_loop_end(c, &l2);
		t = cg_loop_begin(c, &l2, t0, t1);
		{
			LLVMValueRef nrm = fv(a, "nrm", 0);
			e = cg_loop_begin(c, &l3, I(a, 0), I(a, D));
			{
				LLVMValueRef v = ldf(a, x, cg_add(c, cg_mul(c, t, I(a, D)), e));
				LLVMValueRef pi = cg_add(c, cg_mul(c, b, I(a, D)), e);
				if (side)
					v = f_sub(a, v, ldf(a, a->s[S_KMEAN], e));
				stf(a, a->s[S_ROW], e, v);
				stf(a, pool, pi, f_add(a, ldf(a, pool, pi), f_div(a, v, nv)));
				fset(a, nrm, f_add(a, fget(a, nrm), f_mul(a, v, v)));
			}
			cg_loop_end(c, &l3);
			fset(a, nrm, libm(a, "sqrtf", fget(a, nrm)));
			e = cg_loop_begin(c, &l3, I(a, 0), I(a, D));
			stf(a, a->s[S_VEC], e,
			    f_add(a, ldf(a, a->s[S_VEC], e),
			          fsel(a, fcmp(a, LLVMRealOGT, fget(a, nrm), F(a, 0)),
			               f_div(a, ldf(a, a->s[S_ROW], e), fget(a, nrm)), F(a, 0))));
			cg_loop_end(c, &l3);
		}
		cg_loop_end(c, &l2);
		sumsq = fv(a, "sumsq", 0);
		e = cg_loop_begin(c, &l2, I(a, 0), I(a, D));
		fset(a, sumsq,
		     f_add(a, fget(a, sumsq),
		           f_mul(a, ldf(a, a->s[S_VEC], e), ldf(a, a->s[S_VEC], e))));
		cg_loop_end(c, &l2);
		stf(a, sim, b,
		    LLVMBuildUIToFP(c->b,
		                    fcmp(a, LLVMRealOGT, f_div(a, fget(a, sumsq), f_mul(a, nv, nv)),
		                         F(a, theta)),
		                    c->f32, ""));
		cg_loop_end(c, &l1);
	}
	i = cg_loop_begin(c, &l1, I(a, 0), I(a, nq));
	{
		LLVMValueRef mx = fv(a, "mx", -INFINITY), sum = fv(a, "sum", 0),
		             cdf = fv(a, "cdf", 0);
		LLVMValueRef nselp = cg_var(c, c->i64, "nselp"), best = cg_var(c, c->i64, "best");
		LLVMValueRef bv = fv(a, "bv", 0), nsel, kk, row = cg_mul(c, i, I(a, nk));
		LLVMBuildStore(c->b, I(a, 0), nselp);
		j = cg_loop_begin(c, &l2, I(a, 0), I(a, nk));
		{
			LLVMValueRef sc = fv(a, "sc", 0), allowed;
			e = cg_loop_begin(c, &l3, I(a, 0), I(a, D));
			fset(
			    a, sc,
			    f_add(
			        a, fget(a, sc),
			        f_mul(a, ldf(a, a->s[S_POOLQ], cg_add(c, cg_mul(c, i, I(a, D)), e)),
			              ldf(a, a->s[S_POOLK], cg_add(c, cg_mul(c, j, I(a, D)), e)))));
			cg_loop_end(c, &l3);
			allowed = fcmp(a, LLVMRealONE, ldf(a, a->s[S_SIMK], j), F(a, 0));
			if (causal)
				allowed = LLVMBuildAnd(
				    c->b, allowed,
				    icmp(a, LLVMIntSLT, cg_mul(c, j, I(a, a->blkk)),
				         cg_mul(c, cg_add(c, i, I(a, 1)), I(a, a->blkq))),
				    "");
			stf(a, a->s[S_P], j,
			    fsel(a, allowed, f_div(a, fget(a, sc), F(a, sqrt((double)D))),
			         F(a, -INFINITY)));
			fset(a, mx, fmaxv(a, fget(a, mx), ldf(a, a->s[S_P], j)));
			stf(a, a->s[S_TAKEN], j, F(a, 0));
		}
		cg_loop_end(c, &l2);
		j = cg_loop_begin(c, &l2, I(a, 0), I(a, nk));
		stf(a, a->s[S_P], j,
		    fsel(a, fcmp(a, LLVMRealOEQ, fget(a, mx), F(a, -INFINITY)), F(a, 0),
		         libm(a, "expf", f_sub(a, ldf(a, a->s[S_P], j), fget(a, mx)))));
		fset(a, sum, f_add(a, fget(a, sum), ldf(a, a->s[S_P], j)));
		cg_loop_end(c, &l2);
		j = cg_loop_begin(c, &l2, I(a, 0), I(a, nk));
		stf(a, a->s[S_P], j,
		    fsel(a, fcmp(a, LLVMRealOGT, fget(a, sum), F(a, 0)),
		         f_div(a, ldf(a, a->s[S_P], j), fget(a, sum)), F(a, 0)));
		/* the row starts as the non-self-similar blocks */
		stf(a, mask, cg_add(c, row, j),
		    fsel(a,
		         LLVMBuildOr(c->b, fcmp(a, LLVMRealOEQ, ldf(a, a->s[S_SIMK], j), F(a, 0)),
		                     fcmp(a, LLVMRealOEQ, ldf(a, a->s[S_SIMQ], i), F(a, 0)), ""),
		         F(a, 1), F(a, 0)));
		cg_loop_end(c, &l2);
		/* best-first order (stable: ties to the lower index): position kk takes `best` */
		kk = cg_loop_begin(c, &l2, I(a, 0), I(a, nk));
		LLVMBuildStore(c->b, I(a, -1), best);
		j = cg_loop_begin(c, &l3, I(a, 0), I(a, nk));
		{
			LLVMValueRef p = ldf(a, a->s[S_P], j), take;
			take = LLVMBuildAnd(
			    c->b, fcmp(a, LLVMRealOEQ, ldf(a, a->s[S_TAKEN], j), F(a, 0)),
			    LLVMBuildOr(c->b,
			                icmp(a, LLVMIntSLT, cg_load(c, c->i64, best), I(a, 0)),
			                fcmp(a, LLVMRealOGT, p, fget(a, bv)), ""),
			    "");
			LLVMBuildStore(c->b,
			               LLVMBuildSelect(c->b, take, j, cg_load(c, c->i64, best), ""),
			               best);
			fset(a, bv, fsel(a, take, p, fget(a, bv)));
		}
		cg_loop_end(c, &l3);
		/* order is kept in S_ROW positions as floats of the index (nk <= 2^24) */
		stf(a, a->s[S_TAKEN], cg_load(c, c->i64, best), F(a, 1));
		stf(a, a->s[S_ACC], kk, itof(a, cg_load(c, c->i64, best)));
		fset(a, cdf, f_add(a, fget(a, cdf), fget(a, bv)));
		LLVMBuildStore(
		    c->b,
		    cg_add(c, cg_load(c, c->i64, nselp),
		           LLVMBuildZExt(c->b, fcmp(a, LLVMRealOLE, fget(a, cdf), F(a, tau)),
		                         c->i64, "")),
		    nselp);
		cg_loop_end(c, &l2);
		{
			LLVMValueRef np = cg_load(c, c->i64, nselp);
			np =
			    LLVMBuildSelect(c->b, icmp(a, LLVMIntEQ, np, I(a, 0)), I(a, 1), np, "");
			if (mode == 0)
				nsel = I(a, nsel_k);
			else if (mode == 1)
				nsel = np;
			else
				nsel = LLVMBuildSelect(c->b, icmp(a, LLVMIntSGT, np, I(a, nsel_k)),
				                       np, I(a, nsel_k), "");
		}
		kk = cg_loop_begin(c, &l2, I(a, 0), I(a, nk));
		{
			LLVMBasicBlockRef m = ci_if_begin(c, icmp(a, LLVMIntSLT, kk, nsel));
			LLVMValueRef jj =
			    LLVMBuildFPToSI(c->b, ldf(a, a->s[S_ACC], kk), c->i64, "");
			stf(a, mask, cg_add(c, row, jj), F(a, 1));
			ci_if_end(c, m);
		}
		cg_loop_end(c, &l2);
		j = cg_loop_begin(c, &l2, I(a, 0), I(a, nk));
		{
			LLVMValueRef mv = ldf(a, mask, cg_add(c, row, j));
			if (causal)
				mv = fsel(a,
				          icmp(a, LLVMIntSLT, cg_mul(c, j, I(a, a->blkk)),
				               cg_mul(c, cg_add(c, i, I(a, 1)), I(a, a->blkq))),
				          mv, F(a, 0));
			if (sink)
				mv = fsel(a, icmp(a, LLVMIntEQ, j, I(a, 0)), F(a, 1), mv);
			stf(a, mask, cg_add(c, row, j), mv);
		}
		cg_loop_end(c, &l2);
	}
	cg_loop_end(c, &l1);
}

/* ---- block-sparse (or dense: mask NULL) attention of one head, base-2 online softmax ---- */
static void
emit_sparse(Fa *a, LLVMValueRef q, LLVMValueRef k, LLVMValueRef v, LLVMValueRef mask, double scale,
            int causal, double lambda, LLVMValueRef o)
{
	Cg *c = a->c;
	int64_t D = a->D, Dv = a->Dv, blkq = mask ? a->blkq : a->N, blkk = mask ? a->blkk : a->M;
	int64_t nk = (a->M + blkk - 1) / blkk;
	double sm = scale * 1.4426950408889634;
	CgLoop lr, lj, lt, le, lf;
	LLVMValueRef r, j, t, e, f;
	r = cg_loop_begin(c, &lr, I(a, 0), I(a, a->N));
	{
		LLVMValueRef m = fv(a, "m", -INFINITY), l = fv(a, "l", 0);
		f = cg_loop_begin(c, &lf, I(a, 0), I(a, Dv));
		stf(a, a->s[S_ACC], f, F(a, 0));
		cg_loop_end(c, &lf);
		j = cg_loop_begin(c, &lj, I(a, 0), I(a, nk));
		{
			LLVMValueRef t0 = cg_mul(c, j, I(a, blkk)), t1 = cg_add(c, t0, I(a, blkk));
			LLVMValueRef mloc = fv(a, "mloc", -INFINITY), mnew, go, scl;
			LLVMBasicBlockRef skip = NULL, run;
			t1 = LLVMBuildSelect(c->b, icmp(a, LLVMIntSGT, t1, I(a, a->M)), I(a, a->M),
			                     t1, "");
			if (mask)
				skip = ci_if_begin(
				    c,
				    fcmp(
				        a, LLVMRealONE,
				        ldf(a, mask,
				            cg_add(c,
				                   cg_mul(c, LLVMBuildSDiv(c->b, r, I(a, blkq), ""),
				                          I(a, nk)),
				                   j)),
				        F(a, 0)));
			t = cg_loop_begin(c, &lt, t0, t1);
			{
				LLVMValueRef dot = fv(a, "dot", 0), s;
				e = cg_loop_begin(c, &le, I(a, 0), I(a, D));
				fset(a, dot,
				     f_add(a, fget(a, dot),
				           f_mul(a, ldf(a, q, cg_add(c, cg_mul(c, r, I(a, D)), e)),
				                 ldf(a, k, cg_add(c, cg_mul(c, t, I(a, D)), e)))));
				cg_loop_end(c, &le);
				s = f_mul(a, fget(a, dot), F(a, sm));
				if (causal)
					s = fsel(a, icmp(a, LLVMIntSGT, t, r), F(a, -INFINITY), s);
				stf(a, a->s[S_S], ci_sub(c, t, t0), s);
				fset(a, mloc, fmaxv(a, fget(a, mloc), s));
			}
			cg_loop_end(c, &lt);
			/* a block with no valid key, or skipped by the P.V test, changes nothing */
			go = fcmp(a, LLVMRealONE, fget(a, mloc), F(a, -INFINITY));
			if (isfinite(lambda))
				go = LLVMBuildAnd(
				    c->b, go,
				    LLVMBuildOr(c->b,
				                fcmp(a, LLVMRealOEQ, fget(a, m), F(a, -INFINITY)),
				                fcmp(a, LLVMRealOGT,
				                     f_add(a, f_sub(a, fget(a, mloc), fget(a, m)),
				                           F(a, lambda)),
				                     F(a, 0)),
				                ""),
				    "");
			run = ci_if_begin(c, go);
			mnew = fmaxv(a, fget(a, m), fget(a, mloc));
			scl = fsel(a, fcmp(a, LLVMRealOEQ, fget(a, m), F(a, -INFINITY)), F(a, 0),
			           libm(a, "exp2f", f_sub(a, fget(a, m), mnew)));
			f = cg_loop_begin(c, &lf, I(a, 0), I(a, Dv));
			stf(a, a->s[S_ACC], f, f_mul(a, ldf(a, a->s[S_ACC], f), scl));
			cg_loop_end(c, &lf);
			fset(a, l, f_mul(a, fget(a, l), scl));
			fset(a, m, mnew);
			t = cg_loop_begin(c, &lt, t0, t1);
			{
				LLVMValueRef s = ldf(a, a->s[S_S], ci_sub(c, t, t0));
				LLVMValueRef valid = fcmp(a, LLVMRealONE, s, F(a, -INFINITY));
				LLVMValueRef p = fsel(
				    a, valid, libm(a, "exp2f", f_sub(a, s, fget(a, m))), F(a, 0));
				fset(a, l, f_add(a, fget(a, l), p));
				f = cg_loop_begin(c, &lf, I(a, 0), I(a, Dv));
				stf(a, a->s[S_ACC], f,
				    f_add(a, ldf(a, a->s[S_ACC], f),
				          f_mul(a, p,
				                ldf(a, v, cg_add(c, cg_mul(c, t, I(a, Dv)), f)))));
				cg_loop_end(c, &lf);
			}
			cg_loop_end(c, &lt);
			ci_if_end(c, run);
			if (skip)
				ci_if_end(c, skip);
		}
		cg_loop_end(c, &lj);
		f = cg_loop_begin(c, &lf, I(a, 0), I(a, Dv));
		stf(a, o, cg_add(c, cg_mul(c, r, I(a, Dv)), f),
		    fsel(a, fcmp(a, LLVMRealOGT, fget(a, l), F(a, 0)),
		         f_div(a, ldf(a, a->s[S_ACC], f), fget(a, l)), F(a, 0)));
		cg_loop_end(c, &lf);
	}
	cg_loop_end(c, &lr);
}

/* phi of the D values at x into out (0 softmax over the head dim, 1 elu+1, 2 relu) */
static void
emit_phi(Fa *a, LLVMValueRef x, int fmap, LLVMValueRef out)
{
	Cg *c = a->c;
	CgLoop l;
	LLVMValueRef e;
	if (fmap == 0) {
		LLVMValueRef mx = fv(a, "pmx", -INFINITY), s = fv(a, "ps", 0);
		e = cg_loop_begin(c, &l, I(a, 0), I(a, a->D));
		fset(a, mx, fmaxv(a, fget(a, mx), ldf(a, x, e)));
		cg_loop_end(c, &l);
		e = cg_loop_begin(c, &l, I(a, 0), I(a, a->D));
		stf(a, out, e, libm(a, "expf", f_sub(a, ldf(a, x, e), fget(a, mx))));
		fset(a, s, f_add(a, fget(a, s), ldf(a, out, e)));
		cg_loop_end(c, &l);
		e = cg_loop_begin(c, &l, I(a, 0), I(a, a->D));
		stf(a, out, e, f_div(a, ldf(a, out, e), fget(a, s)));
		cg_loop_end(c, &l);
		return;
	}
	e = cg_loop_begin(c, &l, I(a, 0), I(a, a->D));
	{
		LLVMValueRef xv = ldf(a, x, e), pos = fcmp(a, LLVMRealOGT, xv, F(a, 0));
		stf(a, out, e,
		    fmap == 1 ? fsel(a, pos, f_add(a, xv, F(a, 1)), libm(a, "expf", xv))
		              : fsel(a, pos, xv, F(a, 0)));
	}
	cg_loop_end(c, &l);
}

/* linear attention of one head into o; mask NULL: all key blocks, else the row's complement */
static void
emit_linear(Fa *a, LLVMValueRef q, LLVMValueRef k, LLVMValueRef v, LLVMValueRef mask, int fmap,
            double eps, LLVMValueRef o)
{
	Cg *c = a->c;
	int64_t D = a->D, Dv = a->Dv, nk = a->nk;
	CgLoop l1, l2, l3;
	LLVMValueRef t, e, f, r, j;
	e = cg_loop_begin(c, &l1, I(a, 0), I(a, nk * D * Dv));
	stf(a, a->s[S_SS], e, F(a, 0));
	cg_loop_end(c, &l1);
	e = cg_loop_begin(c, &l1, I(a, 0), I(a, nk * D));
	stf(a, a->s[S_Z], e, F(a, 0));
	cg_loop_end(c, &l1);
	t = cg_loop_begin(c, &l1, I(a, 0), I(a, a->M));
	{
		LLVMValueRef jb = LLVMBuildSDiv(c->b, t, I(a, a->blkk), "");
		emit_phi(a, at(a, k, cg_mul(c, t, I(a, D))), fmap, a->s[S_PHK]);
		e = cg_loop_begin(c, &l2, I(a, 0), I(a, D));
		{
			LLVMValueRef zi = cg_add(c, cg_mul(c, jb, I(a, D)), e), pk;
			pk = ldf(a, a->s[S_PHK], e);
			stf(a, a->s[S_Z], zi, f_add(a, ldf(a, a->s[S_Z], zi), pk));
			f = cg_loop_begin(c, &l3, I(a, 0), I(a, Dv));
			{
				LLVMValueRef si = cg_add(c, cg_mul(c, zi, I(a, Dv)), f);
				stf(a, a->s[S_SS], si,
				    f_add(a, ldf(a, a->s[S_SS], si),
				          f_mul(a, pk,
				                ldf(a, v, cg_add(c, cg_mul(c, t, I(a, Dv)), f)))));
			}
			cg_loop_end(c, &l3);
		}
		cg_loop_end(c, &l2);
	}
	cg_loop_end(c, &l1);
	r = cg_loop_begin(c, &l1, I(a, 0), I(a, a->N));
	{
		LLVMValueRef den = fv(a, "den", 0);
		emit_phi(a, at(a, q, cg_mul(c, r, I(a, D))), fmap, a->s[S_PHQ]);
		f = cg_loop_begin(c, &l2, I(a, 0), I(a, Dv));
		stf(a, o, cg_add(c, cg_mul(c, r, I(a, Dv)), f), F(a, 0));
		cg_loop_end(c, &l2);
		j = cg_loop_begin(c, &l2, I(a, 0), I(a, nk));
		{
			LLVMBasicBlockRef skip = NULL;
			if (mask)
				skip = ci_if_begin(
				    c,
				    fcmp(
				        a, LLVMRealOEQ,
				        ldf(a, mask,
				            cg_add(c,
				                   cg_mul(c,
				                          LLVMBuildSDiv(c->b, r, I(a, a->blkq), ""),
				                          I(a, nk)),
				                   j)),
				        F(a, 0)));
			e = cg_loop_begin(c, &l3, I(a, 0), I(a, D));
			{
				LLVMValueRef zi = cg_add(c, cg_mul(c, j, I(a, D)), e), pq;
				CgLoop l4;
				pq = ldf(a, a->s[S_PHQ], e);
				fset(a, den,
				     f_add(a, fget(a, den), f_mul(a, pq, ldf(a, a->s[S_Z], zi))));
				f = cg_loop_begin(c, &l4, I(a, 0), I(a, Dv));
				{
					LLVMValueRef oi = cg_add(c, cg_mul(c, r, I(a, Dv)), f);
					stf(a, o, oi,
					    f_add(
					        a, ldf(a, o, oi),
					        f_mul(a, pq,
					              ldf(a, a->s[S_SS],
					                  cg_add(c, cg_mul(c, zi, I(a, Dv)), f)))));
				}
				cg_loop_end(c, &l4);
			}
			cg_loop_end(c, &l3);
			if (skip)
				ci_if_end(c, skip);
		}
		cg_loop_end(c, &l2);
		f = cg_loop_begin(c, &l2, I(a, 0), I(a, Dv));
		{
			LLVMValueRef oi = cg_add(c, cg_mul(c, r, I(a, Dv)), f), dn = fget(a, den);
			LLVMValueRef ok = LLVMBuildAnd(
			    c->b, fcmp(a, LLVMRealOGT, f_add(a, dn, F(a, eps)), F(a, 0)),
			    fcmp(a, LLVMRealOGT, dn, F(a, 0)), "");
			stf(a, o, oi,
			    fsel(a, ok, f_div(a, ldf(a, o, oi), f_add(a, dn, F(a, eps))), F(a, 0)));
		}
		cg_loop_end(c, &l2);
	}
	cg_loop_end(c, &l1);
}

/* SLA: o += ol W^T + b; SLA2: o = alpha o + (1 - alpha) ol, alpha broadcast to [B, H, N, 1] */
static void
emit_combine(Fa *a, LLVMValueRef o, LLVMValueRef ol, LLVMValueRef w, LLVMValueRef bias,
             const IrType *ta, LLVMValueRef al, LLVMValueRef b, LLVMValueRef h, int kind)
{
	Cg *c = a->c;
	int64_t Dv = a->Dv;
	CgLoop lr, lf, le;
	LLVMValueRef r = cg_loop_begin(c, &lr, I(a, 0), I(a, a->N)), f, e;
	if (kind == 1) {
		f = cg_loop_begin(c, &lf, I(a, 0), I(a, Dv));
		{
			LLVMValueRef acc = fv(a, "cacc", 0),
			             oi = cg_add(c, cg_mul(c, r, I(a, Dv)), f);
			if (bias)
				fset(a, acc, ldf(a, bias, f));
			e = cg_loop_begin(c, &le, I(a, 0), I(a, Dv));
			fset(a, acc,
			     f_add(a, fget(a, acc),
			           f_mul(a, ldf(a, ol, cg_add(c, cg_mul(c, r, I(a, Dv)), e)),
			                 ldf(a, w, cg_add(c, cg_mul(c, f, I(a, Dv)), e)))));
			cg_loop_end(c, &le);
			stf(a, o, oi, f_add(a, ldf(a, o, oi), fget(a, acc)));
		}
		cg_loop_end(c, &lf);
	} else {
		/* index of alpha: the trailing dims of [B, H, N, 1] that alpha does not broadcast
		 */
		LLVMValueRef idx[3] = {b, h, r}, ia = I(a, 0), alpha;
		int64_t stride = 1;
		int kk;
		for (kk = (int)ta->rank - 1; kk >= 0; kk--) {
			int pos = 4 - (int)ta->rank + kk;
			if (ta->dim[kk] != 1 && pos < 3)
				ia = cg_add(c, ia, cg_mul(c, idx[pos], I(a, stride)));
			stride *= ta->dim[kk];
		}
		alpha = ldf(a, al, ia);
		f = cg_loop_begin(c, &lf, I(a, 0), I(a, Dv));
		{
			LLVMValueRef oi = cg_add(c, cg_mul(c, r, I(a, Dv)), f);
			stf(a, o, oi,
			    f_add(a, f_mul(a, alpha, ldf(a, o, oi)),
			          f_mul(a, f_sub(a, F(a, 1), alpha), ldf(a, ol, oi))));
		}
		cg_loop_end(c, &lf);
	}
	cg_loop_end(c, &lr);
}

int
ref_is_attention_op(unsigned op)
{
	return op == IR_OP_attention || op == IR_OP_block_mask || op == IR_OP_sparse_attention ||
	       op == IR_OP_linear_attention;
}

void
ref_emit_attention(Cg *c, RefModel *r, LLVMValueRef t, IrNodeId id, const IrNode *n)
{
	const Graph *g = r->g;
	const IrType *tq = &g->tensors[n->in[0]].type, *tk = &g->tensors[n->in[1]].type;
	const IrType *tv = n->nin > 2 ? &g->tensors[n->in[2]].type : tk; /* block_mask: no v */
	int op = n->op, i;
	Fa a;
	CgLoop lbh;
	LLVMValueRef bh, b, h, kh, q, k, v, o, mask;
	double scale;
	memset(&a, 0, sizeof a);
	a.c = c, a.g = g, a.id = id, a.n = n;
	a.B = tq->dim[0], a.H = tq->dim[1], a.N = tq->dim[2], a.D = tq->dim[3], a.M = tk->dim[2];
	a.Dv = tv->dim[3];
	a.blkq = op == IR_OP_attention ? a.N : ir_attr_int(g, id, "blkq");
	a.blkk = op == IR_OP_attention ? a.M : ir_attr_int(g, id, "blkk");
	a.nq = (a.N + a.blkq - 1) / a.blkq, a.nk = (a.M + a.blkk - 1) / a.blkk;
	{
		const IrAttr *sa = op == IR_OP_attention || op == IR_OP_sparse_attention
		                       ? ir_attr(g, id, "scale")
		                       : NULL;
		scale = sa && sa->set ? sa->f : 1.0 / sqrt((double)a.D);
	}
	{
		size_t sz[S_COUNT] = {0};
		int64_t D = a.D, Dv = a.Dv, nk = a.nk;
		sz[S_KMEAN] = sz[S_VEC] = sz[S_ROW] = sz[S_PHQ] = sz[S_PHK] = (size_t)D;
		sz[S_POOLQ] = (size_t)(a.nq * D), sz[S_POOLK] = (size_t)(nk * D);
		sz[S_SIMQ] = (size_t)a.nq, sz[S_SIMK] = sz[S_P] = sz[S_TAKEN] = (size_t)nk;
		sz[S_MASK] = (size_t)(a.nq * nk), sz[S_S] = (size_t)a.blkk;
		sz[S_ACC] = (size_t)(Dv > nk ? Dv : nk), sz[S_OL] = (size_t)(a.N * Dv);
		sz[S_SS] = (size_t)(nk * D * Dv), sz[S_Z] = (size_t)(nk * D);
		for (i = 0; i < S_COUNT; i++)
			a.s[i] = cg_ld(c, c->pf32, t, cg_i64(c, ref_own_buf(r, sz[i])));
	}
	bh = cg_loop_begin(c, &lbh, cg_i64(c, 0), cg_i64(c, a.B * a.H));
	b = LLVMBuildSDiv(c->b, bh, cg_i64(c, a.H), "");
	h = LLVMBuildSRem(c->b, bh, cg_i64(c, a.H), "");
	kh = cg_add(c, cg_mul(c, b, cg_i64(c, tk->dim[1])),
	            LLVMBuildSRem(c->b, h, cg_i64(c, tk->dim[1]), ""));
	q = at(&a, cg_ld(c, c->pf32, t, cg_i64(c, n->in[0])), cg_mul(c, bh, cg_i64(c, a.N * a.D)));
	k = at(&a, cg_ld(c, c->pf32, t, cg_i64(c, n->in[1])), cg_mul(c, kh, cg_i64(c, a.M * a.D)));
	v = n->nin > 2 ? at(&a, cg_ld(c, c->pf32, t, cg_i64(c, n->in[2])),
	                    cg_mul(c, kh, cg_i64(c, a.M * a.Dv)))
	               : NULL;
	o = cg_ld(c, c->pf32, t, cg_i64(c, n->out[0]));
	mask = a.s[S_MASK];
	if (op == IR_OP_attention) {
		emit_sparse(&a, q, k, v, NULL, scale, (int)ir_attr_int(g, id, "causal"), INFINITY,
		            at(&a, o, cg_mul(c, bh, cg_i64(c, a.N * a.Dv))));
	} else if (op == IR_OP_block_mask) {
		emit_mask(&a, q, k, at(&a, o, cg_mul(c, bh, cg_i64(c, a.nq * a.nk))));
	} else if (op == IR_OP_linear_attention) {
		LLVMValueRef mk = NULL;
		if (n->nin > 3 && n->in[3] != IR_NONE)
			mk = at(&a, cg_ld(c, c->pf32, t, cg_i64(c, n->in[3])),
			        cg_mul(c, bh, cg_i64(c, a.nq * a.nk)));
		emit_linear(&a, q, k, v, mk, (int)ir_attr_int(g, id, "feature_map"),
		            ir_attr_float(g, id, "eps"),
		            at(&a, o, cg_mul(c, bh, cg_i64(c, a.N * a.Dv))));
	} else {
		int combine = (int)ir_attr_int(g, id, "combine");
		LLVMValueRef oh = at(&a, o, cg_mul(c, bh, cg_i64(c, a.N * a.Dv)));
		emit_mask(&a, q, k, mask);
		emit_sparse(&a, q, k, v, mask, scale, (int)ir_attr_int(g, id, "causal"),
		            ir_attr_float(g, id, "pv_threshold"), oh);
		if (combine) {
			LLVMValueRef w = cg_ld(c, c->pf32, t, cg_i64(c, n->in[3])), bias = NULL;
			emit_linear(&a, q, k, v, ir_attr_int(g, id, "region") == 1 ? mask : NULL,
			            (int)ir_attr_int(g, id, "feature_map"),
			            ir_attr_float(g, id, "eps"), a.s[S_OL]);
			if (combine == 1 && n->nin > 4 && n->in[4] != IR_NONE)
				bias = cg_ld(c, c->pf32, t, cg_i64(c, n->in[4]));
			emit_combine(&a, oh, a.s[S_OL], w, bias, &g->tensors[n->in[3]].type, w, b,
			             h, combine);
		}
	}
	cg_loop_end(c, &lbh);
}
