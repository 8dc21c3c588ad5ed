/* cmd_hw.c: `kolmo hw A.yaml [--json]`: area, peak power, peak throughput and efficiency of an
 * architecture, by component and by level, with its energy reference table and sanity warnings. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hw.h"

static const CliOpt opts[] = {
    {"json", 0, NULL, "print the report as JSON (keys in docs/hwmodels.md)"},
    {NULL, 0, NULL, NULL},
};

static void
print_text(const HwArch *a, const HwReport *r, const HwErt *e)
{
	int k;
	printf("%s: %d nm, %.3g GHz, %d tiles (%d x %d mesh), %d cores/tile, %d MVMUs/core\n",
	       a->name, a->node_nm, a->clock.core_ghz, a->chip.tiles, a->chip.mesh_rows,
	       a->chip.mesh_cols, a->tile.cores, a->core.mvmus);
	printf("MVMU: %d x %d of %d-bit weights = %d %s crossbars of %d-bit cells; %d-bit inputs, "
	       "%d-bit DAC",
	       a->mvmu.rows, a->mvmu.cols, a->mvmu.weight_bits, a->d.slices,
	       hw_xbar_tech_names[a->mvmu.tech], a->mvmu.cell_bits, a->mvmu.input_bits,
	       a->mvmu.dac_bits);
	if (!a->d.digital)
		printf(", %d x %d-bit %s ADC per crossbar at %.3g GS/s\n", a->mvmu.adcs_per_xbar,
		       a->mvmu.adc_bits, hw_adc_type_names[a->mvmu.adc_type],
		       a->mvmu.adc_rate_gsps);
	else
		printf(", adder trees (no ADC)\n");
	printf("fingerprint 0x%016llx\n\n", (unsigned long long)a->fingerprint);

	printf("%-26s %-5s %9s %12s %12s %12s %10s %6s %6s\n", "component", "level", "n/parent",
	       "area/inst", "power/inst", "chip area", "chip power", "area", "power");
	printf("%-26s %-5s %9s %12s %12s %12s %10s %6s %6s\n", "", "", "", "um2", "mW", "mm2", "W",
	       "%", "%");
	for (k = 0; k < HW_NCOMPS; k++) {
		const HwCompReport *c = &r->comp[k];
		double area = (double)c->chip_count * c->area_um2 * 1e-6;
		double pw = (double)c->chip_count * c->peak_w;
		if (!c->chip_count)
			continue;
		printf("%-26s %-5s %9.4g %12.4g %12.4g %12.4g %10.4g %6.1f %6.1f\n",
		       hw_comps[k].label, hw_level_names[hw_comps[k].level],
		       k == HW_C_router ? 1.0 / a->noc.tiles_per_router : (double)c->per_parent,
		       c->area_um2, c->peak_w * 1e3, area, pw, 100 * area / r->chip_area_mm2,
		       100 * pw / r->chip_power_w);
	}
	printf("\n%-6s %14s %12s\n", "level", "area mm2", "power W");
	for (k = 0; k < HW_NLEVELS; k++)
		printf("%-6s %14.5g %12.5g\n", hw_level_names[k], r->level_area_mm2[k],
		       r->level_power_w[k]);
	printf("\npeak (%db x %db): %.4g TOPS (%.4g TMAC/s), %.4g TOPS/W, %.4g TOPS/mm2, %.4g "
	       "pJ/MAC\n",
	       a->mvmu.input_bits, a->mvmu.weight_bits, r->peak_ops_per_s * 1e-12,
	       r->peak_macs_per_s * 1e-12, r->tops_per_w, r->tops_per_mm2, r->mac_energy_pj);
	printf("normalised to 8b x 8b: %.4g TOPS/W, %.4g TOPS/mm2, %.4g fJ/MAC\n", r->tops_per_w_8b,
	       r->tops_per_mm2_8b, r->mac_energy_8b_pj * 1e3);
	printf("weight capacity: %lld bytes (%.4g MiB, %.3g MiB/mm2)\n", (long long)r->weight_bytes,
	       (double)r->weight_bytes / 1048576.0, r->weight_mib_per_mm2);
	printf("full mvm: %lld cycles (%.4g ns); tile memory %d B/cycle; DRAM %.3g B/cycle\n",
	       (long long)a->d.mvm_cycles, e->timing.mvm_ns, a->d.tmem_bytes_per_cycle,
	       a->d.dram_bytes_per_cycle);
	printf("\nenergy reference table (pJ per action):\n");
	for (k = 0; k < HW_NACTIONS; k++)
		printf("  %-20s %10.4g\n", hw_actions[k].name, e->energy_pj[k]);
	if (r->nwarn) {
		printf("\nwarnings:\n");
		for (k = 0; k < r->nwarn; k++)
			printf("  warning: %s\n", r->warn[k]);
	}
}

static json_t *
level_json(const HwReport *r, HwLevel l)
{
	return json_pack("{s:f,s:f}", "area_mm2", r->level_area_mm2[l], "power_w",
	                 r->level_power_w[l]);
}

static int
print_json(const HwArch *a, const HwReport *r, const HwErt *e)
{
	json_t *root = json_object(), *comps = json_array(), *acts = json_object(),
	       *leak = json_object(), *warns = json_array(), *params = json_object();
	char fp[32], v[128];
	int k;
	char *s;

	snprintf(fp, sizeof fp, "0x%016llx", (unsigned long long)a->fingerprint);
	json_object_set_new(root, "name", json_string(a->name));
	json_object_set_new(root, "fingerprint", json_string(fp));
	for (k = 0; k < hw_nparams; k++) {
		hw_arch_get(a, hw_params[k].path, v, sizeof v);
		json_object_set_new(params, hw_params[k].path, json_string(v));
	}
	json_object_set_new(root, "params", params);
	json_object_set_new(root, "chip", level_json(r, HW_L_CHIP));
	json_object_set_new(root, "tile", level_json(r, HW_L_TILE));
	json_object_set_new(root, "core", level_json(r, HW_L_CORE));
	json_object_set_new(root, "mvmu", level_json(r, HW_L_MVMU));
	for (k = 0; k < HW_NCOMPS; k++) {
		const HwCompReport *c = &r->comp[k];
		json_array_append_new(
		    comps, json_pack("{s:s,s:s,s:s,s:I,s:f,s:I,s:f,s:f,s:f,s:f,s:f}", "name",
		                     hw_comps[k].name, "label", hw_comps[k].label, "level",
		                     hw_level_names[hw_comps[k].level], "per_parent",
		                     (json_int_t)c->per_parent, "per_tile", c->per_tile, "count",
		                     (json_int_t)c->chip_count, "area_um2", c->area_um2, "power_w",
		                     c->peak_w, "leak_w", c->leak_w, "chip_area_mm2",
		                     (double)c->chip_count * c->area_um2 * 1e-6, "chip_power_w",
		                     (double)c->chip_count * c->peak_w));
	}
	json_object_set_new(root, "components", comps);
	json_object_set_new(root, "peak",
	                    json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:i,s:i}", "ops_per_s",
	                              r->peak_ops_per_s, "macs_per_s", r->peak_macs_per_s,
	                              "tops_per_w", r->tops_per_w, "tops_per_mm2", r->tops_per_mm2,
	                              "mac_energy_pj", r->mac_energy_pj, "mac_energy_8b_pj",
	                              r->mac_energy_8b_pj, "tops_per_w_8b", r->tops_per_w_8b,
	                              "tops_per_mm2_8b", r->tops_per_mm2_8b, "input_bits",
	                              a->mvmu.input_bits, "weight_bits", a->mvmu.weight_bits));
	json_object_set_new(root, "capacity",
	                    json_pack("{s:I,s:f}", "weight_bytes", (json_int_t)r->weight_bytes,
	                              "weight_mib_per_mm2", r->weight_mib_per_mm2));
	for (k = 0; k < HW_NACTIONS; k++)
		json_object_set_new(acts, hw_actions[k].name, json_real(e->energy_pj[k]));
	for (k = 0; k < HW_NCOMPS; k++)
		json_object_set_new(leak, hw_comps[k].name, json_real(e->leak_w[k]));
	json_object_set_new(root, "ert",
	                    json_pack("{s:o,s:o}", "energy_pj", acts, "leakage_w", leak));
	json_object_set_new(
	    root, "timing",
	    json_pack("{s:f,s:f,s:f,s:f,s:f,s:I,s:f,s:f,s:f,s:i}", "clock_ns", e->timing.clock_ns,
	              "xbar_read_ns", e->timing.xbar_read_ns, "adc_conv_ns", e->timing.adc_conv_ns,
	              "xbar_write_row_ns", e->timing.xbar_write_row_ns, "mvm_ns", e->timing.mvm_ns,
	              "mvm_cycles", (json_int_t)e->timing.mvm_cycles, "tmem_bytes_per_ns",
	              e->timing.tmem_bytes_per_ns, "dram_bytes_per_ns", e->timing.dram_bytes_per_ns,
	              "dram_latency_ns", e->timing.dram_latency_ns, "noc_hop_cycles",
	              e->timing.noc_hop_cycles));
	for (k = 0; k < r->nwarn; k++)
		json_array_append_new(warns, json_string(r->warn[k]));
	json_object_set_new(root, "warnings", warns);
	s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(root);
	if (!s)
		return 1;
	printf("%s\n", s);
	free(s);
	return 0;
}

static int
run(const CliCmd *cmd, CliArgs *args)
{
	HwArch a;
	HwReport r;
	HwErt e;
	Diag d = {0};
	if (hw_arch_load(&a, args->pos[0], &d))
		return cli_fail(&d);
	hw_report(&a, &r);
	hw_ert_build(&a, &e);
	if (cli_opt(cmd, args, "json"))
		return print_json(&a, &r, &e);
	print_text(&a, &r, &e);
	return 0;
}

const CliCmd cmd_hw = {
    .name = "hw",
    .summary = "area, power, peak throughput and efficiency of an architecture config",
    .usage = "A.yaml [--json]",
    .details = "Loads and checks the architecture config A.yaml (schema in docs/hwmodels.md) and\n"
               "prints area and peak power by component and by level (MVMU, core, tile, chip),\n"
               "peak throughput (2 ops per MAC at the configured precision), TOPS/W, TOPS/mm2,\n"
               "weight capacity, the energy reference table, and warnings for estimates outside\n"
               "the bounds of real silicon. Bundled configs: hwmodels/configs/*.yaml.",
    .opts = opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
