/* float.c: the float32 lowering of a graph to LLVM IR. Every tensor is a host buffer; the
 * generated function `void kolmo_ref_float(float **t)` runs the nodes in dependency order, one
 * loop nest per node, reading and writing t[tensor handle] (plus extra buffers: knot tables and
 * scratch). KAN bases follow reference/kan.md section 3 exactly: order-0 indicators on half-open
 * intervals, then the Cox-de Boor recursion with 0/0 := 0; no clamping. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "refint.h"

static int node_error(const Graph *g, const IrNode *n, Diag *d, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
node_error(const Graph *g, const IrNode *n, Diag *d, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n->loc.line)
		return diag_at(d, g->file, (int)n->loc.line, (int)n->loc.col,
		               diag_src_line(g->src, (int)n->loc.line), "%s", msg);
	return diag_err(d, g->file, "%s", msg);
}

uint32_t
ref_own_buf(RefModel *r, size_t n)
{
	float *p = xcalloc(n ? n : 1, sizeof(float));
	r->owned = xrealloc(r->owned, sizeof(float *) * (r->nowned + 1));
	r->owned[r->nowned++] = p;
	r->bufs = xrealloc(r->bufs, sizeof(float *) * (r->nbufs + 1));
	r->bufs[r->nbufs] = p;
	return r->nbufs++;
}

static LLVMValueRef
buf(Cg *c, LLVMValueRef t, uint32_t i)
{
	return cg_ld(c, c->pf32, t, cg_i64(c, i));
}

static LLVMValueRef
fadd(Cg *c, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildFAdd(c->b, a, b, "");
}

static LLVMValueRef
fmul(Cg *c, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildFMul(c->b, a, b, "");
}

static LLVMValueRef
expf_fn(Cg *c, LLVMTypeRef *ty)
{
	LLVMValueRef f = LLVMGetNamedFunction(c->mod, "expf");
	*ty = LLVMFunctionType(c->f32, &c->f32, 1, 0);
	if (!f)
		f = LLVMAddFunction(c->mod, "expf", *ty);
	return f;
}

/* silu(x) = x / (1 + exp(-x)) */
static LLVMValueRef
silu(Cg *c, LLVMValueRef x)
{
	LLVMTypeRef ft;
	LLVMValueRef f = expf_fn(c, &ft), nx = LLVMBuildFNeg(c->b, x, ""), e;
	e = LLVMBuildCall2(c->b, ft, f, &nx, 1, "");
	return LLVMBuildFDiv(c->b, x, fadd(c, cg_f32(c, 1.0), e), "");
}

static LLVMValueRef
fexp(Cg *c, LLVMValueRef x)
{
	LLVMTypeRef ft;
	LLVMValueRef f = expf_fn(c, &ft);
	return LLVMBuildCall2(c->b, ft, f, &x, 1, "");
}

static LLVMValueRef
relu(Cg *c, LLVMValueRef x)
{
	LLVMValueRef pos = LLVMBuildFCmp(c->b, LLVMRealOGT, x, cg_f32(c, 0), "");
	return LLVMBuildSelect(c->b, pos, x, cg_f32(c, 0), "");
}

/* B[0 .. nk-k-2] = the order-k B-spline bases at x over knots kt[0 .. nk-1] (B has nk-1 slots). */
static void
emit_basis(Cg *c, LLVMValueRef kt, LLVMValueRef x, LLVMValueRef B, uint32_t nk, uint32_t k)
{
	CgLoop l;
	LLVMValueRef j, one = cg_f32(c, 1), zero = cg_f32(c, 0);
	uint32_t p;
	j = cg_loop_begin(c, &l, cg_i64(c, 0), cg_i64(c, nk - 1));
	{
		LLVMValueRef t0 = cg_ld(c, c->f32, kt, j);
		LLVMValueRef t1 = cg_ld(c, c->f32, kt, cg_add(c, j, cg_i64(c, 1)));
		LLVMValueRef in = LLVMBuildAnd(c->b, LLVMBuildFCmp(c->b, LLVMRealOLE, t0, x, ""),
		                               LLVMBuildFCmp(c->b, LLVMRealOLT, x, t1, ""), "");
		cg_st(c, c->f32, B, j, LLVMBuildSelect(c->b, in, one, zero, ""));
	}
	cg_loop_end(c, &l);
	for (p = 1; p <= k; p++) {
		j = cg_loop_begin(c, &l, cg_i64(c, 0), cg_i64(c, nk - 1 - p));
		{
			LLVMValueRef j1 = cg_add(c, j, cg_i64(c, 1));
			LLVMValueRef tj = cg_ld(c, c->f32, kt, j), tj1 = cg_ld(c, c->f32, kt, j1);
			LLVMValueRef tjp = cg_ld(c, c->f32, kt, cg_add(c, j, cg_i64(c, p)));
			LLVMValueRef tjp1 = cg_ld(c, c->f32, kt, cg_add(c, j, cg_i64(c, p + 1)));
			LLVMValueRef da = LLVMBuildFSub(c->b, tjp, tj, "");
			LLVMValueRef db = LLVMBuildFSub(c->b, tjp1, tj1, "");
			LLVMValueRef a, bb;
			a = fmul(c, LLVMBuildFDiv(c->b, LLVMBuildFSub(c->b, x, tj, ""), da, ""),
			         cg_ld(c, c->f32, B, j));
			bb = fmul(c, LLVMBuildFDiv(c->b, LLVMBuildFSub(c->b, tjp1, x, ""), db, ""),
			          cg_ld(c, c->f32, B, j1));
			/* 0/0 := 0: a term over a zero-length knot span vanishes */
			a = LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealONE, da, zero, ""), a,
			                    zero, "");
			bb = LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealONE, db, zero, ""),
			                     bb, zero, "");
			cg_st(c, c->f32, B, j, fadd(c, a, bb));
		}
		cg_loop_end(c, &l);
	}
}

static int64_t
elems(const Graph *g, IrTensorId t)
{
	return ir_type_elems(&g->tensors[t].type);
}

static void
emit_linear(Cg *c, RefModel *r, LLVMValueRef t, const IrNode *n)
{
	const Graph *g = r->g;
	int64_t I = g->tensors[n->in[1]].type.dim[1], O = g->tensors[n->in[1]].type.dim[0];
	int64_t N = elems(g, n->in[0]) / I;
	int bias = n->nin > 2 && n->in[2] != IR_NONE;
	LLVMValueRef x = buf(c, t, n->in[0]), w = buf(c, t, n->in[1]), y = buf(c, t, n->out[0]);
	LLVMValueRef b = bias ? buf(c, t, n->in[2]) : NULL, acc = cg_var(c, c->f32, "acc");
	LLVMValueRef vn, vo, vi, v;
	CgLoop ln, lo, li;
	vn = cg_loop_begin(c, &ln, cg_i64(c, 0), cg_i64(c, N));
	vo = cg_loop_begin(c, &lo, cg_i64(c, 0), cg_i64(c, O));
	LLVMBuildStore(c->b, cg_f32(c, 0), acc);
	vi = cg_loop_begin(c, &li, cg_i64(c, 0), cg_i64(c, I));
	v = fmul(c, cg_ld(c, c->f32, x, cg_add(c, cg_mul(c, vn, cg_i64(c, I)), vi)),
	         cg_ld(c, c->f32, w, cg_add(c, cg_mul(c, vo, cg_i64(c, I)), vi)));
	LLVMBuildStore(c->b, fadd(c, cg_load(c, c->f32, acc), v), acc);
	cg_loop_end(c, &li);
	v = cg_load(c, c->f32, acc);
	if (b)
		v = fadd(c, v, cg_ld(c, c->f32, b, vo));
	cg_st(c, c->f32, y, cg_add(c, cg_mul(c, vn, cg_i64(c, O)), vo), v);
	cg_loop_end(c, &lo);
	cg_loop_end(c, &ln);
}

static void
emit_kan(Cg *c, RefModel *r, LLVMValueRef t, IrNodeId id, const IrNode *n)
{
	Graph *g = r->g;
	const IrAttr *range = ir_attr(g, id, "grid_range"), *kattr = ir_attr(g, id, "knots");
	uint32_t G = (uint32_t)ir_attr_int(g, id, "grid_size");
	uint32_t k = (uint32_t)ir_attr_int(g, id, "spline_order");
	uint32_t nb = G + k, nk = G + 2 * k + 1, kbuf, dbuf, i, m;
	int ident = ir_attr_int(g, id, "base_activation") == 1;
	int64_t I = g->tensors[n->in[1]].type.dim[1], O = g->tensors[n->in[1]].type.dim[0];
	int64_t N = elems(g, n->in[0]) / I;
	int scaled = n->nin > 3 && n->in[3] != IR_NONE,
	    per_input = n->nin > 4 && n->in[4] != IR_NONE;
	LLVMValueRef x = buf(c, t, n->in[0]), base = buf(c, t, n->in[1]);
	LLVMValueRef spl = buf(c, t, n->in[2]), y = buf(c, t, n->out[0]);
	LLVMValueRef sc = scaled ? buf(c, t, n->in[3]) : NULL, kt, drive;
	LLVMValueRef B = cg_array(c, c->f32, nk - 1, "basis");
	LLVMValueRef accb = cg_var(c, c->f32, "accb"), accs = cg_var(c, c->f32, "accs");
	LLVMValueRef vn, vi, vo, vc, xv, v;
	CgLoop ln, li, lo, lc;

	/* Knots: the operand [I, nk], else a table built here (explicit attribute or uniform). */
	if (per_input) {
		kt = buf(c, t, n->in[4]);
	} else {
		float *kp;
		double glo = range->floats[0], h = (range->floats[1] - glo) / G;
		kbuf = ref_own_buf(r, (size_t)I * nk);
		kp = r->bufs[kbuf];
		for (i = 0; i < I; i++)
			for (m = 0; m < nk; m++)
				kp[(size_t)i * nk + m] =
				    (float)(kattr->set ? kattr->floats[m]
				                       : glo + ((double)m - (double)k) * h);
		kt = buf(c, t, kbuf);
	}
	dbuf = ref_own_buf(r, (size_t)I * (1 + nb));
	drive = buf(c, t, dbuf);

	vn = cg_loop_begin(c, &ln, cg_i64(c, 0), cg_i64(c, N));
	/* drive = [ base(x_i) | B_0..B_{nb-1}(x_i) for each i ] */
	vi = cg_loop_begin(c, &li, cg_i64(c, 0), cg_i64(c, I));
	xv = cg_ld(c, c->f32, x, cg_add(c, cg_mul(c, vn, cg_i64(c, I)), vi));
	cg_st(c, c->f32, drive, vi, ident ? xv : silu(c, xv));
	emit_basis(c, cg_at(c, c->f32, kt, cg_mul(c, vi, cg_i64(c, nk))), xv, B, nk, k);
	vc = cg_loop_begin(c, &lc, cg_i64(c, 0), cg_i64(c, nb));
	cg_st(c, c->f32, drive,
	      cg_add(c, cg_i64(c, I), cg_add(c, cg_mul(c, vi, cg_i64(c, nb)), vc)),
	      cg_ld(c, c->f32, B, vc));
	cg_loop_end(c, &lc);
	cg_loop_end(c, &li);
	/* y[o] = sum_i base[o,i] act(x_i) + sum_i sum_c (spline[o,i,c] scaler[o,i]) B_c(x_i) */
	vo = cg_loop_begin(c, &lo, cg_i64(c, 0), cg_i64(c, O));
	LLVMBuildStore(c->b, cg_f32(c, 0), accb);
	LLVMBuildStore(c->b, cg_f32(c, 0), accs);
	vi = cg_loop_begin(c, &li, cg_i64(c, 0), cg_i64(c, I));
	{
		LLVMValueRef oi = cg_add(c, cg_mul(c, vo, cg_i64(c, I)), vi);
		LLVMValueRef s = sc ? cg_ld(c, c->f32, sc, oi) : NULL;
		v = fmul(c, cg_ld(c, c->f32, base, oi), cg_ld(c, c->f32, drive, vi));
		LLVMBuildStore(c->b, fadd(c, cg_load(c, c->f32, accb), v), accb);
		vc = cg_loop_begin(c, &lc, cg_i64(c, 0), cg_i64(c, nb));
		{
			LLVMValueRef w =
			    cg_ld(c, c->f32, spl, cg_add(c, cg_mul(c, oi, cg_i64(c, nb)), vc));
			LLVMValueRef dv = cg_ld(
			    c, c->f32, drive,
			    cg_add(c, cg_i64(c, I), cg_add(c, cg_mul(c, vi, cg_i64(c, nb)), vc)));
			if (s)
				w = fmul(c, w, s);
			LLVMBuildStore(c->b, fadd(c, cg_load(c, c->f32, accs), fmul(c, w, dv)),
			               accs);
		}
		cg_loop_end(c, &lc);
	}
	cg_loop_end(c, &li);
	cg_st(c, c->f32, y, cg_add(c, cg_mul(c, vn, cg_i64(c, O)), vo),
	      fadd(c, cg_load(c, c->f32, accb), cg_load(c, c->f32, accs)));
	cg_loop_end(c, &lo);
	cg_loop_end(c, &ln);
}

static void
emit_unary(Cg *c, RefModel *r, LLVMValueRef t, const IrNode *n)
{
	LLVMValueRef x = buf(c, t, n->in[0]), y = buf(c, t, n->out[0]), e, v;
	CgLoop l;
	e = cg_loop_begin(c, &l, cg_i64(c, 0), cg_i64(c, elems(r->g, n->out[0])));
	v = cg_ld(c, c->f32, x, e);
	switch (n->op) {
	case IR_OP_relu:
		v = relu(c, v);
		break;
	case IR_OP_silu:
		v = silu(c, v);
		break;
	case IR_OP_exp:
		v = fexp(c, v);
		break;
	case IR_OP_sigmoid: /* 1 / (1 + exp(-x)) */
		v = LLVMBuildFDiv(c->b, cg_f32(c, 1.0),
		                  fadd(c, cg_f32(c, 1.0), fexp(c, LLVMBuildFNeg(c->b, v, ""))), "");
		break;
	case IR_OP_tanh: {
		LLVMTypeRef ft = LLVMFunctionType(c->f32, &c->f32, 1, 0);
		LLVMValueRef f = LLVMGetNamedFunction(c->mod, "tanhf");
		if (!f)
			f = LLVMAddFunction(c->mod, "tanhf", ft);
		v = LLVMBuildCall2(c->b, ft, f, &v, 1, "");
		break;
	}
	default: /* reshape: the same elements */
		break;
	}
	cg_st(c, c->f32, y, e, v);
	cg_loop_end(c, &l);
}

/* The offset into operand `a` (rank ra, dims da) of output element e (rank ro, dims od), numpy
 * broadcasting: axes are aligned on the right and size-1 axes repeat. */
LLVMValueRef
ref_bcast_index(Cg *c, LLVMValueRef e, const int64_t *od, unsigned ro, const int64_t *da,
                unsigned ra)
{
	LLVMValueRef off = cg_i64(c, 0);
	int64_t ostride = 1, astride = 1;
	unsigned k;
	int same = ra == ro;
	for (k = 0; same && k < ro; k++)
		same = od[k] == da[k];
	if (same)
		return e;
	for (k = ro; k-- > 0;) {
		int64_t adim = k >= ro - ra ? da[k - (ro - ra)] : 1;
		if (adim != 1) {
			LLVMValueRef idx =
			    LLVMBuildSRem(c->b, LLVMBuildSDiv(c->b, e, cg_i64(c, ostride), ""),
			                  cg_i64(c, od[k]), "");
			off = cg_add(c, off, cg_mul(c, idx, cg_i64(c, astride)));
		}
		astride *= adim;
		ostride *= od[k];
	}
	return off;
}

static void
emit_binary(Cg *c, RefModel *r, LLVMValueRef t, const IrNode *n)
{
	const Graph *g = r->g;
	const IrType *ta = &g->tensors[n->in[0]].type, *tb = &g->tensors[n->in[1]].type;
	const IrType *to = &g->tensors[n->out[0]].type;
	LLVMValueRef a = buf(c, t, n->in[0]), b = buf(c, t, n->in[1]), y = buf(c, t, n->out[0]);
	LLVMValueRef e, va, vb, v;
	CgLoop l;
	e = cg_loop_begin(c, &l, cg_i64(c, 0), cg_i64(c, elems(g, n->out[0])));
	va = cg_ld(c, c->f32, a, ref_bcast_index(c, e, to->dim, to->rank, ta->dim, ta->rank));
	vb = cg_ld(c, c->f32, b, ref_bcast_index(c, e, to->dim, to->rank, tb->dim, tb->rank));
	switch (n->op) {
	case IR_OP_add:
		v = fadd(c, va, vb);
		break;
	case IR_OP_mul:
		v = fmul(c, va, vb);
		break;
	case IR_OP_sub:
		v = LLVMBuildFSub(c->b, va, vb, "");
		break;
	default: /* div */
		v = LLVMBuildFDiv(c->b, va, vb, "");
		break;
	}
	cg_st(c, c->f32, y, e, v);
	cg_loop_end(c, &l);
}

/* Nodes in an order where every operand is computed first. */
static uint32_t *
topo_order(const Graph *g)
{
	uint32_t *order = xmalloc(sizeof(uint32_t) * (g->nnodes + 1)), n = 0, i, j;
	char *done = xcalloc(g->nnodes + 1, 1);
	int progress = 1;
	while (n < g->nnodes && progress) {
		progress = 0;
		for (i = 0; i < g->nnodes; i++) {
			const IrNode *nd = &g->nodes[i];
			int ready = !done[i];
			for (j = 0; ready && j < nd->nin; j++) {
				IrTensorId tid = nd->in[j];
				if (tid != IR_NONE && g->tensors[tid].producer != IR_NONE &&
				    !done[g->tensors[tid].producer])
					ready = 0;
			}
			if (ready) {
				done[i] = 1;
				order[n++] = i;
				progress = 1;
			}
		}
	}
	free(done);
	KASSERT(n == g->nnodes); /* the verifier rejects cycles */
	return order;
}

static void
io_of(const Graph *g, IrTensorId tid, const char *name, RefIo *io)
{
	const IrType *ty = &g->tensors[tid].type;
	uint32_t k;
	memset(io, 0, sizeof *io);
	io->name = name;
	io->rank = ty->rank;
	for (k = 0; k < ty->rank; k++)
		io->dims[k] = ty->dim[k];
	io->elems = (uint64_t)ir_type_elems(ty);
}

int
ref_lower_float(Cg *c, RefModel *r, Diag *d)
{
	Graph *g = r->g;
	uint32_t i, *order;
	LLVMValueRef t;
	LLVMTypeRef pt;

	if (ir_verify(g, d))
		return -1;
	for (i = 0; i < g->nnodes; i++) {
		const IrNode *n = &g->nodes[i];
		switch (n->op) {
		case IR_OP_linear:
		case IR_OP_kan_linear:
		case IR_OP_relu:
		case IR_OP_silu:
		case IR_OP_exp:
		case IR_OP_sigmoid:
		case IR_OP_tanh:
		case IR_OP_add:
		case IR_OP_mul:
		case IR_OP_sub:
		case IR_OP_div:
		case IR_OP_reshape:
			break;
		default:
			if (ref_tensor_op_ok(n->op) || ref_is_attention_op(n->op))
				break;
			return node_error(
			    g, n, d,
			    "op '%s' is not supported by the LLVM reference yet "
			    "(supported: linear, kan_linear, relu, silu, exp, sigmoid, tanh, add, "
			    "mul, sub, div, reshape, matmul, softmax, layernorm, transpose, "
			    "concat, attention, block_mask, sparse_attention, linear_attention)",
			    ir_ops[n->op].name);
		}
	}
	/* One buffer per tensor: inputs are bound at run time, weights are their data. */
	r->nbufs = g->ntensors;
	r->bufs = xcalloc(g->ntensors + 1, sizeof(float *));
	for (i = 0; i < g->ntensors; i++) {
		const IrTensor *tt = &g->tensors[i];
		if (tt->kind == IR_INPUT) {
			r->in = xrealloc(r->in, sizeof(RefIo) * (r->nin + 1));
			r->in_tid = xrealloc(r->in_tid, sizeof(uint32_t) * (r->nin + 1));
			io_of(g, i, tt->name, &r->in[r->nin]);
			r->in_tid[r->nin++] = i;
		} else if (tt->kind == IR_WEIGHT) {
			const float *w = ir_weight_data(g, i, d);
			if (!w)
				return -1;
			r->bufs[i] = (float *)(uintptr_t)w;
		} else {
			uint32_t b = ref_own_buf(r, (size_t)ir_type_elems(&tt->type));
			r->bufs[i] = r->bufs[b];
			r->nbufs--; /* the value lives in slot i, not in a new slot */
		}
	}
	r->nout = g->noutputs;
	r->out = xcalloc(g->noutputs + 1, sizeof(RefIo));
	r->out_tid = xcalloc(g->noutputs + 1, sizeof(uint32_t));
	for (i = 0; i < g->noutputs; i++) {
		io_of(g, g->outputs[i].t, g->outputs[i].name, &r->out[i]);
		r->out_tid[i] = g->outputs[i].t;
	}

	pt = c->ppf32;
	cg_func(c, "kolmo_ref_float", c->vd, &pt, 1, 0);
	t = LLVMGetParam(c->fn, 0);
	order = topo_order(g);
	for (i = 0; i < g->nnodes; i++) {
		IrNodeId id = order[i];
		const IrNode *n = &g->nodes[id];
		if (n->op == IR_OP_linear)
			emit_linear(c, r, t, n);
		else if (n->op == IR_OP_kan_linear)
			emit_kan(c, r, t, id, n);
		else if (n->op == IR_OP_add || n->op == IR_OP_mul || n->op == IR_OP_sub ||
		         n->op == IR_OP_div)
			emit_binary(c, r, t, n);
		else if (ref_tensor_op_ok(n->op))
			ref_lower_tensor_op(c, r, t, id);
		else if (ref_is_attention_op(n->op))
			ref_emit_attention(c, r, t, id, n);
		else
			emit_unary(c, r, t, n);
	}
	free(order);
	LLVMBuildRetVoid(c->b);
	return 0;
}

void
ref_run_float(RefModel *r, const float *const *in, float *const *out)
{
	uint32_t i;
	KASSERT(!r->quantized);
	for (i = 0; i < r->nin; i++)
		r->bufs[r->in_tid[i]] = (float *)(uintptr_t)in[i];
	r->ffn(r->bufs);
	for (i = 0; i < r->nout; i++)
		memcpy(out[i], r->bufs[r->out_tid[i]], sizeof(float) * r->out[i].elems);
}
