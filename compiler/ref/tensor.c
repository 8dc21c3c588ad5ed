/* tensor.c: the float32 lowering of the non-elementwise tensor ops to LLVM IR: matmul (batched,
 * broadcasting, transposes), softmax along an axis, layernorm over the last axis, transpose and
 * concat. Each op is one loop nest reading and writing the tensor buffers t[handle], like the
 * ops of float.c; float.c's dispatch calls ref_lower_tensor_op for the ops ref_tensor_op_ok
 * accepts. The arithmetic is float32 throughout (sums in op order), as in ONNX's reference. */
#include <math.h>

#include "refint.h"

static LLVMValueRef
tbuf(Cg *c, LLVMValueRef t, uint32_t i)
{
	return cg_ld(c, c->pf32, t, cg_i64(c, i));
}

static LLVMValueRef
call_f32(Cg *c, const char *name, LLVMValueRef x)
{
	LLVMTypeRef ft = LLVMFunctionType(c->f32, &c->f32, 1, 0);
	LLVMValueRef f = LLVMGetNamedFunction(c->mod, name);
	if (!f)
		f = LLVMAddFunction(c->mod, name, ft);
	return LLVMBuildCall2(c->b, ft, f, &x, 1, "");
}

static const IrType *
tty(const Graph *g, IrTensorId t)
{
	return &g->tensors[t].type;
}

/* y[batch, m, n] = sum_k a[batch_a, m, k] b[batch_b, k, n] with the batch dims broadcast and
 * the last two axes of a or b optionally transposed. */
static void
emit_matmul(Cg *c, RefModel *r, LLVMValueRef t, IrNodeId id, const IrNode *n)
{
	const Graph *g = r->g;
	const IrType *ta = tty(g, n->in[0]), *tb = tty(g, n->in[1]), *to = tty(g, n->out[0]);
	int tra = ir_attr_int(g, id, "transpose_a") != 0,
	    trb = ir_attr_int(g, id, "transpose_b") != 0;
	int64_t M = to->dim[to->rank - 2], N = to->dim[to->rank - 1];
	int64_t K = tra ? ta->dim[ta->rank - 2] : ta->dim[ta->rank - 1];
	LLVMValueRef a = tbuf(c, t, n->in[0]), b = tbuf(c, t, n->in[1]), y = tbuf(c, t, n->out[0]);
	LLVMValueRef acc = cg_var(c, c->f32, "acc"), e, k, bi, mi, ni, abase, bbase, av, bv;
	CgLoop le, lk;
	e = cg_loop_begin(c, &le, cg_i64(c, 0), cg_i64(c, ir_type_elems(to)));
	ni = LLVMBuildSRem(c->b, e, cg_i64(c, N), "");
	mi = LLVMBuildSRem(c->b, LLVMBuildSDiv(c->b, e, cg_i64(c, N), ""), cg_i64(c, M), "");
	bi = LLVMBuildSDiv(c->b, e, cg_i64(c, M * N), "");
	abase = cg_mul(c, ref_bcast_index(c, bi, to->dim, to->rank - 2u, ta->dim, ta->rank - 2u),
	               cg_i64(c, ta->dim[ta->rank - 2] * ta->dim[ta->rank - 1]));
	bbase = cg_mul(c, ref_bcast_index(c, bi, to->dim, to->rank - 2u, tb->dim, tb->rank - 2u),
	               cg_i64(c, tb->dim[tb->rank - 2] * tb->dim[tb->rank - 1]));
	LLVMBuildStore(c->b, cg_f32(c, 0), acc);
	k = cg_loop_begin(c, &lk, cg_i64(c, 0), cg_i64(c, K));
	av = cg_ld(c, c->f32, a,
	           cg_add(c, abase,
	                  tra ? cg_add(c, cg_mul(c, k, cg_i64(c, M)), mi)
	                      : cg_add(c, cg_mul(c, mi, cg_i64(c, K)), k)));
	bv = cg_ld(c, c->f32, b,
	           cg_add(c, bbase,
	                  trb ? cg_add(c, cg_mul(c, ni, cg_i64(c, K)), k)
	                      : cg_add(c, cg_mul(c, k, cg_i64(c, N)), ni)));
	LLVMBuildStore(
	    c->b, LLVMBuildFAdd(c->b, cg_load(c, c->f32, acc), LLVMBuildFMul(c->b, av, bv, ""), ""),
	    acc);
	cg_loop_end(c, &lk);
	cg_st(c, c->f32, y, e, cg_load(c, c->f32, acc));
	cg_loop_end(c, &le);
}

/* Splits x's dims around axis: outer (before), L (the axis), inner (after). */
static void
split_axis(const IrType *ty, unsigned axis, int64_t *outer, int64_t *L, int64_t *inner)
{
	unsigned k;
	*outer = 1, *inner = 1, *L = ty->dim[axis];
	for (k = 0; k < axis; k++)
		*outer *= ty->dim[k];
	for (k = axis + 1; k < ty->rank; k++)
		*inner *= ty->dim[k];
}

/* y = exp(x - max) / sum exp(x - max) along the axis. */
static void
emit_softmax(Cg *c, RefModel *r, LLVMValueRef t, IrNodeId id, const IrNode *n)
{
	const Graph *g = r->g;
	const IrType *tx = tty(g, n->in[0]);
	int64_t ax = ir_attr_int(g, id, "axis"), outer, L, inner;
	LLVMValueRef x = tbuf(c, t, n->in[0]), y = tbuf(c, t, n->out[0]);
	LLVMValueRef mx = cg_var(c, c->f32, "max"), sum = cg_var(c, c->f32, "sum");
	LLVMValueRef o, i, l, base, idx, v;
	CgLoop lo, li, ll;
	split_axis(tx, (unsigned)(ax < 0 ? ax + tx->rank : ax), &outer, &L, &inner);
	o = cg_loop_begin(c, &lo, cg_i64(c, 0), cg_i64(c, outer));
	i = cg_loop_begin(c, &li, cg_i64(c, 0), cg_i64(c, inner));
	base = cg_add(c, cg_mul(c, o, cg_i64(c, L * inner)), i);
	LLVMBuildStore(c->b, cg_f32(c, -HUGE_VAL), mx);
	LLVMBuildStore(c->b, cg_f32(c, 0), sum);
	l = cg_loop_begin(c, &ll, cg_i64(c, 0), cg_i64(c, L));
	v = cg_ld(c, c->f32, x, cg_add(c, base, cg_mul(c, l, cg_i64(c, inner))));
	{
		LLVMValueRef m = cg_load(c, c->f32, mx);
		LLVMBuildStore(
		    c->b,
		    LLVMBuildSelect(c->b, LLVMBuildFCmp(c->b, LLVMRealOGT, v, m, ""), v, m, ""),
		    mx);
	}
	cg_loop_end(c, &ll);
	l = cg_loop_begin(c, &ll, cg_i64(c, 0), cg_i64(c, L));
	idx = cg_add(c, base, cg_mul(c, l, cg_i64(c, inner)));
	v = call_f32(c, "expf",
	             LLVMBuildFSub(c->b, cg_ld(c, c->f32, x, idx), cg_load(c, c->f32, mx), ""));
	cg_st(c, c->f32, y, idx, v);
	LLVMBuildStore(c->b, LLVMBuildFAdd(c->b, cg_load(c, c->f32, sum), v, ""), sum);
	cg_loop_end(c, &ll);
	l = cg_loop_begin(c, &ll, cg_i64(c, 0), cg_i64(c, L));
	idx = cg_add(c, base, cg_mul(c, l, cg_i64(c, inner)));
	cg_st(c, c->f32, y, idx,
	      LLVMBuildFDiv(c->b, cg_ld(c, c->f32, y, idx), cg_load(c, c->f32, sum), ""));
	cg_loop_end(c, &ll);
	cg_loop_end(c, &li);
	cg_loop_end(c, &lo);
}

/* y = (x - mean) / sqrt(var + eps) * gamma + beta over the last axis (population variance). */
static void
emit_layernorm(Cg *c, RefModel *r, LLVMValueRef t, IrNodeId id, const IrNode *n)
{
	const Graph *g = r->g;
	const IrType *tx = tty(g, n->in[0]);
	int64_t D = tx->dim[tx->rank - 1], rows = ir_type_elems(tx) / D;
	int has_g = n->nin > 1 && n->in[1] != IR_NONE, has_b = n->nin > 2 && n->in[2] != IR_NONE;
	LLVMValueRef x = tbuf(c, t, n->in[0]), y = tbuf(c, t, n->out[0]);
	LLVMValueRef gm = has_g ? tbuf(c, t, n->in[1]) : NULL,
	             bt = has_b ? tbuf(c, t, n->in[2]) : NULL;
	LLVMValueRef mean = cg_var(c, c->f32, "mean"), var = cg_var(c, c->f32, "var");
	LLVMValueRef row, e, base, v, dv, inv;
	CgLoop lr, le;
	row = cg_loop_begin(c, &lr, cg_i64(c, 0), cg_i64(c, rows));
	base = cg_mul(c, row, cg_i64(c, D));
	LLVMBuildStore(c->b, cg_f32(c, 0), mean);
	LLVMBuildStore(c->b, cg_f32(c, 0), var);
	e = cg_loop_begin(c, &le, cg_i64(c, 0), cg_i64(c, D));
	v = cg_ld(c, c->f32, x, cg_add(c, base, e));
	LLVMBuildStore(c->b, LLVMBuildFAdd(c->b, cg_load(c, c->f32, mean), v, ""), mean);
	cg_loop_end(c, &le);
	LLVMBuildStore(
	    c->b, LLVMBuildFDiv(c->b, cg_load(c, c->f32, mean), cg_f32(c, (double)D), ""), mean);
	e = cg_loop_begin(c, &le, cg_i64(c, 0), cg_i64(c, D));
	dv = LLVMBuildFSub(c->b, cg_ld(c, c->f32, x, cg_add(c, base, e)), cg_load(c, c->f32, mean),
	                   "");
	LLVMBuildStore(
	    c->b, LLVMBuildFAdd(c->b, cg_load(c, c->f32, var), LLVMBuildFMul(c->b, dv, dv, ""), ""),
	    var);
	cg_loop_end(c, &le);
	inv = LLVMBuildFDiv(c->b, cg_f32(c, 1.0),
	                    call_f32(c, "sqrtf",
	                             LLVMBuildFAdd(c->b,
	                                           LLVMBuildFDiv(c->b, cg_load(c, c->f32, var),
	                                                         cg_f32(c, (double)D), ""),
	                                           cg_f32(c, ir_attr_float(g, id, "eps")), "")),
	                    "");
	e = cg_loop_begin(c, &le, cg_i64(c, 0), cg_i64(c, D));
	v = LLVMBuildFMul(c->b,
	                  LLVMBuildFSub(c->b, cg_ld(c, c->f32, x, cg_add(c, base, e)),
	                                cg_load(c, c->f32, mean), ""),
	                  inv, "");
	if (gm)
		v = LLVMBuildFMul(c->b, v, cg_ld(c, c->f32, gm, e), "");
	if (bt)
		v = LLVMBuildFAdd(c->b, v, cg_ld(c, c->f32, bt, e), "");
	cg_st(c, c->f32, y, cg_add(c, base, e), v);
	cg_loop_end(c, &le);
	cg_loop_end(c, &lr);
}

/* y[idx] = x[idx permuted back]: output axis k is input axis perm[k]. */
static void
emit_transpose(Cg *c, RefModel *r, LLVMValueRef t, IrNodeId id, const IrNode *n)
{
	const Graph *g = r->g;
	const IrType *tx = tty(g, n->in[0]), *to = tty(g, n->out[0]);
	const IrAttr *p = ir_attr(g, id, "perm");
	int64_t instride[IR_MAXRANK], st = 1, ost = 1;
	LLVMValueRef x = tbuf(c, t, n->in[0]), y = tbuf(c, t, n->out[0]), e, src;
	CgLoop l;
	int k;
	for (k = tx->rank - 1; k >= 0; k--) {
		instride[k] = st;
		st *= tx->dim[k];
	}
	e = cg_loop_begin(c, &l, cg_i64(c, 0), cg_i64(c, ir_type_elems(to)));
	src = cg_i64(c, 0);
	for (k = to->rank - 1; k >= 0; k--) {
		LLVMValueRef idx = LLVMBuildSRem(c->b, LLVMBuildSDiv(c->b, e, cg_i64(c, ost), ""),
		                                 cg_i64(c, to->dim[k]), "");
		src = cg_add(c, src, cg_mul(c, idx, cg_i64(c, instride[p->ints[k]])));
		ost *= to->dim[k];
	}
	cg_st(c, c->f32, y, e, cg_ld(c, c->f32, x, src));
	cg_loop_end(c, &l);
}

/* Each operand's slabs copied side by side along the axis. */
static void
emit_concat(Cg *c, RefModel *r, LLVMValueRef t, IrNodeId id, const IrNode *n)
{
	const Graph *g = r->g;
	const IrType *to = tty(g, n->out[0]);
	int64_t ax = ir_attr_int(g, id, "axis"), outer, L, inner, off = 0;
	LLVMValueRef y = tbuf(c, t, n->out[0]);
	unsigned a;
	if (ax < 0)
		ax += to->rank;
	split_axis(to, (unsigned)ax, &outer, &L, &inner);
	for (a = 0; a < n->nin; a++) {
		int64_t len = tty(g, n->in[a])->dim[ax] * inner;
		LLVMValueRef x = tbuf(c, t, n->in[a]), j, i;
		CgLoop lj, li;
		j = cg_loop_begin(c, &lj, cg_i64(c, 0), cg_i64(c, outer));
		i = cg_loop_begin(c, &li, cg_i64(c, 0), cg_i64(c, len));
		cg_st(c, c->f32, y,
		      cg_add(c, cg_mul(c, j, cg_i64(c, L * inner)), cg_add(c, cg_i64(c, off), i)),
		      cg_ld(c, c->f32, x, cg_add(c, cg_mul(c, j, cg_i64(c, len)), i)));
		cg_loop_end(c, &li);
		cg_loop_end(c, &lj);
		off += len;
	}
}

int
ref_tensor_op_ok(unsigned op)
{
	return op == IR_OP_matmul || op == IR_OP_softmax || op == IR_OP_layernorm ||
	       op == IR_OP_transpose || op == IR_OP_concat;
}

void
ref_lower_tensor_op(Cg *c, RefModel *r, LLVMValueRef t, IrNodeId id)
{
	const IrNode *n = &r->g->nodes[id];
	switch (n->op) {
	case IR_OP_matmul:
		emit_matmul(c, r, t, id, n);
		break;
	case IR_OP_softmax:
		emit_softmax(c, r, t, id, n);
		break;
	case IR_OP_layernorm:
		emit_layernorm(c, r, t, id, n);
		break;
	case IR_OP_transpose:
		emit_transpose(c, r, t, id, n);
		break;
	case IR_OP_concat:
		emit_concat(c, r, t, id, n);
		break;
	default:
		KASSERT(!"ref_lower_tensor_op: op not accepted by ref_tensor_op_ok");
	}
}
