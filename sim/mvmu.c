/* mvmu.c: the matrix-vector unit's arithmetic: bit-sliced weights, bit-serial inputs, ADC
 * resolution with rounding and clipping, shift-and-add, row gating, and the non-ideal device
 * modes (conductance variation, stuck cells, read noise) drawn from the run's seeded RNG.
 * The exact definition is in docs/isa.md ("mvm"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simint.h"

uint64_t
sim_rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double
sim_rng_uniform(uint64_t *state)
{
	return (double)(sim_rng_next(state) >> 11) * 0x1.0p-53;
}

double
sim_rng_gauss(uint64_t *state)
{
	double u1 = sim_rng_uniform(state), u2 = sim_rng_uniform(state);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Bits needed for the largest partial sum one conversion sees (the lossless ADC width). */
static uint32_t
lossless_bits(const SimParams *p, uint32_t rows)
{
	uint64_t mx = (uint64_t)rows * ((1ull << p->dac_bits) - 1) * ((1ull << p->cell_bits) - 1);
	return ceil_log2(mx + 1);
}

int
sim_mvmu_nonideal(Sim *s, Mvmu *u)
{
	const SimParams *p = &s->p;
	size_t n = (size_t)p->slices * u->rows * u->cols, i;
	uint32_t cmax = (1u << p->cell_bits) - 1;
	if (s->opt.g_sigma <= 0 && s->opt.stuck_prob <= 0)
		return 0;
	u->g = xmalloc(n * sizeof(float));
	for (i = 0; i < n; i++) {
		size_t sl = i / ((size_t)u->rows * u->cols), cell = i % ((size_t)u->rows * u->cols);
		uint32_t wu = (uint32_t)(u->w[cell] + (1 << (p->weight_bits - 1)));
		uint32_t level = (wu >> (sl * p->cell_bits)) & cmax;
		double g = level;
		if (s->opt.stuck_prob > 0 && sim_rng_uniform(&s->rng) < s->opt.stuck_prob)
			g = (sim_rng_next(&s->rng) & 1) ? cmax : 0;
		else if (s->opt.g_sigma > 0)
			g = level * (1.0 + s->opt.g_sigma * sim_rng_gauss(&s->rng));
		u->g[i] = (float)(g < 0 ? 0 : g);
	}
	return 0;
}

/* adc: convert a partial sum (real-valued in non-ideal modes) with `bits` of resolution over a
 * range of `full` bits: round half up at the dropped bits, clip at the top. */
static int64_t
adc(double psum, uint32_t bits, uint32_t full)
{
	int64_t q, top;
	uint32_t sh = full > bits ? full - bits : 0;
	if (psum < 0)
		psum = 0;
	q = (int64_t)floor(psum / (double)(1ull << sh) + 0.5);
	top = (int64_t)((1ull << (full > bits ? bits : full)) - 1);
	if (q > top)
		q = top;
	return q << sh;
}

int
sim_mvm(Sim *s, Core *c, const Insn *in, Mvmu *u, const uint8_t *xb, int32_t *out, SimCounts *cnt)
{
	const SimParams *p = &s->p;
	uint32_t R = u->rows, C = u->cols, r, j, n = in->nbits;
	uint32_t S = p->slices, cin = mvm_input_cycles(p, n), active = 0;
	unsigned sz = isa_type_size(in->tin);
	int64_t lo = -(1ll << (n - 1)), hi = (1ll << (n - 1)) - 1;
	uint32_t full = lossless_bits(p, R);
	int exact = u->g == NULL && s->opt.read_noise <= 0 && !s->opt.force_bitlevel &&
	            (p->digital || p->adc_bits >= full);
	int64_t *x = xmalloc(R * sizeof *x), *acc = xcalloc(C, sizeof *acc), xsum = 0;
	uint32_t *act = xmalloc(R * sizeof *act), na = 0;

	for (r = 0; r < R; r++) {
		int64_t v;
		switch (in->tin) {
		case TY_I8:
			v = (int8_t)xb[r];
			break;
		case TY_I16: {
			int16_t h;
			memcpy(&h, xb + 2 * r, 2);
			v = h;
			break;
		}
		default: {
			int32_t w;
			memcpy(&w, xb + 4 * r, 4);
			v = w;
			break;
		}
		}
		(void)sz;
		if (v < lo || v > hi) {
			free(x);
			free(acc);
			free(act);
			return sim_fault(s, c, "mvm input %u = %lld does not fit in %u bits", r,
			                 (long long)v, n);
		}
		x[r] = v;
		if (!in->gate || v != 0)
			act[na++] = r;
		xsum += v;
	}
	active = na;

	if (exact && p->weight_bits + n + ceil_log2(R) < 31) {
		/* The products and their sum fit 32 bits: a vectorisable int32 loop. */
		int32_t *a32 = xcalloc(C, sizeof *a32);
		for (r = 0; r < na; r++) {
			const int32_t *wr = u->w + (size_t)act[r] * C;
			int32_t xv = (int32_t)x[act[r]];
			if (!xv)
				continue;
			for (j = 0; j < C; j++)
				a32[j] += wr[j] * xv;
		}
		for (j = 0; j < C; j++)
			acc[j] = a32[j];
		free(a32);
	} else if (exact) {
		for (r = 0; r < na; r++) {
			const int32_t *wr = u->w + (size_t)act[r] * C;
			int64_t xv = x[act[r]];
			if (!xv)
				continue;
			for (j = 0; j < C; j++)
				acc[j] += wr[j] * xv;
		}
	} else {
		/* Bit-level emulation: digits of the input times slices of offset-binary weights.
		 */
		uint32_t cyc, sl, cmax = (1u << p->cell_bits) - 1, dmax = (1u << p->dac_bits) - 1;
		int64_t woff = 1ll << (p->weight_bits - 1);
		double *ps = xmalloc(C * sizeof *ps);
		for (cyc = 0; cyc < cin; cyc++) {
			int64_t dweight;
			for (sl = 0; sl < S; sl++) {
				memset(ps, 0, C * sizeof *ps);
				for (r = 0; r < na; r++) {
					uint32_t row = act[r];
					uint64_t xu = (uint64_t)x[row];
					uint32_t digit;
					if (cyc == 0)
						digit = n > 0 ? (uint32_t)((xu >> (n - 1)) & 1) : 0;
					else
						digit =
						    (uint32_t)((xu >> ((cyc - 1) * p->dac_bits)) &
						               dmax);
					if (cyc > 0 &&
					    (cyc - 1) * p->dac_bits + p->dac_bits > n - 1)
						digit &=
						    (1u << (n - 1 - (cyc - 1) * p->dac_bits)) - 1;
					if (!digit)
						continue;
					if (u->g) {
						const float *g = u->g + ((size_t)sl * R + row) * C;
						for (j = 0; j < C; j++)
							ps[j] += digit * (double)g[j];
					} else {
						const int32_t *wr = u->w + (size_t)row * C;
						for (j = 0; j < C; j++)
							ps[j] +=
							    digit *
							    (double)(((uint64_t)(wr[j] + woff) >>
							              (sl * p->cell_bits)) &
							             cmax);
					}
				}
				dweight = cyc == 0 ? -(1ll << (n - 1))
				                   : (1ll << ((cyc - 1) * p->dac_bits));
				if (n == 1)
					dweight = -1;
				for (j = 0; j < C; j++) {
					double v = ps[j];
					int64_t q;
					if (s->opt.read_noise > 0)
						v += s->opt.read_noise * sim_rng_gauss(&s->rng);
					q = p->digital ? (int64_t)floor(v + 0.5)
					               : adc(v, p->adc_bits, full);
					acc[j] += q * (1ll << (sl * p->cell_bits)) * dweight;
				}
			}
		}
		for (j = 0; j < C; j++)
			acc[j] -= woff * xsum;
		free(ps);
	}
	for (j = 0; j < C; j++) {
		int64_t v = acc[j];
		if (in->acc)
			v += out[j];
		out[j] = (int32_t)sat_i64(v, INT32_MIN, INT32_MAX);
	}
	free(x);
	free(acc);
	free(act);

	cnt->act[HW_ACT_xbar_row_activate] += (uint64_t)active * cin * S;
	cnt->act[HW_ACT_dac_drive] += (uint64_t)active * cin * S;
	if (p->digital) {
		cnt->act[HW_ACT_adder_tree_op] += (uint64_t)C * cin * S;
	} else {
		cnt->act[HW_ACT_adc_convert] += (uint64_t)C * cin * S;
		cnt->act[HW_ACT_sh_sample] += (uint64_t)C * cin * S;
	}
	cnt->act[HW_ACT_shift_add] += (uint64_t)C * cin * S;
	cnt->act[HW_ACT_in_reg_byte] += (uint64_t)R * sz;
	cnt->act[HW_ACT_out_reg_byte] += (uint64_t)C * 4;
	cnt->act[HW_ACT_spad_read_byte] += (uint64_t)R * sz + (in->acc ? (uint64_t)C * 4 : 0);
	cnt->act[HW_ACT_spad_write_byte] += (uint64_t)C * 4;
	return 0;
}
