/* test_sim_cli.c: `kolmo sim` end to end on a compiled model (inputs from .npy, outputs to .npy,
 * statistics JSON with the documented keys, a Chrome trace), its bad-input paths, and the .npy
 * reader/writer (round trip, malformed files). */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "testutil.h"

#define EDGE SRC("hwmodels/configs/edge-kan.yaml")

static char dir[64];
static char kelf[128];

static void
setup(void)
{
	char cmd[1024];
	make_tmpdir(dir, sizeof dir);
	snprintf(kelf, sizeof kelf, "%s/m.kelf", dir);
	snprintf(cmd, sizeof cmd, "%s compile %s --arch %s -o %s", KOLMO_BIN,
	         SRC("examples/kan/digits_kan.kir"), EDGE, kelf);
	ck_assert_int_eq(run(cmd, NULL), 0);
}

static void
write_input(const char *path, uint64_t n)
{
	float x[64];
	uint64_t i, dims[2] = {1, n};
	Diag d = {0};
	for (i = 0; i < n && i < 64; i++)
		x[i] = (float)((double)i / 32.0 - 1.0);
	ck_assert_msg(npy_write_file(path, NPY_F32, 2, dims, x, &d) == 0, "%s", d.msg);
}

START_TEST(sim_npy_stats_trace)
{
	char cmd[2048], in[128], out[128], stats[128], trace[128], y[160];
	Npy a;
	Diag d = {0};
	json_t *j;
	json_error_t je;
	uint64_t i;
	setup();
	snprintf(in, sizeof in, "%s/x.npy", dir);
	snprintf(out, sizeof out, "%s/out", dir);
	snprintf(stats, sizeof stats, "%s/s.json", dir);
	snprintf(trace, sizeof trace, "%s/t.json", dir);
	write_input(in, 64);
	snprintf(cmd, sizeof cmd, "%s sim %s --arch %s --input %s --out %s --stats %s --trace %s",
	         KOLMO_BIN, kelf, EDGE, in, out, stats, trace);
	ck_assert_int_eq(run(cmd, NULL), 0);
	snprintf(y, sizeof y, "%s/y.npy", out);
	ck_assert_msg(npy_read_file(y, 1 << 20, &a, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(a.type, NPY_F32);
	ck_assert_uint_eq(a.count, 10);
	for (i = 0; i < a.count; i++)
		ck_assert(isfinite(npy_get_f64(&a, i)));
	npy_free(&a);
	j = json_load_file(stats, 0, &je);
	ck_assert_msg(j != NULL, "%s", je.text);
	ck_assert(json_integer_value(json_object_get(j, "cycles")) > 0);
	ck_assert(json_real_value(json_object_get(j, "latency_s")) > 0);
	ck_assert(json_integer_value(json_object_get(j, "instructions")) > 0);
	ck_assert(json_real_value(json_object_get(json_object_get(j, "energy_j"), "total")) > 0);
	ck_assert(json_is_object(json_object_get(json_object_get(j, "energy_j"), "by_component")));
	ck_assert(json_array_size(json_object_get(j, "layers")) >= 2);
	json_decref(j);
	j = json_load_file(trace, 0, &je);
	ck_assert_msg(j != NULL, "trace is not JSON: %s", je.text);
	ck_assert(json_array_size(json_object_get(j, "traceEvents")) > 10);
	json_decref(j);
}
END_TEST

START_TEST(sim_bad_inputs)
{
	char cmd[2048], in[128], out[128], *o = NULL;
	setup();
	snprintf(in, sizeof in, "%s/x.npy", dir);
	snprintf(out, sizeof out, "%s/out", dir);
	/* wrong input size */
	write_input(in, 63);
	snprintf(cmd, sizeof cmd, "%s sim %s --arch %s --input %s --out %s", KOLMO_BIN, kelf, EDGE,
	         in, out);
	ck_assert_int_ne(run(cmd, &o), 0);
	ck_assert_ptr_nonnull(strstr(o, "needs 64 elements"));
	ck_assert(!file_exists(out));
	free(o);
	/* another architecture than the one compiled for */
	snprintf(cmd, sizeof cmd, "%s sim %s --arch %s", KOLMO_BIN, kelf,
	         SRC("hwmodels/configs/puma.yaml"));
	ck_assert_int_ne(run(cmd, &o), 0);
	ck_assert_ptr_nonnull(strstr(o, "compiled for architecture 'edge-kan'"));
	free(o);
	/* no --arch, missing file, not an ELF */
	snprintf(cmd, sizeof cmd, "%s sim %s", KOLMO_BIN, kelf);
	ck_assert_int_ne(run(cmd, &o), 0);
	ck_assert_ptr_nonnull(strstr(o, "--arch"));
	free(o);
	snprintf(cmd, sizeof cmd, "%s sim %s/none.kelf --arch %s", KOLMO_BIN, dir, EDGE);
	ck_assert_int_ne(run(cmd, &o), 0);
	ck_assert_ptr_nonnull(strstr(o, "cannot open"));
	free(o);
	snprintf(cmd, sizeof cmd, "%s sim %s --arch %s", KOLMO_BIN, in, EDGE);
	ck_assert_int_ne(run(cmd, &o), 0);
	free(o);
	/* a bad option value */
	snprintf(cmd, sizeof cmd, "%s sim %s --arch %s --g-sigma -1", KOLMO_BIN, kelf, EDGE);
	ck_assert_int_ne(run(cmd, &o), 0);
	ck_assert_ptr_nonnull(strstr(o, "--g-sigma"));
	free(o);
}
END_TEST

START_TEST(npy_round_trip_and_errors)
{
	char path[128];
	int16_t v[6] = {1, -2, 3, -4, 5, -32768};
	uint64_t dims[2] = {2, 3}, i;
	Npy a;
	Diag d = {0};
	/* header text (NULL: raw bytes below), data bytes after it, expected message */
	static const struct {
		const char *hdr;
		int data;
		const char *msg;
	} bad[] = {
	    {"{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", 8, "not supported"},
	    {"{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", 4, "Fortran"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 4, "header says 8"},
	    {"{'descr': '<f4', 'shape': (2,), }", 8, "lacks"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,3,-1), }", 0, "shape"},
	    {"['descr']", 0, "not a dict"},
	};
	char buf[256];
	make_tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/a.npy", dir);
	ck_assert(npy_write_file(path, NPY_I16, 2, dims, v, &d) == 0);
	ck_assert_msg(npy_read_file(path, 100, &a, &d) == 0, "%s", d.msg);
	ck_assert_int_eq(a.type, NPY_I16);
	ck_assert_uint_eq(a.rank, 2);
	ck_assert_uint_eq(a.dims[1], 3);
	for (i = 0; i < 6; i++)
		ck_assert(npy_get_f64(&a, i) == v[i]);
	npy_free(&a);
	/* the element limit */
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(npy_read_file(path, 5, &a, &d), 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t hl = strlen(bad[i].hdr), n = 10 + hl + (size_t)bad[i].data;
		memcpy(buf, "\x93NUMPY\x01\x00", 8);
		buf[8] = (char)hl;
		buf[9] = 0;
		memcpy(buf + 10, bad[i].hdr, hl);
		memset(buf + 10 + hl, 0, (size_t)bad[i].data);
		memset(&d, 0, sizeof d);
		ck_assert_msg(npy_read_mem(buf, n, "b.npy", 100, &a, &d) != 0, "case %u accepted",
		              (unsigned)i);
		ck_assert_msg(strstr(d.msg, bad[i].msg) != NULL, "case %u: %s", (unsigned)i, d.msg);
	}
	/* raw cases: bad magic, truncated header, unknown version */
	memset(&d, 0, sizeof d);
	ck_assert(npy_read_mem("NOTNPY....", 10, "b.npy", 100, &a, &d) != 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "bad magic"));
	memset(&d, 0, sizeof d);
	ck_assert(npy_read_mem("\x93NUMPY\x01\x00\x40\x00{'descr'", 18, "b.npy", 100, &a, &d) != 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "truncated"));
	memset(&d, 0, sizeof d);
	ck_assert(npy_read_mem("\x93NUMPY\x09\x00\x00\x00", 10, "b.npy", 100, &a, &d) != 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "version"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sim_cli");
	TCase *t = tcase_create("cli");
	SRunner *sr;
	int nf;
	tcase_set_timeout(t, 120);
	tcase_add_test(t, sim_npy_stats_trace);
	tcase_add_test(t, sim_bad_inputs);
	tcase_add_test(t, npy_round_trip_and_errors);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
