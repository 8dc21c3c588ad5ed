/* onnx_layout.c: the ONNX ops that move or fold data rather than compute: Reshape, Transpose,
 * Concat, Gather (of constants), Constant, Shape, Identity. Part of the op table (onnx_ops.c). */
#include <stdlib.h>
#include <string.h>

#include "onnxint.h"

/* A constant input as int64 values (shape, axes, indices). */
static const OnnxTensor *
const_ints(Ox *x, unsigned i, const char *what)
{
	OxVal *v = ox_input(x, i, 1);
	if (!v)
		return NULL;
	if (!v->is_const) {
		ox_err(x,
		       "%s '%s' must be a constant (an initializer or a Constant node); kolmo "
		       "needs static shapes",
		       what, v->name);
		return NULL;
	}
	if (!v->c.i) {
		ox_err(x, "%s '%s' must be an integer tensor", what, v->name);
		return NULL;
	}
	return &v->c;
}

int
ox_op_reshape(Ox *x)
{
	static const char *const names[] = {"allowzero", NULL};
	const OnnxTensor *s;
	OxVal *v;
	int64_t allowzero, dims[IR_MAXRANK], known = 1, total;
	const int64_t *idims;
	unsigned rank, irank, k;
	int infer = -1;
	char nb[256];
	IrTensorId t;
	if (ox_check_attrs(x, names) || ox_attr_int(x, "allowzero", 0, &allowzero))
		return -1;
	if (!(v = ox_input(x, 0, 1)) || !(s = const_ints(x, 1, "the shape")))
		return -1;
	if (s->rank != 1 || s->n > IR_MAXRANK)
		return ox_err(x, "the shape must be a 1-D tensor of at most %d entries",
		              IR_MAXRANK);
	if (v->is_const)
		irank = v->c.rank, idims = v->c.dim, total = v->c.n;
	else
		irank = ox_tty(x, v->t)->rank, idims = ox_tty(x, v->t)->dim,
		total = ir_type_elems(ox_tty(x, v->t));
	rank = (unsigned)s->n;
	for (k = 0; k < rank; k++) {
		dims[k] = s->i[k];
		if (dims[k] == 0 && !allowzero) {
			if (k >= irank)
				return ox_err(x, "shape entry %u is 0 but the input has rank %u", k,
				              irank);
			dims[k] = idims[k];
		}
		if (dims[k] == -1) {
			if (infer >= 0)
				return ox_err(x, "the shape has more than one -1");
			infer = (int)k;
			continue;
		}
		if (dims[k] < 0)
			return ox_err(x, "shape entry %u is %lld", k, (long long)dims[k]);
		known *= dims[k];
		if (known > IR_MAX_ELEMS)
			return ox_err(x, "the shape has more than 2^31 elements");
	}
	if (infer >= 0) {
		if (known == 0 || total % known)
			return ox_err(x, "cannot infer the -1 entry: %lld elements into %lld",
			              (long long)total, (long long)known);
		dims[infer] = total / known;
	} else if (known != total) {
		return ox_err(x, "%lld elements cannot take a shape of %lld", (long long)total,
		              (long long)known);
	}
	if (v->is_const) { /* fold: the same values, new dims */
		OnnxTensor c = v->c;
		c.rank = rank;
		for (k = 0; k < rank; k++)
			c.dim[k] = dims[k];
		c.f = xmalloc(sizeof(float) * (size_t)(c.n ? c.n : 1));
		memcpy(c.f, v->c.f, sizeof(float) * (size_t)c.n);
		if (v->c.i) {
			c.i = xmalloc(sizeof(int64_t) * (size_t)(c.n ? c.n : 1));
			memcpy(c.i, v->c.i, sizeof(int64_t) * (size_t)c.n);
		}
		return ox_def_const(x, 0, &c);
	}
	t = ox_reshape_to(x, v->t, rank, dims, ox_out_name(x, 0, nb, sizeof nb));
	return t == IR_NONE ? -1 : ox_def_tensor(x, 0, t);
}

int
ox_op_transpose(Ox *x)
{
	static const char *const names[] = {"perm", NULL};
	const int64_t *perm;
	int64_t rev[IR_MAXRANK];
	size_t np;
	IrTensorId in;
	IrNodeId n;
	unsigned k, r;
	char nb[256];
	IrTensorId t;
	if (ox_check_attrs(x, names) || ox_attr_ints(x, "perm", &perm, &np))
		return -1;
	if ((in = ox_in_t(x, 0, 1)) == IR_NONE)
		return -1;
	r = ox_tty(x, in)->rank;
	if (!perm) {
		for (k = 0; k < r; k++)
			rev[k] = r - 1 - k;
		perm = rev, np = r;
	}
	if (np > IR_MAXRANK)
		return ox_err(x, "perm has %zu entries", np);
	n = ir_node_new(x->g, IR_OP_transpose, &in, 1);
	ir_attr_set_ints(x->g, n, "perm", perm, (uint32_t)np);
	t = ox_finish(x, n, ox_out_name(x, 0, nb, sizeof nb));
	return t == IR_NONE ? -1 : ox_def_tensor(x, 0, t);
}

int
ox_op_concat(Ox *x)
{
	static const char *const names[] = {"axis", NULL};
	IrTensorId in[IR_MAXIN], t;
	int64_t axis;
	unsigned k;
	IrNodeId n;
	char nb[256];
	if (ox_check_attrs(x, names) || ox_attr_int(x, "axis", 0, &axis))
		return -1;
	if (!ox_attr(x, "axis"))
		return ox_err(x, "attribute 'axis' is required");
	if (x->node->n_input < 1 || x->node->n_input > IR_MAXIN)
		return ox_err(x, "takes 1 to %d inputs, got %zu", IR_MAXIN, x->node->n_input);
	for (k = 0; k < x->node->n_input; k++)
		if ((in[k] = ox_in_t(x, k, 1)) == IR_NONE)
			return -1;
	n = ir_node_new(x->g, IR_OP_concat, in, (unsigned)x->node->n_input);
	ir_attr_set_int(x->g, n, "axis", axis);
	t = ox_finish(x, n, ox_out_name(x, 0, nb, sizeof nb));
	return t == IR_NONE ? -1 : ox_def_tensor(x, 0, t);
}

/* Gather of constants, folded: out = data[..., indices[...], ...] along axis. */
int
ox_op_gather(Ox *x)
{
	static const char *const names[] = {"axis", NULL};
	OxVal *dv;
	const OnnxTensor *idx;
	OnnxTensor c;
	int64_t axis, outer = 1, inner = 1, L, o, j, e;
	unsigned k;
	if (ox_check_attrs(x, names) || ox_attr_int(x, "axis", 0, &axis))
		return -1;
	if (!(dv = ox_input(x, 0, 1)))
		return -1;
	if (!dv->is_const)
		return ox_err(x,
		              "Gather needs constant data and indices (kolmo folds Gather of "
		              "constants; '%s' is computed at run time)",
		              dv->name);
	if (!(idx = const_ints(x, 1, "the indices")))
		return -1;
	if (axis < -(int64_t)dv->c.rank || axis >= (int64_t)dv->c.rank)
		return ox_err(x, "axis %lld is out of range for rank %u", (long long)axis,
		              dv->c.rank);
	if (axis < 0)
		axis += dv->c.rank;
	if (dv->c.rank - 1 + idx->rank > IR_MAXRANK)
		return ox_err(x, "the result would have rank > %d", IR_MAXRANK);
	memset(&c, 0, sizeof c);
	c.elem_type = dv->c.elem_type;
	for (k = 0; k < (unsigned)axis; k++)
		c.dim[c.rank++] = dv->c.dim[k], outer *= dv->c.dim[k];
	for (k = 0; k < idx->rank; k++)
		c.dim[c.rank++] = idx->dim[k];
	for (k = (unsigned)axis + 1; k < dv->c.rank; k++)
		c.dim[c.rank++] = dv->c.dim[k], inner *= dv->c.dim[k];
	L = dv->c.dim[axis];
	c.n = outer * idx->n * inner;
	if (c.n > IR_MAX_ELEMS)
		return ox_err(x, "the result has more than 2^31 elements");
	for (j = 0; j < idx->n; j++)
		if (idx->i[j] < -L || idx->i[j] >= L)
			return ox_err(x, "index %lld is out of range for a dimension of %lld",
			              (long long)idx->i[j], (long long)L);
	ox_tensor_alloc(&c, dv->c.i != NULL);
	for (o = 0; o < outer; o++)
		for (j = 0; j < idx->n; j++) {
			int64_t ix = idx->i[j] < 0 ? idx->i[j] + L : idx->i[j];
			for (e = 0; e < inner; e++) {
				int64_t src = (o * L + ix) * inner + e,
				        dst = (o * idx->n + j) * inner + e;
				c.f[dst] = dv->c.f[src];
				if (c.i)
					c.i[dst] = dv->c.i[src];
			}
		}
	return ox_def_const(x, 0, &c);
}

/* ---- constants ---- */

int
ox_op_constant(Ox *x)
{
	const Onnx__AttributeProto *a;
	OnnxTensor c;
	size_t k;
	if (x->node->n_attribute != 1)
		return ox_err(x, "a Constant takes exactly one value attribute");
	a = x->node->attribute[0];
	memset(&c, 0, sizeof c);
	if (strcmp(a->name ? a->name : "", "value") == 0 && a->t) {
		if (ox_tensor_from_proto(a->t, x->file, "the Constant value", &c, x->d))
			return ox_err(x, "bad constant value");
		return ox_def_const(x, 0, &c);
	}
	if (strcmp(a->name ? a->name : "", "value_float") == 0 && a->has_f) {
		c.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, c.n = 1;
		ox_tensor_alloc(&c, 0);
		c.f[0] = a->f;
	} else if (strcmp(a->name ? a->name : "", "value_int") == 0 && a->has_i) {
		c.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64, c.n = 1;
		ox_tensor_alloc(&c, 1);
		c.i[0] = a->i, c.f[0] = (float)a->i;
	} else if (strcmp(a->name ? a->name : "", "value_floats") == 0 &&
	           a->n_floats <= IR_MAX_ELEMS) {
		c.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, c.rank = 1;
		c.n = c.dim[0] = (int64_t)a->n_floats;
		ox_tensor_alloc(&c, 0);
		for (k = 0; k < a->n_floats; k++)
			c.f[k] = a->floats[k];
	} else if (strcmp(a->name ? a->name : "", "value_ints") == 0 && a->n_ints <= IR_MAX_ELEMS) {
		c.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64, c.rank = 1;
		c.n = c.dim[0] = (int64_t)a->n_ints;
		ox_tensor_alloc(&c, 1);
		for (k = 0; k < a->n_ints; k++)
			c.i[k] = a->ints[k], c.f[k] = (float)a->ints[k];
	} else {
		return ox_err(x,
		              "Constant attribute '%s' is not supported (value, value_float(s), "
		              "value_int(s))",
		              a->name ? a->name : "");
	}
	return ox_def_const(x, 0, &c);
}

/* Shape of a statically shaped value: an int64 constant (start/end of opset 15). */
int
ox_op_shape(Ox *x)
{
	static const char *const names[] = {"start", "end", NULL};
	OxVal *v;
	OnnxTensor c;
	const int64_t *dims;
	int64_t start, end, r, k;
	if (ox_check_attrs(x, names) || !(v = ox_input(x, 0, 1)))
		return -1;
	r = v->is_const ? v->c.rank : ox_tty(x, v->t)->rank;
	dims = v->is_const ? v->c.dim : ox_tty(x, v->t)->dim;
	if (ox_attr_int(x, "start", 0, &start) || ox_attr_int(x, "end", r, &end))
		return -1;
	start = start < 0 ? start + r : start, end = end < 0 ? end + r : end;
	start = start < 0 ? 0 : start > r ? r : start;
	end = end < start ? start : end > r ? r : end;
	memset(&c, 0, sizeof c);
	c.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64, c.rank = 1,
	c.n = c.dim[0] = end - start;
	ox_tensor_alloc(&c, 1);
	for (k = start; k < end; k++)
		c.i[k - start] = dims[k], c.f[k - start] = (float)dims[k];
	return ox_def_const(x, 0, &c);
}

int
ox_op_identity(Ox *x)
{
	OxVal *v;
	if (ox_no_attrs(x) || !(v = ox_input(x, 0, 1)))
		return -1;
	if (v->is_const) {
		OnnxTensor c = v->c;
		c.f = xmalloc(sizeof(float) * (size_t)(c.n ? c.n : 1));
		memcpy(c.f, v->c.f, sizeof(float) * (size_t)c.n);
		if (v->c.i) {
			c.i = xmalloc(sizeof(int64_t) * (size_t)(c.n ? c.n : 1));
			memcpy(c.i, v->c.i, sizeof(int64_t) * (size_t)c.n);
		}
		return ox_def_const(x, 0, &c);
	}
	return ox_def_tensor(x, 0, v->t);
}
