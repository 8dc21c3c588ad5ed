/* test_rf_cli.c: `kolmo roofline` and `kolmo scaling` from the command line: tables, JSON keys,
 * the gnuplot SVG with labelled axes, simulator statistics matched by layer name, clear errors
 * and no partial output files. The plot tests need gnuplot (CI installs gnuplot-nox through
 * tools/install-deps.sh); they are skipped, with a message, only when gnuplot is missing. */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define KIR      SRC("examples/kan/digits_kan.kir")
#define EDGE     SRC("hwmodels/configs/edge-kan.yaml")
#define FAMILY   SRC("examples/scaling/family.yaml")

static int
have_gnuplot(void)
{
	if (run("command -v gnuplot", NULL) == 0)
		return 1;
	fprintf(stderr, "SKIP: gnuplot not found (install gnuplot-nox); plot test skipped\n");
	return 0;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	b[n] = 0;
	fclose(f);
	return b;
}

/* number of directory entries besides . and .. */
static int
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

START_TEST(table)
{
	char cmd[2048], *out = NULL;
	snprintf(cmd, sizeof cmd, "%s roofline %s --arch %s", KOLMO_BIN, KIR, EDGE);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "latency bound:") && strstr(out, "energy bound:") &&
	                  strstr(out, "kan_linear") && strstr(out, "capacity roof:"),
	              "%s", out);
	free(out);
}
END_TEST

static json_t *
obj(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	ck_assert_msg(v != NULL, "missing key %s", k);
	return v;
}

START_TEST(json_keys)
{
	char cmd[2048], *out = NULL;
	json_error_t err;
	json_t *root, *ops, *op, *tr;
	size_t i;
	snprintf(cmd, sizeof cmd, "%s roofline %s --arch %s --json 2>/dev/null", KOLMO_BIN,
	         SRC("examples/attention/sparse_block.kir"), SRC("hwmodels/configs/sram-cim.yaml"));
	ck_assert_int_eq(run(cmd, &out), 0);
	root = json_loads(out, 0, &err);
	ck_assert_msg(root, "not JSON: %s", err.text);
	ck_assert(json_number_value(obj(obj(root, "bound"), "latency_s")) > 0);
	ck_assert(json_number_value(obj(obj(root, "bound"), "energy_j")) > 0);
	ops = obj(root, "ops");
	ck_assert(json_array_size(ops) == 19);
	json_array_foreach(ops, i, op)
	{
		ck_assert(json_is_string(obj(op, "name")) && json_is_string(obj(op, "op")));
		ck_assert(json_is_number(obj(op, "work_ops")));
		tr = obj(op, "traffic_bytes");
		ck_assert(json_is_number(obj(tr, "array")) && json_is_number(obj(tr, "spad")) &&
		          json_is_number(obj(tr, "tmem")) && json_is_number(obj(tr, "noc")) &&
		          json_is_number(obj(tr, "dram")));
		ck_assert(json_is_number(obj(op, "latency_s")) &&
		          json_is_number(obj(op, "energy_j")));
		obj(op, "binding");
	}
	json_decref(root);
	free(out);
}
END_TEST

START_TEST(svg_plot)
{
	char dir[64], cmd[2048], path[128], *out = NULL, *svg;
	if (!have_gnuplot())
		return;
	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/r.svg", dir);
	snprintf(cmd, sizeof cmd, "%s roofline %s --arch %s -o %s", KOLMO_BIN, KIR, EDGE, path);
	ck_assert_msg(run(cmd, &out) == 0, "%s", out);
	free(out);
	svg = slurp(path);
	ck_assert(svg && strlen(svg) > 1000);
	ck_assert(strstr(svg, "<svg"));
	ck_assert(strstr(svg, "operational intensity (ops/byte)"));
	ck_assert(strstr(svg, "performance (ops/s)"));
	ck_assert(strstr(svg, "off-chip DRAM"));
	ck_assert_int_eq(entries(dir), 1); /* no temporary left */
	free(svg);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* gnuplot failing (KOLMO_GNUPLOT=/bin/false), a bad extension, a bad model, a bad arch: an error
 * and no file. */
START_TEST(no_partial_files)
{
	char dir[64], cmd[2048], path[128], bad[160], *out = NULL;
	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/r.svg", dir);
	snprintf(cmd, sizeof cmd, "KOLMO_GNUPLOT=/bin/false %s roofline %s --arch %s -o %s",
	         KOLMO_BIN, KIR, EDGE, path);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "error: gnuplot"), "%s", out);
	free(out);
	ck_assert_int_eq(entries(dir), 0);
	snprintf(cmd, sizeof cmd, "KOLMO_GNUPLOT=%s/none %s roofline %s --arch %s -o %s", dir,
	         KOLMO_BIN, KIR, EDGE, path);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "gnuplot not found (install gnuplot-nox"), "%s", out);
	free(out);
	ck_assert_int_eq(entries(dir), 0);
	snprintf(cmd, sizeof cmd, "%s roofline %s --arch %s -o %s/r.pdf", KOLMO_BIN, KIR, EDGE,
	         dir);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "must end in .svg or .png"), "%s", out);
	free(out);
	snprintf(bad, sizeof bad, "%s/bad.kir", dir);
	write_text(bad, "kir 1\ngraph g {\n  input x : f32[1, 4]\n  %y = frob(x) : f32[1, 4]\n}\n");
	snprintf(cmd, sizeof cmd, "%s roofline %s --arch %s -o %s", KOLMO_BIN, bad, EDGE, path);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "bad.kir:4:") && strstr(out, "error:"), "%s", out);
	free(out);
	snprintf(bad, sizeof bad, "%s/bad.yaml", dir);
	write_text(bad, "name: x\nchip:\n  tiles: four\n");
	snprintf(cmd, sizeof cmd, "%s roofline %s --arch %s -o %s", KOLMO_BIN, KIR, bad, path);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "bad.yaml:3:10: error:"), "%s", out);
	free(out);
	ck_assert(!file_exists(path));
	unlink(bad);
	snprintf(bad, sizeof bad, "%s/bad.kir", dir);
	unlink(bad);
	ck_assert_int_eq(entries(dir), 0);
	rmdir(dir);
}
END_TEST

/* --stats: layers match ops by name; unknown layers are reported; not-stats JSON is an error. */
START_TEST(stats_matching)
{
	char dir[64], cmd[2048], st[128], *out = NULL;
	json_error_t err;
	json_t *root, *sim, *ops;
	make_tmpdir(dir, sizeof dir);
	snprintf(st, sizeof st, "%s/s.json", dir);
	write_text(st, "{\"latency_s\": 1e-5, \"energy_j\": {\"total\": 1e-6, \"dynamic\": 9e-7},"
	               " \"layers\": [{\"name\": \"h\", \"energy_j\": 5e-7, \"actions\":"
	               " {\"dram_byte\": 64, \"tilemem_read_byte\": 100}},"
	               " {\"name\": \"zzz\", \"energy_j\": 1e-8, \"actions\": {}}]}");
	snprintf(cmd, sizeof cmd, "%s roofline %s --arch %s --stats %s --json", KOLMO_BIN, KIR,
	         EDGE, st);
	ck_assert_int_eq(run(cmd, &out), 0);
	root = json_loads(out, 0, &err);
	ck_assert_msg(root, "%s", out);
	sim = obj(root, "sim");
	ck_assert_int_eq(json_integer_value(obj(sim, "matched")), 1);
	ck_assert_int_eq(json_integer_value(obj(sim, "layers")), 2);
	ck_assert_str_eq(json_string_value(json_array_get(obj(sim, "unmatched"), 0)), "zzz");
	ck_assert(json_number_value(obj(sim, "latency_over_bound")) > 1);
	ops = obj(root, "ops");
	ck_assert_double_eq(json_number_value(obj(
	                        obj(obj(json_array_get(ops, 0), "sim"), "traffic_bytes"), "dram")),
	                    64);
	json_decref(root);
	free(out);
	write_text(st, "{\"cycles\": 3}");
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "s.json: error: not simulator statistics"), "%s", out);
	free(out);
	unlink(st);
	rmdir(dir);
}
END_TEST

START_TEST(scaling_outputs)
{
	char dir[64], sub[128], cmd[2048], p[256], *out = NULL;
	static const char *const files[] = {
	    "scaling.json", "scaling_decode_latency.svg", "scaling_decode_energy.svg",
	    "scaling_decode_context.svg", "scaling_prefill_latency.svg"};
	size_t i;
	json_error_t err;
	json_t *root;
	if (!have_gnuplot())
		return;
	make_tmpdir(dir, sizeof dir);
	snprintf(sub, sizeof sub, "%s/out", dir);
	snprintf(cmd, sizeof cmd, "%s scaling --arch %s --family %s -o %s", KOLMO_BIN, EDGE, FAMILY,
	         sub);
	ck_assert_msg(run(cmd, &out) == 0, "%s", out);
	ck_assert_msg(strstr(out, "power-law fits") && strstr(out, "T_x closed"), "%s", out);
	free(out);
	for (i = 0; i < NELEM(files); i++) {
		char *b;
		snprintf(p, sizeof p, "%s/%s", sub, files[i]);
		b = slurp(p);
		ck_assert_msg(b && strlen(b) > 500, "%s", p);
		if (strstr(files[i], ".svg"))
			ck_assert(strstr(b, "non-embedding parameters N") ||
			          strstr(b, "context length T (tokens)"));
		free(b);
		unlink(p);
	}
	ck_assert_int_eq(entries(sub), 0);
	rmdir(sub);
	rmdir(dir);
	snprintf(cmd, sizeof cmd, "%s scaling --arch %s --family %s --json", KOLMO_BIN, EDGE,
	         FAMILY);
	ck_assert_int_eq(run(cmd, &out), 0);
	root = json_loads(out, 0, &err);
	ck_assert_msg(root, "%s", err.text);
	ck_assert(json_array_size(obj(root, "points")) == 13);
	ck_assert(json_array_size(obj(root, "fits")) >= 6);
	ck_assert(json_is_number(obj(obj(root, "capacity"), "cliff_params_closed")));
	ck_assert(json_is_number(obj(json_array_get(obj(root, "points"), 0), "tx_numeric")));
	json_decref(root);
	free(out);
}
END_TEST

START_TEST(scaling_errors)
{
	char dir[64], cmd[2048], fam[128], sub[160], *out = NULL;
	make_tmpdir(dir, sizeof dir);
	snprintf(fam, sizeof fam, "%s/f.yaml", dir);
	snprintf(sub, sizeof sub, "%s/out", dir);
	write_text(fam, "name: f\nparams:\n  min: 1e7\n  max: 1e9\nffn:\n  type: kann\n");
	snprintf(cmd, sizeof cmd, "%s scaling --arch %s --family %s -o %s", KOLMO_BIN, EDGE, fam,
	         sub);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "f.yaml:6:9: error: ffn.type: unknown value 'kann'") &&
	                  strstr(out, "^"),
	              "%s", out);
	free(out);
	ck_assert(!file_exists(sub));
	snprintf(cmd, sizeof cmd, "%s scaling --family %s", KOLMO_BIN, fam);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "--arch A.yaml and --family F.yaml are required"), "%s", out);
	free(out);
	unlink(fam);
	rmdir(dir);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("roofline cli");
	TCase *t = tcase_create("cli");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, table);
	tcase_add_test(t, json_keys);
	tcase_add_test(t, svg_plot);
	tcase_add_test(t, no_partial_files);
	tcase_add_test(t, stats_matching);
	tcase_add_test(t, scaling_outputs);
	tcase_add_test(t, scaling_errors);
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
