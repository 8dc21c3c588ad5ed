/* eval.c: the float reference of a layer chain (calibration, and the float baseline of
 * `kolmo run`): linear layers, KAN layers by the Cox-de Boor recursion (reference/kan.md), the
 * fused activations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccint.h"

static double
silu(double x)
{
	return x / (1.0 + exp(-x));
}

/* cc_bspline_basis: the nknots-k-1 B-spline basis values of order k at x (half-open intervals,
 * 0/0 := 0, no clamping: zero outside the knots). out needs nknots-1 doubles of scratch. */
double
cc_bspline_basis(const double *t, uint32_t nknots, uint32_t k, double x, double *out)
{
	uint32_t j, p, n = nknots - 1;
	for (j = 0; j < n; j++)
		out[j] = (t[j] <= x && x < t[j + 1]) ? 1.0 : 0.0;
	for (p = 1; p <= k; p++) {
		for (j = 0; j + p < n; j++) {
			double a = 0, b = 0, da = t[j + p] - t[j], db = t[j + p + 1] - t[j + 1];
			if (da != 0)
				a = (x - t[j]) / da * out[j];
			if (db != 0)
				b = (t[j + p + 1] - x) / db * out[j + 1];
			out[j] = a + b;
		}
	}
	return 0;
}

void
cc_layer_float(const CcLayer *l, const float *x, float *y, float *pre)
{
	uint32_t o, i, r;
	double *drive = malloc(sizeof(double) * l->rows);
	if (l->kind == CC_LINEAR) {
		for (i = 0; i < l->in_len; i++)
			drive[i] = x[i];
	} else {
		uint32_t nk = l->G + 2 * l->k + 1;
		double *t = malloc(sizeof(double) * nk), *bs = malloc(sizeof(double) * nk);
		for (i = 0; i < nk; i++)
			t[i] = l->lo + ((double)i - (double)l->k) * l->h;
		for (i = 0; i < l->in_len; i++) {
			drive[i] = l->base_identity ? x[i] : silu(x[i]);
			cc_bspline_basis(t, nk, l->k, x[i], bs);
			for (r = 0; r < l->nb; r++)
				drive[l->in_len + i * l->nb + r] = bs[r];
		}
		free(t);
		free(bs);
	}
	for (o = 0; o < l->out_len; o++) {
		double acc = l->bias ? l->bias[o] : 0.0, v;
		const float *w = l->w + (size_t)o * l->rows;
		for (r = 0; r < l->rows; r++)
			acc += (double)w[r] * drive[r];
		if (pre)
			pre[o] = (float)acc;
		v = acc;
		if (l->act == CC_ACT_RELU)
			v = v > 0 ? v : 0;
		else if (l->act == CC_ACT_SILU)
			v = silu(v);
		y[o] = (float)v;
	}
	free(drive);
}

/* An attention graph: q | k | v concatenated in the node's operand order, through the float
 * interpreter. */
static int
eval_attention(Graph *g, const float *in, float *out, Diag *d)
{
	const IrNode *n = NULL;
	const float *inputs[3];
	float *o = NULL;
	uint32_t i, k, slot;
	size_t at = 0;
	for (i = 0; i < g->nnodes; i++)
		if (g->nodes[i].op == IR_OP_attention || g->nodes[i].op == IR_OP_sparse_attention)
			n = &g->nodes[i];
	if (!n)
		return diag_err(d, g->file, "no attention node");
	for (i = 0, k = 0; i < g->ntensors; i++)
		k += g->tensors[i].kind == IR_INPUT;
	if (k == 1) { /* an attention layer: x */
		inputs[0] = in;
		goto interp;
	}
	for (slot = 0; slot < 3; slot++) {
		/* the position of operand `slot` among the graph inputs (tensor order) */
		for (i = 0, k = 0; i < n->in[slot]; i++)
			k += g->tensors[i].kind == IR_INPUT;
		if (k >= 3)
			return diag_err(d, g->file,
			                "attention operands must be the graph's inputs");
		inputs[k] = in + at;
		at += (size_t)ir_type_elems(&g->tensors[n->in[slot]].type);
	}
interp:
	if (cc_interp(g, inputs, &o, d))
		return -1;
	memcpy(out, o, sizeof(float) * (size_t)ir_type_elems(&g->tensors[g->outputs[0].t].type));
	free(o);
	return 0;
}

int
cc_attention_dense(Graph *g, const float *in, float *out, Diag *d)
{
	const IrNode *n = NULL;
	IrNodeId id = 0;
	const IrType *tq, *tk, *tv;
	const IrAttr *sa;
	int64_t B, H, N, M, D, Dv, bh;
	uint32_t i;
	for (i = 0; i < g->nnodes; i++)
		if (g->nodes[i].op == IR_OP_attention || g->nodes[i].op == IR_OP_sparse_attention)
			n = &g->nodes[i], id = i;
	if (!n)
		return diag_err(d, g->file, "no attention node");
	tq = &g->tensors[n->in[0]].type, tk = &g->tensors[n->in[1]].type;
	tv = &g->tensors[n->in[2]].type;
	B = tq->dim[0], H = tq->dim[1], N = tq->dim[2], D = tq->dim[3], M = tk->dim[2];
	Dv = tv->dim[3];
	sa = ir_attr(g, id, "scale");
	for (bh = 0; bh < B * H; bh++)
		cc_attention_head(in + bh * N * D, in + B * H * N * D + bh * M * D,
		                  in + B * H * (N * D + M * D) + bh * M * Dv, N, M, D, Dv,
		                  sa && sa->set ? sa->f : 1.0 / sqrt((double)D),
		                  (int)ir_attr_int(g, id, "causal"), out + bh * N * Dv);
	return 0;
}

int
cc_eval_float(Graph *g, const float *in, float *out, Diag *d)
{
	CcModel m;
	uint32_t i, b, maxlen;
	float *a, *t;
	if (cc_is_attention(g))
		return eval_attention(g, in, out, d);
	memset(&m, 0, sizeof m);
	m.g = g;
	m.arena = arena_new();
	if (cc_canonicalize(g, d) || cc_pass_check(&m, d)) {
		arena_free(m.arena);
		return -1;
	}
	maxlen = m.in_len;
	for (i = 0; i < m.nlayers; i++)
		if (m.layers[i].out_len > maxlen)
			maxlen = m.layers[i].out_len;
	a = malloc(sizeof(float) * maxlen);
	t = malloc(sizeof(float) * maxlen);
	for (b = 0; b < m.batch; b++) {
		memcpy(a, in + (size_t)b * m.in_len, sizeof(float) * m.in_len);
		for (i = 0; i < m.nlayers; i++) {
			float *tmp;
			cc_layer_float(&m.layers[i], a, t, NULL);
			tmp = a, a = t, t = tmp;
		}
		memcpy(out + (size_t)b * m.out_len, a, sizeof(float) * m.out_len);
	}
	free(a);
	free(t);
	arena_free(m.arena);
	return 0;
}
