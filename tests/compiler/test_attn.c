/* test_attn.c: the attention lowering. Compiled dense and sparse attention run on the simulator
 * and must equal the integer reference (and the LLVM JIT's, an independent implementation) bit
 * for bit over the mask modes, causal / sink, grouped K/V heads, unequal block sizes and
 * self-similarity thresholds (on inputs with noise blocks, where the integer mask must also equal
 * the float one); the integer block mask reproduces the reference file's test vector, with and
 * without the self-similarity test; quantised dense attention stays close to the float
 * interpreter; sparse attention gets faster as fewer blocks are kept; bad models get located
 * errors. The linear branch: test_attn_linear.c; layers and blocks: test_attn_layers.c. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_testutil.h"

/* Blocks of 32 tokens on topics (tokens near a random vector of the block), except every block
 * b in noisy_block(b), which is white noise: a topic block's tokens are self-similar (mean
 * cosine near 0.9, keys smoothed or not), a noise block's are not (near 1/32). Query and key
 * blocks at the same position share a topic, so each query block's best key block is its own. */
static int
noisy_block(uint32_t b)
{
	return b % 4 == 2 || b % 8 == 5;
}

static void
topic_inputs(float *x, uint32_t n, uint32_t D, uint64_t seed)
{
	uint32_t i, N = 256; /* tokens per head */
	for (i = 0; i < n; i++) {
		uint32_t tok = i / D, b = tok % N / 32, e = i % D;
		uint64_t h = (b + 1) * 0x9e3779b97f4a7c15ull ^ (e + 1) * 0xc2b2ae3d27d4eb4full;
		double c, u;
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		u = ((double)(seed >> 11) * 0x1.0p-53) * 2 - 1;
		h ^= h >> 29, h *= 0xbf58476d1ce4e5b9ull, h ^= h >> 32;
		c = ((double)(h >> 11) * 0x1.0p-53) * 2 - 1;
		x[i] = (float)(noisy_block(b) ? u : fmax(-1, fmin(1, 0.85 * c + 0.15 * u)));
	}
}

/* topic_inputs with every key moved to 0.5 k + 0.5: without smoothing (subtracting the keys'
 * mean) even the noise key blocks would have a mean cosine near 0.75. */
static void
offset_topic_inputs(float *x, uint32_t n, uint32_t D, uint64_t seed)
{
	uint32_t H = n / (3 * 256 * D), i;
	topic_inputs(x, n, D, seed);
	for (i = H * 256 * D; i < 2 * H * 256 * D; i++)
		x[i] = 0.5f * x[i] + 0.5f;
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

/* simthresh > 0 on topic inputs, whose noise blocks of q and k are not self-similar: both rules
 * fire (rows of noisy query blocks and columns of noisy key blocks are kept). */
static const struct {
	unsigned H, D;
	const char *node;
} sim_cases[] = {
    {2, 64,
     "sparse_attention(q, k, v) {blkq = 32, blkk = 32, mode = topk, rho = 0.125, simthresh = "
     "0.5}"},
    {1, 64,
     "sparse_attention(q, k, v) {blkq = 32, blkk = 32, mode = hybrid, rho = 0.125, tau = 0.5, "
     "simthresh = 0.5, causal = true, sink = true}"},
    {1, 32,
     "sparse_attention(q, k, v) {blkq = 32, blkk = 16, mode = topp, tau = 0.5, simthresh = "
     "0.3}"},
    {2, 64,
     "sparse_attention(q, k, v) {blkq = 64, blkk = 32, mode = topk, rho = 0.25, simthresh = "
     "0.0, causal = true}"},
    /* more blocks kept than the topics decide: noise key blocks must not take their places */
    {2, 64,
     "sparse_attention(q, k, v) {blkq = 32, blkk = 32, mode = topk, rho = 0.5, simthresh = "
     "0.5}"},
    {2, 64,
     "sparse_attention(q, k, v) {blkq = 32, blkk = 32, mode = topp, tau = 0.95, simthresh = "
     "0.5}"},
    /* short query blocks: the test's scratch does not fit the O buffer and has its own */
    {1, 16,
     "sparse_attention(q, k, v) {blkq = 8, blkk = 64, mode = topk, rho = 0.5, simthresh = "
     "0.3}"},
};

START_TEST(simthresh_sim_equals_integer_reference)
{
	Result r = run_attn_in(model(sim_cases[_i].H, 256, sim_cases[_i].D, sim_cases[_i].node),
	                       sim_cases[_i].D, SRAM, topic_inputs);
	ck_assert_msg(r.exact, "case %d (%s): simulator differs from the integer reference", _i,
	              sim_cases[_i].node);
	ck_assert_msg(r.llvm_exact, "case %d (%s): the LLVM reference differs from the C one", _i,
	              sim_cases[_i].node);
}
END_TEST

/* The integer block mask of the first two simthresh cases (and of the first on keys with an
 * offset, where only smoothing finds the noise key blocks) against the float block mask of the
 * interpreter and against the mask the inputs are built for: the diagonal (each query block's
 * own topic), the rows of noisy query blocks and the columns of noisy key blocks, within the
 * causal prefix, plus the sink. */
START_TEST(simthresh_mask_matches_float)
{
	Diag d = {0};
	HwArch arch;
	int c = _i % 2;
	InputFn gen = _i < 2 ? topic_inputs : offset_topic_inputs;
	Graph *g = parse(model(sim_cases[c].H, 256, sim_cases[c].D, sim_cases[c].node));
	KProg *p = NULL;
	CcModel *m = NULL;
	const CcAttn *a;
	uint32_t nin, nout, i, j, h, D = sim_cases[c].D, nrow = 0, ncol = 0;
	double sin, sout;
	float *x;
	int32_t *xq;
	uint8_t *mi, *mf;
	ck_assert(hw_arch_load(&arch, SRAM, &d) == 0);
	ck_assert_msg(cc_compile(g, &arch, NULL, &p, &m, &d) == 0, "%s", d.msg);
	a = m->attn;
	ck_assert(a->simk && a->nq == 8 && a->nk == 8);
	cc_model_io(m, &nin, &sin, &nout, &sout);
	x = malloc(sizeof(float) * nin), xq = malloc(sizeof(int32_t) * nin);
	mi = malloc(64), mf = malloc(64);
	gen(x, nin, D, 7);
	for (i = 0; i < nin; i++) {
		double v = x[i] / sin;
		v = v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
		xq[i] = (int32_t)(v > 127 ? 127 : v < -128 ? -128 : v);
	}
	for (h = 0; h < a->H; h++) {
		size_t qo = (size_t)h * 256 * D, ko = (size_t)(a->H + h) * 256 * D;
		cc_attn_mask_q(a, xq + qo, xq + ko, mi);
		cc_block_mask_ref(x + qo, x + ko, 256, 256, D, 32, 32, a->mode, 0.125, 0.5,
		                  ir_attr_float(g, a->node, "simthresh"), a->causal, a->sink, mf);
		for (i = 0; i < 8; i++)
			for (j = 0; j < 8; j++) {
				int want = (!a->causal || j <= i) &&
				           (i == j || noisy_block(i) || noisy_block(j) ||
				            (a->sink && j == 0));
				ck_assert_msg(mf[i * 8 + j] == want,
				              "head %u float mask [%u][%u] = %d", h, i, j,
				              mf[i * 8 + j]);
				ck_assert_msg(mi[i * 8 + j] == want,
				              "head %u integer mask [%u][%u] = %d", h, i, j,
				              mi[i * 8 + j]);
				nrow += noisy_block(i) && j != i && want;
				ncol += noisy_block(j) && !noisy_block(i) && j != i && want;
			}
	}
	ck_assert(nrow > 0 && ncol > 0); /* both rules fired */
	free(x), free(xq), free(mi), free(mf);
	cc_model_free(m);
	kprog_free(p);
	ir_free(g);
	if (gen == offset_topic_inputs) {
		Result r = run_attn_in(model(sim_cases[c].H, 256, D, sim_cases[c].node), D, SRAM,
		                       offset_topic_inputs);
		ck_assert_msg(r.exact && r.llvm_exact, "offset keys: sim %d, LLVM %d", r.exact,
		              r.llvm_exact);
	}
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
	/* The self-similarity test on the same vector. theta 0.5: every block passes (sims 0.91 and
	 * up), the same masks. theta 0.95: query block 2 (0.912) and smoothed key block 2 (0.935)
	 * fail: row 2 keeps every block, column 2 is kept, and the other rows choose among blocks
	 * 0, 1, 3 (the table's P renormalised: top-2 and top-p 0.9 both keep two). */
	a.sparse = 1;
	for (mode = 0; mode < 4; mode++) {
		static const uint8_t want_s[4][4] = {
		    {1, 1, 1, 0}, {1, 1, 1, 0}, {1, 1, 1, 1}, {1, 0, 1, 1}};
		double theta = mode < 2 ? 0.5 : 0.95;
		const uint8_t(*want)[4] = mode >= 2 ? want_s : mode ? want_p : want_k;
		float qf[16];
		uint8_t fmask[16];
		a.mode = mode % 2;
		ck_assert_int_eq(cc_attn_sim_setup(&a, theta), 0);
		ck_assert(a.simk);
		cc_attn_mask_q(&a, q, q, mask);
		for (i = 0; i < 16; i++)
			qf[i] = (float)qv[i / 2][i % 2];
		cc_block_mask_ref(qf, qf, 8, 8, 2, 2, 2, a.mode, 0.5, 0.9, theta, 0, 0, fmask);
		for (i = 0; i < 4; i++)
			for (j = 0; j < 4; j++) {
				ck_assert_msg(mask[i * 4 + j] == want[i][j],
				              "theta %g %s row %d block %d: got %d", theta,
				              a.mode ? "top-p" : "top-k", i, j, mask[i * 4 + j]);
				ck_assert_msg(fmask[i * 4 + j] == want[i][j],
				              "float, theta %g %s row %d block %d: got %d", theta,
				              a.mode ? "top-p" : "top-k", i, j, fmask[i * 4 + j]);
			}
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
	ck_assert_msg(strstr(d.msg, "attn.kir:6:8: error: attention layer: expected transpose"),
	              "%s", d.msg);
	ir_free(g);
	src = "kir 1\ngraph t {\n  input q : f32[1, 1, 64, 64]\n  input k : f32[1, 1, 64, 32]\n  "
	      "input v : f32[1, 1, 64, 64]\n  %o = attention(q, k, v) : f32[1, 1, 64, 64]\n  "
	      "output y = %o\n}\n";
	g = ir_parse_mem(src, strlen(src), "attn.kir", NULL, 0, &d);
	ck_assert_ptr_null(g);
	ck_assert_msg(strstr(d.msg, "attn.kir:6:"), "%s", d.msg);
	/* a self-similarity threshold outside [-1, 1] (the range of a mean cosine): the shape
	 * rule says so at the attribute, for the interpreter and the compiler alike */
	src =
	    model(1, 128, 64, "sparse_attention(q, k, v) {blkq = 32, blkk = 32, simthresh = 1.5}");
	memset(&d, 0, sizeof d);
	g = ir_parse_mem(src, strlen(src), "attn.kir", NULL, 0, &d);
	ck_assert_ptr_null(g);
	ck_assert_msg(strstr(d.msg, "attn.kir:6:57: error: sparse_attention: simthresh must be in "
	                            "[-1, 1]"),
	              "%s", d.msg);
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
	/* the whole KAN-former block compiles (tests/compiler: block_equals_integer_reference runs
	 * smaller ones) */
	snprintf(cmd, sizeof cmd, "%s compile %s --arch %s --emit model", KOLMO_BIN,
	         SRC("examples/attention/sparse_block.kir"), SRAM);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "-> layernorm -> q, k, v projections -> attention") &&
	                  strstr(out, "-> f0 kan 256 -> 512 -> f1 kan 512 -> 256 -> +"),
	              "%s", out);
	free(out);
}
END_TEST

/* ---- the SLA / SLA2 linear branch ---- */

static Suite *
suite(void)
{
	Suite *s = suite_create("attn");
	TCase *t = tcase_create("attn");
	tcase_set_timeout(t, 300);
	tcase_add_loop_test(t, sim_equals_integer_reference, 0, sizeof cases / sizeof *cases);
	tcase_add_loop_test(t, simthresh_sim_equals_integer_reference, 0,
	                    sizeof sim_cases / sizeof *sim_cases);
	tcase_add_loop_test(t, simthresh_mask_matches_float, 0, 3);
	tcase_add_test(t, dense_close_to_float);
	tcase_add_test(t, mask_reference_vector);
	tcase_add_test(t, llvm_float_reference);
	tcase_add_test(t, llvm_mask_vector);
	tcase_add_test(t, sparse_is_faster);
	tcase_add_loop_test(t, bad_models, 0, sizeof bad / sizeof *bad);
	tcase_add_test(t, bad_graphs);
	tcase_add_test(t, cli_run);
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
