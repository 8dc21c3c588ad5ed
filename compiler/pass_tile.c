/* pass_tile.c: tiling and placement.
 * tile   Cuts each layer's rows x out_len matrix into crossbar blocks of at most R rows and C
 *        columns (R x C from the arch), in (layer, column block, row block) order.
 * place  Gives the blocks, in that order, to consecutive MVMU slots: MVMU 0..M-1 of core 0 of
 *        tile 0, then core 1, ..., then tile 1. So each core holds a contiguous run of blocks
 *        and covers a contiguous range of each layer's columns. A model that needs more MVMUs
 *        than the chip has is an error naming the shortfall.
 * wide   At -O2 a layer too big for one tile is spread over whole tiles instead: each tile holds
 *        a range of the drive rows for every column, its cores split the columns (so they share
 *        the drive and compute it together) and the tiles reduce-scatter their partial sums
 *        (docs/compiler.md, "Wide layers"). The row ranges balance the cost of the drive.
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

/* Cycles a core spends on the drive of rows [lo, hi) of layer l: the base branch through the VFU
 * (lanes per cycle), the spline basis through the SBU (ceil(nb / lanes) cycles per input). A
 * linear layer's drive is its input: the rows themselves are the measure. */
static double
drive_cost(const CcLayer *l, uint32_t lanes, uint32_t lo, uint32_t hi)
{
	uint32_t I = l->in_len, s0;
	double c = 0;
	if (l->kind != CC_KAN)
		return (double)(hi - lo) / lanes;
	if (lo < I)
		c += (double)((hi < I ? hi : I) - lo) / lanes;
	if (hi > I) {
		s0 = lo > I ? lo : I;
		c += (double)(hi - s0) / l->nb * ((l->nb + lanes - 1) / lanes);
	}
	return c;
}

/* The next row after r where a drive part may end: parts never split a KAN input's segment. */
static uint32_t
next_cut(const CcLayer *l, uint32_t r)
{
	uint32_t n = l->kind == CC_KAN && r >= l->in_len ? r + l->nb : r + 1;
	return n < l->rows ? n : l->rows;
}

/* Cuts layer l's drive rows into nparts consecutive parts of at most cap rows each, of about
 * equal drive cost; part p is [cut[p], cut[p+1]). 0, or -1 when they do not fit. */
static int
wide_parts(const CcLayer *l, uint32_t lanes, uint32_t nparts, uint32_t cap, uint32_t *cut)
{
	uint32_t p, lo = 0, hi;
	cut[0] = 0;
	for (p = 0; p < nparts; p++) {
		double target = drive_cost(l, lanes, lo, l->rows) / (nparts - p);
		hi = lo;
		while (hi < l->rows && (p + 1 == nparts || drive_cost(l, lanes, lo, hi) < target)) {
			uint32_t n = next_cut(l, hi);
			if (n - lo > cap)
				break;
			hi = n;
		}
		if (hi == lo || (p + 1 == nparts && hi < l->rows))
			return -1;
		cut[p + 1] = lo = hi;
	}
	return 0;
}

/* Places wide layer i from tile tile0 over T tiles: on core k of each tile, the column blocks
 * [k cpc, (k+1) cpc) of every row block of the tile's parts. Blocks are appended to m->blocks in
 * (tile, core, part, row block, column block) order, so each core's blocks stay contiguous. */
static void
wide_place(CcModel *m, uint32_t i, uint32_t tile0, uint32_t T, uint32_t cpc, const uint32_t *cut)
{
	const HwArch *a = m->arch;
	const CcLayer *l = &m->layers[i];
	uint32_t n = (uint32_t)a->tile.cores, C = (uint32_t)a->mvmu.cols, R = m->rows_per_block;
	uint32_t t, k, p, cb, rb;
	for (t = 0; t < T; t++)
		for (k = 0; k < n; k++) {
			uint32_t unit = 0;
			core_slot(m, tile0 + t, k);
			for (p = t * n; p < (t + 1) * n; p++) {
				uint32_t len = cut[p + 1] - cut[p], nrb = (len + R - 1) / R;
				for (rb = 0; rb < nrb; rb++)
					for (cb = k * cpc; cb < (k + 1) * cpc; cb++) {
						CcBlock *b = &m->blocks[m->nblocks++];
						b->layer = i;
						b->r0 =
						    cut[p] + (uint32_t)((uint64_t)len * rb / nrb);
						b->rows =
						    cut[p] +
						    (uint32_t)((uint64_t)len * (rb + 1) / nrb) -
						    b->r0;
						b->c0 = cb * C;
						b->cols =
						    l->out_len - b->c0 < C ? l->out_len - b->c0 : C;
						b->tile = tile0 + t;
						b->core = k;
						b->unit = unit++;
					}
			}
		}
}

/* The smallest number of whole tiles (at least 2, at most avail) over which layer l can be
 * spread, with its parts in cut; 0 when it cannot (then the layer is placed the classic way). */
static uint32_t
wide_plan(const CcModel *m, const CcLayer *l, uint32_t avail, uint32_t *cut)
{
	const HwArch *a = m->arch;
	uint32_t n = (uint32_t)a->tile.cores, M = (uint32_t)a->core.mvmus;
	uint32_t C = (uint32_t)a->mvmu.cols, R = m->rows_per_block,
	         lanes = (uint32_t)a->core.vfu_lanes;
	uint32_t cb = (l->out_len + C - 1) / C, cpc, T;
	uint64_t classic = ((l->rows + R - 1) / R) * (uint64_t)cb;
	if (m->opt.opt_level < 2 || cb % n || classic <= (uint64_t)n * M)
		return 0;
	cpc = cb / n;
	if (M / cpc < n)
		return 0;
	for (T = 2; T <= avail && T <= 64; T++)
		if (l->out_len - (n - 1) * cpc * C >= T &&
		    wide_parts(l, lanes, T * n, (M / cpc / n) * R, cut) == 0)
			return T;
	return 0;
}

/* The wide fields of layer i's shares: the tile's rows (the union of its cores' parts), the
 * core's own part of the drive, the inputs that part reads (a linear layer's drive is its input:
 * the tile's rows), and the output columns the core owns after the reduce-scatter. */
static void
wide_shares(CcModel *m, uint32_t i)
{
	const CcLayer *l = &m->layers[i];
	const CcLead *ld = &m->lead[i];
	uint32_t n = (uint32_t)m->arch->tile.cores, c, T = ld->wide, I = l->in_len;
	for (c = 0; c < m->ncores; c++) {
		CcShare *sh = &m->shares[i * m->ncores + c];
		uint32_t p, sl;
		if (!sh->n)
			continue;
		sh->tpos = m->cores[c].tile - ld->tile0;
		p = sh->tpos * n + m->cores[c].core;
		sh->t_lo = ld->cut[sh->tpos * n];
		sh->t_hi = ld->cut[(sh->tpos + 1) * n];
		sh->d_lo = ld->cut[p];
		sh->d_hi = ld->cut[p + 1];
		if (l->kind != CC_KAN) {
			sh->x_lo = sh->t_lo;
			sh->x_hi = sh->t_hi;
		} else {
			uint32_t lo = UINT32_MAX, hi = 0;
			if (sh->d_lo < I) {
				lo = sh->d_lo;
				hi = sh->d_hi < I ? sh->d_hi : I;
			}
			if (sh->d_hi > I) {
				uint32_t s0 = (sh->d_lo > I ? sh->d_lo : I) - I, s1 = sh->d_hi - I;
				uint32_t i0 = s0 / l->nb, i1 = (s1 + l->nb - 1) / l->nb;
				lo = i0 < lo ? i0 : lo;
				hi = i1 > hi ? i1 : hi;
			}
			sh->x_lo = lo;
			sh->x_hi = hi;
		}
		sl = (sh->c_hi - sh->c_lo + T - 1) / T;
		sh->s_lo = sh->c_lo + sh->tpos * sl;
		sh->s_hi = sh->s_lo + sl < sh->c_hi ? sh->s_lo + sl : sh->c_hi;
	}
}

int
cc_pass_tile(CcModel *m, Diag *d)
{
	const HwArch *a = m->arch;
	uint32_t R = (uint32_t)a->mvmu.rows, C = (uint32_t)a->mvmu.cols,
	         M = (uint32_t)a->core.mvmus;
	uint32_t per_row =
	    (uint32_t)(((1u << a->mvmu.dac_bits) - 1) * ((1u << a->mvmu.cell_bits) - 1));
	uint64_t slots = (uint64_t)a->chip.tiles * (uint64_t)a->tile.cores * M, need = 0, s;
	uint32_t i, maxrows = 0, *cut;
	/* wide layers only where every MVM is exact (the ADC-emulating references add partial sums
	 * in the classic order) */
	int spread, allow_wide = a->d.digital || m->opt.adc_exact, over;
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
	m->blocks = arena_alloc(ar, sizeof(CcBlock) * slots);
	m->cores = arena_alloc(ar, sizeof(CcCoreRef) * (slots + 1));
	m->lead = arena_alloc(ar, sizeof(CcLead) * m->nlayers);
	cut = arena_alloc(ar, sizeof(uint32_t) * (slots + 1));
	for (;;) {
		m->ncores = 0;
		m->nblocks = 0;
		s = 0;
		over = 0;
		core_slot(m, 0, 0); /* the leader, even if it holds no block */
		for (i = 0; i < m->nlayers && s <= slots; i++) {
			const CcLayer *l = &m->layers[i];
			uint64_t per_tile = (uint64_t)a->tile.cores * M;
			uint64_t t0 = (s + per_tile - 1) / per_tile;
			uint32_t c0, r0, T = 0;
			m->lead[i].wide = 0;
			if (allow_wide && t0 < (uint64_t)a->chip.tiles)
				T = wide_plan(m, l, (uint32_t)((uint64_t)a->chip.tiles - t0), cut);
			if (T) {
				wide_place(m, i, (uint32_t)t0, T,
				           (l->out_len + (uint32_t)a->mvmu.cols - 1) /
				               (uint32_t)a->mvmu.cols / (uint32_t)a->tile.cores,
				           cut);
				m->lead[i].wide = T;
				m->lead[i].tile0 = (uint32_t)t0;
				m->lead[i].cut = arena_alloc(
				    ar, sizeof(uint32_t) * (T * (uint32_t)a->tile.cores + 1));
				memcpy(m->lead[i].cut, cut,
				       sizeof(uint32_t) * (T * (uint32_t)a->tile.cores + 1));
				s = (t0 + T) * per_tile;
				continue;
			}
			if (spread && s % M)
				s += M - s % M;
			for (c0 = 0; c0 < l->out_len; c0 += C)
				for (r0 = 0; r0 < l->rows; r0 += R) {
					CcBlock *b;
					uint64_t core_lin = s / M;
					if (s >= slots) {
						over = 1;
						break;
					}
					b = &m->blocks[m->nblocks++];
					b->layer = i;
					b->r0 = r0;
					b->rows = l->rows - r0 < R ? l->rows - r0 : R;
					b->c0 = c0;
					b->cols = l->out_len - c0 < C ? l->out_len - c0 : C;
					b->tile = (uint32_t)(core_lin / (uint64_t)a->tile.cores);
					b->core = (uint32_t)(core_lin % (uint64_t)a->tile.cores);
					b->unit = (uint32_t)(s % M);
					core_slot(m, b->tile, b->core);
					s++;
				}
		}
		if (!over && s <= slots)
			break;
		if (!allow_wide)
			return cc_layer_error(m, &m->layers[0], d, "placement failed (internal)");
		allow_wide =
		    0; /* the wide layers left too little room: place every layer classically */
	}
	for (i = 0; i < m->nblocks; i++)
		if (m->blocks[i].rows > maxrows)
			maxrows = m->blocks[i].rows;
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
	for (i = 0; i < m->nlayers; i++)
		if (m->lead[i].wide)
			wide_shares(m, i);
	return 0;
}
