/* test_cc.c: the compiler. Compiled programs run on the simulator and must equal the integer
 * reference bit for bit (exact and emulated-lossy ADC, one core and many tiles); the quantised
 * result must stay close to the float reference; emitted code of small cases is pinned by golden
 * files; bad models get located errors; row gating and -O2 deliver what they promise. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cc.h"
#include "sim.h"
#include "testutil.h"

#define EDGE    SRC("hwmodels/configs/edge-kan.yaml")
#define SIMTEST SRC("tests/sim/sim-test.yaml")

typedef struct Run {
	uint64_t cycles;
	double mvm_energy_j;
	double max_err, max_out; /* quantised vs float reference */
	int exact;               /* sim == integer reference on every input */
	uint32_t ncores;         /* cores with code in the binary */
} Run;

static const char *const mvm_comps[] = {"xbar", "dac", "sh", "adc", "shift_add", "adder_tree"};

/* compile model for arch, run `ninputs` seeded inputs through the simulator, compare with the
 * integer reference and the float reference. */
static Run
run_model(const char *model, const char *arch_path, const CcOptions *o, int ninputs)
{
	Diag d = {0};
	HwArch arch;
	Graph *g;
	KProg *p = NULL;
	CcModel *m = NULL;
	Run r = {0, 0, 0, 0, 1, 0};
	uint32_t nin, nout, i, k, B;
	double sin, sout;
	uint64_t st = 99;
	ck_assert_msg(hw_arch_load(&arch, arch_path, &d) == 0, "%s", d.msg);
	g = ir_parse_file(model, IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	ck_assert_msg(cc_compile(g, &arch, o, &p, &m, &d) == 0, "%s", d.msg);
	r.ncores = p->ncores;
	cc_model_io(m, &nin, &sin, &nout, &sout);
	B = cc_model_batch(m);
	nin *= B;
	nout *= B;
	for (k = 0; k < (uint32_t)ninputs; k++) {
		float *x = malloc(sizeof(float) * nin), *yf = malloc(sizeof(float) * nout);
		int32_t *xq = malloc(sizeof(int32_t) * nin), *yq = malloc(sizeof(int32_t) * nout);
		int8_t *xb = malloc(nin);
		Sim *s = NULL;
		const uint8_t *out;
		size_t bytes;
		const KTensor *tin = NULL, *tout = NULL;
		for (i = 0; i < p->nio; i++)
			if (p->io[i].dir == KDIR_IN)
				tin = &p->io[i];
			else
				tout = &p->io[i];
		ck_assert_int_eq(tin->type, TY_I8);
		for (i = 0; i < nin; i++) {
			double v;
			st = st * 6364136223846793005ull + 1442695040888963407ull;
			x[i] = (float)(((double)(st >> 11) * 0x1.0p-53) * 2 - 1);
			v = x[i] / sin;
			v = v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
			v = v > 127 ? 127 : v < -128 ? -128 : v;
			xq[i] = (int32_t)v;
			xb[i] = (int8_t)v;
		}
		ck_assert(cc_eval_float(g, x, yf, &d) == 0);
		ck_assert(cc_qref(m, xq, yq, &d) == 0);
		ck_assert_msg(sim_new(&arch, p, NULL, &s, &d) == 0, "%s", d.msg);
		ck_assert_msg(sim_set_input(s, tin->name, xb, nin, &d) == 0, "%s", d.msg);
		ck_assert_msg(sim_run(s, &d) == 0, "%s", d.msg);
		out = sim_output(s, tout->name, &bytes, &d);
		ck_assert_ptr_nonnull(out);
		for (i = 0; i < nout; i++) {
			int32_t v;
			if (tout->type == TY_I16) {
				int16_t h;
				memcpy(&h, out + 2 * i, 2);
				v = h;
			} else {
				v = (int8_t)out[i];
			}
			if (v != yq[i])
				r.exact = 0;
			r.max_err = fmax(r.max_err, fabs(v * sout - yf[i]));
			r.max_out = fmax(r.max_out, fabs(yf[i]));
		}
		if (k == 0) {
			json_t *j = sim_stats_json(s, &arch), *bc;
			r.cycles = sim_stats(s)->cycles;
			bc = json_object_get(json_object_get(j, "energy_j"), "by_component");
			for (i = 0; i < sizeof mvm_comps / sizeof *mvm_comps; i++)
				r.mvm_energy_j +=
				    json_real_value(json_object_get(bc, mvm_comps[i]));
			json_decref(j);
		}
		sim_free(s);
		free(x), free(yf), free(xq), free(yq), free(xb);
	}
	cc_model_free(m);
	kprog_free(p);
	ir_free(g);
	return r;
}

static const char *const examples[] = {
    SRC("examples/kan/digits_kan.kir"),
    SRC("examples/kan/digits_mlp.kir"),
    SRC("examples/kan/wide_kan.kir"),
    SRC("tests/compiler/cases/batch_mlp.kir"),
    SRC("tests/compiler/cases/tiny_linear.kir"),
    SRC("tests/compiler/cases/tiny_kan.kir"),
};

START_TEST(sim_equals_integer_reference)
{
	CcOptions o;
	Run r;
	cc_options_default(&o);
	r = run_model(examples[_i], EDGE, &o, _i == 2 ? 2 : 6);
	ck_assert_msg(r.exact, "%s: simulator differs from the integer reference", examples[_i]);
	/* Exact ADC tiling: the only error is fixed-point rounding; stay within 6% of the output
	 * range of the float reference. */
	ck_assert_msg(r.max_err <= 0.06 * r.max_out, "%s: error %g vs outputs up to %g",
	              examples[_i], r.max_err, r.max_out);
}
END_TEST

START_TEST(lossy_adc_emulated_exactly)
{
	/* Whole 256-row crossbars need 9-bit partial sums; the 8-bit ADC rounds and clips. The
	 * integer reference emulates the ADC bit by bit and must still agree with the simulator. */
	CcOptions o;
	Run r;
	cc_options_default(&o);
	o.adc_exact = 0;
	r = run_model(examples[_i], EDGE, &o, 3);
	ck_assert_msg(r.exact, "%s: simulator differs from the ADC-emulating reference",
	              examples[_i]);
}
END_TEST

START_TEST(small_arch_many_blocks)
{
	/* 16x8 crossbars, ADC-exact rows: the tiny models spread over several MVMUs and cores. */
	CcOptions o;
	Run r;
	cc_options_default(&o);
	r = run_model(SRC("tests/compiler/cases/tiny_kan.kir"), SIMTEST, &o, 6);
	ck_assert(r.exact);
	r = run_model(SRC("tests/compiler/cases/tiny_linear.kir"), SIMTEST, &o, 6);
	ck_assert(r.exact);
	/* a batch pipelined over several cores and tiles */
	r = run_model(SRC("tests/compiler/cases/batch_mlp.kir"), SIMTEST, &o, 3);
	ck_assert(r.exact);
	o.opt_level = 0;
	r = run_model(SRC("tests/compiler/cases/batch_mlp.kir"), SIMTEST, &o, 3);
	ck_assert(r.exact);
}
END_TEST

/* Past the compiler's former fixed limit of 1024 cores and tiles: wide_kan.kir on 32 x 32
 * crossbars, two per one-core tile, needs 1152 cores of 1600 tiles. */
START_TEST(beyond_1024_cores)
{
	CcOptions o;
	Run r;
	cc_options_default(&o);
	r = run_model(examples[2], SRC("tests/compiler/many-cores.yaml"), &o, 1);
	ck_assert_uint_gt(r.ncores, 1024);
	ck_assert(r.exact);
}
END_TEST

START_TEST(row_gating_cuts_kan_mvm_energy)
{
	CcOptions o;
	Run on, off;
	cc_options_default(&o);
	on = run_model(examples[0], EDGE, &o, 1);
	o.row_gating = 0;
	off = run_model(examples[0], EDGE, &o, 1);
	ck_assert_msg(on.mvm_energy_j <= 0.65 * off.mvm_energy_j,
	              "gated MVM energy %g J vs ungated %g J: cut only %.1f%%", on.mvm_energy_j,
	              off.mvm_energy_j, 100 * (1 - on.mvm_energy_j / off.mvm_energy_j));
	ck_assert_uint_eq(on.cycles, off.cycles);
}
END_TEST

START_TEST(o2_not_slower_than_o0)
{
	CcOptions o;
	Run r0, r2;
	cc_options_default(&o);
	o.opt_level = 0;
	r0 = run_model(examples[_i], EDGE, &o, 1);
	o.opt_level = 2;
	r2 = run_model(examples[_i], EDGE, &o, 1);
	ck_assert_msg(r2.cycles <= r0.cycles, "%s: -O2 %llu cycles, -O0 %llu", examples[_i],
	              (unsigned long long)r2.cycles, (unsigned long long)r0.cycles);
	ck_assert(r0.exact && r2.exact);
}
END_TEST

START_TEST(golden_code)
{
	static const char *const cases[] = {"tiny_linear", "tiny_kan"};
	char cmd[1024], *out = NULL, *want;
	Diag d = {0};
	snprintf(cmd, sizeof cmd, "%s compile %s/tests/compiler/cases/%s.kir --arch %s --emit asm",
	         KOLMO_BIN, KOLMO_SOURCE_DIR, cases[_i], SIMTEST);
	ck_assert_int_eq(run(cmd, &out), 0);
	snprintf(cmd, sizeof cmd, "%s/tests/compiler/golden/%s.s", KOLMO_SOURCE_DIR, cases[_i]);
	want = read_file(cmd, 1 << 20, NULL, &d);
	ck_assert_msg(want != NULL, "%s", d.msg);
	ck_assert_msg(strcmp(out, want) == 0,
	              "emitted code of %s changed; if intended, regenerate %s with `kolmo compile "
	              "... --emit asm`",
	              cases[_i], cmd);
	free(out);
	free(want);
}
END_TEST

START_TEST(deterministic_binary)
{
	char dir[64], cmd[2048], a[128], b[128];
	size_t la, lb;
	char *ba, *bb;
	Diag d = {0};
	make_tmpdir(dir, sizeof dir);
	snprintf(a, sizeof a, "%s/a.kelf", dir);
	snprintf(b, sizeof b, "%s/b.kelf", dir);
	snprintf(cmd, sizeof cmd, "%s compile %s --arch %s -o %s && %s compile %s --arch %s -o %s",
	         KOLMO_BIN, examples[0], EDGE, a, KOLMO_BIN, examples[0], EDGE, b);
	ck_assert_int_eq(run(cmd, NULL), 0);
	ba = read_file(a, 1 << 24, &la, &d);
	bb = read_file(b, 1 << 24, &lb, &d);
	ck_assert(ba && bb);
	ck_assert_uint_eq(la, lb);
	ck_assert(memcmp(ba, bb, la) == 0);
	free(ba);
	free(bb);
}
END_TEST

static const struct {
	const char *file, *arch, *where, *msg;
} bad[] = {
    {"tests/compiler/cases/bad_op.kir", SIMTEST, ":6:8: error:", "op 'softmax' is not supported"},
    {"tests/compiler/cases/bad_branch.kir", SIMTEST, ":6:8: error:", "chain of layers"},
    {"tests/compiler/cases/bad_batch.kir", SIMTEST, ":3:9: error:", "must be [F] or [B, F]"},
    {"tests/compiler/cases/bad_relu_first.kir", SIMTEST, ":5:8: error:", "must follow a linear"},
    {"examples/kan/wide_kan.kir", SIMTEST, ":9:8: error:", "does not fit on 'sim-test'"},
    {"examples/kan/too_big_kan.kir", EDGE, ":8:8: error:", "100 blocks short"},
    {"tests/compiler/cases/bad_imem.kir", EDGE, ":8:8: error:", "use a smaller batch"},
    {"tests/compiler/cases/missing.kir", SIMTEST, "missing.kir", "cannot open"},
};

START_TEST(bad_models)
{
	char dir[64], cmd[2048], outp[128], *out = NULL;
	make_tmpdir(dir, sizeof dir);
	snprintf(outp, sizeof outp, "%s/m.kelf", dir);
	snprintf(cmd, sizeof cmd, "%s compile %s/%s --arch %s -o %s", KOLMO_BIN, KOLMO_SOURCE_DIR,
	         bad[_i].file, bad[_i].arch, outp);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, bad[_i].where) && strstr(out, bad[_i].msg), "%s: got '%s'",
	              bad[_i].file, out);
	ck_assert_msg(!file_exists(outp), "a failed compile left %s", outp);
	free(out);
}
END_TEST

/* A pykan-layout layer compiles to the same binary as its efficient-kan twin, converted by hand
 * (tests/compiler/cases/pykan_twin.kir). */
START_TEST(pykan_layout_converts)
{
	char dir[64], cmd[4096], a[128], b[128];
	size_t la, lb;
	char *ba, *bb;
	Diag d = {0};
	make_tmpdir(dir, sizeof dir);
	snprintf(a, sizeof a, "%s/a.kelf", dir);
	snprintf(b, sizeof b, "%s/b.kelf", dir);
	snprintf(cmd, sizeof cmd, "%s compile %s --arch %s -o %s && %s compile %s --arch %s -o %s",
	         KOLMO_BIN, SRC("tests/compiler/cases/pykan_tiny.kir"), EDGE, a, KOLMO_BIN,
	         SRC("tests/compiler/cases/pykan_twin.kir"), EDGE, b);
	ck_assert_int_eq(run(cmd, NULL), 0);
	ba = read_file(a, 1 << 24, &la, &d);
	bb = read_file(b, 1 << 24, &lb, &d);
	ck_assert(ba && bb);
	ck_assert_uint_eq(la, lb);
	ck_assert(memcmp(ba, bb, la) == 0);
	free(ba);
	free(bb);
}
END_TEST

/* -d prints the canonical graph in .kir syntax; fed back, it compiles to the same binary. */
START_TEST(dump_feeds_back)
{
	char dir[64], cmd[4096], a[128], b[128], dump[128], kir[128];
	size_t la, lb;
	char *ba, *bb;
	Diag d = {0};
	make_tmpdir(dir, sizeof dir);
	snprintf(a, sizeof a, "%s/a.kelf", dir);
	snprintf(b, sizeof b, "%s/b.kelf", dir);
	snprintf(dump, sizeof dump, "%s/dump.txt", dir);
	snprintf(kir, sizeof kir, "%s/canon.kir", dir);
	snprintf(
	    cmd, sizeof cmd,
	    "%s compile %s --arch %s -o %s -d 2>%s && sed -n '/after canon/,/^}/p' %s | sed 1d "
	    ">%s && %s compile %s --arch %s -o %s",
	    KOLMO_BIN, SRC("tests/compiler/cases/pykan_tiny.kir"), EDGE, a, dump, dump, kir,
	    KOLMO_BIN, kir, EDGE, b);
	ck_assert_int_eq(run(cmd, NULL), 0);
	ba = read_file(a, 1 << 24, &la, &d);
	bb = read_file(b, 1 << 24, &lb, &d);
	ck_assert(ba && bb);
	ck_assert_uint_eq(la, lb);
	ck_assert(memcmp(ba, bb, la) == 0);
	free(ba);
	free(bb);
}
END_TEST

START_TEST(run_command_reports)
{
	char cmd[1024], *out = NULL;
	snprintf(cmd, sizeof cmd, "%s run %s --arch %s", KOLMO_BIN, examples[0], EDGE);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "latency"));
	ck_assert_ptr_nonnull(strstr(out, "bit-exact with the integer reference"));
	ck_assert_ptr_nonnull(strstr(out, "layer"));
	free(out);
}
END_TEST

/* Two test cases: "compiler" (the small models) and "compiler_large" (wide_kan.kir, a 512 x 512
 * KAN layer, on edge-kan and on 1152 cores, and the two capacity errors that compile large
 * models), so that a slow checker
 * (tools/valgrind.sh) can run the first alone with CK_RUN_CASE=compiler. */
int
main(void)
{
	enum { WIDE = 2 }; /* examples[WIDE] is wide_kan.kir */
	Suite *s = suite_create("compiler");
	TCase *t = tcase_create("compiler"), *large = tcase_create("compiler_large");
	SRunner *sr;
	int nf;
	tcase_set_timeout(t, 300);
	tcase_set_timeout(large, 300);
	tcase_add_loop_test(t, sim_equals_integer_reference, 0, WIDE);
	tcase_add_loop_test(t, sim_equals_integer_reference, WIDE + 1, 6);
	tcase_add_loop_test(large, sim_equals_integer_reference, WIDE, WIDE + 1);
	tcase_add_loop_test(t, lossy_adc_emulated_exactly, 0, WIDE);
	tcase_add_loop_test(t, lossy_adc_emulated_exactly, WIDE + 1, 6);
	tcase_add_loop_test(large, lossy_adc_emulated_exactly, WIDE, WIDE + 1);
	tcase_add_test(t, small_arch_many_blocks);
	tcase_add_test(large, beyond_1024_cores);
	tcase_add_test(t, row_gating_cuts_kan_mvm_energy);
	tcase_add_loop_test(t, o2_not_slower_than_o0, 0, WIDE);
	tcase_add_loop_test(t, o2_not_slower_than_o0, WIDE + 1, 4);
	tcase_add_loop_test(large, o2_not_slower_than_o0, WIDE, WIDE + 1);
	tcase_add_loop_test(t, golden_code, 0, 2);
	tcase_add_test(t, deterministic_binary);
	/* bad[4] and bad[5] compile wide_kan.kir and too_big_kan.kir */
	tcase_add_loop_test(t, bad_models, 0, 4);
	tcase_add_loop_test(large, bad_models, 4, 6);
	tcase_add_loop_test(t, bad_models, 6, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(t, run_command_reports);
	tcase_add_test(t, pykan_layout_converts);
	tcase_add_test(t, dump_feeds_back);
	suite_add_tcase(s, t);
	suite_add_tcase(s, large);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
