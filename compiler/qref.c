/* qref.c: the integer reference of a compiled model. It runs the quantised model directly:
 * drive (table lookups and the spline basis by its definition), exact dot products per crossbar
 * block (or a bit-level ADC model when the ADC is not lossless), 32-bit saturating sums in the
 * order the hardware adds them, requantisation, activation. It shares no code with the
 * simulator; the simulator's ideal-mode output must equal it bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn.h"

/* One block's dot products, with the ADC of docs/isa.md when it is not lossless. */
static void
block_dot(const CcModel *m, const CcLayer *l, const CcBlock *b, const int32_t *drive, int64_t *out)
{
	const HwArch *a = m->arch;
	uint32_t r, j;
	if (m->lossless) {
		for (j = 0; j < b->cols; j++) {
			int64_t s = 0;
			for (r = 0; r < b->rows; r++)
				s += (int64_t)l->wq[(size_t)(b->r0 + r) * l->out_len + b->c0 + j] *
				     drive[b->r0 + r];
			out[j] = s;
		}
		return;
	}
	{
		/* Bit level: offset-binary weight slices x input digits (sign cycle first). */
		int n = a->mvmu.input_bits, dbits = a->mvmu.dac_bits, cb = a->mvmu.cell_bits;
		int wb = a->mvmu.weight_bits, S = (wb + cb - 1) / cb;
		int cycles = n <= 1 ? 1 : 1 + (n - 1 + dbits - 1) / dbits, cyc, sl;
		int64_t woff = 1ll << (wb - 1), xsum = 0;
		double mx = (double)b->rows * ((1 << dbits) - 1) * ((1 << cb) - 1);
		int full = (int)ceil(log2(mx + 1)), adc = a->mvmu.adc_bits;
		int sh = full > adc ? full - adc : 0;
		int64_t top = (1ll << (full > adc ? adc : full)) - 1;
		for (r = 0; r < b->rows; r++)
			xsum += drive[b->r0 + r];
		for (j = 0; j < b->cols; j++) {
			int64_t acc = 0;
			for (cyc = 0; cyc < cycles; cyc++)
				for (sl = 0; sl < S; sl++) {
					int64_t ps = 0, q, weight;
					for (r = 0; r < b->rows; r++) {
						uint64_t x = (uint64_t)(int64_t)drive[b->r0 + r];
						int64_t w = l->wq[(size_t)(b->r0 + r) * l->out_len +
						                  b->c0 + j];
						int64_t cell =
						    ((w + woff) >> (sl * cb)) & ((1 << cb) - 1);
						int64_t digit;
						if (cyc == 0) {
							digit = (int64_t)((x >> (n - 1)) & 1);
						} else {
							int lo = (cyc - 1) * dbits;
							int nb =
							    n - 1 - lo < dbits ? n - 1 - lo : dbits;
							digit =
							    (int64_t)((x >> lo) & ((1u << nb) - 1));
						}
						ps += digit * cell;
					}
					q = sh ? (ps + (1ll << (sh - 1))) >> sh : ps;
					if (q > top)
						q = top;
					q <<= sh;
					weight = cyc == 0 ? -(1ll << (n - 1))
					                  : (1ll << ((cyc - 1) * dbits));
					acc += q * (1ll << (sl * cb)) * weight;
				}
			out[j] = acc - woff * xsum;
		}
	}
}

void
cc_drive_q(const CcModel *m, const CcLayer *l, const int32_t *x, int32_t *drive)
{
	uint32_t i, r;
	if (l->kind == CC_LINEAR) {
		memcpy(drive, x, sizeof(int32_t) * l->in_len);
		return;
	}
	for (i = 0; i < l->in_len; i++) {
		int64_t dx = (int64_t)x[i] - l->sbu_t0;
		drive[i] = l->base_identity ? x[i] : l->base_lut[x[i] + 128];
		for (r = 0; r < l->nb; r++)
			drive[l->in_len + i * l->nb + r] = 0;
		if (dx < 0)
			continue;
		{
			int64_t mm = dx >> l->sbu_sh, u = dx & ((1 << l->sbu_sh) - 1);
			for (r = 0; r <= l->k; r++) {
				int64_t row = mm - (int64_t)l->k + r;
				if (row >= 0 && row < (int64_t)l->nb)
					drive[l->in_len + i * l->nb + row] =
					    l->basis_lut[u * (l->k + 1) + r];
			}
		}
	}
	(void)m;
}

int
cc_qref(const CcModel *m, const int32_t *in, int32_t *out, Diag *d)
{
	uint32_t i, c, b, smp, maxv = m->in_len, maxrows = 0;
	int32_t *x, *y, *drive;
	int64_t *dot;
	int32_t *total, *part;
	if (m->attn)
		return cc_attn_qref(m, in, out, d);
	for (i = 0; i < m->nlayers; i++) {
		if (m->layers[i].out_len > maxv)
			maxv = m->layers[i].out_len;
		if (m->layers[i].rows > maxrows)
			maxrows = m->layers[i].rows;
	}
	x = xcalloc(maxv, sizeof *x);
	y = xcalloc(maxv, sizeof *y);
	drive = xcalloc(maxrows, sizeof *drive);
	dot = xcalloc(maxv, sizeof *dot);
	total = xcalloc(maxv, sizeof *total);
	part = xcalloc(maxv, sizeof *part);
	for (smp = 0; smp < m->batch; smp++) {
		memcpy(x, in + (size_t)smp * m->in_len, sizeof(int32_t) * m->in_len);
		for (i = 0; i < m->nlayers; i++) {
			const CcLayer *l = &m->layers[i];
			uint32_t o;
			unsigned prety = l->act == CC_ACT_SILU ? TY_I8 : l->yty;
			cc_drive_q(m, l, x, drive);
			memset(total, 0, sizeof(int32_t) * l->out_len);
			/* Core by core in the leader's order (the leader first, then the others in
			 * core order); within a core, block order. */
			for (c = 0; c < m->ncores + 1; c++) {
				uint32_t core = c == 0 ? m->lead[i].core : c - 1;
				const CcShare *sh = &m->shares[i * m->ncores + core];
				if (!sh->n || (c > 0 && core == m->lead[i].core))
					continue;
				for (b = sh->first; b < sh->first + sh->n; b++) {
					const CcBlock *bl = &m->blocks[b];
					int first = b == sh->first || m->blocks[b - 1].c0 != bl->c0;
					uint32_t j;
					block_dot(m, l, bl, drive, dot);
					for (j = 0; j < bl->cols; j++) {
						int32_t v = cc_sat(dot[j], TY_I32);
						int32_t *p = &part[bl->c0 - sh->c_lo + j];
						*p = first ? v : cc_sat((int64_t)*p + v, TY_I32);
					}
				}
				for (o = sh->c_lo; o < sh->c_hi; o++)
					total[o] =
					    cc_sat((int64_t)total[o] + part[o - sh->c_lo], TY_I32);
			}
			for (o = 0; o < l->out_len; o++) {
				int64_t v = total[o];
				if (l->bq)
					v = cc_sat(v + l->bq[o], TY_I32);
				v = cc_sat(cc_rshift_round(v * l->mult[o], l->shift), prety);
				if (l->act == CC_ACT_RELU)
					v = v > 0 ? v : 0;
				else if (l->act == CC_ACT_SILU)
					v = l->act_lut[v + 128];
				y[o] = (int32_t)v;
			}
			memcpy(x, y, sizeof(int32_t) * l->out_len);
		}
		memcpy(out + (size_t)smp * m->out_len, x, sizeof(int32_t) * m->out_len);
	}
	free(x), free(y), free(drive), free(dot), free(total), free(part);
	return 0;
}
