/* print.c: the canonical .kir text of a graph. Declarations and nodes come out in handle order
 * (a node just before its first use requires it, so built graphs print in a valid order too);
 * numbers in the shortest form that reads back exactly. print(parse(print(g))) == print(g). */
#include "irint.h"

#include <stdlib.h>
#include <string.h>

static void
put_type(IrBuf *b, const IrType *t)
{
	char buf[160], num[40];
	uint32_t i;
	irbuf_puts(b, ir_type_str(t, buf, sizeof buf));
	if (!t->q.nscale)
		return;
	if (t->q.axis < 0) {
		ir_fmt_float(num, sizeof num, t->q.scale[0]);
		irbuf_printf(b, " quant(%s)", num);
		return;
	}
	irbuf_printf(b, " quant(axis=%d, [", t->q.axis);
	for (i = 0; i < t->q.nscale; i++) {
		ir_fmt_float(num, sizeof num, t->q.scale[i]);
		irbuf_printf(b, "%s%s", i ? ", " : "", num);
	}
	irbuf_puts(b, "])");
}

static void
put_ref(IrBuf *b, const Graph *g, IrTensorId t)
{
	if (t == IR_NONE || t >= g->ntensors)
		irbuf_puts(b, "_");
	else if (g->tensors[t].producer == IR_NONE)
		irbuf_puts(b, g->tensors[t].name);
	else
		irbuf_printf(b, "%%%s", g->tensors[t].name);
}

static void
put_attr(IrBuf *b, const IrAttrSpec *spec, const IrAttr *a)
{
	char num[40];
	uint32_t i;
	switch (a->type) {
	case IR_A_INT:
		irbuf_printf(b, "%lld", (long long)a->i);
		break;
	case IR_A_FLOAT:
		ir_fmt_double(num, sizeof num, a->f);
		irbuf_puts(b, num);
		break;
	case IR_A_BOOL:
		irbuf_puts(b, a->i ? "true" : "false");
		break;
	case IR_A_ENUM:
		irbuf_puts(b, ir_enum_name(spec->enums, a->i, num, sizeof num));
		break;
	case IR_A_INTS:
		irbuf_puts(b, "[");
		for (i = 0; i < a->n; i++)
			irbuf_printf(b, "%s%lld", i ? ", " : "", (long long)a->ints[i]);
		irbuf_puts(b, "]");
		break;
	default:
		irbuf_puts(b, "[");
		for (i = 0; i < a->n; i++) {
			ir_fmt_double(num, sizeof num, a->floats[i]);
			irbuf_printf(b, "%s%s", i ? ", " : "", num);
		}
		irbuf_puts(b, "]");
		break;
	}
}

static void
put_decl(IrBuf *b, const Graph *g, const IrTensor *x)
{
	char n1[40], n2[40];
	irbuf_printf(b, "  %s %s : ", x->kind == IR_INPUT ? "input" : "weight", x->name);
	put_type(b, &x->type);
	if (x->kind == IR_INPUT) {
		irbuf_puts(b, "\n");
		return;
	}
	irbuf_puts(b, " = ");
	switch (x->w.src) {
	case IR_W_SAFETENSORS:
		irbuf_printf(b, "safetensors(\"%s\", \"%s\")", x->w.path ? x->w.path : "",
		             x->w.key ? x->w.key : "");
		break;
	case IR_W_RANDOM:
		ir_fmt_double(n1, sizeof n1, x->w.a);
		ir_fmt_double(n2, sizeof n2, x->w.b);
		irbuf_printf(b, "random(%s, %s, %s, seed=%llu)",
		             x->w.dist == IR_NORMAL ? "normal" : "uniform", n1, n2,
		             (unsigned long long)x->w.seed);
		break;
	case IR_W_FILL:
		ir_fmt_double(n1, sizeof n1, x->w.a);
		irbuf_printf(b, "fill(%s)", n1);
		break;
	default: {
		int64_t i, n = ir_type_elems(&x->type);
		irbuf_puts(b, "data([");
		for (i = 0; x->w.data && i < n; i++) {
			ir_fmt_float(n1, sizeof n1, x->w.data[i]);
			irbuf_printf(b, "%s%s", i ? ", " : "", n1);
		}
		irbuf_puts(b, "])");
	}
	}
	(void)g;
	irbuf_puts(b, "\n");
}

static void
put_node(IrBuf *b, const Graph *g, const IrNode *n)
{
	const IrOpInfo *oi = &ir_ops[n->op];
	uint32_t i, k = 0;
	irbuf_puts(b, "  ");
	for (i = 0; i < n->nout; i++) {
		irbuf_puts(b, i ? ", " : "");
		put_ref(b, g, n->out[i]);
	}
	irbuf_printf(b, " = %s(", oi->name);
	for (i = 0; i < n->nin; i++) {
		irbuf_puts(b, i ? ", " : "");
		put_ref(b, g, n->in[i]);
	}
	irbuf_puts(b, ")");
	for (i = 0; i < oi->nattr; i++) {
		if (!n->attr[i].given || !n->attr[i].set)
			continue;
		irbuf_printf(b, "%s%s = ", k++ ? ", " : " {", oi->attrs[i].name);
		put_attr(b, &oi->attrs[i], &n->attr[i]);
	}
	if (k)
		irbuf_puts(b, "}");
	irbuf_puts(b, " : ");
	for (i = 0; i < n->nout; i++) {
		irbuf_puts(b, i ? ", " : "");
		if (n->out[i] < g->ntensors)
			put_type(b, &g->tensors[n->out[i]].type);
	}
	irbuf_puts(b, "\n");
}

/* Print node `start` after any unprinted producers of its operands (iteratively; a cycle, which
 * the verifier rejects, is broken rather than looped on). */
static void
emit_node(IrBuf *b, const Graph *g, IrNodeId start, uint8_t *state, IrNodeId *stack,
          uint8_t *declared)
{
	uint32_t sp = 0;
	stack[sp++] = start;
	state[start] = 1;
	while (sp) {
		IrNodeId id = stack[sp - 1];
		const IrNode *n = &g->nodes[id];
		uint32_t i;
		int pushed = 0;
		for (i = 0; i < n->nin && !pushed; i++) {
			IrTensorId t = n->in[i];
			IrNodeId p = t < g->ntensors ? g->tensors[t].producer : IR_NONE;
			if (p < g->nnodes && state[p] == 0) {
				state[p] = 1;
				stack[sp++] = p;
				pushed = 1;
			}
		}
		if (pushed)
			continue;
		/* Inputs and weights a pass added after their users are declared just before. */
		for (i = 0; i < n->nin; i++) {
			IrTensorId t = n->in[i];
			if (t < g->ntensors && !declared[t] &&
			    (g->tensors[t].kind == IR_INPUT || g->tensors[t].kind == IR_WEIGHT)) {
				put_decl(b, g, &g->tensors[t]);
				declared[t] = 1;
			}
		}
		put_node(b, g, n);
		state[id] = 2;
		sp--;
	}
}

char *
ir_print(const Graph *g)
{
	IrBuf b = {0};
	uint8_t *state = xcalloc(g->nnodes + 1u, 1);
	IrNodeId *stack = xcalloc(g->nnodes + 1u, sizeof *stack);
	uint8_t *declared = xcalloc(g->ntensors + 1u, 1);
	uint32_t i;
	irbuf_printf(&b, "kir %d\ngraph %s {\n", IR_KIR_VERSION, g->name);
	for (i = 0; i < g->ntensors; i++) {
		const IrTensor *x = &g->tensors[i];
		if (x->kind == IR_INPUT || x->kind == IR_WEIGHT) {
			if (!declared[i])
				put_decl(&b, g, x);
			declared[i] = 1;
		} else if (x->producer < g->nnodes && state[x->producer] == 0) {
			emit_node(&b, g, x->producer, state, stack, declared);
		}
	}
	for (i = 0; i < g->nnodes; i++) /* nodes without results in the table (invalid graphs) */
		if (state[i] == 0)
			emit_node(&b, g, i, state, stack, declared);
	for (i = 0; i < g->noutputs; i++) {
		irbuf_printf(&b, "  output %s = ", g->outputs[i].name);
		put_ref(&b, g, g->outputs[i].t);
		irbuf_puts(&b, "\n");
	}
	irbuf_puts(&b, "}\n");
	free(state);
	free(stack);
	free(declared);
	return b.p;
}
