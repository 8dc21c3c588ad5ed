/* pass_tile.c: tiling and placement.
 * tile   Cuts each layer's rows x out_len matrix into crossbar blocks of at most R rows and C
 *        columns (R x C from the arch), in (layer, column block, row block) order.
 * place  Gives the blocks, in that order, to consecutive MVMU slots: MVMU 0..M-1 of core 0 of
 *        tile 0, then core 1, ..., then tile 1. So each core holds a contiguous run of blocks
 *        and covers a contiguous range of each layer's columns. A model that needs more MVMUs
 *        than the chip has is an error naming the shortfall.
 * Also decides whether the ADC is lossless for every block (then MVM results are exact). */
#include <math.h>
#include <string.h>

#include "ccint.h"

static uint32_t
core_slot(CcModel *m, uint32_t tile, uint32_t core)
{
	uint32_t i;
	for (i = 0; i < m->ncores; i++)
		if (m->cores[i].tile == tile && m->cores[i].core == core)
			return i;
	m->cores[m->ncores].tile = tile;
	m->cores[m->ncores].core = core;
	return m->ncores++;
}

int
cc_pass_tile(CcModel *m, Diag *d)
{
	const HwArch *a = m->arch;
	uint32_t R = (uint32_t)a->mvmu.rows, C = (uint32_t)a->mvmu.cols,
	         M = (uint32_t)a->core.mvmus;
	uint32_t per_row =
	    (uint32_t)(((1u << a->mvmu.dac_bits) - 1) * ((1u << a->mvmu.cell_bits) - 1));
	uint64_t slots = (uint64_t)a->chip.tiles * (uint64_t)a->tile.cores * M, need = 0, s = 0;
	uint32_t i, maxrows = 0;
	int spread;
	Arena *ar = m->arena;
	if (!a->d.digital && m->opt.adc_exact) {
		/* ADC-aware tiling: at most (2^adc_bits - 1) / per_row rows per block keeps every
		 * partial sum within the ADC's range, so conversions are exact. */
		uint32_t lim = (uint32_t)(((1ull << a->mvmu.adc_bits) - 1) / per_row);
		if (lim == 0)
			return cc_layer_error(m, &m->layers[0], d,
			                      "the %d-bit ADC cannot convert even one row exactly; "
			                      "compile with --adc-lossy",
			                      a->mvmu.adc_bits);
		if (lim < R)
			R = lim;
	}
	m->rows_per_block = R;
	for (i = 0; i < m->nlayers; i++) {
		const CcLayer *l = &m->layers[i];
		need += ((l->rows + R - 1) / R) * (uint64_t)((l->out_len + C - 1) / C);
	}
	if (need > slots) {
		/* Name the first layer that does not fit. */
		uint64_t acc = 0;
		for (i = 0; i < m->nlayers; i++) {
			const CcLayer *l = &m->layers[i];
			acc += ((l->rows + R - 1) / R) * (uint64_t)((l->out_len + C - 1) / C);
			if (acc > slots)
				break;
		}
		return cc_layer_error(
		    m, &m->layers[i < m->nlayers ? i : m->nlayers - 1], d,
		    "the model does not fit on '%s': it needs %llu crossbar blocks of %ux%u "
		    "(%llu weight bytes), the chip has %llu MVMUs (%lld bytes); this layer is the "
		    "first that does not fit, %llu blocks short",
		    a->name, (unsigned long long)need, R, C,
		    (unsigned long long)(need * R * C * (uint64_t)a->mvmu.weight_bits / 8),
		    (unsigned long long)slots, (long long)a->d.weight_capacity_bytes,
		    (unsigned long long)(need - slots));
	}
	if (a->tile.cores > 8)
		return cc_layer_error(
		    m, &m->layers[0], d,
		    "the compiler supports at most 8 cores per tile (message channels)");
	/* -O2 with a batch: start every layer on a core of its own when the chip has cores enough,
	 * so that successive samples flow through the layers as a pipeline. */
	{
		uint64_t cores_needed = 0;
		for (i = 0; i < m->nlayers; i++) {
			const CcLayer *l = &m->layers[i];
			uint64_t nb =
			    ((l->rows + R - 1) / R) * (uint64_t)((l->out_len + C - 1) / C);
			cores_needed += (nb + M - 1) / M;
		}
		spread = m->batch > 1 && m->opt.opt_level >= 2 &&
		         cores_needed <= (uint64_t)a->chip.tiles * (uint64_t)a->tile.cores;
	}
	m->blocks = arena_alloc(ar, sizeof(CcBlock) * need);
	m->cores = arena_alloc(ar, sizeof(CcCoreRef) * (need + 1));
	m->ncores = 0;
	core_slot(m, 0, 0); /* the leader, even if it holds no block */
	for (i = 0; i < m->nlayers; i++) {
		const CcLayer *l = &m->layers[i];
		uint32_t c0, r0;
		if (spread && s % M)
			s += M - s % M;
		for (c0 = 0; c0 < l->out_len; c0 += C)
			for (r0 = 0; r0 < l->rows; r0 += R) {
				CcBlock *b = &m->blocks[m->nblocks++];
				uint64_t core_lin = s / M;
				b->layer = i;
				b->r0 = r0;
				b->rows = l->rows - r0 < R ? l->rows - r0 : R;
				b->c0 = c0;
				b->cols = l->out_len - c0 < C ? l->out_len - c0 : C;
				b->tile = (uint32_t)(core_lin / (uint64_t)a->tile.cores);
				b->core = (uint32_t)(core_lin % (uint64_t)a->tile.cores);
				b->unit = (uint32_t)(s % M);
				core_slot(m, b->tile, b->core);
				if (b->rows > maxrows)
					maxrows = b->rows;
				s++;
			}
	}
	/* Lossless when the largest possible partial sum of any block fits the ADC. */
	{
		double mx = (double)maxrows * per_row;
		m->lossless = a->d.digital || ceil(log2(mx + 1)) <= a->mvmu.adc_bits;
	}
	/* Shares: for each (layer, core) the run of blocks it holds. */
	m->shares = arena_alloc(ar, sizeof(CcShare) * m->nlayers * m->ncores);
	for (i = 0; i < m->nblocks; i++) {
		const CcBlock *b = &m->blocks[i];
		uint32_t ci = core_slot(m, b->tile, b->core);
		CcShare *sh = &m->shares[b->layer * m->ncores + ci];
		if (sh->n == 0) {
			sh->first = i;
			sh->c_lo = b->c0;
		}
		sh->n++;
		if (b->c0 + b->cols > sh->c_hi)
			sh->c_hi = b->c0 + b->cols;
	}
	return 0;
}
