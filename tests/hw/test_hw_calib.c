/* test_hw_calib.c: hwmodels/configs/isaac.yaml reproduces ISAAC-CE (Shafiee et al., ISCA 2016)
 * Table I and Table IV within +-10%, row by row. The expected values are typed from
 * shared/reference/hardware.md section 1 (the independent source), not computed by the models.
 * Prints the table that docs/hwmodels.md shows. */
#include <check.h>
#include <math.h>
#include <stdio.h>

#include "hw.h"
#include "testutil.h"

static HwArch arch;
static HwReport rep;

/* group total of an MVMU-level (IMA) or tile-level component, in W and mm2 */
static double
group_w(HwComp c)
{
	const HwCompReport *r = &rep.comp[c];
	return (c == HW_C_router ? 1.0 : (double)r->per_parent) * r->peak_w;
}

static double
group_mm2(HwComp c)
{
	const HwCompReport *r = &rep.comp[c];
	return (c == HW_C_router ? 1.0 : (double)r->per_parent) * r->area_um2 * 1e-6;
}

typedef struct Row {
	const char *what;
	double ours, ref; /* same unit */
	const char *unit;
} Row;

static int
check_rows(const char *title, const Row *rows, int n)
{
	int i, bad = 0;
	printf("\n%s\n| quantity | ISAAC (hardware.md) | kolmo | error |\n|---|---|---|---|\n",
	       title);
	for (i = 0; i < n; i++) {
		double err = rows[i].ours / rows[i].ref - 1;
		printf("| %s | %.5g %s | %.5g %s | %+.1f%% |\n", rows[i].what, rows[i].ref,
		       rows[i].unit, rows[i].ours, rows[i].unit, 100 * err);
		if (fabs(err) > 0.10) {
			fprintf(stderr, "calibration: %s: ours %.5g, ISAAC %.5g (%+.1f%%)\n",
			        rows[i].what, rows[i].ours, rows[i].ref, 100 * err);
			bad++;
		}
	}
	return bad;
}

static void
setup(void)
{
	Diag d = {0};
	if (hw_arch_load(&arch, SRC("hwmodels/configs/isaac.yaml"), &d))
		ck_abort_msg("%s", d.msg);
	hw_report(&arch, &rep);
}

START_TEST(ima_components)
{
	/* per IMA, group totals (Table I) */
	const Row rows[] = {
	    {"ADC power (8 per IMA)", group_w(HW_C_adc) * 1e3, 16, "mW"},
	    {"ADC area", group_mm2(HW_C_adc), 0.0096, "mm2"},
	    {"DAC power (8x128)", group_w(HW_C_dac) * 1e3, 4, "mW"},
	    {"DAC area", group_mm2(HW_C_dac), 0.00017, "mm2"},
	    {"S+H power (8x128)", group_w(HW_C_sh) * 1e3, 0.01, "mW"},
	    {"S+H area", group_mm2(HW_C_sh), 0.00004, "mm2"},
	    {"crossbar power (8 arrays)", group_w(HW_C_xbar) * 1e3, 2.4, "mW"},
	    {"crossbar area", group_mm2(HW_C_xbar), 0.0002, "mm2"},
	    {"S+A power (4 per IMA)", group_w(HW_C_shift_add) * 1e3, 0.2, "mW"},
	    {"S+A area", group_mm2(HW_C_shift_add), 0.00024, "mm2"},
	    {"IR power (2 KB)", group_w(HW_C_in_reg) * 1e3, 1.24, "mW"},
	    {"IR area", group_mm2(HW_C_in_reg), 0.0021, "mm2"},
	    {"OR power (256 B)", group_w(HW_C_out_reg) * 1e3, 0.23, "mW"},
	    {"OR area", group_mm2(HW_C_out_reg), 0.00077, "mm2"},
	    {"IMA total power x12", 12 * rep.level_power_w[HW_L_MVMU] * 1e3, 289, "mW"},
	    {"IMA total area x12", 12 * rep.level_area_mm2[HW_L_MVMU], 0.157, "mm2"},
	};
	ck_assert_int_eq(check_rows("Per IMA (one MVMU)", rows, (int)NELEM(rows)), 0);
}
END_TEST

START_TEST(tile_components)
{
	const Row rows[] = {
	    {"eDRAM buffer power (64 KB)", group_w(HW_C_tilemem) * 1e3, 20.7, "mW"},
	    {"eDRAM buffer area", group_mm2(HW_C_tilemem), 0.083, "mm2"},
	    {"eDRAM-to-IMA bus power (384 wires)", group_w(HW_C_bus) * 1e3, 7, "mW"},
	    {"eDRAM-to-IMA bus area", group_mm2(HW_C_bus), 0.090, "mm2"},
	    {"router power (one, shared by 4 tiles)", group_w(HW_C_router) * 1e3, 42, "mW"},
	    {"router area", group_mm2(HW_C_router), 0.151, "mm2"},
	    /* sigmoid x2 + S+A + max-pool = the core's VFU lanes */
	    {"sigmoid + S+A + max-pool power (VFU)", 4 * rep.comp[HW_C_vfu].peak_w * 1e3,
	     0.52 + 0.05 + 0.4, "mW"},
	    {"sigmoid + S+A + max-pool area (VFU)", 4 * rep.comp[HW_C_vfu].area_um2 * 1e-6,
	     0.0006 + 0.00006 + 0.00024, "mm2"},
	    {"tile OR power (3 KB, scratchpad)", group_w(HW_C_spad) * 1e3, 1.68, "mW"},
	    {"tile OR area", group_mm2(HW_C_spad), 0.0032, "mm2"},
	    {"1 tile total power", rep.level_power_w[HW_L_TILE] * 1e3, 330, "mW"},
	    {"1 tile total area", rep.level_area_mm2[HW_L_TILE], 0.372, "mm2"},
	};
	ck_assert_int_eq(check_rows("Per tile", rows, (int)NELEM(rows)), 0);
}
END_TEST

START_TEST(chip_and_table_iv)
{
	double ce = rep.peak_ops_per_s / rep.chip_area_mm2 * 1e-9; /* GOPS/s/mm2 */
	double pe = rep.peak_ops_per_s / rep.chip_power_w * 1e-9;  /* GOPS/W */
	double se = (double)rep.weight_bytes / 1048576.0 / rep.chip_area_mm2;
	const Row rows[] = {
	    {"168 tiles power", 168 * rep.level_power_w[HW_L_TILE], 55.4, "W"},
	    {"168 tiles area", 168 * rep.level_area_mm2[HW_L_TILE], 62.5, "mm2"},
	    {"HyperTransport power", rep.comp[HW_C_dram].peak_w, 10.4, "W"},
	    {"HyperTransport area", rep.comp[HW_C_dram].area_um2 * 1e-6, 22.88, "mm2"},
	    {"chip total power", rep.chip_power_w, 65.8, "W"},
	    {"chip total area", rep.chip_area_mm2, 85.4, "mm2"},
	    {"peak throughput (16-bit)", rep.peak_ops_per_s * 1e-12, 41.29, "TOPS"},
	    {"CE (Table IV)", ce, 478.95, "GOPS/s/mm2"},
	    {"PE (Table IV)", pe, 627.5, "GOPS/W"},
	    {"SE (Table IV)", se, 0.74, "MB/mm2"},
	};
	ck_assert_int_eq(check_rows("Chip and Table IV (ISAAC-CE)", rows, (int)NELEM(rows)), 0);
	ck_assert_int_eq(rep.nwarn, 0);
}
END_TEST

/* hardware.md's derived per-action facts: one 8-bit conversion per 16-bit MAC. */
START_TEST(conversions_per_mac)
{
	double conv_per_mvm = (double)arch.mvmu.cols * arch.d.slices * arch.d.input_cycles;
	double macs = (double)arch.mvmu.rows * arch.mvmu.cols;
	ck_assert_double_eq_tol(conv_per_mvm / macs, 1.0, 1e-12);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hw_calib");
	TCase *t = tcase_create("isaac");
	SRunner *r;
	int nf;
	tcase_add_unchecked_fixture(t, setup, NULL);
	tcase_add_test(t, ima_components);
	tcase_add_test(t, tile_components);
	tcase_add_test(t, chip_and_table_iv);
	tcase_add_test(t, conversions_per_mac);
	suite_add_tcase(s, t);
	r = srunner_create(s);
	srunner_set_fork_status(r, CK_NOFORK);
	srunner_run_all(r, CK_NORMAL);
	nf = srunner_ntests_failed(r);
	srunner_free(r);
	return nf ? 1 : 0;
}
