/* attn_linear.c: the SLA / SLA2 linear branch of sparse attention (attn.h): check of the combine
 * attributes and operands, its integer formats, and its integer reference (the same arithmetic
 * as attn_linear_gen.c's code, as plain loops). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn.h"

enum { LIN_MAX_M = 132104 }; /* 128 * 127 * M < 2^31: the sums stay exact in i32 */

static int32_t
round_i32(double v)
{
	v = v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
	return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

/* vrecip: round(2^s / v) half away from zero, sat32; v = 0 gives INT32_MAX */
static int64_t
recip(int64_t v, unsigned s)
{
	uint64_t num = 1ull << s, den = (uint64_t)(v < 0 ? -v : v), q;
	if (den == 0)
		return INT32_MAX;
	q = num / den;
	if ((num % den) * 2 >= den)
		q++;
	return sat32(v < 0 ? -(int64_t)q : (int64_t)q);
}

void
cc_attn_lin_phi(const CcAttn *a, const int32_t *x, int key, int32_t *out)
{
	const CcAttnLin *l = a->lin;
	uint32_t e, D = a->D;
	int64_t mx = INT32_MIN, sum = 0, mk;
	int32_t *p16;
	if (l->fmap != 0) {
		for (e = 0; e < D; e++)
			out[e] = l->phi[x[e] + 128];
		return;
	}
	p16 = xmalloc(sizeof(int32_t) * D);
	for (e = 0; e < D; e++)
		mx = x[e] > mx ? x[e] : mx;
	for (e = 0; e < D; e++) {
		int64_t z8 = sat8(cc_rshift_round((int64_t)sat32(x[e] - mx) * l->zphi, ATTN_ZSH));
		p16[e] = a->lut[z8 + 128];
		sum += p16[e];
	}
	mk = key ? (int64_t)(int32_t)((uint32_t)recip(sat32(sum), 30) * (uint32_t)l->gk) : 127;
	for (e = 0; e < D; e++)
		out[e] = sat8(cc_rshift_round(p16[e] * mk, key ? 30 : ATTN_LUT_SHIFT));
	free(p16);
}

uint64_t
cc_attn_lin_block_bytes(const CcAttn *a)
{
	return (uint64_t)a->D * (a->Dv + 1) * 4;
}

/* The weight tensor of operand i, or a located error. */
static const float *
weight_of(CcModel *m, const IrNode *n, unsigned i, const char *what, Diag *d)
{
	const IrTensor *t = &m->g->tensors[n->in[i]];
	const float *w;
	if (t->kind != IR_WEIGHT) {
		cc_attn_error(m, n->inloc[i], d,
		              "%s must be a weight (the lowering folds it into the program)", what);
		return NULL;
	}
	w = ir_weight_data(m->g, n->in[i], d);
	return w;
}

static int
sla_formats(CcModel *m, CcAttn *a, CcAttnLin *l, const IrNode *n, Diag *d)
{
	uint32_t Dv = a->Dv, f, gg;
	const float *w = weight_of(m, n, 3, "combine_w", d), *b = NULL;
	double wmax = 0;
	if (!w)
		return -1;
	if (n->nin > 4 && n->in[4] != IR_NONE && !(b = weight_of(m, n, 4, "combine_b", d)))
		return -1;
	for (f = 0; f < Dv * Dv; f++)
		wmax = fmax(wmax, fabs(w[f]));
	l->s_w = wmax > 0 ? wmax / 127.0 : 1.0 / 127.0;
	if (!(l->s_w * 16777216.0 >= 0.5 && l->s_w < 64))
		return cc_attn_error(
		    m, n->inloc[3], d,
		    "combine_w's largest magnitude %g is out of the supported range "
		    "(2^-24 x 127 .. 8000)",
		    wmax);
	l->mw = round_i32(l->s_w * 16777216.0);
	l->wt = arena_alloc(m->arena, sizeof(int32_t) * a->D * (Dv + 1));
	l->b32 = arena_alloc(m->arena, sizeof(int32_t) * (Dv + 1));
	l->b8 = arena_alloc(m->arena, Dv + 1);
	memset(l->wt, 0, sizeof(int32_t) * a->D * (Dv + 1));
	for (gg = 0; gg < Dv; gg++)
		for (f = 0; f < Dv; f++)
			l->wt[f * (Dv + 1) + gg] = sat8(round_i32(w[gg * Dv + f] / l->s_w));
	for (gg = 0; gg <= Dv; gg++) {
		l->b32[gg] = gg < Dv && b ? round_i32(b[gg] / (a->s_in * l->s_w)) : 0;
		if (gg < Dv)
			l->b8[gg] = (int8_t)sat8(cc_rshift_round((int64_t)l->b32[gg] * l->mw, 24));
	}
	return 0;
}

/* sla2: round(2^14 alpha) per row, alpha broadcast to [B, H, N, 1]. */
static int
sla2_formats(CcModel *m, CcAttn *a, CcAttnLin *l, const IrNode *n, Diag *d)
{
	const float *al = weight_of(m, n, 3, "alpha (combine_w)", d);
	const IrType *ta = &m->g->tensors[n->in[3]].type;
	uint32_t bh, r;
	if (!al)
		return -1;
	l->a14 = arena_alloc(m->arena, sizeof(int32_t) * a->B * a->H * a->N);
	for (bh = 0; bh < a->B * a->H; bh++)
		for (r = 0; r < a->N; r++) {
			int64_t idx[3] = {bh / a->H, bh % a->H, r}, ia = 0, st = 1;
			int k;
			double v;
			for (k = ta->rank - 1; k >= 0; k--) {
				int pos = 4 - ta->rank + k;
				if (ta->dim[k] != 1)
					ia += (pos < 3 ? idx[pos] : 0) * st;
				st *= ta->dim[k];
			}
			v = floor((double)al[ia] * 16384.0 + 0.5);
			if (!(fabs(v) <= 16777216.0))
				return cc_attn_error(m, n->inloc[3], d,
				                     "alpha %g: the lowering takes |alpha| <= 1024",
				                     (double)al[ia]);
			l->a14[(size_t)bh * a->N + r] = (int32_t)v;
		}
	return 0;
}

int
cc_attn_lin_check(CcModel *m, CcAttn *a, Diag *d)
{
	Graph *g = m->g;
	const IrNode *n = &g->nodes[a->node];
	uint32_t cols = (uint32_t)m->arch->mvmu.cols, i;
	CcAttnLin *l;
	int combine = (int)ir_attr_int(g, a->node, "combine");
	a->lin = NULL;
	if (combine == 0)
		return 0;
	if (a->D != a->Dv)
		return cc_attn_error(
		    m, n->loc, d,
		    "the linear branch needs equal head dims (D %u, Dv %u): MVMU 2 "
		    "holds the projection and the sums in turn",
		    a->D, a->Dv);
	if (a->Dv + 1 > cols || a->nk > a->Dv + 1)
		return cc_attn_error(
		    m, n->loc, d,
		    "the linear branch keeps [D, Dv + 1] sums (and the %u pooled key "
		    "blocks) in one %u-column crossbar: Dv %u is too large or there "
		    "are more than Dv + 1 key blocks",
		    a->nk, cols, a->Dv);
	if ((uint64_t)a->blkk * (a->D + a->Dv) < ((uint64_t)a->Dv + 1) * 4)
		return cc_attn_error(m, n->loc, d,
		                     "the linear branch moves its sums in rows through the K and V "
		                     "block buffers: blkk %u is too small (at least 4)",
		                     a->blkk);
	if (a->M > LIN_MAX_M)
		return cc_attn_error(
		    m, n->loc, d,
		    "the linear branch keeps exact i32 sums of at most %u keys; got %u", LIN_MAX_M,
		    a->M);
	l = arena_alloc(m->arena, sizeof *l);
	memset(l, 0, sizeof *l);
	l->combine = combine;
	l->region = (int)ir_attr_int(g, a->node, "region");
	l->fmap = (int)ir_attr_int(g, a->node, "feature_map");
	l->s_phi = l->fmap == 2 ? a->s_in : (127.0 * a->s_in + 1.0) / 127.0;
	for (i = 0; i < 256; i++) {
		double x = ((double)i - 128) * a->s_in;
		double phi = l->fmap == 2 ? (x > 0 ? x : 0) : (x > 0 ? x + 1 : exp(x));
		l->phi[i] = l->fmap == 2 ? (int8_t)(i > 128 ? i - 128 : 0)
		                         : (int8_t)sat8(round_i32(phi / l->s_phi));
	}
	{
		double amax = 127.0 * a->s_in, gk = 127.0 * (1.0 + (a->D - 1) * exp(-2.0 * amax));
		l->zphi = round_i32(16.0 * 1.4426950408889634 * a->s_in * 16777216.0);
		l->gk = round_i32(gk);
	}
	if ((combine == 1 ? sla_formats : sla2_formats)(m, a, l, n, d))
		return -1;
	a->lin = l;
	return 0;
}

void
cc_attn_lin_sums(const CcAttn *a, const int32_t *k, const int32_t *v, int32_t *sums)
{
	const CcAttnLin *l = a->lin;
	uint32_t D = a->D, Dv = a->Dv, bk = a->blkk, j, t, e, f;
	int32_t *pk = xmalloc(sizeof(int32_t) * bk * D), *vp = xmalloc(sizeof(int32_t) * bk * Dv);
	for (j = 0; j < a->nk; j++) {
		int32_t *S = sums + (size_t)j * D * (Dv + 1);
		for (t = 0; t < bk; t++) {
			const int32_t *kt = k + ((size_t)j * bk + t) * D,
			              *vt = v + ((size_t)j * bk + t) * Dv;
			cc_attn_lin_phi(a, kt, 1, pk + (size_t)t * D);
			for (f = 0; f < Dv; f++) {
				int64_t acc;
				if (l->combine != 1) {
					vp[t * Dv + f] = vt[f];
					continue;
				}
				acc = l->b32[f];
				for (e = 0; e < Dv; e++)
					acc += (int64_t)vt[e] * l->wt[e * (Dv + 1) + f];
				vp[t * Dv + f] =
				    sat8(cc_rshift_round((int64_t)sat32(acc) * l->mw, 24));
			}
		}
		for (e = 0; e < D; e++) {
			int64_t z = 0;
			for (f = 0; f < Dv; f++) {
				int64_t acc = 0;
				for (t = 0; t < bk; t++)
					acc += (int64_t)pk[t * D + e] * vp[t * Dv + f];
				S[e * (Dv + 1) + f] = sat32(acc);
			}
			for (t = 0; t < bk; t++)
				z += pk[t * D + e];
			S[e * (Dv + 1) + Dv] = (int32_t)((uint32_t)sat32(z) << 7);
		}
	}
	free(pk), free(vp);
}

void
cc_attn_lin_qblock(const CcAttn *a, uint32_t bh, uint32_t iq, const uint8_t *mrow, const int32_t *q,
                   const int32_t *sums, int32_t *o)
{
	const CcAttnLin *l = a->lin;
	uint32_t D = a->D, Dv = a->Dv, W = Dv + 1, j, e, f, r;
	size_t nS = (size_t)D * W, i;
	int64_t *S = xcalloc(nS, sizeof(int64_t)), mx = INT32_MIN, c;
	int32_t *S8 = xmalloc(sizeof(int32_t) * nS), *n = xmalloc(sizeof(int32_t) * W);
	int32_t *pq = xmalloc(sizeof(int32_t) * D);
	for (j = 0; j < a->nk; j++) {
		if (l->region == 1 && mrow && mrow[j])
			continue;
		for (i = 0; i < nS; i++)
			S[i] = sat32(S[i] + sums[(size_t)j * nS + i]);
	}
	for (i = 0; i < nS; i++)
		mx = S[i] > mx ? S[i] : mx;
	c = recip(mx > 128 ? mx : 128, 30) * 127; /* <= 2^30 */
	for (i = 0; i < nS; i++)
		S8[i] = sat8(cc_rshift_round(S[i] * c, 30));
	for (r = iq * a->blkq; r < (iq + 1) * a->blkq; r++) {
		int64_t rl;
		int32_t *orow = o + (size_t)r * Dv;
		cc_attn_lin_phi(a, q + (size_t)r * D, 0, pq);
		for (f = 0; f < W; f++) {
			int64_t acc = 0;
			for (e = 0; e < D; e++)
				acc += (int64_t)pq[e] * S8[e * W + f];
			n[f] = sat32(acc);
		}
		rl = recip(n[Dv], 30);
		for (f = 0; f < Dv; f++) {
			int32_t ol = sat8(cc_rshift_round((int64_t)n[f] * rl, 23));
			if (l->combine == 1) {
				if (n[Dv] == 0)
					ol = l->b8[f];
				orow[f] = sat8((int64_t)orow[f] + ol);
			} else {
				int64_t a14 = l->a14[(size_t)bh * a->N + r];
				int64_t t = sat32((int64_t)orow[f] * a14);
				t = sat32(t + (int64_t)ol * (int32_t)(16384 - (int32_t)a14));
				orow[f] = sat8(cc_rshift_round(t, 14));
			}
		}
	}
	free(S), free(S8), free(n), free(pq);
}

void
cc_attn_lin_dump(const CcAttn *a, FILE *f)
{
	static const char *const fm[] = {"softmax", "elu1", "relu"};
	const CcAttnLin *l = a->lin;
	if (!l)
		return;
	fprintf(f,
	        "linear branch %s over %s blocks, phi %s: phi8 at scale %.9g; sums i32 [%u][%u] "
	        "per key block (%llu bytes)",
	        l->combine == 1 ? "sla" : "sla2", l->region ? "the unselected" : "all", fm[l->fmap],
	        l->s_phi, a->D, a->Dv + 1, (unsigned long long)cc_attn_lin_block_bytes(a));
	if (l->fmap == 0)
		fprintf(f, "; softmax z8 = sat8((x8 - max) x %d >> 24), key gain %d", l->zphi,
		        l->gk);
	if (l->combine == 1)
		fprintf(f, "; W8 at scale %.9g, v' = (W8 v + b32) x %d >> 24", l->s_w, l->mw);
	fprintf(f, "\n");
}
