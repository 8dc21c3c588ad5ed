/* pass_calib.c + pass_quant.c: calibration and fixed-point formats.
 *
 * calib   Runs the float reference over calibration samples (given, or synthetic: uniform in
 *         [input_lo, input_hi] from a seed) and records each layer's largest |input|,
 *         |pre-activation| and |output|.
 * quant   Chooses every format (docs/compiler.md): activations symmetric per tensor in the
 *         MVMU's input bits; a KAN layer's input scale is the knot spacing over a power of two,
 *         so the SBU finds the knot interval with a shift; the drive rows' scales are folded
 *         into the weights, which are then quantised per output channel; requantisation
 *         multipliers per channel with one shift per layer; the last output is 16-bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccint.h"

static double
silu(double x)
{
	return x / (1.0 + exp(-x));
}

static int64_t
round_away(double v)
{
	return (int64_t)(v < 0 ? -floor(-v + 0.5) : floor(v + 0.5));
}

uint32_t
cc_type_size(unsigned ty)
{
	return isa_type_size(ty);
}

int32_t
cc_sat(int64_t v, unsigned ty)
{
	int64_t lo = ty == TY_I8 ? INT8_MIN : ty == TY_I16 ? INT16_MIN : INT32_MIN;
	int64_t hi = ty == TY_I8 ? INT8_MAX : ty == TY_I16 ? INT16_MAX : INT32_MAX;
	return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

int64_t
cc_rshift_round(int64_t v, unsigned s)
{
	uint64_t h, q;
	if (s == 0)
		return v;
	if (s > 62)
		return 0;
	h = 1ull << (s - 1);
	if (v >= 0)
		return (int64_t)(((uint64_t)v + h) >> s);
	q = ((uint64_t)(-(v + 1)) + 1 + h) >> s;
	return -(int64_t)q;
}

/* splitmix64, for synthetic calibration samples */
static uint64_t
mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int
cc_pass_calib(CcModel *m, Diag *d)
{
	uint32_t n = m->opt.calib ? m->opt.ncalib : m->opt.nsynth, s, i, maxlen = m->in_len;
	uint64_t st = m->opt.seed ^ 0x63616c6962ull;
	float *a, *b, *pre;
	(void)d;
	for (i = 0; i < m->nlayers; i++)
		if (m->layers[i].out_len > maxlen)
			maxlen = m->layers[i].out_len;
	a = xmalloc(sizeof(float) * maxlen);
	b = xmalloc(sizeof(float) * maxlen);
	pre = xmalloc(sizeof(float) * maxlen);
	for (s = 0; s < n; s++) {
		if (m->opt.calib)
			memcpy(a, m->opt.calib + (size_t)s * m->in_len, sizeof(float) * m->in_len);
		else
			for (i = 0; i < m->in_len; i++)
				a[i] = (float)(m->opt.input_lo +
				               (m->opt.input_hi - m->opt.input_lo) *
				                   (double)(mix(&st) >> 11) * 0x1.0p-53);
		for (i = 0; i < m->nlayers; i++) {
			CcLayer *l = &m->layers[i];
			uint32_t j;
			float *t;
			for (j = 0; j < l->in_len; j++)
				l->amax_in = fmax(l->amax_in, fabs(a[j]));
			cc_layer_float(l, a, b, pre);
			for (j = 0; j < l->out_len; j++) {
				l->amax_pre = fmax(l->amax_pre, fabs(pre[j]));
				l->amax_out = fmax(l->amax_out, fabs(b[j]));
			}
			t = a, a = b, b = t;
		}
	}
	free(a);
	free(b);
	free(pre);
	return 0;
}

/* KAN input scale: h / 2^sh with the largest sh whose range still covers the calibrated inputs
 * and whose first knot is a whole number of input units. */
int
cc_kan_input_scale(CcModel *m, CcLayer *l, Diag *d)
{
	double amax = l->amax_in > 0 ? l->amax_in : 1.0, t0 = l->lo - l->k * l->h;
	int sh = (int)floor(log2(m->qmax * l->h / amax));
	if (sh > 16)
		sh = 16;
	for (; sh >= 0; sh--) {
		double s = l->h / (double)(1u << sh), q = t0 / s;
		if (fabs(q - nearbyint(q)) < 1e-6 && fabs(q) < 2e9) {
			l->sbu_sh = (uint32_t)sh;
			l->sx = s;
			l->sbu_t0 = (int32_t)nearbyint(q);
			return 0;
		}
	}
	return cc_layer_error(
	    m, l, d,
	    "kan_linear: no input scale makes the first knot %g a whole number of "
	    "units of the knot spacing %g over a power of two",
	    t0, l->h);
}

int
cc_layer_quant(CcModel *m, CcLayer *l, const CcLayer *next, int last, Diag *d)
{
	Arena *ar = m->arena;
	const HwArch *a = m->arch;
	int32_t wqmax = (1 << (a->mvmu.weight_bits - 1)) - 1;
	double *rs = xmalloc(sizeof(double) * l->rows), mmax = 0;
	uint32_t o, r, i;
	int q;

	/* Scales of the drive rows. */
	if (l->kind == CC_LINEAR) {
		for (r = 0; r < l->rows; r++)
			rs[r] = l->sx;
	} else {
		uint32_t K = l->k, U = 1u << l->sbu_sh, u;
		double *t = xmalloc(sizeof(double) * (2 * K + 2)),
		       *bs = xmalloc(sizeof(double) * (2 * K + 2));
		double *vals = xmalloc(sizeof(double) * U * (K + 1)), bmax = 0, smax = 0;
		if (l->base_identity) {
			l->s_base = l->sx;
		} else {
			if (m->aty != TY_I8) {
				free(t), free(bs), free(vals), free(rs);
				return cc_layer_error(
				    m, l, d,
				    "kan_linear: the SiLU base branch needs 8-bit "
				    "activations (a 256-entry table)");
			}
			for (q = -128; q <= 127; q++)
				smax = fmax(smax, fabs(silu(q * l->sx)));
			l->s_base = smax > 0 ? smax / m->qmax : 1.0;
			for (q = -128; q <= 127; q++)
				l->base_lut[q + 128] =
				    (int8_t)cc_sat(round_away(silu(q * l->sx) / l->s_base), TY_I8);
		}
		/* Basis table from the recursion on canonical knots 0..2k+1 at x = k + u/U. */
		for (i = 0; i < 2 * K + 2; i++)
			t[i] = i;
		for (u = 0; u < U; u++) {
			cc_bspline_basis(t, 2 * K + 2, K, K + (double)u / U, bs);
			for (r = 0; r <= K; r++) {
				vals[u * (K + 1) + r] = bs[r];
				bmax = fmax(bmax, bs[r]);
			}
		}
		l->s_basis = bmax / m->qmax;
		l->basis_lut = arena_alloc(ar, U * (K + 1));
		for (i = 0; i < U * (K + 1); i++)
			l->basis_lut[i] = (int8_t)cc_sat(round_away(vals[i] / l->s_basis), TY_I8);
		for (r = 0; r < l->in_len; r++)
			rs[r] = l->s_base;
		for (; r < l->rows; r++)
			rs[r] = l->s_basis;
		free(t), free(bs), free(vals);
	}

	/* Output formats. */
	if (last && l->act != CC_ACT_SILU) {
		/* The model output keeps 16 bits: it leaves the chip, no MVMU reads it. */
		l->yty = TY_I16;
		l->sy = (l->amax_out > 0 ? l->amax_out : 1.0) / 32767.0;
	} else {
		l->yty = m->aty;
		if (next && next->kind == CC_KAN)
			l->sy = next->sx;
		else
			l->sy = (l->amax_out > 0 ? l->amax_out : 1.0) / m->qmax;
	}
	if (l->act == CC_ACT_SILU) {
		if (m->aty != TY_I8) {
			free(rs);
			return cc_layer_error(m, l, d, "a fused SiLU needs 8-bit activations");
		}
		l->spre = (l->amax_pre > 0 ? l->amax_pre : 1.0) / m->qmax;
		for (q = -128; q <= 127; q++)
			l->act_lut[q + 128] =
			    (int8_t)cc_sat(round_away(silu(q * l->spre) / l->sy), TY_I8);
	} else {
		l->spre = l->sy;
	}

	/* Weights: fold the row scales, quantise per output channel. */
	l->wq = arena_alloc(ar, sizeof(int32_t) * l->rows * l->out_len);
	l->sw = arena_alloc(ar, sizeof(double) * l->out_len);
	l->mult = arena_alloc(ar, sizeof(int32_t) * l->out_len);
	if (l->bias)
		l->bq = arena_alloc(ar, sizeof(int32_t) * l->out_len);
	for (o = 0; o < l->out_len; o++) {
		const float *w = l->w + (size_t)o * l->rows;
		double mx = 0;
		for (r = 0; r < l->rows; r++)
			mx = fmax(mx, fabs(w[r] * rs[r]));
		l->sw[o] = mx > 0 ? mx / wqmax : 1.0;
		for (r = 0; r < l->rows; r++)
			l->wq[(size_t)r * l->out_len + o] =
			    (int32_t)round_away(w[r] * rs[r] / l->sw[o]);
		if (l->bq) {
			double b = l->bias[o] / l->sw[o];
			if (fabs(b) > 2e9) {
				free(rs);
				return cc_layer_error(
				    m, l, d, "bias %u does not fit a 32-bit accumulator", o);
			}
			l->bq[o] = (int32_t)round_away(b);
		}
		mmax = fmax(mmax, l->sw[o] / l->spre);
	}
	l->shift = mmax > 0 ? (uint32_t)fmin(62, fmax(0, floor(log2(2147483647.0 / mmax)))) : 0;
	for (o = 0; o < l->out_len; o++)
		l->mult[o] = (int32_t)round_away(l->sw[o] / l->spre * (double)(1ull << l->shift));
	free(rs);
	return 0;
}

int
cc_pass_quant(CcModel *m, Diag *d)
{
	const HwArch *a = m->arch;
	uint32_t i;
	if (a->mvmu.input_bits != 8 && a->mvmu.input_bits != 16)
		return cc_layer_error(m, &m->layers[0], d,
		                      "the architecture's MVMU takes %d-bit inputs; the compiler "
		                      "supports 8- and 16-bit activations",
		                      a->mvmu.input_bits);
	m->aty = a->mvmu.input_bits <= 8 ? TY_I8 : TY_I16;
	m->qmax = (1 << (a->mvmu.input_bits - 1)) - 1;
	/* Input scales: KAN layers first (they constrain their producers), then the rest. */
	for (i = 0; i < m->nlayers; i++)
		if (m->layers[i].kind == CC_KAN && cc_kan_input_scale(m, &m->layers[i], d))
			return -1;
	if (m->layers[0].kind != CC_KAN)
		m->layers[0].sx = (m->layers[0].amax_in > 0 ? m->layers[0].amax_in : 1.0) / m->qmax;
	for (i = 0; i < m->nlayers; i++) {
		CcLayer *l = &m->layers[i];
		if (i > 0 && l->kind != CC_KAN)
			l->sx = m->layers[i - 1].sy;
		if (cc_layer_quant(m, l, i + 1 < m->nlayers ? l + 1 : NULL, i + 1 == m->nlayers, d))
			return -1;
	}
	m->in_scale = m->layers[0].sx;
	m->out_scale = m->layers[m->nlayers - 1].sy;
	return 0;
}
