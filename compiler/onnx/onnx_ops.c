/* onnx_ops.c: the ONNX op table: one handler per supported op, mapping an ONNX node onto IR
 * nodes (the data-movement and folding ops are in onnx_layout.c), and the ai.kolmo custom
 * domain, whose nodes are IR ops with the IR's attribute names. docs/onnx.md lists the mapping. */
#include <stdlib.h>
#include <string.h>

#include "onnxint.h"

typedef int (*OxFn)(Ox *x);

/* The graph tensor of input i (IR_NONE when absent or on error: check x->d->set). */
IrTensorId
ox_in_t(Ox *x, unsigned i, int required)
{
	OxVal *v = ox_input(x, i, required);
	return v ? ox_tensor(x, v) : IR_NONE;
}

const IrType *
ox_tty(Ox *x, IrTensorId t)
{
	return &x->g->tensors[t].type;
}

/* emit1: op on in[0..nin-1] as the node's output 0. */
int
ox_emit1(Ox *x, IrOpcode op, const IrTensorId *in, unsigned nin)
{
	char nb[256];
	IrTensorId t;
	if (x->d->set)
		return -1;
	t = ox_emit(x, op, in, nin, ox_out_name(x, 0, nb, sizeof nb));
	return t == IR_NONE ? -1 : ox_def_tensor(x, 0, t);
}

int
ox_no_attrs(Ox *x)
{
	static const char *const none[] = {NULL};
	return ox_check_attrs(x, none);
}

/* ---- elementwise ---- */

static int
op_binary(Ox *x, IrOpcode op)
{
	IrTensorId in[2];
	if (ox_no_attrs(x))
		return -1;
	if (x->silu[x->node_idx] == 2) { /* Mul(a, Sigmoid(a)): silu(a) */
		OxVal *a = ox_find(x, x->node->input[0]);
		unsigned k = a && a->consumed ? 1 : 0;
		in[0] = ox_in_t(x, k, 1);
		return ox_emit1(x, IR_OP_silu, in, 1);
	}
	in[0] = ox_in_t(x, 0, 1);
	in[1] = ox_in_t(x, 1, 1);
	return ox_emit1(x, op, in, 2);
}

static int
op_unary(Ox *x, IrOpcode op)
{
	IrTensorId in;
	if (ox_no_attrs(x))
		return -1;
	if (x->silu[x->node_idx] == 1) { /* folded into the Mul that follows */
		if (ox_def_tensor(x, 0, IR_NONE))
			return -1;
		ox_find(x, x->node->output[0])->consumed = 1;
		return 0;
	}
	in = ox_in_t(x, 0, 1);
	return ox_emit1(x, op, &in, 1);
}

/* ---- normalisation ---- */

static int
op_softmax(Ox *x)
{
	static const char *const names[] = {"axis", NULL};
	IrTensorId in;
	IrNodeId n;
	int64_t axis;
	char nb[256];
	IrTensorId t;
	if (ox_check_attrs(x, names) || ox_attr_int(x, "axis", -1, &axis))
		return -1;
	if ((in = ox_in_t(x, 0, 1)) == IR_NONE)
		return -1;
	n = ir_node_new(x->g, IR_OP_softmax, &in, 1);
	ir_attr_set_int(x->g, n, "axis", axis);
	t = ox_finish(x, n, ox_out_name(x, 0, nb, sizeof nb));
	return t == IR_NONE ? -1 : ox_def_tensor(x, 0, t);
}

IrTensorId
ox_reshape_to(Ox *x, IrTensorId t, unsigned rank, const int64_t *dims, const char *name)
{
	IrNodeId n = ir_node_new(x->g, IR_OP_reshape, &t, 1);
	ir_attr_set_ints(x->g, n, "shape", dims, rank);
	return ox_finish(x, n, name);
}

/* LayerNormalization over axes axis..rank-1: IR layernorm normalises the last axis, so other
 * axes are flattened into one ([outer, D]) around it and the result reshaped back. */
static int
op_layernorm(Ox *x)
{
	static const char *const names[] = {"axis", "epsilon", "stash_type", NULL};
	IrTensorId in[3], xt, t;
	const IrType *tx;
	int64_t axis, stash, D = 1, flat[2];
	double eps;
	unsigned k;
	IrNodeId n;
	char nb[256];
	if (ox_check_attrs(x, names) || ox_attr_int(x, "axis", -1, &axis) ||
	    ox_attr_float(x, "epsilon", 1e-5, &eps) || ox_attr_int(x, "stash_type", 1, &stash))
		return -1;
	for (k = 1; k < x->node->n_output; k++)
		if (x->node->output[k][0]) { /* training outputs: an error only if used */
			if (ox_def_tensor(x, k, IR_NONE))
				return -1;
			ox_find(x, x->node->output[k])->unsupported =
			    "the Mean and InvStdDev outputs of LayerNormalization are not "
			    "supported";
		}
	if (stash != 1)
		return ox_err(x, "stash_type %lld is not supported (1: float)", (long long)stash);
	in[0] = ox_in_t(x, 0, 1);
	in[1] = ox_in_t(x, 1, 1);
	in[2] = ox_in_t(x, 2, 0);
	if (x->d->set)
		return -1;
	tx = ox_tty(x, in[0]);
	if (axis < -(int64_t)tx->rank || axis >= (int64_t)tx->rank || tx->rank == 0)
		return ox_err(x, "axis %lld is out of range for rank %u", (long long)axis,
		              tx->rank);
	if (axis < 0)
		axis += tx->rank;
	if (axis == tx->rank - 1) {
		n = ir_node_new(x->g, IR_OP_layernorm, in, in[2] == IR_NONE ? 2 : 3);
		ir_attr_set_float(x->g, n, "eps", eps);
		t = ox_finish(x, n, ox_out_name(x, 0, nb, sizeof nb));
		return t == IR_NONE ? -1 : ox_def_tensor(x, 0, t);
	}
	for (k = (unsigned)axis; k < tx->rank; k++)
		D *= tx->dim[k];
	flat[0] = ir_type_elems(tx) / (D ? D : 1);
	flat[1] = D;
	xt = in[0];
	if ((in[0] = ox_reshape_to(x, xt, 2, flat, NULL)) == IR_NONE)
		return -1;
	for (k = 1; k < 3; k++)
		if (in[k] != IR_NONE && ir_type_elems(ox_tty(x, in[k])) == D &&
		    (in[k] = ox_reshape_to(x, in[k], 1, &D, NULL)) == IR_NONE)
			return -1;
	n = ir_node_new(x->g, IR_OP_layernorm, in, in[2] == IR_NONE ? 2 : 3);
	ir_attr_set_float(x->g, n, "eps", eps);
	if ((t = ox_finish(x, n, NULL)) == IR_NONE)
		return -1;
	tx = ox_tty(x, xt);
	t = ox_reshape_to(x, t, tx->rank, tx->dim, ox_out_name(x, 0, nb, sizeof nb));
	return t == IR_NONE ? -1 : ox_def_tensor(x, 0, t);
}

/* ---- matrix products ---- */

/* A weight [O, I] = B^T (trans = 1) or B (trans = 0) of a constant B, named after it. */
static IrTensorId
weight_of(Ox *x, const OxVal *b, int trans)
{
	int64_t K = b->c.dim[0], N = b->c.dim[1], i, j, dims[2];
	float *f = xmalloc(sizeof(float) * ((size_t)(K * N) + 1));
	IrWeight w;
	IrType ty;
	char nb[256];
	IrTensorId t;
	for (i = 0; i < K; i++)
		for (j = 0; j < N; j++)
			f[trans ? j * K + i : i * N + j] = b->c.f[i * N + j];
	dims[0] = trans ? N : K, dims[1] = trans ? K : N;
	ty = ir_type(IR_F32, 2, dims);
	memset(&w, 0, sizeof w);
	w.src = IR_W_DATA;
	w.data = f;
	t = ir_add_weight(x->g, ox_unique_name(x, b->name, nb, sizeof nb), &ty, &w);
	free(f);
	return t;
}

/* MatMul: with a constant 2-D right operand it is a linear layer (weight = B^T, the layout the
 * compiler maps onto crossbars); otherwise a batched matmul. */
static int
op_matmul(Ox *x)
{
	OxVal *a, *b;
	IrTensorId in[2];
	if (ox_no_attrs(x) || !(a = ox_input(x, 0, 1)) || !(b = ox_input(x, 1, 1)))
		return -1;
	if (b->is_const && b->c.rank == 2 && !a->is_const) {
		in[0] = a->t;
		in[1] = weight_of(x, b, 1);
		return ox_emit1(x, IR_OP_linear, in, 2);
	}
	in[0] = ox_tensor(x, a);
	in[1] = ox_tensor(x, b);
	if (ox_tty(x, in[0])->rank < 2 || ox_tty(x, in[1])->rank < 2)
		return ox_err(x, "1-D operands of MatMul are not supported (reshape them to 2-D)");
	return ox_emit1(x, IR_OP_matmul, in, 2);
}

/* A scalar constant weight [1] of value v. */
static IrTensorId
scalar(Ox *x, double v, const char *what)
{
	int64_t one = 1;
	IrType ty = ir_type(IR_F32, 1, &one);
	IrWeight w;
	float f = (float)v;
	char nb[256], base[300];
	memset(&w, 0, sizeof w);
	w.src = IR_W_DATA;
	w.data = &f;
	snprintf(base, sizeof base, "%s_%s",
	         x->node->name && *x->node->name ? x->node->name : "gemm", what);
	return ir_add_weight(x->g, ox_unique_name(x, base, nb, sizeof nb), &ty, &w);
}

/* Gemm: Y = alpha op(A) op(B) + beta C. A constant B with alpha = 1, no transA and a constant
 * C of [N] (or none) is a linear layer; anything else is matmul, mul and add. */
static int
op_gemm(Ox *x)
{
	static const char *const names[] = {"alpha", "beta", "transA", "transB", NULL};
	double alpha, beta;
	int64_t ta, tb;
	OxVal *a, *b, *c;
	IrTensorId in[3], y;
	IrNodeId n;
	char nb[256];
	if (ox_check_attrs(x, names) || ox_attr_float(x, "alpha", 1, &alpha) ||
	    ox_attr_float(x, "beta", 1, &beta) || ox_attr_int(x, "transA", 0, &ta) ||
	    ox_attr_int(x, "transB", 0, &tb))
		return -1;
	if (!(a = ox_input(x, 0, 1)) || !(b = ox_input(x, 1, 1)))
		return -1;
	c = ox_input(x, 2, 0);
	if (x->d->set)
		return -1;
	if (b->is_const && b->c.rank == 2 && !a->is_const && !ta && alpha == 1 &&
	    (!c ||
	     (c->is_const && c->c.rank == 1 && c->c.dim[0] == (tb ? b->c.dim[0] : b->c.dim[1])))) {
		in[0] = a->t;
		in[1] = weight_of(x, b, !tb);
		if (c) {
			int64_t k;
			IrWeight w;
			IrType t1 = ir_type(IR_F32, 1, c->c.dim);
			float *f = xmalloc(sizeof(float) * (size_t)(c->c.n ? c->c.n : 1));
			for (k = 0; k < c->c.n; k++)
				f[k] = (float)(beta * c->c.f[k]);
			memset(&w, 0, sizeof w);
			w.src = IR_W_DATA;
			w.data = f;
			in[2] =
			    ir_add_weight(x->g, ox_unique_name(x, c->name, nb, sizeof nb), &t1, &w);
			free(f);
		}
		return ox_emit1(x, IR_OP_linear, in, c ? 3 : 2);
	}
	in[0] = ox_tensor(x, a);
	in[1] = ox_tensor(x, b);
	if (ox_tty(x, in[0])->rank != 2 || ox_tty(x, in[1])->rank != 2)
		return ox_err(x, "A and B must be 2-D");
	n = ir_node_new(x->g, IR_OP_matmul, in, 2);
	ir_attr_set_int(x->g, n, "transpose_a", ta != 0);
	ir_attr_set_int(x->g, n, "transpose_b", tb != 0);
	if ((y = ox_finish(x, n, c || alpha != 1 ? NULL : ox_out_name(x, 0, nb, sizeof nb))) ==
	    IR_NONE)
		return -1;
	if (alpha != 1) {
		in[0] = y, in[1] = scalar(x, alpha, "alpha");
		if ((y = ox_emit(x, IR_OP_mul, in, 2,
		                 c ? NULL : ox_out_name(x, 0, nb, sizeof nb))) == IR_NONE)
			return -1;
	}
	if (c) {
		IrTensorId ct = ox_tensor(x, c);
		if (beta != 1) {
			in[0] = ct, in[1] = scalar(x, beta, "beta");
			if ((ct = ox_emit(x, IR_OP_mul, in, 2, NULL)) == IR_NONE)
				return -1;
		}
		in[0] = y, in[1] = ct;
		if ((y = ox_emit(x, IR_OP_add, in, 2, ox_out_name(x, 0, nb, sizeof nb))) == IR_NONE)
			return -1;
	}
	return ox_def_tensor(x, 0, y);
}

/* ---- the ai.kolmo domain: IR ops with the IR's operands and attributes ---- */

static int
kolmo_op(Ox *x, IrOpcode op)
{
	const IrOpInfo *oi = &ir_ops[op];
	IrTensorId in[IR_MAXIN], t;
	IrNodeId n;
	unsigned k, nin = (unsigned)x->node->n_input;
	char nb[256];
	if (nin < oi->nin_min || nin > oi->nin_max)
		return ox_err(x, "takes %u to %u inputs, got %u", oi->nin_min, oi->nin_max, nin);
	for (k = 0; k < nin; k++) {
		in[k] = ox_in_t(x, k, k < oi->nin_min);
		if (x->d->set)
			return -1;
	}
	n = ir_node_new(x->g, op, in, nin);
	for (k = 0; k < x->node->n_attribute; k++) {
		const Onnx__AttributeProto *a = x->node->attribute[k];
		const char *an = a->name ? a->name : "";
		int s = ir_attr_index(op, an, strlen(an));
		uint8_t want;
		if (s < 0)
			return ox_err(x, "attribute '%s' is not an attribute of %s", an, oi->name);
		want = oi->attrs[s].type;
		switch (a->type) {
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
			if (want != IR_A_INT && want != IR_A_BOOL)
				goto bad;
			ir_attr_set_int(x->g, n, an, want == IR_A_BOOL ? a->i != 0 : a->i);
			break;
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
			if (want != IR_A_FLOAT)
				goto bad;
			ir_attr_set_float(x->g, n, an, a->f);
			break;
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
			if (want != IR_A_INTS || a->n_ints > 4096)
				goto bad;
			ir_attr_set_ints(x->g, n, an, a->ints, (uint32_t)a->n_ints);
			break;
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: {
			double *f;
			size_t j;
			if (want != IR_A_FLOATS || a->n_floats > 4096)
				goto bad;
			f = xmalloc(sizeof(double) * (a->n_floats + 1));
			for (j = 0; j < a->n_floats; j++)
				f[j] = a->floats[j];
			ir_attr_set_floats(x->g, n, an, f, (uint32_t)a->n_floats);
			free(f);
			break;
		}
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
			char v[64];
			const char *e = oi->attrs[s].enums;
			size_t len = a->s.len, el;
			int found = 0;
			if (want != IR_A_ENUM || len >= sizeof v)
				goto bad;
			memcpy(v, a->s.data, len);
			v[len] = 0;
			while (e && *e && !found) {
				el = strcspn(e, "|");
				found = el == len && memcmp(e, v, len) == 0;
				e += el + (e[el] == '|');
			}
			if (!found)
				return ox_err(x, "attribute '%s' = '%s' is not one of %s", an, v,
				              oi->attrs[s].enums);
			ir_attr_set_enum(x->g, n, an, v);
			break;
		}
		default:
		bad:
			return ox_err(x,
			              "attribute '%s' has the wrong type for %s (see docs/onnx.md)",
			              an, oi->name);
		}
	}
	t = ox_finish(x, n, ox_out_name(x, 0, nb, sizeof nb));
	return t == IR_NONE ? -1 : ox_def_tensor(x, 0, t);
}

static const struct {
	const char *name;
	IrOpcode op;
} kolmo_ops[] = {
    {"KANLinear", IR_OP_kan_linear},
    {"PyKANLinear", IR_OP_pykan_linear},
    {"SparseAttention", IR_OP_sparse_attention},
    {"BlockMask", IR_OP_block_mask},
    {"Attention", IR_OP_attention},
    {"LinearAttention", IR_OP_linear_attention},
};

/* The default domain: a handler, or an elementwise handler with the IR op it emits. */
static const struct {
	const char *name;
	OxFn fn;
	int (*elem)(Ox *x, IrOpcode op);
	IrOpcode op;
} std_ops[] = {
    {"MatMul", op_matmul, NULL, IR_OP_COUNT},
    {"Gemm", op_gemm, NULL, IR_OP_COUNT},
    {"Add", NULL, op_binary, IR_OP_add},
    {"Sub", NULL, op_binary, IR_OP_sub},
    {"Mul", NULL, op_binary, IR_OP_mul},
    {"Div", NULL, op_binary, IR_OP_div},
    {"Relu", NULL, op_unary, IR_OP_relu},
    {"Sigmoid", NULL, op_unary, IR_OP_sigmoid},
    {"Tanh", NULL, op_unary, IR_OP_tanh},
    {"Softmax", op_softmax, NULL, IR_OP_COUNT},
    {"LayerNormalization", op_layernorm, NULL, IR_OP_COUNT},
    {"Reshape", ox_op_reshape, NULL, IR_OP_COUNT},
    {"Transpose", ox_op_transpose, NULL, IR_OP_COUNT},
    {"Concat", ox_op_concat, NULL, IR_OP_COUNT},
    {"Gather", ox_op_gather, NULL, IR_OP_COUNT},
    {"Constant", ox_op_constant, NULL, IR_OP_COUNT},
    {"Shape", ox_op_shape, NULL, IR_OP_COUNT},
    {"Identity", ox_op_identity, NULL, IR_OP_COUNT},
};

/* The names of the default-domain (which 0) or ai.kolmo (1) table, comma-separated, into buf. */
static const char *
op_list(int which, char *buf, size_t n)
{
	size_t k, at = 0, count = which ? NELEM(kolmo_ops) : NELEM(std_ops);
	buf[0] = 0;
	for (k = 0; k < count && at < n; k++) {
		int w = snprintf(buf + at, n - at, "%s%s", k ? ", " : "",
		                 which ? kolmo_ops[k].name : std_ops[k].name);
		if (w < 0)
			break;
		at += (size_t)w;
	}
	return buf;
}

int
ox_import_node(Ox *x)
{
	char std[512], kol[256];
	const Onnx__NodeProto *n = x->node;
	const char *dom = n->domain ? n->domain : "", *op = n->op_type ? n->op_type : "";
	size_t k;
	if (!n->n_output || !n->output[0][0])
		return ox_err(x, "the node has no output");
	for (k = 1; k < n->n_output; k++)
		if (n->output[k][0] && strcmp(op, "LayerNormalization") != 0)
			return ox_err(x, "output %zu ('%s') is not supported", k, n->output[k]);
	if (!*dom || strcmp(dom, "ai.onnx") == 0) {
		for (k = 0; k < NELEM(std_ops); k++)
			if (strcmp(std_ops[k].name, op) == 0)
				return std_ops[k].fn ? std_ops[k].fn(x)
				                     : std_ops[k].elem(x, std_ops[k].op);
		return ox_err(x,
		              "unsupported op '%s' (supported: %s (Gather of constants); custom "
		              "domain %s: %s)",
		              op, op_list(0, std, sizeof std), ONNX_KOLMO_DOMAIN,
		              op_list(1, kol, sizeof kol));
	}
	if (strcmp(dom, ONNX_KOLMO_DOMAIN) == 0) {
		for (k = 0; k < NELEM(kolmo_ops); k++)
			if (strcmp(kolmo_ops[k].name, op) == 0)
				return kolmo_op(x, kolmo_ops[k].op);
		return ox_err(x, "unsupported op '%s' of domain %s (%s)", op, ONNX_KOLMO_DOMAIN,
		              op_list(1, kol, sizeof kol));
	}
	return ox_err(x,
	              "unsupported op '%s': domain '%s' is not supported (the default ONNX "
	              "domain and %s)",
	              op, dom, ONNX_KOLMO_DOMAIN);
}

/* Mul(a, Sigmoid(a)) with the Sigmoid's output used only there: the pair becomes one silu. */
void
ox_mark_silu(Ox *x, const Onnx__GraphProto *gp)
{
	size_t i, j, k, uses, mul;
	for (i = 0; i < gp->n_node; i++) {
		const Onnx__NodeProto *s = gp->node[i];
		const char *so;
		if (!s->op_type || strcmp(s->op_type, "Sigmoid") != 0 ||
		    (s->domain && *s->domain) || s->n_input != 1 || s->n_output != 1 ||
		    s->n_attribute)
			continue;
		so = s->output[0];
		uses = 0, mul = 0;
		for (j = 0; j < gp->n_node; j++)
			for (k = 0; k < gp->node[j]->n_input; k++)
				if (strcmp(gp->node[j]->input[k], so) == 0)
					uses++, mul = j;
		for (j = 0; j < gp->n_output; j++)
			if (gp->output[j]->name && strcmp(gp->output[j]->name, so) == 0)
				uses += 2;
		if (uses != 1 || mul <= i)
			continue;
		{
			const Onnx__NodeProto *m = gp->node[mul];
			if (!m->op_type || strcmp(m->op_type, "Mul") != 0 ||
			    (m->domain && *m->domain) || m->n_input != 2 ||
			    !((strcmp(m->input[0], so) == 0 &&
			       strcmp(m->input[1], s->input[0]) == 0) ||
			      (strcmp(m->input[1], so) == 0 &&
			       strcmp(m->input[0], s->input[0]) == 0)))
				continue;
			x->silu[i] = 1;
			x->silu[mul] = 2;
		}
	}
}
