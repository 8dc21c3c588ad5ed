/* attn_qref.c: the integer reference of the attention lowering (attn.h): the same arithmetic as
 * the generated code, written as plain loops, so the simulator's output can be checked bit for
 * bit. Instruction semantics follow docs/isa.md (rounding half away from zero, saturation to the
 * output type, SEL ties to the lower index). */
#include <stdlib.h>
#include <string.h>

#include "attn.h"

static int32_t
sat8(int64_t v)
{
	return cc_sat(v, TY_I8);
}

static int32_t
sat32(int64_t v)
{
	return cc_sat(v, TY_I32);
}

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

void
cc_attn_mask_q(const CcAttn *a, const int32_t *q, const int32_t *k, uint8_t *mask)
{
	uint32_t iq, j, e, D = a->D;
	int32_t *pk = xmalloc(sizeof(int32_t) * a->nk * D), *pq = xmalloc(sizeof(int32_t) * D);
	int64_t *T = xmalloc(sizeof(int64_t) * a->nk), *E = xmalloc(sizeof(int64_t) * a->nk);
	Ranked *r = xmalloc(sizeof(Ranked) * a->nk);
	for (j = 0; j < a->nk; j++)
		pool(k, j * a->blkk, a->blkk, D, pk + (size_t)j * D);
	for (iq = 0; iq < a->nq; iq++) {
		uint32_t A = cc_attn_allowed(a, iq), cnt;
		uint8_t *row = mask + (size_t)iq * a->nk;
		pool(q, iq * a->blkq, a->blkq, D, pq);
		for (j = 0; j < a->nk; j++) {
			int64_t s = 0;
			for (e = 0; e < D; e++)
				s += (int64_t)pq[e] * pk[(size_t)j * D + e];
			T[j] = sat32(s);
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
				E[j] = a->lut[z8_of(a, T[j] - mx) + 128];
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
	}
	free(pk), free(pq), free(T), free(E), free(r);
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

int
cc_attn_qref(const CcModel *m, const int32_t *in, int32_t *out, Diag *d)
{
	const CcAttn *a = m->attn;
	size_t nqe = (size_t)a->N * a->D, nke = (size_t)a->M * a->D, nve = (size_t)a->M * a->Dv;
	const int32_t *q = in, *k = q + (size_t)a->B * a->H * nqe,
	              *v = k + (size_t)a->B * a->Hk * nke;
	uint8_t *mask = a->sparse ? xmalloc((size_t)a->nq * a->nk) : NULL;
	int32_t *sums = a->lin ? xmalloc((size_t)a->nk * cc_attn_lin_block_bytes(a)) : NULL;
	uint32_t bh, iq;
	(void)d;
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
