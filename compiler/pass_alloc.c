/* pass_alloc.c: scratchpad and tile-memory addresses for every buffer of every core.
 * A bump allocator per core and per tile, aligned to 16 bytes; buffers are not reused across
 * layers (simple and safe; the scratchpad checks below say when a model outgrows it). */
#include <string.h>

#include "ccint.h"

uint32_t
cc_bump(uint32_t *used, uint32_t bytes)
{
	uint32_t a = (*used + 15u) & ~15u;
	*used = a + bytes;
	return a;
}

int
cc_pass_alloc(CcModel *m, Diag *d)
{
	const HwArch *a = m->arch;
	uint32_t asz = cc_type_size(m->aty), i, c, maxv = m->in_len, lead_tile = m->cores[0].tile;
	uint32_t *spad = m->spad_used, *tmem = m->tmem_used;
	if (m->ncores > 1024 || (uint32_t)a->chip.tiles > 1024)
		return cc_layer_error(m, &m->layers[0], d, "more than 1024 cores or tiles in use");
	memset(m->spad_used, 0, sizeof m->spad_used);
	memset(m->tmem_used, 0, sizeof m->tmem_used);
	for (i = 0; i < m->nlayers; i++)
		if (m->layers[i].out_len > maxv)
			maxv = m->layers[i].out_len;
	/* Leader: activation buffers (wide enough for 16-bit outputs), totals, received partials.
	 */
	m->x_addr[0] = cc_bump(&spad[0], maxv * 2);
	m->x_addr[1] = cc_bump(&spad[0], maxv * 2);
	m->total_addr = cc_bump(&spad[0], maxv * 4);
	m->recv_addr = cc_bump(&spad[0], maxv * 4);
	m->tm_x_stage = cc_bump(&tmem[lead_tile], maxv * asz);
	for (i = 0; i < m->nlayers; i++) {
		CcLayer *l = &m->layers[i];
		for (c = 0; c < m->ncores; c++) {
			CcShare *sh = &m->shares[i * m->ncores + c];
			uint32_t b, tile = m->cores[c].tile;
			if (sh->n == 0)
				continue;
			sh->x_addr = c == 0 ? m->x_addr[i & 1] : cc_bump(&spad[c], l->in_len * asz);
			sh->drive_addr =
			    l->kind == CC_KAN ? cc_bump(&spad[c], l->rows * asz) : sh->x_addr;
			sh->part_addr = cc_bump(&spad[c], (sh->c_hi - sh->c_lo) * 4);
			for (b = sh->first; b < sh->first + sh->n; b++)
				m->blocks[b].out_addr = cc_bump(&spad[c], m->blocks[b].cols * 4);
			if (l->kind == CC_KAN)
				sh->const_addr =
				    cc_bump(&spad[c], 256 + 16 + (1u << l->sbu_sh) * (l->k + 1));
			if (c != 0) {
				sh->tm_x = cc_bump(&tmem[tile], l->in_len * asz);
				sh->tm_part = cc_bump(&tmem[tile], (sh->c_hi - sh->c_lo) * 4);
				sh->tm_recv = cc_bump(&tmem[lead_tile], (sh->c_hi - sh->c_lo) * 4);
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
	for (i = 0; i < (uint32_t)a->chip.tiles && i < 1024; i++)
		if (m->tmem_used[i] > (uint64_t)a->tile.mem_bytes)
			return cc_layer_error(
			    m, &m->layers[0], d,
			    "tile %u needs %u bytes of tile memory; '%s' has %lld", i,
			    m->tmem_used[i], a->name, (long long)a->tile.mem_bytes);
	return 0;
}
