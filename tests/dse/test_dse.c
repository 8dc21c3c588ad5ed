/* test_dse.c: the dse library and `kolmo dse`: sweep parsing and bad inputs (file:line:col),
 * point generation (grid order and counts, random bounds, Latin hypercube stratification,
 * determinism by seed), Pareto fronts on hand-made points and against brute force, journal
 * records and torn lines, and real sweeps: one thread vs two identical, kill -9 then resume
 * identical to an uninterrupted run. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dse.h"
#include "testutil.h"

#define DIR_TESTS KOLMO_SOURCE_DIR "/tests/dse"
#define SMALL     DIR_TESTS "/small_sweep.yaml"

/* A sweep text with the usual base and workload, the parameters given. */
static const char *const head = "base: ../../hwmodels/configs/edge-kan.yaml\n"
                                "workloads:\n"
                                "  - model: ../../examples/kan/digits_kan.kir\n";

static int
load_text(DseSweep *s, const char *text, Diag *d)
{
	return dse_sweep_load_mem(s, text, strlen(text), "t.yaml", DIR_TESTS, d);
}

static void
load_ok(DseSweep *s, const char *params)
{
	char buf[4096];
	Diag d = {0};
	snprintf(buf, sizeof buf, "%s%s", head, params);
	ck_assert_msg(load_text(s, buf, &d) == 0, "%s", d.msg);
}

/* ---- parsing ---- */

START_TEST(parse_example)
{
	DseSweep s;
	Diag d = {0};
	int i;
	ck_assert_msg(dse_sweep_load(&s, KOLMO_SOURCE_DIR "/examples/dse/digits_sweep.yaml", &d) ==
	                  0,
	              "%s", d.msg);
	ck_assert_str_eq(s.name, "digits-sweep");
	ck_assert_int_eq(s.method, DSE_LHS);
	ck_assert_uint_eq(s.npoints_req, 200);
	ck_assert_int_eq(s.nparams, 10);
	for (i = 0; i < s.nparams; i++) {
		if (!strcmp(s.params[i].name, "mvmu.adc_bits")) {
			ck_assert_int_eq(s.params[i].nlevels, 7); /* 4..10 step 1 */
			ck_assert_str_eq(s.params[i].levels[0], "4");
			ck_assert_str_eq(s.params[i].levels[6], "10");
		}
		if (!strcmp(s.params[i].name, "mvmu.adcs_per_xbar")) {
			ck_assert_int_eq(s.params[i].nlevels, 5); /* 1 2 4 8 16 */
			ck_assert_str_eq(s.params[i].levels[4], "16");
		}
	}
	/* chip.tiles is swept without a mesh: two derived columns. */
	ck_assert_int_eq(s.ncols, 12);
	ck_assert_int_ge(s.mesh_rows_col, 0);
	ck_assert_int_eq(s.nwl, 1);
	ck_assert_str_eq(s.wl[0].name, "digits");
	ck_assert_int_eq(s.npareto, 3);
	dse_sweep_free(&s);
}
END_TEST

START_TEST(parse_group_and_options)
{
	DseSweep s;
	Diag d = {0};
	ck_assert_msg(dse_sweep_load(&s, SMALL, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(s.params[0].kind, DSE_P_GROUP);
	ck_assert_int_eq(s.params[0].nkeys, 3);
	ck_assert_int_eq(s.params[0].nlevels, 2);
	ck_assert_str_eq(s.params[0].levels[3], "sram");
	ck_assert_int_eq(s.ncols, 8); /* 3 + adc_bits + mvmus + tiles + 2 mesh */
	dse_sweep_free(&s);
	load_ok(&s, "    options: {opt_level: 0, row_gating: false, adc_exact: false, seed: 3,\n"
	            "              input_range: [-2, 2], calib_samples: 64}\n"
	            "parameters:\n  mvmu.adc_bits: 8\n");
	ck_assert_int_eq(s.wl[0].opt.opt_level, 0);
	ck_assert_int_eq(s.wl[0].opt.row_gating, 0);
	ck_assert_int_eq(s.wl[0].opt.adc_exact, 0);
	ck_assert_uint_eq(s.wl[0].opt.nsynth, 64);
	ck_assert_double_eq(s.wl[0].opt.input_lo, -2);
	dse_sweep_free(&s);
}
END_TEST

/* Bad sweeps: the text after the head, the expected "line:col" and a message fragment. */
static const struct {
	const char *text, *where, *msg;
} bad[] = {
    {"parameters:\n  mvmu.adc_bit: [4, 8]\n", "t.yaml:5:3:", "did you mean 'mvmu.adc_bits'"},
    {"parameters:\n  adc_bits: [4, 8]\n", "t.yaml:5:3:", "did you mean 'mvmu.adc_bits'"},
    {"parameters:\n  mvmu.rows: []\n", "t.yaml:5:14:", "empty list"},
    {"parameters:\n  mvmu.rows: {from: 512, to: 64, step: 64}\n", "t.yaml:5:14:", "empty range"},
    {"parameters:\n  mvmu.rows: {from: 64, to: 512, step: 0}\n",
     "t.yaml:5:40:", "step must be positive"},
    {"parameters:\n  mvmu.rows: {from: 64, to: 512, times: 1}\n",
     "t.yaml:5:41:", "times must be above 1"},
    {"parameters:\n  mvmu.rows: {from: 64, upto: 512}\n", "t.yaml:5:25:", "did you mean 'to'"},
    {"parameters:\n  mvmu.adc_bits: [4, 40]\n", "t.yaml:5:22:", "out of range"},
    {"parameters:\n  mvmu.tech: [reram, flash]\n", "t.yaml:5:22:", "unknown value 'flash'"},
    {"parameters:\n  tile.mem_bytes: [64KB]\n", "t.yaml:5:20:", "byte count"},
    {"parameters:\n  clock.core_ghz: {from: 0.5, to: 2}\n",
     "t.yaml:5:3:", "cannot be enumerated by a grid"},
    {"parameters:\n  mvmu.rows: [64]\nobjectives: [latency, energy_j]\n",
     "t.yaml:6:14:", "unknown objective 'latency' (did you mean 'latency_s'?)"},
    {"parameters:\n  mvmu.rows: [64]\npareto: [[energy_j, accuracy]]\n",
     "t.yaml:6:10:", "accuracy needs a workload with a dataset"},
    {"parameters:\n  mvmu.rows: [64]\nparamters: 1\n", "t.yaml:6:1:", "did you mean 'parameters'"},
    {"parameters: {}\n", "t.yaml:4:13:", "nothing to vary"},
    {"parameters:\n  mvmu.adc_bits: [8]\n  g:\n    - {mvmu.adc_bits: 4}\n",
     "t.yaml:6:3:", "set by two parameters"},
    {"parameters:\n  g:\n    - {mvmu.tech: sram}\n    - {mvmu.adc_bits: 0}\n",
     "t.yaml:7:8:", "not set by the first choice"},
    {"parameters:\n  mvmu.rows: [64\n", "t.yaml:6:1:", "malformed YAML"},
    {"sampling: {method: lhs}\nparameters:\n  mvmu.rows: [64]\n",
     "t.yaml:4:11:", "lhs needs 'points'"},
    {"sampling: {method: sobol, points: 4}\nparameters:\n  mvmu.rows: [64]\n",
     "t.yaml:4:20:", "expected grid, random or lhs"},
    {"parameters:\n  mvmu.rows: [64]\n  name: [x]\n", "t.yaml:6:3:", "not a hardware parameter"},
};

START_TEST(bad_sweep)
{
	char buf[4096];
	DseSweep s;
	Diag d = {0};
	snprintf(buf, sizeof buf, "%s%s", head, bad[_i].text);
	ck_assert_msg(load_text(&s, buf, &d) != 0, "accepted: %s", bad[_i].text);
	ck_assert_msg(strncmp(d.msg, bad[_i].where, strlen(bad[_i].where)) == 0,
	              "expected at %s, got: %s", bad[_i].where, d.msg);
	ck_assert_msg(strstr(d.msg, bad[_i].msg), "expected '%s' in: %s", bad[_i].msg, d.msg);
	ck_assert_msg(strstr(d.msg, "\n") && strstr(d.msg, "^"), "no caret: %s", d.msg);
}
END_TEST

START_TEST(bad_workloads)
{
	char dir[256], path[512], buf[4096];
	DseSweep s;
	Diag d = {0};
	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/broken.kir", dir);
	ck_assert_int_eq(write_text(path, "kir 1\ngraph g {\n  input x : f32[1, 4\n}\n"), 0);
	/* A model that does not parse: its own file:line:col. */
	snprintf(buf, sizeof buf,
	         "base: ../../hwmodels/configs/edge-kan.yaml\nworkloads:\n  - model: %s\n"
	         "parameters:\n  mvmu.rows: [64]\n",
	         path);
	ck_assert_int_ne(load_text(&s, buf, &d), 0);
	ck_assert_msg(strstr(d.msg, "broken.kir:4:1:") && strstr(d.msg, "error:"), "%s", d.msg);
	/* A model that does not exist: the sweep's line. */
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(load_text(&s,
	                           "base: ../../hwmodels/configs/edge-kan.yaml\nworkloads:\n"
	                           "  - model: nowhere.kir\nparameters:\n  mvmu.rows: [64]\n",
	                           &d),
	                 0);
	ck_assert_msg(!strncmp(d.msg, "t.yaml:3:12:", 12) && strstr(d.msg, "nowhere.kir"), "%s",
	              d.msg);
	/* A bad compile option. */
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(load_text(&s,
	                           "base: ../../hwmodels/configs/edge-kan.yaml\nworkloads:\n"
	                           "  - model: ../../examples/kan/digits_kan.kir\n"
	                           "    options: {row_gate: false}\n"
	                           "parameters:\n  mvmu.rows: [64]\n",
	                           &d),
	                 0);
	ck_assert_msg(!strncmp(d.msg, "t.yaml:4:15:", 12) && strstr(d.msg, "row_gating"), "%s",
	              d.msg);
	/* A base that does not load. */
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(load_text(&s,
	                           "base: nope.yaml\nworkloads:\n"
	                           "  - model: ../../examples/kan/digits_kan.kir\n"
	                           "parameters:\n  mvmu.rows: [64]\n",
	                           &d),
	                 0);
	ck_assert_msg(!strncmp(d.msg, "t.yaml:1:7:", 11), "%s", d.msg);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* ---- points ---- */

static int
col_of(const DseSweep *s, const char *key)
{
	int j;
	for (j = 0; j < s->ncols; j++)
		if (!strcmp(hw_params[s->cols[j]].path, key))
			return j;
	return -1;
}

START_TEST(grid_points)
{
	DseSweep s;
	DsePoints p, q;
	Diag d = {0};
	int a, b, c;
	load_ok(&s, "parameters:\n  mvmu.adc_bits: [6, 7, 8]\n  core.mvmus: {from: 2, to: 6, "
	            "step: 2}\n  chip.tiles: {from: 1, to: 16, times: 4}\n");
	ck_assert_int_eq(dse_points(&s, 0, &p, &d), 0);
	ck_assert_uint_eq(p.n, 3 * 3 * 3);
	a = col_of(&s, "mvmu.adc_bits");
	b = col_of(&s, "core.mvmus");
	c = col_of(&s, "chip.tiles");
	/* Last parameter fastest. */
	ck_assert_str_eq(p.p[0].val[a], "6");
	ck_assert_str_eq(p.p[0].val[c], "1");
	ck_assert_str_eq(p.p[1].val[c], "4");
	ck_assert_str_eq(p.p[2].val[c], "16");
	ck_assert_str_eq(p.p[3].val[b], "4");
	ck_assert_str_eq(p.p[26].val[a], "8");
	ck_assert_str_eq(p.p[26].val[b], "6");
	/* Auto mesh: 16 tiles -> 4 x 4; 4 -> 2 x 2. */
	ck_assert_str_eq(p.p[2].val[col_of(&s, "chip.mesh_rows")], "4");
	ck_assert_str_eq(p.p[1].val[col_of(&s, "chip.mesh_cols")], "2");
	/* Hashes: distinct points differ; the mode is part of the hash. */
	ck_assert(p.p[0].hash != p.p[1].hash);
	ck_assert_int_eq(dse_points(&s, 1, &q, &d), 0);
	ck_assert(p.p[0].hash != q.p[0].hash);
	dse_points_free(&p);
	dse_points_free(&q);
	dse_sweep_free(&s);
}
END_TEST

START_TEST(random_points)
{
	DseSweep s, s2;
	DsePoints p, q, r;
	Diag d = {0};
	uint32_t i;
	int differ = 0, ca, cb, seen[8] = {0};
	load_ok(&s, "sampling: {method: random, points: 500, seed: 11}\nparameters:\n"
	            "  clock.core_ghz: {from: 0.5, to: 2.0}\n  core.mvmus: {from: 1, to: 8}\n");
	load_ok(&s2, "sampling: {method: random, points: 500, seed: 12}\nparameters:\n"
	             "  clock.core_ghz: {from: 0.5, to: 2.0}\n  core.mvmus: {from: 1, to: 8}\n");
	ck_assert_int_eq(dse_points(&s, 0, &p, &d), 0);
	ck_assert_int_eq(dse_points(&s, 0, &q, &d), 0);
	ck_assert_int_eq(dse_points(&s2, 0, &r, &d), 0);
	ck_assert_uint_eq(p.n, 500);
	ca = col_of(&s, "clock.core_ghz");
	cb = col_of(&s, "core.mvmus");
	for (i = 0; i < p.n; i++) {
		double v = strtod(p.p[i].val[ca], NULL);
		long m = strtol(p.p[i].val[cb], NULL, 10);
		ck_assert(v >= 0.5 && v <= 2.0);
		ck_assert(m >= 1 && m <= 8);
		seen[m - 1] = 1;
		ck_assert_str_eq(p.p[i].val[ca], q.p[i].val[ca]); /* same seed, same points */
		ck_assert_uint_eq(p.p[i].hash, q.p[i].hash);
		differ += strcmp(p.p[i].val[ca], r.p[i].val[ca]) != 0;
	}
	for (i = 0; i < 8; i++)
		ck_assert_msg(seen[i], "integer value %u never drawn", i + 1);
	ck_assert_int_gt(differ, 490); /* another seed, other points */
	dse_points_free(&p);
	dse_points_free(&q);
	dse_points_free(&r);
	dse_sweep_free(&s);
	dse_sweep_free(&s2);
}
END_TEST

START_TEST(lhs_points)
{
	enum { N = 64 };
	DseSweep s;
	DsePoints p, q;
	Diag d = {0};
	uint32_t i;
	int strata[N] = {0}, lv[4] = {0}, ca, cb;
	load_ok(&s, "sampling: {method: lhs, points: 64, seed: 5}\nparameters:\n"
	            "  clock.core_ghz: {from: 0.5, to: 2.5}\n  mvmu.adc_bits: [5, 6, 7, 8]\n");
	ck_assert_int_eq(dse_points(&s, 0, &p, &d), 0);
	ck_assert_int_eq(dse_points(&s, 0, &q, &d), 0);
	ck_assert_uint_eq(p.n, N);
	ca = col_of(&s, "clock.core_ghz");
	cb = col_of(&s, "mvmu.adc_bits");
	for (i = 0; i < N; i++) {
		double v = strtod(p.p[i].val[ca], NULL);
		int k = (int)floor((v - 0.5) / 2.0 * N);
		ck_assert(k >= 0 && k < N);
		strata[k]++;
		lv[strtol(p.p[i].val[cb], NULL, 10) - 5]++;
		ck_assert_str_eq(p.p[i].val[ca], q.p[i].val[ca]);
	}
	/* One point per stratum of the continuous dimension; 4 levels taken N/4 times each. */
	for (i = 0; i < N; i++)
		ck_assert_msg(strata[i] == 1, "stratum %u holds %d points", i, strata[i]);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(lv[i], N / 4);
	dse_points_free(&p);
	dse_points_free(&q);
	dse_sweep_free(&s);
}
END_TEST

START_TEST(grid_too_large)
{
	DseSweep s;
	DsePoints p;
	Diag d = {0};
	load_ok(&s, "parameters:\n  mvmu.rows: {from: 2, to: 4096, step: 1}\n"
	            "  mvmu.cols: {from: 2, to: 4096, step: 1}\n");
	ck_assert_int_ne(dse_points(&s, 0, &p, &d), 0);
	ck_assert_msg(strstr(d.msg, "use random or lhs"), "%s", d.msg);
	dse_sweep_free(&s);
}
END_TEST

/* ---- Pareto ---- */

START_TEST(pareto_by_hand)
{
	/* Points (x, y), minimising both. By hand:
	 *  0 (1, 9)  front: smallest x
	 *  1 (2, 5)  front
	 *  2 (2, 6)  dominated by 1 (same x, larger y)
	 *  3 (3, 5)  dominated by 1 (larger x, same y)
	 *  4 (4, 2)  front
	 *  5 (4, 2)  front: a copy of 4 (neither dominates the other)
	 *  6 (5, 1)  front
	 *  7 (6, 1)  dominated by 6
	 *  8 (0, 0)  infeasible: ignored
	 *  9 (NaN, 0) never on the front
	 * 10 (9, 9)  dominated by everything */
	const double x[] = {1, 2, 2, 3, 4, 4, 5, 6, 0, NAN, 9};
	const double y[] = {9, 5, 6, 5, 2, 2, 1, 1, 0, 0, 9};
	const unsigned char ok[] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1};
	const unsigned char want[] = {1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0};
	unsigned char front[11];
	uint32_t i, n = dse_pareto2(x, y, ok, 11, front);
	ck_assert_uint_eq(n, 5);
	for (i = 0; i < 11; i++)
		ck_assert_msg(front[i] == want[i], "point %u: %d", i, front[i]);
	ck_assert(dse_dominates(2, 5, 2, 6));
	ck_assert(dse_dominates(2, 5, 3, 5));
	ck_assert(!dse_dominates(4, 2, 4, 2));
	ck_assert(!dse_dominates(1, 9, 2, 5));
}
END_TEST

START_TEST(pareto_vs_brute_force)
{
	enum { N = 400 };
	double x[N], y[N];
	unsigned char front[N];
	uint64_t z = 99;
	uint32_t i, j;
	for (i = 0; i < N; i++) {
		z = z * 6364136223846793005ull + 1442695040888963407ull;
		x[i] = (double)((z >> 33) % 50); /* coarse values: many ties */
		z = z * 6364136223846793005ull + 1442695040888963407ull;
		y[i] = (double)((z >> 33) % 50);
	}
	dse_pareto2(x, y, NULL, N, front);
	for (i = 0; i < N; i++) {
		int dom = 0;
		for (j = 0; j < N; j++)
			dom |= dse_dominates(x[j], y[j], x[i], y[i]);
		ck_assert_msg(front[i] == !dom, "point %u (%g, %g)", i, x[i], y[i]);
	}
}
END_TEST

/* ---- journal ---- */

START_TEST(journal_roundtrip_and_torn_line)
{
	DseSweep s;
	DsePoints p;
	DseResult r, back, res[4];
	DseJournal j;
	Diag d = {0};
	char dir[256], path[512], *line;
	unsigned char done[4] = {0};
	uint32_t nd;
	FILE *f;
	int k;
	load_ok(&s, "parameters:\n  mvmu.adc_bits: [5, 6, 7, 8]\n");
	ck_assert_int_eq(dse_points(&s, 0, &p, &d), 0);
	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/journal.jsonl", dir);
	f = fopen(path, "w");
	for (k = 0; k < 3; k++) {
		dse_eval(&s, &p.p[k], 1, &r);
		line = dse_result_json(&s, &p.p[k], &r);
		ck_assert_int_eq(dse_result_parse(line, strlen(line), &back), 0);
		ck_assert_uint_eq(back.index, r.index);
		ck_assert_uint_eq(back.hash, r.hash);
		ck_assert_int_eq(back.feasible, r.feasible);
		if (r.feasible) /* bit for bit */
			ck_assert(memcmp(&back.obj[DSE_O_ENERGY], &r.obj[DSE_O_ENERGY],
			                 sizeof(double)) == 0);
		fputs(line, f);
		if (k == 2) {
			/* A torn copy of the last record (kill during write). */
			fwrite(line, 1, strlen(line) / 2, f);
		}
		free(line);
	}
	fclose(f);
	ck_assert_int_eq(dse_journal_open(&j, dir, &p, done, res, &nd, &d), 0);
	ck_assert_uint_eq(nd, 3);
	ck_assert(done[0] && done[1] && done[2] && !done[3]);
	dse_journal_close(&j);
	{
		char *t;
		size_t len;
		Diag d2 = {0};
		t = read_file(path, 1 << 20, &len, &d2);
		ck_assert(t && len > 0 && t[len - 1] == '\n'); /* the torn line is gone */
		ck_assert_ptr_null(strstr(t, "}{"));
		free(t);
	}
	/* The journal of another sweep is refused. */
	{
		DseSweep s2;
		DsePoints p2;
		unsigned char done2[4] = {0};
		load_ok(&s2, "parameters:\n  mvmu.adc_bits: [5, 6, 7, 9]\n  core.mvmus: [3]\n");
		ck_assert_int_eq(dse_points(&s2, 0, &p2, &d), 0);
		ck_assert_int_ne(dse_journal_open(&j, dir, &p2, done2, res, &nd, &d), 0);
		ck_assert_msg(strstr(d.msg, "different sweep"), "%s", d.msg);
		dse_points_free(&p2);
		dse_sweep_free(&s2);
	}
	unlink(path);
	rmdir(dir);
	dse_points_free(&p);
	dse_sweep_free(&s);
}
END_TEST

/* ---- real sweeps through the CLI ---- */

static const char *const outputs[] = {"points.csv",
                                      "points.json",
                                      "summary.json",
                                      "pareto_latency_s_energy_j.csv",
                                      "pareto_energy_j_area_mm2.csv",
                                      NULL};

static void
same_outputs(const char *a, const char *b)
{
	int k;
	for (k = 0; outputs[k]; k++) {
		char pa[512], pb[512], *ta, *tb;
		size_t la, lb;
		Diag d = {0};
		snprintf(pa, sizeof pa, "%s/%s", a, outputs[k]);
		snprintf(pb, sizeof pb, "%s/%s", b, outputs[k]);
		ta = read_file(pa, 1 << 24, &la, &d);
		tb = read_file(pb, 1 << 24, &lb, &d);
		ck_assert_msg(ta && tb, "%s", d.msg);
		ck_assert_msg(la == lb && memcmp(ta, tb, la) == 0, "%s differs between %s and %s",
		              outputs[k], a, b);
		free(ta);
		free(tb);
	}
}

static int
count_lines(const char *path, int *distinct, int n)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	int c = 0, i;
	for (i = 0; i < n; i++)
		distinct[i] = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		if (!strchr(line, '\n'))
			break;
		c++;
		i = atoi(line + 5); /* {"i":N,... */
		if (i >= 0 && i < n)
			distinct[i]++;
	}
	fclose(f);
	return c;
}

START_TEST(threads_equal_one)
{
	char d1[256], d2[256], cmd[2048], *out = NULL;
	int st, seen[16], i;
	make_tmpdir(d1, sizeof d1);
	make_tmpdir(d2, sizeof d2);
	snprintf(cmd, sizeof cmd, "%s dse %s -o %s/o --no-progress", KOLMO_BIN, SMALL, d1);
	st = run(cmd, &out);
	ck_assert_msg(st == 0, "%s", out);
	ck_assert_msg(strstr(out, "16 points, 6 feasible, 10 infeasible"), "%s", out);
	/* No workload has a dataset: no accuracy anywhere. */
	ck_assert_msg(!strstr(out, "accuracy"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s dse %s -o %s/o -j 2 --no-progress", KOLMO_BIN, SMALL, d2);
	st = run(cmd, &out);
	ck_assert_msg(st == 0, "%s", out);
	free(out);
	strcat(d1, "/o");
	strcat(d2, "/o");
	same_outputs(d1, d2);
	snprintf(cmd, sizeof cmd, "%s/journal.jsonl", d2);
	ck_assert_int_eq(count_lines(cmd, seen, 16), 16);
	for (i = 0; i < 16; i++)
		ck_assert_int_eq(seen[i], 1);
	/* The infeasible reasons name the validator and the compiler. */
	snprintf(cmd, sizeof cmd, "%s/points.csv", d1);
	{
		Diag d = {0};
		size_t len;
		char *t = read_file(cmd, 1 << 20, &len, &d);
		ck_assert(t);
		ck_assert_msg(strstr(t, "architecture: an analog (reram) array needs an ADC "
		                        "resolution"),
		              "%s", t);
		ck_assert_msg(strstr(t, "on a digital (sram) array, which has no ADC"), "%s", t);
		ck_assert_msg(strstr(t, "digits: compile:") && strstr(t, "does not fit"), "%s", t);
		ck_assert_msg(!strstr(t, "accuracy"), "%s", t);
		free(t);
	}
	/* Run again: everything comes from the journal, same bytes. */
	snprintf(cmd, sizeof cmd, "%s dse %s -o %s --no-progress --json", KOLMO_BIN, SMALL, d1);
	st = run(cmd, &out);
	ck_assert_msg(st == 0 && strstr(out, "\"from_journal\": 16"), "%s", out);
	free(out);
	same_outputs(d1, d2);
	/* The same OUT with --fast is another sweep: refused, nothing lost. */
	snprintf(cmd, sizeof cmd, "%s dse %s -o %s --fast --no-progress", KOLMO_BIN, SMALL, d1);
	st = run(cmd, &out);
	ck_assert_msg(st != 0 && strstr(out, "different sweep"), "%s", out);
	free(out);
	same_outputs(d1, d2);
	snprintf(cmd, sizeof cmd, "rm -rf %s %s", d1, d2);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Start kolmo dse in the background, kill -9 it once the journal holds at least `after` lines. */
static void
run_and_kill(const char *out_dir, int after)
{
	char journal[512], delay[] = "120";
	pid_t pid;
	int st, tries = 0, seen[16];
	snprintf(journal, sizeof journal, "%s/journal.jsonl", out_dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(KOLMO_BIN, "kolmo", "dse", SMALL, "-o", out_dir, "--delay-ms", delay,
		      "--no-progress", (char *)NULL);
		_exit(127);
	}
	while (count_lines(journal, seen, 16) < after && tries++ < 3000) {
		struct timespec t = {0, 2000000};
		nanosleep(&t, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	ck_assert_msg(WIFSIGNALED(st), "kolmo dse finished before the kill");
}

START_TEST(kill_and_resume)
{
	char ref[256], dir[256], cmd[2048], path[512], *out = NULL;
	int st, seen[16], i, n;
	make_tmpdir(ref, sizeof ref);
	make_tmpdir(dir, sizeof dir);
	snprintf(cmd, sizeof cmd, "%s dse %s -o %s --no-progress", KOLMO_BIN, SMALL, ref);
	ck_assert_int_eq(run(cmd, NULL), 0);

	run_and_kill(dir, 5);
	snprintf(path, sizeof path, "%s/journal.jsonl", dir);
	n = count_lines(path, seen, 16);
	ck_assert_msg(n >= 5 && n < 16, "%d lines after the kill", n);
	ck_assert(!file_exists(KOLMO_BINARY_DIR "/points.csv"));
	/* Tear the last line as a kill inside write() would. */
	{
		FILE *f = fopen(path, "a");
		fputs("{\"i\":15,\"h\":\"00", f);
		fclose(f);
	}
	snprintf(cmd, sizeof cmd, "%s dse %s -o %s --no-progress --json", KOLMO_BIN, SMALL, dir);
	st = run(cmd, &out);
	ck_assert_msg(st == 0, "%s", out);
	ck_assert_msg(strstr(out, "\"from_journal\": "), "%s", out);
	free(out);
	ck_assert_int_eq(count_lines(path, seen, 16), 16);
	for (i = 0; i < 16; i++)
		ck_assert_msg(seen[i] == 1, "point %d recorded %d times", i, seen[i]);
	same_outputs(ref, dir);
	snprintf(cmd, sizeof cmd, "rm -rf %s %s", ref, dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Point 7 of the small sweep is edge-kan itself: its numbers are `kolmo run`'s. */
START_TEST(base_point_equals_kolmo_run)
{
	DseSweep s;
	DsePoints p;
	DseResult r;
	Diag d = {0};
	char cmd[1024], *out = NULL;
	json_error_t err;
	json_t *js;
	snprintf(cmd, sizeof cmd,
	         "%s run %s/examples/kan/digits_kan.kir --arch %s/hwmodels/configs/edge-kan.yaml "
	         "--json 2>/dev/null",
	         KOLMO_BIN, KOLMO_SOURCE_DIR, KOLMO_SOURCE_DIR);
	ck_assert_int_eq(run(cmd, &out), 0);
	js = json_loads(out, 0, &err);
	ck_assert_msg(js, "%s", out);
	ck_assert_int_eq(dse_sweep_load(&s, SMALL, &d), 0);
	ck_assert_int_eq(dse_points(&s, 0, &p, &d), 0);
	dse_eval(&s, &p.p[7], 0, &r);
	ck_assert(r.feasible);
	ck_assert_uint_eq(r.wl[0].cycles,
	                  (uint64_t)json_integer_value(json_object_get(js, "cycles")));
	{
		/* kolmo run --json prints 10 significant digits. */
		double e =
		    json_number_value(json_object_get(json_object_get(js, "energy_j"), "total"));
		ck_assert_msg(fabs(r.obj[DSE_O_ENERGY] / e - 1) < 1e-9, "%.17g vs %.17g",
		              r.obj[DSE_O_ENERGY], e);
	}
	json_decref(js);
	free(out);
	dse_points_free(&p);
	dse_sweep_free(&s);
}
END_TEST

START_TEST(cli_bad_input)
{
	char dir[256], sweep[512], cmd[2048], *out = NULL;
	int st;
	make_tmpdir(dir, sizeof dir);
	snprintf(sweep, sizeof sweep, "%s/bad.yaml", dir);
	{
		char text[1024];
		snprintf(text, sizeof text,
		         "base: %s/hwmodels/configs/edge-kan.yaml\nworkloads:\n  - model: "
		         "%s/examples/kan/digits_kan.kir\nparameters:\n  mvmu.adc_bitz: [4]\n",
		         KOLMO_SOURCE_DIR, KOLMO_SOURCE_DIR);
		ck_assert_int_eq(write_text(sweep, text), 0);
	}
	snprintf(cmd, sizeof cmd, "%s dse %s -o %s/out", KOLMO_BIN, sweep, dir);
	st = run(cmd, &out);
	ck_assert_int_eq(st, 1);
	ck_assert_msg(strstr(out, "bad.yaml:5:3: error: unknown architecture parameter "
	                          "'mvmu.adc_bitz' (did you mean 'mvmu.adc_bits'?)"),
	              "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s/out", dir);
	ck_assert_msg(!file_exists(cmd), "an output directory was left behind");
	snprintf(cmd, sizeof cmd, "%s dse %s -j 0", KOLMO_BIN, SMALL);
	st = run(cmd, &out);
	ck_assert_msg(st != 0 && strstr(out, "--jobs wants a number"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(fast_is_an_estimate)
{
	DseSweep s;
	DsePoints p;
	DseResult full, est;
	Diag d = {0};
	uint32_t i, nf = 0;
	ck_assert_int_eq(dse_sweep_load(&s, SMALL, &d), 0);
	ck_assert_int_eq(dse_points(&s, 0, &p, &d), 0);
	for (i = 0; i < p.n; i++) {
		dse_eval(&s, &p.p[i], 0, &full);
		dse_eval(&s, &p.p[i], 1, &est);
		ck_assert_int_eq(full.feasible, est.feasible);
		ck_assert(est.estimate && !full.estimate);
		ck_assert(isnan(full.obj[DSE_O_ACCURACY]));
		if (!full.feasible) {
			ck_assert_str_eq(full.reason, est.reason);
			continue;
		}
		nf++;
		/* Same compiled program: area, power and the numerical error are identical (the
		 * integer reference is bit-exact with the ideal simulator); latency and energy are
		 * estimates: on these programs (one to three cores, messages between tiles, analog
		 * and digital arrays) within 2% and 10% of the simulation. */
		ck_assert_double_eq(est.obj[DSE_O_AREA], full.obj[DSE_O_AREA]);
		ck_assert_double_eq(est.obj[DSE_O_ERROR], full.obj[DSE_O_ERROR]);
		ck_assert_msg(fabs(est.obj[DSE_O_LATENCY] / full.obj[DSE_O_LATENCY] - 1) < 0.02,
		              "point %u: latency %g vs %g", i, est.obj[DSE_O_LATENCY],
		              full.obj[DSE_O_LATENCY]);
		ck_assert_msg(fabs(est.obj[DSE_O_ENERGY] / full.obj[DSE_O_ENERGY] - 1) < 0.10,
		              "point %u: energy %g vs %g", i, est.obj[DSE_O_ENERGY],
		              full.obj[DSE_O_ENERGY]);
	}
	ck_assert_uint_eq(nf, 6);
	dse_points_free(&p);
	dse_sweep_free(&s);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dse");
	TCase *t = tcase_create("parse");
	tcase_add_test(t, parse_example);
	tcase_add_test(t, parse_group_and_options);
	tcase_add_loop_test(t, bad_sweep, 0, (int)NELEM(bad));
	tcase_add_test(t, bad_workloads);
	suite_add_tcase(s, t);
	t = tcase_create("points");
	tcase_add_test(t, grid_points);
	tcase_add_test(t, random_points);
	tcase_add_test(t, lhs_points);
	tcase_add_test(t, grid_too_large);
	suite_add_tcase(s, t);
	t = tcase_create("pareto");
	tcase_add_test(t, pareto_by_hand);
	tcase_add_test(t, pareto_vs_brute_force);
	suite_add_tcase(s, t);
	t = tcase_create("journal");
	tcase_add_test(t, journal_roundtrip_and_torn_line);
	suite_add_tcase(s, t);
	t = tcase_create("sweeps");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, threads_equal_one);
	tcase_add_test(t, kill_and_resume);
	tcase_add_test(t, cli_bad_input);
	tcase_add_test(t, base_point_equals_kolmo_run);
	tcase_add_test(t, fast_is_an_estimate);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
