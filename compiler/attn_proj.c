/* attn_proj.c: the pattern and formats of an attention layer (docs/attention.md, "Attention layers
 * and KAN-former blocks"):
 *
 *   x [1, N, Dm] -> linear (wq, bq) -> reshape [1, N, H, D]  -> transpose [0, 2, 1, 3] -> q
 *                -> linear (wk, bk) -> reshape [1, N, Hk, D] -> transpose               -> k
 *                -> linear (wv, bv) -> reshape [1, N, Hk, Dv] -> transpose              -> v
 *   attention (q, k, v) -> transpose [0, 2, 1, 3] -> reshape [1, N, H Dv] -> linear (wo, bo) -> y
 *
 * optionally with layernorm(x) before the projections and + x after (pre-norm), and after that a
 * transformer block's feed-forward (attn_ffn.c). Check and formats: x is i8 at the input range's
 * scale; every tensor's range comes from the float interpreter on a seeded draw of x in the input
 * range; each weight matrix is quantised per output channel; q, k and v share one scale (the
 * attention kernel's). The integer reference of one projection is here too; the code is
 * attn_phase.c. */
#include <math.h>
#include <string.h>

#include "attn.h"
#include "interp.h"

/* The node reading tensor t, when exactly one does; else IR_NONE. */
static IrNodeId
sole_consumer(const Graph *g, IrTensorId t)
{
	IrNodeId found = IR_NONE;
	uint32_t i, k;
	for (i = 0; i < g->nnodes; i++)
		for (k = 0; k < g->nodes[i].nin; k++)
			if (g->nodes[i].in[k] == t) {
				if (found != IR_NONE && found != i)
					return IR_NONE;
				found = i;
			}
	return found;
}

static int
is_head_perm(const Graph *g, IrNodeId n)
{
	const IrAttr *p = ir_attr(g, n, "perm");
	return p && p->n == 4 && p->ints[0] == 0 && p->ints[1] == 2 && p->ints[2] == 1 &&
	       p->ints[3] == 3;
}

/* Node n must be op `op` (with the head permutation, for transpose); a located error if not. */
static int
want(const CcModel *m, IrNodeId n, IrLoc at, unsigned op, const char *role, Diag *d)
{
	const Graph *g = m->g;
	if (n == IR_NONE || g->nodes[n].op != op || (op == IR_OP_transpose && !is_head_perm(g, n)))
		return cc_attn_error(
		    m, n == IR_NONE ? at : g->nodes[n].loc, d,
		    "attention layer: expected %s%s here (%s), the pattern x -> linear -> reshape "
		    "-> transpose [0, 2, 1, 3] -> attention -> transpose -> reshape -> linear",
		    ir_ops[op].name, op == IR_OP_transpose ? " [0, 2, 1, 3]" : "", role);
	return 0;
}

/* Quantise linear node n into p: weights per output channel, bias at the accumulator scale,
 * multipliers from s_in to s_out. */
static int
quant_proj(CcModel *m, IrNodeId n, CcProj *p, Diag *d)
{
	Graph *g = m->g;
	const IrNode *nd = &g->nodes[n];
	const float *w = ir_weight_data(g, nd->in[1], d), *b = NULL;
	double mmax = 0, *sw;
	uint32_t o, i;
	if (!w)
		return -1;
	if (nd->nin > 2 && !(b = ir_weight_data(g, nd->in[2], d)))
		return -1;
	sw = xcalloc(p->dout, sizeof *sw);
	p->w = arena_alloc(m->arena, (size_t)p->dout * p->din);
	p->bias = arena_alloc(m->arena, sizeof(int32_t) * p->dout);
	p->mult = arena_alloc(m->arena, sizeof(int32_t) * p->dout);
	for (o = 0; o < p->dout; o++) {
		double mx = 0, bq;
		for (i = 0; i < p->din; i++)
			mx = fmax(mx, fabs(w[(size_t)o * p->din + i]));
		sw[o] = mx > 0 ? mx / 127.0 : 1.0;
		for (i = 0; i < p->din; i++)
			p->w[(size_t)o * p->din + i] =
			    (int8_t)lround(w[(size_t)o * p->din + i] / sw[o]);
		bq = b ? floor(b[o] / (p->s_in * sw[o]) + 0.5) : 0;
		if (fabs(bq) > 1e9) {
			double sa = p->s_in * sw[o];
			free(sw);
			return cc_attn_error(m, nd->loc, d,
			                     "bias %g of channel %u is out of range at the "
			                     "accumulator's scale %g",
			                     b[o], o, sa);
		}
		p->bias[o] = (int32_t)bq;
		mmax = fmax(mmax, p->s_in * sw[o] / p->s_out);
	}
	p->shift = mmax > 0 ? (uint32_t)fmin(62, fmax(0, floor(log2(2147483647.0 / mmax)))) : 0;
	for (o = 0; o < p->dout; o++)
		p->mult[o] =
		    (int32_t)floor(p->s_in * sw[o] / p->s_out * (double)(1ull << p->shift) + 0.5);
	free(sw);
	return 0;
}

/* Every op of the graph is one the lowering recognised. */
static int
check_known(const CcModel *m, const CcAttn *a, const IrNodeId *lin, Diag *d)
{
	const Graph *g = m->g;
	uint32_t i, s;
	for (i = 0; i < g->nnodes; i++) {
		int known = i == a->node || (a->has_norm && i == a->norm.node) ||
		            (a->has_add && i == a->add.node) ||
		            (a->has_ffn && (i == a->norm2.node || i == a->add2.node));
		for (s = 0; s < 4; s++)
			known |= i == lin[s];
		for (s = 0; a->has_ffn && s < a->nff; s++) {
			const IrNode *nd = &g->nodes[i];
			known |= i == a->ff[s].node;
			/* a relu / silu fused into the layer */
			known |= (nd->op == IR_OP_relu || nd->op == IR_OP_silu) &&
			         nd->in[0] == g->nodes[a->ff[s].node].out[0];
		}
		if (!known && g->nodes[i].op != IR_OP_reshape && g->nodes[i].op != IR_OP_transpose)
			return cc_attn_error(
			    m, g->nodes[i].loc, d,
			    "op '%s' in an attention layer: the compiler lowers the "
			    "projections, attention and the output projection only",
			    ir_ops[g->nodes[i].op].name);
	}
	return 0;
}

int
cc_attn_proj_check(CcModel *m, CcAttn *a, Diag *d)
{
	Graph *g = m->g;
	const IrNode *at = &g->nodes[a->node];
	IrNodeId lin[4], n;
	uint32_t s, i, ninputs = 0, heads[3] = {a->H, a->Hk, a->Hk}, dims[3] = {a->D, a->D, a->Dv};
	IrTensorId t, th = IR_NONE;
	float *x;
	double amax, lo = m->opt.input_lo, hi = m->opt.input_hi, *am;
	m->aty = TY_I8; /* the feed-forward's layers take the chain compiler's formats */
	m->qmax = 127;
	uint64_t seed = m->opt.seed ^ 0x63616c6962ull;
	/* q, k, v: transpose <- reshape <- linear <- the one graph input */
	for (s = 0; s < 3; s++) {
		const IrNode *tr, *rs;
		n = g->tensors[at->in[s]].producer;
		if (want(m, n, at->inloc[s], IR_OP_transpose, "before attention", d))
			return -1;
		tr = &g->nodes[n];
		n = g->tensors[tr->in[0]].producer;
		if (want(m, n, tr->loc, IR_OP_reshape, "before the transpose", d))
			return -1;
		rs = &g->nodes[n];
		n = g->tensors[rs->in[0]].producer;
		if (want(m, n, rs->loc, IR_OP_linear, "the projection", d))
			return -1;
		lin[s] = n;
		t = g->nodes[n].in[0];
		if (g->tensors[t].kind != IR_INPUT) {
			/* pre-norm: a layer norm of the graph input */
			IrNodeId ln = g->tensors[t].producer;
			if (ln == IR_NONE || g->nodes[ln].op != IR_OP_layernorm ||
			    g->tensors[g->nodes[ln].in[0]].kind != IR_INPUT)
				return cc_attn_error(
				    m, g->nodes[n].inloc[0], d,
				    "attention layer: the %c projection must read the "
				    "graph input or its layer norm",
				    "qkv"[s]);
			a->has_norm = 1, a->norm.node = ln;
		}
		if (s && t != th)
			return cc_attn_error(
			    m, g->nodes[n].inloc[0], d,
			    "attention layer: q, k and v must project the same input");
		th = t;
		a->tx = a->has_norm ? g->nodes[a->norm.node].in[0] : t;
		if (g->tensors[rs->out[0]].type.dim[2] != (int64_t)heads[s] ||
		    g->tensors[rs->out[0]].type.dim[3] != (int64_t)dims[s])
			return cc_attn_error(
			    m, rs->loc, d,
			    "attention layer: the %c reshape must split the heads as "
			    "[1, N, %u, %u]",
			    "qkv"[s], heads[s], dims[s]);
	}
	/* the output: transpose -> reshape -> linear -> the graph's output */
	{
		const IrNode *tr, *rs;
		n = sole_consumer(g, a->to);
		if (want(m, n, at->loc, IR_OP_transpose, "after attention", d))
			return -1;
		tr = &g->nodes[n];
		n = sole_consumer(g, tr->out[0]);
		if (want(m, n, tr->loc, IR_OP_reshape, "after the transpose", d))
			return -1;
		rs = &g->nodes[n];
		n = sole_consumer(g, rs->out[0]);
		if (want(m, n, rs->loc, IR_OP_linear, "the output projection", d))
			return -1;
		if (g->nodes[n].in[0] != rs->out[0])
			return cc_attn_error(m, g->nodes[n].loc, d,
			                     "attention layer: the output projection must read the "
			                     "attention result");
		lin[3] = n;
		a->ty = g->nodes[n].out[0];
		/* a residual add of the layer's input */
		n = sole_consumer(g, a->ty);
		if (n != IR_NONE && g->nodes[n].op == IR_OP_add &&
		    ((g->nodes[n].in[0] == a->tx) + (g->nodes[n].in[1] == a->tx)) == 1) {
			a->has_add = 1, a->add.node = n;
			a->ty = g->nodes[n].out[0];
		}
	}
	for (n = 0; n < g->nnodes; n++)
		if (g->nodes[n].nin && (g->nodes[n].in[0] == a->ty ||
		                        (g->nodes[n].nin > 1 && g->nodes[n].in[1] == a->ty)))
			break;
	if (n < g->nnodes && a->has_add)
		a->has_ffn = 1; /* a transformer block: attn_ffn.c checks the rest */
	else if (n < g->nnodes)
		return cc_attn_error(m, g->nodes[n].loc, d,
		                     "op '%s' after the attention layer: the compiler lowers "
		                     "x -> [layernorm ->] projections -> attention -> output "
		                     "projection [-> + x]; what follows (a transformer block's "
		                     "feed-forward) is not lowered with it yet",
		                     ir_ops[g->nodes[n].op].name);
	if (!a->has_ffn && (g->noutputs != 1 || g->outputs[0].t != a->ty))
		return cc_attn_error(m, g->nodes[lin[3]].loc, d,
		                     "attention layer: the graph's one output must be the output "
		                     "projection's result (or the residual add of it and x)");
	for (i = 0; i < g->ntensors; i++)
		ninputs += g->tensors[i].kind == IR_INPUT;
	if (ninputs != 1)
		return cc_attn_error(m, at->loc, d, "attention layer: the graph has one input, x");
	{
		const IrType *tx = &g->tensors[a->tx].type;
		if (tx->rank != 3 || tx->dim[0] != 1 || tx->dim[1] != (int64_t)a->N || a->B != 1 ||
		    a->M != a->N)
			return cc_attn_error(
			    m, g->tensors[a->tx].loc, d,
			    "attention layer: x must be [1, N, Dm] with N the query "
			    "and key length (self-attention, batch 1)");
		for (s = 0; s < 4; s++) {
			const IrType *ty = &g->tensors[g->nodes[lin[s]].out[0]].type;
			a->pj[s].node = lin[s];
			a->pj[s].din = (uint32_t)g->tensors[g->nodes[lin[s]].in[0]].type.dim[2];
			a->pj[s].dout = (uint32_t)ty->dim[2];
		}
	}
	if (a->has_add && g->tensors[a->ty].type.dim[2] != (int64_t)a->pj[3].dout)
		return cc_attn_error(
		    m, g->nodes[a->add.node].loc, d,
		    "attention layer: the residual add must keep the output's width");
	/* formats: every tensor's range from the float interpreter on a seeded draw of x in the
	 * input range */
	{
		uint32_t nx = a->N * a->pj[0].din;
		const float *in[1];
		amax = fmax(fabs(lo), fabs(hi));
		a->s_x = (amax > 0 ? amax : 1) / 127.0;
		x = xmalloc(sizeof(float) * nx);
		for (i = 0; i < nx; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			x[i] = (float)(lo + (hi - lo) * (double)(seed >> 11) / 9007199254740992.0);
		}
		am = xcalloc(g->ntensors, sizeof *am);
		in[0] = x;
		if (cc_interp_amax(g, in, am, d)) {
			free(x), free(am);
			return -1;
		}
		free(x);
#define SCALE(t) ((am[t] > 0 ? am[t] : 1.0) / 127.0)
		amax = 0;
		for (s = 0; s < 3; s++)
			amax = fmax(amax, am[g->nodes[lin[s]].out[0]]);
		a->s_in = (amax > 0 ? amax : 1) / 127.0;
		if (a->has_norm) {
			a->norm.W = a->pj[0].din;
			a->norm.s_in = a->s_x;
			a->norm.s_out = SCALE(g->nodes[a->norm.node].out[0]);
			if (cc_attn_norm_quant(m, &a->norm, d)) {
				free(am);
				return -1;
			}
		}
		for (s = 0; s < 4; s++) {
			a->pj[s].s_in = s < 3 ? (a->has_norm ? a->norm.s_out : a->s_x) : a->s_in;
			a->pj[s].s_out = s < 3 ? a->s_in : SCALE(g->nodes[lin[3]].out[0]);
			if (quant_proj(m, lin[s], &a->pj[s], d)) {
				free(am);
				return -1;
			}
		}
		if (a->has_add) {
			a->add.s_out = SCALE(a->ty);
			a->add.ma = (int32_t)floor(a->s_x / a->add.s_out * 65536.0 + 0.5);
			a->add.mb = (int32_t)floor(a->pj[3].s_out / a->add.s_out * 65536.0 + 0.5);
		}
#undef SCALE
		if (a->has_ffn && cc_attn_ffn_check(m, a, am, d)) {
			free(am);
			return -1;
		}
		free(am);
	}
	return check_known(m, a, lin, d);
}

void
cc_attn_proj_qref(const CcProj *p, const int32_t *x, uint32_t rows, int32_t *y)
{
	uint32_t r, o, i;
	for (r = 0; r < rows; r++)
		for (o = 0; o < p->dout; o++) {
			int64_t acc = 0;
			for (i = 0; i < p->din; i++)
				acc += (int64_t)x[(size_t)r * p->din + i] *
				       p->w[(size_t)o * p->din + i];
			acc = cc_sat(cc_sat(acc, TY_I32) + (int64_t)p->bias[o], TY_I32);
			y[(size_t)r * p->dout + o] =
			    cc_sat(cc_rshift_round(acc * p->mult[o], p->shift), TY_I8);
		}
}
