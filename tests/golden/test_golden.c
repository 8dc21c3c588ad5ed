/* test_golden.c: the golden reference through the LLVM JIT (compiler/ref/) and `kolmo eval`.
 *
 * float      the LLVM float32 lowering against reference/kan.md's exact test vectors (the
 *            efficient-kan layer, cubic and linear basis tables), degenerate knots (0/0 := 0)
 *            against the C recursion, elementwise ops with broadcasting, and against the C
 *            float reference (cc_eval_float) on every example
 * quantized  simulator (ideal mode) == LLVM `ref --quantized` == cc_qref, bit for bit, on every
 *            example, ADC-exact and lossy, on several architectures; the CLI files too
 * eval       the trained digits models reach their recorded float accuracy within 1 point on
 *            edge-kan (8-bit weights and activations); accuracy falls as ADC bits drop
 * errors     bad models, inputs and datasets: a clear error, non-zero exit, no output left */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cc.h"
#include "ccint.h"
#include "npy.h"
#include "ref.h"
#include "sim.h"
#include "testutil.h"

#define EDGE    SRC("hwmodels/configs/edge-kan.yaml")
#define SRAM    SRC("hwmodels/configs/sram-cim.yaml")
#define SIMTEST SRC("tests/sim/sim-test.yaml")
#define ISAAC   SRC("hwmodels/configs/isaac.yaml")
#define TRAINED "examples/kan/trained/"

/* Under the sanitizers every simulator instance costs ~0.1 s (large zeroed memories), so the
 * eval tests there run on a slice of the test split and check only that it works; the plain
 * build checks the accuracies on the whole split. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static Graph *
parse_str(const char *text)
{
	Diag d = {0};
	Graph *g = ir_parse_mem(text, strlen(text), "test.kir", NULL, IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	return g;
}

static RefModel *
build_float(Graph *g)
{
	Diag d = {0};
	RefModel *r = NULL;
	ck_assert_msg(ref_build_float(g, &r, &d) == 0, "%s", d.msg);
	return r;
}

/* ---- float: reference/kan.md ---- */

START_TEST(float_kan_md_layer)
{
	const char *kir =
	    "kir 1\ngraph kanmd {\n  input x : f32[1, 2]\n"
	    "  weight base : f32[1, 2] = data([0.5, -0.25])\n"
	    "  weight spline : f32[1, 2, 8] = data([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, -0.1, "
	    "-0.2, -0.3, -0.4, -0.5, -0.6, -0.7, -0.8])\n"
	    "  weight scaler : f32[1, 2] = data([1, 2])\n"
	    "  %y = kan_linear(x, base, spline, scaler) {grid_size = 5, spline_order = 3, "
	    "grid_range = [-1, 1]} : f32[1, 1]\n  output y = %y\n}\n";
	Graph *g = parse_str(kir);
	RefModel *r = build_float(g);
	float x[2] = {0.3f, -0.5f}, y = 0, yc = 0;
	const float *in[1] = {x};
	float *out[1] = {&y};
	Diag d = {0};
	ck_assert_uint_eq(ref_ninputs(r), 1);
	ck_assert_uint_eq(ref_noutputs(r), 1);
	ref_run_float(r, in, out);
	ck_assert_msg(fabs(y - 0.008358961121517017) < 1e-6, "y = %.9g", (double)y);
	ck_assert(cc_eval_float(g, x, &yc, &d) == 0);
	ck_assert_msg(fabs(y - yc) < 1e-6, "LLVM %.9g vs C %.9g", (double)y, (double)yc);
	ref_free(r);
	ir_free(g);
}
END_TEST

/* A model whose outputs are the nb basis values of a batch of scalar inputs. */
static const char *
basis_kir(char *buf, size_t n, uint32_t G, uint32_t k, uint32_t batch)
{
	uint32_t nb = G + k, i, j;
	size_t off;
	off = (size_t)snprintf(buf, n,
	                       "kir 1\ngraph basis {\n  input x : f32[%u, 1]\n"
	                       "  weight base : f32[%u, 1] = fill(0)\n"
	                       "  weight spline : f32[%u, 1, %u] = data([",
	                       batch, nb, nb, nb);
	for (i = 0; i < nb; i++)
		for (j = 0; j < nb; j++)
			off += (size_t)snprintf(buf + off, n - off, "%s%d", i || j ? ", " : "",
			                        i == j);
	snprintf(buf + off, n - off,
	         "])\n  %%y = kan_linear(x, base, spline) {grid_size = %u, spline_order = %u, "
	         "grid_range = [-1, 1], base_activation = identity} : f32[%u, %u]\n"
	         "  output y = %%y\n}\n",
	         G, k, batch, nb);
	return buf;
}

START_TEST(float_kan_md_basis_cubic)
{
	/* reference/kan.md, test vectors: G=5, k=3, [-1, 1] */
	static const float xs[] = {-1, -0.5f, 0, 0.3f, 0.999f, 1, 1.5f, -1.7f, -1.9f, 2.2f, -2.2f};
	static const double want[11][8] = {
	    {1. / 6, 2. / 3, 1. / 6, 0, 0, 0, 0, 0},
	    {0, 9. / 128, 235. / 384, 121. / 384, 1. / 384, 0, 0, 0},
	    {0, 0, 1. / 48, 23. / 48, 23. / 48, 1. / 48, 0, 0},
	    {0, 0, 0, 9. / 128, 235. / 384, 121. / 384, 1. / 384, 0},
	    {0, 0, 0, 0, 1. / 384000000, 64481197. / 384000000, 255997603. / 384000000,
	     21173733. / 128000000},
	    {0, 0, 0, 0, 0, 1. / 6, 2. / 3, 1. / 6},
	    {0, 0, 0, 0, 0, 0, 9. / 128, 235. / 384},
	    {121. / 384, 1. / 384, 0, 0, 0, 0, 0, 0},
	    {9. / 128, 0, 0, 0, 0, 0, 0, 0},
	    {0, 0, 0, 0, 0, 0, 0, 0},
	    {0, 0, 0, 0, 0, 0, 0, 0},
	};
	char buf[4096];
	Graph *g = parse_str(basis_kir(buf, sizeof buf, 5, 3, 11));
	RefModel *r = build_float(g);
	float y[11 * 8];
	const float *in[1] = {xs};
	float *out[1] = {y};
	uint32_t s, c;
	ref_run_float(r, in, out);
	for (s = 0; s < 11; s++)
		for (c = 0; c < 8; c++)
			ck_assert_msg(fabs(y[s * 8 + c] - want[s][c]) < 2e-6,
			              "x = %g: B_%u = %.9g, want %.9g", (double)xs[s], c,
			              (double)y[s * 8 + c], want[s][c]);
	ref_free(r);
	ir_free(g);
}
END_TEST

START_TEST(float_kan_md_basis_linear)
{
	/* reference/kan.md: G=4, k=1: knots -1.5, -1, ..., 1.5 */
	static const float xs[] = {-0.75f, 0.1f, 1};
	static const double want[3][5] = {
	    {0.5, 0.5, 0, 0, 0}, {0, 0, 0.8, 0.2, 0}, {0, 0, 0, 0, 1}};
	char buf[4096];
	Graph *g = parse_str(basis_kir(buf, sizeof buf, 4, 1, 3));
	RefModel *r = build_float(g);
	float y[3 * 5];
	const float *in[1] = {xs};
	float *out[1] = {y};
	uint32_t s, c;
	ref_run_float(r, in, out);
	for (s = 0; s < 3; s++)
		for (c = 0; c < 5; c++)
			ck_assert_msg(fabs(y[s * 5 + c] - want[s][c]) < 1e-6,
			              "x = %g: B_%u = %.9g, want %.9g", (double)xs[s], c,
			              (double)y[s * 5 + c], want[s][c]);
	ref_free(r);
	ir_free(g);
}
END_TEST

START_TEST(float_degenerate_knots)
{
	/* Repeated knots (clamped ends): the 0/0 terms are 0, never NaN; the values equal the C
	 * recursion (compiler/eval.c). */
	static const double t[9] = {-1, -1, -1, -1, 0, 1, 1, 1, 1};
	static const float xs[] = {-1, -0.75f, -0.2f, 0, 0.4f, 0.99f, 1, 1.3f, -1.01f};
	const char *kir = "kir 1\ngraph clamped {\n  input x : f32[9, 1]\n"
	                  "  weight base : f32[5, 1] = fill(0)\n"
	                  "  weight spline : f32[5, 1, 5] = data([1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, "
	                  "0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1])\n"
	                  "  %y = kan_linear(x, base, spline) {grid_size = 2, spline_order = 3, "
	                  "knots = [-1, -1, -1, -1, 0, 1, 1, 1, 1], base_activation = identity} : "
	                  "f32[9, 5]\n  output y = %y\n}\n";
	Graph *g = parse_str(kir);
	RefModel *r = build_float(g);
	float y[9 * 5];
	const float *in[1] = {xs};
	float *out[1] = {y};
	double bs[9];
	uint32_t s, c;
	ref_run_float(r, in, out);
	for (s = 0; s < 9; s++) {
		cc_bspline_basis(t, 9, 3, xs[s], bs);
		for (c = 0; c < 5; c++) {
			ck_assert_msg(isfinite(y[s * 5 + c]), "x = %g: B_%u not finite",
			              (double)xs[s], c);
			ck_assert_msg(fabs(y[s * 5 + c] - bs[c]) < 2e-6,
			              "x = %g: B_%u = %.9g vs C %.9g", (double)xs[s], c,
			              (double)y[s * 5 + c], bs[c]);
		}
	}
	ref_free(r);
	ir_free(g);
}
END_TEST

START_TEST(float_elementwise_broadcast)
{
	/* y = reshape(exp(silu(a) * w) + relu(b)), a [2, 3], w [3], b [2, 1] */
	const char *kir = "kir 1\ngraph ew {\n  input a : f32[2, 3]\n  input b : f32[2, 1]\n"
	                  "  weight w : f32[3] = data([0.5, -1, 2])\n"
	                  "  %s = silu(a) : f32[2, 3]\n  %m = mul(%s, w) : f32[2, 3]\n"
	                  "  %e = exp(%m) : f32[2, 3]\n  %r = relu(b) : f32[2, 1]\n"
	                  "  %t = add(%e, %r) : f32[2, 3]\n"
	                  "  %y = reshape(%t) {shape = [6]} : f32[6]\n"
	                  "  output y = %y\n  output r = %r\n}\n";
	static const float a[6] = {-1, 0.5f, 1, 2, -3, 0.25f}, b[2] = {0.75f, -2};
	static const float w[3] = {0.5f, -1, 2};
	Graph *g = parse_str(kir);
	RefModel *r = build_float(g);
	float y[6], rr[2];
	const float *in[2] = {a, b};
	float *out[2] = {y, rr};
	uint32_t i;
	ck_assert_str_eq(ref_input(r, 1)->name, "b");
	ck_assert_str_eq(ref_output(r, 1)->name, "r");
	ref_run_float(r, in, out);
	for (i = 0; i < 6; i++) {
		double s = a[i] / (1 + exp(-a[i]));
		double want = exp(s * w[i % 3]) + fmax(b[i / 3], 0);
		ck_assert_msg(fabs(y[i] - want) < 1e-5 * (1 + fabs(want)),
		              "y[%u] = %.9g, want %.9g", i, (double)y[i], want);
	}
	ck_assert(rr[0] == 0.75f && rr[1] == 0);
	ref_free(r);
	ir_free(g);
}
END_TEST

static const char *const examples[] = {
    SRC("examples/kan/digits_kan.kir"),
    SRC("examples/kan/digits_mlp.kir"),
    SRC("examples/kan/wide_kan.kir"),
    SRC(TRAINED "digits_kan.kir"),
    SRC(TRAINED "digits_mlp.kir"),
    SRC("tests/compiler/cases/tiny_kan.kir"),
    SRC("tests/compiler/cases/tiny_linear.kir"),
};
enum { NEXAMPLES = sizeof examples / sizeof examples[0] };

static uint64_t
lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 11;
}

START_TEST(float_vs_c_reference)
{
	Diag d = {0};
	Graph *g = ir_parse_file(examples[_i], IR_PARSE_LOAD_WEIGHTS, &d);
	RefModel *r;
	uint64_t st = 7 + (uint64_t)_i;
	uint32_t k, i, nin, nout;
	ck_assert_msg(g != NULL, "%s", d.msg);
	r = build_float(g);
	nin = (uint32_t)ref_input(r, 0)->elems;
	nout = (uint32_t)ref_output(r, 0)->elems;
	for (k = 0; k < 4; k++) {
		float *x = malloc(sizeof(float) * nin), *y = malloc(sizeof(float) * nout);
		float *yc = malloc(sizeof(float) * nout);
		const float *in[1] = {x};
		float *out[1] = {y};
		double maxy = 0, maxd = 0;
		for (i = 0; i < nin; i++)
			x[i] = (float)((double)lcg(&st) * 0x1.0p-53 * 2.4 - 1.2);
		ref_run_float(r, in, out);
		ck_assert_msg(cc_eval_float(g, x, yc, &d) == 0, "%s", d.msg);
		for (i = 0; i < nout; i++) {
			maxy = fmax(maxy, fabs(yc[i]));
			maxd = fmax(maxd, fabs(y[i] - yc[i]));
		}
		ck_assert_msg(maxd <= 2e-5 * (1 + maxy),
		              "%s: LLVM float vs C differ by %g (|y| %g)", examples[_i], maxd,
		              maxy);
		free(x), free(y), free(yc);
	}
	ref_free(r);
	ir_free(g);
}
END_TEST

/* ---- quantized: sim == LLVM ref == cc_qref ---- */

typedef struct QCase {
	const char *model, *arch;
	int lossy;
} QCase;

static int
check_bitexact(const char *model, const char *arch_path, int lossy, int ninputs, int adc_bits)
{
	Diag d = {0};
	HwArch arch;
	Graph *g;
	KProg *p = NULL;
	CcModel *m = NULL;
	RefModel *r = NULL;
	CcOptions o;
	const KTensor *tin = NULL, *tout = NULL;
	uint32_t nin, nout, i, k;
	double sin, sout;
	uint64_t st = 1234;
	int same = 1;
	cc_options_default(&o);
	o.adc_exact = !lossy;
	ck_assert_msg(hw_arch_load(&arch, arch_path, &d) == 0, "%s", d.msg);
	if (adc_bits) {
		char v[8];
		snprintf(v, sizeof v, "%d", adc_bits);
		ck_assert_msg(hw_arch_set(&arch, "mvmu.adc_bits", v, &d) == 0, "%s", d.msg);
	}
	g = ir_parse_file(model, IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	ck_assert_msg(cc_compile(g, &arch, &o, &p, &m, &d) == 0, "%s", d.msg);
	ck_assert_msg(ref_build_quant(m, &r, &d) == 0, "%s", d.msg);
	cc_model_io(m, &nin, &sin, &nout, &sout);
	for (i = 0; i < p->nio; i++)
		if (p->io[i].dir == KDIR_IN)
			tin = &p->io[i];
		else
			tout = &p->io[i];
	ck_assert_uint_eq(ref_input(r, 0)->qtype, tin->type);
	ck_assert_uint_eq(ref_output(r, 0)->qtype, tout->type);
	ck_assert(ref_output(r, 0)->scale == tout->scale);
	for (k = 0; k < (uint32_t)ninputs; k++) {
		int32_t *xq = malloc(sizeof(int32_t) * nin), *yr = malloc(sizeof(int32_t) * nout);
		int32_t *yc = malloc(sizeof(int32_t) * nout);
		unsigned isz = isa_type_size(tin->type), osz = isa_type_size(tout->type);
		unsigned char *xb = malloc((size_t)nin * isz);
		const unsigned char *out;
		size_t bytes;
		Sim *s = NULL;
		int32_t qmax = tin->type == TY_I8 ? 127 : 32767;
		for (i = 0; i < nin; i++) {
			/* the full integer range, zeros and the extremes included */
			int64_t v = (int64_t)(lcg(&st) % (uint64_t)(2 * qmax + 2)) - qmax - 1;
			if (k == 0)
				v = i % 3 == 0 ? -qmax - 1 : i % 3 == 1 ? qmax : 0;
			else if (k == 1)
				v = -1; /* every digit 1 */
			xq[i] = (int32_t)v;
			memcpy(xb + (size_t)i * isz, &v, isz);
		}
		ref_run_quant(r, xq, yr);
		ck_assert(cc_qref(m, xq, yc, &d) == 0);
		ck_assert_msg(sim_new(&arch, p, NULL, &s, &d) == 0, "%s", d.msg);
		ck_assert_msg(sim_set_input(s, tin->name, xb, (size_t)nin * isz, &d) == 0, "%s",
		              d.msg);
		ck_assert_msg(sim_run(s, &d) == 0, "%s", d.msg);
		out = sim_output(s, tout->name, &bytes, &d);
		ck_assert_ptr_nonnull(out);
		ck_assert_uint_eq(bytes, (size_t)nout * osz);
		for (i = 0; i < nout; i++) {
			int32_t v = 0;
			if (osz == 1) {
				v = (int8_t)out[i];
			} else if (osz == 2) {
				int16_t h;
				memcpy(&h, out + 2 * i, 2);
				v = h;
			} else {
				memcpy(&v, out + 4 * i, 4);
			}
			if (v != yr[i] || yr[i] != yc[i]) {
				fprintf(stderr,
				        "%s (%s%s) input %u output %u: sim %d, LLVM %d, qref %d\n",
				        model, arch_path, lossy ? ", lossy" : "", k, i, v, yr[i],
				        yc[i]);
				same = 0;
			}
		}
		sim_free(s);
		free(xq), free(yr), free(yc), free(xb);
	}
	ref_free(r);
	cc_model_free(m);
	kprog_free(p);
	ir_free(g);
	return same;
}

START_TEST(quant_bitexact_edge)
{
	int lossy;
	for (lossy = 0; lossy < 2; lossy++)
		ck_assert_msg(check_bitexact(examples[_i], EDGE, lossy, _i == 2 ? 2 : 6, 0),
		              "%s: the simulator, the LLVM reference and cc_qref disagree",
		              examples[_i]);
}
END_TEST

START_TEST(quant_bitexact_other_archs)
{
	/* digital arrays (no ADC); a small chip where tiny models spread over many cores and
	 * tiles (summation order across cores); 16-bit activations (isaac) */
	static const QCase cases[] = {
	    {SRC(TRAINED "digits_kan.kir"), SRAM, 0},
	    {SRC(TRAINED "digits_mlp.kir"), SRAM, 0},
	    {SRC("tests/compiler/cases/tiny_kan.kir"), SIMTEST, 0},
	    {SRC("tests/compiler/cases/tiny_kan.kir"), SIMTEST, 1},
	    {SRC("tests/compiler/cases/tiny_linear.kir"), SIMTEST, 0},
	    {SRC("tests/compiler/cases/tiny_linear.kir"), SIMTEST, 1},
	    {SRC("tests/compiler/cases/tiny_linear.kir"), ISAAC, 0},
	    {SRC("tests/compiler/cases/tiny_linear.kir"), ISAAC, 1},
	};
	uint32_t i;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(check_bitexact(cases[i].model, cases[i].arch, cases[i].lossy, 6, 0),
		              "%s on %s: the simulator, the LLVM reference and cc_qref disagree",
		              cases[i].model, cases[i].arch);
}
END_TEST

START_TEST(quant_bitexact_low_adc_bits)
{
	/* ADCs below the lossless width round every partial sum, and clip when rounding overflows
	 * (adc_clip.kir's 3-row blocks of full-scale weights): the emulations agree there too */
	static const int bits[] = {1, 2, 3, 5, 7};
	static const char *const models[] = {
	    SRC("tests/golden/cases/adc_clip.kir"), SRC("tests/compiler/cases/tiny_linear.kir"),
	    SRC("tests/compiler/cases/tiny_kan.kir"), SRC(TRAINED "digits_kan.kir")};
	uint32_t i;
	for (i = 0; i < sizeof models / sizeof models[0]; i++)
		ck_assert_msg(check_bitexact(models[i], EDGE, 1, 4, bits[_i]),
		              "%s with a %d-bit ADC: the simulator, the LLVM reference and cc_qref "
		              "disagree",
		              models[i], bits[_i]);
}
END_TEST

/* ---- the CLI ---- */

static int
files_equal(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int ca, cb, eq = fa && fb;
	while (eq) {
		ca = fgetc(fa), cb = fgetc(fb);
		if (ca != cb)
			eq = 0;
		if (ca == EOF || cb == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return eq;
}

START_TEST(cli_ref_quantized_equals_sim_out)
{
	static const char *const lossy[] = {"", "--adc-lossy"};
	char dir[64], cmd[4096], a[256], b[256];
	char *out = NULL;
	make_tmpdir(dir, sizeof dir);
	ck_assert(dir[0]);
	/* the first test sample of the trained KAN as the input */
	snprintf(cmd, sizeof cmd,
	         "%s compile %s --arch %s %s --calib %s -o %s/m.kelf && "
	         "%s ref %s --quantized --arch %s %s --calib %s --input %s/x.npy --out %s/ref && "
	         "%s sim %s/m.kelf --arch %s --input %s/x.npy --out %s/sim",
	         KOLMO_BIN, SRC(TRAINED "digits_kan.kir"), EDGE, lossy[_i],
	         SRC(TRAINED "digits_calib_x.npy"), dir, KOLMO_BIN, SRC(TRAINED "digits_kan.kir"),
	         EDGE, lossy[_i], SRC(TRAINED "digits_calib_x.npy"), dir, dir, KOLMO_BIN, dir, EDGE,
	         dir, dir);
	{
		Diag d = {0};
		Npy t;
		uint64_t dims[2] = {1, 64};
		ck_assert_msg(npy_read_file(SRC(TRAINED "digits_test_x.npy"), 1u << 20, &t, &d) ==
		                  0,
		              "%s", d.msg);
		snprintf(a, sizeof a, "%s/x.npy", dir);
		ck_assert(npy_write_file(a, NPY_F32, 2, dims, t.data, &d) == 0);
		npy_free(&t);
	}
	ck_assert_msg(run(cmd, &out) == 0, "%s", out);
	free(out);
	snprintf(a, sizeof a, "%s/ref/y.npy", dir);
	snprintf(b, sizeof b, "%s/sim/y.npy", dir);
	ck_assert_msg(files_equal(a, b), "ref --quantized and sim --out differ (%s)", lossy[_i]);
	/* the float reference writes the same layout */
	snprintf(cmd, sizeof cmd, "%s ref %s --input %s/x.npy --out %s/flt --json", KOLMO_BIN,
	         SRC(TRAINED "digits_kan.kir"), dir, dir);
	ck_assert_msg(run(cmd, &out) == 0, "%s", out);
	ck_assert_msg(strstr(out, "\"mode\": \"float\""), "%s", out);
	free(out);
	snprintf(a, sizeof a, "%s/flt/y.npy", dir);
	ck_assert(file_exists(a));
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert(system(cmd) == 0);
}
END_TEST

typedef struct BadCase {
	const char *args; /* after `kolmo ref`; %D is the temporary directory */
	const char *expect;
} BadCase;

START_TEST(cli_ref_bad_inputs)
{
	static const BadCase cases[] = {
	    {"%M --input %D/missing.npy --out %D/out", "missing.npy"},
	    {"%M --input %D/short.npy --out %D/out", "needs 64 elements, the file has 63"},
	    {"%M --quantized --arch " EDGE " --input %D/short.npy --out %D/out",
	     "needs 64 elements"},
	    {"%M --input %D/nan.npy --out %D/out", "is not finite"},
	    {"%M --input nosuch=%D/nan.npy --out %D/out", "no input named 'nosuch'"},
	    {"%M --quantized --out %D/out", "--arch A.yaml is required"},
	    {"%M", "--out DIR is required"},
	    {SRC("tests/golden/cases/ref_bad_op.kir") " --out %D/out",
	     "ref_bad_op.kir:6:8: error: op 'rmsnorm' is not supported by the LLVM reference"},
	};
	char dir[64], args[2048], cmd[4096], path[256];
	uint32_t i;
	Diag d = {0};
	make_tmpdir(dir, sizeof dir);
	ck_assert(dir[0]);
	{
		float x[64];
		uint64_t dims[2] = {1, 63};
		for (i = 0; i < 64; i++)
			x[i] = 0.5f;
		snprintf(path, sizeof path, "%s/short.npy", dir);
		ck_assert(npy_write_file(path, NPY_F32, 2, dims, x, &d) == 0);
		x[5] = NAN;
		dims[1] = 64;
		snprintf(path, sizeof path, "%s/nan.npy", dir);
		ck_assert(npy_write_file(path, NPY_F32, 2, dims, x, &d) == 0);
	}
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *s = cases[i].args;
		char *o = args, *out = NULL;
		int rc;
		while (*s) {
			if (s[0] == '%' && s[1] == 'D')
				o += sprintf(o, "%s", dir), s += 2;
			else if (s[0] == '%' && s[1] == 'M')
				o += sprintf(o, "%s", SRC(TRAINED "digits_kan.kir")), s += 2;
			else
				*o++ = *s++;
		}
		*o = 0;
		snprintf(cmd, sizeof cmd, "%s ref %s", KOLMO_BIN, args);
		rc = run(cmd, &out);
		ck_assert_msg(rc != 0, "%s: exit 0", cmd);
		ck_assert_msg(strstr(out, cases[i].expect), "%s:\n%s\n(expected '%s')", cmd, out,
		              cases[i].expect);
		free(out);
		snprintf(path, sizeof path, "%s/out/y.npy", dir);
		ck_assert_msg(!file_exists(path), "%s left %s behind", cmd, path);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert(system(cmd) == 0);
}
END_TEST

/* ---- kolmo eval ---- */

static json_t *
run_json(const char *cmd)
{
	char *out = NULL;
	json_error_t e;
	json_t *j;
	int rc = run(cmd, &out);
	ck_assert_msg(rc == 0, "%s:\n%s", cmd, out);
	j = json_loads(out, 0, &e);
	ck_assert_msg(j != NULL, "%s: not JSON: %s\n%s", cmd, e.text, out);
	free(out);
	return j;
}

static double
recorded_accuracy(const char *model)
{
	json_error_t e;
	json_t *j = json_load_file(SRC(TRAINED "metrics.json"), 0, &e);
	double v;
	ck_assert_msg(j != NULL, "metrics.json: %s", e.text);
	v = json_real_value(json_object_get(json_object_get(j, model), "test_accuracy"));
	json_decref(j);
	ck_assert(v > 0.9);
	return v;
}

START_TEST(eval_trained_reaches_float_accuracy)
{
	static const char *const models[] = {"digits_kan", "digits_mlp"};
	char cmd[2048];
	json_t *j;
	double rec = recorded_accuracy(models[_i]), acc, ref;
	snprintf(cmd, sizeof cmd, "%s eval %s%s.kir --arch %s --data %s --calib %s --json %s",
	         KOLMO_BIN, SRC(TRAINED), models[_i], EDGE, SRC(TRAINED "digits_test"),
	         SRC(TRAINED "digits_calib_x.npy"), SANITIZED ? "--limit 30" : "");
	j = run_json(cmd);
	acc = json_real_value(json_object_get(j, "accuracy"));
	ref = json_real_value(json_object_get(j, "reference_accuracy"));
	if (SANITIZED) {
		ck_assert_int_eq(json_integer_value(json_object_get(j, "samples")), 30);
		ck_assert_msg(acc >= 0.85 && ref >= 0.85, "accuracy %g, reference %g", acc, ref);
		json_decref(j);
		return;
	}
	ck_assert_int_eq(json_integer_value(json_object_get(j, "samples")), 360);
	/* the C float reference agrees with PyTorch's float32 accuracy to a sample */
	ck_assert_msg(fabs(ref - rec) <= 1.0 / 360 + 1e-9, "reference %g vs recorded %g", ref, rec);
	/* 8-bit weights and activations in ideal mode: within 1 point of the float accuracy */
	ck_assert_msg(acc >= rec - 0.01, "%s: simulated %g vs recorded float %g", models[_i], acc,
	              rec);
	ck_assert(json_real_value(json_object_get(j, "latency_s_mean")) > 0);
	ck_assert(json_real_value(json_object_get(j, "energy_j_mean")) > 0);
	json_decref(j);
}
END_TEST

START_TEST(eval_accuracy_falls_with_adc_bits)
{
	char dir[64], cmd[2048], plotp[128];
	json_t *j, *pts;
	size_t i;
	double prev = 2, first, last;
	make_tmpdir(dir, sizeof dir);
	snprintf(plotp, sizeof plotp, "%s/adc.svg", dir);
	snprintf(cmd, sizeof cmd,
	         "%s eval %s --arch %s --data %s --calib %s --json --sweep adc_bits --values "
	         "%s -o %s %s",
	         KOLMO_BIN, SRC(TRAINED "digits_mlp.kir"), EDGE, SRC(TRAINED),
	         SRC(TRAINED "digits_calib_x.npy"), SANITIZED ? "9,3" : "10,9,8,7,6,5,4,3", plotp,
	         SANITIZED ? "--limit 30" : "");
	j = run_json(cmd);
	pts = json_object_get(json_object_get(j, "sweep"), "points");
	ck_assert_uint_eq(json_array_size(pts), SANITIZED ? 2 : 8);
	first = json_real_value(json_object_get(json_array_get(pts, 0), "accuracy"));
	last = json_real_value(
	    json_object_get(json_array_get(pts, json_array_size(pts) - 1), "accuracy"));
	for (i = 0; i < json_array_size(pts); i++) {
		double a = json_real_value(json_object_get(json_array_get(pts, i), "accuracy"));
		/* monotone within noise: no rise of more than a point as bits drop */
		ck_assert_msg(a <= prev + 0.01, "accuracy rose from %g to %g at point %zu", prev, a,
		              i);
		prev = a;
	}
	ck_assert_msg(first >= (SANITIZED ? 0.85 : 0.95) && last < first - 0.3, "first %g last %g",
	              first, last);
	ck_assert_msg(file_exists(plotp), "no plot");
	json_decref(j);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert(system(cmd) == 0);
}
END_TEST

START_TEST(eval_nonideal_seeded)
{
	char cmd[2048];
	json_t *a, *b, *pts;
	snprintf(cmd, sizeof cmd,
	         "%s eval %s --arch %s --data %s --json --limit %d --seed 5 --sweep g_sigma "
	         "--values 0,0.3",
	         KOLMO_BIN, SRC(TRAINED "digits_kan.kir"), EDGE, SRC(TRAINED "digits_test"),
	         SANITIZED ? 20 : 60);
	a = run_json(cmd);
	b = run_json(cmd);
	pts = json_object_get(json_object_get(a, "sweep"), "points");
	ck_assert_int_eq(json_integer_value(json_object_get(a, "samples")), SANITIZED ? 20 : 60);
	/* sigma 0 is the ideal point; a large sigma costs accuracy; the same seed repeats */
	ck_assert(json_integer_value(json_object_get(json_array_get(pts, 0), "correct")) ==
	          json_integer_value(json_object_get(a, "correct")));
	ck_assert(json_real_value(json_object_get(json_array_get(pts, 1), "accuracy")) <
	          json_real_value(json_object_get(a, "accuracy")));
	ck_assert(json_equal(a, b));
	json_decref(a);
	json_decref(b);
}
END_TEST

START_TEST(eval_bad_inputs)
{
	char dir[64], cmd[4096], path[256], plotp[256];
	uint32_t i;
	Diag d = {0};
	float x[3 * 64];
	int32_t y[3] = {1, 2, 3}, ybad[3] = {1, 2, 10};
	uint64_t d63[2] = {3, 63}, d64[2] = {3, 64}, d2[1] = {2}, d3[1] = {3};
	static const struct {
		const char *data, *extra, *expect;
	} cases[] = {
	    {"%D/none", "", "none_x.npy"},
	    {"%D/empty", "", "no dataset here"},
	    {"%D/short", "", "must be an [N, 64] array"},
	    {"%D/fewlabels", "", "labels must be an [N] array with N = 3"},
	    {"%D/badlabel", "", "label 2 is 10"},
	    {"%D/flabels", "", "labels must be integers"},
	    {"%D/good", "--sweep adc_bits", "needs --values"},
	    {"%D/good", "--sweep temperature --values 1", "--sweep wants adc_bits"},
	    {"%D/good", "--sweep adc_bits --values 8,x -o %P", "--values wants a number"},
	    {"%D/good", "--sweep adc_bits --values 8 -o %D/plot.txt", "must be .svg, .png or .pdf"},
	    {"%D/good", "-o %P", "go with --sweep"},
	    {"%D", "", "several datasets here"},
	};
	make_tmpdir(dir, sizeof dir);
	ck_assert(dir[0]);
	for (i = 0; i < 3 * 64; i++)
		x[i] = (float)(i % 7) / 7.0f;
#define W(name, type, rank, dims, data)                                                            \
	snprintf(path, sizeof path, "%s/%s", dir, name);                                           \
	ck_assert(npy_write_file(path, type, rank, dims, data, &d) == 0)
	W("short_x.npy", NPY_F32, 2, d63, x);
	W("short_y.npy", NPY_I32, 1, d3, y);
	W("fewlabels_x.npy", NPY_F32, 2, d64, x);
	W("fewlabels_y.npy", NPY_I32, 1, d2, y);
	W("badlabel_x.npy", NPY_F32, 2, d64, x);
	W("badlabel_y.npy", NPY_I32, 1, d3, ybad);
	W("flabels_x.npy", NPY_F32, 2, d64, x);
	W("flabels_y.npy", NPY_F32, 1, d3, x);
	W("good_x.npy", NPY_F32, 2, d64, x);
	W("good_y.npy", NPY_I32, 1, d3, y);
#undef W
	snprintf(path, sizeof path, "%s/empty", dir);
	ck_assert(mkdir(path, 0755) == 0);
	snprintf(plotp, sizeof plotp, "%s/plot.svg", dir);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char data[256], extra[512], *out = NULL, *o;
		const char *s;
		int rc;
		snprintf(data, sizeof data, "%s%s", dir, cases[i].data + 2);
		for (s = cases[i].extra, o = extra; *s;) {
			if (s[0] == '%' && s[1] == 'D')
				o += sprintf(o, "%s", dir), s += 2;
			else if (s[0] == '%' && s[1] == 'P')
				o += sprintf(o, "%s", plotp), s += 2;
			else
				*o++ = *s++;
		}
		*o = 0;
		snprintf(cmd, sizeof cmd, "%s eval %s --arch %s --data %s %s", KOLMO_BIN,
		         SRC(TRAINED "digits_kan.kir"), EDGE, data, extra);
		rc = run(cmd, &out);
		ck_assert_msg(rc != 0, "%s: exit 0\n%s", cmd, out);
		ck_assert_msg(strstr(out, cases[i].expect), "%s:\n%s\n(expected '%s')", cmd, out,
		              cases[i].expect);
		free(out);
		ck_assert_msg(!file_exists(plotp), "%s left a plot behind", cmd);
	}
	/* the good set works and names itself */
	snprintf(cmd, sizeof cmd, "%s eval %s --arch %s --data %s/good", KOLMO_BIN,
	         SRC(TRAINED "digits_kan.kir"), EDGE, dir);
	{
		char *out = NULL;
		ck_assert_msg(run(cmd, &out) == 0, "%s", out);
		ck_assert_msg(strstr(out, "3 samples of good"), "%s", out);
		free(out);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert(system(cmd) == 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("golden");
	TCase *t = tcase_create("float");
	tcase_add_test(t, float_kan_md_layer);
	tcase_add_test(t, float_kan_md_basis_cubic);
	tcase_add_test(t, float_kan_md_basis_linear);
	tcase_add_test(t, float_degenerate_knots);
	tcase_add_test(t, float_elementwise_broadcast);
	tcase_add_loop_test(t, float_vs_c_reference, 0, NEXAMPLES);
	tcase_set_timeout(t, 120);
	suite_add_tcase(s, t);
	t = tcase_create("quantized");
	tcase_add_loop_test(t, quant_bitexact_edge, 0, NEXAMPLES);
	tcase_add_test(t, quant_bitexact_other_archs);
	tcase_add_loop_test(t, quant_bitexact_low_adc_bits, 0, 5);
	tcase_add_loop_test(t, cli_ref_quantized_equals_sim_out, 0, 2);
	tcase_add_test(t, cli_ref_bad_inputs);
	tcase_set_timeout(t, 300);
	suite_add_tcase(s, t);
	t = tcase_create("eval");
	tcase_add_loop_test(t, eval_trained_reaches_float_accuracy, 0, 2);
	tcase_add_test(t, eval_accuracy_falls_with_adc_bits);
	tcase_add_test(t, eval_nonideal_seeded);
	tcase_add_test(t, eval_bad_inputs);
	tcase_set_timeout(t, 300);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int nf;
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
