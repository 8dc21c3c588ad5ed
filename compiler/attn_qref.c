/* attn_qref.c: the integer reference of the attention lowering (attn.h): the same arithmetic as
 * the generated code, written as plain loops, so the simulator's output can be checked bit for
 * bit. Instruction semantics follow docs/isa.md (rounding half away from zero, saturation to the
 * output type, SEL ties to the lower index). */
#include <stdlib.h>
#include <string.h>

#include "attn.h"

typedef struct Ranked {
	int64_t v;
	uint32_t i;
} Ranked;

static int
cmp_ranked(const void *pa, const void *pb)
{
	const Ranked *a = pa, *b = pb;
	if (a->v != b->v)
		return a->v > b->v ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* Best-first order of v[0..n) (ties: lower index first). */
static void
rank(const int64_t *v, uint32_t n, Ranked *r)
{
	uint32_t i;
	for (i = 0; i < n; i++)
		r[i].v = v[i], r[i].i = i;
	qsort(r, n, sizeof *r, cmp_ranked);
}

/* z8 of a score difference z <= 0 */
static int32_t
z8_of(const CcAttn *a, int64_t z)
{
	return sat8(cc_rshift_round(sat32(z) * (int64_t)a->zmult, ATTN_ZSH));
}

/* Block means (i8) of rows [t0, t0 + n) of x [., D]. */
static void
pool(const int32_t *x, uint32_t t0, uint32_t n, uint32_t D, int32_t *out)
{
	uint32_t t, e;
	for (e = 0; e < D; e++) {
		int64_t s = 0;
		for (t = t0; t < t0 + n; t++)
			s += x[(size_t)t * D + e];
		out[e] = sat8(cc_rshift_round(sat32(s), attn_log2(n)));
	}
}

/* The self-similarity rules on a selected row: the allowed key blocks that are not
 * self-similar, and every allowed block when query block q is not. */
static void
sim_rules(const CcAttn *a, const int32_t *q, const uint8_t *nsk, uint32_t A, uint8_t *row)
{
	int qsim = cc_attn_selfsim(a, q, a->blkq, NULL);
	uint32_t j;
	for (j = 0; j < A; j++)
		row[j] |= nsk[j] || !qsim;
}

void
cc_attn_mask_q(const CcAttn *a, const int32_t *q, const int32_t *k, uint8_t *mask)
{
	uint32_t iq, j, e, D = a->D;
	int32_t *pk = xmalloc(sizeof(int32_t) * a->nk * D), *pq = xmalloc(sizeof(int32_t) * D);
	int64_t *T = xmalloc(sizeof(int64_t) * a->nk), *E = xmalloc(sizeof(int64_t) * a->nk);
	Ranked *r = xmalloc(sizeof(Ranked) * a->nk);
	uint8_t *nsk = a->simk ? xcalloc(a->nk, 1) : NULL; /* key block j not self-similar */
	for (j = 0; j < a->nk; j++)
		pool(k, j * a->blkk, a->blkk, D, pk + (size_t)j * D);
	if (nsk)
		cc_attn_sim_keys(a, k, pk, nsk);
	for (iq = 0; iq < a->nq; iq++) {
		uint32_t A = cc_attn_allowed(a, iq), cnt;
		uint8_t *row = mask + (size_t)iq * a->nk;
		pool(q, iq * a->blkq, a->blkq, D, pq);
		for (j = 0; j < a->nk; j++) {
			int64_t s = 0;
			for (e = 0; e < D; e++)
				s += (int64_t)pq[e] * pk[(size_t)j * D + e];
			T[j] = sat32(nsk ? sat32(s) + (nsk[j] ? ATTN_SIM_PEN : 0) : s);
		}
		memset(row, 0, a->nk);
		if (a->mode == 0) {
			rank(T, A, r);
			cnt = a->nsel_k < A ? a->nsel_k : A;
		} else {
			int64_t mx = INT32_MIN;
			__int128 total = 0, cdf = 0;
			for (j = 0; j < A; j++)
				mx = T[j] > mx ? T[j] : mx;
			for (j = 0; j < A; j++) {
				E[j] = nsk && nsk[j] ? 0 : a->lut[z8_of(a, T[j] - mx) + 128];
				total += E[j];
			}
			rank(E, A, r);
			for (cnt = 0; cnt < A; cnt++) {
				cdf += r[cnt].v;
				if (cdf * 65536 > (__int128)a->tau16 * total)
					break;
			}
			if (cnt == 0)
				cnt = 1;
			if (a->mode == 2 && a->nsel_k > cnt)
				cnt = a->nsel_k < A ? a->nsel_k : A;
		}
		for (j = 0; j < cnt; j++)
			row[r[j].i] = 1;
		if (a->sink)
			row[0] = 1;
		if (nsk)
			sim_rules(a, q + (size_t)iq * a->blkq * D, nsk, A, row);
	}
	free(pk), free(pq), free(T), free(E), free(r), free(nsk);
}

/* One query block of one head: rows [iq * blkq, ..) of q against k, v -> o. */
static void
query_block(const CcAttn *a, uint32_t iq, const uint8_t *mask, const int32_t *q, const int32_t *k,
            const int32_t *v, int32_t *o)
{
	uint32_t D = a->D, Dv = a->Dv, bk = a->blkk, A = cc_attn_allowed(a, iq), r, j, t, f, e;
	int64_t *s = xmalloc(sizeof(int64_t) * (bk + 1));
	int32_t *p8 = xmalloc(sizeof(int32_t) * bk);
	int64_t *O = xmalloc(sizeof(int64_t) * (Dv + 1));
	for (r = 0; r < a->blkq; r++) {
		uint32_t R = iq * a->blkq + r;
		int64_t m = ATTN_MINIT, alpha = 0, rc, ps;
		memset(O, 0, sizeof(int64_t) * (Dv + 1));
		for (j = 0; j < A; j++) {
			int64_t mx = INT32_MIN;
			if (mask && !mask[(size_t)iq * a->nk + j])
				continue;
			for (t = 0; t < bk; t++) {
				int64_t acc = 0;
				if (a->causal && j * bk + t > R) {
					s[t] = ATTN_MASKED;
					continue;
				}
				for (e = 0; e < D; e++)
					acc += (int64_t)q[(size_t)R * D + e] *
					       k[((size_t)j * bk + t) * D + e];
				s[t] = sat32(acc);
			}
			s[bk] = m;
			for (t = 0; t <= bk; t++)
				mx = s[t] > mx ? s[t] : mx;
			m = mx;
			for (t = 0; t <= bk; t++) {
				int64_t p16 = a->lut[z8_of(a, s[t] - mx) + 128];
				if (t < bk)
					p8[t] = sat8(cc_rshift_round(p16 * 127, ATTN_LUT_SHIFT));
				else
					alpha = p16;
			}
			for (f = 0; f <= Dv; f++)
				O[f] = sat32(cc_rshift_round(O[f] * alpha, ATTN_LUT_SHIFT));
			for (f = 0; f < Dv; f++) {
				int64_t acc = O[f];
				for (t = 0; t < bk; t++)
					acc += (int64_t)p8[t] * v[((size_t)j * bk + t) * Dv + f];
				O[f] = sat32(acc);
			}
			ps = 0;
			for (t = 0; t < bk; t++)
				ps += p8[t];
			O[Dv] = (int32_t)((uint32_t)O[Dv] + (uint32_t)sat32(ps));
		}
		if (O[Dv] == 0)
			rc = INT32_MAX;
		else {
			uint64_t num = 1ull << ATTN_RECIP_SHIFT,
			         den = (uint64_t)(O[Dv] < 0 ? -O[Dv] : O[Dv]), qv = num / den;
			if ((num % den) * 2 >= den)
				qv++;
			rc = sat32(O[Dv] < 0 ? -(int64_t)qv : (int64_t)qv);
		}
		for (f = 0; f < Dv; f++)
			o[(size_t)R * Dv + f] = sat8(cc_rshift_round(O[f] * rc, ATTN_RECIP_SHIFT));
	}
	free(s), free(p8), free(O);
}

static int attn_core(const CcModel *m, const int32_t *in, int32_t *out);

/* rows x (heads x dh) token-major <-> heads x rows x dh head-major */
static void
to_heads(const int32_t *x, uint32_t rows, uint32_t heads, uint32_t dh, int32_t *y, int back)
{
	uint32_t r, h;
	for (r = 0; r < rows; r++)
		for (h = 0; h < heads; h++) {
			int32_t *tok = (int32_t *)x + ((size_t)r * heads + h) * dh;
			int32_t *pl = y + ((size_t)h * rows + r) * dh;
			if (back)
				memcpy(tok, pl, sizeof(int32_t) * dh);
			else
				memcpy(pl, tok, sizeof(int32_t) * dh);
		}
}

/* An attention layer: the projections around the kernel (attn_proj.c). */
static int
attn_layer(const CcModel *m, const int32_t *x, int32_t *y)
{
	const int32_t *x0 = x;
	const CcAttn *a = m->attn;
	size_t nq = (size_t)a->N * a->H * a->D, nk = (size_t)a->N * a->Hk * a->D,
	       nv = (size_t)a->N * a->Hk * a->Dv, no = (size_t)a->N * a->H * a->Dv;
	int32_t *tok = xmalloc(sizeof(int32_t) * (no > nq   ? (no > nv ? no : nv)
	                                          : nq > nv ? nq
	                                                    : nv));
	int32_t *qkv = xmalloc(sizeof(int32_t) * (nq + nk + nv)),
	        *o = xmalloc(sizeof(int32_t) * no);
	int32_t *h = NULL;
	if (a->has_norm) {
		h = xmalloc(sizeof(int32_t) * (size_t)a->N * a->norm.W);
		cc_attn_norm_qref(&a->norm, x, a->N, h);
		x = h;
	}
	cc_attn_proj_qref(&a->pj[0], x, a->N, tok);
	to_heads(tok, a->N, a->H, a->D, qkv, 0);
	cc_attn_proj_qref(&a->pj[1], x, a->N, tok);
	to_heads(tok, a->N, a->Hk, a->D, qkv + nq, 0);
	cc_attn_proj_qref(&a->pj[2], x, a->N, tok);
	to_heads(tok, a->N, a->Hk, a->Dv, qkv + nq + nk, 0);
	attn_core(m, qkv, o);
	to_heads(tok, a->N, a->H, a->Dv, o, 1);
	if (a->has_add) {
		size_t n = (size_t)a->N * a->pj[3].dout;
		int32_t *pr = xmalloc(sizeof(int32_t) * n);
		int32_t *r = a->has_ffn ? xmalloc(sizeof(int32_t) * n) : y;
		cc_attn_proj_qref(&a->pj[3], tok, a->N, pr);
		cc_attn_add_qref(&a->add, x0, pr, n, r);
		if (a->has_ffn) {
			cc_attn_ffn_qref(m, r, y);
			free(r);
		}
		free(pr);
	} else
		cc_attn_proj_qref(&a->pj[3], tok, a->N, y);
	free(tok), free(qkv), free(o), free(h);
	return 0;
}

int
cc_attn_qref(const CcModel *m, const int32_t *in, int32_t *out, Diag *d)
{
	(void)d;
	return m->attn->proj ? attn_layer(m, in, out) : attn_core(m, in, out);
}

static int
attn_core(const CcModel *m, const int32_t *in, int32_t *out)
{
	const CcAttn *a = m->attn;
	size_t nqe = (size_t)a->N * a->D, nke = (size_t)a->M * a->D, nve = (size_t)a->M * a->Dv;
	const int32_t *q = in, *k = q + (size_t)a->B * a->H * nqe,
	              *v = k + (size_t)a->B * a->Hk * nke;
	uint8_t *mask = a->sparse ? xmalloc((size_t)a->nq * a->nk) : NULL;
	int32_t *sums = a->lin ? xmalloc((size_t)a->nk * cc_attn_lin_block_bytes(a)) : NULL;
	uint32_t bh, iq;
	for (bh = 0; bh < a->B * a->H; bh++) {
		uint32_t b = bh / a->H, h = bh % a->H, kh = b * a->Hk + h % a->Hk;
		const int32_t *qh = q + bh * nqe, *kk = k + kh * nke, *vv = v + kh * nve;
		if (mask)
			cc_attn_mask_q(a, qh, kk, mask);
		if (sums)
			cc_attn_lin_sums(a, kk, vv, sums);
		for (iq = 0; iq < a->nq; iq++) {
			query_block(a, iq, mask, qh, kk, vv, out + (size_t)bh * a->N * a->Dv);
			if (sums)
				cc_attn_lin_qblock(a, bh, iq, mask + (size_t)iq * a->nk, qh, sums,
				                   out + (size_t)bh * a->N * a->Dv);
		}
	}
	free(mask), free(sums);
	return 0;
}
