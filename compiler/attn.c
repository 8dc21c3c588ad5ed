/* attn.c: check pass of the attention lowering: recognise one attention / sparse_attention node
 * over the graph inputs, check it against the architecture, and fix the integer formats. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "attn.h"

int
cc_attn_error(const CcModel *m, IrLoc loc, Diag *d, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (loc.line)
		return diag_at(d, m->g->file, (int)loc.line, (int)loc.col,
		               diag_src_line(m->g->src, (int)loc.line), "%s", msg);
	return diag_err(d, m->g->file, "%s", msg);
}

uint32_t
cc_attn_allowed(const CcAttn *a, uint32_t iq)
{
	uint64_t n;
	if (!a->causal)
		return a->nk;
	/* key block j is allowed iff j * blkk < (iq + 1) * blkq */
	n = ((uint64_t)(iq + 1) * a->blkq + a->blkk - 1) / a->blkk;
	return n < a->nk ? (uint32_t)n : a->nk;
}

static int
is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* Largest power of two <= cap dividing n (dense attention's block size). */
static uint32_t
pick_block(uint32_t n, uint32_t cap)
{
	uint32_t b = 1;
	while (b * 2 <= cap && n % (b * 2) == 0)
		b *= 2;
	return b;
}

/* Scratchpad bytes a core needs (attn_codegen.c's map). */
static uint64_t
spad_need(const CcAttn *a)
{
	uint64_t b = 512 + 64;                                     /* table, constants */
	b += (uint64_t)a->blkq * (a->D > a->Dv ? a->D : a->Dv);    /* Q block, then the output */
	b += (uint64_t)a->blkk * a->D + (uint64_t)a->blkk * a->Dv; /* K and V blocks */
	b += (uint64_t)a->blkq * (a->Dv + 1) * 4 + (uint64_t)a->blkq * 4;   /* O, running max */
	b += (uint64_t)(a->blkk + 1) * (4 + 1 + 2) + 2 * (uint64_t)a->blkk; /* s, z8, p16, 2 x p8 */
	if (a->sparse)
		b += 4 * (uint64_t)a->D + 2 * a->D + 7 * (uint64_t)a->nk + 4 * (uint64_t)a->nk +
		     2 * (uint64_t)(a->blkq > a->blkk ? a->blkq : a->blkk) + cc_attn_sim_spad(a);
	return b + 64 * 16; /* alignment slack */
}

int
cc_attn_check(CcModel *m, Diag *d)
{
	Graph *g = m->g;
	const HwArch *arch = m->arch;
	CcAttn *a = arena_alloc(m->arena, sizeof *a);
	const IrNode *n = NULL;
	const IrType *tq, *tk, *tv;
	uint32_t i, ninputs = 0, rows = (uint32_t)arch->mvmu.rows, cols = (uint32_t)arch->mvmu.cols;
	memset(a, 0, sizeof *a);
	for (i = 0; i < g->nnodes; i++) {
		const IrNode *x = &g->nodes[i];
		if (x->op == IR_OP_attention || x->op == IR_OP_sparse_attention) {
			if (n)
				return cc_attn_error(
				    m, x->loc, d,
				    "the compiler lowers one attention node per graph; "
				    "this is the second");
			n = x;
			a->node = i;
		}
	}
	if (!n)
		return cc_attn_error(m, g->nodes[0].loc, d, "no attention node");
	for (i = 0; i < 3; i++)
		a->proj |= g->tensors[n->in[i]].kind != IR_INPUT;
	for (i = 0; i < g->nnodes && !a->proj; i++)
		if (&g->nodes[i] != n)
			return cc_attn_error(
			    m, g->nodes[i].loc, d,
			    "op '%s' beside attention: the compiler lowers an attention "
			    "node whose q, k, v are the graph's inputs (compile the "
			    "projections as their own chain)",
			    ir_ops[g->nodes[i].op].name);
	for (i = 0; i < g->ntensors; i++)
		ninputs += g->tensors[i].kind == IR_INPUT;
	a->loc = n->loc;
	if (!a->proj &&
	    (ninputs != 3 || n->in[0] == n->in[1] || n->in[1] == n->in[2] || n->in[0] == n->in[2]))
		return cc_attn_error(
		    m, n->loc, d, "an attention graph has exactly three distinct inputs q, k, v");
	if (!a->proj && (g->noutputs != 1 || g->outputs[0].t != n->out[0]))
		return cc_attn_error(m, n->loc, d,
		                     "the graph's one output must be the attention result");
	a->sparse = n->op == IR_OP_sparse_attention;
	a->tq = n->in[0], a->tk = n->in[1], a->tv = n->in[2], a->to = n->out[0];
	tq = &g->tensors[a->tq].type, tk = &g->tensors[a->tk].type, tv = &g->tensors[a->tv].type;
	if (tq->rank != 4 || tk->rank != 4 || tv->rank != 4)
		return cc_attn_error(m, n->loc, d, "attention operands must be [B, H, N, D]");
	a->B = (uint32_t)tq->dim[0], a->H = (uint32_t)tq->dim[1], a->N = (uint32_t)tq->dim[2];
	a->D = (uint32_t)tq->dim[3], a->Hk = (uint32_t)tk->dim[1], a->M = (uint32_t)tk->dim[2];
	a->Dv = (uint32_t)tv->dim[3];
	if (tk->dim[3] != tq->dim[3] || tk->dim[0] != tq->dim[0] || tv->dim[2] != tk->dim[2] ||
	    tv->dim[1] != tk->dim[1] || !a->Hk || a->H % a->Hk)
		return cc_attn_error(
		    m, n->loc, d,
		    "inconsistent attention shapes: q [%u, %u, %u, %u], k [%lld, %u, "
		    "%u, %lld], v [%lld, %lld, %lld, %u]",
		    a->B, a->H, a->N, a->D, (long long)tk->dim[0], a->Hk, a->M,
		    (long long)tk->dim[3], (long long)tv->dim[0], (long long)tv->dim[1],
		    (long long)tv->dim[2], a->Dv);
	{
		uint64_t total = (uint64_t)a->B * a->H * a->N * a->D +
		                 (uint64_t)a->B * a->Hk * a->M * ((uint64_t)a->D + a->Dv) +
		                 (uint64_t)a->B * a->H * a->N * a->Dv;
		if (total > ((uint64_t)1 << 31))
			return cc_attn_error(
			    m, n->loc, d,
			    "q, k, v and the output hold %llu elements; the attention "
			    "lowering takes at most 2^31",
			    (unsigned long long)total);
	}
	{
		const IrAttr *sa = ir_attr(g, a->node, "scale");
		a->scale = sa && sa->set ? sa->f : 1.0 / sqrt((double)a->D);
	}
	a->causal = (int)ir_attr_int(g, a->node, "causal");
	if (arch->mvmu.tech != HW_XBAR_SRAM)
		return cc_attn_error(
		    m, n->loc, d,
		    "attention needs crossbars that take run-time writes for K and V "
		    "(SRAM-CIM, e.g. hwmodels/configs/sram-cim.yaml); '%s' has %s "
		    "crossbars",
		    arch->name, hw_xbar_tech_names[arch->mvmu.tech]);
	if (arch->mvmu.weight_bits < 8 || arch->mvmu.input_bits < 8)
		return cc_attn_error(
		    m, n->loc, d,
		    "attention needs 8-bit crossbar weights and inputs; '%s' has %d and "
		    "%d",
		    arch->name, arch->mvmu.weight_bits, arch->mvmu.input_bits);
	if (a->sparse) {
		double rho = ir_attr_float(g, a->node, "rho"),
		       tau = ir_attr_float(g, a->node, "tau");
		double lam = ir_attr_float(g, a->node, "pv_threshold");
		const IrAttr *bq = ir_attr(g, a->node, "blkq"), *bk = ir_attr(g, a->node, "blkk");
		a->blkq = (uint32_t)bq->i, a->blkk = (uint32_t)bk->i;
		a->mode = (int)ir_attr_int(g, a->node, "mode");
		a->sink = (int)ir_attr_int(g, a->node, "sink");
		if (!is_pow2(a->blkq) || !is_pow2(a->blkk))
			return cc_attn_error(
			    m, bq->loc.line ? bq->loc : n->loc, d,
			    "block sizes blkq %u and blkk %u must be powers of two (block "
			    "means are shifts)",
			    a->blkq, a->blkk);
		if (!(rho > 0 && rho <= 1) || !(tau > 0 && tau <= 1))
			return cc_attn_error(m, n->loc, d, "rho %g and tau %g must lie in (0, 1]",
			                     rho, tau);
		if (!(lam >= 8))
			return cc_attn_error(
			    m, ir_attr(g, a->node, "pv_threshold")->loc, d,
			    "pv_threshold %g: the lowering supports thresholds of 8 and "
			    "above (its 8-bit probabilities already drop every block "
			    "such a threshold skips)",
			    lam);
		if (!arch->core.has_sel)
			return cc_attn_error(
			    m, n->loc, d,
			    "sparse attention needs the selection unit; '%s' has none", arch->name);
		a->tau16 = (int32_t)floor(tau * 65536.0 + 0.5);
		a->nsel_k = (uint32_t)floor(rho * (double)((a->M + a->blkk - 1) / a->blkk));
		if (a->nsel_k == 0)
			a->nsel_k = 1;
	} else {
		a->blkk = pick_block(a->M, rows < cols ? rows : cols);
		a->blkq = pick_block(a->N, 64);
		if (a->blkk > 64)
			a->blkk = 64;
	}
	if (a->N % a->blkq || a->M % a->blkk)
		return cc_attn_error(
		    m, n->loc, d,
		    "sequence lengths %u (queries) and %u (keys) must be multiples of "
		    "the block sizes blkq %u and blkk %u",
		    a->N, a->M, a->blkq, a->blkk);
	a->nq = a->N / a->blkq, a->nk = a->M / a->blkk;
	if (cc_attn_sim_setup(a, a->sparse ? ir_attr_float(g, a->node, "simthresh") : -1))
		return cc_attn_error(
		    m, ir_attr(g, a->node, "simthresh")->loc, d,
		    "simthresh %g: the self-similarity test takes blocks of at most "
		    "256 tokens and head dims of at most 256",
		    ir_attr_float(g, a->node, "simthresh"));
	if (a->D > rows || a->blkk > cols || a->blkk > rows || a->Dv > cols)
		return cc_attn_error(
		    m, n->loc, d,
		    "head dims D %u / Dv %u and key block blkk %u do not fit the "
		    "configured %u x %u crossbars (K^T needs D x blkk, V blkk x Dv)",
		    a->D, a->Dv, a->blkk, rows, cols);
	if (a->sparse && (a->nk > cols || (a->blkq > rows) || a->D > cols))
		return cc_attn_error(
		    m, n->loc, d,
		    "block-mask prediction keeps the %u pooled key blocks as crossbar "
		    "columns and pools %u-row query blocks: the %u x %u crossbars are "
		    "too small",
		    a->nk, a->blkq, rows, cols);
	if (arch->core.mvmus < (a->sparse ? 4 : 2))
		return cc_attn_error(m, n->loc, d,
		                     "%s attention needs %d MVMUs per core; '%s' has %d",
		                     a->sparse ? "sparse" : "dense", a->sparse ? 4 : 2, arch->name,
		                     arch->core.mvmus);
	if (spad_need(a) > (uint64_t)arch->core.spad_bytes)
		return cc_attn_error(
		    m, n->loc, d,
		    "a core's working set for blkq %u, blkk %u, D %u needs %llu bytes "
		    "of scratchpad; '%s' has %lld (use smaller blocks)",
		    a->blkq, a->blkk, a->D, (unsigned long long)spad_need(a), arch->name,
		    (long long)arch->core.spad_bytes);
	/* formats: q, k, v, o share one scale (the output is a convex mix of v): the input range's,
	 * or for an attention layer the calibrated range of the projections */
	{
		double amax = fmax(fabs(m->opt.input_lo), fabs(m->opt.input_hi));
		double c2, zm;
		int j;
		if (!(amax > 0))
			amax = 1;
		a->s_in = amax / 127.0;
		if (a->proj && cc_attn_proj_check(m, a, d))
			return -1;
		c2 = a->scale * 1.4426950408889634 * a->s_in * a->s_in; /* log2 units per step */
		zm = floor(16.0 * c2 * (double)(1 << ATTN_ZSH) + 0.5);
		if (!(zm >= 1 && zm < 2147483647.0))
			return cc_attn_error(m, n->loc, d,
			                     "score scale %g out of the supported range", a->scale);
		a->zmult = (int32_t)zm;
		for (j = 0; j < 256; j++) {
			double v = floor(ATTN_LUT_ONE * exp2((double)(j - 128) / 16.0) + 0.5);
			a->lut[j] = (int16_t)(v > 32767 ? 32767 : v);
		}
	}
	if (a->sparse && cc_attn_lin_check(m, a, d))
		return -1;
	if (a->simk && a->lin)
		return cc_attn_error(
		    m, ir_attr(g, a->node, "simthresh")->loc, d,
		    "the self-similarity test (simthresh >= 0) with the SLA / SLA2 "
		    "linear branch is not lowered yet");
	m->attn = a;
	if (a->proj) {
		m->in_len = a->N * a->pj[0].din;
		m->out_len = a->N * a->pj[3].dout;
		m->in_scale = a->s_x;
		m->out_scale = a->has_ffn   ? a->add2.s_out
		               : a->has_add ? a->add.s_out
		                            : a->pj[3].s_out;
	} else {
		m->in_len = a->B * a->H * a->N * a->D + a->B * a->Hk * a->M * (a->D + a->Dv);
		m->out_len = a->B * a->H * a->N * a->Dv;
		m->in_scale = m->out_scale = a->s_in;
	}
	m->batch = 1;
	m->aty = TY_I8;
	return 0;
}

void
cc_attn_dump(const CcModel *m, FILE *f)
{
	const CcAttn *a = m->attn;
	static const char *const modes[] = {"topk", "topp", "hybrid"};
	fprintf(f, "# attention model for '%s' (docs/attention.md)\n", m->arch->name);
	fprintf(f, "%s: %s, B %u, H %u, N %u, M %u, D %u, Dv %u, scale %.9g%s\n",
	        m->g->tensors[a->to].name, a->sparse ? "sparse_attention" : "attention", a->B, a->H,
	        a->N, a->M, a->D, a->Dv, a->scale, a->causal ? ", causal" : "");
	fprintf(f, "blocks %u x %u: %u query blocks, %u key blocks per head\n", a->blkq, a->blkk,
	        a->nq, a->nk);
	if (a->sparse)
		fprintf(f, "mask %s: top-k %u blocks, top-p %.6g (x 65536 = %d)%s\n",
		        modes[a->mode], a->nsel_k, a->tau16 / 65536.0, a->tau16,
		        a->sink ? ", sink" : "");
	if (a->proj) {
		uint32_t i;
		fprintf(f, "layer: x [1, %u, %u] i8 at scale %.9g%s -> q, k, v projections", a->N,
		        a->pj[0].din, a->s_x, a->has_norm ? " -> layernorm" : "");
		fprintf(f, " -> attention -> output projection [%u]%s\n", a->pj[3].dout,
		        a->has_add ? " -> + x" : "");
		if (a->has_norm)
			fprintf(f, "layernorm: out scale %.9g, isqrt shift %u, gamma shift %u\n",
			        a->norm.s_out, a->norm.p, a->norm.gsh);
		for (i = 0; i < 4; i++)
			fprintf(f, "projection %c: %u -> %u, out scale %.9g, requant shift %u\n",
			        "qkvo"[i], a -> pj[i].din, a->pj[i].dout, a->pj[i].s_out,
			        a->pj[i].shift);
		if (a->has_ffn) {
			fprintf(f, "feed-forward: layernorm (out scale %.9g)", a->norm2.s_out);
			for (i = 0; i < a->nff; i++)
				fprintf(f, " -> %s %s %u -> %u", a->ff[i].name,
				        a->ff[i].kind == CC_KAN ? "kan" : "linear", a->ff[i].in_len,
				        a->ff[i].out_len);
			fprintf(f, " -> + (out scale %.9g)\n", a->add2.s_out);
		}
	}
	if (a->simk)
		fprintf(f, "self-similarity: |s|^2 > %d (theta x 2^30), key mean x %d >> 30\n",
		        a->sim_thr, a->sim_kmul);
	cc_attn_lin_dump(a, f);
	fprintf(f,
	        "formats: q, k, v, o i8 at scale %.9g; z8 = sat8(z x %d >> %d); p16 = 2^14 x "
	        "2^(z8/16); p8 = p16 x 127 >> 14; o = O x round(2^30 / l) >> 30\n",
	        a->s_in, a->zmult, ATTN_ZSH);
}
