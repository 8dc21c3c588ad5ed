/* interp.c: the float interpreter of whole graphs (interp.h). Tensors are float arrays in
 * row-major order; broadcasting follows NumPy. */
#include "interp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccint.h"

typedef struct Ctx {
	Graph *g;
	float **val; /* per tensor */
} Ctx;

static const IrType *
ty(const Ctx *c, IrTensorId t)
{
	return &c->g->tensors[t].type;
}

static int64_t
elems(const IrType *t)
{
	return ir_type_elems(t);
}

static double
silu(double x)
{
	return x / (1.0 + exp(-x));
}

/* ---- elementwise with broadcasting ---- */

static void
broadcast2(const IrType *ta, const float *a, const IrType *tb, const float *b, const IrType *to,
           float *o, IrOpcode op)
{
	int64_t n = elems(to), i;
	int r = to->rank, k;
	for (i = 0; i < n; i++) {
		int64_t rem = i, ia = 0, ib = 0, sa = 1, sb = 1;
		for (k = r - 1; k >= 0; k--) {
			int64_t idx = rem % to->dim[k];
			int ka = k - (r - ta->rank), kb = k - (r - tb->rank);
			rem /= to->dim[k];
			if (ka >= 0) {
				ia += (ta->dim[ka] == 1 ? 0 : idx) * sa;
				sa *= ta->dim[ka];
			}
			if (kb >= 0) {
				ib += (tb->dim[kb] == 1 ? 0 : idx) * sb;
				sb *= tb->dim[kb];
			}
		}
		o[i] = op == IR_OP_mul   ? a[ia] * b[ib]
		       : op == IR_OP_sub ? a[ia] - b[ib]
		       : op == IR_OP_div ? a[ia] / b[ib]
		                         : a[ia] + b[ib];
	}
}

/* ---- layers ---- */

static void
linear(const float *x, int64_t rows, int64_t I, const float *w, const float *b, int64_t O, float *y)
{
	int64_t r, o, i;
	for (r = 0; r < rows; r++)
		for (o = 0; o < O; o++) {
			double acc = b ? b[o] : 0;
			for (i = 0; i < I; i++)
				acc += (double)x[r * I + i] * w[o * I + i];
			y[r * O + o] = (float)acc;
		}
}

static int
kan(Ctx *c, IrNodeId id, const IrNode *n, float *y, Diag *d)
{
	Graph *g = c->g;
	const IrType *tx = ty(c, n->in[0]);
	int64_t I = tx->dim[tx->rank - 1], rows = elems(tx) / I, O = ty(c, n->in[1])->dim[0];
	int64_t G = ir_attr_int(g, id, "grid_size"), k = ir_attr_int(g, id, "spline_order"),
	        nb = G + k;
	const IrAttr *range = ir_attr(g, id, "grid_range"), *kn = ir_attr(g, id, "knots");
	const float *x = c->val[n->in[0]], *base = c->val[n->in[1]], *sp = c->val[n->in[2]];
	const float *sc = n->nin > 3 && n->in[3] != IR_NONE ? c->val[n->in[3]] : NULL;
	const float *pk = n->nin > 4 && n->in[4] != IR_NONE ? c->val[n->in[4]] : NULL;
	int ident = ir_attr_int(g, id, "base_activation") == 1;
	int64_t nk = G + 2 * k + 1, r, o, i, j;
	double *t = malloc(sizeof(double) * (size_t)nk), *bs = malloc(sizeof(double) * (size_t)nk);
	/* per row: the base activation and the nb basis values of every input, then the sums */
	double *act = malloc(sizeof(double) * (size_t)I),
	       *bas = malloc(sizeof(double) * (size_t)(I * nb));
	(void)d;
	for (r = 0; r < rows; r++) {
		for (i = 0; i < I; i++) {
			double xv = x[r * I + i];
			for (j = 0; j < nk; j++) {
				if (pk)
					t[j] = pk[i * nk + j];
				else if (kn->set)
					t[j] = kn->floats[j];
				else
					t[j] = range->floats[0] +
					       (double)(j - k) *
					           (range->floats[1] - range->floats[0]) /
					           (double)G;
			}
			cc_bspline_basis(t, (uint32_t)nk, (uint32_t)k, xv, bs);
			act[i] = ident ? xv : silu(xv);
			for (j = 0; j < nb; j++)
				bas[i * nb + j] = bs[j];
		}
		for (o = 0; o < O; o++) {
			double acc = 0;
			for (i = 0; i < I; i++) {
				double s = sc ? sc[o * I + i] : 1.0;
				const float *w = sp + (o * I + i) * nb;
				acc += (double)base[o * I + i] * act[i];
				for (j = 0; j < nb; j++)
					acc += (double)w[j] * s * bas[i * nb + j];
			}
			y[r * O + o] = (float)acc;
		}
	}
	free(t);
	free(bs);
	free(act);
	free(bas);
	return 0;
}

static void
matmul(const IrType *ta, const float *a, const IrType *tb, const float *b, const IrType *to,
       float *o, int tra, int trb)
{
	int ra = ta->rank, rb = tb->rank, ro = to->rank;
	int64_t Mo = to->dim[ro - 2], No = to->dim[ro - 1];
	int64_t K = tra ? ta->dim[ra - 2] : ta->dim[ra - 1];
	int64_t batches = elems(to) / (Mo * No), bidx, i, j, kk;
	int64_t sa = ta->dim[ra - 2] * ta->dim[ra - 1], sb = tb->dim[rb - 2] * tb->dim[rb - 1];
	for (bidx = 0; bidx < batches; bidx++) {
		/* Broadcast batch index into a and b. */
		int64_t rem = bidx, ia = 0, ib = 0, ma = 1, mb = 1;
		int k;
		for (k = ro - 3; k >= 0; k--) {
			int64_t idx = rem % to->dim[k];
			int ka = k - (ro - ra), kb = k - (ro - rb);
			rem /= to->dim[k];
			if (ka >= 0) {
				ia += (ta->dim[ka] == 1 ? 0 : idx) * ma;
				ma *= ta->dim[ka];
			}
			if (kb >= 0) {
				ib += (tb->dim[kb] == 1 ? 0 : idx) * mb;
				mb *= tb->dim[kb];
			}
		}
		for (i = 0; i < Mo; i++)
			for (j = 0; j < No; j++) {
				double acc = 0;
				for (kk = 0; kk < K; kk++) {
					double av = tra ? a[ia * sa + kk * Mo + i]
					                : a[ia * sa + i * K + kk];
					double bv = trb ? b[ib * sb + j * K + kk]
					                : b[ib * sb + kk * No + j];
					acc += av * bv;
				}
				o[bidx * Mo * No + i * No + j] = (float)acc;
			}
	}
}

static void
softmax_axis(const IrType *t, const float *x, float *y, int axis)
{
	int64_t n = t->dim[axis], inner = 1, outer, o, i, j;
	int k;
	for (k = axis + 1; k < t->rank; k++)
		inner *= t->dim[k];
	outer = elems(t) / (n * inner);
	for (o = 0; o < outer; o++)
		for (j = 0; j < inner; j++) {
			double mx = -INFINITY, s = 0;
			for (i = 0; i < n; i++)
				mx = fmax(mx, x[(o * n + i) * inner + j]);
			for (i = 0; i < n; i++)
				s += exp(x[(o * n + i) * inner + j] - mx);
			for (i = 0; i < n; i++)
				y[(o * n + i) * inner + j] =
				    (float)(exp(x[(o * n + i) * inner + j] - mx) / s);
		}
}

/* ---- attention (sparse_attention.md) ---- */

void
cc_block_mask_ref(const float *q, const float *k, int64_t N, int64_t M, int64_t D, int64_t blkq,
                  int64_t blkk, int mode, double rho, double tau, double theta, int causal,
                  int sink, uint8_t *mask)
{
	int64_t nq = (N + blkq - 1) / blkq, nk = (M + blkk - 1) / blkk, i, j, t, s, e;
	double *kmean = calloc((size_t)D, sizeof(double));
	double *pq = calloc((size_t)(nq * D), sizeof(double)),
	       *pk = calloc((size_t)(nk * D), sizeof(double));
	uint8_t *simq = calloc((size_t)nq, 1), *simk = calloc((size_t)nk, 1);
	double *P = malloc(sizeof(double) * (size_t)nk), *vec = malloc(sizeof(double) * (size_t)D);
	double *row = malloc(sizeof(double) * (size_t)D);
	int64_t *ord = malloc(sizeof(int64_t) * (size_t)nk);
	for (t = 0; t < M; t++)
		for (e = 0; e < D; e++)
			kmean[e] += k[t * D + e] / (double)M;
	/* pooled means and self-similarity (mean pairwise cosine = |sum of unit rows|^2 / n^2) */
	for (i = 0; i < nq + nk; i++) {
		int isq = i < nq;
		int64_t b = isq ? i : i - nq, blk = isq ? blkq : blkk, len = isq ? N : M;
		int64_t t0 = b * blk, t1 = t0 + blk < len ? t0 + blk : len, nv = t1 - t0;
		double *pool = isq ? pq + b * D : pk + b * D, sumsq = 0;
		memset(vec, 0, sizeof(double) * (size_t)D);
		for (t = t0; t < t1; t++) {
			double nrm = 0;
			for (e = 0; e < D; e++) {
				row[e] = isq ? q[t * D + e] : k[t * D + e] - kmean[e];
				pool[e] += row[e] / (double)nv;
				nrm += row[e] * row[e];
			}
			nrm = sqrt(nrm);
			for (e = 0; e < D; e++)
				vec[e] += nrm > 0 ? row[e] / nrm : 0;
		}
		for (e = 0; e < D; e++)
			sumsq += vec[e] * vec[e];
		if (isq)
			simq[b] = sumsq / ((double)nv * (double)nv) > theta;
		else
			simk[b] = sumsq / ((double)nv * (double)nv) > theta;
	}
	for (i = 0; i < nq; i++) {
		double mx = -INFINITY, sum = 0, cdf = 0;
		int64_t nsel_k, nsel_p = 0, n;
		for (j = 0; j < nk; j++) {
			double sc = 0;
			int allowed = simk[j] && (!causal || j * blkk < (i + 1) * blkq);
			for (e = 0; e < D; e++)
				sc += pq[i * D + e] * pk[j * D + e];
			P[j] = allowed ? sc / sqrt((double)D) : -INFINITY;
			mx = fmax(mx, P[j]);
		}
		for (j = 0; j < nk; j++) {
			P[j] = mx == -INFINITY ? 0 : exp(P[j] - mx);
			sum += P[j];
		}
		for (j = 0; j < nk; j++) {
			P[j] = sum > 0 ? P[j] / sum : 0;
			ord[j] = j;
		}
		/* stable descending sort (insertion: nk is small) */
		for (j = 1; j < nk; j++) {
			int64_t v = ord[j];
			for (s = j - 1; s >= 0 && P[ord[s]] < P[v]; s--)
				ord[s + 1] = ord[s];
			ord[s + 1] = v;
		}
		for (j = 0; j < nk; j++) {
			cdf += P[ord[j]];
			if (cdf <= tau)
				nsel_p++;
		}
		nsel_k = (int64_t)floor(rho * (double)nk);
		if (nsel_k == 0)
			nsel_k = 1;
		if (nsel_p == 0)
			nsel_p = 1;
		n = mode == 0 ? nsel_k : mode == 1 ? nsel_p : (nsel_k > nsel_p ? nsel_k : nsel_p);
		for (j = 0; j < nk; j++)
			mask[i * nk + j] = !simk[j] || !simq[i];
		for (j = 0; j < n && j < nk; j++)
			mask[i * nk + ord[j]] = 1;
		for (j = 0; j < nk; j++) {
			if (causal && !(j * blkk < (i + 1) * blkq))
				mask[i * nk + j] = 0;
			if (sink && j == 0)
				mask[i * nk + j] = 1;
		}
	}
	free(kmean), free(pq), free(pk), free(simq), free(simk), free(P), free(vec), free(ord);
	free(row);
}

static void
phi(const float *x, int64_t D, int fmap, double *out)
{
	int64_t e;
	if (fmap == 0) {
		double mx = -INFINITY, s = 0;
		for (e = 0; e < D; e++)
			mx = fmax(mx, x[e]);
		for (e = 0; e < D; e++)
			s += out[e] = exp(x[e] - mx);
		for (e = 0; e < D; e++)
			out[e] /= s;
	} else if (fmap == 1) {
		for (e = 0; e < D; e++)
			out[e] = x[e] > 0 ? x[e] + 1 : exp(x[e]);
	} else {
		for (e = 0; e < D; e++)
			out[e] = x[e] > 0 ? x[e] : 0;
	}
}

/* Linear attention for one head: o_l[r] = phi(q_r) S / (phi(q_r).Z + eps) over all key blocks
 * (mask NULL) or over the blocks not in the mask row of r's query block. */
static void
linear_attn_head(const float *q, const float *k, const float *v, int64_t N, int64_t M, int64_t D,
                 int64_t Dv, int fmap, const uint8_t *mask, int64_t blkq, int64_t blkk, double eps,
                 float *o)
{
	int64_t nk = (M + blkk - 1) / blkk, r, t, e, f;
	double *pk = malloc(sizeof(double) * (size_t)D), *pq = malloc(sizeof(double) * (size_t)D);
	double *S = calloc((size_t)(nk * D * Dv), sizeof(double)),
	       *Z = calloc((size_t)(nk * D), sizeof(double));
	for (t = 0; t < M; t++) {
		int64_t j = t / blkk;
		phi(k + t * D, D, fmap, pk);
		for (e = 0; e < D; e++) {
			Z[j * D + e] += pk[e];
			for (f = 0; f < Dv; f++)
				S[(j * D + e) * Dv + f] += pk[e] * v[t * Dv + f];
		}
	}
	for (r = 0; r < N; r++) {
		const uint8_t *mrow = mask ? mask + (r / blkq) * nk : NULL;
		double den = 0;
		int64_t j;
		phi(q + r * D, D, fmap, pq);
		for (f = 0; f < Dv; f++)
			o[r * Dv + f] = 0;
		for (j = 0; j < nk; j++) {
			if (mrow && mrow[j])
				continue;
			for (e = 0; e < D; e++) {
				den += pq[e] * Z[j * D + e];
				for (f = 0; f < Dv; f++)
					o[r * Dv + f] += (float)(pq[e] * S[(j * D + e) * Dv + f]);
			}
		}
		for (f = 0; f < Dv; f++)
			o[r * Dv + f] =
			    den + eps > 0 && den > 0 ? (float)(o[r * Dv + f] / (den + eps)) : 0.0f;
	}
	free(pk), free(pq), free(S), free(Z);
}

/* Block-sparse attention for one head with base-2 online softmax and the P.V skip test
 * (per row: skip a block when its row max is more than lambda below the running max). */
static void
sparse_attn_head(const float *q, const float *k, const float *v, int64_t N, int64_t M, int64_t D,
                 int64_t Dv, double scale, int causal, const uint8_t *mask, int64_t blkq,
                 int64_t blkk, double lambda, float *o)
{
	int64_t nk = (M + blkk - 1) / blkk, r, j, t, f;
	double *acc = malloc(sizeof(double) * (size_t)Dv),
	       *s = malloc(sizeof(double) * (size_t)blkk);
	double sm = scale * 1.4426950408889634;
	for (r = 0; r < N; r++) {
		double m = -INFINITY, l = 0;
		for (f = 0; f < Dv; f++)
			acc[f] = 0;
		for (j = 0; j < nk; j++) {
			int64_t t0 = j * blkk, t1 = t0 + blkk < M ? t0 + blkk : M;
			double mloc = -INFINITY, mnew;
			if (mask && !mask[(r / blkq) * nk + j])
				continue;
			for (t = t0; t < t1; t++) {
				double dot = 0;
				int64_t e;
				if (causal && t > r) {
					s[t - t0] = -INFINITY;
					continue;
				}
				for (e = 0; e < D; e++)
					dot += (double)q[r * D + e] * k[t * D + e];
				s[t - t0] = dot * sm;
				mloc = fmax(mloc, s[t - t0]);
			}
			if (mloc == -INFINITY)
				continue;
			mnew = fmax(m, mloc);
			if (m != -INFINITY && !(mloc - m + lambda > 0)) {
				/* skipped: rescale only */
				continue;
			}
			for (f = 0; f < Dv; f++)
				acc[f] *= exp2(m - mnew);
			l *= m == -INFINITY ? 0 : exp2(m - mnew);
			m = mnew;
			for (t = t0; t < t1; t++) {
				double p;
				if (s[t - t0] == -INFINITY)
					continue;
				p = exp2(s[t - t0] - m);
				l += p;
				for (f = 0; f < Dv; f++)
					acc[f] += p * v[t * Dv + f];
			}
		}
		for (f = 0; f < Dv; f++)
			o[r * Dv + f] = l > 0 ? (float)(acc[f] / l) : 0.0f;
	}
	free(acc);
	free(s);
}

void
cc_attention_head(const float *q, const float *k, const float *v, int64_t N, int64_t M, int64_t D,
                  int64_t Dv, double scale, int causal, float *o)
{
	sparse_attn_head(q, k, v, N, M, D, Dv, scale, causal, NULL, N, M, INFINITY, o);
}

static int
attention_node(Ctx *c, IrNodeId id, const IrNode *n, float *out)
{
	Graph *g = c->g;
	/* block_mask has no v: its "v" dims are k's (unused) */
	const IrType *tq = ty(c, n->in[0]), *tk = ty(c, n->in[1]),
	             *tv = n->nin > 2 ? ty(c, n->in[2]) : tk;
	int64_t B = tq->dim[0], H = tq->dim[1], N = tq->dim[2], D = tq->dim[3], M = tk->dim[2];
	int64_t Dv = tv->dim[3], bh, hk = tk->dim[1], hv = tv->dim[1];
	int op = n->op;
	const IrAttr *sa =
	    op == IR_OP_linear_attention || op == IR_OP_block_mask ? NULL : ir_attr(g, id, "scale");
	double scale = sa && sa->set ? sa->f : 1.0 / sqrt((double)D);
	int64_t blkq = op == IR_OP_attention ? N : ir_attr_int(g, id, "blkq");
	int64_t blkk = op == IR_OP_attention ? M : ir_attr_int(g, id, "blkk");
	int64_t nq = (N + blkq - 1) / blkq, nk = (M + blkk - 1) / blkk;
	uint8_t *mask = malloc((size_t)(nq * nk) + 1);
	float *ol = malloc(sizeof(float) * (size_t)(N * Dv) + 1);
	for (bh = 0; bh < B * H; bh++) {
		int64_t b = bh / H, h = bh % H;
		const float *q = c->val[n->in[0]] + bh * N * D;
		const float *k = c->val[n->in[1]] + (b * hk + h % hk) * M * D;
		const float *v = n->nin > 2 ? c->val[n->in[2]] + (b * hv + h % hv) * M * Dv : NULL;
		float *o = out + bh * N * (op == IR_OP_block_mask ? 0 : Dv);
		if (op == IR_OP_attention) {
			sparse_attn_head(q, k, v, N, M, D, Dv, scale,
			                 (int)ir_attr_int(g, id, "causal"), NULL, N, M, INFINITY,
			                 o);
			continue;
		}
		if (op == IR_OP_linear_attention) {
			const uint8_t *mk = NULL;
			if (n->nin > 3 && n->in[3] != IR_NONE) {
				int64_t i;
				for (i = 0; i < nq * nk; i++)
					mask[i] = c->val[n->in[3]][bh * nq * nk + i] != 0;
				mk = mask;
			}
			linear_attn_head(q, k, v, N, M, D, Dv,
			                 (int)ir_attr_int(g, id, "feature_map"), mk, blkq, blkk,
			                 ir_attr_float(g, id, "eps"), o);
			continue;
		}
		cc_block_mask_ref(q, k, N, M, D, blkq, blkk, (int)ir_attr_int(g, id, "mode"),
		                  ir_attr_float(g, id, "rho"), ir_attr_float(g, id, "tau"),
		                  ir_attr_float(g, id, "simthresh"),
		                  (int)ir_attr_int(g, id, "causal"),
		                  (int)ir_attr_int(g, id, "sink"), mask);
		if (op == IR_OP_block_mask) {
			int64_t i;
			for (i = 0; i < nq * nk; i++)
				out[bh * nq * nk + i] = mask[i];
			continue;
		}
		sparse_attn_head(q, k, v, N, M, D, Dv, scale, (int)ir_attr_int(g, id, "causal"),
		                 mask, blkq, blkk, ir_attr_float(g, id, "pv_threshold"), o);
		if (ir_attr_int(g, id, "combine") != 0) {
			int complement = ir_attr_int(g, id, "region") == 1;
			int64_t r, f, e;
			linear_attn_head(
			    q, k, v, N, M, D, Dv, (int)ir_attr_int(g, id, "feature_map"),
			    complement ? mask : NULL, blkq, blkk, ir_attr_float(g, id, "eps"), ol);
			if (ir_attr_int(g, id, "combine") == 1) {
				const float *W = c->val[n->in[3]];
				const float *bb =
				    n->nin > 4 && n->in[4] != IR_NONE ? c->val[n->in[4]] : NULL;
				for (r = 0; r < N; r++)
					for (f = 0; f < Dv; f++) {
						double acc = bb ? bb[f] : 0;
						for (e = 0; e < Dv; e++)
							acc +=
							    (double)ol[r * Dv + e] * W[f * Dv + e];
						o[r * Dv + f] += (float)acc;
					}
			} else {
				const IrType *ta = ty(c, n->in[3]);
				const float *al = c->val[n->in[3]];
				for (r = 0; r < N; r++) {
					/* alpha broadcast to [B, H, N, 1] */
					int64_t idx[3] = {b, h, r}, ia = 0, st = 1;
					int kk;
					double a;
					for (kk = ta->rank - 1; kk >= 0; kk--) {
						int pos = 4 - ta->rank +
						          kk; /* position in [B, H, N, 1] */
						int64_t iv = pos < 3 ? idx[pos] : 0;
						if (ta->dim[kk] != 1)
							ia += iv * st;
						st *= ta->dim[kk];
					}
					a = al[ia];
					for (f = 0; f < Dv; f++)
						o[r * Dv + f] = (float)(a * o[r * Dv + f] +
						                        (1 - a) * ol[r * Dv + f]);
				}
			}
		}
	}
	free(mask);
	free(ol);
	return 0;
}

static int
node(Ctx *c, IrNodeId id, Diag *d)
{
	Graph *g = c->g;
	const IrNode *n = &g->nodes[id];
	const IrType *to = ty(c, n->out[0]), *t0 = ty(c, n->in[0]);
	int64_t no = elems(to), i;
	float *o = malloc(sizeof(float) * (size_t)(no ? no : 1));
	const float *x = c->val[n->in[0]];
	c->val[n->out[0]] = o;
	switch (n->op) {
	case IR_OP_kan_linear:
		return kan(c, id, n, o, d);
	case IR_OP_linear: {
		int64_t I = t0->dim[t0->rank - 1], O = to->dim[to->rank - 1];
		linear(x, elems(t0) / I, I, c->val[n->in[1]],
		       n->nin > 2 && n->in[2] != IR_NONE ? c->val[n->in[2]] : NULL, O, o);
		return 0;
	}
	case IR_OP_matmul:
		matmul(t0, x, ty(c, n->in[1]), c->val[n->in[1]], to, o,
		       (int)ir_attr_int(g, id, "transpose_a"),
		       (int)ir_attr_int(g, id, "transpose_b"));
		return 0;
	case IR_OP_add:
	case IR_OP_mul:
	case IR_OP_sub:
	case IR_OP_div:
		broadcast2(t0, x, ty(c, n->in[1]), c->val[n->in[1]], to, o, (IrOpcode)n->op);
		return 0;
	case IR_OP_silu:
		for (i = 0; i < no; i++)
			o[i] = (float)silu(x[i]);
		return 0;
	case IR_OP_relu:
		for (i = 0; i < no; i++)
			o[i] = x[i] > 0 ? x[i] : 0;
		return 0;
	case IR_OP_exp:
		for (i = 0; i < no; i++)
			o[i] = (float)exp(x[i]);
		return 0;
	case IR_OP_sigmoid:
		for (i = 0; i < no; i++)
			o[i] = (float)(1.0 / (1.0 + exp(-(double)x[i])));
		return 0;
	case IR_OP_tanh:
		for (i = 0; i < no; i++)
			o[i] = (float)tanh(x[i]);
		return 0;
	case IR_OP_softmax: {
		int64_t ax = ir_attr_int(g, id, "axis");
		softmax_axis(t0, x, o, (int)(ax < 0 ? ax + t0->rank : ax));
		return 0;
	}
	case IR_OP_layernorm:
	case IR_OP_rmsnorm: {
		int64_t D = t0->dim[t0->rank - 1], rows = no / D, r, e;
		double eps = ir_attr_float(g, id, "eps");
		const float *gm = n->nin > 1 && n->in[1] != IR_NONE ? c->val[n->in[1]] : NULL;
		const float *bt = n->op == IR_OP_layernorm && n->nin > 2 && n->in[2] != IR_NONE
		                      ? c->val[n->in[2]]
		                      : NULL;
		for (r = 0; r < rows; r++) {
			double mean = 0, var = 0;
			for (e = 0; e < D; e++)
				mean += x[r * D + e] / (double)D;
			if (n->op == IR_OP_rmsnorm)
				mean = 0;
			for (e = 0; e < D; e++)
				var += (x[r * D + e] - mean) * (x[r * D + e] - mean) / (double)D;
			for (e = 0; e < D; e++)
				o[r * D + e] = (float)((x[r * D + e] - mean) / sqrt(var + eps) *
				                           (gm ? gm[e] : 1.0) +
				                       (bt ? bt[e] : 0.0));
		}
		return 0;
	}
	case IR_OP_reshape:
		memcpy(o, x, sizeof(float) * (size_t)no);
		return 0;
	case IR_OP_transpose: {
		const IrAttr *p = ir_attr(g, id, "perm");
		int r = t0->rank, k;
		for (i = 0; i < no; i++) {
			int64_t rem = i, src = 0, idx[IR_MAXRANK], st = 1;
			for (k = r - 1; k >= 0; k--) {
				idx[k] = rem % to->dim[k];
				rem /= to->dim[k];
			}
			/* out axis k is input axis perm[k] */
			{
				int64_t in_idx[IR_MAXRANK];
				for (k = 0; k < r; k++)
					in_idx[p->ints[k]] = idx[k];
				for (k = r - 1; k >= 0; k--) {
					src += in_idx[k] * st;
					st *= t0->dim[k];
				}
			}
			o[i] = x[src];
		}
		return 0;
	}
	case IR_OP_concat: {
		int64_t ax = ir_attr_int(g, id, "axis"), inner = 1, outer, off = 0, j;
		unsigned a;
		int k;
		if (ax < 0)
			ax += to->rank;
		for (k = (int)ax + 1; k < to->rank; k++)
			inner *= to->dim[k];
		outer = no / (to->dim[ax] * inner);
		for (a = 0; a < n->nin; a++) {
			const IrType *ta = ty(c, n->in[a]);
			int64_t len = ta->dim[ax] * inner;
			for (j = 0; j < outer; j++)
				memcpy(o + j * to->dim[ax] * inner + off,
				       c->val[n->in[a]] + j * len, sizeof(float) * (size_t)len);
			off += len;
		}
		return 0;
	}
	case IR_OP_attention:
	case IR_OP_block_mask:
	case IR_OP_sparse_attention:
	case IR_OP_linear_attention:
		return attention_node(c, id, n, o);
	default:
		return diag_err(d, g->file, "the interpreter has no rule for op '%s'",
		                ir_ops[n->op].name);
	}
}

static int interp(Graph *g, const float *const *inputs, float **outputs, double *amax, Diag *d);

int
cc_interp(Graph *g, const float *const *inputs, float **outputs, Diag *d)
{
	return interp(g, inputs, outputs, NULL, d);
}

int
cc_interp_amax(Graph *g, const float *const *inputs, double *amax, Diag *d)
{
	return interp(g, inputs, NULL, amax, d);
}

static int
interp(Graph *g, const float *const *inputs, float **outputs, double *amax, Diag *d)
{
	Ctx c;
	uint32_t i, k = 0;
	int r = 0;
	if (cc_canonicalize(g, d))
		return -1;
	c.g = g;
	c.val = calloc(g->ntensors + 1, sizeof(float *));
	for (i = 0; i < g->ntensors; i++) {
		IrTensor *t = &g->tensors[i];
		int64_t n = elems(&t->type);
		if (t->kind == IR_INPUT) {
			c.val[i] = malloc(sizeof(float) * (size_t)(n ? n : 1));
			memcpy(c.val[i], inputs[k++], sizeof(float) * (size_t)n);
		} else if (t->kind == IR_WEIGHT) {
			const float *w = ir_weight_data(g, i, d);
			if (!w) {
				r = -1;
				goto out;
			}
			c.val[i] = malloc(sizeof(float) * (size_t)(n ? n : 1));
			memcpy(c.val[i], w, sizeof(float) * (size_t)n);
		}
	}
	for (i = 0; i < g->nnodes; i++)
		if (node(&c, i, d)) {
			r = -1;
			goto out;
		}
	for (i = 0; amax && i < g->ntensors; i++) {
		int64_t n = elems(&g->tensors[i].type), e;
		amax[i] = 0;
		for (e = 0; c.val[i] && e < n; e++)
			amax[i] = fmax(amax[i], fabs(c.val[i][e]));
	}
	for (i = 0; outputs && i < g->noutputs; i++) {
		int64_t n = elems(&g->tensors[g->outputs[i].t].type);
		outputs[i] = malloc(sizeof(float) * (size_t)(n ? n : 1));
		memcpy(outputs[i], c.val[g->outputs[i].t], sizeof(float) * (size_t)n);
	}
out:
	for (i = 0; i < g->ntensors; i++)
		free(c.val[i]);
	free(c.val);
	return r;
}
