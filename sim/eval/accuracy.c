/* accuracy.c: the tallies of eval.h: a dataset through the simulator (a fresh chip state per
 * sample), through the integer reference, or through the float reference. */
#include "eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "isa.h"

static uint32_t
argmax(const double *v, uint32_t n)
{
	uint32_t i, b = 0;
	for (i = 1; i < n; i++)
		if (v[i] > v[b])
			b = i;
	return b;
}

static uint32_t
elems(const KTensor *t)
{
	uint32_t k, n = 1;
	for (k = 0; k < t->rank; k++)
		n *= t->dims[k];
	return n;
}

/* The program's input and output tensors, checked against the dataset. */
static int
io_of(const KProg *p, const EvalData *ds, const KTensor **tin, const KTensor **tout, Diag *d)
{
	uint32_t i;
	*tin = *tout = NULL;
	for (i = 0; i < p->nio; i++)
		if (p->io[i].dir == KDIR_IN)
			*tin = &p->io[i];
		else
			*tout = &p->io[i];
	if (!*tin || !*tout)
		return diag_err(d, NULL, "eval: the program has no input or no output tensor");
	if (elems(*tin) != ds->nin)
		return diag_err(d, ds->xpath,
		                "samples have %u values each; the model input '%s' takes %u",
		                ds->nin, (*tin)->name, elems(*tin));
	if ((uint32_t)ds->max_label >= elems(*tout))
		return diag_err(d, ds->ypath, "label %d is beyond the model's %u outputs",
		                ds->max_label, elems(*tout));
	return 0;
}

/* quantise: sample s of ds into buf as the input tensor's integers, and into q (if not NULL). */
static void
quantise(const EvalData *ds, uint32_t s, const KTensor *tin, double scale, unsigned char *buf,
         int32_t *q)
{
	unsigned isz = isa_type_size(tin->type);
	int64_t lo = tin->type == TY_I8 ? INT8_MIN : INT16_MIN;
	int64_t hi = tin->type == TY_I8 ? INT8_MAX : INT16_MAX;
	uint32_t i;
	for (i = 0; i < ds->nin; i++) {
		double v = ds->x[(size_t)s * ds->nin + i] / scale;
		int64_t k = (int64_t)(v < 0 ? -floor(-v + 0.5) : floor(v + 0.5));
		k = k < lo ? lo : k > hi ? hi : k;
		if (buf)
			memcpy(buf + (size_t)i * isz, &k, isz);
		if (q)
			q[i] = (int32_t)k;
	}
}

static uint32_t
count_of(const EvalData *ds, uint32_t n)
{
	return n == 0 || n > ds->n ? ds->n : n;
}

int
eval_sim(const HwArch *arch, const KProg *p, const SimOptions *so, const EvalData *ds, uint32_t n,
         EvalProgress progress, void *ctx, EvalScore *sc, Diag *d)
{
	const KTensor *tin, *tout;
	unsigned char *buf;
	double *yv;
	uint32_t i, s, nout;
	unsigned isz, osz;
	int rc = 0;
	memset(sc, 0, sizeof *sc);
	if (io_of(p, ds, &tin, &tout, d))
		return -1;
	n = count_of(ds, n);
	nout = elems(tout);
	isz = isa_type_size(tin->type);
	osz = isa_type_size(tout->type);
	buf = xmalloc((size_t)ds->nin * isz + 1);
	yv = xmalloc(sizeof(double) * nout);
	sc->n = n;
	for (s = 0; s < n; s++) {
		Sim *sim = NULL;
		const unsigned char *o;
		size_t bytes;
		HwEnergy e;
		quantise(ds, s, tin, tin->scale, buf, NULL);
		if (sim_new(arch, p, so, &sim, d) ||
		    sim_set_input(sim, tin->name, buf, (size_t)ds->nin * isz, d) ||
		    sim_run(sim, d) || !(o = sim_output(sim, tout->name, &bytes, d))) {
			sim_free(sim);
			rc = -1;
			break;
		}
		for (i = 0; i < nout; i++)
			yv[i] = sim_output_int(o, i, osz);
		sc->correct += argmax(yv, nout) == (uint32_t)ds->y[s];
		sc->lat_sum += sim_stats(sim)->latency_s;
		sim_energy(sim, arch, &e);
		sc->energy_sum += e.total_j;
		sim_free(sim);
		if (progress)
			progress(ctx, s + 1, n);
	}
	free(buf);
	free(yv);
	return rc;
}

int
eval_qref(const CcModel *m, const KProg *p, const EvalData *ds, uint32_t n, EvalScore *sc, Diag *d)
{
	const KTensor *tin, *tout;
	uint32_t nin, nout, i, s;
	double sin, sout, *yv;
	int32_t *xq, *yq;
	int rc = 0;
	memset(sc, 0, sizeof *sc);
	if (io_of(p, ds, &tin, &tout, d))
		return -1;
	cc_model_io(m, &nin, &sin, &nout, &sout);
	if (nin != ds->nin || nout != elems(tout) || cc_model_batch(m) != 1)
		return diag_err(d, NULL, "eval: the model and its program disagree on the I/O");
	n = count_of(ds, n);
	xq = xmalloc(sizeof(int32_t) * nin);
	yq = xmalloc(sizeof(int32_t) * nout);
	yv = xmalloc(sizeof(double) * nout);
	sc->n = n;
	for (s = 0; s < n && !rc; s++) {
		quantise(ds, s, tin, tin->scale, NULL, xq);
		if (cc_qref(m, xq, yq, d)) {
			rc = -1;
			break;
		}
		for (i = 0; i < nout; i++)
			yv[i] = yq[i];
		sc->correct += argmax(yv, nout) == (uint32_t)ds->y[s];
	}
	free(xq), free(yq), free(yv);
	return rc;
}

int
eval_float(Graph *g, const EvalData *ds, uint32_t n, uint32_t nout, uint32_t *correct, Diag *d)
{
	float *yf = xmalloc(sizeof(float) * nout + 1);
	double *yd = xmalloc(sizeof(double) * nout + 1);
	uint32_t s, k;
	int rc = 0;
	*correct = 0;
	n = count_of(ds, n);
	for (s = 0; s < n; s++) {
		if (cc_eval_float(g, ds->x + (size_t)s * ds->nin, yf, d)) {
			rc = -1;
			break;
		}
		for (k = 0; k < nout; k++)
			yd[k] = yf[k];
		*correct += argmax(yd, nout) == (uint32_t)ds->y[s];
	}
	free(yf), free(yd);
	return rc;
}

double
eval_accuracy(const EvalScore *sc)
{
	return sc->n ? (double)sc->correct / sc->n : 0;
}
