/* pass_alloc.c: scratchpad and tile-memory addresses for every buffer of every core.
 * A bump allocator per core and per tile, aligned to 16 bytes; buffers are not reused across
 * layers (simple and safe; cc_check_memory says when a model outgrows a memory).
 * Requires: tiled and placed model. Produces: each layer's leader and its buffers, each share's
 * buffers, each block's partial-sum buffer. */
#include <stdlib.h>
#include <string.h>

#include "ccint.h"

uint32_t
cc_bump(uint32_t *used, uint32_t bytes)
{
	uint32_t a = (*used + 15u) & ~15u;
	*used = a + bytes;
	return a;
}

static uint32_t
core_of_block(const CcModel *m, const CcBlock *b)
{
	uint32_t i;
	for (i = 0; i < m->ncores; i++)
		if (m->cores[i].tile == b->tile && m->cores[i].core == b->core)
			return i;
	return 0;
}

/* The buffers of wide layer i (pass_tile.c): the leader's staging of the input and the gathered
 * output; per core its input, drive, partial sums (the first block of each column block writes
 * straight into them), the tile's shared drive, the reduce-scatter slots and its columns'
 * constants and outputs. */
static void
wide_alloc(CcModel *m, uint32_t i)
{
	CcLayer *l = &m->layers[i];
	CcLead *ld = &m->lead[i];
	uint32_t asz = cc_type_size(m->aty), c, b, T = ld->wide, lc = ld->core;
	uint32_t *spad = m->spad_used, *tmem = m->tmem_used, ltile = m->cores[lc].tile;
	size_t ntiles = (size_t)m->arch->chip.tiles;
	uint32_t *tdrv = xmalloc(sizeof *tdrv * ntiles); /* per tile: its shared drive */
	memset(tdrv, 0xff, sizeof *tdrv * ntiles);
	ld->tm_stage = cc_bump(&tmem[ltile], l->in_len * asz);
	/* the last layer's output (every sample) is the program's output, in tile memory */
	ld->tm_y = cc_bump(&tmem[ltile], (i + 1 == m->nlayers ? m->batch : 1) * l->out_len * 2);
	for (c = 0; c < m->ncores; c++) {
		CcShare *sh = &m->shares[i * m->ncores + c];
		uint32_t tile = m->cores[c].tile, sl = (sh->c_hi - sh->c_lo + T - 1) / T, cb;
		if (sh->n == 0)
			continue;
		sh->x_addr = c == lc ? ld->x_addr : cc_bump(&spad[c], l->in_len * asz);
		sh->drive_addr = l->kind == CC_KAN ? cc_bump(&spad[c], l->rows * asz) : sh->x_addr;
		sh->part_addr = cc_bump(&spad[c], (sh->c_hi - sh->c_lo) * 4);
		for (cb = sh->c_lo; cb < sh->c_hi; cb += (uint32_t)m->arch->mvmu.cols) {
			int direct = 0;
			for (b = sh->first; b < sh->first + sh->n; b++) {
				CcBlock *bl = &m->blocks[b];
				if (bl->c0 != cb)
					continue;
				if (!direct && bl->r0 >= sh->d_lo && bl->r0 < sh->d_hi) {
					bl->out_addr = sh->part_addr + (cb - sh->c_lo) * 4;
					direct = 1;
				} else {
					bl->out_addr = cc_bump(&spad[c], bl->cols * 4);
				}
			}
		}
		if (l->kind == CC_KAN)
			sh->const_addr =
			    cc_bump(&spad[c], 256 + 16 + (1u << l->sbu_sh) * (l->k + 1));
		if (c != lc)
			sh->tm_x = cc_bump(&tmem[tile], l->in_len * asz);
		if (l->kind == CC_KAN) {
			if (tdrv[tile] == UINT32_MAX)
				tdrv[tile] = cc_bump(&tmem[tile], (sh->t_hi - sh->t_lo) * asz);
			sh->tm_drive = tdrv[tile];
		}
		sh->tm_part = cc_bump(&tmem[tile], (sh->c_hi - sh->c_lo) * 4);
		sh->tm_rs = cc_bump(&tmem[tile], (T - 1) * sl * 4);
		sh->rs_addr = cc_bump(&spad[c], (T - 1) * sl * 4);
		sh->q_addr = cc_bump(&spad[c], 8 * sl + 256);
		if (c != lc) {
			sh->y_addr = cc_bump(&spad[c], sl * 2);
			sh->tm_y = cc_bump(&tmem[tile], sl * 2);
		}
	}
	free(tdrv);
}

int
cc_pass_alloc(CcModel *m, Diag *d)
{
	uint32_t asz = cc_type_size(m->aty), i, c, b;
	uint32_t *spad, *tmem;
	(void)d; /* cannot fail: cc_check_memory compares the totals with the memories later */
	m->spad_used = spad = arena_alloc(m->arena, sizeof *spad * (m->ncores + 1));
	m->tmem_used = tmem = arena_alloc(m->arena, sizeof *tmem * (size_t)m->arch->chip.tiles);
	/* Leaders: the core of each layer's first block. */
	for (b = 0; b < m->nblocks; b++)
		if (b == 0 || m->blocks[b - 1].layer != m->blocks[b].layer)
			m->lead[m->blocks[b].layer].core = core_of_block(m, &m->blocks[b]);
	for (i = 0; i < m->nlayers; i++) {
		CcLayer *l = &m->layers[i];
		CcLead *ld = &m->lead[i];
		uint32_t lc = ld->core, ltile = m->cores[lc].tile, nothers = 0;
		int last = i + 1 == m->nlayers;
		if (i == 0) {
			ld->x_addr = cc_bump(&spad[lc], m->batch * l->in_len * asz);
		} else if (m->lead[i - 1].core == lc) {
			ld->x_addr = m->lead[i - 1].y_addr;
		} else {
			CcLead *prev = &m->lead[i - 1];
			ld->x_addr = cc_bump(&spad[lc], l->in_len * asz);
			ld->tm_in = cc_bump(&tmem[ltile], l->in_len * asz);
			prev->tm_out = cc_bump(&tmem[m->cores[prev->core].tile], l->in_len * asz);
		}
		/* outputs: 16-bit at most; the last layer keeps every sample */
		ld->y_addr = cc_bump(&spad[lc], (last ? m->batch : 1) * l->out_len * 2);
		if (ld->wide) {
			wide_alloc(m, i);
			continue;
		}
		ld->total_addr = cc_bump(&spad[lc], l->out_len * 4);
		ld->recv_addr = cc_bump(&spad[lc], l->out_len * 4);
		ld->mult_addr = cc_bump(&spad[lc], l->out_len * 4);
		if (l->bq)
			ld->bias_addr = cc_bump(&spad[lc], l->out_len * 4);
		if (l->act == CC_ACT_SILU)
			ld->lut_addr = cc_bump(&spad[lc], 256);
		for (c = 0; c < m->ncores; c++)
			nothers += c != lc && m->shares[i * m->ncores + c].n > 0;
		if (nothers)
			ld->tm_stage = cc_bump(&tmem[ltile], l->in_len * asz);
		for (c = 0; c < m->ncores; c++) {
			CcShare *sh = &m->shares[i * m->ncores + c];
			uint32_t tile = m->cores[c].tile;
			if (sh->n == 0)
				continue;
			sh->x_addr = c == lc ? ld->x_addr : cc_bump(&spad[c], l->in_len * asz);
			sh->drive_addr = l->kind == CC_KAN ? cc_bump(&spad[c], l->rows * asz) : 0;
			sh->part_addr = cc_bump(&spad[c], (sh->c_hi - sh->c_lo) * 4);
			for (b = sh->first; b < sh->first + sh->n; b++)
				m->blocks[b].out_addr = cc_bump(&spad[c], m->blocks[b].cols * 4);
			if (l->kind == CC_KAN)
				sh->const_addr =
				    cc_bump(&spad[c], 256 + 16 + (1u << l->sbu_sh) * (l->k + 1));
			if (c != lc) {
				sh->tm_x = cc_bump(&tmem[tile], l->in_len * asz);
				sh->tm_part = cc_bump(&tmem[tile], (sh->c_hi - sh->c_lo) * 4);
				sh->tm_recv = cc_bump(&tmem[ltile], (sh->c_hi - sh->c_lo) * 4);
			}
		}
	}
	return 0;
}

int
cc_check_memory(const CcModel *m, Diag *d)
{
	const HwArch *a = m->arch;
	uint32_t c, i;
	for (c = 0; c < m->ncores; c++)
		if (m->spad_used[c] > (uint64_t)a->core.spad_bytes)
			return cc_layer_error(m, &m->layers[0], d,
			                      "the buffers of tile %u core %u need %u bytes of "
			                      "scratchpad; '%s' has %lld",
			                      m->cores[c].tile, m->cores[c].core, m->spad_used[c],
			                      a->name, (long long)a->core.spad_bytes);
	for (i = 0; i < (uint32_t)a->chip.tiles; i++)
		if (m->tmem_used[i] > (uint64_t)a->tile.mem_bytes)
			return cc_layer_error(
			    m, &m->layers[0], d,
			    "tile %u needs %u bytes of tile memory; '%s' has %lld", i,
			    m->tmem_used[i], a->name, (long long)a->tile.mem_bytes);
	return 0;
}
