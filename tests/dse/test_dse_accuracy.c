/* test_dse_accuracy.c: the DSE's accuracy objective: a point's accuracy is what `kolmo eval`
 * reports on the same architecture (checked through the CLI, an independent path), fewer ADC bits
 * cost accuracy, --fast (the integer reference) predicts as the simulator does, accuracy is a
 * maximised objective on the fronts and in the summary, and bad datasets stop the sweep before
 * any point runs (file:line:col). Few samples keep it fast. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dse.h"
#include "npy.h"
#include "testutil.h"

#define DIR_TESTS KOLMO_SOURCE_DIR "/tests/dse"
#define TRAINED   KOLMO_SOURCE_DIR "/examples/kan/trained"
#define EDGE      KOLMO_SOURCE_DIR "/hwmodels/configs/edge-kan.yaml"
/* Under the sanitizers a simulator instance costs ~0.1 s: fewer samples there. */
#if defined(__SANITIZE_ADDRESS__)
#define SAMPLES 8
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SAMPLES 8
#endif
#endif
#ifndef SAMPLES
#define SAMPLES 40
#endif

/* The trained digits KAN over 4- and 8-bit ADCs and 1- and 2-bit cells, lossy tiling (the ADC
 * rounds), SAMPLES test samples per point; a second workload, the same model on noisy devices. */
#define SWEEP_TEXT                                                                                 \
	"name: acc\n"                                                                              \
	"base: ../../hwmodels/configs/edge-kan.yaml\n"                                             \
	"parameters:\n"                                                                            \
	"  mvmu.adc_bits: [4, 8]\n"                                                                \
	"  mvmu.cell_bits: [1, 2]\n"                                                               \
	"workloads:\n"                                                                             \
	"  - model: ../../examples/kan/trained/digits_kan.kir\n"                                   \
	"    name: ideal\n"                                                                        \
	"    options: {adc_exact: false, seed: 3}\n"                                               \
	"    eval: {data: ../../examples/kan/trained/digits_test, samples: %d}\n"                  \
	"  - model: ../../examples/kan/trained/digits_kan.kir\n"                                   \
	"    name: noisy\n"                                                                        \
	"    options: {adc_exact: false, seed: 3}\n"                                               \
	"    eval: {data: ../../examples/kan/trained, samples: %d, g_sigma: 0.2}\n"                \
	"objectives: [accuracy, energy_j]\n"                                                       \
	"pareto: [[energy_j, accuracy]]\n"

/* the sweep with SAMPLES samples per workload */
static const char *
sweep_yaml(void)
{
	static char buf[2048];
	snprintf(buf, sizeof buf, SWEEP_TEXT, SAMPLES, SAMPLES);
	return buf;
}

static void
load(DseSweep *s, const char *text)
{
	Diag d = {0};
	ck_assert_msg(dse_sweep_load_mem(s, text, strlen(text), "acc.yaml", DIR_TESTS, &d) == 0,
	              "%s", d.msg);
}

/* `kolmo eval` on edge-kan with the given cell and ADC bits (an edited copy of the config). */
static double
cli_accuracy(const char *dir, int cell_bits, int adc_bits, const char *extra)
{
	char cmd[4096], arch[512], *out = NULL;
	json_error_t err;
	json_t *j;
	double acc;
	snprintf(arch, sizeof arch, "%s/arch_%d_%d.yaml", dir, cell_bits, adc_bits);
	snprintf(
	    cmd, sizeof cmd,
	    "sed -e 's/^\\(  *cell_bits:\\) 1/\\1 %d/' -e 's/^\\(  *adc_bits:\\) 8/\\1 %d/' %s "
	    "> %s && grep -q '^ *cell_bits: %d' %s && grep -q '^ *adc_bits: %d' %s",
	    cell_bits, adc_bits, EDGE, arch, cell_bits, arch, adc_bits, arch);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof cmd,
	         "%s eval %s/digits_kan.kir --arch %s --data %s/digits_test --adc-lossy --seed 3 "
	         "--limit %d --json %s",
	         KOLMO_BIN, TRAINED, arch, TRAINED, SAMPLES, extra);
	ck_assert_msg(run(cmd, &out) == 0, "%s", out);
	j = json_loads(out, 0, &err);
	ck_assert_msg(j, "%s", out);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "samples")), SAMPLES);
	acc = json_real_value(json_object_get(j, "accuracy"));
	json_decref(j);
	free(out);
	return acc;
}

/* Points in grid order: (adc 4, cell 1), (4, 2), (8, 1), (8, 2). */
START_TEST(accuracy_equals_kolmo_eval)
{
	DseSweep s;
	DsePoints p;
	DseResult r[4], fast;
	Diag d = {0};
	char dir[256];
	int i;
	load(&s, sweep_yaml());
	ck_assert(s.accuracy && s.wl[0].has_eval && s.wl[1].has_eval);
	ck_assert_uint_eq(s.wl[0].data.n, 360);
	ck_assert_int_eq(dse_points(&s, 0, &p, &d), 0);
	ck_assert_uint_eq(p.n, 4);
	make_tmpdir(dir, sizeof dir);
	for (i = 0; i < 4; i++) {
		int adc = i < 2 ? 4 : 8, cell = i % 2 ? 2 : 1;
		double want = cli_accuracy(dir, cell, adc, "");
		double noisy = cli_accuracy(dir, cell, adc, "--g-sigma 0.2");
		dse_eval(&s, &p.p[i], 0, &r[i]);
		ck_assert_msg(r[i].feasible, "%s", r[i].reason);
		ck_assert_msg(r[i].wl[0].accuracy == want, "point %d: dse %g, kolmo eval %g", i,
		              r[i].wl[0].accuracy, want);
		ck_assert_msg(r[i].wl[1].accuracy == noisy, "point %d: noisy dse %g, kolmo eval %g",
		              i, r[i].wl[1].accuracy, noisy);
		/* the objective is the worst workload */
		ck_assert(r[i].obj[DSE_O_ACCURACY] == fmin(want, noisy));
		/* --fast: the integer reference predicts exactly as the ideal simulator */
		dse_eval(&s, &p.p[i], 1, &fast);
		ck_assert(fast.feasible && fast.wl[0].accuracy == want);
	}
	/* fewer ADC bits cost accuracy (rounding and clipping of the partial sums) */
	for (i = 0; i < 2; i++)
		ck_assert_msg(r[i].wl[0].accuracy < r[i + 2].wl[0].accuracy - 0.2,
		              "4-bit %g vs 8-bit %g", r[i].wl[0].accuracy, r[i + 2].wl[0].accuracy);
	ck_assert_msg(r[2].wl[0].accuracy >= 0.85, "8-bit accuracy %g", r[2].wl[0].accuracy);
	ck_assert_uint_eq(s.wl[0].eval_samples, SAMPLES);
	{
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	dse_points_free(&p);
	dse_sweep_free(&s);
}
END_TEST

/* The CLI's outputs: the accuracy columns, maximised on the front and in the summary. */
START_TEST(accuracy_in_outputs)
{
	char dir[256], sweep[512], cmd[2048], *out = NULL;
	json_error_t err;
	json_t *sum, *root, *pts, *front;
	double best = -1;
	size_t i;
	make_tmpdir(dir, sizeof dir);
	snprintf(sweep, sizeof sweep, "%s/acc.yaml", dir);
	{
		/* the same sweep, its paths made absolute */
		char text[4096], *q;
		snprintf(text, sizeof text, "%s", sweep_yaml());
		while ((q = strstr(text, "../../"))) {
			char rest[4096];
			snprintf(rest, sizeof rest, "%s/%s", KOLMO_SOURCE_DIR, q + 6);
			snprintf(q, sizeof text - (size_t)(q - text), "%s", rest);
		}
		ck_assert_int_eq(write_text(sweep, text), 0);
	}
	snprintf(cmd, sizeof cmd, "%s dse %s -o %s/o -j 2 --no-progress", KOLMO_BIN, sweep, dir);
	ck_assert_msg(run(cmd, &out) == 0, "%s", out);
	ck_assert_msg(strstr(out, "best accuracy") && strstr(out, "pareto energy_j x accuracy"),
	              "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s/o/points.json", dir);
	root = json_load_file(cmd, 0, &err);
	ck_assert_msg(root, "%s", err.text);
	pts = json_object_get(root, "points");
	snprintf(cmd, sizeof cmd, "%s/o/summary.json", dir);
	sum = json_load_file(cmd, 0, &err);
	ck_assert_msg(sum, "%s", err.text);
	for (i = 0; i < json_array_size(pts); i++) {
		json_t *pt = json_array_get(pts, i);
		double a =
		    json_real_value(json_object_get(json_object_get(pt, "metrics"), "accuracy"));
		double wa = json_real_value(json_object_get(
		    json_object_get(json_object_get(pt, "workloads"), "ideal"), "accuracy"));
		ck_assert(a >= 0 && a <= wa);
		best = fmax(best, a);
	}
	/* the best accuracy is the largest */
	ck_assert(json_real_value(json_object_get(
	              json_object_get(json_object_get(sum, "best"), "accuracy"), "value")) == best);
	/* the most accurate point is on the energy x accuracy front, the front is sorted by
	 * energy, and along it accuracy only rises with energy */
	front = json_object_get(json_object_get(sum, "pareto"), "energy_j_accuracy");
	ck_assert(json_array_size(front) >= 1);
	{
		double pe = -1, pa = -1;
		int has_best = 0;
		for (i = 0; i < json_array_size(front); i++) {
			json_t *m = json_object_get(
			    json_array_get(pts,
			                   (size_t)json_integer_value(json_array_get(front, i))),
			    "metrics");
			double e = json_real_value(json_object_get(m, "energy_j"));
			double a = json_real_value(json_object_get(m, "accuracy"));
			ck_assert(e >= pe && a > pa);
			pe = e, pa = a;
			has_best |= a == best;
		}
		ck_assert(has_best);
	}
	snprintf(cmd, sizeof cmd, "%s/o/points.csv", dir);
	{
		Diag d = {0};
		size_t len;
		char *t = read_file(cmd, 1 << 20, &len, &d);
		ck_assert(t);
		ck_assert_msg(strstr(t, ",accuracy,") && strstr(t, ",ideal.accuracy,") &&
		                  strstr(t, ",noisy.accuracy,"),
		              "%s", t);
		free(t);
	}
	json_decref(sum);
	json_decref(root);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Bad datasets and eval entries: located errors at load time, before any point runs. */
START_TEST(bad_eval)
{
	char dir[256], text[4096], path[600];
	static const struct {
		const char *eval, *where, *msg;
	} bad[] = {
	    {"../../examples/kan/nothere", "acc.yaml:8:11:", "nothere_x.npy"},
	    {"../../examples/kan", "acc.yaml:8:11:", "no dataset here"},
	    {"{samples: 10}", "acc.yaml:8:11:", "'data' (the dataset) is required"},
	    {"{data: ../../examples/kan/trained, sample: 10}",
	     "acc.yaml:8:46:", "did you mean 'samples'"},
	    {"{data: ../../examples/kan/trained, samples: 0}", "acc.yaml:8:55:", "out of range"},
	    {"{data: ../../examples/kan/trained, g_sigma: -1}", "acc.yaml:8:55:", "[0, 10]"},
	    {"[a, b]", "acc.yaml:8:11:", "expected a dataset"},
	    {"WIDE", "acc.yaml:8:11:", "[N, 64] array for model input"},
	    {"LABEL", "acc.yaml:8:11:", "label 2 is 12: the model has 10 outputs"},
	};
	size_t k;
	make_tmpdir(dir, sizeof dir);
	{
		/* a dataset of the wrong width, and one with a label beyond the classes */
		float x[3 * 64] = {0};
		int32_t y[3] = {1, 2, 3}, y2[3] = {1, 2, 12};
		uint64_t wide[2] = {3, 5}, narrow[2] = {3, 64}, ny[1] = {3};
		Diag d = {0};
		snprintf(path, sizeof path, "%s/wide_x.npy", dir);
		ck_assert_int_eq(npy_write_file(path, NPY_F32, 2, wide, x, &d), 0);
		snprintf(path, sizeof path, "%s/wide_y.npy", dir);
		ck_assert_int_eq(npy_write_file(path, NPY_I32, 1, ny, y, &d), 0);
		snprintf(path, sizeof path, "%s/label_x.npy", dir);
		ck_assert_int_eq(npy_write_file(path, NPY_F32, 2, narrow, x, &d), 0);
		snprintf(path, sizeof path, "%s/label_y.npy", dir);
		ck_assert_int_eq(npy_write_file(path, NPY_I32, 1, ny, y2, &d), 0);
	}
	for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		DseSweep s;
		Diag d = {0};
		const char *ev = bad[k].eval;
		if (!strcmp(ev, "WIDE") || !strcmp(ev, "LABEL")) {
			snprintf(path, sizeof path, "%s/%s", dir,
			         !strcmp(ev, "WIDE") ? "wide" : "label");
			ev = path;
		}
		snprintf(text, sizeof text,
		         "base: ../../hwmodels/configs/edge-kan.yaml\n"
		         "parameters:\n"
		         "  mvmu.adc_bits: [4, 8]\n"
		         "workloads:\n"
		         "  - model: ../../examples/kan/trained/digits_kan.kir\n"
		         "    name: digits\n"
		         "    options: {adc_exact: false}\n"
		         "    eval: %s\n",
		         ev);
		ck_assert_msg(
		    dse_sweep_load_mem(&s, text, strlen(text), "acc.yaml", DIR_TESTS, &d) < 0,
		    "case %zu loaded", k);
		ck_assert_msg(strstr(d.msg, bad[k].where) && strstr(d.msg, bad[k].msg),
		              "case %zu: %s", k, d.msg);
	}
	{
		/* accuracy asked for without a dataset */
		DseSweep s;
		Diag d = {0};
		snprintf(text, sizeof text,
		         "base: ../../hwmodels/configs/edge-kan.yaml\n"
		         "parameters:\n  mvmu.adc_bits: [4, 8]\n"
		         "workloads:\n  - model: ../../examples/kan/trained/digits_kan.kir\n"
		         "objectives: [energy_j, accuracy]\n");
		ck_assert(dse_sweep_load_mem(&s, text, strlen(text), "acc.yaml", DIR_TESTS, &d) <
		          0);
		ck_assert_msg(strstr(d.msg, "acc.yaml:6:24:") &&
		                  strstr(d.msg, "accuracy needs a workload with a dataset"),
		              "%s", d.msg);
	}
	{
		/* through the CLI: exit 1, the located message, no output directory */
		char sweep[600], cmd[2048], *out = NULL;
		snprintf(sweep, sizeof sweep, "%s/bad.yaml", dir);
		snprintf(text, sizeof text,
		         "base: %s\nparameters:\n  mvmu.adc_bits: [4, 8]\nworkloads:\n"
		         "  - model: %s/digits_kan.kir\n    eval: %s/missing\n",
		         EDGE, TRAINED, dir);
		ck_assert_int_eq(write_text(sweep, text), 0);
		snprintf(cmd, sizeof cmd, "%s dse %s -o %s/out --no-progress", KOLMO_BIN, sweep,
		         dir);
		ck_assert_int_eq(run(cmd, &out), 1);
		ck_assert_msg(strstr(out, "bad.yaml:6:11: error: eval: dataset") &&
		                  strstr(out, "missing_x.npy"),
		              "%s", out);
		free(out);
		snprintf(cmd, sizeof cmd, "%s/out", dir);
		ck_assert_msg(!file_exists(cmd), "an output directory was left behind");
	}
	snprintf(text, sizeof text, "rm -rf %s", dir);
	ck_assert_int_eq(system(text), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dse_accuracy");
	TCase *t = tcase_create("accuracy");
	tcase_set_timeout(t, 240);
	tcase_add_test(t, bad_eval);
	tcase_add_test(t, accuracy_equals_kolmo_eval);
	tcase_add_test(t, accuracy_in_outputs);
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
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
