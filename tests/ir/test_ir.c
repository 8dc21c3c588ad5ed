/* test_ir.c: the graph IR: round trips (examples, every op, built graphs), shape rules good and
 * bad, KAN shapes against reference/kan.md, safetensors reading and malformed files, seeded
 * weights, a table of malformed .kir with exact line:col, the verifier, and `kolmo dot`. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "testutil.h"

static const char *const examples[] = {
    "examples/kan/digits_kan.kir",        "examples/kan/digits_mlp.kir",
    "examples/kan/wide_kan.kir",          "examples/attention/sparse_block.kir",
    "examples/attention/dense_block.kir", "tests/ir/cases/all_ops.kir",
};

/* Round trip: parse -> verify -> print -> parse -> same graph, and printing again is identical. */
static void
roundtrip_graph(Graph *g, const char *what)
{
	Diag d = {0};
	char *s1, *s2;
	Graph *g2;
	ck_assert_msg(ir_verify(g, &d) == 0, "%s: %s", what, d.msg);
	s1 = ir_print(g);
	g2 = ir_parse_mem(s1, strlen(s1), "printed.kir", g->base_dir, IR_PARSE_NO_IO, &d);
	ck_assert_msg(g2 != NULL, "%s: reparse: %s\n%s", what, d.msg, s1);
	ck_assert_msg(ir_verify(g2, &d) == 0, "%s: verify after reparse: %s", what, d.msg);
	ck_assert_msg(ir_graph_equal(g, g2), "%s: graph changed in the round trip", what);
	s2 = ir_print(g2);
	ck_assert_str_eq(s1, s2);
	free(s1);
	free(s2);
	ir_free(g2);
}

START_TEST(roundtrip_examples)
{
	Diag d = {0};
	char path[1024];
	Graph *g;
	snprintf(path, sizeof path, "%s/%s", KOLMO_SOURCE_DIR, examples[_i]);
	g = ir_parse_file(path, 0, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	roundtrip_graph(g, examples[_i]);
	ir_free(g);
}
END_TEST

START_TEST(all_ops_covered)
{
	Diag d = {0};
	Graph *g = ir_parse_file(SRC("tests/ir/cases/all_ops.kir"), IR_PARSE_LOAD_WEIGHTS, &d);
	int seen[IR_OP_COUNT] = {0};
	uint32_t i;
	ck_assert_msg(g != NULL, "%s", d.msg);
	for (i = 0; i < g->nnodes; i++)
		seen[g->nodes[i].op] = 1;
	for (i = 0; i < IR_OP_COUNT; i++)
		ck_assert_msg(seen[i], "op %s is not in all_ops.kir", ir_ops[i].name);
	ir_free(g);
}
END_TEST

/* The parameter counts promised by the example headers. */
static int64_t
weight_params(const Graph *g)
{
	int64_t n = 0;
	uint32_t i;
	for (i = 0; i < g->ntensors; i++)
		if (g->tensors[i].kind == IR_WEIGHT)
			n += ir_type_elems(&g->tensors[i].type);
	return n;
}

START_TEST(example_sizes)
{
	Diag d = {0};
	Graph *k = ir_parse_file(SRC("examples/kan/digits_kan.kir"), 0, &d);
	Graph *m = ir_parse_file(SRC("examples/kan/digits_mlp.kir"), 0, &d);
	ck_assert_ptr_nonnull(k);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(weight_params(k), 21312);
	ck_assert_int_eq(weight_params(m), 21010);
	ck_assert_int_eq(k->tensors[k->outputs[0].t].type.dim[1], 10);
	ck_assert_int_eq(m->tensors[m->outputs[0].t].type.dim[1], 10);
	ir_free(k);
	ir_free(m);
}
END_TEST

/* ---- helpers for snippets ---- */

/* The prefix of every snippet: lines 1-4. */
#define PRE                                                                                        \
	"kir 1\n"                                                                                  \
	"graph t {\n"                                                                              \
	"  input x : f32[2, 4]\n"                                                                  \
	"  weight w : f32[3, 4] = fill(1)\n"

static Graph *
parse_str(const char *text, Diag *d)
{
	memset(d, 0, sizeof *d);
	return ir_parse_mem(text, strlen(text), "t.kir", "/nonexistent-kolmo-dir", 0, d);
}

/* Parse PRE + body + "  output y = %y\n}\n" and return the type of %y (or fail). */
static IrType
infer_ok(const char *body)
{
	char text[4096];
	Diag d;
	Graph *g;
	IrType t;
	snprintf(text, sizeof text, PRE "%s\n  output y = %%y\n}\n", body);
	g = parse_str(text, &d);
	ck_assert_msg(g != NULL, "expected success for:\n%s\ngot: %s", body, d.msg);
	ck_assert_msg(ir_verify(g, &d) == 0, "verify: %s", d.msg);
	t = g->tensors[g->outputs[0].t].type;
	roundtrip_graph(g, body);
	ir_free(g);
	return t;
}

static void
expect_type(const char *body, const char *want)
{
	IrType t = infer_ok(body);
	char buf[128];
	ck_assert_str_eq(ir_type_str(&t, buf, sizeof buf), want);
}

/* ---- shape rules: good cases per op ---- */

static const struct {
	const char *body, *type;
} good[] = {
    /* kan_linear: C = G + k bases per input, knots G + 2k + 1 (kan.md section 1) */
    {"  weight s : f32[3, 4, 8] = fill(0)\n  %y = kan_linear(x, w, s)", "f32[2, 3]"},
    {"  weight s : f32[3, 4, 8] = fill(0)\n  %y = kan_linear(x, w, s) {grid_size = 5, "
     "spline_order = 3, grid_range = [-1, 1]}",
     "f32[2, 3]"},
    {"  weight s : f32[3, 4, 12] = fill(0)\n  %y = kan_linear(x, w, s) {grid_size = 10, "
     "spline_order = 2}",
     "f32[2, 3]"},
    {"  weight s : f32[3, 4, 5] = fill(0)\n  %y = kan_linear(x, w, s) {grid_size = 4, "
     "spline_order = 1}",
     "f32[2, 3]"},
    {"  weight s : f32[3, 4, 8] = fill(0)\n  weight sc : f32[3, 4] = fill(1)\n  weight kn : f32[4, "
     "12] = fill(0)\n  %y = kan_linear(x, w, s, sc, kn)",
     "f32[2, 3]"},
    {"  weight s : f32[3, 4, 8] = fill(0)\n  %y = kan_linear(x, w, s) {knots = [-2.2, -1.8, "
     "-1.4, -1, -0.6, -0.2, 0.2, 0.6, 1, 1.4, 1.8, 2.2]}",
     "f32[2, 3]"},
    {"  input x3 : f32[5, 7, 4]\n  weight s : f32[3, 4, 8] = fill(0)\n  %y = kan_linear(x3, w, "
     "s)",
     "f32[5, 7, 3]"},
    {"  %y = linear(x, w)", "f32[2, 3]"},
    {"  weight b : f32[3] = fill(0)\n  %y = linear(x, w, b)", "f32[2, 3]"},
    {"  %y = matmul(x, w) {transpose_b = true}", "f32[2, 3]"},
    {"  input a : f32[5, 1, 2, 3]\n  input b : f32[4, 3, 6]\n  %y = matmul(a, b)",
     "f32[5, 4, 2, 6]"},
    {"  %y = matmul(x, x) {transpose_a = true}", "f32[4, 4]"},
    {"  input b : f32[4]\n  %y = add(x, b)", "f32[2, 4]"},
    {"  input b : f32[3, 1, 1]\n  %y = mul(x, b)", "f32[3, 2, 4]"},
    {"  input s : f32[]\n  %y = mul(x, s)", "f32[2, 4]"},
    {"  %y = silu(x)", "f32[2, 4]"},
    {"  %y = relu(x)", "f32[2, 4]"},
    {"  %y = exp(x)", "f32[2, 4]"},
    {"  %y = softmax(x) {axis = -2}", "f32[2, 4]"},
    {"  weight g : f32[4] = fill(1)\n  %y = layernorm(x, g, g) {eps = 0.001}", "f32[2, 4]"},
    {"  weight g : f32[4] = fill(1)\n  %y = rmsnorm(x, g)", "f32[2, 4]"},
    {"  %y = reshape(x) {shape = [4, -1]}", "f32[4, 2]"},
    {"  %y = reshape(x) {shape = [8]}", "f32[8]"},
    {"  input s : f32[1]\n  %y = reshape(s) {shape = []}", "f32[]"},
    {"  %y = transpose(x) {perm = [1, 0]}", "f32[4, 2]"},
    {"  %y = concat(x, x, x) {axis = 0}", "f32[6, 4]"},
    {"  input q : f32[2, 3, 16, 8]\n  input k : f32[2, 3, 20, 8]\n  input v : f32[2, 3, 20, 5]\n"
     "  %y = attention(q, k, v)",
     "f32[2, 3, 16, 5]"},
    {"  input q : f32[1, 2, 130, 8]\n  %y = block_mask(q, q) {blkq = 64, blkk = 32}",
     "i8[1, 2, 3, 5]"},
    {"  input q : f32[1, 2, 16, 8]\n  %y = sparse_attention(q, q, q) {mode = topp, tau = 1}",
     "f32[1, 2, 16, 8]"},
    {"  input q : f32[1, 2, 16, 8]\n  weight p : f32[8, 8] = fill(0)\n  %y = "
     "sparse_attention(q, q, q, p) {combine = sla}",
     "f32[1, 2, 16, 8]"},
    {"  input q : f32[1, 2, 16, 8]\n  input al : f32[16, 1]\n  %y = sparse_attention(q, q, q, "
     "al) {combine = sla2}",
     "f32[1, 2, 16, 8]"},
    {"  input q : f32[1, 2, 16, 8]\n  %y = linear_attention(q, q, q) {feature_map = elu1}",
     "f32[1, 2, 16, 8]"},
    {"  input q : f32[1, 2, 16, 8]\n  input m : i8[1, 2, 1, 1]\n  %y = linear_attention(q, q, "
     "q, m) {region = complement, blkq = 16, blkk = 16}",
     "f32[1, 2, 16, 8]"},
    {"  input xi : i8[2, 4] quant(0.5)\n  weight wi : i8[3, 4] quant(axis=0, [0.1, 0.2, 0.3]) = "
     "fill(1)\n  %y = linear(xi, wi) : i32[2, 3]",
     "i32[2, 3]"},
};

START_TEST(shape_good)
{
	expect_type(good[_i].body, good[_i].type);
}
END_TEST

/* ---- bad input: exact position and message ---- */

static const struct {
	int full;         /* text is the whole file (no PRE); 2: and it is 5 bytes longer (NUL) */
	const char *text; /* after PRE unless full */
	const char *pos;  /* "line:col" */
	const char *frag; /* message fragment */
} bad[] = {
    {0, "  %y = frobnicate(x)\n  output y = %y\n}\n", "5:8", "unknown op 'frobnicate'"},
    {0, "  %y = softmax(x) {axes = 1}\n", "5:20", "unknown attribute 'axes' of softmax"},
    {0, "  %y = softmax(x) {axis = 1.5}\n", "5:27", "attribute 'axis' expects an integer"},
    {0, "  %y = block_mask(x, x) {mode = topq}\n", "5:33", "expects one of topk|topp|hybrid"},
    {0, "  %y = matmul(x, x) {transpose_a = 1}\n", "5:36", "expects true or false"},
    {0, "  %y = relu(x) : f32[2, 5]\n", "5:18",
     "result type f32[2, 5] does not match the inferred f32[2, 4]"},
    {0, "  %y = relu(x) : i8[2, 4]\n", "5:18", "does not match"},
    {0, "  weight w2 : f32[3, 5] = fill(1)\n  %y = linear(x, w2)\n", "6:18",
     "operand 'weight' must be [O, I] = f32[3, 4], got f32[3, 5]"},
    {0, "  weight w2 : f32[3, 4]\n  output y = x\n}\n", "6:3",
     "expected '=' and a source after the weight type"},
    {0, "  weight w2 : f32[3, 4] = safetensors(\"nope.safetensors\", \"a\")\n", "5:39",
     "safetensors file 'nope.safetensors': cannot open"},
    {0, "  weight w2 : f32[3, 4] = zeros()\n", "5:27", "expected a weight source"},
    {0, "  input x : f32[1]\n", "5:9", "duplicate name 'x'"},
    {0, "  %y = relu(x)\n  %y = relu(x)\n", "6:3", "duplicate name 'y'"},
    {0, "  %w = relu(x)\n", "5:3", "duplicate name 'w'"},
    {0, "  %y = relu(%z)\n  %z = relu(x)\n", "5:13", "use of undefined value '%z'"},
    {0, "  %y = relu(%y)\n", "5:13", "use of undefined value '%y'"},
    {0, "  %y = relu(%x)\n", "5:13", "'x' is an input: write it without '%'"},
    {0, "  %z = relu(x)\n  %y = relu(z)\n", "6:13", "'z' is a node result: write %z"},
    {0, "  %y = relu(foo)\n", "5:13", "unknown tensor 'foo'"},
    {0, "  input big : f32[65536, 65536]\n", "5:26", "more than 2^31 elements"},
    {0, "  input big : f32[4294967296]\n", "5:19", "dimension 4294967296 out of range"},
    {0, "  input r9 : f32[1, 1, 1, 1, 1, 1, 1, 1, 1]\n", "5:42", "rank greater than 8"},
    {0, "  input z : f32[0]\n", "5:17", "dimension 0 out of range"},
    {0, "  input z : f32[-3]\n", "5:17", "out of range"},
    {0, "  %y = relu(x, x)\n", "5:16", "too many operands: relu takes at most 1"},
    {0, "  %y = add(x)\n", "5:13", "too few operands: add takes 2"},
    {0, "  %y = add(_, x)\n", "5:12", "operand 'a' of add is required"},
    {0, "  %y = reshape(x)\n", "5:8", "reshape: attribute 'shape' is required"},
    {0, "  %y = reshape(x) {shape = [3, 3]}\n", "5:20", "shape has 9 elements but f32[2, 4] has 8"},
    {0, "  %y = reshape(x) {shape = [-1, -1]}\n", "5:20", "-1 only once"},
    {0, "  %y = transpose(x) {perm = [0, 0]}\n", "5:22", "permutation of 0..1"},
    {0,
     "  weight ks : f32[3, 4, 7] = fill(0)\n  %y = kan_linear(x, w, ks) {grid_size = 5, "
     "spline_order = 3}\n",
     "6:25", "operand 'spline_weight' must be [O, I, G+k] = f32[3, 4, 8], got f32[3, 4, 7]"},
    {0, "  weight ks : f32[3, 4, 8] = fill(0)\n  %y = kan_linear(x, w, ks) {knots = [0, 1]}\n",
     "6:30", "knots must have G+2k+1 = 12 values"},
    {0,
     "  weight ks : f32[3, 4, 8] = fill(0)\n  %y = kan_linear(x, w, ks) {knots = [0, 1, 2, 3, "
     "4, 5, 6, 7, 8, 9, 11, 10]}\n",
     "6:30", "non-decreasing"},
    {0,
     "  weight ks : f32[3, 4, 8] = fill(0)\n  %y = kan_linear(x, w, ks) {grid_range = [1, "
     "-1]}\n",
     "6:30", "lo < hi"},
    {0, "  weight ks : f32[3, 4, 8] = fill(0)\n  %y = kan_linear(x, w, ks) {grid_size = 0}\n",
     "6:30", "grid_size must be in 1..4096"},
    {0, "  weight ks : f32[3, 4, 8] = fill(0)\n  %y = kan_linear(x, ks, ks)\n", "6:22",
     "operand 'base_weight' must have rank 2, got f32[3, 4, 8]"},
    {0, "  %y = softmax(x) {axis = 2}\n", "5:20", "axis 2 out of range for rank 2"},
    {0, "  %y = add(x, w)\n", "5:15", "cannot broadcast f32[2, 4] with f32[3, 4]"},
    {0, "  %y = concat(x, w) {axis = 1}\n", "5:18", "all dims but axis 1 must match"},
    {0, "  %y = attention(x, x, x)\n", "5:18", "operand 'q' must have rank 4, got f32[2, 4]"},
    {0, "  input xi : i8[3, 4]\n  %y = add(x, xi)\n", "6:15", "cannot mix float and integer"},
    {0, "  input xf : f32[2] quant(0.5)\n", "5:21", "quant applies only to integer types"},
    {0, "  input xq : i8[2, 3] quant(axis=1, [0.5, 0.5])\n", "5:46",
     "2 scales for axis 1 of size 3"},
    {0, "  input xq : i8[2, 3] quant(axis=2, [0.5])\n", "5:34", "quant axis 2 out of range"},
    {0, "  input xq : i8[2] quant(-1)\n", "5:26", "finite positive"},
    {0, "  weight r : f32[2] = random(uniform, 0, 1)\n", "5:43",
     "expected ',' after the second parameter"},
    {0, "  weight r : f32[2] = random(uniform, 0, 1, sed=3)\n", "5:45", "explicit seed=N"},
    {0, "  weight r : f32[2] = random(uniform, 1, 0, seed=1)\n", "5:39", "needs a < b"},
    {0, "  weight r : f32[2] = random(gauss, 0, 1, seed=1)\n", "5:30",
     "expected a distribution (uniform or normal)"},
    {0, "  weight r : f32[2] = random(normal, 0, -1, seed=1)\n", "5:38", "stddev >= 0"},
    {0, "  weight dd : f32[3] = data([1, 2])\n", "5:34", "2 values for 3 elements"},
    {0, "  weight dd : f32[1] = data([1, 2])\n", "5:33", "more values than the 1 elements"},
    {0, "  weight di : i8[1] = data([300])\n", "5:23", "does not fit i8"},
    {0, "  weight di : i8[1] = fill(0.5)\n", "5:28", "fill value does not fit i8"},
    {0, "}\n", "5:1", "graph 't' has no outputs"},
    {0, "  output y = x\n", "6:1", "unexpected end of file: missing '}'"},
    {0, "  output y = x\n}\nextra\n", "7:1", "unexpected 'extra' after the graph"},
    {0, "  %y = relu(x) $\n", "5:16", "unexpected character '$'"},
    {0, "  weight s : f32[1] = safetensors(\"abc\n", "5:35", "unterminated string"},
    {0, "  output y = x\n  output y = w\n", "6:10", "duplicate output name 'y'"},
    {0, "  output x = w\n", "5:10", "output name 'x' is already an input"},
    {0, "  %y = softmax(x) {axis = 0, axis = 1}\n", "5:30", "attribute 'axis' given twice"},
    {1, "kir 2\ngraph t {\n}\n", "1:5", "unsupported .kir version 2"},
    {1, "graph t {\n}\n", "1:1", "expected 'kir 1' at the start"},
    {1, "", "1:1", "expected 'kir 1'"},
    {1, "kir 1\ngraph {\n}\n", "2:7", "expected the graph name"},
    {0, "  input m : f32[2x]\n", "5:17", "malformed number"},
    {0, "  input q : f32[1, 1, 8, 4]\n  %y = sparse_attention(q, q, q, w)\n", "6:34",
     "combine = none takes only q, k, v"},
    {0, "  input q : f32[1, 1, 8, 4]\n  %y = sparse_attention(q, q, q) {rho = 1.5}\n", "6:35",
     "rho must be in (0, 1]"},
    {0, "  input q : f32[1, 1, 8, 4]\n  %y = sparse_attention(q, q, q) {combine = sla}\n", "6:8",
     "combine = sla needs combine_w [Dv, Dv]"},
    {0,
     "  input q : f32[1, 1, 8, 4]\n  input al : f32[2, 1]\n  %y = sparse_attention(q, q, q, "
     "al) {combine = sla2}\n",
     "7:34", "must broadcast to [B, H, N, 1]"},
    {0, "  input q : f32[1, 1, 8, 4]\n  %y = linear_attention(q, q, q) {region = complement}\n",
     "6:35", "region = complement needs the mask operand"},
    {0,
     "  input q : f32[1, 1, 8, 4]\n  input m : f32[1, 1, 1, 1]\n  %y = linear_attention(q, q, "
     "q, m) {region = complement}\n",
     "7:34", "mask must be i8"},
    {0, "  %y, %z = relu(x)\n", "5:3", "relu has 1 result, 2 named"},
    {0, "  % = relu(x)\n", "5:3", "expected a value name after '%'"},
    {0, "  %y = layernorm(x) {eps = nan}\n", "5:28", "expects a number, got 'nan'"},
    {0, "  %y = layernorm(x) {eps = -1}\n", "5:22", "eps must be finite and >= 0"},
    {0, "  %y = matmul(x, x)\n", "5:18", "inner dimensions differ"},
    {0, "  input u : f64[2]\n", "5:13", "expected a type (f32, i8, i16 or i32)"},
    {0, "  %y = softmax(x) {axis = 99999999999999999999}\n", "5:27", "out of range"},
    {0, "  %y = relu(x) {}\n  %z = relu(x) x\n", "6:16", "expected a statement"},
    {0, "  y = relu(x)\n", "5:3", "expected a statement"},
    {0, "  %y = relu(x\n", "6:1", "expected ',' between operands"},
    {0, "  %y = concat() {axis = 0}\n", "5:15", "too few operands: concat takes at least 1"},
    {0, "  %y = concat(x, x, x, x, x, x, x, x, x) {axis = 0}\n", "5:39",
     "too many operands: concat takes at most 8"},
    {2, "kir 1\ngraph t {\n  input x : f32[1]\n  output y = x\n}\0junk", "5:2",
     "unexpected byte 0x00"},
};

START_TEST(bad_input)
{
	char text[4096], want[64];
	Diag d;
	Graph *g;
	size_t len;
	if (bad[_i].full) {
		len = strlen(bad[_i].text) + (bad[_i].full == 2 ? 5 : 0);
		memcpy(text, bad[_i].text, len);
	} else {
		snprintf(text, sizeof text, PRE "%s", bad[_i].text);
		len = strlen(text);
	}
	memset(&d, 0, sizeof d);
	g = ir_parse_mem(text, len, "t.kir", "/nonexistent-kolmo-dir", 0, &d);
	ck_assert_msg(g == NULL, "case %d parsed but should fail", _i);
	snprintf(want, sizeof want, "t.kir:%s: error: ", bad[_i].pos);
	ck_assert_msg(strncmp(d.msg, want, strlen(want)) == 0, "case %d: want %s, got:\n%s", _i,
	              want, d.msg);
	ck_assert_msg(strstr(d.msg, bad[_i].frag) != NULL, "case %d: want '%s' in:\n%s", _i,
	              bad[_i].frag, d.msg);
	ck_assert_msg(strchr(d.msg, '^') != NULL, "case %d: no caret:\n%s", _i, d.msg);
}
END_TEST

/* The caret sits under the column: line 2 of the report is the source, line 3 the caret. */
START_TEST(caret_position)
{
	Diag d;
	const char *nl1, *nl2;
	ck_assert_ptr_null(parse_str(PRE "  %y = frobnicate(x)\n", &d));
	nl1 = strchr(d.msg, '\n');
	ck_assert_ptr_nonnull(nl1);
	nl2 = strchr(nl1 + 1, '\n');
	ck_assert_ptr_nonnull(nl2);
	ck_assert_int_eq(strncmp(nl1 + 1, "    %y = frobnicate(x)", 22), 0);
	ck_assert_str_eq(nl2 + 1, "         ^");
}
END_TEST

/* ---- KAN shapes against kan.md ---- */

START_TEST(kan_shapes)
{
	/* C = G + k bases, G + 2k + 1 knots, for a grid of (G, k). */
	static const int gk[][2] = {{5, 3}, {10, 3}, {20, 3}, {4, 1}, {3, 0}, {7, 2}};
	size_t i;
	for (i = 0; i < NELEM(gk); i++) {
		int G = gk[i][0], k = gk[i][1], c;
		for (c = G + k - 1; c <= G + k + 1; c++) {
			char body[1024], knots[512] = "";
			Diag d;
			Graph *g;
			int j;
			snprintf(
			    body, sizeof body,
			    PRE "  weight s : f32[3, 4, %d] = fill(0)\n  %%y = kan_linear(x, w, s) "
			        "{grid_size = %d, spline_order = %d}\n  output y = %%y\n}\n",
			    c, G, k);
			g = parse_str(body, &d);
			if (c == G + k) {
				ck_assert_msg(g != NULL, "G=%d k=%d: %s", G, k, d.msg);
				ir_free(g);
			} else {
				ck_assert_ptr_null(g);
				ck_assert_ptr_nonnull(strstr(d.msg, "G+k"));
			}
			/* knots attribute: exactly G + 2k + 1 values */
			for (j = 0; j < G + 2 * k + 1 + (c - G - k); j++) {
				size_t l = strlen(knots);
				snprintf(knots + l, sizeof knots - l, "%s%d", j ? ", " : "", j);
			}
			snprintf(
			    body, sizeof body,
			    PRE "  weight s : f32[3, 4, %d] = fill(0)\n  %%y = kan_linear(x, w, s) "
			        "{grid_size = %d, spline_order = %d, knots = [%s]}\n  output y = "
			        "%%y\n}\n",
			    G + k, G, k, knots);
			g = parse_str(body, &d);
			if (c == G + k) {
				ck_assert_msg(g != NULL, "knots G=%d k=%d: %s", G, k, d.msg);
				ir_free(g);
			} else {
				ck_assert_ptr_null(g);
				ck_assert_ptr_nonnull(strstr(d.msg, "G+2k+1"));
			}
		}
	}
}
END_TEST

/* ---- safetensors ---- */

static char tmp[256];

static void
put_u64(unsigned char *p, uint64_t v)
{
	int i;
	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* write_st: a safetensors file of header json + data bytes. */
static void
write_st(const char *path, const char *json, const unsigned char *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	unsigned char h[8];
	ck_assert_ptr_nonnull(f);
	put_u64(h, strlen(json));
	fwrite(h, 1, 8, f);
	fwrite(json, 1, strlen(json), f);
	if (n)
		fwrite(data, 1, n, f);
	fclose(f);
}

static const char st_json[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                              "\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]},"
                              "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[32,36]},"
                              "\"i\":{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[36,39]},"
                              "\"j\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[39,47]},"
                              "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[47,55]},"
                              "\"__metadata__\":{\"format\":\"pt\"}}";

static size_t
st_data(unsigned char *p)
{
	/* F32 1, -2.5, 0.125, 3, 100, -0.75 */
	static const unsigned char f32[] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0,
	                                    0x00, 0x00, 0x00, 0x3e, 0x00, 0x00, 0x40, 0x40,
	                                    0x00, 0x00, 0xc8, 0x42, 0x00, 0x00, 0x40, 0xbf};
	/* F16 1, -2, 0.5, 2^-24 */
	static const unsigned char f16[] = {0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0x01, 0x00};
	/* BF16 1, -3 */
	static const unsigned char bf16[] = {0x80, 0x3f, 0x40, 0xc0};
	/* I8 1, -1, 127 */
	static const unsigned char i8[] = {0x01, 0xff, 0x7f};
	/* I32 100000, -7 */
	static const unsigned char i32[] = {0xa0, 0x86, 0x01, 0x00, 0xf9, 0xff, 0xff, 0xff};
	/* F64 0.1 */
	static const unsigned char f64[] = {0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f};
	size_t n = 0;
	memcpy(p + n, f32, sizeof f32), n += sizeof f32;
	memcpy(p + n, f16, sizeof f16), n += sizeof f16;
	memcpy(p + n, bf16, sizeof bf16), n += sizeof bf16;
	memcpy(p + n, i8, sizeof i8), n += sizeof i8;
	memcpy(p + n, i32, sizeof i32), n += sizeof i32;
	memcpy(p + n, f64, sizeof f64), n += sizeof f64;
	return n;
}

static void
st_setup(void)
{
	unsigned char data[64];
	char path[300];
	make_tmpdir(tmp, sizeof tmp);
	snprintf(path, sizeof path, "%s/w.safetensors", tmp);
	write_st(path, st_json, data, st_data(data));
}

static void
st_teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

static void
check_vals(IrSafetensors *st, const char *name, const float *want, int n)
{
	float got[8];
	Diag d = {0};
	const IrStTensor *t = ir_st_find(st, name);
	int i;
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(ir_st_read_f32(st, t, got, &d), 0);
	for (i = 0; i < n; i++)
		ck_assert_msg(got[i] == want[i], "%s[%d] = %g, want %g", name, i, (double)got[i],
		              (double)want[i]);
}

START_TEST(st_read_values)
{
	char path[300];
	Diag d = {0};
	IrSafetensors *st;
	static const float a[] = {1, -2.5f, 0.125f, 3, 100, -0.75f};
	static const float h[] = {1, -2, 0.5f, 5.9604644775390625e-8f};
	static const float b[] = {1, -3}, i8[] = {1, -1, 127}, i32[] = {100000, -7};
	static const float f64[] = {0.1f};
	snprintf(path, sizeof path, "%s/w.safetensors", tmp);
	st = ir_st_open(path, &d);
	ck_assert_msg(st != NULL, "%s", d.msg);
	ck_assert_uint_eq(ir_st_count(st), 6);
	ck_assert_int_eq(ir_st_find(st, "a")->rank, 2);
	ck_assert_int_eq(ir_st_find(st, "a")->dim[1], 3);
	ck_assert_int_eq(ir_st_find(st, "h")->dtype, IR_ST_F16);
	ck_assert_ptr_null(ir_st_find(st, "__metadata__"));
	check_vals(st, "a", a, 6);
	check_vals(st, "h", h, 4);
	check_vals(st, "b", b, 2);
	check_vals(st, "i", i8, 3);
	check_vals(st, "j", i32, 2);
	check_vals(st, "d", f64, 1);
	ir_st_close(st);
}
END_TEST

/* The same bytes from memory (ir_st_open_mem, what the fuzzer drives): the same tensors and
 * values; a buffer too short for the header size, or a cut header, is an error naming it. */
START_TEST(st_from_memory)
{
	unsigned char buf[512];
	size_t n = 8 + strlen(st_json);
	Diag d = {0};
	IrSafetensors *st;
	static const float a[] = {1, -2.5f, 0.125f, 3, 100, -0.75f}, i32[] = {100000, -7};
	put_u64(buf, strlen(st_json));
	memcpy(buf + 8, st_json, strlen(st_json));
	n += st_data(buf + n);
	st = ir_st_open_mem(buf, n, "mem", &d);
	ck_assert_msg(st != NULL, "%s", d.msg);
	ck_assert_uint_eq(ir_st_count(st), 6);
	check_vals(st, "a", a, 6);
	check_vals(st, "j", i32, 2);
	ir_st_close(st);
	ck_assert_ptr_null(ir_st_open_mem(buf, 5, "mem", &d));
	ck_assert_str_eq(d.msg, "mem: error: truncated: 5 bytes, too short for the header size");
	memset(&d, 0, sizeof d); /* a Diag keeps its first error */
	ck_assert_ptr_null(ir_st_open_mem(buf, 0, "mem", &d));
	ck_assert_str_eq(d.msg, "mem: error: truncated: 0 bytes, too short for the header size");
	memset(&d, 0, sizeof d);
	ck_assert_ptr_null(ir_st_open_mem(buf, 20, "mem", &d));
	ck_assert_msg(strstr(d.msg, "mem: error: truncated: header size") == d.msg, "%s", d.msg);
}
END_TEST

/* The same file through .kir: relative path, lazy loading, dtype conversion. */
START_TEST(st_through_kir)
{
	char path[300];
	Diag d = {0};
	Graph *g;
	const float *v;
	static const char kir[] = "kir 1\ngraph s {\n  input x : f32[4, 3]\n"
	                          "  weight a : f32[2, 3] = safetensors(\"w.safetensors\", \"a\")\n"
	                          "  weight h : f32[4] = safetensors(\"w.safetensors\", \"h\")\n"
	                          "  weight i : i8[3] = safetensors(\"w.safetensors\", \"i\")\n"
	                          "  %y = linear(x, a) : f32[4, 2]\n  output y = %y\n}\n";
	snprintf(path, sizeof path, "%s/m.kir", tmp);
	ck_assert_int_eq(write_text(path, kir), 0);
	g = ir_parse_file(path, 0, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	ck_assert_ptr_null(g->tensors[1].w.data); /* lazy */
	v = ir_weight_data(g, 1, &d);
	ck_assert_msg(v != NULL, "%s", d.msg);
	ck_assert(v[1] == -2.5f && v[5] == -0.75f);
	v = ir_weight_data(g, 2, &d);
	ck_assert(v && v[1] == -2 && v[2] == 0.5f);
	v = ir_weight_data(g, 3, &d);
	ck_assert(v && v[1] == -1 && v[2] == 127);
	roundtrip_graph(g, "st_through_kir");
	ir_free(g);
	/* eager loading */
	g = ir_parse_file(path, IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_nonnull(g->tensors[2].w.data);
	ir_free(g);
}
END_TEST

/* Missing or mis-shaped weights point at the key or the declared type. */
START_TEST(st_kir_errors)
{
	static const struct {
		const char *decl, *pos, *frag;
	} cases[] = {
	    {"  weight a : f32[2, 3] = safetensors(\"w.safetensors\", \"zz\")\n", "3:55",
	     "no tensor 'zz' in 'w.safetensors'"},
	    {"  weight a : f32[3, 2] = safetensors(\"w.safetensors\", \"a\")\n", "3:14",
	     "weight 'a' is declared f32[3, 2] but 'a' in the file is F32[2, 3]"},
	    {"  weight a : i8[2, 3] = safetensors(\"w.safetensors\", \"a\")\n", "3:54",
	     "'a' has dtype F32 in the file, which cannot be read as i8"},
	    {"  weight a : f32[3] = safetensors(\"w.safetensors\", \"i\")\n", "3:52",
	     "dtype I8 in the file, which cannot be read as f32"},
	    {"  weight a : f32[2, 3] = safetensors(\"missing.safetensors\", \"a\")\n", "3:38",
	     "safetensors file 'missing.safetensors': cannot open"},
	};
	size_t i;
	for (i = 0; i < NELEM(cases); i++) {
		char path[300], kir[1024], want[400];
		Diag d = {0};
		Graph *g;
		snprintf(path, sizeof path, "%s/bad.kir", tmp);
		snprintf(kir, sizeof kir, "kir 1\ngraph s {\n%s  output y = a\n}\n", cases[i].decl);
		ck_assert_int_eq(write_text(path, kir), 0);
		g = ir_parse_file(path, 0, &d);
		ck_assert_msg(g == NULL, "case %zu parsed", i);
		snprintf(want, sizeof want, "%s:%s: error: ", path, cases[i].pos);
		ck_assert_msg(strncmp(d.msg, want, strlen(want)) == 0, "case %zu: want %s got\n%s",
		              i, want, d.msg);
		ck_assert_msg(strstr(d.msg, cases[i].frag), "case %zu: want '%s' in\n%s", i,
		              cases[i].frag, d.msg);
	}
}
END_TEST

START_TEST(st_malformed)
{
	static const struct {
		const char *json; /* NULL: raw bytes case */
		size_t ndata;
		const char *frag;
	} cases[] = {
	    {"{not json", 0, "bad JSON header"},
	    {"[1, 2]", 0, "not a JSON object"},
	    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,100]}}", 8,
	     "data_offsets [0, 100] out of range (data section is 8 bytes)"},
	    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24,
	     "data_offsets span 20 bytes but dtype F32 x shape needs 24"},
	    {"{\"a\":{\"dtype\":\"F8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2,
	     "unsupported dtype 'F8'"},
	    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "out of range"},
	    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
	     "bad shape entry 0"},
	    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "needs dtype, shape and data_offsets"},
	    {"{\"a\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[0,4]},"
	     "\"b\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[2,6]}}",
	     8, "overlap"},
	    {"{\"a\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]},"
	     "\"a\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
	     1, "bad JSON header"},
	};
	size_t i;
	unsigned char zeros[128] = {0};
	char path[300];
	Diag d;
	snprintf(path, sizeof path, "%s/bad.safetensors", tmp);
	for (i = 0; i < NELEM(cases); i++) {
		memset(&d, 0, sizeof d);
		write_st(path, cases[i].json, zeros, cases[i].ndata);
		ck_assert_msg(ir_st_open(path, &d) == NULL, "case %zu opened", i);
		ck_assert_msg(strstr(d.msg, cases[i].frag), "case %zu: want '%s' in %s", i,
		              cases[i].frag, d.msg);
	}
	/* truncated: shorter than the size field; header size beyond the end */
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(write_text(path, "abc"), 0);
	ck_assert_ptr_null(ir_st_open(path, &d));
	ck_assert_ptr_nonnull(strstr(d.msg, "truncated: 3 bytes"));
	{
		FILE *f = fopen(path, "wb");
		unsigned char h[8];
		put_u64(h, 1000);
		fwrite(h, 1, 8, f);
		fwrite("{}", 1, 2, f);
		fclose(f);
	}
	memset(&d, 0, sizeof d);
	ck_assert_ptr_null(ir_st_open(path, &d));
	ck_assert_ptr_nonnull(strstr(d.msg, "truncated: header size 1000 but only 2 bytes"));
	{
		FILE *f = fopen(path, "wb");
		unsigned char h[8];
		put_u64(h, (uint64_t)1 << 62);
		fwrite(h, 1, 8, f);
		fclose(f);
	}
	memset(&d, 0, sizeof d);
	ck_assert_ptr_null(ir_st_open(path, &d));
	ck_assert_ptr_nonnull(strstr(d.msg, "exceeds the"));
	/* an empty header is a valid file with no tensors */
	write_st(path, "{}", zeros, 0);
	memset(&d, 0, sizeof d);
	{
		IrSafetensors *st = ir_st_open(path, &d);
		ck_assert_msg(st != NULL, "%s", d.msg);
		ck_assert_uint_eq(ir_st_count(st), 0);
		ir_st_close(st);
	}
}
END_TEST

/* ---- seeded weights ---- */

static Graph *
parse_weights(const char *decl)
{
	char text[1024];
	Diag d;
	Graph *g;
	snprintf(text, sizeof text, "kir 1\ngraph r {\n%s  output y = r\n}\n", decl);
	g = parse_str(text, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	return g;
}

START_TEST(seeded_weights)
{
	Graph *g1 = parse_weights("  weight r : f32[10000] = random(uniform, -0.1, 0.1, seed=7)\n");
	Graph *g2 = parse_weights("  weight r : f32[10000] = random(uniform, -0.1, 0.1, seed=7)\n");
	Graph *g3 = parse_weights("  weight r : f32[10000] = random(uniform, -0.1, 0.1, seed=8)\n");
	Graph *gn = parse_weights("  weight r : f32[2] = random(normal, 1, 2, seed=7)\n");
	Graph *gi = parse_weights("  weight r : i8[4] = random(uniform, -3, 3, seed=7)\n");
	Graph *gf = parse_weights("  weight r : f32[3] = fill(-1.5)\n");
	Diag d = {0};
	const float *a = ir_weight_data(g1, 0, &d), *b = ir_weight_data(g2, 0, &d);
	const float *c = ir_weight_data(g3, 0, &d), *n = ir_weight_data(gn, 0, &d);
	const float *iv = ir_weight_data(gi, 0, &d), *f = ir_weight_data(gf, 0, &d);
	double mean = 0;
	int i;
	ck_assert(a && b && c && n && iv && f);
	ck_assert_int_eq(memcmp(a, b, 10000 * sizeof *a), 0);
	ck_assert_int_ne(memcmp(a, c, 10000 * sizeof *a), 0);
	/* golden values from an independent (Python) splitmix64 */
	ck_assert(a[0] == -0.0220340508967638f);
	ck_assert(a[1] == -0.09664233773946762f);
	ck_assert(a[2] == 0.08015213906764984f);
	ck_assert(n[0] == 2.9769487380981445f);
	ck_assert(n[1] == -2.7285115718841553f);
	ck_assert(iv[0] == -1 && iv[1] == -3 && iv[2] == 3 && iv[3] == 1);
	ck_assert(f[0] == -1.5f && f[2] == -1.5f);
	for (i = 0; i < 10000; i++) {
		ck_assert(a[i] >= -0.1f && a[i] <= 0.1f);
		mean += a[i];
	}
	ck_assert(fabs(mean / 10000) < 0.005);
	ck_assert_ptr_eq(ir_weight_data(g1, 0, &d), a); /* cached */
	ir_free(g1);
	ir_free(g2);
	ir_free(g3);
	ir_free(gn);
	ir_free(gi);
	ir_free(gf);
}
END_TEST

/* ---- building graphs in memory, and the verifier ---- */

static Graph *
build_small(void)
{
	Graph *g = ir_new("built");
	Diag d = {0};
	int64_t xd[] = {2, 4}, wd[] = {3, 4}, sd[] = {3, 4, 8};
	IrType xt = ir_type(IR_F32, 2, xd), wt = ir_type(IR_F32, 2, wd),
	       st = ir_type(IR_F32, 3, sd);
	IrWeight w = {0};
	IrTensorId x, wb, ws, ins[3], h, y;
	IrNodeId n;
	double range[] = {-2, 2};
	x = ir_add_input(g, "x", &xt);
	w.src = IR_W_RANDOM;
	w.dist = IR_UNIFORM;
	w.a = -1, w.b = 1, w.seed = 5;
	wb = ir_add_weight(g, "wb", &wt, &w);
	w.seed = 6;
	ws = ir_add_weight(g, "ws", &st, &w);
	ins[0] = x, ins[1] = wb, ins[2] = ws;
	n = ir_node_new(g, IR_OP_kan_linear, ins, 3);
	ir_attr_set_int(g, n, "grid_size", 5);
	ir_attr_set_floats(g, n, "grid_range", range, 2);
	ir_attr_set_enum(g, n, "base_activation", "identity");
	h = ir_node_finish(g, n, NULL, &d);
	ck_assert_msg(h != IR_NONE, "%s", d.msg);
	n = ir_node_new(g, IR_OP_softmax, &h, 1);
	ir_attr_set_int(g, n, "axis", -1);
	y = ir_node_finish(g, n, (const char *const[]){"probs"}, &d);
	ck_assert_msg(y != IR_NONE, "%s", d.msg);
	ir_add_output(g, "y", y);
	return g;
}

START_TEST(build_and_verify)
{
	Graph *g = build_small();
	Diag d = {0};
	char *s;
	ck_assert_msg(ir_verify(g, &d) == 0, "%s", d.msg);
	s = ir_print(g);
	ck_assert_ptr_nonnull(strstr(s, "%t3 = kan_linear(x, wb, ws) {grid_size = 5, grid_range = "
	                                "[-2, 2], base_activation = identity} : f32[2, 3]"));
	ck_assert_ptr_nonnull(strstr(s, "%probs = softmax(%t3) {axis = -1} : f32[2, 3]"));
	ck_assert_int_eq(ir_attr_int(g, 0, "spline_order"), 3); /* default */
	free(s);
	roundtrip_graph(g, "built");
	ir_free(g);
}
END_TEST

START_TEST(verifier_rejects)
{
	Diag d;
	Graph *g;
	/* a handle out of range */
	g = build_small();
	g->nodes[1].in[0] = 99;
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(ir_verify(g, &d), 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "handle 99 out of range"));
	ir_free(g);
	/* a cycle: kan_linear reads softmax's result */
	g = build_small();
	g->nodes[0].in[0] = g->nodes[1].out[0];
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(ir_verify(g, &d), 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "cycle"));
	ir_free(g);
	/* a result type that disagrees with the shape rule */
	g = build_small();
	g->tensors[g->nodes[1].out[0]].type.dim[1] = 7;
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(ir_verify(g, &d), 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "but the shape rule gives f32[2, 3]"));
	ir_free(g);
	/* an output bound to nothing */
	g = build_small();
	g->outputs[0].t = 1000;
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(ir_verify(g, &d), 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "output 'y' is not defined"));
	ir_free(g);
	/* duplicate names */
	g = build_small();
	g->tensors[2].name = g->tensors[1].name;
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(ir_verify(g, &d), 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "duplicate tensor name 'wb'"));
	ir_free(g);
	/* an illegal dtype, and quantisation on f32 */
	g = build_small();
	g->tensors[0].type.dtype = 9;
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(ir_verify(g, &d), 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "invalid dtype"));
	ir_free(g);
	g = build_small();
	{
		static float sc = 0.5f;
		g->tensors[0].type.q.nscale = 1;
		g->tensors[0].type.q.scale = &sc;
	}
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(ir_verify(g, &d), 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "quant on a float tensor"));
	ir_free(g);
	/* no outputs */
	g = build_small();
	g->noutputs = 0;
	g->tensors[g->nodes[1].out[0]].kind = IR_VALUE;
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(ir_verify(g, &d), 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "has no outputs"));
	ir_free(g);
	/* a value not produced by the node that claims it */
	g = build_small();
	g->nodes[1].out[0] = 0;
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(ir_verify(g, &d), 0);
	ir_free(g);
	/* a required attribute unset */
	g = build_small();
	g->nodes[1].attr[0].set = 0;
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(ir_verify(g, &d), 0);
	ck_assert_ptr_nonnull(strstr(d.msg, "attribute 'axis' is not set"));
	ir_free(g);
}
END_TEST

/* Verifier errors on parsed graphs point into the source. */
START_TEST(verifier_locates)
{
	Diag d;
	Graph *g = parse_str(PRE "  %y = relu(x)\n  output y = %y\n}\n", &d);
	ck_assert_ptr_nonnull(g);
	g->tensors[2].type.dim[0] = 5;
	memset(&d, 0, sizeof d);
	ck_assert_int_ne(ir_verify(g, &d), 0);
	ck_assert_msg(strncmp(d.msg, "t.kir:5:8: error:", 17) == 0, "%s", d.msg);
	ir_free(g);
}
END_TEST

/* Quantisation annotations and inline data survive a built round trip. */
START_TEST(quant_roundtrip)
{
	Graph *g = ir_new("q");
	Diag d = {0};
	int64_t wd[] = {3, 2}, xd[] = {1, 2};
	float sc[] = {0.5f, 0.25f, 0.125f}, xs = 0.0078125f;
	float vals[] = {1, -2, 3, -4, 5, -6};
	IrType wt = ir_type(IR_I8, 2, wd), xt = ir_type(IR_I8, 2, xd);
	IrWeight w = {0};
	IrTensorId ins[2], y;
	IrNodeId n;
	char *s;
	wt.q.axis = 0, wt.q.nscale = 3, wt.q.scale = sc;
	xt.q.nscale = 1, xt.q.scale = &xs;
	ins[0] = ir_add_input(g, "x", &xt);
	w.src = IR_W_DATA;
	w.data = vals;
	ins[1] = ir_add_weight(g, "w", &wt, &w);
	n = ir_node_new(g, IR_OP_linear, ins, 2);
	y = ir_node_finish(g, n, NULL, &d);
	ck_assert(y != IR_NONE);
	ir_add_output(g, "y", y);
	s = ir_print(g);
	ck_assert_ptr_nonnull(strstr(s, "input x : i8[1, 2] quant(0.0078125)"));
	ck_assert_ptr_nonnull(
	    strstr(s, "weight w : i8[3, 2] quant(axis=0, [0.5, 0.25, 0.125]) = data([1, -2, 3, -4, "
	              "5, -6])"));
	free(s);
	roundtrip_graph(g, "quant");
	ir_free(g);
}
END_TEST

START_TEST(number_format)
{
	static const double v[] = {0.1,     1e-5, 50,   1e300, -2.5e-300, 123456789.125,
	                           1.0 / 3, 0,    -0.0, 1e15,  7e22};
	size_t i;
	char buf[64];
	for (i = 0; i < NELEM(v); i++) {
		ir_fmt_double(buf, sizeof buf, v[i]);
		ck_assert_msg(strtod(buf, NULL) == v[i], "%s", buf);
		ir_fmt_float(buf, sizeof buf, (float)v[i]);
		ck_assert_msg(strtof(buf, NULL) == (float)v[i], "%s", buf);
	}
	ir_fmt_double(buf, sizeof buf, 50);
	ck_assert_str_eq(buf, "50");
	ir_fmt_double(buf, sizeof buf, 0.1);
	ck_assert_str_eq(buf, "0.1");
	ir_fmt_float(buf, sizeof buf, 0.1f);
	ck_assert_str_eq(buf, "0.1");
}
END_TEST

/* ---- kolmo dot ---- */

START_TEST(dot_svg)
{
	char dir[256], out[400], cmd[1200], *log = NULL, *svg;
	size_t len;
	Diag d = {0};
	make_tmpdir(dir, sizeof dir);
	snprintf(out, sizeof out, "%s/g.svg", dir);
	snprintf(cmd, sizeof cmd, "%s dot %s -o %s", KOLMO_BIN, SRC("examples/kan/digits_kan.kir"),
	         out);
	ck_assert_msg(run(cmd, &log) == 0, "%s", log);
	free(log);
	svg = read_file(out, 1 << 24, &len, &d);
	ck_assert_ptr_nonnull(svg);
	ck_assert_uint_gt(len, 500);
	ck_assert_ptr_nonnull(strstr(svg, "<svg"));
	ck_assert_ptr_nonnull(strstr(svg, "kan_linear"));
	ck_assert_ptr_nonnull(strstr(svg, "l0_spline"));
	ck_assert_ptr_nonnull(strstr(svg, "%logits"));
	ck_assert_ptr_nonnull(strstr(svg, "f32[32, 64, 8]"));
	free(svg);
	/* .dot and .png as well */
	snprintf(cmd, sizeof cmd, "%s dot %s -o %s/g.dot && %s dot %s -o %s/g.png", KOLMO_BIN,
	         SRC("examples/attention/sparse_block.kir"), dir, KOLMO_BIN,
	         SRC("examples/attention/sparse_block.kir"), dir);
	ck_assert_int_eq(run(cmd, NULL), 0);
	snprintf(out, sizeof out, "%s/g.png", dir);
	svg = read_file(out, 1 << 24, &len, &d);
	ck_assert_ptr_nonnull(svg);
	ck_assert(len > 8 && memcmp(svg, "\x89PNG", 4) == 0);
	free(svg);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(dot_bad_input)
{
	char dir[256], kir[400], out[400], cmd[1200], *log = NULL;
	make_tmpdir(dir, sizeof dir);
	snprintf(kir, sizeof kir, "%s/bad.kir", dir);
	snprintf(out, sizeof out, "%s/g.svg", dir);
	ck_assert_int_eq(write_text(kir, PRE "  %y = relu(x, w)\n  output y = %y\n}\n"), 0);
	snprintf(cmd, sizeof cmd, "%s dot %s -o %s", KOLMO_BIN, kir, out);
	ck_assert_int_ne(run(cmd, &log), 0);
	ck_assert_ptr_nonnull(strstr(log, "bad.kir:5:16: error: too many operands"));
	free(log);
	ck_assert(!file_exists(out));
	/* unknown extension: error, no file */
	snprintf(out, sizeof out, "%s/g.xyz", dir);
	snprintf(cmd, sizeof cmd, "%s dot %s -o %s", KOLMO_BIN, SRC("examples/kan/digits_kan.kir"),
	         out);
	ck_assert_int_ne(run(cmd, &log), 0);
	ck_assert_ptr_nonnull(strstr(log, "unknown output format '.xyz'"));
	free(log);
	ck_assert(!file_exists(out));
	/* missing input file */
	snprintf(cmd, sizeof cmd, "%s dot %s/none.kir -o %s/g.svg", KOLMO_BIN, dir, dir);
	ck_assert_int_ne(run(cmd, NULL), 0);
	snprintf(out, sizeof out, "%s/g.svg", dir);
	ck_assert(!file_exists(out));
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *
ir_suite(void)
{
	Suite *s = suite_create("ir");
	TCase *tc = tcase_create("core"), *ts = tcase_create("safetensors"),
	      *td = tcase_create("dot");
	tcase_add_loop_test(tc, roundtrip_examples, 0, (int)NELEM(examples));
	tcase_add_test(tc, all_ops_covered);
	tcase_add_test(tc, example_sizes);
	tcase_add_loop_test(tc, shape_good, 0, (int)NELEM(good));
	tcase_add_loop_test(tc, bad_input, 0, (int)NELEM(bad));
	tcase_add_test(tc, caret_position);
	tcase_add_test(tc, kan_shapes);
	tcase_add_test(tc, seeded_weights);
	tcase_add_test(tc, build_and_verify);
	tcase_add_test(tc, verifier_rejects);
	tcase_add_test(tc, verifier_locates);
	tcase_add_test(tc, quant_roundtrip);
	tcase_add_test(tc, number_format);
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(ts, st_setup, st_teardown);
	tcase_add_test(ts, st_read_values);
	tcase_add_test(ts, st_from_memory);
	tcase_add_test(ts, st_through_kir);
	tcase_add_test(ts, st_kir_errors);
	tcase_add_test(ts, st_malformed);
	tcase_add_test(td, dot_svg);
	tcase_add_test(td, dot_bad_input);
	tcase_set_timeout(td, 60);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, ts);
	suite_add_tcase(s, td);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ir_suite());
	int nf;
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
