/* test_interp.c: the float interpreter against exact values: the block-mask test vector and the
 * KAN layer of the reference files, dense attention as the all-blocks case of sparse attention,
 * hand-computed softmax, layer norm and linear attention, and the compiler's chain reference. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cc.h"
#include "interp.h"
#include "testutil.h"

static Graph *
parse(const char *txt)
{
	Diag d = {0};
	Graph *g = ir_parse_mem(txt, strlen(txt), "test.kir", NULL, IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	return g;
}

static const float blockq[16] = {0.9f,  0.1f, 1.1f,  0.3f,  0.2f, 0.8f,  -0.1f, 1.2f,
                                 -0.7f, 0.4f, -1.2f, -0.1f, 0.1f, -0.9f, 0.6f,  -1.3f};

/* reference/sparse_attention.md, test vector: selections per row for top-k rho=0.5 and top-p
 * tau=0.9; the hybrid is their union. */
START_TEST(block_mask_vector)
{
	static const uint8_t topk[4][4] = {{1, 1, 0, 0}, {1, 1, 0, 0}, {0, 1, 1, 0}, {1, 0, 0, 1}};
	static const uint8_t topp[4][4] = {{1, 1, 0, 1}, {1, 1, 0, 0}, {0, 1, 1, 1}, {1, 0, 0, 1}};
	uint8_t m[16];
	int r, c, mode;
	for (mode = 0; mode < 3; mode++) {
		cc_block_mask_ref(blockq, blockq, 8, 8, 2, 2, 2, mode, 0.5, 0.9, -0.1, 0, 0, m);
		for (r = 0; r < 4; r++)
			for (c = 0; c < 4; c++) {
				int want = mode == 0   ? topk[r][c]
				           : mode == 1 ? topp[r][c]
				                       : topk[r][c] | topp[r][c];
				ck_assert_msg(m[r * 4 + c] == want, "mode %d row %d col %d: %d",
				              mode, r, c, m[r * 4 + c]);
			}
	}
	/* causal: block (iq, jk) allowed iff jk*blkk < (iq+1)*blkq; sink keeps column 0 */
	cc_block_mask_ref(blockq, blockq, 8, 8, 2, 2, 2, 1, 0.5, 0.9, -0.1, 1, 1, m);
	for (r = 0; r < 4; r++)
		for (c = r + 1; c < 4; c++)
			ck_assert_int_eq(m[r * 4 + c], 0);
	for (r = 0; r < 4; r++)
		ck_assert_int_eq(m[r * 4], 1);
	/* a threshold above every similarity marks all blocks "not self-similar": all kept */
	cc_block_mask_ref(blockq, blockq, 8, 8, 2, 2, 2, 0, 0.25, 0.9, 0.999, 0, 0, m);
	for (r = 0; r < 16; r++)
		ck_assert_int_eq(m[r], 1);
}
END_TEST

START_TEST(kan_layer_vector)
{
	/* reference/kan.md: I=2, O=1, G=5, k=3, y = 0.008358961121517017 */
	Graph *g =
	    parse("kir 1\ngraph k {\n"
	          "  input x : f32[1, 2]\n"
	          "  weight b : f32[1, 2] = data([0.5, -0.25])\n"
	          "  weight s : f32[1, 2, 8] = data([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, "
	          "-0.1, -0.2, -0.3, -0.4, -0.5, -0.6, -0.7, -0.8])\n"
	          "  weight c : f32[1, 2] = data([1, 2])\n"
	          "  %y = kan_linear(x, b, s, c) : f32[1, 1]\n"
	          "  output y = %y\n}\n");
	const float x[2] = {0.3f, -0.5f};
	const float *in[1] = {x};
	float *out[1];
	Diag d = {0};
	ck_assert_msg(cc_interp(g, in, out, &d) == 0, "%s", d.msg);
	ck_assert_msg(fabs(out[0][0] - 0.008358961121517017) < 2e-7, "y = %.9g", out[0][0]);
	free(out[0]);
	ir_free(g);
}
END_TEST

START_TEST(basis_vectors)
{
	/* kan.md exact vectors, G=5, k=3 on [-1, 1] */
	double t[12], b[12];
	int i;
	for (i = 0; i < 12; i++)
		t[i] = -1 + (i - 3) * 0.4;
	cc_bspline_basis(t, 12, 3, 0.999, b);
	ck_assert(fabs(b[4] - 1.0 / 384000000) < 1e-12);
	ck_assert(fabs(b[5] - 64481197.0 / 384000000) < 1e-12);
	ck_assert(fabs(b[6] - 255997603.0 / 384000000) < 1e-12);
	ck_assert(fabs(b[7] - 21173733.0 / 128000000) < 1e-12);
	cc_bspline_basis(t, 12, 3, 1.5, b);
	ck_assert(fabs(b[6] - 9.0 / 128) < 1e-12 && fabs(b[7] - 235.0 / 384) < 1e-12);
	cc_bspline_basis(t, 12, 3, -1.9, b);
	ck_assert(fabs(b[0] - 9.0 / 128) < 1e-12);
	for (i = 1; i < 8; i++)
		ck_assert(b[i] == 0);
	cc_bspline_basis(t, 12, 3, 2.2, b);
	for (i = 0; i < 8; i++)
		ck_assert(b[i] == 0);
}
END_TEST

static void
fill(float *v, int n, unsigned seed)
{
	int i;
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = (float)((seed >> 8) % 2001) / 1000.0f - 1.0f;
	}
}

START_TEST(sparse_all_blocks_is_dense)
{
	/* rho = 1 keeps every block; with pv_threshold = inf the online softmax is exact. */
	Graph *g = parse(
	    "kir 1\ngraph a {\n"
	    "  input q : f32[1, 2, 16, 8]\n  input k : f32[1, 2, 16, 8]\n"
	    "  input v : f32[1, 2, 16, 8]\n"
	    "  %d = attention(q, k, v) : f32[1, 2, 16, 8]\n"
	    "  %s = sparse_attention(q, k, v) {blkq = 4, blkk = 4, rho = 1} : f32[1, 2, 16, 8]\n"
	    "  output dense = %d\n  output sparse = %s\n}\n");
	float q[256], k[256], v[256], *out[2];
	const float *in[3] = {q, k, v};
	Diag d = {0};
	int i;
	fill(q, 256, 1);
	fill(k, 256, 2);
	fill(v, 256, 3);
	ck_assert_msg(cc_interp(g, in, out, &d) == 0, "%s", d.msg);
	for (i = 0; i < 256; i++)
		ck_assert_msg(fabs(out[0][i] - out[1][i]) < 1e-6, "%d: %g vs %g", i, out[0][i],
		              out[1][i]);
	/* and dense attention is softmax(q k^T / sqrt(8)) v, checked for one row by hand */
	{
		double s[16], mx = -1e9, sum = 0, o0 = 0;
		int t, e;
		for (t = 0; t < 16; t++) {
			s[t] = 0;
			for (e = 0; e < 8; e++)
				s[t] += (double)q[5 * 8 + e] * k[t * 8 + e];
			s[t] /= sqrt(8.0);
			mx = fmax(mx, s[t]);
		}
		for (t = 0; t < 16; t++)
			sum += exp(s[t] - mx);
		for (t = 0; t < 16; t++)
			o0 += exp(s[t] - mx) / sum * v[t * 8 + 3];
		ck_assert(fabs(out[0][5 * 8 + 3] - o0) < 1e-6);
	}
	free(out[0]);
	free(out[1]);
	ir_free(g);
}
END_TEST

START_TEST(norms_and_softmax)
{
	Graph *g =
	    parse("kir 1\ngraph n {\n  input x : f32[2, 3]\n"
	          "  %s = softmax(x) : f32[2, 3]\n  %l = layernorm(x) {eps = 0} : f32[2, 3]\n"
	          "  %r = rmsnorm(x) {eps = 0} : f32[2, 3]\n"
	          "  output s = %s\n  output l = %l\n  output r = %r\n}\n");
	const float x[6] = {1, 2, 3, 0, 0, 0};
	const float *in[1] = {x};
	float *out[3];
	Diag d = {0};
	double e1 = exp(1), e2 = exp(2), e3 = exp(3), z = e1 + e2 + e3;
	ck_assert(cc_interp(g, in, out, &d) == 0);
	ck_assert(fabs(out[0][0] - e1 / z) < 1e-7 && fabs(out[0][2] - e3 / z) < 1e-7);
	ck_assert(fabs(out[0][4] - 1.0 / 3) < 1e-7);
	/* layernorm of [1, 2, 3]: mean 2, variance 2/3 -> [-1.2247, 0, 1.2247] */
	ck_assert(fabs(out[1][0] + sqrt(1.5)) < 1e-6 && fabs(out[1][1]) < 1e-7);
	/* rmsnorm: rms = sqrt(14/3) */
	ck_assert(fabs(out[2][2] - 3 / sqrt(14.0 / 3)) < 1e-6);
	free(out[0]), free(out[1]), free(out[2]);
	ir_free(g);
}
END_TEST

START_TEST(linear_attention_by_hand)
{
	/* relu feature map, one query, two keys: o = q (k0 v0 + k1 v1) / (q (k0 + k1) + eps) */
	Graph *g = parse(
	    "kir 1\ngraph l {\n  input q : f32[1, 1, 1, 1]\n  input k : f32[1, 1, 2, 1]\n"
	    "  input v : f32[1, 1, 2, 1]\n"
	    "  %o = linear_attention(q, k, v) {feature_map = relu, eps = 0.5} : f32[1, 1, 1, 1]\n"
	    "  output o = %o\n}\n");
	const float q[1] = {2}, k[2] = {1, 3}, v[2] = {10, 20};
	const float *in[3] = {q, k, v};
	float *out[1];
	Diag d = {0};
	ck_assert_msg(cc_interp(g, in, out, &d) == 0, "%s", d.msg);
	ck_assert_msg(fabs(out[0][0] - 2.0 * (10 + 60) / (2.0 * 4 + 0.5)) < 1e-5, "%g", out[0][0]);
	free(out[0]);
	ir_free(g);
}
END_TEST

START_TEST(interp_equals_chain_reference)
{
	static const char *const models[] = {
	    SRC("examples/kan/digits_kan.kir"), SRC("examples/kan/digits_mlp.kir"),
	    SRC("tests/compiler/cases/tiny_linear.kir"), SRC("tests/compiler/cases/tiny_kan.kir")};
	Diag d = {0};
	Graph *g = ir_parse_file(models[_i], IR_PARSE_LOAD_WEIGHTS, &d);
	float x[64], y[512], *out[1];
	const float *in[1] = {x};
	int i, n;
	ck_assert_msg(g != NULL, "%s", d.msg);
	fill(x, 64, 7);
	ck_assert_msg(cc_eval_float(g, x, y, &d) == 0, "%s", d.msg);
	ck_assert_msg(cc_interp(g, in, out, &d) == 0, "%s", d.msg);
	n = (int)ir_type_elems(&g->tensors[g->outputs[0].t].type);
	for (i = 0; i < n; i++)
		ck_assert_msg(fabs(out[0][i] - y[i]) <= 1e-5 * (1 + fabs(y[i])), "%d: %g vs %g", i,
		              out[0][i], y[i]);
	free(out[0]);
	ir_free(g);
}
END_TEST

/* pykan's layout evaluates like its efficient-kan twin (canonicalisation before evaluation). */
START_TEST(pykan_equals_twin)
{
	Diag d = {0};
	Graph *p =
	    ir_parse_file(SRC("tests/compiler/cases/pykan_tiny.kir"), IR_PARSE_LOAD_WEIGHTS, &d);
	Graph *t =
	    ir_parse_file(SRC("tests/compiler/cases/pykan_twin.kir"), IR_PARSE_LOAD_WEIGHTS, &d);
	const float x[3] = {0.3f, -0.5f, 0.9f};
	const float *in[1] = {x};
	float *op[1], *ot[1];
	ck_assert_msg(p && t, "%s", d.msg);
	ck_assert_msg(cc_interp(p, in, op, &d) == 0, "%s", d.msg);
	ck_assert_msg(cc_interp(t, in, ot, &d) == 0, "%s", d.msg);
	ck_assert(op[0][0] == ot[0][0] && op[0][1] == ot[0][1]);
	ck_assert(op[0][0] != 0);
	free(op[0]);
	free(ot[0]);
	ir_free(p);
	ir_free(t);
}
END_TEST

START_TEST(attention_examples_run)
{
	/* The bundled transformer blocks evaluate end to end (shapes, every op). */
	static const char *const models[] = {SRC("examples/attention/sparse_block.kir"),
	                                     SRC("examples/attention/dense_block.kir")};
	Diag d = {0};
	Graph *g = ir_parse_file(models[_i], IR_PARSE_LOAD_WEIGHTS, &d);
	float *inputs[8], *out[4];
	const float *in[8];
	uint32_t i, k = 0, o;
	ck_assert_msg(g != NULL, "%s", d.msg);
	for (i = 0; i < g->ntensors; i++)
		if (g->tensors[i].kind == IR_INPUT) {
			int64_t n = ir_type_elems(&g->tensors[i].type);
			inputs[k] = malloc(sizeof(float) * (size_t)n);
			fill(inputs[k], (int)n, 11 + k);
			in[k] = inputs[k];
			k++;
		}
	ck_assert_msg(cc_interp(g, in, out, &d) == 0, "%s", d.msg);
	for (o = 0; o < g->noutputs; o++) {
		int64_t n = ir_type_elems(&g->tensors[g->outputs[o].t].type), j;
		for (j = 0; j < n; j++)
			ck_assert_msg(isfinite(out[o][j]), "output %u element %lld not finite", o,
			              (long long)j);
		free(out[o]);
	}
	for (i = 0; i < k; i++)
		free(inputs[i]);
	ir_free(g);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("interp");
	TCase *t = tcase_create("interp");
	SRunner *sr;
	int nf;
	tcase_set_timeout(t, 120);
	tcase_add_test(t, block_mask_vector);
	tcase_add_test(t, kan_layer_vector);
	tcase_add_test(t, basis_vectors);
	tcase_add_test(t, sparse_all_blocks_is_dense);
	tcase_add_test(t, norms_and_softmax);
	tcase_add_test(t, linear_attention_by_hand);
	tcase_add_loop_test(t, interp_equals_chain_reference, 0, 4);
	tcase_add_loop_test(t, attention_examples_run, 0, 2);
	tcase_add_test(t, pykan_equals_twin);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
