/* params.c: the simulator's parameters, derived once from a validated architecture. */
#include <math.h>
#include <string.h>

#include "simint.h"

int
sim_params(const HwArch *a, SimParams *p, Diag *d)
{
	memset(p, 0, sizeof *p);
	p->tiles = (uint32_t)a->chip.tiles;
	p->mesh_rows = (uint32_t)a->chip.mesh_rows;
	p->mesh_cols = (uint32_t)a->chip.mesh_cols;
	p->cores_per_tile = (uint32_t)a->tile.cores;
	p->spad_bytes = (uint32_t)a->core.spad_bytes;
	p->imem_words = (uint32_t)a->core.imem_words;
	p->tmem_bytes = (uint32_t)a->tile.mem_bytes;
	p->dram_bytes = (uint64_t)a->dram.size_bytes;
	p->tmem_bytes_per_cycle = (uint32_t)a->d.tmem_bytes_per_cycle;
	p->tmem_latency = (uint32_t)a->d.tmem_latency_cycles;
	p->dram_bytes_per_cycle = a->d.dram_bytes_per_cycle;
	p->dram_latency = (uint32_t)a->d.dram_latency_cycles;
	p->noc_link_bits = (uint32_t)a->noc.flit_bits;
	p->noc_hop_cycles = (uint32_t)a->noc.hop_cycles;
	p->mvmus_per_core = (uint32_t)a->core.mvmus;
	p->xbar_rows = (uint32_t)a->mvmu.rows;
	p->xbar_cols = (uint32_t)a->mvmu.cols;
	p->cell_bits = (uint32_t)a->mvmu.cell_bits;
	p->weight_bits = (uint32_t)a->mvmu.weight_bits;
	p->input_bits = (uint32_t)a->mvmu.input_bits;
	p->dac_bits = (uint32_t)a->mvmu.dac_bits;
	p->adc_bits = (uint32_t)a->mvmu.adc_bits;
	p->adcs_per_xbar = (uint32_t)(a->mvmu.adcs_per_xbar > 0 ? a->mvmu.adcs_per_xbar : 1);
	p->slices = (uint32_t)a->d.slices;
	p->read_cycles = (uint32_t)a->d.read_cycles;
	p->adc_cycles = (uint32_t)a->d.adc_cycles;
	p->write_row_cycles = (uint32_t)a->d.write_row_cycles;
	p->digital = a->d.digital;
	p->vfu_lanes = (uint32_t)a->core.vfu_lanes;
	p->has_sbu = a->core.has_sbu;
	p->has_sel = a->core.has_sel;
	p->clock_hz = a->clock.core_ghz * 1e9;
	/* The simulator addresses memories with 32-bit registers. */
	if (a->core.spad_bytes > UINT32_MAX || a->tile.mem_bytes > UINT32_MAX ||
	    a->dram.size_bytes > (int64_t)UINT32_MAX + 1)
		return diag_err(d, NULL,
		                "architecture '%s': memories above 4 GiB are not addressable",
		                a->name);
	if (p->tiles == 0 || p->cores_per_tile == 0 || p->vfu_lanes == 0 ||
	    p->tmem_bytes_per_cycle == 0 || !(p->dram_bytes_per_cycle > 0) || p->slices == 0)
		return diag_err(d, NULL, "architecture '%s' is not validated", a->name);
	return 0;
}
