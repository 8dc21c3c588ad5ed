/* test_attn.c: the attention lowering. Compiled dense and sparse attention run on the simulator
 * and must equal the integer reference (and the LLVM JIT's, an independent implementation) bit
 * for bit over the mask modes, causal / sink, grouped K/V heads, unequal block sizes and
 * self-similarity thresholds (on inputs with noise blocks, where the integer mask must also equal
 * the float one); the integer block mask reproduces the reference file's test vector, with and
 * without the self-similarity test; quantised dense attention stays close to the float
 * interpreter; sparse attention gets faster as fewer blocks are kept; bad models get located
 * errors. The SLA / SLA2 linear branch likewise: bit-exact sim == C == LLVM over its feature
 * maps, regions, combines and shapes, close to the float interpreter, refusals located. Attention
 * layers (projections, layer norm, residual) and KAN-former blocks: bit-exact sim == C == LLVM,
 * close to the float interpreter, patterns that do not fit located. */
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

typedef void (*InputFn)(float *x, uint32_t n, uint32_t D, uint64_t seed);

static Result run_attn_in(const char *src, uint32_t D, const char *arch_path, InputFn gen);

static Result
run_attn(const char *src, uint32_t D, const char *arch_path)
{
	return run_attn_in(src, D, arch_path, inputs);
}

static Result
run_attn_in(const char *src, uint32_t D, const char *arch_path, InputFn gen)
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
	gen(x, nin, D, 7);
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

/* An attention layer: x [1, N, Dm] -> q (H heads), k, v (Hk heads) of head dim D -> node ->
 * output projection to Dout, with biases on q and the output. */
static char *
layer(unsigned N, unsigned Dm, unsigned H, unsigned Hk, unsigned D, unsigned Dout, const char *node)
{
	static char buf[4096];
	double r = 1.0 / sqrt((double)Dm), ro = 1.0 / sqrt((double)(H * D));
	snprintf(buf, sizeof buf,
	         "kir 1\ngraph t {\n  input x : f32[1, %u, %u]\n"
	         "  weight wq : f32[%u, %u] = random(uniform, -%g, %g, seed=1)\n"
	         "  weight bq : f32[%u] = random(uniform, -0.1, 0.1, seed=2)\n"
	         "  weight wk : f32[%u, %u] = random(uniform, -%g, %g, seed=3)\n"
	         "  weight wv : f32[%u, %u] = random(uniform, -%g, %g, seed=4)\n"
	         "  weight wo : f32[%u, %u] = random(uniform, -%g, %g, seed=5)\n"
	         "  weight bo : f32[%u] = random(uniform, -0.1, 0.1, seed=6)\n"
	         "  %%q = linear(x, wq, bq) : f32[1, %u, %u]\n"
	         "  %%k = linear(x, wk) : f32[1, %u, %u]\n"
	         "  %%v = linear(x, wv) : f32[1, %u, %u]\n"
	         "  %%q4 = reshape(%%q) {shape = [1, %u, %u, %u]} : f32[1, %u, %u, %u]\n"
	         "  %%k4 = reshape(%%k) {shape = [1, %u, %u, %u]} : f32[1, %u, %u, %u]\n"
	         "  %%v4 = reshape(%%v) {shape = [1, %u, %u, %u]} : f32[1, %u, %u, %u]\n"
	         "  %%qh = transpose(%%q4) {perm = [0, 2, 1, 3]} : f32[1, %u, %u, %u]\n"
	         "  %%kh = transpose(%%k4) {perm = [0, 2, 1, 3]} : f32[1, %u, %u, %u]\n"
	         "  %%vh = transpose(%%v4) {perm = [0, 2, 1, 3]} : f32[1, %u, %u, %u]\n"
	         "  %%a = %s : f32[1, %u, %u, %u]\n"
	         "  %%at = transpose(%%a) {perm = [0, 2, 1, 3]} : f32[1, %u, %u, %u]\n"
	         "  %%ar = reshape(%%at) {shape = [1, %u, %u]} : f32[1, %u, %u]\n"
	         "  %%o = linear(%%ar, wo, bo) : f32[1, %u, %u]\n  output y = %%o\n}\n",
	         N, Dm, H * D, Dm, r, r, H * D, Hk * D, Dm, r, r, Hk * D, Dm, r, r, Dout, H * D, ro,
	         ro, Dout, N, H * D, N, Hk * D, N, Hk * D, N, H, D, N, H, D, N, Hk, D, N, Hk, D, N,
	         Hk, D, N, Hk, D, H, N, D, Hk, N, D, Hk, N, D, node, H, N, D, N, H, D, N, H * D, N,
	         H * D, N, Dout);
	return buf;
}

/* Replace every `from` in buf (of size cap) by `to`. */
static void
subst(char *buf, size_t cap, const char *from, const char *to)
{
	char *at = buf;
	size_t nf = strlen(from), nt = strlen(to);
	while ((at = strstr(at, from))) {
		ck_assert(strlen(buf) - nf + nt < cap);
		memmove(at + nt, at + nf, strlen(at + nf) + 1);
		memcpy(at, to, nt);
		at += nt;
	}
}

/* The pre-norm form of layer(): y = x + layer(layernorm(x)) (Dout must equal Dm). */
static char *
prenorm(unsigned N, unsigned Dm, unsigned H, unsigned D, const char *node)
{
	static char buf[8192];
	char line[256];
	snprintf(buf, sizeof buf, "%s", layer(N, Dm, H, H, D, Dm, node));
	snprintf(line, sizeof line,
	         "  input x : f32[1, %u, %u]\n  weight ln_g : f32[%u] = random(uniform, 0.5, 1.5, "
	         "seed=7)\n  weight ln_b : f32[%u] = random(uniform, -0.2, 0.2, seed=8)\n",
	         N, Dm, Dm, Dm);
	{
		char from[64];
		snprintf(from, sizeof from, "  input x : f32[1, %u, %u]\n", N, Dm);
		subst(buf, sizeof buf, from, line);
	}
	subst(buf, sizeof buf, "linear(x, ", "linear(%h, ");
	snprintf(line, sizeof line,
	         "  %%h = layernorm(x, ln_g, ln_b) {eps = 1e-05} : f32[1, %u, %u]\n  %%q = ", N,
	         Dm);
	subst(buf, sizeof buf, "  %q = ", line);
	snprintf(line, sizeof line, "  %%r = add(x, %%o) : f32[1, %u, %u]\n  output y = %%r", N,
	         Dm);
	subst(buf, sizeof buf, "  output y = %o", line);
	return buf;
}

/* A KAN-former block: prenorm() followed by r + KAN(layernorm(r)), the feed-forward
 * Dm -> F -> Dm with G = 3, k = 3 (the first layer with a relu after it when relu). */
static char *
block(unsigned N, unsigned Dm, unsigned H, unsigned D, unsigned F, int relu, const char *node)
{
	static char buf[16384];
	char tail[4096], act[128] = "";
	snprintf(buf, sizeof buf, "%s", prenorm(N, Dm, H, D, node));
	if (relu)
		snprintf(act, sizeof act, "  %%fr = relu(%%f0) : f32[1, %u, %u]\n", N, F);
	snprintf(tail, sizeof tail,
	         "  weight ln2_g : f32[%u] = random(uniform, 0.5, 1.5, seed=9)\n"
	         "  weight ln2_b : f32[%u] = random(uniform, -0.2, 0.2, seed=10)\n"
	         "  weight f0b : f32[%u, %u] = random(uniform, -0.1, 0.1, seed=11)\n"
	         "  weight f0s : f32[%u, %u, 6] = random(normal, 0, 0.1, seed=12)\n"
	         "  weight f1b : f32[%u, %u] = random(uniform, -0.1, 0.1, seed=13)\n"
	         "  weight f1s : f32[%u, %u, 6] = random(normal, 0, 0.1, seed=14)\n"
	         "  %%r = add(x, %%o) : f32[1, %u, %u]\n"
	         "  %%h2 = layernorm(%%r, ln2_g, ln2_b) {eps = 1e-05} : f32[1, %u, %u]\n"
	         "  %%f0 = kan_linear(%%h2, f0b, f0s) {grid_size = 3, spline_order = 3, "
	         "grid_range = [-2, 2]} : f32[1, %u, %u]\n%s"
	         "  %%f1 = kan_linear(%%%s, f1b, f1s) {grid_size = 3, spline_order = 3, "
	         "grid_range = [-2, 2]} : f32[1, %u, %u]\n"
	         "  %%y2 = add(%%r, %%f1) : f32[1, %u, %u]\n  output y = %%y2",
	         Dm, Dm, F, Dm, F, Dm, Dm, F, Dm, F, N, Dm, N, Dm, N, F, act, relu ? "fr" : "f0", N,
	         Dm, N, Dm);
	{
		char from[128];
		snprintf(from, sizeof from,
		         "  %%r = add(x, %%o) : f32[1, %u, %u]\n  output y = %%r", N, Dm);
		subst(buf, sizeof buf, from, tail);
	}
	return buf;
}

/* KAN-former blocks compile whole: the simulator equals the C and LLVM integer references. */
START_TEST(block_equals_integer_reference)
{
	static const struct {
		unsigned N, Dm, H, D, F;
		int relu;
		const char *node;
		double min_cos;
	} blk[] = {
	    {128, 64, 2, 32, 128, 0,
	     "sparse_attention(%qh, %kh, %vh) {blkq = 32, blkk = 32, mode = hybrid, rho = 0.25, "
	     "tau = 0.9, causal = true, sink = true}",
	     0.97},
	    {128, 64, 2, 32, 128, 1, "attention(%qh, %kh, %vh) {causal = true}", 0.98},
	};
	uint32_t i;
	for (i = 0; i < sizeof blk / sizeof *blk; i++) {
		Result r = run_attn(block(blk[i].N, blk[i].Dm, blk[i].H, blk[i].D, blk[i].F,
		                          blk[i].relu, blk[i].node),
		                    blk[i].Dm, SRAM);
		ck_assert_msg(r.exact, "block %u: simulator differs from the integer reference", i);
		ck_assert_msg(r.llvm_exact, "block %u: the LLVM reference differs from the C one",
		              i);
		ck_assert_msg(r.cos_float > blk[i].min_cos, "block %u: cosine %.5f vs float", i,
		              r.cos_float);
	}
}
END_TEST

/* An attention layer whose sparse attention has the SLA linear branch (its weights beside the
 * projections'): the simulator equals the C and LLVM integer references. */
START_TEST(layer_sla_equals_integer_reference)
{
	static char buf[8192];
	Result r;
	snprintf(buf, sizeof buf, "%s",
	         prenorm(128, 64, 2, 32,
	                 "sparse_attention(%qh, %kh, %vh, wl, bl) {blkq = 32, blkk = 32, mode = "
	                 "topk, rho = 0.5, combine = sla, feature_map = elu1, region = all}"));
	subst(buf, sizeof buf, "  input x : f32[1, 128, 64]\n",
	      "  input x : f32[1, 128, 64]\n  weight wl : f32[32, 32] = random(uniform, -0.2, 0.2, "
	      "seed=21)\n  weight bl : f32[32] = fill(0.02)\n");
	r = run_attn(buf, 64, SRAM);
	ck_assert_msg(r.exact, "simulator differs from the integer reference");
	ck_assert_msg(r.llvm_exact, "the LLVM reference differs from the C one");
	ck_assert_msg(r.cos_float > 0.98, "cosine %.5f vs float", r.cos_float);
}
END_TEST

/* Pre-norm attention layers: the integer layer norm (isqrt, reciprocal) and residual add too. */
START_TEST(prenorm_equals_integer_reference)
{
	static const struct {
		unsigned N, Dm, H, D;
		const char *node;
		double min_cos;
	} pre[] = {
	    {128, 128, 2, 64, "attention(%qh, %kh, %vh) {causal = true}", 0.99},
	    {128, 96, 3, 32,
	     "sparse_attention(%qh, %kh, %vh) {blkq = 32, blkk = 32, mode = topk, rho = 0.5}",
	     0.98},
	    /* 6 items: the second tile has cores without items, which must meet the kernel's
	     * two pre-pass barriers (the self-similarity test's too) */
	    {128, 96, 3, 32,
	     "sparse_attention(%qh, %kh, %vh) {blkq = 64, blkk = 32, mode = topk, rho = 0.5, "
	     "simthresh = 0.0}",
	     0.98},
	};
	uint32_t i;
	for (i = 0; i < sizeof pre / sizeof *pre; i++) {
		Result r = run_attn(prenorm(pre[i].N, pre[i].Dm, pre[i].H, pre[i].D, pre[i].node),
		                    pre[i].Dm, SRAM);
		ck_assert_msg(r.exact, "pre-norm %u: simulator differs from the integer reference",
		              i);
		ck_assert_msg(r.llvm_exact,
		              "pre-norm %u: the LLVM reference differs from the C one", i);
		ck_assert_msg(r.cos_float > pre[i].min_cos, "pre-norm %u: cosine %.5f vs float", i,
		              r.cos_float);
	}
}
END_TEST

/* The integer square root against the C library's, over a spread of values. */
START_TEST(isqrt_exact)
{
	int64_t v;
	for (v = 0; v < 2000000000; v = v * 3 / 2 + 7) {
		int64_t s = cc_isqrt(v);
		ck_assert_msg(s * s <= v && (s + 1) * (s + 1) > v, "isqrt(%lld) = %lld",
		              (long long)v, (long long)s);
	}
	ck_assert_int_eq(cc_isqrt(2147483647), 46340);
}
END_TEST

static const struct {
	unsigned N, Dm, H, Hk, D, Dout;
	const char *node;
	double min_cos;
} layers[] = {
    {128, 128, 2, 2, 64, 128, "attention(%qh, %kh, %vh)", 0.99},
    {128, 64, 2, 2, 32, 96,
     "sparse_attention(%qh, %kh, %vh) {blkq = 32, blkk = 32, mode = hybrid, rho = 0.25, tau = "
     "0.9, causal = true, sink = true}",
     0.95},
    {256, 128, 4, 4, 32, 128,
     "sparse_attention(%qh, %kh, %vh) {blkq = 32, blkk = 32, mode = topk, rho = 0.5}", 0.95},
};

/* Attention layers compile whole: the simulated projections and kernel equal the integer
 * reference and the LLVM one bit for bit, and stay close to the float interpreter. */
START_TEST(layer_equals_integer_reference)
{
	Result r = run_attn(layer(layers[_i].N, layers[_i].Dm, layers[_i].H, layers[_i].Hk,
	                          layers[_i].D, layers[_i].Dout, layers[_i].node),
	                    layers[_i].Dm, SRAM);
	ck_assert_msg(r.exact, "layer %d: simulator differs from the integer reference", _i);
	ck_assert_msg(r.llvm_exact, "layer %d: the LLVM reference differs from the C one", _i);
	ck_assert_msg(r.cos_float > layers[_i].min_cos, "layer %d: cosine %.5f vs float", _i,
	              r.cos_float);
}
END_TEST

/* Attention layers that do not fit the pattern: located errors. */
START_TEST(bad_layers)
{
	Diag d = {0};
	HwArch arch;
	KProg *p = NULL;
	char src[4096], *at;
	Graph *g;
	ck_assert(hw_arch_load(&arch, SRAM, &d) == 0);
	/* k projected from %q, not from the graph input */
	snprintf(src, sizeof src, "%s", layer(128, 128, 2, 2, 64, 128, "attention(%qh, %kh, %vh)"));
	at = strstr(src, "linear(x, wk)");
	ck_assert_ptr_nonnull(at);
	memmove(at + 14, at + 13, strlen(at + 13) + 1);
	memcpy(at, "linear(%q, wk)", 14);
	g = ir_parse_mem(src, strlen(src), "attn.kir", NULL, IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	ck_assert_int_eq(cc_compile(g, &arch, NULL, &p, NULL, &d), -1);
	ck_assert_msg(strstr(d.msg, "attn.kir:11:15: error: attention layer: the k projection must "
	                            "read the graph input"),
	              "%s", d.msg);
	ir_free(g);
	memset(&d, 0, sizeof d);
	/* an activation between the output projection and the graph output */
	snprintf(src, sizeof src, "%s", layer(128, 128, 2, 2, 64, 128, "attention(%qh, %kh, %vh)"));
	at = strstr(src, "  output y = %o");
	ck_assert_ptr_nonnull(at);
	snprintf(at, sizeof src - (size_t)(at - src),
	         "  %%r = relu(%%o) : f32[1, 128, 128]\n  output y = %%r\n}\n");
	g = ir_parse_mem(src, strlen(src), "attn.kir", NULL, IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	ck_assert_int_eq(cc_compile(g, &arch, NULL, &p, NULL, &d), -1);
	ck_assert_msg(strstr(d.msg, "attn.kir:23:8: error: op 'relu' after the attention layer"),
	              "%s", d.msg);
	ir_free(g);
	memset(&d, 0, sizeof d);
	/* block sizes the attention kernel refuses */
	snprintf(src, sizeof src, "%s",
	         layer(128, 128, 2, 2, 64, 128,
	               "sparse_attention(%qh, %kh, %vh) {blkq = 32, blkk = 24}"));
	g = ir_parse_mem(src, strlen(src), "attn.kir", NULL, IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	ck_assert_int_eq(cc_compile(g, &arch, NULL, &p, NULL, &d), -1);
	ck_assert_msg(strstr(d.msg, "must be powers of two"), "%s", d.msg);
	ir_free(g);
}
END_TEST

/* Transformer blocks that do not fit the pattern: located errors, nothing compiled. */
START_TEST(bad_blocks)
{
	static const struct {
		const char *from, *to, *want;
	} edits[] = {
	    /* the layer's output feeds an op that is neither the norm nor the final add */
	    {"  %h2 = layernorm(%r, ln2_g, ln2_b) {eps = 1e-05}", "  %h2 = relu(%r)",
	     "error: op 'relu' after the attention layer: a transformer block continues"},
	    /* an op inside the feed-forward chain */
	    {"  %f1 = kan_linear(%f0,",
	     "  %fe = exp(%f0) : f32[1, 128, 128]\n  %f1 = kan_linear(%fe,",
	     "error: the feed-forward must be a chain of linear / kan_linear layers"},
	    /* an epsilon beyond the integer layer norm's range */
	    {"  %h2 = layernorm(%r, ln2_g, ln2_b) {eps = 1e-05}",
	     "  %h2 = layernorm(%r, ln2_g, ln2_b) {eps = 1e+30}",
	     "error: layernorm over 64 values with eps 1e+30"},
	    /* the final add of x instead of the layer's output */
	    {"  %y2 = add(%r, %f1)", "  %y2 = add(x, %f1)",
	     "error: the attention layer's output must feed a layernorm"},
	};
	Diag d = {0};
	HwArch arch;
	uint32_t i;
	ck_assert(hw_arch_load(&arch, SRAM, &d) == 0);
	for (i = 0; i < sizeof edits / sizeof *edits; i++) {
		char *src = block(128, 64, 2, 32, 128, 0, "attention(%qh, %kh, %vh)");
		KProg *p = NULL;
		Graph *g;
		ck_assert_msg(strstr(src, edits[i].from), "edit %u: %s", i, edits[i].from);
		subst(src, 16384, edits[i].from, edits[i].to);
		memset(&d, 0, sizeof d);
		g = ir_parse_mem(src, strlen(src), "attn.kir", NULL, IR_PARSE_LOAD_WEIGHTS, &d);
		ck_assert_msg(g != NULL, "edit %u: %s", i, d.msg);
		ck_assert_int_eq(cc_compile(g, &arch, NULL, &p, NULL, &d), -1);
		ck_assert_ptr_null(p);
		ck_assert_msg(strstr(d.msg, edits[i].want) && strstr(d.msg, "attn.kir:"),
		              "edit %u: %s", i, d.msg);
		ir_free(g);
	}
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
    {64, W_SLA,
     "sparse_attention(q, k, v, wl, bl) {blkq = 32, blkk = 32, combine = sla, simthresh = 0.5}",
     "the self-similarity test (simthresh >= 0) with the SLA / SLA2 linear branch"},
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
	tcase_add_loop_test(t, layer_equals_integer_reference, 0, sizeof layers / sizeof *layers);
	tcase_add_test(t, bad_layers);
	tcase_add_test(t, bad_blocks);
	tcase_add_test(t, prenorm_equals_integer_reference);
	tcase_add_test(t, isqrt_exact);
	tcase_add_test(t, block_equals_integer_reference);
	tcase_add_test(t, layer_sla_equals_integer_reference);
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
