/* ceilings.c: the roofs of an architecture: the rate of every resource of resources.def, the
 * compute roofs in ops/s and bandwidths per memory level, the capacity roof, leakage. Every
 * number comes from the arch config through hwmodels (HwArch.d, the ERT); see docs/roofline.md. */
#include "roofline.h"

#include <stdio.h>
#include <string.h>

const RfResInfo rf_res[RF_NRES] = {
#define RF_RES(name, kind, unit, label) {#name, unit, label, kind},
#include "resources.def"
};

void
rf_ceilings(const HwArch *a, RfCeilings *c)
{
	const HwDerived *x = &a->d;
	double f = a->clock.core_ghz * 1e9, clk_s = 1.0 / f;
	int64_t cores = (int64_t)a->chip.tiles * a->tile.cores;
	double lanes = (double)a->core.vfu_lanes * (double)cores * f;
	double spad_port = 4.0 * a->core.vfu_lanes < 16 ? 16 : 4.0 * a->core.vfu_lanes;
	int k;

	memset(c, 0, sizeof *c);
	c->arch = *a;
	c->clock_hz = f;
	c->rows = a->mvmu.rows;
	c->cols = a->mvmu.cols;
	c->slices = x->slices;
	c->input_cycles = x->input_cycles;
	c->weight_bits = a->mvmu.weight_bits;
	c->input_bits = a->mvmu.input_bits;
	c->mvm_cycles = x->mvm_cycles;
	c->mvm_adc_limited =
	    !x->digital && (int64_t)x->cols_per_adc * x->adc_cycles >= x->read_cycles;
	c->mvmus = x->mvmus;
	c->mvmus_per_tile = x->mvmus_per_tile;
	c->cores = cores;
	c->tiles = a->chip.tiles;
	c->act_bytes = a->mvmu.input_bits / 8.0;
	c->capacity_bytes = x->weight_capacity_bytes;
	c->capacity_weights = (double)x->mvmus * a->mvmu.rows * a->mvmu.cols;
	c->tmem_total_bytes = (int64_t)a->chip.tiles * a->tile.mem_bytes;
	c->digital = x->digital;
	c->dram_latency_s = a->dram.latency_ns * 1e-9;

	/* MVM: every MVMU busy with full-size MVMs back to back (docs/timing.md). */
	c->rate[RF_R_mvm] = (double)x->mvmus * f;
	c->roof_ops_per_s[RF_R_mvm] =
	    2.0 * a->mvmu.rows * a->mvmu.cols * (double)x->mvmus / ((double)x->mvm_cycles * clk_s);
	/* ADC: one conversion per column, slice and input cycle; R rows per conversion. */
	if (!x->digital) {
		double adcs = (double)x->xbars * a->mvmu.adcs_per_xbar;
		c->rate[RF_R_adc] = adcs * a->mvmu.adc_rate_gsps * 1e9;
		c->roof_ops_per_s[RF_R_adc] =
		    2.0 * c->rate[RF_R_adc] * a->mvmu.rows / ((double)x->slices * x->input_cycles);
	}
	c->rate[RF_R_vfu] = lanes;
	c->roof_ops_per_s[RF_R_vfu] = lanes;
	if (a->core.has_sbu) {
		c->rate[RF_R_sbu] = lanes;
		c->roof_ops_per_s[RF_R_sbu] = lanes;
	}
	if (a->core.has_sel) {
		c->rate[RF_R_sel] = lanes;
		c->roof_ops_per_s[RF_R_sel] = lanes;
	}
	/* Array writes: every MVMU programs one row of cols weights per write_row time. */
	c->rate[RF_R_array] = (double)x->mvmus * a->mvmu.cols * a->mvmu.weight_bits / 8.0 /
	                      ((double)x->write_row_cycles * clk_s);
	/* Scratchpad: one port access of max(16, 4 x lanes) bytes per cycle per core (the peak
	 * access width of docs/hwmodels.md). */
	c->rate[RF_R_spad] = spad_port * (double)cores * f;
	c->rate[RF_R_tmem] = (double)x->tmem_bytes_per_cycle * a->chip.tiles * f;
	/* NoC: one flit per cycle injected at every router. */
	c->rate[RF_R_noc] = (double)x->routers * a->noc.flit_bits / 8.0 * f;
	c->rate[RF_R_dram] = a->dram.bandwidth_gb_per_s * 1e9;
	c->rate[RF_R_floor] = 1;
	for (k = 0; k < RF_NRES; k++)
		if (rf_res[k].kind == RF_MEMORY)
			c->bw_bytes_per_s[k] = c->rate[k];

	hw_ert_build(a, &c->ert);
	for (k = 0; k < HW_NCOMPS; k++)
		c->leak_w += c->ert.leak_w[k];
}

double
rf_res_time(const RfCeilings *c, int r, double demand)
{
	double t;
	if (demand <= 0)
		return 0;
	if (c->rate[r] <= 0)
		return 1e300; /* a demand on an absent unit: callers re-route it first */
	t = demand / c->rate[r];
	if (r == RF_R_dram)
		t += c->dram_latency_s;
	return t;
}
