/* quant.c: the integer lowering of a compiled model (CcModel) to LLVM IR, written from the
 * definitions in docs/compiler.md and docs/isa.md:
 *
 *   drive    linear: the input integers; KAN: [SiLU table (or the input) | the SBU segments:
 *            dx = x - t0, m = dx >> sh, u = dx & (2^sh - 1), rows m-k..m from the basis table]
 *   blocks   per crossbar block, exact i64 dot products when the ADC is lossless, else the
 *            bit-level datapath: offset-binary weight slices x bit-serial input digits (sign
 *            cycle first), each partial sum through the ADC (round, clip), shift-and-add, minus
 *            the offset term
 *   sums     i32 saturating, in the order the program adds them: a core's blocks of one column
 *            block in row order (the first one stores), then the cores' partial sums in core
 *            order (leader first) into the totals
 *   epilogue bias (saturating), requantisation sat(round(acc x M_o >> S)) rounding half away
 *            from zero, ReLU or the SiLU table
 *
 * The generated function is `void kolmo_ref_quant(const i32 *in, i32 *out, i8 **p)`; p holds the
 * model's tables and weights (6 per layer) and 6 scratch vectors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccint.h"
#include "refint.h"

enum { P_WQ, P_MULT, P_BQ, P_BASE, P_ACT, P_BASIS, P_PER_LAYER };
enum { S_X, S_Y, S_DRIVE, S_DOT, S_TOTAL, S_PART, S_COUNT };

typedef struct Qcg {
	Cg *c;
	const CcModel *m;
	LLVMValueRef exact, adc; /* block dot-product helpers */
	LLVMTypeRef exact_ty, adc_ty;
	LLVMValueRef p;          /* the parameter array */
	LLVMValueRef s[S_COUNT]; /* scratch pointers */
} Qcg;

/* void bdot_exact(i32 *wq, i32 *drive, i64 *out, i64 r0, i64 rows, i64 c0, i64 cols, i64 ld):
 * out[j] = sum_r wq[(r0+r)*ld + c0+j] * drive[r0+r]. */
static void
emit_exact(Qcg *q)
{
	Cg *c = q->c;
	LLVMTypeRef pt[8] = {c->p32, c->p32, c->p64, c->i64, c->i64, c->i64, c->i64, c->i64};
	LLVMValueRef wq, dr, out, r0, rows, c0, cols, ld, acc, j, r, row;
	CgLoop lj, lr;
	q->exact = cg_func(c, "bdot_exact", c->vd, pt, 8, 1);
	q->exact_ty = LLVMFunctionType(c->vd, pt, 8, 0);
	wq = LLVMGetParam(c->fn, 0), dr = LLVMGetParam(c->fn, 1), out = LLVMGetParam(c->fn, 2);
	r0 = LLVMGetParam(c->fn, 3), rows = LLVMGetParam(c->fn, 4), c0 = LLVMGetParam(c->fn, 5);
	cols = LLVMGetParam(c->fn, 6), ld = LLVMGetParam(c->fn, 7);
	acc = cg_var(c, c->i64, "acc");
	j = cg_loop_begin(c, &lj, cg_i64(q->c, 0), cols);
	LLVMBuildStore(c->b, cg_i64(q->c, 0), acc);
	r = cg_loop_begin(c, &lr, cg_i64(q->c, 0), rows);
	row = cg_add(c, r0, r);
	LLVMBuildStore(
	    c->b,
	    cg_add(c, cg_load(c, c->i64, acc),
	           cg_mul(c, ci_ld32(q->c, wq, cg_add(c, cg_mul(c, row, ld), cg_add(c, c0, j))),
	                  ci_ld32(q->c, dr, row))),
	    acc);
	cg_loop_end(c, &lr);
	cg_st(c, c->i64, out, j, cg_load(c, c->i64, acc));
	cg_loop_end(c, &lj);
	LLVMBuildRetVoid(c->b);
}

/* void bdot_adc(..., i64 sh, i64 top): the bit-level MVM of docs/isa.md. Each (input cycle,
 * weight slice, column) partial sum P becomes min((P + 2^(sh-1)) >> sh, top) << sh. */
static void
emit_adc(Qcg *q)
{
	Cg *c = q->c;
	const HwArch *a = q->m->arch;
	int64_t n = a->mvmu.input_bits, dbits = a->mvmu.dac_bits, cb = a->mvmu.cell_bits;
	int64_t wb = a->mvmu.weight_bits, S = (wb + cb - 1) / cb;
	int64_t cycles = n <= 1 ? 1 : 1 + (n - 1 + dbits - 1) / dbits,
	        woff = (int64_t)1 << (wb - 1);
	LLVMTypeRef pt[10] = {c->p32, c->p32, c->p64, c->i64, c->i64,
	                      c->i64, c->i64, c->i64, c->i64, c->i64};
	LLVMValueRef wq, dr, out, r0, rows, c0, cols, ld, sh, top;
	LLVMValueRef acc, ps, xsum, j, r, cyc, sl, row, x, w, digit, cell, qv, lo, xsh, nbits, wt;
	CgLoop lj, lr, lc, ls;
	q->adc = cg_func(c, "bdot_adc", c->vd, pt, 10, 1);
	q->adc_ty = LLVMFunctionType(c->vd, pt, 10, 0);
	wq = LLVMGetParam(c->fn, 0), dr = LLVMGetParam(c->fn, 1), out = LLVMGetParam(c->fn, 2);
	r0 = LLVMGetParam(c->fn, 3), rows = LLVMGetParam(c->fn, 4), c0 = LLVMGetParam(c->fn, 5);
	cols = LLVMGetParam(c->fn, 6), ld = LLVMGetParam(c->fn, 7), sh = LLVMGetParam(c->fn, 8);
	top = LLVMGetParam(c->fn, 9);
	acc = cg_var(c, c->i64, "acc");
	ps = cg_var(c, c->i64, "ps");
	xsum = cg_var(c, c->i64, "xsum");
	/* the offset term: sum of the (active) inputs */
	LLVMBuildStore(c->b, cg_i64(q->c, 0), xsum);
	r = cg_loop_begin(c, &lr, cg_i64(q->c, 0), rows);
	LLVMBuildStore(
	    c->b, cg_add(c, cg_load(c, c->i64, xsum), ci_ld32(q->c, dr, cg_add(c, r0, r))), xsum);
	cg_loop_end(c, &lr);

	j = cg_loop_begin(c, &lj, cg_i64(q->c, 0), cols);
	LLVMBuildStore(c->b, cg_i64(q->c, 0), acc);
	cyc = cg_loop_begin(c, &lc, cg_i64(q->c, 0), cg_i64(q->c, cycles));
	{
		/* cycle 0: the sign bit, weight -2^(n-1); cycle t >= 1: the d-bit digit of bits
		 * lo = (t-1)d .. (the low n-1 bits), weight 2^lo */
		LLVMValueRef sign = ci_icmp(q->c, LLVMIntEQ, cyc, cg_i64(q->c, 0)), rest;
		lo = cg_mul(c, ci_sub(q->c, cyc, cg_i64(q->c, 1)), cg_i64(q->c, dbits));
		rest = ci_sub(q->c, cg_i64(q->c, n - 1), lo);
		xsh = ci_sel(q->c, sign, cg_i64(q->c, n - 1), lo);
		nbits = ci_sel(q->c, sign, cg_i64(q->c, 1),
		               ci_sel(q->c, ci_icmp(q->c, LLVMIntSLT, rest, cg_i64(q->c, dbits)),
		                      rest, cg_i64(q->c, dbits)));
		wt = ci_sel(q->c, sign, cg_i64(q->c, -((int64_t)1 << (n - 1))),
		            LLVMBuildShl(c->b, cg_i64(q->c, 1),
		                         ci_sel(q->c, sign, cg_i64(q->c, 0), lo), ""));
	}
	sl = cg_loop_begin(c, &ls, cg_i64(q->c, 0), cg_i64(q->c, S));
	LLVMBuildStore(c->b, cg_i64(q->c, 0), ps);
	r = cg_loop_begin(c, &lr, cg_i64(q->c, 0), rows);
	row = cg_add(c, r0, r);
	x = ci_ld32(q->c, dr, row);
	w = ci_ld32(q->c, wq, cg_add(c, cg_mul(c, row, ld), cg_add(c, c0, j)));
	digit = LLVMBuildAnd(
	    c->b, LLVMBuildLShr(c->b, x, xsh, ""),
	    ci_sub(q->c, LLVMBuildShl(c->b, cg_i64(q->c, 1), nbits, ""), cg_i64(q->c, 1)), "");
	cell = LLVMBuildAnd(c->b,
	                    LLVMBuildLShr(c->b, cg_add(c, w, cg_i64(q->c, woff)),
	                                  cg_mul(c, sl, cg_i64(q->c, cb)), ""),
	                    cg_i64(q->c, ((int64_t)1 << cb) - 1), "");
	LLVMBuildStore(c->b, cg_add(c, cg_load(c, c->i64, ps), cg_mul(c, digit, cell)), ps);
	cg_loop_end(c, &lr);
	/* the ADC: round at bit sh, clip to top, scale back */
	qv = LLVMBuildAShr(c->b,
	                   cg_add(c, cg_load(c, c->i64, ps),
	                          LLVMBuildAShr(c->b, LLVMBuildShl(c->b, cg_i64(q->c, 1), sh, ""),
	                                        cg_i64(q->c, 1), "")),
	                   sh, "");
	qv = ci_sel(q->c, ci_icmp(q->c, LLVMIntSGT, qv, top), top, qv);
	qv = LLVMBuildShl(c->b, qv, sh, "");
	qv = cg_mul(
	    c,
	    cg_mul(c, qv, LLVMBuildShl(c->b, cg_i64(q->c, 1), cg_mul(c, sl, cg_i64(q->c, cb)), "")),
	    wt);
	LLVMBuildStore(c->b, cg_add(c, cg_load(c, c->i64, acc), qv), acc);
	cg_loop_end(c, &ls);
	cg_loop_end(c, &lc);
	cg_st(c, c->i64, out, j,
	      ci_sub(q->c, cg_load(c, c->i64, acc),
	             cg_mul(c, cg_i64(q->c, woff), cg_load(c, c->i64, xsum))));
	cg_loop_end(c, &lj);
	LLVMBuildRetVoid(c->b);
}

static LLVMValueRef
lparam(Qcg *q, uint32_t layer, int which, LLVMTypeRef ty)
{
	return cg_param(q->c, q->p, layer * P_PER_LAYER + (uint32_t)which, ty);
}

/* drive = drive(x) of layer l */
static void
emit_drive(Qcg *q, uint32_t li, const CcLayer *l)
{
	Cg *c = q->c;
	LLVMValueRef x = q->s[S_X], dr = q->s[S_DRIVE], i, xi, r, seg;
	CgLoop lp, lr;
	i = cg_loop_begin(c, &lp, cg_i64(q->c, 0), cg_i64(q->c, l->in_len));
	xi = ci_ld32(q->c, x, i);
	if (l->kind == CC_LINEAR) {
		ci_st32(q->c, dr, i, xi);
		cg_loop_end(c, &lp);
		return;
	}
	if (l->base_identity)
		ci_st32(q->c, dr, i, xi);
	else
		ci_st32(
		    q->c, dr, i,
		    ci_ld8(q->c, lparam(q, li, P_BASE, c->p8), cg_add(c, xi, cg_i64(q->c, 128))));
	seg = cg_add(c, cg_i64(q->c, l->in_len), cg_mul(c, i, cg_i64(q->c, l->nb)));
	r = cg_loop_begin(c, &lr, cg_i64(q->c, 0), cg_i64(q->c, l->nb));
	ci_st32(q->c, dr, cg_add(c, seg, r), cg_i64(q->c, 0));
	cg_loop_end(c, &lr);
	{
		LLVMValueRef dx = ci_sub(q->c, xi, cg_i64(q->c, l->sbu_t0)), mm, u, basis, row;
		LLVMBasicBlockRef after = ci_if_begin(
		                      q->c, ci_icmp(q->c, LLVMIntSGE, dx, cg_i64(q->c, 0))),
		                  inner;
		uint32_t rr;
		mm = LLVMBuildAShr(c->b, dx, cg_i64(q->c, l->sbu_sh), "");
		u = LLVMBuildAnd(c->b, dx, cg_i64(q->c, ((int64_t)1 << l->sbu_sh) - 1), "");
		basis = lparam(q, li, P_BASIS, c->p8);
		for (rr = 0; rr <= l->k; rr++) {
			row = cg_add(c, mm, cg_i64(q->c, (int64_t)rr - (int64_t)l->k));
			inner = ci_if_begin(
			    q->c,
			    LLVMBuildAnd(c->b, ci_icmp(q->c, LLVMIntSGE, row, cg_i64(q->c, 0)),
			                 ci_icmp(q->c, LLVMIntSLT, row, cg_i64(q->c, l->nb)), ""));
			ci_st32(q->c, dr, cg_add(c, seg, row),
			        ci_ld8(q->c, basis,
			               cg_add(c, cg_mul(c, u, cg_i64(q->c, l->k + 1)),
			                      cg_i64(q->c, rr))));
			ci_if_end(q->c, inner);
		}
		ci_if_end(q->c, after);
	}
	cg_loop_end(c, &lp);
}

/* Bits needed for the largest partial sum of a block with `rows` rows. */
static int64_t
full_bits(const HwArch *a, uint32_t rows)
{
	uint64_t mx = (uint64_t)rows * (((uint64_t)1 << a->mvmu.dac_bits) - 1) *
	              (((uint64_t)1 << a->mvmu.cell_bits) - 1);
	int64_t L = 0;
	while (L < 63 && ((uint64_t)1 << L) <= mx)
		L++;
	return L;
}

static void
emit_blocks(Qcg *q, uint32_t li, const CcLayer *l)
{
	Cg *c = q->c;
	const CcModel *m = q->m;
	LLVMValueRef wq = lparam(q, li, P_WQ, c->p32), total = q->s[S_TOTAL], part = q->s[S_PART];
	LLVMValueRef dot = q->s[S_DOT], j, o, v, pidx;
	uint32_t core, b;
	CgLoop lp;
	o = cg_loop_begin(c, &lp, cg_i64(q->c, 0), cg_i64(q->c, l->out_len));
	ci_st32(q->c, total, o, cg_i64(q->c, 0));
	cg_loop_end(c, &lp);
	for (core = 0; core < m->ncores; core++) {
		const CcShare *sh = &m->shares[li * m->ncores + core];
		for (b = sh->first; sh->n && b < sh->first + sh->n; b++) {
			const CcBlock *bl = &m->blocks[b];
			int first = b == sh->first || m->blocks[b - 1].c0 != bl->c0;
			LLVMValueRef args[10] = {
			    wq,
			    q->s[S_DRIVE],
			    LLVMBuildBitCast(c->b, dot, c->p64, ""),
			    cg_i64(q->c, bl->r0),
			    cg_i64(q->c, bl->rows),
			    cg_i64(q->c, bl->c0),
			    cg_i64(q->c, bl->cols),
			    cg_i64(q->c, l->out_len),
			    NULL,
			    NULL,
			};
			if (m->lossless) {
				LLVMBuildCall2(c->b, q->exact_ty, q->exact, args, 8, "");
			} else {
				int64_t L = full_bits(m->arch, bl->rows),
				        adc = m->arch->mvmu.adc_bits;
				args[8] = cg_i64(q->c, L > adc ? L - adc : 0);
				args[9] = cg_i64(q->c, ((int64_t)1 << (L > adc ? adc : L)) - 1);
				LLVMBuildCall2(c->b, q->adc_ty, q->adc, args, 10, "");
			}
			/* the block's i32 results into the core's partial sums */
			j = cg_loop_begin(c, &lp, cg_i64(q->c, 0), cg_i64(q->c, bl->cols));
			v = ci_clamp(q->c, cg_ld(c, c->i64, dot, j), INT32_MIN, INT32_MAX);
			pidx = cg_add(c, j, cg_i64(q->c, (int64_t)bl->c0 - (int64_t)sh->c_lo));
			if (!first)
				v = ci_clamp(q->c, cg_add(c, ci_ld32(q->c, part, pidx), v),
				             INT32_MIN, INT32_MAX);
			ci_st32(q->c, part, pidx, v);
			cg_loop_end(c, &lp);
		}
		if (!sh->n)
			continue;
		/* the core's partial sums into the totals (the leader's vadd.i32) */
		o = cg_loop_begin(c, &lp, cg_i64(q->c, sh->c_lo), cg_i64(q->c, sh->c_hi));
		v = cg_add(c, ci_ld32(q->c, total, o),
		           ci_ld32(q->c, part, ci_sub(q->c, o, cg_i64(q->c, sh->c_lo))));
		ci_st32(q->c, total, o, ci_clamp(q->c, v, INT32_MIN, INT32_MAX));
		cg_loop_end(c, &lp);
	}
}

static void
emit_epilogue(Qcg *q, uint32_t li, const CcLayer *l)
{
	Cg *c = q->c;
	unsigned prety = l->act == CC_ACT_SILU ? TY_I8 : l->yty;
	LLVMValueRef o, v, mult = lparam(q, li, P_MULT, c->p32);
	CgLoop lp;
	o = cg_loop_begin(c, &lp, cg_i64(q->c, 0), cg_i64(q->c, l->out_len));
	v = ci_ld32(q->c, q->s[S_TOTAL], o);
	if (l->bq)
		v = ci_clamp(q->c, cg_add(c, v, ci_ld32(q->c, lparam(q, li, P_BQ, c->p32), o)),
		             INT32_MIN, INT32_MAX);
	v = ci_sat(q->c, ci_rshift_round(q->c, cg_mul(c, v, ci_ld32(q->c, mult, o)), l->shift),
	           prety);
	if (l->act == CC_ACT_RELU)
		v = ci_sel(q->c, ci_icmp(q->c, LLVMIntSGT, v, cg_i64(q->c, 0)), v, cg_i64(q->c, 0));
	else if (l->act == CC_ACT_SILU)
		v = ci_ld8(q->c, lparam(q, li, P_ACT, c->p8), cg_add(c, v, cg_i64(q->c, 128)));
	ci_st32(q->c, q->s[S_Y], o, v);
	cg_loop_end(c, &lp);
	/* the output becomes the next layer's input */
	o = cg_loop_begin(c, &lp, cg_i64(q->c, 0), cg_i64(q->c, l->out_len));
	ci_st32(q->c, q->s[S_X], o, ci_ld32(q->c, q->s[S_Y], o));
	cg_loop_end(c, &lp);
}

void *
ref_qown(RefModel *r, size_t bytes)
{
	void *p = xcalloc(bytes ? bytes : 1, 1);
	r->qowned = xrealloc(r->qowned, sizeof(void *) * (r->nqowned + 1));
	r->qowned[r->nqowned++] = p;
	return p;
}

static void
qio(const CcModel *m, IrTensorId t, const char *name, unsigned ty, double scale, RefIo *io)
{
	const IrType *it = &m->g->tensors[t].type;
	uint32_t k;
	memset(io, 0, sizeof *io);
	io->name = name;
	io->rank = it->rank;
	for (k = 0; k < it->rank; k++)
		io->dims[k] = it->dim[k];
	io->elems = (uint64_t)ir_type_elems(it);
	io->qtype = ty;
	io->scale = scale;
}

int
ref_lower_quant(Cg *c, RefModel *r, Diag *d)
{
	const CcModel *m = r->m;
	Qcg q;
	uint32_t i, maxv = m->in_len, maxrows = 0;
	LLVMTypeRef pt[3];
	if (m->attn)
		return ref_lower_attn_quant(c, r, d);
	memset(&q, 0, sizeof q);
	q.c = c;
	q.m = m;

	/* I/O */
	r->nin = r->nout = 1;
	r->in = xcalloc(1, sizeof(RefIo));
	r->out = xcalloc(1, sizeof(RefIo));
	for (i = 0; i < m->g->ntensors; i++)
		if (m->g->tensors[i].kind == IR_INPUT)
			qio(m, i, m->in_name, m->aty, m->in_scale, r->in);
	qio(m, m->g->outputs[0].t, m->out_name, m->layers[m->nlayers - 1].yty, m->out_scale,
	    r->out);

	/* parameters: per layer tables, then scratch */
	r->nparams = m->nlayers * P_PER_LAYER + S_COUNT;
	r->params = xcalloc(r->nparams, sizeof(void *));
	for (i = 0; i < m->nlayers; i++) {
		const CcLayer *l = &m->layers[i];
		void **p = &r->params[i * P_PER_LAYER];
		p[P_WQ] = l->wq;
		p[P_MULT] = l->mult;
		p[P_BQ] = l->bq;
		p[P_BASE] = (void *)(uintptr_t)l->base_lut;
		p[P_ACT] = (void *)(uintptr_t)l->act_lut;
		p[P_BASIS] = l->basis_lut;
		if (l->out_len > maxv)
			maxv = l->out_len;
		if (l->rows > maxrows)
			maxrows = l->rows;
	}
	{
		void **s = &r->params[m->nlayers * P_PER_LAYER];
		s[S_X] = ref_qown(r, sizeof(int32_t) * maxv);
		s[S_Y] = ref_qown(r, sizeof(int32_t) * maxv);
		s[S_DRIVE] = ref_qown(r, sizeof(int32_t) * maxrows);
		s[S_DOT] = ref_qown(r, sizeof(int64_t) * maxv);
		s[S_TOTAL] = ref_qown(r, sizeof(int32_t) * maxv);
		s[S_PART] = ref_qown(r, sizeof(int32_t) * maxv);
	}

	emit_exact(&q);
	emit_adc(&q);
	pt[0] = c->p32, pt[1] = c->p32, pt[2] = c->pp8;
	cg_func(c, "kolmo_ref_quant", c->vd, pt, 3, 0);
	q.p = LLVMGetParam(c->fn, 2);
	for (i = 0; i < S_COUNT; i++)
		q.s[i] =
		    cg_param(c, q.p, m->nlayers * P_PER_LAYER + i, i == S_DOT ? c->p64 : c->p32);
	{
		LLVMValueRef e;
		CgLoop lp;
		e = cg_loop_begin(c, &lp, cg_i64(q.c, 0), cg_i64(q.c, m->in_len));
		ci_st32(q.c, q.s[S_X], e, ci_ld32(q.c, LLVMGetParam(c->fn, 0), e));
		cg_loop_end(c, &lp);
	}
	for (i = 0; i < m->nlayers; i++) {
		const CcLayer *l = &m->layers[i];
		emit_drive(&q, i, l);
		emit_blocks(&q, i, l);
		emit_epilogue(&q, i, l);
	}
	{
		LLVMValueRef e;
		CgLoop lp;
		e = cg_loop_begin(c, &lp, cg_i64(q.c, 0), cg_i64(q.c, m->out_len));
		ci_st32(q.c, LLVMGetParam(c->fn, 1), e, ci_ld32(q.c, q.s[S_X], e));
		cg_loop_end(c, &lp);
	}
	LLVMBuildRetVoid(c->b);
	return 0;
}

void
ref_run_quant(RefModel *r, const int32_t *in, int32_t *out)
{
	KASSERT(r->quantized);
	r->qfn(in, out, r->params);
}
