/* test_rf_scaling.c: power-law fits recover known exponents (exact and noisy data); the KV/weight
 * crossover found numerically equals the closed form; the capacity cliff sits where the weights
 * stop fitting the MVMUs; bad family files give file:line:col errors. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "roofline.h"
#include "tiny.h"

START_TEST(fit_exact)
{
	double x[8], y[8];
	RfFit f;
	int i;
	for (i = 0; i < 8; i++) {
		x[i] = pow(10, 1 + i * 0.5);
		y[i] = 3.0 * pow(x[i], 1.5);
	}
	ck_assert_int_eq(rf_powerlaw_fit(x, y, 8, &f), 0);
	ck_assert_double_eq_tol(f.a, 3.0, 1e-9);
	ck_assert_double_eq_tol(f.b, 1.5, 1e-12);
	ck_assert_double_eq_tol(f.r2, 1.0, 1e-12);
	ck_assert_int_eq(f.n, 8);
	/* a decreasing law */
	for (i = 0; i < 8; i++)
		y[i] = 0.25 * pow(x[i], -0.34);
	ck_assert_int_eq(rf_powerlaw_fit(x, y, 8, &f), 0);
	ck_assert_double_eq_tol(f.b, -0.34, 1e-12);
	ck_assert_double_eq_tol(f.a, 0.25, 1e-12);
}
END_TEST

START_TEST(fit_noisy)
{
	double x[200], y[200];
	uint64_t s = 12345;
	RfFit f;
	int i;
	for (i = 0; i < 200; i++) {
		double u;
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		u = (double)(s >> 11) * 0x1p-53; /* [0, 1) */
		x[i] = pow(10, 7 + 3.0 * i / 199);
		y[i] =
		    2e-9 * pow(x[i], 0.8) * exp(0.2 * (u - 0.5)); /* +-10 % multiplicative noise */
	}
	ck_assert_int_eq(rf_powerlaw_fit(x, y, 200, &f), 0);
	ck_assert_double_eq_tol(f.b, 0.8, 0.01);
	ck_assert_double_gt(f.r2, 0.98);
	ck_assert_double_lt(f.r2, 1.0);
}
END_TEST

START_TEST(fit_degenerate)
{
	double x[3] = {2, 2, 2}, y[3] = {1, 2, 3}, xn[3] = {-1, 0, 5}, yn[3] = {1, 1, 1};
	RfFit f;
	ck_assert_int_eq(rf_powerlaw_fit(x, y, 3, &f), -1);   /* all x equal */
	ck_assert_int_eq(rf_powerlaw_fit(xn, yn, 3, &f), -1); /* one usable point */
	ck_assert_int_eq(rf_powerlaw_fit(x, y, 1, &f), -1);
}
END_TEST

static HwArch arch;
static RfCeilings ceil_;

static void
setup(void)
{
	Diag d = {0};
	ck_assert_msg(hw_arch_load_mem(&arch, tiny_yaml, strlen(tiny_yaml), "tiny.yaml", &d) == 0,
	              "%s", d.msg);
	rf_ceilings(&arch, &ceil_);
}

static void
family(const char *text, RfFamily *f)
{
	Diag d = {0};
	ck_assert_msg(rf_family_load_mem(f, text, strlen(text), "fam.yaml", &d) == 0, "%s", d.msg);
}

#define FAM(ffn, attn, extra)                                                                      \
	"name: t\nparams:\n  min: 1e5\n  max: 1e9\n  points: 9\nshape:\n  aspect: 32\n"            \
	"  head_dim: 64\n" extra "ffn:\n  type: " ffn "\nattention:\n  type: " attn "\n"           \
	"workload:\n  context: [128, 1024, 8192]\n"

/* T_x: bisection on the model's own KV and weight bytes equals N b_w / (2 L kappa d_kv b_kv). */
START_TEST(tx_numeric_equals_closed)
{
	static const char *const fams[] = {FAM("mlp", "dense", ""), FAM("kan", "dense", ""),
	                                   FAM("mlp", "dense", "  kv_group: 4\n"),
	                                   FAM("mlp", "dense", "") "bits:\n  kv: 4\n"};
	size_t i;
	for (i = 0; i < NELEM(fams); i++) {
		RfFamily f;
		double targets[] = {1e6, 3e7, 1e9};
		size_t k;
		family(fams[i], &f);
		for (k = 0; k < NELEM(targets); k++) {
			RfDecoder m;
			double tc, tn;
			rf_decoder_shape(&f, &ceil_, targets[k], &m);
			tc = rf_tx_closed(&f, &ceil_, &m);
			tn = rf_tx_numeric(&f, &ceil_, &m);
			ck_assert_msg(fabs(tn - tc) <= 1e-6 * tc,
			              "family %zu N %g: numeric %.10g closed %.10g", i, m.params,
			              tn, tc);
			/* the closed form by hand: N b_w / (2 L d_kv b_kv) */
			ck_assert_double_eq_tol(
			    tc,
			    m.params * 8 /
			        (2.0 * m.layers * (double)(m.n_kv_heads * m.head_dim) *
			         (f.kv_bits ? f.kv_bits : 8)),
			    1e-9 * tc);
		}
	}
}
END_TEST

/* Sparse attention: the closed form scales by 1/kappa; the numeric crossover also counts the
 * pooled keys the mask prediction reads (one per block): ratio 1 + 1/(2 kappa block). */
START_TEST(tx_sparse)
{
	RfFamily f;
	RfDecoder m;
	double tc, tn;
	family(FAM("mlp", "sparse", "") "  fit_context: 1024\n", &f);
	f.keep = 0.25;
	rf_decoder_shape(&f, &ceil_, 1e8, &m);
	tc = rf_tx_closed(&f, &ceil_, &m);
	tn = rf_tx_numeric(&f, &ceil_, &m);
	ck_assert_double_eq_tol(tc / tn, 1 + 1 / (2 * 0.25 * 64), 2e-3);
}
END_TEST

/* The capacity cliff: with d a multiple of 64 every matrix tiles the 64 x 64 arrays exactly, so
 * a model fits exactly when N <= MVMUs x 64 x 64 = capacity. The sweep's resident fraction is 1
 * exactly for the models that fit; beyond, N b_w / 8 - capacity bytes stream from DRAM every
 * decode step (roofline.md section 5: (1 - f_res) N b_w / 8), bounding the latency below. */
START_TEST(capacity_cliff)
{
	static const char big[] =
	    "name: big\nnode_nm: 32\nchip:\n  tiles: 1\n  mesh_rows: 1\n  mesh_cols: 1\n"
	    "tile:\n  cores: 4\ncore:\n  mvmus: 16\nmvmu:\n  tech: reram\n  rows: 64\n  cols: 64\n"
	    "  cell_bits: 2\n  weight_bits: 8\n  input_bits: 8\n  adcs_per_xbar: 1\n"
	    "  adc_bits: 8\n  adc_rate_gsps: 1.0\n  read_ns: 10\n";
	HwArch a;
	Diag d = {0};
	RfFamily f;
	RfScaling s;
	int i, jumps = 0;
	ck_assert_msg(hw_arch_load_mem(&a, big, strlen(big), "big.yaml", &d) == 0, "%s", d.msg);
	family("name: c\nparams:\n  min: 2e4\n  max: 2e6\n  points: 25\nshape:\n  aspect: 16\n"
	       "  head_dim: 64\nffn:\n  type: mlp\nattention:\n  type: dense\nworkload:\n"
	       "  context: [64]\n",
	       &f);
	ck_assert_int_eq(rf_scaling_run(&a, &f, &s, &d), 0);
	ck_assert_double_eq(s.cliff_params_closed, 64.0 * 64 * 64);
	ck_assert_double_le(s.last_resident_params, s.cliff_params_closed);
	ck_assert_double_gt(s.cliff_params, s.cliff_params_closed);
	for (i = 0; i < s.npts; i++) {
		const RfScalePoint *p = &s.pts[i];
		int fits = p->m.params <= s.cliff_params_closed;
		ck_assert_int_eq(fits, p->m.mvmus_needed <= 64);
		ck_assert_int_eq(fits, p->decode[0].resident == 1);
		ck_assert_int_eq(fits, p->decode[0].weight_stream_bytes == 0);
		/* beyond the cliff the MVMUs hold capacity bytes; the rest streams every step */
		if (!fits) {
			ck_assert_double_eq_tol(p->decode[0].weight_stream_bytes,
			                        p->m.weight_bytes - (double)s.c.capacity_bytes,
			                        1e-6);
			ck_assert_double_ge(p->decode[0].latency_s,
			                    p->decode[0].weight_stream_bytes /
			                        s.c.bw_bytes_per_s[RF_R_dram]);
		}
		if (i > 0 && fits != (s.pts[i - 1].m.params <= s.cliff_params_closed))
			jumps++;
	}
	ck_assert_int_eq(jumps, 1);
	rf_scaling_free(&s);
}
END_TEST

/* The bundled family sweeps on the bundled configs; fits exist and are finite. */
START_TEST(bundled_family)
{
	static const char *const archs[] = {"edge-kan", "sram-cim"};
	size_t i;
	for (i = 0; i < NELEM(archs); i++) {
		char p[512];
		HwArch a;
		RfFamily f;
		RfScaling s;
		Diag d = {0};
		int k;
		snprintf(p, sizeof p, "%s/hwmodels/configs/%s.yaml", KOLMO_SOURCE_DIR, archs[i]);
		ck_assert_msg(hw_arch_load(&a, p, &d) == 0, "%s", d.msg);
		snprintf(p, sizeof p, "%s/examples/scaling/family.yaml", KOLMO_SOURCE_DIR);
		ck_assert_msg(rf_family_load(&f, p, &d) == 0, "%s", d.msg);
		ck_assert_int_eq(rf_scaling_run(&a, &f, &s, &d), 0);
		ck_assert_int_eq(s.npts, 13);
		ck_assert_int_ge(s.nfits, 6);
		for (k = 0; k < s.nfits; k++)
			ck_assert(isfinite(s.fits[k].fit.b) && s.fits[k].fit.r2 <= 1);
		for (k = 1; k < s.npts; k++)
			ck_assert(s.pts[k].m.params >= s.pts[k - 1].m.params);
		rf_scaling_free(&s);
	}
}
END_TEST

/* Bad family files: each gives fam.yaml:line:col: error: with the expected text. */
static const struct {
	const char *text, *where, *msg;
} bad[] = {
    {"", "fam.yaml:1:1: error:", "empty family file"},
    {"name: x\nparms:\n  min: 1\n",
     "fam.yaml:2:1: error:", "unknown section 'parms' (did you mean 'params'?)"},
    {FAM("mlp", "dense", "  aspekt: 3\n"),
     "fam.yaml:9:3: error:", "unknown key 'shape.aspekt' (did you mean 'shape.aspect'?)"},
    {FAM("mpl", "dense", ""),
     "fam.yaml:10:9: error:", "unknown value 'mpl' (expected one of 'mlp', 'kan')"},
    {"name: x\nparams:\n  min: 1e5\n  max: 1e6\n",
     "fam.yaml:1:1: error:", "missing required key 'ffn.type'"},
    {"name: t\nparams:\n  min: 1e9\n  max: 1e5\nffn:\n  type: mlp\nattention:\n  type: dense\n"
     "workload:\n  context: [1]\n",
     "fam.yaml:4:8: error:", "params.max (1e+05) is below params.min"},
    {"name: t\nparams:\n  min: 1e5\n  max: 1e6\nffn:\n  type: mlp\nattention:\n  type: dense\n"
     "  keep: 0.5\nworkload:\n  context: [1]\n",
     "fam.yaml:9:9: error:", "dense attention keeps every key block"},
    {"name: t\nparams:\n  min: 1e5\n  max: 1e6\nffn:\n  type: mlp\nattention:\n  type: dense\n"
     "workload:\n  context: 128\n",
     "fam.yaml:10:12: error:", "expected a list of integers"},
    {"name: t\nparams:\n  min: 1e5\n  max: 1e6\nffn:\n  type: mlp\nattention:\n  type: dense\n"
     "workload:\n  context: [128, 0]\n",
     "fam.yaml:10:18: error:", "workload.context: 0 is out of range"},
    {"name: t\nparams: [1, 2\n", "fam.yaml:", "malformed YAML"},
    {"name: t\nparams:\n  min: 1e5\n  max: 1e6\nffn:\n  type: mlp\n  grid_size: 5\nattention:\n"
     "  type: dense\nworkload:\n  context: [1]\n",
     "fam.yaml:7:14: error:", "ffn.grid_size is a KAN setting"},
    {FAM("mlp", "dense", "") "  fit_context: 77\n",
     "fam.yaml:", "workload.fit_context (77) is not one of workload.context"},
    {"name: t\nname: u\n", "fam.yaml:2:1: error:", "duplicate key 'name'"},
    {"name: t\nparams:\n  min: lots\n",
     "fam.yaml:3:8: error:", "params.min: expected a number, got 'lots'"},
    {"name: t\nparams: 5\n", "fam.yaml:2:9: error:", "'params' is a section"},
};

START_TEST(bad_families)
{
	RfFamily f;
	Diag d = {0};
	const char *t = bad[_i].text;
	ck_assert_int_eq(rf_family_load_mem(&f, t, strlen(t), "fam.yaml", &d), -1);
	ck_assert_msg(strncmp(d.msg, bad[_i].where, strlen(bad[_i].where)) == 0,
	              "case %d: got '%s', expected prefix '%s'", _i, d.msg, bad[_i].where);
	ck_assert_msg(strstr(d.msg, bad[_i].msg) != NULL, "case %d: got '%s', expected '%s'", _i,
	              d.msg, bad[_i].msg);
}
END_TEST

/* Family bits the architecture cannot take (7-bit weights in 2-bit cells) are a clear error. */
START_TEST(bad_bits)
{
	RfFamily f;
	RfScaling s;
	Diag d = {0};
	family(FAM("mlp", "dense", "") "bits:\n  weight: 7\n", &f);
	ck_assert_int_eq(rf_scaling_run(&arch, &f, &s, &d), -1);
	ck_assert_msg(strstr(d.msg, "bits do not fit architecture tiny") &&
	                  strstr(d.msg, "mvmu.weight_bits (7) is not a multiple of mvmu.cell_bits"),
	              "%s", d.msg);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("roofline scaling");
	TCase *t = tcase_create("fit");
	TCase *u = tcase_create("scaling");
	tcase_add_test(t, fit_exact);
	tcase_add_test(t, fit_noisy);
	tcase_add_test(t, fit_degenerate);
	suite_add_tcase(s, t);
	tcase_add_checked_fixture(u, setup, NULL);
	tcase_add_test(u, tx_numeric_equals_closed);
	tcase_add_test(u, tx_sparse);
	tcase_add_test(u, capacity_cliff);
	tcase_add_test(u, bundled_family);
	tcase_add_loop_test(u, bad_families, 0, (int)NELEM(bad));
	tcase_add_test(u, bad_bits);
	tcase_set_timeout(u, 60);
	suite_add_tcase(s, u);
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
	return nf ? 1 : 0;
}
