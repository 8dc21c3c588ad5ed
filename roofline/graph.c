/* graph.c: graph IR -> op descriptors: for each node, the matrix it multiplies (static weights or
 * dynamic operands), its vector lane operations, the activation bytes it reads and writes and its
 * compulsory DRAM traffic. Lane operations per element and the attention accounting are the
 * tables and formulas of docs/roofline.md ("Ops of the graph IR"). */
#include "roofline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* VFU lane operations per element (docs/roofline.md): silu = LUT exp, add, reciprocal, multiply;
 * softmax = max, subtract, LUT exp, sum, multiply by the reciprocal; layernorm = sum, subtract,
 * square, sum, scale, gamma, beta, rounding; rmsnorm = square, sum, scale, gamma, rounding;
 * one score of attention = scale + softmax. */
enum {
	OPS_SILU = 4,
	OPS_SOFTMAX = 5,
	OPS_LAYERNORM = 8,
	OPS_RMSNORM = 5,
	OPS_SCORE = 6,
	OPS_FEATURE = 4,
	OPS_COMBINE = 3
};

typedef struct Ctx {
	const Graph *g;
	const RfCeilings *c;
	unsigned char *seen_input; /* graph inputs already read from DRAM */
} Ctx;

static double
elems(const Graph *g, IrTensorId t)
{
	return (double)ir_type_elems(&g->tensors[t].type);
}

static int64_t
dim(const Graph *g, IrTensorId t, int i)
{
	const IrType *ty = &g->tensors[t].type;
	if (i < 0)
		i += ty->rank;
	return i >= 0 && i < ty->rank ? ty->dim[i] : 1;
}

static int
is_weight(const Graph *g, IrTensorId t)
{
	return t != IR_NONE && g->tensors[t].kind == IR_WEIGHT;
}

static int
is_matrix2(const Graph *g, IrTensorId t)
{
	return is_weight(g, t) && g->tensors[t].type.rank == 2;
}

/* Operand i of nd is the stationary weight matrix of a matrix product (held in the arrays). */
static int
is_matrix(const Graph *g, const IrNode *nd, unsigned i)
{
	switch (nd->op) {
	case IR_OP_linear:
		return i == 1 && is_weight(g, nd->in[1]);
	case IR_OP_kan_linear:
		return i >= 1 && i <= 3 && is_weight(g, nd->in[i]);
	case IR_OP_matmul:
		if (is_matrix2(g, nd->in[1]))
			return i == 1;
		return i == 0 && is_matrix2(g, nd->in[0]);
	default:
		return 0;
	}
}

/* Fraction of the Sq x Sk score matrix a causal mask keeps (queries aligned to the last keys). */
static double
causal_frac(double sq, double sk)
{
	double o = sk - sq, kept;
	if (sq <= 0 || sk <= 0)
		return 0;
	if (o >= 0)
		kept = sq * (1 + o) + sq * (sq - 1) / 2;
	else
		kept = (sq + o) > 0 ? (sq + o) * (sq + o + 1) / 2 : 0;
	return kept / (sq * sk);
}

/* SpargeAttn block-mask prediction (sparse_attention.md section 1): mean-pool q and k blocks,
 * pooled scores, softmax over key blocks, top-k/top-p selection. The self-similarity check is
 * not counted (a few percent of the pooling). */
static void
mask_cost(const Ctx *x, IrNodeId nid, RfOpDesc *o, double *kappa)
{
	const Graph *g = x->g;
	const IrNode *nd = &g->nodes[nid];
	IrTensorId q = nd->in[0], k = nd->in[1];
	double bh = (double)(dim(g, q, 0) * dim(g, q, 1)), D = (double)dim(g, q, -1);
	double sq = (double)dim(g, q, -2), sk = (double)dim(g, k, -2);
	double nq = ceil(sq / (double)ir_attr_int(g, nid, "blkq"));
	double nk = ceil(sk / (double)ir_attr_int(g, nid, "blkk"));
	double rho = ir_attr_float(g, nid, "rho"), sel;
	int64_t mode = ir_attr(g, nid, "mode")->i; /* 0 topk, 1 topp, 2 hybrid */

	o->vfu_ops += elems(g, q) + elems(g, k);              /* pooling */
	o->vfu_ops += bh * nq * nk * D;                       /* pooled scores */
	o->vfu_ops += OPS_SOFTMAX * bh * nq * nk;             /* softmax over key blocks */
	o->sel_ops += bh * nq * nk * fmax(1, ceil(log2(nk))); /* selection */
	/* Kept fraction of key blocks: top-k keeps ceil(rho nk); the hybrid union keeps at least
	 * that; top-p keeps at least one block. A lower bound in every mode. */
	sel = mode == 1 ? 1 / nk : ceil(rho * nk) / nk;
	*kappa = sel > 1 ? 1 : sel;
}

static void
attention_cost(const Ctx *x, IrNodeId nid, RfOpDesc *o, int sparse)
{
	const Graph *g = x->g;
	const IrNode *nd = &g->nodes[nid];
	IrTensorId q = nd->in[0], k = nd->in[1], v = nd->in[2];
	double bh = (double)(dim(g, q, 0) * dim(g, q, 1)), D = (double)dim(g, q, -1);
	double Dv = (double)dim(g, v, -1), sq = (double)dim(g, q, -2), sk = (double)dim(g, k, -2);
	double kappa = 1, frac = 1, pairs;
	if (ir_attr(g, nid, "causal")->i)
		frac = causal_frac(sq, sk);
	if (sparse)
		mask_cost(x, nid, o, &kappa);
	pairs = bh * sq * sk * frac * kappa;
	o->dyn_macs += pairs * (D + Dv);
	o->dyn_elems += elems(g, k) + elems(g, v);
	o->vfu_ops += OPS_SCORE * pairs;
	if (sparse && ir_attr(g, nid, "combine")->i != 0) {
		/* SLA linear branch: phi(q), phi(k), K^T V state, phi(q) state, combine. */
		o->vfu_ops += OPS_FEATURE * (elems(g, q) + elems(g, k));
		o->dyn_macs += bh * sk * D * Dv + bh * sq * (D * Dv + D);
		o->vfu_ops += OPS_COMBINE * bh * sq * Dv;
	}
}

static int
node_desc(Ctx *x, IrNodeId nid, RfOpDesc *o, Diag *d)
{
	const Graph *g = x->g;
	const RfCeilings *c = x->c;
	const IrNode *nd = &g->nodes[nid];
	IrTensorId y = nd->out[0];
	double ab = c->act_bytes, out_e = elems(g, y);
	unsigned i;

	memset(o, 0, sizeof *o);
	snprintf(o->name, sizeof o->name, "%s", g->tensors[y].name);
	snprintf(o->op, sizeof o->op, "%s", ir_ops[nd->op].name);
	o->gate = 1;
	/* With row gating a row is activated only when its input is nonzero, which depends on
	 * the data (ReLU zeros, a spline row outside its input's knot interval): the energy
	 * bound counts no row activation. */
	o->gate_min = 0;

	if (nd->op == IR_OP_reshape)
		return 0; /* metadata only */
	/* Activation operands (and small constants read by vector ops) cross tile memory. */
	for (i = 0; i < nd->nin; i++) {
		IrTensorId t = nd->in[i];
		if (t == IR_NONE)
			continue;
		if (is_matrix(g, nd, i))
			continue; /* the matrix itself: in the arrays */
		o->in_bytes += elems(g, t) * ab;
		/* The model's inputs and outputs are placed on chip by the host, as the simulator
		 * loads them; only spills go to DRAM. */
		(void)x;
		if (g->tensors[t].kind != IR_WEIGHT &&
		    elems(g, t) * ab > (double)c->tmem_total_bytes)
			o->dram_bytes += elems(g, t) * ab; /* spilled: read back from DRAM */
	}
	for (i = 0; i < nd->nout; i++) {
		IrTensorId t = nd->out[i];
		o->out_bytes += elems(g, t) * ab;
		if (elems(g, t) * ab > (double)c->tmem_total_bytes)
			o->dram_bytes += elems(g, t) * ab;
	}

	switch (nd->op) {
	case IR_OP_kan_linear: {
		IrTensorId xin = nd->in[0], sp = nd->in[2];
		double in = (double)dim(g, xin, -1), nb = (double)dim(g, sp, -1);
		int k = (int)ir_attr_int(g, nid, "spline_order");
		o->m = elems(g, xin) / in;
		o->rows = (int64_t)(in * (nb + 1));
		o->cols = dim(g, y, -1);
		o->gate = (k + 2) / (nb + 1);

		o->sbu_values = o->m * in * nb;
		o->drive_bytes = o->m * (double)o->rows * ab;
		if (ir_attr(g, nid, "base_activation")->i == 0)
			o->vfu_ops += OPS_SILU * o->m * in;
		return 0;
	}
	case IR_OP_linear: {
		double in = (double)dim(g, nd->in[0], -1), out = (double)dim(g, y, -1);
		double m = elems(g, nd->in[0]) / in;
		if (is_weight(g, nd->in[1])) {
			o->m = m;
			o->rows = (int64_t)in;
			o->cols = (int64_t)out;
		} else {
			o->dyn_macs = m * in * out;
			o->dyn_elems = elems(g, nd->in[1]);
		}
		if (nd->nin > 2 && nd->in[2] != IR_NONE)
			o->vfu_ops += m * out;
		return 0;
	}
	case IR_OP_matmul: {
		IrTensorId a = nd->in[0], b = nd->in[1];
		int ta = (int)ir_attr(g, nid, "transpose_a")->i;
		double K = (double)dim(g, a, ta ? -2 : -1), N = (double)dim(g, y, -1);
		if (is_matrix2(g, b)) {
			o->m = out_e / N;
			o->rows = (int64_t)K;
			o->cols = (int64_t)N;
		} else if (is_matrix2(g, a)) {
			double M = (double)dim(g, y, -2);
			o->m = out_e / M; /* y^T = b^T a^T: a is the stationary matrix */
			o->rows = (int64_t)K;
			o->cols = (int64_t)M;
		} else {
			o->dyn_macs = out_e * K;
			o->dyn_elems = elems(g, b);
		}
		return 0;
	}
	case IR_OP_add:
	case IR_OP_mul:
	case IR_OP_sub:
	case IR_OP_div:
	case IR_OP_relu:
	case IR_OP_exp:
		o->vfu_ops = out_e;
		return 0;
	case IR_OP_sigmoid:
	case IR_OP_tanh:
		o->vfu_ops = OPS_SILU * out_e; /* one exp and one division, like SiLU */
		return 0;
	case IR_OP_silu:
		o->vfu_ops = OPS_SILU * out_e;
		return 0;
	case IR_OP_softmax:
		o->vfu_ops = OPS_SOFTMAX * out_e;
		return 0;
	case IR_OP_layernorm:
		o->vfu_ops = OPS_LAYERNORM * out_e;
		return 0;
	case IR_OP_rmsnorm:
		o->vfu_ops = OPS_RMSNORM * out_e;
		return 0;
	case IR_OP_transpose:
	case IR_OP_concat:
		return 0; /* data movement through tile memory only */
	case IR_OP_attention:
		attention_cost(x, nid, o, 0);
		return 0;
	case IR_OP_sparse_attention:
		attention_cost(x, nid, o, 1);
		return 0;
	case IR_OP_block_mask: {
		double kappa;
		mask_cost(x, nid, o, &kappa);
		return 0;
	}
	case IR_OP_linear_attention: {
		IrTensorId q = nd->in[0], k = nd->in[1], v = nd->in[2];
		double bh = (double)(dim(g, q, 0) * dim(g, q, 1)), D = (double)dim(g, q, -1);
		double Dv = (double)dim(g, v, -1);
		double sq = (double)dim(g, q, -2), sk = (double)dim(g, k, -2);
		o->vfu_ops = OPS_FEATURE * (elems(g, q) + elems(g, k)) + bh * sq * Dv;
		o->dyn_macs = bh * sk * D * Dv + bh * sq * (D * Dv + D);
		o->dyn_elems = elems(g, k) + elems(g, v);
		return 0;
	}
	default:
		break;
	}
	return diag_err(d, g->file, "the roofline has no cost rule for op '%s' (node %%%s)",
	                ir_ops[nd->op].name, g->tensors[y].name);
}

int
rf_graph_descs(const Graph *g, const RfCeilings *c, RfOpDesc **out, uint32_t *n, Diag *d)
{
	Ctx x;
	RfOpDesc *ops = xcalloc(g->nnodes ? g->nnodes : 1, sizeof *ops);
	uint32_t i;
	x.g = g;
	x.c = c;
	x.seen_input = xcalloc(g->ntensors ? g->ntensors : 1, 1);
	for (i = 0; i < g->nnodes; i++)
		if (node_desc(&x, i, &ops[i], d)) {
			free(ops);
			free(x.seen_input);
			return -1;
		}
	free(x.seen_input);
	*out = ops;
	*n = g->nnodes;
	return 0;
}
