/* test_rf_bounds.c: roofline bounds of single linear layers on the tiny architecture (tiny.h),
 * every number computed by hand below; the graph-IR accounting of KAN and attention; energy is
 * the ERT price of the counted actions plus leakage. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "roofline.h"
#include "tiny.h"

static HwArch arch;

static void
setup(void)
{
	Diag d = {0};
	ck_assert_msg(hw_arch_load_mem(&arch, tiny_yaml, strlen(tiny_yaml), "tiny.yaml", &d) == 0,
	              "%s", d.msg);
}

static void
analyze(const char *kir, RfModel *m)
{
	Diag d = {0};
	Graph *g = ir_parse_mem(kir, strlen(kir), "t.kir", NULL, IR_PARSE_NO_IO, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	ck_assert_msg(ir_verify(g, &d) == 0, "%s", d.msg);
	ck_assert_msg(rf_analyze(g, &arch, m, &d) == 0, "%s", d.msg);
	ir_free(g);
}

static void
near(double a, double b, const char *ea, int line)
{
	ck_assert_msg(fabs(a - b) <= 1e-9 * fabs(b) + 1e-18, "line %d: %s = %.12g, expected %.12g",
	              line, ea, a, b);
}
#define NEAR(a, b) near((double)(a), (double)(b), #a, __LINE__)

/* Ceilings of tiny (docs/timing.md): Cin = 1 + ceil(7/1) = 8; a full 64-column input cycle
 * takes max(cyc(10 ns), ceil(64/1) x 1) = 64 cycles, L_mvm = 8 x 64 + 2 = 514 cycles;
 * MVM roof = 2 x 64 x 64 x 2 MVMUs / 514 ns = 31.875... Gops/s; ADC roof = 2 x 8 ADCs (2 MVMUs x
 * 4 slices) x 1e9 x 64 rows / (4 slices x 8 cycles) = 32 Gops/s; tile memory 8 GB/s; DRAM
 * 1 GB/s; array writes 2 MVMUs x 64 B / 100 ns = 1.28 GB/s; scratchpad 1 core x max(16, 4 x 4)
 * B x 1 GHz = 16 GB/s. */
START_TEST(ceilings)
{
	RfCeilings c;
	rf_ceilings(&arch, &c);
	ck_assert_int_eq(c.input_cycles, 8);
	ck_assert_int_eq(c.slices, 4);
	ck_assert_int_eq((int)c.mvm_cycles, 514);
	ck_assert(c.mvm_adc_limited);
	NEAR(c.roof_ops_per_s[RF_R_mvm], 2.0 * 64 * 64 * 2 / 514e-9);
	NEAR(c.roof_ops_per_s[RF_R_adc], 32e9);
	NEAR(c.bw_bytes_per_s[RF_R_tmem], 8e9);
	NEAR(c.bw_bytes_per_s[RF_R_dram], 1e9);
	NEAR(c.bw_bytes_per_s[RF_R_array], 1.28e9);
	NEAR(c.bw_bytes_per_s[RF_R_spad], 16e9);
	NEAR(c.rate[RF_R_vfu], 4e9);
	ck_assert_int_eq((int)c.capacity_bytes, 2 * 64 * 64);
}
END_TEST

/* One vector through a 64 x 32 linear layer (y = x W^T, W: [32, 64]):
 *   work W = 2 x 64 x 32 = 4096 ops; one MVMU block (64 rows x 32 columns);
 *   MVM: L = 8 x max(10, ceil(32/1) x 1) + 2 = 258 cycles -> 258 MVMU-cycles / (2 MVMUs x 1 GHz)
 *        = 129 ns; floor: 2 copies fit, ceil(1/2) = 1 MVM of 258 cycles = 258 ns;
 *   ADC: 1 x 4 slices x 8 cycles x 32 columns = 1024 conversions / 8 GS/s = 128 ns;
 *   activations: x = 64 B in, y = 32 B out (8-bit), placed on chip by the host as the simulator
 *        does: no DRAM; tile memory 96 B / 8 GB/s = 12 ns;
 *   scratchpad: drive 64 B read + 32 i32 partial sums = 128 B written + 96 B tld/tst = 288 B /
 *        16 GB/s = 18 ns.
 * Latency bound = max = 258 ns, bound by the floor (one MVM cannot be faster). */
static const char one_vec[] = "kir 1\ngraph one {\n  input x : f32[1, 64]\n"
                              "  weight w : f32[32, 64] = fill(0.5)\n"
                              "  %y = linear(x, w) : f32[1, 32]\n  output out = %y\n}\n";

START_TEST(linear_one_vector)
{
	RfModel m;
	const RfOpCost *o;
	analyze(one_vec, &m);
	ck_assert_uint_eq(m.nops, 1);
	o = &m.ops[0];
	ck_assert_str_eq(o->d.name, "y");
	NEAR(o->work_ops, 4096);
	NEAR(o->work_dense_ops, 4096);
	ck_assert_int_eq((int)o->mvmus, 1);
	NEAR(o->demand[RF_R_mvm], 258);
	NEAR(o->t_s[RF_R_mvm], 129e-9);
	NEAR(o->t_s[RF_R_floor], 258e-9);
	NEAR(o->demand[RF_R_adc], 1024);
	NEAR(o->t_s[RF_R_adc], 128e-9);
	NEAR(o->demand[RF_R_dram], 0);
	NEAR(o->t_s[RF_R_dram], 0);
	NEAR(o->demand[RF_R_tmem], 96);
	NEAR(o->t_s[RF_R_tmem], 12e-9);
	NEAR(o->demand[RF_R_spad], 288);
	NEAR(o->demand[RF_R_noc], 0);
	NEAR(o->demand[RF_R_array], 0);
	NEAR(o->latency_s, 258e-9);
	ck_assert_int_eq(o->binding, RF_R_floor);
	NEAR(m.latency_s, 258e-9);
	ck_assert(m.fits);
	/* actions: row activations and DAC drives depend on the data under row gating (none
	 * counted); 1 x 4 x 8 x 32 = 1024 conversions, samples and shift-adds; no DRAM bytes */
	NEAR(o->actions[HW_ACT_xbar_row_activate], 0);
	NEAR(o->actions[HW_ACT_dac_drive], 0);
	NEAR(o->actions[HW_ACT_adc_convert], 1024);
	NEAR(o->actions[HW_ACT_shift_add], 1024);
	NEAR(o->actions[HW_ACT_dram_byte], 0);
	rf_model_free(&m);
}
END_TEST

/* 64 vectors (x: [64, 64]): W = 64 x 4096 = 262144 ops; MVM 64 x 258 = 16512 MVMU-cycles / 2e9
 * = 8256 ns; floor ceil(64/2) x 258 ns = 8256 ns (equal: the MVM resource comes first);
 * ADC 65536 / 8e9 = 8192 ns; no DRAM traffic (inputs and outputs on chip). Bound 8256 ns,
 * MVM-bound; intensity at tile memory = 262144 / 6144 = 42.67 ops/B. */
static const char many_vec[] = "kir 1\ngraph many {\n  input x : f32[64, 64]\n"
                               "  weight w : f32[32, 64] = fill(0.5)\n"
                               "  %y = linear(x, w) : f32[64, 32]\n  output out = %y\n}\n";

START_TEST(linear_many_vectors)
{
	RfModel m;
	const RfOpCost *o;
	analyze(many_vec, &m);
	o = &m.ops[0];
	NEAR(o->work_ops, 262144);
	NEAR(o->t_s[RF_R_mvm], 8256e-9);
	NEAR(o->t_s[RF_R_floor], 8256e-9);
	NEAR(o->t_s[RF_R_adc], 8192e-9);
	NEAR(o->t_s[RF_R_dram], 0);
	NEAR(o->latency_s, 8256e-9);
	ck_assert_int_eq(o->binding, RF_R_mvm);
	NEAR(o->work_ops / o->demand[RF_R_tmem], 262144.0 / 6144.0);
	rf_model_free(&m);
}
END_TEST

/* A 64 x 256 layer needs 4 blocks but tiny has 2 MVMUs: half the weights are streamed,
 * 0.5 x 64 x 256 = 8192 B per inference. DRAM = 8192 B -> 8192 + 100 = 8292 ns; array writes
 * 8192 B / 1.28 GB/s = 6400 ns; the bound is DRAM. */
static const char streamed[] = "kir 1\ngraph big {\n  input x : f32[1, 64]\n"
                               "  weight w : f32[256, 64] = fill(0.5)\n"
                               "  %y = linear(x, w) : f32[1, 256]\n  output out = %y\n}\n";

START_TEST(linear_streamed)
{
	RfModel m;
	const RfOpCost *o;
	analyze(streamed, &m);
	o = &m.ops[0];
	ck_assert(!m.fits);
	ck_assert_int_eq((int)o->mvmus, 4);
	NEAR(o->resident, 0.5);
	NEAR(o->demand[RF_R_dram], 8192);
	NEAR(o->t_s[RF_R_dram], 8292e-9);
	NEAR(o->demand[RF_R_array], 8192);
	NEAR(o->t_s[RF_R_array], 6400e-9);
	ck_assert_int_eq(o->binding, RF_R_dram);
	NEAR(o->latency_s, 8292e-9);
	rf_model_free(&m);
}
END_TEST

/* Energy = sum of counted actions x ERT energies + leakage x latency bound. */
START_TEST(energy_is_priced_actions)
{
	RfModel m;
	const RfOpCost *o;
	double dyn = 0;
	int k;
	analyze(many_vec, &m);
	o = &m.ops[0];
	for (k = 0; k < HW_NACTIONS; k++)
		dyn += o->actions[k] * m.c.ert.energy_pj[k] * 1e-12;
	NEAR(o->energy_dyn_j, dyn);
	NEAR(o->energy_leak_j, m.c.leak_w * o->latency_s);
	NEAR(m.energy_j, dyn + m.c.leak_w * m.latency_s);
	ck_assert(m.energy_j > 0);
	rf_model_free(&m);
}
END_TEST

/* KAN: rows = in x (G + k + 1) = 64 x 9; active (k+2)/(G+k+1) = 5/9: gated work 5/9 of the dense
 * MACs; SBU values m x in x (G+k); SiLU 4 ops per input. */
START_TEST(kan_dense_and_gated)
{
	static const char kan[] =
	    "kir 1\ngraph k {\n  input x : f32[1, 16]\n"
	    "  weight b : f32[8, 16] = fill(0.1)\n  weight s : f32[8, 16, 8] = fill(0.1)\n"
	    "  %y = kan_linear(x, b, s) {grid_size = 5, spline_order = 3} : f32[1, 8]\n"
	    "  output out = %y\n}\n";
	RfModel m;
	const RfOpCost *o;
	analyze(kan, &m);
	o = &m.ops[0];
	ck_assert_int_eq((int)o->d.rows, 16 * 9);
	NEAR(o->macs_dense, 16.0 * 9 * 8);
	NEAR(o->macs_gated, 16.0 * 9 * 8 * 5 / 9);
	NEAR(o->d.sbu_values, 16.0 * 8);
	NEAR(o->work_ops, 2 * 16.0 * 5 * 8 + 16 * 8 + 4 * 16);
	NEAR(o->work_dense_ops - o->work_ops, 2 * 16.0 * 4 * 8);
	/* row activations depend on the data under row gating: the energy bound counts none */
	NEAR(o->actions[HW_ACT_xbar_row_activate], 0);
	rf_model_free(&m);
}
END_TEST

/* Dense attention q, k, v: [1, 2, 8, 4]: pairs 2 x 8 x 8 = 128, MACs 128 x (4 + 4) = 1024,
 * on the VFU of the analog tiny; causal keeps 36 of 64 pairs per head. */
START_TEST(attention_accounting)
{
#define ATT(causal)                                                                                \
	"kir 1\ngraph a {\n  input q : f32[1, 2, 8, 4]\n  input k : f32[1, 2, 8, 4]\n"             \
	"  input v : f32[1, 2, 8, 4]\n  %o = attention(q, k, v) {causal = " causal "} : "          \
	"f32[1, 2, 8, 4]\n  output out = %o\n}\n"
	RfModel m;
	analyze(ATT("false"), &m);
	NEAR(m.ops[0].d.dyn_macs, 1024);
	NEAR(m.ops[0].work_ops, 2 * 1024 + 6 * 128);
	NEAR(m.ops[0].demand[RF_R_vfu], 1024 + 6 * 128);
	rf_model_free(&m);
	analyze(ATT("true"), &m);
	NEAR(m.ops[0].d.dyn_macs, 2 * 36 * 8);
	rf_model_free(&m);
}
END_TEST

/* The bundled examples cost without error on every bundled architecture, with positive bounds;
 * the sequential bound is never below the overlapped one. */
START_TEST(examples_on_configs)
{
	static const char *const models[] = {"kan/digits_kan", "kan/digits_mlp", "kan/wide_kan",
	                                     "attention/dense_block", "attention/sparse_block"};
	static const char *const archs[] = {"edge-kan", "sram-cim", "isaac", "puma"};
	char p[512];
	size_t i, j;
	for (i = 0; i < NELEM(models); i++)
		for (j = 0; j < NELEM(archs); j++) {
			Diag d = {0};
			HwArch a;
			Graph *g;
			RfModel m;
			snprintf(p, sizeof p, "%s/hwmodels/configs/%s.yaml", KOLMO_SOURCE_DIR,
			         archs[j]);
			ck_assert_msg(hw_arch_load(&a, p, &d) == 0, "%s", d.msg);
			snprintf(p, sizeof p, "%s/examples/%s.kir", KOLMO_SOURCE_DIR, models[i]);
			g = ir_parse_file(p, IR_PARSE_NO_IO, &d);
			ck_assert_msg(g, "%s", d.msg);
			ck_assert_msg(rf_analyze(g, &a, &m, &d) == 0, "%s", d.msg);
			ck_assert(m.latency_s > 0 && m.energy_j > 0);
			ck_assert(m.latency_s >= m.latency_overlap_s * (1 - 1e-12));
			ck_assert(m.total.work_dense_ops >= m.total.work_ops);
			rf_model_free(&m);
			ir_free(g);
		}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("roofline bounds");
	TCase *t = tcase_create("bounds");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, ceilings);
	tcase_add_test(t, linear_one_vector);
	tcase_add_test(t, linear_many_vectors);
	tcase_add_test(t, linear_streamed);
	tcase_add_test(t, energy_is_priced_actions);
	tcase_add_test(t, kan_dense_and_gated);
	tcase_add_test(t, attention_accounting);
	tcase_add_test(t, examples_on_configs);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *r = srunner_create(suite());
	int nf;
	srunner_run_all(r, CK_NORMAL);
	nf = srunner_ntests_failed(r);
	srunner_free(r);
	return nf ? 1 : 0;
}
