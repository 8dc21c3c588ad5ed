/* cmd_run.c: `kolmo run M.kir --arch A.yaml`: compile, simulate, check and report. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ccopts.h"
#include "sim.h"

static const CliOpt opts[] = {
    CC_CLI_OPTS,
    {"input", 'i', "X.npy",
     "model input (float); default: a seeded uniform draw in the input range"},
    {"json", 0, NULL, "print the statistics and checks as JSON"},
    {NULL, 0, NULL, NULL},
};

static int
get_input(const CliCmd *cmd, const CliArgs *a, const CcJob *j, uint32_t n, float *x, Diag *d)
{
	const char *v = cli_opt(cmd, a, "input");
	uint32_t i;
	if (v) {
		Npy t;
		if (npy_read_file(v, 1u << 26, &t, d))
			return -1;
		if (t.count != n) {
			npy_free(&t);
			return diag_err(d, v, "the model takes %u inputs, the file has %llu", n,
			                (unsigned long long)t.count);
		}
		for (i = 0; i < n; i++)
			x[i] = (float)npy_get_f64(&t, i);
		npy_free(&t);
		return 0;
	}
	{
		uint64_t s = j->opt.seed ^ 0x696e707574ull;
		for (i = 0; i < n; i++) {
			uint64_t z = (s += 0x9e3779b97f4a7c15ull);
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
			z ^= z >> 31;
			x[i] = (float)(j->opt.input_lo + (j->opt.input_hi - j->opt.input_lo) *
			                                     (double)(z >> 11) * 0x1.0p-53);
		}
	}
	return 0;
}

/* cosine similarity and relative L1 of y against the reference r (m[0], m[1]) */
static void
dense_metrics(const float *y, const float *r, uint32_t n, double *m)
{
	double dot = 0, ny = 0, nr = 0, l1 = 0, l1r = 0;
	uint32_t i;
	for (i = 0; i < n; i++) {
		dot += (double)y[i] * r[i], ny += (double)y[i] * y[i], nr += (double)r[i] * r[i];
		l1 += fabs((double)y[i] - r[i]), l1r += fabs((double)r[i]);
	}
	m[0] = ny > 0 && nr > 0 ? dot / sqrt(ny * nr) : 0;
	m[1] = l1r > 0 ? l1 / l1r : 0;
}

static int
run(const CliCmd *cmd, CliArgs *a)
{
	CcJob j;
	Diag d = {0};
	KProg *p = NULL;
	CcModel *m = NULL;
	Sim *s = NULL;
	uint32_t nin, nout, i, sat = 0;
	double sin, sout, maxerr = 0, maxref = 0;
	float *x = NULL, *yf = NULL;
	int32_t *xq = NULL, *yq = NULL;
	unsigned char *buf = NULL;
	int rc = 1, exact = 1, have_dense = 0;
	double vs_dense[4] = {0, 0, 0, 0};
	const KTensor *tin = NULL, *tout = NULL;

	if (ccjob_load(cmd, a, &j, &d) || cc_compile(j.g, &j.arch, &j.opt, &p, &m, &d))
		goto out;
	cc_model_io(m, &nin, &sin, &nout, &sout);
	nin *= cc_model_batch(m);
	nout *= cc_model_batch(m);
	for (i = 0; i < p->nio; i++)
		if (p->io[i].dir == KDIR_IN) {
			if (!tin)
				tin = &p->io[i];
		} else
			tout = &p->io[i];
	x = xmalloc(sizeof(float) * nin);
	yf = xmalloc(sizeof(float) * nout);
	xq = xmalloc(sizeof(int32_t) * nin);
	yq = xmalloc(sizeof(int32_t) * nout);
	if (get_input(cmd, a, &j, nin, x, &d) || cc_eval_float(j.g, x, yf, &d))
		goto out;
	/* Quantise the input with the binary's input scale. */
	{
		unsigned sz = isa_type_size(tin->type);
		int64_t lo = tin->type == TY_I8 ? INT8_MIN : INT16_MIN;
		int64_t hi = tin->type == TY_I8 ? INT8_MAX : INT16_MAX;
		buf = xmalloc((size_t)nin * sz);
		for (i = 0; i < nin; i++) {
			double v = x[i] / sin;
			int64_t q = (int64_t)(v < 0 ? -floor(-v + 0.5) : floor(v + 0.5));
			if (q < lo || q > hi) {
				q = q < lo ? lo : hi;
				sat++;
			}
			xq[i] = (int32_t)q;
			memcpy(buf + (size_t)i * sz, &q, sz);
		}
	}
	if (sat)
		fprintf(stderr,
		        "kolmo run: warning: %u input values saturated at the input scale %g\n",
		        sat, sin);
	if (sim_new(&j.arch, p, NULL, &s, &d))
		goto out;
	{
		/* the inputs in I/O-map order take consecutive slices of the input vector */
		size_t at = 0, sz = isa_type_size(tin->type);
		for (i = 0; i < p->nio; i++) {
			size_t bytes = (size_t)ktensor_bytes(&p->io[i]);
			if (p->io[i].dir != KDIR_IN)
				continue;
			if (at + bytes > (size_t)nin * sz) {
				diag_err(&d, a->pos[0], "the program's inputs exceed the model's");
				goto out;
			}
			if (sim_set_input(s, p->io[i].name, buf + at, bytes, &d))
				goto out;
			at += bytes;
		}
	}
	if (sim_run(s, &d))
		goto out;
	/* Check: bit-exact with the integer reference; error against the float reference. */
	if (cc_qref(m, xq, yq, &d))
		goto out;
	{
		size_t bytes;
		const unsigned char *o = sim_output(s, tout->name, &bytes, &d);
		unsigned sz = isa_type_size(tout->type);
		if (!o)
			goto out;
		for (i = 0; i < nout; i++) {
			int32_t v = sim_output_int(o, i, sz);
			if (v != yq[i])
				exact = 0;
			maxerr = fmax(maxerr, fabs(v * sout - yf[i]));
			maxref = fmax(maxref, fabs(yf[i]));
		}
	}
	/* Sparse attention: the output against dense attention (SpargeAttn's metrics). */
	if (cc_is_attention(j.g) && cc_attention_core(j.g)) {
		float *yd = xmalloc(sizeof(float) * nout), *yq8 = xmalloc(sizeof(float) * nout);
		for (i = 0; i < nout; i++)
			yq8[i] = (float)(yq[i] * sout);
		if (cc_attention_dense(j.g, x, yd, &d)) {
			free(yd), free(yq8);
			goto out;
		}
		dense_metrics(yq8, yd, nout, &vs_dense[0]);
		dense_metrics(yf, yd, nout, &vs_dense[2]);
		have_dense = 1;
		free(yd), free(yq8);
	}
	if (cli_opt(cmd, a, "json")) {
		json_t *js = sim_stats_json(s, &j.arch), *ck = json_object();
		if (have_dense) {
			json_t *vd = json_object();
			json_object_set_new(vd, "cosine", json_real(vs_dense[0]));
			json_object_set_new(vd, "rel_l1", json_real(vs_dense[1]));
			json_object_set_new(vd, "float_cosine", json_real(vs_dense[2]));
			json_object_set_new(vd, "float_rel_l1", json_real(vs_dense[3]));
			json_object_set_new(ck, "vs_dense_attention", vd);
		}
		json_object_set_new(ck, "bit_exact_with_integer_reference", json_boolean(exact));
		json_object_set_new(ck, "max_abs_error_vs_float", json_real(maxerr));
		json_object_set_new(ck, "max_abs_float_output", json_real(maxref));
		json_object_set_new(js, "check", ck);
		json_dumpf(js, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
		fputc('\n', stdout);
		json_decref(js);
	} else {
		uint32_t nx = 0;
		for (i = 0; i < p->ncores; i++)
			nx += p->cores[i]->nxbar;
		printf("model       %s: %u -> %u, %u crossbar blocks on %u cores\n", j.g->name, nin,
		       nout, nx, p->ncores);
		sim_report(s, &j.arch, stdout);
		printf("\ncheck       %s the integer reference; max |error| vs float %.4g (outputs "
		       "up to "
		       "%.4g)\n",
		       exact ? "bit-exact with" : "DIFFERS from", maxerr, maxref);
		if (have_dense)
			printf("vs dense    cosine %.5f, relative L1 %.4f (float sparse: %.5f, "
			       "%.4f)\n",
			       vs_dense[0], vs_dense[1], vs_dense[2], vs_dense[3]);
	}
	if (!exact) {
		diag_err(&d, a->pos[0],
		         "the simulator's output differs from the integer reference (a compiler or "
		         "simulator bug)");
		goto out;
	}
	rc = 0;
out:
	if (rc)
		cli_fail(&d);
	sim_free(s);
	cc_model_free(m);
	kprog_free(p);
	ccjob_free(&j);
	free(x), free(yf), free(xq), free(yq), free(buf);
	return rc;
}

const CliCmd cmd_run = {
    .name = "run",
    .summary = "compile and simulate a model: latency, energy, per-layer table, checks",
    .usage = "M.kir --arch A.yaml [--input X.npy] [--json] [compile options]",
    .details = "Compiles the model, runs it on the cycle-level simulator and checks the output\n"
               "bit for bit against the compiler's integer reference and against the float\n"
               "reference (max absolute error).",
    .opts = opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
