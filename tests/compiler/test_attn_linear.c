/* test_attn_linear.c: the SLA / SLA2 linear branch of sparse attention: bit-exact sim == C ==
 * LLVM over its feature maps, regions, combines and shapes, close to the float interpreter;
 * refused models located; the example through the CLI. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_testutil.h"

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
	Suite *s = suite_create("attn_linear");
	TCase *t = tcase_create("attn_linear");
	tcase_set_timeout(t, 300);
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
