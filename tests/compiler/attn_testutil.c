/* attn_testutil.c: helpers of the attention lowering's tests (attn_testutil.h). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attn_testutil.h"

Graph *
parse(const char *src)
{
	Diag d = {0};
	Graph *g = ir_parse_mem(src, strlen(src), "attn.kir", NULL, IR_PARSE_LOAD_WEIGHTS, &d);
	ck_assert_msg(g != NULL, "%s", d.msg);
	return g;
}

/* A graph: B, H, Hk, N, D and the node text "op(q, k, v) {attrs}". */
char *
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
char *
model(unsigned H, unsigned N, unsigned D, const char *node)
{
	return model6(1, H, N, N, D, D, node);
}

/* Inputs with structure (each head a slow random walk, q near k) so that attention is peaked
 * and block selection is meaningful. */
void
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

Result
run_attn(const char *src, uint32_t D, const char *arch_path)
{
	return run_attn_in(src, D, arch_path, inputs);
}

Result
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

/* Replace every `from` in buf (of size cap) by `to`. */
void
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
