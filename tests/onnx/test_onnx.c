/* test_onnx.c: the ONNX front end on the committed models: the digits KAN compiles from .onnx to
 * the same binary as from its .kir; the MLP (Gemm, MatMul, x*Sigmoid(x), Tanh, Softmax) imports
 * with SiLU recognised and matches numpy's outputs (make_onnx.py) through the LLVM reference and
 * the interpreter; the KAN-former block keeps its custom-domain attributes; bad inputs (unsupported
 * op, opsets 12 and 18, dynamic shapes, truncated and corrupt files) are clear errors; the CLI
 * commands accept .onnx. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"
#include "onnx.h"
#include "ref.h"
#include "testutil.h"

#define ARCH SRC("hwmodels/configs/edge-kan.yaml")

static char *
slurp(const char *path, size_t *len)
{
	Diag d = {0};
	char *b = read_file(path, (size_t)1 << 30, len, &d);
	ck_assert_msg(b != NULL, "%s", d.msg);
	return b;
}

static unsigned
count_op(const Graph *g, IrOpcode op)
{
	unsigned i, n = 0;
	for (i = 0; i < g->nnodes; i++)
		n += g->nodes[i].op == op;
	return n;
}

START_TEST(digits_round_trip)
{
	char dir[256], cmd[2048], *a, *b, *out = NULL;
	size_t la, lb;
	make_tmpdir(dir, sizeof dir);
	ck_assert(dir[0]);
	snprintf(cmd, sizeof cmd, "%s compile %s --arch %s -o %s/kir.kelf", KOLMO_BIN,
	         SRC("examples/kan/trained/digits_kan.kir"), ARCH, dir);
	ck_assert_int_eq(run(cmd, NULL), 0);
	snprintf(cmd, sizeof cmd, "%s compile %s --arch %s -o %s/onnx.kelf", KOLMO_BIN,
	         SRC("examples/onnx/digits_kan.onnx"), ARCH, dir);
	ck_assert_int_eq(run(cmd, &out), 0);
	free(out);
	snprintf(cmd, sizeof cmd, "%s/kir.kelf", dir);
	a = slurp(cmd, &la);
	snprintf(cmd, sizeof cmd, "%s/onnx.kelf", dir);
	b = slurp(cmd, &lb);
	ck_assert_uint_gt(la, 1000);
	ck_assert_uint_eq(la, lb);
	ck_assert_msg(memcmp(a, b, la) == 0, "the .kelf from .onnx differs from the one from .kir");
	free(a);
	free(b);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(run(cmd, NULL), 0);
}
END_TEST

/* The digits KAN's weights from .onnx equal the safetensors ones, value for value. */
START_TEST(digits_weights_equal)
{
	Diag d = {0};
	Graph *go = onnx_import_file(SRC("examples/onnx/digits_kan.onnx"), NULL, &d);
	Graph *gk;
	uint32_t i, j;
	ck_assert_msg(go != NULL, "%s", d.msg);
	gk = ir_parse_file(SRC("examples/kan/trained/digits_kan.kir"), IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert_msg(gk != NULL, "%s", d.msg);
	ck_assert_uint_eq(go->ntensors, gk->ntensors);
	ck_assert_uint_eq(go->nnodes, gk->nnodes);
	ck_assert_str_eq(go->outputs[0].name, "y");
	for (i = 0; i < gk->ntensors; i++) {
		const IrTensor *tk = &gk->tensors[i], *to = NULL;
		uint32_t io;
		for (io = 0; io < go->ntensors && !to; io++)
			if (strcmp(go->tensors[io].name, tk->name) == 0)
				to = &go->tensors[io];
		ck_assert_msg(to != NULL, "no tensor %s from .onnx", tk->name);
		io--;
		ck_assert_int_eq(to->kind, tk->kind);
		ck_assert(ir_type_equal(&tk->type, &to->type));
		if (tk->kind == IR_WEIGHT) {
			const float *wk = ir_weight_data(gk, i, &d),
			            *wo = ir_weight_data(go, io, &d);
			ck_assert(wk && wo);
			for (j = 0; j < (uint32_t)ir_type_elems(&tk->type); j++)
				ck_assert_float_eq(wk[j], wo[j]);
		}
	}
	ir_free(go);
	ir_free(gk);
}
END_TEST

START_TEST(mlp_silu_matches_numpy)
{
	Diag d = {0};
	OnnxTensor in, want;
	Graph *g = onnx_import_file(SRC("examples/onnx/mlp_silu.onnx"), NULL, &d);
	RefModel *r = NULL;
	float *y[1], *yi[1] = {NULL};
	const float *x[1];
	int64_t e;
	ck_assert_msg(g != NULL, "%s", d.msg);
	/* x*Sigmoid(x) became one silu; the Gemm with transB and the MatMul are linear layers */
	ck_assert_uint_eq(count_op(g, IR_OP_silu), 1);
	ck_assert_uint_eq(count_op(g, IR_OP_sigmoid), 0);
	ck_assert_uint_eq(count_op(g, IR_OP_linear), 2);
	ck_assert_uint_eq(count_op(g, IR_OP_tanh), 1);
	ck_assert_uint_eq(count_op(g, IR_OP_softmax), 1);
	ck_assert_int_eq(
	    onnx_tensor_read_file(SRC("tests/onnx/cases/mlp_silu_io/input_0.pb"), &in, &d), 0);
	ck_assert_int_eq(
	    onnx_tensor_read_file(SRC("tests/onnx/cases/mlp_silu_io/output_0.pb"), &want, &d), 0);
	ck_assert_int_eq(want.n, 4);
	ck_assert_msg(ref_build_float(g, &r, &d) == 0, "%s", d.msg);
	x[0] = in.f;
	y[0] = calloc(4, sizeof(float));
	ref_run_float(r, x, y);
	ck_assert_msg(cc_interp(g, x, yi, &d) == 0, "%s", d.msg);
	for (e = 0; e < 4; e++) {
		ck_assert_float_eq_tol(y[0][e], want.f[e], 1e-5f);
		ck_assert_float_eq_tol(yi[0][e], want.f[e], 1e-5f);
	}
	free(y[0]);
	free(yi[0]);
	onnx_tensor_free(&in);
	onnx_tensor_free(&want);
	ref_free(r);
	ir_free(g);
}
END_TEST

START_TEST(kanformer_custom_ops)
{
	Diag d = {0};
	Graph *g = onnx_import_file(SRC("examples/onnx/kanformer_block.onnx"), NULL, &d);
	uint32_t i;
	char *out = NULL;
	char cmd[1024];
	ck_assert_msg(g != NULL, "%s", d.msg);
	ck_assert_uint_eq(count_op(g, IR_OP_sparse_attention), 1);
	ck_assert_uint_eq(count_op(g, IR_OP_kan_linear), 2);
	ck_assert_uint_eq(count_op(g, IR_OP_layernorm), 2);
	ck_assert_uint_eq(count_op(g, IR_OP_linear), 4); /* the MatMul projections */
	for (i = 0; i < g->nnodes; i++) {
		if (g->nodes[i].op == IR_OP_sparse_attention) {
			ck_assert_int_eq(ir_attr_int(g, i, "blkq"), 32);
			ck_assert_int_eq(ir_attr_int(g, i, "causal"), 1);
			ck_assert_int_eq(ir_attr_int(g, i, "mode"), 2); /* hybrid */
			ck_assert_double_eq_tol(ir_attr_float(g, i, "rho"), 0.25, 1e-7);
			ck_assert_double_eq_tol(ir_attr_float(g, i, "pv_threshold"), 50, 1e-7);
		}
		if (g->nodes[i].op == IR_OP_kan_linear) {
			const IrAttr *rg = ir_attr(g, i, "grid_range");
			ck_assert_int_eq(ir_attr_int(g, i, "grid_size"), 5);
			ck_assert_uint_eq(rg->n, 2);
			ck_assert_double_eq(rg->floats[0], -2);
		}
	}
	ck_assert_int_eq(g->tensors[g->outputs[0].t].type.dim[1], 128);
	ir_free(g);
	snprintf(cmd, sizeof cmd, "%s roofline %s --arch %s", KOLMO_BIN,
	         SRC("examples/onnx/kanformer_block.onnx"), ARCH);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "latency bound") != NULL, "%s", out);
	free(out);
}
END_TEST

static void
expect_error(const char *file, const char *want1, const char *want2)
{
	Diag d = {0};
	Graph *g = onnx_import_file(file, NULL, &d);
	ck_assert_msg(g == NULL, "%s imported", file);
	ck_assert_msg(strstr(d.msg, "error:") && strstr(d.msg, want1) &&
	                  (!want2 || strstr(d.msg, want2)),
	              "%s: got '%s'", file, d.msg);
}

START_TEST(bad_models)
{
	expect_error(SRC("tests/onnx/cases/unsupported_op.onnx"), "node 1 'gelu_erf' (Erf)",
	             "unsupported op 'Erf'");
	expect_error(SRC("tests/onnx/cases/opset12.onnx"), "opset 12", "13 to 17");
	expect_error(SRC("tests/onnx/cases/opset18.onnx"), "opset 18", "13 to 17");
	expect_error(SRC("tests/onnx/cases/dynamic_shape.onnx"), "dimension 0 is dynamic ('batch')",
	             "static shapes");
	expect_error(SRC("tests/onnx/cases/dynamic_reshape.onnx"), "'reshape_by_input' (Reshape)",
	             "known only at run time");
}
END_TEST

/* Every prefix of the file, and single corrupt bytes: an error or a valid graph, never a crash. */
START_TEST(truncated_and_corrupt)
{
	size_t len, cut, nerr = 0, k;
	char *buf = slurp(SRC("examples/onnx/mlp_silu.onnx"), &len);
	Diag d;
	Graph *g;
	for (cut = 0; cut < len; cut += 7) {
		memset(&d, 0, sizeof d);
		g = onnx_import_mem((const uint8_t *)buf, cut, "cut.onnx", NULL, &d);
		if (!g) {
			ck_assert_msg(strstr(d.msg, "cut.onnx: error:") == d.msg, "%s", d.msg);
			nerr++;
		} else {
			ck_assert_int_eq(ir_verify(g, &d), 0);
		}
		ir_free(g);
	}
	ck_assert_uint_gt(nerr, len / 7 - 2); /* a prefix is never the whole model */
	memset(&d, 0, sizeof d);
	ck_assert(onnx_import_mem((const uint8_t *)buf, len / 2, "half.onnx", NULL, &d) == NULL);
	ck_assert_msg(strstr(d.msg, "corrupt or truncated") || strstr(d.msg, "error:"), "%s",
	              d.msg);
	for (k = 0; k < len; k += 3) {
		char save = buf[k];
		buf[k] = (char)(buf[k] ^ 0x5a);
		memset(&d, 0, sizeof d);
		g = onnx_import_mem((const uint8_t *)buf, len, "bad.onnx", NULL, &d);
		if (!g)
			ck_assert_msg(strstr(d.msg, "bad.onnx: error:") == d.msg, "%s", d.msg);
		ir_free(g);
		buf[k] = save;
	}
	free(buf);
}
END_TEST

START_TEST(cli_accepts_onnx)
{
	char dir[256], cmd[2048], *out = NULL;
	make_tmpdir(dir, sizeof dir);
	ck_assert(dir[0]);
	snprintf(cmd, sizeof cmd, "%s ref %s --out %s", KOLMO_BIN,
	         SRC("examples/onnx/digits_kan.onnx"), dir);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_msg(strstr(out, "/y.npy") != NULL, "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s run %s --arch %s", KOLMO_BIN,
	         SRC("examples/onnx/digits_kan.onnx"), ARCH);
	ck_assert_int_eq(run(cmd, &out), 0);
	free(out);
	snprintf(cmd, sizeof cmd, "%s roofline %s --arch %s", KOLMO_BIN,
	         SRC("examples/onnx/digits_kan.onnx"), ARCH);
	ck_assert_int_eq(run(cmd, &out), 0);
	free(out);
	/* eval: the same accuracy lines from .onnx as from .kir */
	{
		char *o2 = NULL, *acc1, *acc2;
		snprintf(
		    cmd, sizeof cmd,
		    "%s eval %s --arch %s --data %s --calib %s --json --limit 20 | grep accuracy",
		    KOLMO_BIN, SRC("examples/onnx/digits_kan.onnx"), ARCH,
		    SRC("examples/kan/trained/digits_test"),
		    SRC("examples/kan/trained/digits_calib_x.npy"));
		ck_assert_int_eq(run(cmd, &out), 0);
		snprintf(
		    cmd, sizeof cmd,
		    "%s eval %s --arch %s --data %s --calib %s --json --limit 20 | grep accuracy",
		    KOLMO_BIN, SRC("examples/kan/trained/digits_kan.kir"), ARCH,
		    SRC("examples/kan/trained/digits_test"),
		    SRC("examples/kan/trained/digits_calib_x.npy"));
		ck_assert_int_eq(run(cmd, &o2), 0);
		acc1 = strstr(out, "\"accuracy\"");
		acc2 = strstr(o2, "\"accuracy\"");
		ck_assert_msg(acc1 && acc2, "%s\n%s", out, o2);
		ck_assert_str_eq(out, o2);
		free(out);
		free(o2);
	}
	/* a truncated file: a one-line error, non-zero exit, no output left behind */
	snprintf(cmd, sizeof cmd,
	         "head -c 3000 %s > %s/t.onnx && %s compile %s/t.onnx --arch %s -o %s/t.kelf",
	         SRC("examples/onnx/digits_kan.onnx"), dir, KOLMO_BIN, dir, ARCH, dir);
	ck_assert_int_eq(run(cmd, &out), 1);
	ck_assert_msg(strstr(out, "t.onnx: error:") != NULL, "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s/t.kelf", dir);
	ck_assert(access(cmd, F_OK) != 0);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(run(cmd, NULL), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("onnx");
	TCase *tc = tcase_create("onnx");
	SRunner *sr;
	int nf;
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, digits_round_trip);
	tcase_add_test(tc, digits_weights_equal);
	tcase_add_test(tc, mlp_silu_matches_numpy);
	tcase_add_test(tc, kanformer_custom_ops);
	tcase_add_test(tc, bad_models);
	tcase_add_test(tc, truncated_and_corrupt);
	tcase_add_test(tc, cli_accepts_onnx);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
