/* verify.c: the graph checker the compiler runs after every pass (ir_verify). It trusts nothing:
 * handles, names, types, attributes, shape rules, weight sources, acyclicity and outputs. */
#include "irint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
is_name(const char *s)
{
	size_t i;
	if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_' ||
	            (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' ||
		      s[i] == '.' || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return i <= 255;
}

static int
check_type(const Graph *g, const IrTensor *x, Diag *d)
{
	const IrType *t = &x->type;
	unsigned i;
	if (t->dtype >= IR_DTYPE_COUNT)
		return ir_diag_loc(g, x->loc, d, "tensor '%s': invalid dtype %u", x->name,
		                   t->dtype);
	if (t->rank > IR_MAXRANK)
		return ir_diag_loc(g, x->loc, d, "tensor '%s': rank %u > %d", x->name, t->rank,
		                   IR_MAXRANK);
	for (i = 0; i < t->rank; i++)
		if (t->dim[i] < 1)
			return ir_diag_loc(g, x->loc, d, "tensor '%s': dim %u is %lld", x->name, i,
			                   (long long)t->dim[i]);
	if (ir_type_elems(t) > IR_MAX_ELEMS)
		return ir_diag_loc(g, x->loc, d, "tensor '%s': more than 2^31 elements", x->name);
	if (t->q.nscale) {
		if (t->dtype == IR_F32)
			return ir_diag_loc(g, x->loc, d, "tensor '%s': quant on a float tensor",
			                   x->name);
		if (t->q.axis < -1 || t->q.axis >= (int32_t)t->rank || !t->q.scale)
			return ir_diag_loc(g, x->loc, d, "tensor '%s': bad quant axis %d", x->name,
			                   t->q.axis);
		if ((int64_t)t->q.nscale != (t->q.axis < 0 ? 1 : t->dim[t->q.axis]))
			return ir_diag_loc(g, x->loc, d, "tensor '%s': %u quant scales for axis %d",
			                   x->name, t->q.nscale, t->q.axis);
		for (i = 0; i < t->q.nscale; i++)
			if (!(t->q.scale[i] > 0) || !isfinite(t->q.scale[i]))
				return ir_diag_loc(g, x->loc, d,
				                   "tensor '%s': quant scale %u not positive",
				                   x->name, i);
	}
	return 0;
}

static int
check_attrs(const Graph *g, IrNodeId id, Diag *d)
{
	const IrNode *n = &g->nodes[id];
	const IrOpInfo *oi = &ir_ops[n->op];
	uint32_t i, k;
	for (i = 0; i < oi->nattr; i++) {
		const IrAttr *a = &n->attr[i];
		const IrAttrSpec *s = &oi->attrs[i];
		if (a->type != s->type)
			return ir_diag_loc(g, n->loc, d,
			                   "node %u (%s): attribute '%s' has the wrong type", id,
			                   oi->name, s->name);
		if (!a->set) {
			if (!(s->flags & IR_AF_OPTIONAL))
				return ir_diag_loc(g, n->loc, d,
				                   "node %u (%s): attribute '%s' is not set", id,
				                   oi->name, s->name);
			continue;
		}
		if (a->type == IR_A_FLOAT && isnan(a->f))
			return ir_diag_loc(g, n->loc, d, "node %u (%s): attribute '%s' is NaN", id,
			                   oi->name, s->name);
		if (a->type == IR_A_BOOL && a->i != 0 && a->i != 1)
			return ir_diag_loc(g, n->loc, d, "node %u (%s): bad bool '%s'", id,
			                   oi->name, s->name);
		if (a->type == IR_A_ENUM) {
			char buf[32];
			if (a->i < 0 ||
			    strcmp(ir_enum_name(s->enums, a->i, buf, sizeof buf), "?") == 0)
				return ir_diag_loc(g, n->loc, d,
				                   "node %u (%s): bad enum value for '%s'", id,
				                   oi->name, s->name);
		}
		if ((a->type == IR_A_INTS && a->n && !a->ints) ||
		    (a->type == IR_A_FLOATS && a->n && !a->floats))
			return ir_diag_loc(g, n->loc, d, "node %u (%s): list '%s' has no storage",
			                   id, oi->name, s->name);
		for (k = 0; a->type == IR_A_FLOATS && k < a->n; k++)
			if (isnan(a->floats[k]))
				return ir_diag_loc(g, n->loc, d, "node %u (%s): NaN in '%s'", id,
				                   oi->name, s->name);
	}
	return 0;
}

/* check_handles: op, arity and every operand/result handle of node id. */
static int
check_handles(const Graph *g, IrNodeId id, Diag *d)
{
	const IrNode *n = &g->nodes[id];
	const IrOpInfo *oi;
	uint32_t i;
	if (n->op >= IR_OP_COUNT)
		return ir_diag_loc(g, n->loc, d, "node %u: invalid op %u", id, n->op);
	oi = &ir_ops[n->op];
	if (n->nin > IR_MAXIN || n->nin < oi->nin_min || n->nin > oi->nin_max)
		return ir_diag_loc(g, n->loc, d, "node %u (%s): %u operands, expected %u..%u", id,
		                   oi->name, n->nin, oi->nin_min, oi->nin_max);
	if (n->nout != oi->nout)
		return ir_diag_loc(g, n->loc, d, "node %u (%s): %u results, expected %u", id,
		                   oi->name, n->nout, oi->nout);
	if (!n->attr)
		return ir_diag_loc(g, n->loc, d, "node %u (%s): no attribute storage", id,
		                   oi->name);
	for (i = 0; i < n->nin; i++)
		if (n->in[i] != IR_NONE && n->in[i] >= g->ntensors)
			return ir_diag_loc(g, n->loc, d,
			                   "node %u (%s): operand %u handle %u out of range", id,
			                   oi->name, i, n->in[i]);
	for (i = 0; i < n->nout; i++) {
		IrTensorId t = n->out[i];
		if (t >= g->ntensors)
			return ir_diag_loc(g, n->loc, d,
			                   "node %u (%s): result %u handle out of range", id,
			                   oi->name, i);
		if (g->tensors[t].producer != id || g->tensors[t].prod_slot != i)
			return ir_diag_loc(
			    g, n->loc, d,
			    "node %u (%s): result '%s' does not name this node as producer", id,
			    oi->name, g->tensors[t].name);
	}
	return 0;
}

/* check_node: attributes, and result types against the shape rule (handles already checked). */
static int
check_node(const Graph *g, IrNodeId id, Diag *d)
{
	const IrNode *n = &g->nodes[id];
	const IrOpInfo *oi = &ir_ops[n->op];
	IrType out[IR_MAXOUT];
	char b1[96], b2[96];
	uint32_t i;
	if (check_attrs(g, id, d) || ir_infer(g, id, out, d))
		return -1;
	for (i = 0; i < n->nout; i++) {
		const IrTensor *x = &g->tensors[n->out[i]];
		if (!ir_shape_equal(&x->type, &out[i]) ||
		    (x->type.dtype == IR_F32) != (out[i].dtype == IR_F32))
			return ir_diag_loc(
			    g, x->type_loc.line ? x->type_loc : n->loc, d,
			    "node %u (%s): result '%s' is %s but the shape rule gives %s", id,
			    oi->name, x->name, ir_type_str(&x->type, b1, sizeof b1),
			    ir_type_str(&out[i], b2, sizeof b2));
	}
	return 0;
}

/* Acyclic: iterative DFS over producer edges with three colours. */
static int
check_dag(const Graph *g, Diag *d)
{
	uint8_t *col = xcalloc(g->nnodes + 1u, 1);
	IrNodeId *stack = xcalloc(g->nnodes + 1u, sizeof *stack);
	uint32_t *pos = xcalloc(g->nnodes + 1u, sizeof *pos);
	uint32_t s, sp;
	int r = 0;
	for (s = 0; s < g->nnodes && !r; s++) {
		if (col[s])
			continue;
		sp = 0;
		stack[sp++] = s;
		col[s] = 1;
		pos[s] = 0;
		while (sp && !r) {
			IrNodeId id = stack[sp - 1];
			const IrNode *n = &g->nodes[id];
			if (pos[id] < n->nin) {
				IrTensorId t = n->in[pos[id]++];
				IrNodeId p = t == IR_NONE ? IR_NONE : g->tensors[t].producer;
				if (p == IR_NONE)
					continue;
				if (col[p] == 1)
					r = ir_diag_loc(g, n->loc, d,
					                "node %u (%s): cycle through '%s'", id,
					                ir_ops[n->op].name, g->tensors[t].name);
				else if (col[p] == 0) {
					col[p] = 1;
					pos[p] = 0;
					stack[sp++] = p;
				}
			} else {
				col[id] = 2;
				sp--;
			}
		}
	}
	free(col);
	free(stack);
	free(pos);
	return r;
}

int
ir_verify(const Graph *g, Diag *d)
{
	IrNameMap names = {0}, outs = {0};
	uint32_t i;
	int r = 0;
	if (!g->name || !is_name(g->name))
		return diag_err(d, g->file, "graph has no valid name");
	for (i = 0; i < g->ntensors && !r; i++) {
		const IrTensor *x = &g->tensors[i];
		if (!is_name(x->name)) {
			r = ir_diag_loc(g, x->loc, d, "tensor %u has an invalid name", i);
			break;
		}
		if (irmap_get(&names, x->name) != IR_NONE) {
			r = ir_diag_loc(g, x->loc, d, "duplicate tensor name '%s'", x->name);
			break;
		}
		irmap_put(&names, x->name, i);
		if (x->kind >= IR_KIND_COUNT)
			r = ir_diag_loc(g, x->loc, d, "tensor '%s': invalid kind", x->name);
		else if (check_type(g, x, d))
			r = -1;
		else if ((x->kind == IR_INPUT || x->kind == IR_WEIGHT) && x->producer != IR_NONE)
			r = ir_diag_loc(g, x->loc, d, "%s '%s' has a producer",
			                ir_kind_names[x->kind], x->name);
		else if ((x->kind == IR_VALUE || x->kind == IR_OUTPUT) &&
		         (x->producer >= g->nnodes || x->prod_slot >= IR_MAXOUT ||
		          g->nodes[x->producer].out[x->prod_slot] != i))
			r = ir_diag_loc(g, x->loc, d, "value '%s' is not produced by any node",
			                x->name);
		else if (x->kind == IR_WEIGHT && ir_weight_check(g, i, d))
			r = -1;
	}
	for (i = 0; i < g->nnodes && !r; i++)
		r = check_handles(g, i, d);
	if (!r)
		r = check_dag(g, d);
	for (i = 0; i < g->nnodes && !r; i++)
		r = check_node(g, i, d);
	if (!r && g->noutputs == 0)
		r = diag_err(d, g->file, "graph '%s' has no outputs", g->name);
	for (i = 0; i < g->noutputs && !r; i++) {
		const IrOutput *o = &g->outputs[i];
		uint32_t prev;
		if (!is_name(o->name))
			r = ir_diag_loc(g, o->loc, d, "output %u has an invalid name", i);
		else if (irmap_get(&outs, o->name) != IR_NONE)
			r = ir_diag_loc(g, o->loc, d, "duplicate output name '%s'", o->name);
		else if (o->t >= g->ntensors)
			r = ir_diag_loc(g, o->loc, d, "output '%s' is not defined", o->name);
		else if ((prev = irmap_get(&names, o->name)) != IR_NONE &&
		         g->tensors[prev].kind == IR_INPUT)
			r = ir_diag_loc(g, o->loc, d, "output name '%s' is also an input", o->name);
		else if (g->tensors[o->t].kind == IR_VALUE)
			r = ir_diag_loc(g, o->loc, d,
			                "output '%s': its value should have kind output", o->name);
		irmap_put(&outs, o->name, i);
	}
	for (i = 0; i < g->ntensors && !r; i++)
		if (g->tensors[i].kind == IR_OUTPUT) {
			uint32_t k;
			for (k = 0; k < g->noutputs && g->outputs[k].t != i; k++)
				;
			if (k == g->noutputs)
				r = ir_diag_loc(g, g->tensors[i].loc, d,
				                "'%s' has kind output but is not a graph output",
				                g->tensors[i].name);
		}
	irmap_free(&names);
	irmap_free(&outs);
	return r;
}
