/* conformance.c: ONNX's own node tests (Debian libonnx-testdata) for every supported standard op,
 * through the importer and the LLVM float reference (what `kolmo ref` runs), compared with the
 * expected outputs of test_data_set_0, and through the C interpreter (compiler/interp.c) too.
 * Integer inputs (shapes, indices) are bound as constants: kolmo graphs have static shapes. Each
 * test directory of a supported op either passes, or is in the skip table below and fails with the
 * reason given there (so a skip that starts working, or a pass that breaks, fails this test).
 * docs/onnx.md lists both. */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"
#include "onnx.h"
#include "ref.h"
#include "testutil.h"

/* The test directories examined: the supported ops. */
static const char *const prefixes[] = {
    "test_add",
    "test_sub",
    "test_mul",
    "test_div",
    "test_relu",
    "test_sigmoid",
    "test_tanh",
    "test_softmax",
    "test_layer_normalization",
    "test_reshape",
    "test_transpose",
    "test_concat",
    "test_gather_0",
    "test_gather_1",
    "test_gather_2d",
    "test_gather_negative",
    "test_gemm",
    "test_matmul_",
};

/* Expected failures: test name (exact, or a prefix ending in '*') and a substring of the error. */
static const struct {
	const char *name, *reason;
} skips[] = {
    {"test_add_uint8", "uint8"},
    {"test_sub_uint8", "uint8"},
    {"test_mul_uint8", "uint8"},
    {"test_div_uint8", "uint8"},
    {"test_gather_*", "Gather needs constant data"},
    {"test_softmax_*_expanded", "unsupported op"},
    {"test_layer_normalization_*_expanded", "unsupported op"},
    {"test_reshape_allowzero_reordered", "dims must be >= 1"},
};

/* Tests whose graph has outputs kolmo does not compute: only the first output is imported and
 * compared (LayerNormalization's training outputs Mean and InvStdDev). */
static const char *const first_output_only[] = {"test_layer_normalization_*"};

static int
glob_match(const char *pat, const char *s)
{
	const char *star = strchr(pat, '*');
	size_t pre, post, n = strlen(s);
	if (!star)
		return strcmp(pat, s) == 0;
	pre = (size_t)(star - pat), post = strlen(star + 1);
	return n >= pre + post && strncmp(pat, s, pre) == 0 && strcmp(s + n - post, star + 1) == 0;
}

static const char *
skip_reason(const char *name)
{
	size_t i;
	for (i = 0; i < NELEM(skips); i++)
		if (glob_match(skips[i].name, name))
			return skips[i].reason;
	return NULL;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define MAXIO 8

/* ONNX's backend-test tolerance for float32: |got - want| <= 1e-7 + 1e-3 |want|. */
static int
compare(const char *who, const OnnxTensor *out, uint32_t nout, float *const *y, char *why,
        size_t nwhy)
{
	uint32_t i;
	int64_t e;
	for (i = 0; i < nout; i++)
		for (e = 0; e < out[i].n; e++) {
			double want = out[i].f[e], got = y[i][e];
			if (!(fabs(got - want) <= 1e-7 + 1e-3 * fabs(want))) {
				snprintf(why, nwhy,
				         "%s: output %u element %lld: got %.9g, want %.9g", who, i,
				         (long long)e, got, want);
				return -1;
			}
		}
	return 0;
}

/* Runs one node test; 0 when its outputs match, else -1 with why (a diagnostic or a mismatch). */
static int
run_node_test(const char *dir, int first_only, char *why, size_t nwhy)
{
	OnnxTensor in[MAXIO], out[MAXIO], consts[MAXIO];
	OnnxOptions opt = {consts, 0, NULL, 0};
	const char *oname = NULL;
	uint32_t nin = 0, nout = 0, i, nc = 0;
	memset(in, 0, sizeof in);
	memset(out, 0, sizeof out);
	char path[1400];
	Diag d = {0};
	Graph *g = NULL;
	RefModel *r = NULL;
	const float *x[MAXIO];
	float *y[MAXIO];
	int rc = -1;
	memset(y, 0, sizeof y);
	for (nin = 0; nin < MAXIO; nin++) {
		snprintf(path, sizeof path, "%s/test_data_set_0/input_%u.pb", dir, nin);
		if (access(path, R_OK) != 0)
			break;
		if (onnx_tensor_read_file(path, &in[nin], &d)) {
			snprintf(why, nwhy, "%s", d.msg);
			goto out;
		}
	}
	for (nout = 0; nout < MAXIO; nout++) {
		snprintf(path, sizeof path, "%s/test_data_set_0/output_%u.pb", dir, nout);
		if (access(path, R_OK) != 0)
			break;
		if (onnx_tensor_read_file(path, &out[nout], &d)) {
			snprintf(why, nwhy, "%s", d.msg);
			goto out;
		}
	}
	/* integer inputs (shapes, indices) become constants */
	for (i = 0; i < nin; i++)
		if (in[i].i)
			consts[nc++] = in[i];
	opt.nconsts = nc;
	if (first_only && nout > 1) {
		opt.outputs = (const char *const *)&oname;
		opt.noutputs = 1;
		oname = out[0].name;
		nout = 1;
	}
	snprintf(path, sizeof path, "%s/model.onnx", dir);
	g = onnx_import_file(path, &opt, &d);
	if (!g || ref_build_float(g, &r, &d)) {
		snprintf(why, nwhy, "%s", d.msg);
		goto out;
	}
	ck_assert_uint_eq(ref_ninputs(r), nin - nc);
	ck_assert_uint_eq(ref_noutputs(r), nout);
	for (i = 0, nc = 0; i < nin; i++)
		if (!in[i].i) {
			ck_assert_int_eq((int64_t)ref_input(r, nc)->elems, in[i].n);
			x[nc++] = in[i].f;
		}
	for (i = 0; i < nout; i++) {
		ck_assert_int_eq((int64_t)ref_output(r, i)->elems, out[i].n);
		y[i] = calloc((size_t)out[i].n + 1, sizeof(float));
	}
	ref_run_float(r, x, y);
	rc = compare("LLVM reference", out, nout, y, why, nwhy);
	for (i = 0; i < nout; i++)
		free(y[i]);
	memset(y, 0, sizeof y);
	if (!rc && cc_interp(g, x, y, &d)) {
		snprintf(why, nwhy, "interpreter: %s", d.msg);
		rc = -1;
	}
	if (!rc)
		rc = compare("interpreter", out, nout, y, why, nwhy);
out:
	for (i = 0; i < nout; i++)
		free(y[i]);
	ref_free(r);
	ir_free(g);
	for (i = 0; i < MAXIO; i++) {
		onnx_tensor_free(&in[i]);
		onnx_tensor_free(&out[i]);
	}
	return rc;
}

START_TEST(node_tests)
{
	DIR *dd = opendir(KOLMO_ONNX_NODE_TESTS);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i, k, npass = 0, nskip = 0;
	ck_assert_msg(dd != NULL, "no ONNX node tests at %s (package libonnx-testdata)",
	              KOLMO_ONNX_NODE_TESTS);
	while ((de = readdir(dd))) {
		for (k = 0; k < NELEM(prefixes); k++)
			if (strncmp(de->d_name, prefixes[k], strlen(prefixes[k])) == 0)
				break;
		if (k == NELEM(prefixes))
			continue;
		if (n == cap)
			names = realloc(names, sizeof *names * (cap = cap ? 2 * cap : 64));
		names[n++] = strdup(de->d_name);
	}
	closedir(dd);
	qsort(names, n, sizeof *names, cmp_names);
	ck_assert_uint_gt(n, 100);
	for (i = 0; i < n; i++) {
		char dir[1100], why[DIAG_MAX + 64] = "";
		const char *reason = skip_reason(names[i]);
		int rc;
		snprintf(dir, sizeof dir, "%s/%s", KOLMO_ONNX_NODE_TESTS, names[i]);
		int first = 0;
		for (k = 0; k < NELEM(first_output_only); k++)
			first |= glob_match(first_output_only[k], names[i]);
		rc = run_node_test(dir, first, why, sizeof why);
		if (reason) {
			ck_assert_msg(rc != 0, "%s is listed as skipped but now passes", names[i]);
			ck_assert_msg(strstr(why, reason) != NULL,
			              "%s: expected a failure mentioning '%s', got: %s", names[i],
			              reason, why);
			printf("skip %s: %s\n", names[i], reason);
			nskip++;
		} else {
			ck_assert_msg(rc == 0, "%s: %s", names[i], why);
			printf("pass %s%s\n", names[i], first ? " (first output)" : "");
			npass++;
		}
		free(names[i]);
	}
	free(names);
	printf("onnx node tests: %zu passed, %zu skipped\n", npass, nskip);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("onnx_conformance");
	TCase *tc = tcase_create("node");
	SRunner *sr;
	int nf;
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, node_tests);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
