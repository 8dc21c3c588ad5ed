/* test_hw_energy.c: the energy reference table and hw_energy on small hand-computed counts; node
 * scaling; ADC model shape; the action and component tables. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "hw.h"
#include "testutil.h"

static const char cfg[] = "name: t\n"
                          "node_nm: 32\n"
                          "chip: {tiles: 4, mesh_rows: 2, mesh_cols: 2}\n"
                          "dram: {energy_pj_per_bit: 5}\n"
                          "tile: {cores: 1}\n"
                          "core: {mvmus: 2}\n"
                          "mvmu:\n"
                          "  tech: reram\n"
                          "  rows: 64\n"
                          "  cols: 64\n"
                          "  cell_bits: 2\n"
                          "  weight_bits: 8\n"
                          "  input_bits: 8\n"
                          "  adcs_per_xbar: 1\n"
                          "  adc_bits: 6\n"
                          "  adc_rate_gsps: 1.0\n";

static void
load(HwArch *a, const char *text)
{
	Diag d = {0};
	if (hw_arch_load_mem(a, text, strlen(text), "t.yaml", &d))
		ck_abort_msg("%s", d.msg);
}

START_TEST(ert_hand_computed)
{
	HwArch a;
	HwErt e;
	HwEnergy en;
	uint64_t counts[HW_NACTIONS] = {0};
	double leak = 0, sum = 0;
	int k;
	load(&a, cfg);
	hw_ert_build(&a, &e);
	/* 6-bit SAR at 1 GS/s (below the 1.5 GS/s corner), 32 nm: 6.51 fJ x 2^6 = 0.41664 pJ */
	ck_assert_double_eq_tol(e.energy_pj[HW_ACT_adc_convert], 0.41664, 1e-6);
	/* ReRAM row of 64 cells x 1.9531 fJ */
	ck_assert_double_eq_tol(e.energy_pj[HW_ACT_xbar_row_activate], 64 * 1.9531e-3, 1e-9);
	/* 1-bit DAC driving 64 columns: 0.41667 pJ x 64/128 */
	ck_assert_double_eq_tol(e.energy_pj[HW_ACT_dac_drive], 0.41667 / 2, 1e-9);
	/* DRAM: 5 pJ/bit */
	ck_assert_double_eq_tol(e.energy_pj[HW_ACT_dram_byte], 40, 1e-12);
	/* router: default 0.1 pJ/bit x 32-bit flits */
	ck_assert_double_eq_tol(e.energy_pj[HW_ACT_noc_flit_hop], 3.2, 1e-12);
	/* S+A: (8 + 8) bits x 0.000651 pJ */
	ck_assert_double_eq_tol(e.energy_pj[HW_ACT_shift_add], 16 * 0.000651, 1e-12);

	counts[HW_ACT_adc_convert] = 1000;
	counts[HW_ACT_dram_byte] = 10;
	counts[HW_ACT_xbar_row_activate] = 64;
	for (k = 0; k < HW_NCOMPS; k++)
		leak += e.leak_w[k];
	ck_assert_double_gt(leak, 0);
	hw_energy(&e, counts, 1e-3, &en);
	ck_assert_double_eq_tol(en.dynamic_j,
	                        (1000 * 0.41664 + 10 * 40 + 64 * 64 * 1.9531e-3) * 1e-12, 1e-18);
	ck_assert_double_eq_tol(en.leakage_j, leak * 1e-3, 1e-15);
	ck_assert_double_eq_tol(en.total_j, en.dynamic_j + en.leakage_j, 1e-18);
	ck_assert_double_eq_tol(en.comp_j[HW_C_adc], 1000 * 0.41664e-12 + e.leak_w[HW_C_adc] * 1e-3,
	                        1e-18);
	ck_assert_double_eq_tol(en.comp_j[HW_C_dram], 400e-12, 1e-18);
	for (k = 0; k < HW_NCOMPS; k++)
		sum += en.comp_j[k];
	ck_assert_double_eq_tol(sum, en.total_j, 1e-18);
	/* no time, no counts: nothing */
	memset(counts, 0, sizeof counts);
	hw_energy(&e, counts, 0, &en);
	ck_assert_double_eq(en.total_j, 0);
	ck_assert_uint_eq(e.fingerprint, a.fingerprint);
}
END_TEST

START_TEST(node_scaling)
{
	HwArch a32, a16;
	HwErt e32, e16;
	HwReport r32, r16;
	Diag d = {0};
	load(&a32, cfg);
	a16 = a32;
	ck_assert_int_eq(hw_arch_set(&a16, "node_nm", "16", &d), 0);
	hw_ert_build(&a32, &e32);
	hw_ert_build(&a16, &e16);
	hw_report(&a32, &r32);
	hw_report(&a16, &r16);
	/* digital energy ~ node, analog ~ sqrt(node), area ~ node^2; device energies unscaled */
	ck_assert_double_eq_tol(e16.energy_pj[HW_ACT_vfu_op] / e32.energy_pj[HW_ACT_vfu_op], 0.5,
	                        1e-12);
	ck_assert_double_eq_tol(e16.energy_pj[HW_ACT_sh_sample] / e32.energy_pj[HW_ACT_sh_sample],
	                        sqrt(0.5), 1e-12);
	ck_assert_double_eq_tol(r16.comp[HW_C_vfu].area_um2 / r32.comp[HW_C_vfu].area_um2, 0.25,
	                        1e-12);
	ck_assert_double_eq_tol(r16.comp[HW_C_xbar].area_um2 / r32.comp[HW_C_xbar].area_um2, 0.25,
	                        1e-12);
	ck_assert_double_eq(e16.energy_pj[HW_ACT_xbar_row_activate],
	                    e32.energy_pj[HW_ACT_xbar_row_activate]);
	ck_assert_double_eq(e16.energy_pj[HW_ACT_dram_byte], e32.energy_pj[HW_ACT_dram_byte]);
}
END_TEST

START_TEST(adc_model_shape)
{
	HwArch a;
	HwErt e;
	Diag d = {0};
	double prev = 0;
	int b;
	load(&a, cfg);
	/* monotone in resolution, with the floor at low resolution */
	for (b = 1; b <= 12; b++) {
		char v[8];
		snprintf(v, sizeof v, "%d", b);
		ck_assert_int_eq(hw_arch_set(&a, "mvmu.adc_bits", v, &d), 0);
		hw_ert_build(&a, &e);
		ck_assert_double_ge(e.energy_pj[HW_ACT_adc_convert], prev);
		ck_assert_double_ge(e.energy_pj[HW_ACT_adc_convert], 0.2);
		prev = e.energy_pj[HW_ACT_adc_convert];
	}
	hw_arch_set(&a, "mvmu.adc_bits", "2", &d);
	hw_ert_build(&a, &e);
	ck_assert_double_eq_tol(e.energy_pj[HW_ACT_adc_convert], 0.2, 1e-12);
	/* above the speed corner energy grows with the rate: 3 GS/s = 2x the 1.5 GS/s corner */
	hw_arch_set(&a, "mvmu.adc_bits", "8", &d);
	hw_arch_set(&a, "mvmu.adc_rate_gsps", "3", &d);
	hw_ert_build(&a, &e);
	ck_assert_double_eq_tol(e.energy_pj[HW_ACT_adc_convert], 2 * 6.51e-3 * 256, 1e-9);
}
END_TEST

START_TEST(action_table)
{
	int i, j;
	for (i = 0; i < HW_NACTIONS; i++) {
		ck_assert_ptr_nonnull(hw_actions[i].name);
		ck_assert_int_lt(hw_actions[i].comp, HW_NCOMPS);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(hw_actions[i].name, hw_actions[j].name);
	}
	/* the names the simulator counts by */
	ck_assert_str_eq(hw_actions[HW_ACT_xbar_row_activate].name, "xbar_row_activate");
	ck_assert_str_eq(hw_actions[HW_ACT_adc_convert].name, "adc_convert");
	ck_assert_str_eq(hw_actions[HW_ACT_noc_flit_hop].name, "noc_flit_hop");
	for (i = 0; i < HW_NCOMPS; i++)
		ck_assert_int_lt(hw_comps[i].level, HW_NLEVELS);
}
END_TEST

/* Sanity warnings fire on implausible designs (hardware.md section 2 bounds). */
static int
has_warning(const HwReport *r, const char *frag)
{
	int i;
	for (i = 0; i < r->nwarn; i++)
		if (strstr(r->warn[i], frag))
			return 1;
	return 0;
}

START_TEST(sanity_warnings)
{
	HwArch a, b;
	HwReport r;
	Diag d = {0};
	/* a 3 nm ReRAM array of 4096 x 4096 8-bit cells read in one cycle */
	const char *const k[] = {
	    "mvmu.rows",          "mvmu.cols",          "mvmu.cell_bits", "mvmu.adc_bits",
	    "mvmu.adc_rate_gsps", "mvmu.adcs_per_xbar", "mvmu.read_ns",   "node_nm"};
	const char *const v[] = {"4096", "4096", "8", "1", "100", "4096", "0.01", "3"};
	load(&a, cfg);
	b = a;
	hw_report(&a, &r);
	ck_assert_int_eq(r.nwarn, 0);
	ck_assert_msg(hw_arch_set_many(&a, k, v, (int)NELEM(k), &d) == 0, "%s", d.msg);
	hw_report(&a, &r);
	ck_assert_msg(has_warning(&r, "exceeds the best silicon"), "%.4g TOPS/mm2 at 8b",
	              r.tops_per_mm2_8b);
	/* an ADC finer than any column sum: 64 rows x 1-bit DAC x 2-bit cells need 8 bits */
	ck_assert_int_eq(hw_arch_set(&b, "mvmu.adc_bits", "8", &d), 0);
	hw_report(&b, &r);
	ck_assert_int_eq(r.nwarn, 0);
	ck_assert_int_eq(hw_arch_set(&b, "mvmu.adc_bits", "9", &d), 0);
	hw_report(&b, &r);
	ck_assert(has_warning(&r, "exceeds the 8 bits a column sum can need"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("hw_energy");
	TCase *t = tcase_create("ert");
	SRunner *r;
	int nf;
	tcase_add_test(t, ert_hand_computed);
	tcase_add_test(t, node_scaling);
	tcase_add_test(t, adc_model_shape);
	tcase_add_test(t, action_table);
	tcase_add_test(t, sanity_warnings);
	suite_add_tcase(s, t);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	nf = srunner_ntests_failed(r);
	srunner_free(r);
	return nf ? 1 : 0;
}
