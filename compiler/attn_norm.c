/* attn_norm.c: the layer norm and the residual add of an attention layer in integers (attn.h):
 * their formats and their integer reference. The code is in attn_phase.c. */
#include <math.h>
#include <string.h>

#include "attn.h"

int64_t
cc_isqrt(int64_t v)
{
	int64_t res = 0, bit = (int64_t)1 << 30;
	int i;
	for (i = 0; i < 16; i++) {
		if (v >= res + bit) {
			v -= res + bit;
			res = (res >> 1) + bit;
		} else
			res >>= 1;
		bit >>= 2;
	}
	return res;
}

int
cc_attn_norm_quant(CcModel *m, CcNorm *n, Diag *d)
{
	Graph *g = m->g;
	const IrNode *nd = &g->nodes[n->node];
	const float *gam = NULL, *bet = NULL;
	double eps = ir_attr_float(g, n->node, "eps"), vmax, gmax = 0, base, epsq;
	uint32_t i;
	if (nd->nin > 1 && nd->in[1] != IR_NONE && !(gam = ir_weight_data(g, nd->in[1], d)))
		return -1;
	if (nd->nin > 2 && nd->in[2] != IR_NONE && !(bet = ir_weight_data(g, nd->in[2], d)))
		return -1;
	/* mean: sum * round(2^rsh / W) >> rsh, |sum| <= 128 W */
	n->rsh = 16;
	n->recip = (int32_t)floor(65536.0 / n->W + 0.5);
	epsq = floor(eps * n->W / (n->s_in * n->s_in) + 0.5);
	if (!(epsq < 1e9) || (double)n->W * 65025.0 + epsq >= 2147483647.0)
		return cc_attn_error(
		    m, nd->loc, d,
		    "layernorm over %u values with eps %g: the variance sum (at most %u x "
		    "255^2 plus eps at the input scale, %.3g) must stay below 2^31",
		    n->W, eps, n->W, (double)n->W * 65025.0 + epsq);
	n->eps = (int32_t)epsq; /* at least 1: the root of an all-equal row is not 0 */
	if (n->eps < 1)
		n->eps = 1;
	/* S = isqrt(v << p): p even, v << p below 2^31 */
	vmax = (double)n->W * 255.0 * 255.0 + n->eps;
	n->p = 0;
	while (vmax * (double)(1ull << (n->p + 2)) < 2147483647.0)
		n->p += 2;
	/* |xc R| <= sqrt(W) 2^(30 - p/2): t keeps about 16 bits */
	n->ta = 0;
	while (sqrt((double)n->W) * exp2(30.0 - n->p / 2.0 - n->ta) > 32768.0)
		n->ta++;
	/* y = t 2^ta sqrt(W) 2^(p/2 - 30) gamma / s_out */
	base = sqrt((double)n->W) * exp2(n->p / 2.0 + n->ta - 30.0) / n->s_out;
	for (i = 0; i < n->W; i++)
		gmax = fmax(gmax, fabs((gam ? gam[i] : 1.0) * base));
	n->gsh = 0;
	while (n->gsh < 40 && gmax * exp2(n->gsh + 1) < 1048576.0)
		n->gsh++;
	n->g = arena_alloc(m->arena, sizeof(int32_t) * n->W);
	n->b = arena_alloc(m->arena, sizeof(int32_t) * n->W);
	for (i = 0; i < n->W; i++) {
		double bq = floor((bet ? bet[i] : 0.0) / n->s_out + 0.5);
		if (!(fabs(bq) <= 1e9))
			return cc_attn_error(
			    m, nd->loc, d,
			    "layernorm beta %g of channel %u is out of range at the "
			    "output's scale %g",
			    bet[i], i, n->s_out);
		n->g[i] = (int32_t)floor((gam ? gam[i] : 1.0) * base * exp2(n->gsh) + 0.5);
		n->b[i] = (int32_t)bq;
	}
	return 0;
}

void
cc_attn_norm_qref(const CcNorm *n, const int32_t *x, uint32_t rows, int32_t *y)
{
	uint32_t r, i, W = n->W;
	for (r = 0; r < rows; r++) {
		const int32_t *xr = x + (size_t)r * W;
		int64_t sum = 0, v = 0, mean, S, R;
		for (i = 0; i < W; i++)
			sum += xr[i];
		sum = cc_sat(sum, TY_I32);
		mean = (sum * n->recip + (1 << (n->rsh - 1))) >> n->rsh; /* arithmetic shift */
		for (i = 0; i < W; i++)
			v += (xr[i] - mean) * (xr[i] - mean);
		v = cc_sat(v, TY_I32) + n->eps;
		S = cc_isqrt(v << n->p);
		/* vrecip: round(2^30 / S), half up; 0 gives the maximum */
		R = S ? (((int64_t)1 << 30) + S / 2) / S : INT32_MAX;
		for (i = 0; i < W; i++) {
			int64_t t = cc_sat(cc_rshift_round((xr[i] - mean) * R, n->ta), TY_I32);
			int64_t u = cc_sat(cc_rshift_round(t * n->g[i], n->gsh), TY_I32);
			y[(size_t)r * W + i] = cc_sat(cc_sat(u + n->b[i], TY_I32), TY_I8);
		}
	}
}

void
cc_attn_add_qref(const CcAdd *ad, const int32_t *a, const int32_t *b, uint64_t n, int32_t *y)
{
	uint64_t i;
	for (i = 0; i < n; i++) {
		int64_t A = cc_sat((int64_t)a[i] * ad->ma, TY_I32);
		int64_t B = cc_sat((int64_t)b[i] * ad->mb, TY_I32);
		y[i] = cc_sat(cc_rshift_round(cc_sat(A + B, TY_I32), ATTN_ADD_SHIFT), TY_I8);
	}
}
