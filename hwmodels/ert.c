/* ert.c: the energy reference table (energy per action, leakage per component), pricing of action
 * counts, and the area / peak power / throughput report with its sanity warnings. */
#include "models.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
hw_ert_build(const HwArch *a, HwErt *e)
{
	HwModel m;
	int k;
	hw_model(a, &m);
	memset(e, 0, sizeof *e);
	memcpy(e->energy_pj, m.energy_pj, sizeof e->energy_pj);
	for (k = 0; k < HW_NCOMPS; k++)
		e->leak_w[k] = m.comp[k].leak_w * (double)m.comp[k].chip_count;
	e->timing.clock_ns = a->d.clock_ns;
	e->timing.xbar_read_ns = a->mvmu.read_ns;
	e->timing.adc_conv_ns = a->d.adc_conv_ns;
	e->timing.xbar_write_row_ns = a->mvmu.write_row_ns;
	e->timing.mvm_cycles = a->d.mvm_cycles;
	e->timing.mvm_ns = (double)a->d.mvm_cycles * a->d.clock_ns;
	e->timing.tmem_bytes_per_ns = a->d.tmem_bytes_per_cycle * a->clock.core_ghz;
	e->timing.dram_bytes_per_ns = a->dram.bandwidth_gb_per_s;
	e->timing.dram_latency_ns = a->dram.latency_ns;
	e->timing.noc_hop_cycles = a->noc.hop_cycles;
	e->fingerprint = a->fingerprint;
}

void
hw_energy(const HwErt *e, const uint64_t counts[HW_NACTIONS], double seconds, HwEnergy *out)
{
	int i;
	memset(out, 0, sizeof *out);
	for (i = 0; i < HW_NACTIONS; i++) {
		double j = (double)counts[i] * e->energy_pj[i] * 1e-12;
		out->action_j[i] = j;
		out->comp_j[hw_actions[i].comp] += j;
		out->dynamic_j += j;
	}
	for (i = 0; i < HW_NCOMPS; i++) {
		double j = e->leak_w[i] * seconds;
		out->comp_leak_j[i] = j;
		out->comp_j[i] += j;
		out->leakage_j += j;
	}
	out->total_j = out->dynamic_j + out->leakage_j;
}

static void warn(HwReport *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
warn(HwReport *r, const char *fmt, ...)
{
	va_list ap;
	if (r->nwarn >= HW_MAXWARN)
		return;
	va_start(ap, fmt);
	vsnprintf(r->warn[r->nwarn++], sizeof r->warn[0], fmt, ap);
	va_end(ap);
}

/* Sanity bounds from shared/reference/hardware.md section 2 (see docs/hwmodels.md). */
static void
sanity(const HwArch *a, HwReport *r)
{
	double lossless;
	if (r->mac_energy_8b_pj < 0.010)
		warn(r,
		     "system-level energy per 8b x 8b MAC is %.2f fJ, below the 10 fJ plausibility "
		     "bound of real silicon (%.0f TOPS/W at 8b)",
		     r->mac_energy_8b_pj * 1e3, r->tops_per_w_8b);
	if (r->tops_per_w_8b < 0.01)
		warn(r, "%.3g TOPS/W at 8b x 8b is below any CIM or digital accelerator of record",
		     r->tops_per_w_8b);
	if (r->tops_per_mm2_8b > 250)
		warn(r,
		     "%.0f TOPS/mm2 at 8b x 8b exceeds the best silicon (221 TOPS/mm2, 5 nm, "
		     "4b-class)",
		     r->tops_per_mm2_8b);
	if (r->chip_power_w / r->chip_area_mm2 > 1.5)
		warn(r, "peak power density %.2f W/mm2 exceeds ~1.5 W/mm2 (cooling limit)",
		     r->chip_power_w / r->chip_area_mm2);
	if (!a->d.digital) {
		double fom_fj = hw_adc_pj_per_conv(a) * 1e3 / ldexp(1.0, a->mvmu.adc_bits);
		if (fom_fj < 0.35)
			warn(r,
			     "ADC at %.3g fJ/conversion-step beats the best ADC ever reported "
			     "(0.35 fJ/step, Murmann survey)",
			     fom_fj);
		lossless = ceil(log2(a->mvmu.rows * (ldexp(1.0, a->mvmu.dac_bits) - 1) *
		                         (ldexp(1.0, a->mvmu.cell_bits) - 1) +
		                     1));
		if (a->mvmu.adc_bits > lossless)
			warn(r,
			     "mvmu.adc_bits (%d) exceeds the %g bits a column sum can need: the "
			     "extra "
			     "resolution costs energy for nothing",
			     a->mvmu.adc_bits, lossless);
	} else {
		/* weight storage density of the macro: cells, drivers, adder trees, S+A
		 * (hardware.md 2.4: SRAM-CIM 1-4 Mb/mm2, 3.78 at 3 nm) */
		double macro_um2 = 0;
		int k;
		for (k = 0; k < HW_NCOMPS; k++)
			if (hw_comps[k].level == HW_L_MVMU)
				macro_um2 += (double)r->comp[k].per_parent * r->comp[k].area_um2;
		double mb_per_mm2 = (double)a->mvmu.rows * a->mvmu.cols * a->mvmu.weight_bits /
		                    1e6 / (macro_um2 * 1e-6);
		if (mb_per_mm2 > 4)
			warn(r,
			     "SRAM-CIM macros store %.1f Mb/mm2, above the 3.78 Mb/mm2 of 3 nm "
			     "silicon",
			     mb_per_mm2);
	}
}

void
hw_report(const HwArch *a, HwReport *r)
{
	HwModel m;
	double macs_per_mvm, mvm_s;
	int k;
	hw_model(a, &m);
	memset(r, 0, sizeof *r);
	memcpy(r->comp, m.comp, sizeof r->comp);
	for (k = 0; k < HW_NCOMPS; k++) {
		const HwCompReport *c = &m.comp[k];
		HwLevel l = hw_comps[k].level;
		double n = l == HW_L_TILE ? c->per_tile : (double)c->per_parent;
		r->level_area_mm2[l] += n * c->area_um2 * 1e-6;
		r->level_power_w[l] += n * c->peak_w;
	}
	r->level_area_mm2[HW_L_CORE] += a->core.mvmus * r->level_area_mm2[HW_L_MVMU];
	r->level_power_w[HW_L_CORE] += a->core.mvmus * r->level_power_w[HW_L_MVMU];
	r->level_area_mm2[HW_L_TILE] += a->tile.cores * r->level_area_mm2[HW_L_CORE];
	r->level_power_w[HW_L_TILE] += a->tile.cores * r->level_power_w[HW_L_CORE];
	r->level_area_mm2[HW_L_CHIP] += a->chip.tiles * r->level_area_mm2[HW_L_TILE];
	r->level_power_w[HW_L_CHIP] += a->chip.tiles * r->level_power_w[HW_L_TILE];
	r->chip_area_mm2 = r->level_area_mm2[HW_L_CHIP];
	r->chip_power_w = r->level_power_w[HW_L_CHIP];

	macs_per_mvm = (double)a->mvmu.rows * a->mvmu.cols;
	mvm_s = (double)a->d.mvm_cycles * a->d.clock_ns * 1e-9;
	r->peak_macs_per_s = macs_per_mvm * (double)a->d.mvmus / mvm_s;
	r->peak_ops_per_s = 2 * r->peak_macs_per_s;
	r->tops_per_w = r->peak_ops_per_s / r->chip_power_w * 1e-12;
	r->tops_per_mm2 = r->peak_ops_per_s / r->chip_area_mm2 * 1e-12;
	r->mac_energy_pj = r->chip_power_w / r->peak_macs_per_s * 1e12;
	{
		double norm = 64.0 / ((double)a->mvmu.input_bits * a->mvmu.weight_bits);
		r->mac_energy_8b_pj = r->mac_energy_pj * norm;
		r->tops_per_w_8b = r->tops_per_w / norm;
		r->tops_per_mm2_8b = r->tops_per_mm2 / norm;
	}
	r->weight_bytes = a->d.weight_capacity_bytes;
	r->weight_mib_per_mm2 = (double)r->weight_bytes / 1048576.0 / r->chip_area_mm2;
	sanity(a, r);
}
