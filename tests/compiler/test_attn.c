/* test_attn.c: the attention lowering. Compiled dense and sparse attention run on the simulator
 * and must equal the integer reference (and the LLVM JIT's, an independent implementation) bit
 * for bit over the mask modes, causal / sink, grouped
 * K/V heads and unequal block sizes; the integer block mask reproduces the reference file's test
 * vector; quantised dense attention stays close to the float interpreter; sparse attention gets
 * faster as fewer blocks are kept; bad models get located errors. The SLA / SLA2 linear branch
 * likewise: bit-exact sim == C == LLVM over its feature maps, regions, combines and shapes, close
 * to the float interpreter, refusals located. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn.h"
#include "interp.h"
#include "ref.h"
#include "sim.h"
#include "testutil.h"

#define SRAM SRC("hwmodels/configs/sram-cim.yaml")

typedef struct Result {
	int exact;
	int llvm_exact; /* the LLVM quantised reference equals the C integer reference */
	uint64_t cycles;
	double cos_float; /* cosine of the simulated output with the float reference */
} Result;

static Graph *
parse(const char *src)
{
	Diag d = {0};
	Graph *g = ir_parse_mem(src, strlen(src), "attn.kir", NULL, IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	return g;
}

/* A graph: B, H, Hk, N, D and the node text "op(q, k, v) {attrs}". */
static char *
model6(unsigned B, unsigned H, unsigned N, unsigned M, unsigned D, unsigned Dv, const char *node)
{
	static char buf[2048];
	snprintf(
	    buf, sizeof buf,
	    "kir 1\ngraph t {\n  input q : f32[%u, %u, %u, %u]\n  input k : f32[%u, %u, %u, "
	    "%u]\n  input v : f32[%u, %u, %u, %u]\n  %%o = %s : f32[%u, %u, %u, %u]\n  output y "
	    "= %%o\n}\n",
	    B, H, N, D, B, H, M, D, B, H, M, Dv, node, B, H, N, Dv);
	return buf;
}

/* Self-attention shapes: one batch, H heads, N tokens, head dim D. */
static char *
model(unsigned H, unsigned N, unsigned D, const char *node)
{
	return model6(1, H, N, N, D, D, node);
}

/* Inputs with structure (each head a slow random walk, q near k) so that attention is peaked
 * and block selection is meaningful. */
static void
inputs(float *x, uint32_t n, uint32_t D, uint64_t seed)
{
	uint64_t s = seed;
	uint32_t i;
	for (i = 0; i < n; i++) {
		double u, v;
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		u = ((double)(s >> 11) * 0x1.0p-53) * 2 - 1;
		v = i >= D ? 0.9 * x[i - D] + 0.45 * u : u;
		x[i] = (float)(v > 1 ? 1 : v < -1 ? -1 : v);
	}
}

static Result
run_attn(const char *src, uint32_t D, const char *arch_path)
{
	Diag d = {0};
	HwArch arch;
	Graph *g = parse(src);
	KProg *p = NULL;
	CcModel *m = NULL;
	Result r = {1, 0, 0, 0};
	uint32_t nin, nout, i, at = 0;
	double sin, sout, dot = 0, na = 0, nb = 0;
	float *x, *yf;
	int32_t *xq, *yq;
	int8_t *xb;
	Sim *s = NULL;
	const uint8_t *out;
	size_t bytes;
	ck_assert(hw_arch_load(&arch, arch_path, &d) == 0);
	ck_assert_msg(cc_compile(g, &arch, NULL, &p, &m, &d) == 0, "%s", d.msg);
	cc_model_io(m, &nin, &sin, &nout, &sout);
	x = malloc(sizeof(float) * nin), yf = malloc(sizeof(float) * nout);
	xq = malloc(sizeof(int32_t) * nin), yq = malloc(sizeof(int32_t) * nout);
	xb = malloc(nin);
	inputs(x, nin, D, 7);
	for (i = 0; i < nin; i++) {
		double v = x[i] / sin;
		v = v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
		xq[i] = (int32_t)(v > 127 ? 127 : v < -128 ? -128 : v);
		xb[i] = (int8_t)xq[i];
	}
	ck_assert_msg(cc_eval_float(g, x, yf, &d) == 0, "%s", d.msg);
	ck_assert(cc_qref(m, xq, yq, &d) == 0);
	{
		RefModel *rm = NULL;
		int32_t *yl = malloc(sizeof(int32_t) * nout);
		ck_assert_msg(ref_build_quant(m, &rm, &d) == 0, "%s", d.msg);
		ck_assert_uint_eq(ref_input(rm, 0)->elems, nin);
		ck_assert_uint_eq(ref_output(rm, 0)->elems, nout);
		ref_run_quant(rm, xq, yl);
		r.llvm_exact = memcmp(yl, yq, sizeof(int32_t) * nout) == 0;
		ref_free(rm);
		free(yl);
	}
	ck_assert_msg(sim_new(&arch, p, NULL, &s, &d) == 0, "%s", d.msg);
	for (i = 0; i < p->nio; i++)
		if (p->io[i].dir == KDIR_IN) {
			uint32_t n = (uint32_t)ktensor_bytes(&p->io[i]);
			ck_assert_msg(sim_set_input(s, p->io[i].name, xb + at, n, &d) == 0, "%s",
			              d.msg);
			at += n;
		}
	ck_assert_uint_eq(at, nin);
	ck_assert_msg(sim_run(s, &d) == 0, "%s", d.msg);
	out = sim_output(s, "y", &bytes, &d);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(bytes, nout);
	for (i = 0; i < nout; i++) {
		int32_t v = (int8_t)out[i];
		if (v != yq[i])
			r.exact = 0;
		dot += v * sout * yf[i], na += v * sout * v * sout, nb += (double)yf[i] * yf[i];
	}
	r.cos_float = dot / sqrt(na * nb);
	r.cycles = sim_stats(s)->cycles;
	sim_free(s);
	free(x), free(yf), free(xq), free(yq), free(xb);
	cc_model_free(m);
	kprog_free(p);
	ir_free(g);
	return r;
}

static const struct {
	unsigned B, H, N, M, D, Dv;
	const char *node;
} cases[] = {
    {1, 2, 128, 128, 64, 64, "attention(q, k, v)"},
    {1, 1, 128, 128, 64, 64, "attention(q, k, v) {causal = true}"},
    {1, 2, 128, 128, 64, 64,
     "sparse_attention(q, k, v) {blkq = 32, blkk = 32, mode = topk, rho = 0.5}"},
    {1, 2, 128, 128, 32, 32,
     "sparse_attention(q, k, v) {blkq = 32, blkk = 32, mode = topp, tau = 0.6}"},
    {1, 2, 128, 128, 64, 64,
     "sparse_attention(q, k, v) {blkq = 32, blkk = 16, mode = hybrid, rho = 0.25, tau = 0.5, "
     "causal = true, sink = true}"},
    {1, 1, 256, 256, 64, 64,
     "sparse_attention(q, k, v) {blkq = 16, blkk = 64, mode = topk, rho = 0.5, causal = true}"},
    /* batch of 2, more keys than queries, value dim unlike the key dim */
    {2, 1, 64, 128, 32, 48, "attention(q, k, v) {scale = 0.25}"},
    {2, 2, 64, 128, 32, 48,
     "sparse_attention(q, k, v) {blkq = 32, blkk = 32, mode = hybrid, rho = 0.25, tau = 0.7}"},
};

START_TEST(sim_equals_integer_reference)
{
	Result r = run_attn(model6(cases[_i].B, cases[_i].H, cases[_i].N, cases[_i].M, cases[_i].D,
	                           cases[_i].Dv, cases[_i].node),
	                    cases[_i].D, SRAM);
	ck_assert_msg(r.exact, "case %d (%s): simulator differs from the integer reference", _i,
	              cases[_i].node);
	ck_assert_msg(r.llvm_exact, "case %d (%s): the LLVM reference differs from the C one", _i,
	              cases[_i].node);
	ck_assert(r.cycles > 0);
}
END_TEST

/* Dense attention: 8-bit quantised output against the float interpreter. */
START_TEST(dense_close_to_float)
{
	Result r = run_attn(model(2, 128, 64, "attention(q, k, v)"), 64, SRAM);
	ck_assert_msg(r.cos_float > 0.99, "cosine %.5f", r.cos_float);
	r = run_attn(model(1, 128, 64, "attention(q, k, v) {causal = true}"), 64, SRAM);
	ck_assert_msg(r.cos_float > 0.99, "causal cosine %.5f", r.cos_float);
}
END_TEST

/* The reference file's block-mask vector (reference/sparse_attention.md, end): N = 8, D = 2,
 * blocks of 2, k = q; top-k rho 0.5 and top-p tau 0.9 selections per query block. */
START_TEST(mask_reference_vector)
{
	static const double qv[8][2] = {{0.9, 0.1},  {1.1, 0.3},   {0.2, 0.8},  {-0.1, 1.2},
	                                {-0.7, 0.4}, {-1.2, -0.1}, {0.1, -0.9}, {0.6, -1.3}};
	static const uint8_t want_k[4][4] = {
	    {1, 1, 0, 0}, {1, 1, 0, 0}, {0, 1, 1, 0}, {1, 0, 0, 1}};
	static const uint8_t want_p[4][4] = {
	    {1, 1, 0, 1}, {1, 1, 0, 0}, {0, 1, 1, 1}, {1, 0, 0, 1}};
	CcAttn a;
	int32_t q[16];
	uint8_t mask[16];
	int i, j, mode;
	memset(&a, 0, sizeof a);
	a.N = a.M = 8, a.D = 2, a.blkq = a.blkk = 2, a.nq = a.nk = 4;
	a.s_in = 1.3 / 127; /* the input range [-1.3, 1.3] */
	for (i = 0; i < 16; i++) {
		double v = qv[i / 2][i % 2] / a.s_in;
		q[i] = (int32_t)(v < 0 ? -floor(-v + 0.5) : floor(v + 0.5));
	}
	{
		double c2 = 1.4426950408889634 / sqrt(2.0) * a.s_in * a.s_in;
		a.zmult = (int32_t)floor(16.0 * c2 * (double)(1 << ATTN_ZSH) + 0.5);
		for (i = 0; i < 256; i++)
			a.lut[i] =
			    (int16_t)fmin(32767, floor(16384 * exp2((i - 128) / 16.0) + 0.5));
	}
	a.nsel_k = 2;
	a.tau16 = (int32_t)floor(0.9 * 65536 + 0.5);
	for (mode = 0; mode < 2; mode++) {
		a.mode = mode;
		cc_attn_mask_q(&a, q, q, mask);
		for (i = 0; i < 4; i++)
			for (j = 0; j < 4; j++)
				ck_assert_msg(mask[i * 4 + j] == (mode ? want_p : want_k)[i][j],
				              "%s row %d block %d: got %d",
				              mode ? "top-p" : "top-k", i, j, mask[i * 4 + j]);
	}
}
END_TEST

/* Fewer kept blocks, fewer cycles: top-k at 1/4 of the blocks runs at least twice as fast as
 * keeping all of them. */
START_TEST(sparse_is_faster)
{
	Result all = run_attn(model(1, 256, 64,
	                            "sparse_attention(q, k, v) {blkq = 32, blkk = 32, mode = topk, "
	                            "rho = 1.0}"),
	                      64, SRAM);
	Result quarter =
	    run_attn(model(1, 256, 64,
	                   "sparse_attention(q, k, v) {blkq = 32, blkk = 32, mode = topk, "
	                   "rho = 0.25}"),
	             64, SRAM);
	ck_assert(all.exact && quarter.exact);
	ck_assert_msg(quarter.cycles * 2 < all.cycles, "%llu vs %llu cycles",
	              (unsigned long long)quarter.cycles, (unsigned long long)all.cycles);
	/* keeping every block is dense attention */
	ck_assert_msg(all.cos_float > 0.99, "cosine %.5f", all.cos_float);
}
END_TEST

/* Seeded inputs for every graph input of g (tensor order), uniform in [-1, 1]. */
static float **
graph_inputs(const Graph *g, uint32_t *nin)
{
	float **in = calloc(g->ntensors, sizeof *in);
	uint64_t s = 3;
	uint32_t i, k = 0;
	for (i = 0; i < g->ntensors; i++)
		if (g->tensors[i].kind == IR_INPUT) {
			int64_t n = ir_type_elems(&g->tensors[i].type), e;
			in[k] = malloc(sizeof(float) * (size_t)n);
			for (e = 0; e < n; e++) {
				s = s * 6364136223846793005ull + 1442695040888963407ull;
				in[k][e] = (float)(((double)(s >> 11) * 0x1.0p-53) * 2 - 1);
			}
			k++;
		}
	*nin = k;
	return in;
}

/* The LLVM float reference of every attention op against the float interpreter (an independent
 * implementation in double precision). */
START_TEST(llvm_float_reference)
{
	Diag d = {0};
	Graph *g =
	    ir_parse_file(SRC("tests/compiler/cases/attn_ops.kir"), IR_PARSE_LOAD_WEIGHTS, &d);
	RefModel *rm = NULL;
	float **in, **want, **got;
	uint32_t nin, i, o;
	ck_assert_msg(g != NULL, "%s", d.msg);
	in = graph_inputs(g, &nin);
	want = calloc(g->noutputs, sizeof *want);
	got = calloc(g->noutputs, sizeof *got);
	ck_assert_msg(cc_interp(g, (const float *const *)in, want, &d) == 0, "%s", d.msg);
	ck_assert_msg(ref_build_float(g, &rm, &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(ref_noutputs(rm), g->noutputs);
	for (o = 0; o < g->noutputs; o++)
		got[o] = malloc(sizeof(float) * ref_output(rm, o)->elems);
	ref_run_float(rm, (const float *const *)in, got);
	for (o = 0; o < g->noutputs; o++) {
		double maxd = 0, maxv = 0;
		for (i = 0; i < ref_output(rm, o)->elems; i++) {
			maxd = fmax(maxd, fabs((double)got[o][i] - want[o][i]));
			maxv = fmax(maxv, fabs((double)want[o][i]));
		}
		ck_assert_msg(maxv > 0, "output %s is all zero", g->outputs[o].name);
		ck_assert_msg(maxd <= 1e-5 * fmax(1, maxv), "output %s: max |LLVM - interp| %g",
		              g->outputs[o].name, maxd);
		free(got[o]), free(want[o]);
	}
	for (i = 0; i < nin; i++)
		free(in[i]);
	free(in), free(got), free(want);
	ref_free(rm);
	ir_free(g);
}
END_TEST

/* The reference file's block-mask vector through the LLVM float reference. */
START_TEST(llvm_mask_vector)
{
	static const float qv[16] = {0.9f,  0.1f, 1.1f,  0.3f,  0.2f, 0.8f,  -0.1f, 1.2f,
	                             -0.7f, 0.4f, -1.2f, -0.1f, 0.1f, -0.9f, 0.6f,  -1.3f};
	static const float want[2][16] = {{1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1},
	                                  {1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1}};
	Diag d = {0};
	Graph *g =
	    ir_parse_file(SRC("tests/compiler/cases/mask_vector.kir"), IR_PARSE_LOAD_WEIGHTS, &d);
	RefModel *rm = NULL;
	const float *in[1] = {qv};
	float got[2][16], *out[2] = {got[0], got[1]};
	int o, i;
	ck_assert_msg(g != NULL, "%s", d.msg);
	ck_assert_msg(ref_build_float(g, &rm, &d) == 0, "%s", d.msg);
	ref_run_float(rm, in, out);
	for (o = 0; o < 2; o++)
		for (i = 0; i < 16; i++)
			ck_assert_msg(got[o][i] == want[o][i], "%s row %d block %d: %g",
			              o ? "top-p" : "top-k", i / 4, i % 4, got[o][i]);
	ref_free(rm);
	ir_free(g);
}
END_TEST

static const struct {
	const char *arch;
	unsigned N, D;
	const char *node, *want;
} bad[] = {
    {SRAM, 120, 64, "sparse_attention(q, k, v) {blkq = 32, blkk = 32}",
     "6:8: error: sequence lengths 120 (queries) and 120 (keys) must be multiples"},
    {SRAM, 128, 64, "sparse_attention(q, k, v) {blkq = 32, blkk = 24}", "must be powers of two"},
    {SRAM, 128, 256, "attention(q, k, v)", "do not fit the configured 128 x 128 crossbars"},
    {SRC("hwmodels/configs/isaac.yaml"), 128, 64, "attention(q, k, v)",
     "crossbars that take run-time writes"},
    {SRAM, 128, 64, "sparse_attention(q, k, v) {blkq = 32, blkk = 32, simthresh = 0.3}",
     "simthresh 0.3: the lowering supports only a negative"},
    {SRAM, 128, 64, "sparse_attention(q, k, v) {blkq = 32, blkk = 32, pv_threshold = 2}",
     "pv_threshold 2"},
    {SRAM, 128, 64, "sparse_attention(q, k, v) {blkq = 128, blkk = 32}", "bytes of scratchpad"},
};

START_TEST(bad_models)
{
	Diag d = {0};
	HwArch arch;
	Graph *g = parse(model(1, bad[_i].N, bad[_i].D, bad[_i].node));
	KProg *p = NULL;
	ck_assert(hw_arch_load(&arch, bad[_i].arch, &d) == 0);
	ck_assert_int_eq(cc_compile(g, &arch, NULL, &p, NULL, &d), -1);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(d.msg, bad[_i].want), "case %d: %s", _i, d.msg);
	ck_assert_msg(strstr(d.msg, "attn.kir:"), "no location: %s", d.msg);
	ir_free(g);
}
END_TEST

/* Inconsistent head dims and an op beside attention. */
START_TEST(bad_graphs)
{
	Diag d = {0};
	HwArch arch;
	KProg *p = NULL;
	const char *src =
	    "kir 1\ngraph t {\n  input q : f32[1, 1, 64, 64]\n  input k : f32[1, 1, "
	    "64, 64]\n  input v : f32[1, 1, 64, 64]\n  %e = exp(q) : f32[1, 1, 64, "
	    "64]\n  %o = attention(%e, k, v) : f32[1, 1, 64, 64]\n  output y = %o\n}\n";
	Graph *g = parse(src);
	ck_assert(hw_arch_load(&arch, SRAM, &d) == 0);
	ck_assert_int_eq(cc_compile(g, &arch, NULL, &p, NULL, &d), -1);
	ck_assert_msg(strstr(d.msg, "attn.kir:6:8: error: op 'exp' beside attention"), "%s", d.msg);
	ir_free(g);
	src = "kir 1\ngraph t {\n  input q : f32[1, 1, 64, 64]\n  input k : f32[1, 1, 64, 32]\n  "
	      "input v : f32[1, 1, 64, 64]\n  %o = attention(q, k, v) : f32[1, 1, 64, 64]\n  "
	      "output y = %o\n}\n";
	g = ir_parse_mem(src, strlen(src), "attn.kir", NULL, 0, &d);
	ck_assert_ptr_null(g);
	ck_assert_msg(strstr(d.msg, "attn.kir:6:"), "%s", d.msg);
}
END_TEST

/* The CLI: `kolmo run` on the bundled sparse attention core checks itself against the integer
 * reference and reports SpargeAttn's metrics against dense attention; a bad model exits 1 with
 * its location. */
START_TEST(cli_run)
{
	char cmd[1024], *out = NULL, *c;
	snprintf(cmd, sizeof cmd, "%s run %s --arch %s --json", KOLMO_BIN,
	         SRC("examples/attention/sparse_attn_256.kir"), SRAM);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "\"bit_exact_with_integer_reference\": true"), "%s", out);
	c = strstr(out, "\"vs_dense_attention\"");
	ck_assert_msg(c && strstr(c, "\"cosine\""), "%s", out);
	ck_assert_msg(atof(strstr(c, "\"cosine\": ") + 10) > 0.9, "%s", c);
	free(out);
	snprintf(cmd, sizeof cmd, "%s compile %s --arch %s --emit model", KOLMO_BIN,
	         SRC("examples/attention/sparse_attn_256.kir"), SRAM);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "o: sparse_attention, B 1, H 4, N 256") &&
	                  strstr(out, "mask hybrid: top-k 1 blocks") && !strstr(out, "(null)"),
	              "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s run %s --arch %s", KOLMO_BIN,
	         SRC("examples/attention/sparse_block.kir"), SRAM);
	ck_assert_int_eq(run(cmd, &out), 1);
	ck_assert_msg(strstr(out, "sparse_block.kir:19:9: error: op 'layernorm' beside attention"),
	              "%s", out);
	free(out);
}
END_TEST

/* ---- the SLA / SLA2 linear branch ---- */

/* A self-attention graph (1 batch, H heads, N tokens, head dim D) with weight lines (%D is the
 * head dim) and the node text. */
static char *
model_lin(unsigned H, unsigned N, unsigned D, const char *weights, const char *node)
{
	static char buf[4096];
	char w[1024];
	const char *c;
	size_t n = 0;
	for (c = weights; *c && n + 8 < sizeof w; c++)
		n += (size_t)(c[0] == '%' && c[1] == 'D'
		                  ? (c++, snprintf(w + n, sizeof w - n, "%u", D))
		                  : (w[n] = *c, 1));
	w[n] = 0;
	snprintf(buf, sizeof buf,
	         "kir 1\ngraph t {\n  input q : f32[1, %u, %u, %u]\n  input k : f32[1, %u, %u, "
	         "%u]\n  input v : f32[1, %u, %u, %u]\n%s  %%o = %s : f32[1, %u, %u, %u]\n  "
	         "output y = %%o\n}\n",
	         H, N, D, H, N, D, H, N, D, w, node, H, N, D);
	return buf;
}

#define W_SLA                                                                                      \
	"  weight wl : f32[%D, %D] = random(uniform, -0.2, 0.2, seed=5)\n"                         \
	"  weight bl : f32[%D] = random(uniform, -0.1, 0.1, seed=6)\n"
#define MASK_HYB                                                                                   \
	"blkq = 32, blkk = 32, mode = hybrid, rho = 0.25, tau = 0.6, causal = true, sink = true"

static const struct {
	unsigned H, N, D;
	const char *weights, *node;
} lin_cases[] = {
    {2, 128, 32, W_SLA,
     "sparse_attention(q, k, v, wl, bl) {" MASK_HYB ", combine = sla, feature_map = elu1}"},
    {2, 128, 32, W_SLA,
     "sparse_attention(q, k, v, wl, bl) {blkq = 32, blkk = 32, mode = topk, rho = 0.5, "
     "combine = sla, feature_map = relu, region = all}"},
    /* sla without bias; blkq = 2 blkk (top-k: with top-p at tau 0.5 these inputs' near-tied
     * block scores pick other blocks in 8 bits than in float, cosine 0.936 without the linear
     * branch already) */
    {1, 128, 32, "  weight wl : f32[%D, %D] = random(uniform, -0.2, 0.2, seed=7)\n",
     "sparse_attention(q, k, v, wl) {blkq = 32, blkk = 16, mode = topk, rho = 0.5, "
     "combine = sla, feature_map = elu1}"},
    /* sla2: alpha per row, and one alpha per head */
    {2, 128, 32, "  weight al : f32[1, 2, 128, 1] = random(uniform, 0, 1, seed=8)\n",
     "sparse_attention(q, k, v, al) {" MASK_HYB ", combine = sla2, feature_map = elu1}"},
    {2, 128, 64, "  weight al : f32[2, 1, 1] = data([0.25, 0.75])\n",
     "sparse_attention(q, k, v, al) {blkq = 32, blkk = 32, mode = topk, rho = 0.25, "
     "combine = sla2, feature_map = relu, region = all}"},
    /* 16 key blocks of 64 x 65 sums do not fit the tile memory: the head's totals minus the
     * selected blocks' sums, recomputed from their phi(K_j) and V'_j in DRAM */
    {1, 512, 64, W_SLA,
     "sparse_attention(q, k, v, wl, bl) {blkq = 32, blkk = 32, mode = topk, rho = 0.25, "
     "sink = true, combine = sla, feature_map = relu}"},
    /* four heads per tile: the cores' partial sums of region = all do not fit the tile memory
     * and go to DRAM */
    {12, 64, 64, W_SLA,
     "sparse_attention(q, k, v, wl, bl) {blkq = 64, blkk = 32, mode = topk, rho = 0.5, "
     "combine = sla, region = all}"},
    /* phi = softmax over the head dim (the default) */
    {2, 128, 32, W_SLA, "sparse_attention(q, k, v, wl, bl) {" MASK_HYB ", combine = sla}"},
    {2, 128, 64, "  weight al : f32[1, 2, 128, 1] = random(uniform, 0, 1, seed=9)\n",
     "sparse_attention(q, k, v, al) {blkq = 32, blkk = 32, mode = topk, rho = 0.25, "
     "combine = sla2, region = all}"},
    /* every block selected: the complement is empty, o_l is 0 (sla: the bias alone) */
    {1, 64, 32, W_SLA,
     "sparse_attention(q, k, v, wl, bl) {blkq = 32, blkk = 32, mode = topk, rho = 1, "
     "combine = sla, feature_map = elu1}"},
};

/* Compiled SLA / SLA2 programs: simulator == C integer reference == LLVM integer reference, and
 * the 8-bit output close to the float interpreter's (which runs the linear branch in float). */
START_TEST(linear_branch_exact)
{
	Result r = run_attn(model_lin(lin_cases[_i].H, lin_cases[_i].N, lin_cases[_i].D,
	                              lin_cases[_i].weights, lin_cases[_i].node),
	                    lin_cases[_i].D, SRAM);
	ck_assert_msg(r.exact, "case %d (%s): simulator differs from the integer reference", _i,
	              lin_cases[_i].node);
	ck_assert_msg(r.llvm_exact, "case %d (%s): the LLVM reference differs from the C one", _i,
	              lin_cases[_i].node);
	ck_assert_msg(r.cos_float > 0.99, "case %d (%s): cosine with float %.5f", _i,
	              lin_cases[_i].node, r.cos_float);
}
END_TEST

/* A batch of two, two heads, more keys than queries, blkq < blkk. */
START_TEST(linear_branch_batch_grouped)
{
	static const char *const nodes[] = {
	    "weight al : f32[2, 2, 64, 1] = random(uniform, 0, 1, seed=11)\n  %o = "
	    "sparse_attention(q, k, v, al) {blkq = 32, blkk = 32, mode = topk, rho = 0.5, combine "
	    "= "
	    "sla2, feature_map = elu1}",
	    "weight wl : f32[32, 32] = random(uniform, -0.2, 0.2, seed=12)\n  %o = "
	    "sparse_attention(q, k, v, wl) {blkq = 16, blkk = 32, mode = topk, rho = 0.25, combine "
	    "= sla, region = all}",
	};
	char src[1024];
	unsigned i;
	for (i = 0; i < 2; i++) {
		Result r;
		snprintf(
		    src, sizeof src,
		    "kir 1\ngraph t {\n  input q : f32[2, 2, 64, 32]\n  input k : f32[2, 2, 128, "
		    "32]\n  input v : f32[2, 2, 128, 32]\n  %s : f32[2, 2, 64, 32]\n  output y = "
		    "%%o\n}\n",
		    nodes[i]);
		r = run_attn(src, 32, SRAM);
		ck_assert_msg(r.exact && r.llvm_exact, "%s: sim %d, llvm %d", nodes[i], r.exact,
		              r.llvm_exact);
		ck_assert_msg(r.cos_float > 0.99, "%s: cosine %.5f", nodes[i], r.cos_float);
	}
}
END_TEST

/* Four heads per tile over the complement: neither the blocks' sums nor the cores' partial sums
 * fit the tile memory; partials in DRAM, the selected blocks recomputed. */
START_TEST(linear_branch_partials_in_dram)
{
	Result r = run_attn(
	    "kir 1\ngraph t {\n  input q : f32[1, 12, 64, 64]\n  input k : f32[1, 12, 128, 64]\n"
	    "  input v : f32[1, 12, 128, 64]\n  weight al : f32[1] = fill(0.6)\n  %o = "
	    "sparse_attention(q, k, v, al) {blkq = 64, blkk = 32, mode = topk, rho = 0.5, combine "
	    "= "
	    "sla2, feature_map = relu} : f32[1, 12, 64, 64]\n  output y = %o\n}\n",
	    64, SRAM);
	ck_assert_msg(r.exact && r.llvm_exact, "sim %d, llvm %d", r.exact, r.llvm_exact);
	ck_assert_msg(r.cos_float > 0.99, "cosine %.5f", r.cos_float);
}
END_TEST

/* Models the linear branch refuses, with their location. */
static const struct {
	unsigned D;
	const char *weights, *node, *want;
} lin_bad[] = {
    {32, "  weight wl : f32[32, 16] = fill(0.1)\n",
     "sparse_attention(q, k, v, wl) {blkq = 32, blkk = 32, combine = sla, feature_map = elu1}",
     "attn.kir:7:"},
    {64, W_SLA, "sparse_attention(q, k, v, wl, bl) {blkq = 32, blkk = 2, combine = sla}",
     "blkk 2 is too small"},
    {128, W_SLA,
     "sparse_attention(q, k, v, wl, bl) {blkq = 32, blkk = 32, combine = sla, "
     "feature_map = relu}",
     "keeps [D, Dv + 1] sums (and the 4 pooled key blocks) in one 128-column crossbar"},
    {32, "  weight al : f32[1] = fill(2000)\n",
     "sparse_attention(q, k, v, al) {blkq = 32, blkk = 32, combine = sla2, feature_map = relu}",
     "alpha 2000: the lowering takes |alpha| <= 1024"},
};

START_TEST(linear_branch_bad)
{
	Diag d = {0};
	HwArch arch;
	KProg *p = NULL;
	const char *src = model_lin(1, 128, lin_bad[_i].D, lin_bad[_i].weights, lin_bad[_i].node);
	Graph *g = ir_parse_mem(src, strlen(src), "attn.kir", NULL, IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert(hw_arch_load(&arch, SRAM, &d) == 0);
	if (g) {
		ck_assert_int_eq(cc_compile(g, &arch, NULL, &p, NULL, &d), -1);
		ck_assert_ptr_null(p);
		ir_free(g);
	}
	ck_assert_msg(strstr(d.msg, lin_bad[_i].want), "case %d: %s", _i, d.msg);
	ck_assert_msg(strstr(d.msg, "attn.kir:"), "no location: %s", d.msg);
}
END_TEST

/* Head dims that differ, from a graph with v of another width. */
START_TEST(linear_branch_head_dims)
{
	Diag d = {0};
	HwArch arch;
	KProg *p = NULL;
	Graph *g =
	    parse("kir 1\ngraph t {\n  input q : f32[1, 1, 64, 32]\n  input k : f32[1, 1, 64, 32]\n"
	          "  input v : f32[1, 1, 64, 16]\n  weight wl : f32[16, 16] = fill(0.1)\n"
	          "  %o = sparse_attention(q, k, v, wl) {blkq = 32, blkk = 32, combine = sla, "
	          "feature_map = relu} : f32[1, 1, 64, 16]\n  output y = %o\n}\n");
	ck_assert(hw_arch_load(&arch, SRAM, &d) == 0);
	ck_assert_int_eq(cc_compile(g, &arch, NULL, &p, NULL, &d), -1);
	ck_assert_msg(strstr(d.msg, "attn.kir:7:8: error: the linear branch needs equal head dims"),
	              "%s", d.msg);
	ir_free(g);
}
END_TEST

/* The bundled SLA example runs bit-exact through the CLI, and its model dump names the branch. */
START_TEST(linear_branch_cli)
{
	char cmd[1024], *out = NULL;
	snprintf(cmd, sizeof cmd, "%s run %s --arch %s --json", KOLMO_BIN,
	         SRC("examples/attention/sla_attn_256.kir"), SRAM);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "\"bit_exact_with_integer_reference\": true"), "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s compile %s --arch %s --emit model", KOLMO_BIN,
	         SRC("examples/attention/sla_attn_256.kir"), SRAM);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "linear branch sla over the unselected blocks, phi elu1"), "%s",
	              out);
	free(out);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("attn");
	TCase *t = tcase_create("attn");
	tcase_set_timeout(t, 300);
	tcase_add_loop_test(t, sim_equals_integer_reference, 0, sizeof cases / sizeof *cases);
	tcase_add_test(t, dense_close_to_float);
	tcase_add_test(t, mask_reference_vector);
	tcase_add_test(t, llvm_float_reference);
	tcase_add_test(t, llvm_mask_vector);
	tcase_add_test(t, sparse_is_faster);
	tcase_add_loop_test(t, bad_models, 0, sizeof bad / sizeof *bad);
	tcase_add_test(t, bad_graphs);
	tcase_add_test(t, cli_run);
	tcase_add_loop_test(t, linear_branch_exact, 0, sizeof lin_cases / sizeof *lin_cases);
	tcase_add_loop_test(t, linear_branch_bad, 0, sizeof lin_bad / sizeof *lin_bad);
	tcase_add_test(t, linear_branch_head_dims);
	tcase_add_test(t, linear_branch_cli);
	tcase_add_test(t, linear_branch_batch_grouped);
	tcase_add_test(t, linear_branch_partials_in_dram);
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
