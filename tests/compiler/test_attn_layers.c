/* test_attn_layers.c: attention layers (projections, layer norm, residual) and KAN-former blocks
 * compile whole: the simulator equals the C and LLVM integer references bit for bit and stays
 * close to the float interpreter (dense and sparse attention, the SLA branch, fused ReLU); the
 * integer square root is exact; graphs that do not fit the patterns get located errors. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_testutil.h"

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

static Suite *
suite(void)
{
	Suite *s = suite_create("attn_layers");
	TCase *t = tcase_create("attn_layers");
	tcase_set_timeout(t, 300);
	tcase_add_loop_test(t, layer_equals_integer_reference, 0, sizeof layers / sizeof *layers);
	tcase_add_test(t, bad_layers);
	tcase_add_test(t, bad_blocks);
	tcase_add_test(t, prenorm_equals_integer_reference);
	tcase_add_test(t, isqrt_exact);
	tcase_add_test(t, block_equals_integer_reference);
	tcase_add_test(t, layer_sla_equals_integer_reference);
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
