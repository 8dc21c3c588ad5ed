/* pass_check.c: read the graph as a chain of layers the CIM target runs.
 * Requires: a verified graph. Produces: m->layers with float parameters in drive order, fused
 * activations (a relu or silu that follows a layer becomes its epilogue: the fold step), the
 * model's input and output. Errors point at the offending op or tensor in the .kir source. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ccint.h"

int
cc_layer_error(const CcModel *m, const CcLayer *l, Diag *d, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (l && l->loc.line)
		return diag_at(d, m->g->file, (int)l->loc.line, (int)l->loc.col,
		               diag_src_line(m->g->src, (int)l->loc.line), "%s", msg);
	return diag_err(d, m->g->file, "%s", msg);
}

static int node_error(const CcModel *m, const IrNode *n, Diag *d, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
node_error(const CcModel *m, const IrNode *n, Diag *d, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n->loc.line)
		return diag_at(d, m->g->file, (int)n->loc.line, (int)n->loc.col,
		               diag_src_line(m->g->src, (int)n->loc.line), "%s", msg);
	return diag_err(d, m->g->file, "%s", msg);
}

/* The feature count of a [batch, F] (or [F] when batch is 1) tensor, or 0. */
static uint32_t
vec_len(const IrType *t, uint32_t batch)
{
	if (t->rank == 1 && batch == 1)
		return (uint32_t)t->dim[0];
	if (t->rank == 2 && t->dim[0] == (int64_t)batch)
		return (uint32_t)t->dim[1];
	return 0;
}

static const float *
wdata(CcModel *m, IrTensorId t, Diag *d)
{
	return ir_weight_data(m->g, t, d);
}

static int
build_linear(CcModel *m, const IrNode *n, CcLayer *l, Diag *d)
{
	const float *w, *b = NULL;
	uint32_t o, r;
	w = wdata(m, n->in[1], d);
	if (!w)
		return -1;
	if (n->nin > 2 && n->in[2] != IR_NONE && !(b = wdata(m, n->in[2], d)))
		return -1;
	l->kind = CC_LINEAR;
	l->rows = l->in_len;
	l->w = arena_alloc(m->arena, sizeof(float) * l->rows * l->out_len);
	for (o = 0; o < l->out_len; o++)
		for (r = 0; r < l->rows; r++)
			l->w[(size_t)o * l->rows + r] = w[(size_t)o * l->in_len + r];
	if (b) {
		l->bias = arena_alloc(m->arena, sizeof(float) * l->out_len);
		memcpy(l->bias, b, sizeof(float) * l->out_len);
	}
	return 0;
}

static int
build_kan(CcModel *m, IrNodeId id, const IrNode *n, CcLayer *l, Diag *d)
{
	Graph *g = m->g;
	const IrAttr *range = ir_attr(g, id, "grid_range"), *knots = ir_attr(g, id, "knots");
	const float *base, *spline, *scaler = NULL;
	uint32_t o, i, c, I = l->in_len;
	l->kind = CC_KAN;
	l->G = (uint32_t)ir_attr_int(g, id, "grid_size");
	l->k = (uint32_t)ir_attr_int(g, id, "spline_order");
	l->nb = l->G + l->k;
	l->lo = range->floats[0];
	l->hi = range->floats[1];
	l->h = (l->hi - l->lo) / l->G;
	l->base_identity = ir_attr_int(g, id, "base_activation") == 1;
	if (n->nin > 4 && n->in[4] != IR_NONE)
		return node_error(m, n, d,
		                  "kan_linear with per-input knots is not supported by the CIM "
		                  "target yet (use a uniform grid_range)");
	if (knots->set) {
		/* Explicit knots must be the uniform grid: the SBU evaluates uniform grids. */
		uint32_t j;
		double h = knots->floats[1] - knots->floats[0];
		for (j = 1; j + 1 < knots->n; j++)
			if (fabs(knots->floats[j + 1] - knots->floats[j] - h) > 1e-6 * fabs(h))
				return node_error(
				    m, n, d,
				    "kan_linear with a non-uniform knot vector is not "
				    "supported by the spline basis unit yet");
		l->h = h;
		l->lo = knots->floats[l->k];
		l->hi = knots->floats[l->k + l->G];
	}
	if (l->k < 1 || l->k > 15)
		return node_error(m, n, d, "spline order %u: the SBU supports 1..15", l->k);
	if (!(l->h > 0))
		return node_error(m, n, d, "kan_linear grid range must be increasing");
	base = wdata(m, n->in[1], d);
	spline = base ? wdata(m, n->in[2], d) : NULL;
	if (!base || !spline)
		return -1;
	if (n->nin > 3 && n->in[3] != IR_NONE && !(scaler = wdata(m, n->in[3], d)))
		return -1;
	l->rows = I * (1 + l->nb);
	l->w = arena_alloc(m->arena, sizeof(float) * l->rows * l->out_len);
	for (o = 0; o < l->out_len; o++) {
		float *wo = l->w + (size_t)o * l->rows;
		for (i = 0; i < I; i++) {
			float sc = scaler ? scaler[(size_t)o * I + i] : 1.0f;
			wo[i] = base[(size_t)o * I + i];
			for (c = 0; c < l->nb; c++)
				wo[I + i * l->nb + c] =
				    spline[((size_t)o * I + i) * l->nb + c] * sc;
		}
	}
	return 0;
}

int
cc_layer_build(CcModel *m, IrNodeId id, CcLayer *l, Diag *d)
{
	const IrNode *n = &m->g->nodes[id];
	return n->op == IR_OP_linear ? build_linear(m, n, l, d) : build_kan(m, id, n, l, d);
}

int
cc_pass_check(CcModel *m, Diag *d)
{
	Graph *g = m->g;
	uint32_t i, ninputs = 0;
	IrTensorId cur = IR_NONE;
	const IrTensor *in = NULL;
	for (i = 0; i < g->ntensors; i++)
		if (g->tensors[i].kind == IR_INPUT) {
			ninputs++;
			cur = i;
			in = &g->tensors[i];
		}
	if (ninputs != 1)
		return diag_err(d, g->file,
		                "the CIM target compiles models with one input (this one has %u)",
		                ninputs);
	if (g->noutputs != 1)
		return diag_err(d, g->file,
		                "the CIM target compiles models with one output (this one has %u)",
		                g->noutputs);
	m->batch = in->type.rank == 2 ? (uint32_t)in->type.dim[0] : 1;
	m->in_len = in->type.rank <= 2 ? vec_len(&in->type, m->batch) : 0;
	m->in_name = in->name;
	m->in_loc = in->loc;
	if (!m->in_len || m->batch > 4096)
		return diag_at(
		    d, g->file, (int)in->loc.line, (int)in->loc.col,
		    diag_src_line(g->src, (int)in->loc.line),
		    "input '%s' must be [F] or [B, F] with B <= 4096 samples of F features",
		    in->name);
	m->layers = arena_alloc(m->arena, sizeof(CcLayer) * (g->nnodes + 1));
	for (i = 0; i < g->nnodes; i++) {
		const IrNode *n = &g->nodes[i];
		const IrTensor *out = &g->tensors[n->out[0]];
		if (n->in[0] != cur)
			return node_error(
			    m, n, d,
			    "the CIM target compiles a chain of layers: '%s' does not "
			    "consume the previous result",
			    ir_ops[n->op].name);
		if (n->op == IR_OP_relu || n->op == IR_OP_silu) {
			CcLayer *l = m->nlayers ? &m->layers[m->nlayers - 1] : NULL;
			if (!l || l->act != CC_ACT_NONE)
				return node_error(
				    m, n, d,
				    "'%s' must follow a linear or kan_linear layer (it "
				    "is fused into it)",
				    ir_ops[n->op].name);
			l->act = n->op == IR_OP_relu ? CC_ACT_RELU : CC_ACT_SILU;
			l->name = out->name;
		} else if (n->op == IR_OP_linear || n->op == IR_OP_kan_linear) {
			CcLayer *l = &m->layers[m->nlayers++];
			l->node = i;
			l->loc = n->loc;
			l->name = out->name;
			l->in_len = vec_len(&g->tensors[n->in[0]].type, m->batch);
			l->out_len = vec_len(&out->type, m->batch);
			if (!l->in_len || !l->out_len)
				return node_error(
				    m, n, d,
				    "'%s' must map [B, F] to [B, F'] (one vector per sample)",
				    ir_ops[n->op].name);
			if (n->op == IR_OP_linear ? build_linear(m, n, l, d)
			                          : build_kan(m, i, n, l, d))
				return -1;
		} else {
			return node_error(
			    m, n, d,
			    "op '%s' is not supported by the CIM target yet (supported: "
			    "linear, kan_linear, relu, silu)",
			    ir_ops[n->op].name);
		}
		cur = n->out[0];
	}
	if (m->nlayers == 0)
		return diag_err(d, g->file, "the model has no linear or kan_linear layer");
	if (g->outputs[0].t != cur)
		return diag_err(d, g->file, "the output must be the last layer's result");
	m->out_len = m->layers[m->nlayers - 1].out_len;
	m->out_name = g->outputs[0].name;
	return 0;
}
