/* scaling.c: families of decoder models on an architecture: shapes over a parameter range, the
 * op descriptors of a decode step and of a prefill (costed by the same rules as graph ops), the
 * sweep, power-law fits, the KV/weight crossover T_x and the capacity cliff. docs/roofline.md,
 * "Scaling". */
#include "roofline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { OPS_RMSNORM = 5, OPS_SILU = 4, OPS_SCORE = 6, OPS_SOFTMAX = 5 };

static int
kv_bits(const RfFamily *f, const RfCeilings *c)
{
	return f->kv_bits ? f->kv_bits : c->input_bits;
}

static int64_t
ffn_rows_mult(const RfFamily *f)
{
	return f->ffn == RF_FFN_KAN ? f->grid_size + f->spline_order + 1 : 1;
}

/* Parameters per layer divided by d_model^2. */
static double
layer_coef(const RfFamily *f)
{
	return 2 + 2.0 / f->kv_group + 2 * f->ffn_mult * (double)ffn_rows_mult(f);
}

static void
fill_shape(const RfFamily *f, const RfCeilings *c, RfDecoder *m)
{
	int64_t dkv = m->n_kv_heads * m->head_dim, e = ffn_rows_mult(f), L = m->layers;
	m->params_attn = (double)L * (2.0 * (double)(m->d_model * m->d_model) +
	                              2.0 * (double)(m->d_model * dkv));
	m->params_ffn = (double)L * 2.0 * (double)(m->d_model * m->d_ff) * (double)e;
	m->params = m->params_attn + m->params_ffn;
	m->weight_bytes = m->params * c->weight_bits / 8.0;
	m->mvmus_needed =
	    L * (rf_op_mvmus(c, m->d_model, m->d_model + 2 * dkv) +
	         rf_op_mvmus(c, m->d_model, m->d_model) + rf_op_mvmus(c, m->d_model * e, m->d_ff) +
	         rf_op_mvmus(c, m->d_ff * e, m->d_model));
}

void
rf_decoder_shape(const RfFamily *f, const RfCeilings *c, double target, RfDecoder *m)
{
	double coef = layer_coef(f), L, dm;
	int64_t q = (int64_t)f->head_dim * f->kv_group;
	memset(m, 0, sizeof *m);
	m->target_params = target;
	L = cbrt(target / (coef * f->aspect * f->aspect));
	m->layers = L < 1 ? 1 : (int)llround(L);
	dm = sqrt(target / ((double)m->layers * coef));
	m->d_model = (int64_t)llround(dm / (double)q) * q;
	if (m->d_model < q)
		m->d_model = q;
	m->d_ff = (int64_t)llround(f->ffn_mult * (double)m->d_model);
	if (m->d_ff < 1)
		m->d_ff = 1;
	m->head_dim = f->head_dim;
	m->n_heads = m->d_model / f->head_dim;
	m->n_kv_heads = m->n_heads / f->kv_group;
	fill_shape(f, c, m);
}

typedef struct Ops {
	RfOpDesc *v;
	uint32_t n;
	size_t cap;
} Ops;

static RfOpDesc *
push(Ops *o, const char *op, int layer)
{
	RfOpDesc *d;
	o->v = xgrow(o->v, &o->cap, o->n + 1, sizeof *o->v);
	d = &o->v[o->n++];
	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "l%d.%s", layer, op);
	snprintf(d->op, sizeof d->op, "%s", op);
	d->gate = 1;
	d->gate_min = 0;
	return d;
}

static void
vec(RfOpDesc *d, double ops, double in_b, double out_b)
{
	d->vfu_ops += ops;
	d->in_bytes += in_b;
	d->out_bytes += out_b;
}

static void
mvm(RfOpDesc *d, double M, int64_t rows, int64_t cols, double ab)
{
	d->m = M;
	d->rows = rows;
	d->cols = cols;
	d->in_bytes += M * (double)rows * ab;
	d->out_bytes += M * (double)cols * ab;
}

static void
kan(const RfFamily *f, RfOpDesc *d, double M, int64_t in, int64_t out, double ab)
{
	double e = (double)ffn_rows_mult(f);
	d->m = M;
	d->rows = in * (int64_t)e;
	d->cols = out;
	d->gate = (f->spline_order + 2) / e;
	d->sbu_values = M * (double)in * (e - 1);
	d->vfu_ops = OPS_SILU * M * (double)in;
	d->drive_bytes = M * (double)d->rows * ab;
	d->in_bytes = M * (double)in * ab;
	d->out_bytes = M * (double)out * ab;
}

int
rf_decoder_ops(const RfFamily *f, const RfCeilings *c, const RfDecoder *m, double T, int prefill,
               int force_dram, RfOpDesc **out, uint32_t *n)
{
	Ops o = {0};
	double B = f->batch, s = prefill ? T : 1, M = B * s, ab = c->act_bytes;
	double kb = kv_bits(f, c) / 8.0, kappa = f->attn == RF_ATTN_SPARSE ? f->keep : 1;
	double d = (double)m->d_model, dh = (double)m->head_dim, nh = (double)m->n_heads;
	double dkv = (double)(m->n_kv_heads * m->head_dim), dq = nh * dh;
	double kv_total = B * 2 * m->layers * T * dkv * kb;
	int kv_dram = force_dram || kv_total > (double)c->tmem_total_bytes, l;

	for (l = 0; l < m->layers; l++) {
		RfOpDesc *x;
		double pairs, kv_rd, kv_wr;
		x = push(&o, "norm1", l);
		vec(x, OPS_RMSNORM * M * d, M * d * ab, M * d * ab);
		if (l == 0)
			x->dram_bytes += M * d * ab; /* the embedded tokens */
		mvm(push(&o, "qkv", l), M, m->d_model, m->d_model + 2 * (int64_t)dkv, ab);

		x = push(&o, "attn", l);
		if (prefill) {
			pairs = B * nh * kappa * T * (T + 1) / 2;
			kv_wr = B * 2 * T * dkv * kb;
			kv_rd = B * 2 * T * dkv * kb; /* each K/V block read at least once */
			x->dyn_elems = B * 2 * T * dkv;
		} else {
			pairs = B * nh * kappa * T;
			kv_wr = B * 2 * dkv * kb;
			kv_rd = B * 2 * kappa * T * dkv * kb;
			x->dyn_elems = B * 2 * kappa * T * dkv;
		}
		x->dyn_macs = pairs * 2 * dh;
		x->vfu_ops = OPS_SCORE * pairs;
		if (f->attn == RF_ATTN_SPARSE) {
			/* mask prediction: pooled keys scored per query (block), softmax, top-k */
			double nk = ceil(T / f->block), nq = prefill ? ceil(T / f->block) : 1;
			x->vfu_ops += B * nh * nq * nk * (dh + OPS_SOFTMAX) + M * (dq + dkv);
			x->sel_ops += B * nh * nq * nk * fmax(1, ceil(log2(nk)));
			kv_rd += B * nk * dkv * kb; /* the pooled keys */
		}
		x->in_bytes = M * (dq + 2 * dkv) * ab;
		x->out_bytes = M * dq * ab;
		if (kv_dram) {
			x->dram_bytes += kv_rd + kv_wr;
		} else {
			x->in_bytes += kv_rd;
			x->out_bytes += kv_wr;
		}
		mvm(push(&o, "o", l), M, (int64_t)dq, m->d_model, ab);
		vec(push(&o, "res1", l), M * d, 2 * M * d * ab, M * d * ab);
		vec(push(&o, "norm2", l), OPS_RMSNORM * M * d, M * d * ab, M * d * ab);
		if (f->ffn == RF_FFN_KAN) {
			kan(f, push(&o, "ffn0", l), M, m->d_model, m->d_ff, ab);
			kan(f, push(&o, "ffn1", l), M, m->d_ff, m->d_model, ab);
		} else {
			mvm(push(&o, "ffn0", l), M, m->d_model, m->d_ff, ab);
			vec(push(&o, "act", l), OPS_SILU * M * (double)m->d_ff,
			    M * (double)m->d_ff * ab, M * (double)m->d_ff * ab);
			mvm(push(&o, "ffn1", l), M, m->d_ff, m->d_model, ab);
		}
		x = push(&o, "res2", l);
		vec(x, M * d, 2 * M * d * ab, M * d * ab);
		if (l == m->layers - 1)
			x->dram_bytes += M * d * ab; /* the last hidden state, to the LM head */
	}
	*out = o.v;
	*n = o.n;
	return 0;
}

static double
kv_read_of(const RfFamily *f, const RfCeilings *c, const RfDecoder *m, double T)
{
	double kb = kv_bits(f, c) / 8.0, kappa = f->attn == RF_ATTN_SPARSE ? f->keep : 1;
	double dkv = (double)(m->n_kv_heads * m->head_dim);
	double r = f->batch * 2 * m->layers * kappa * T * dkv * kb;
	if (f->attn == RF_ATTN_SPARSE)
		r += f->batch * m->layers * ceil(T / f->block) * dkv * kb;
	return r;
}

void
rf_decoder_cost(const RfFamily *f, const RfCeilings *c, const RfDecoder *m, double T, int prefill,
                RfTokenCost *out)
{
	RfOpDesc *ops;
	uint32_t n, i;
	RfModel mod;
	double per = prefill ? T : 1;
	memset(out, 0, sizeof *out);
	rf_decoder_ops(f, c, m, T, prefill, 0, &ops, &n);
	rf_model_build(&mod, c, "decoder", ops, n);
	out->latency_s = mod.latency_s / per;
	out->latency_overlap_s = mod.latency_overlap_s / per;
	out->energy_j = mod.energy_j / per;
	out->binding = mod.total.binding;
	out->resident = mod.total.resident;
	out->kv_in_dram = f->batch * 2.0 * m->layers * T * (double)(m->n_kv_heads * m->head_dim) *
	                      (kv_bits(f, c) / 8.0) >
	                  (double)c->tmem_total_bytes;
	for (i = 0; i < n; i++)
		out->weight_stream_bytes += (1 - mod.ops[i].resident) * mod.ops[i].weight_bytes;
	out->weight_stream_bytes /= per;
	out->kv_read_bytes = prefill ? 0 : kv_read_of(f, c, m, T);
	memcpy(out->time_res_s, mod.total.t_s, sizeof out->time_res_s);
	for (i = 0; i < RF_NRES; i++)
		out->time_res_s[i] /= per;
	rf_model_free(&mod);
	free(ops);
}

/* ---- the KV/weight crossover ---- */

double
rf_tx_closed(const RfFamily *f, const RfCeilings *c, const RfDecoder *m)
{
	double kappa = f->attn == RF_ATTN_SPARSE ? f->keep : 1;
	double dkv = (double)(m->n_kv_heads * m->head_dim);
	return m->params * c->weight_bits /
	       (2.0 * m->layers * kappa * dkv * kv_bits(f, c) * f->batch);
}

/* Bytes per decode step that grow with T (the KV reads) minus the weight bytes, from the op
 * descriptors of a fully streamed decoder with its KV cache in DRAM. */
static double
kv_minus_weights(const RfFamily *f, const RfCeilings *c, const RfDecoder *m, double T, double kv0)
{
	RfOpDesc *ops;
	uint32_t n, i;
	double kv = 0, w = 0;
	rf_decoder_ops(f, c, m, T, 0, 1, &ops, &n);
	for (i = 0; i < n; i++) {
		if (strcmp(ops[i].op, "attn") == 0)
			kv += ops[i].dram_bytes;
		w += (double)ops[i].rows * (double)ops[i].cols * c->weight_bits / 8.0;
	}
	free(ops);
	return (kv - kv0) - w;
}

double
rf_tx_numeric(const RfFamily *f, const RfCeilings *c, const RfDecoder *m)
{
	double lo = 0, hi = 1, kv0 = 0;
	RfOpDesc *ops;
	uint32_t n, i;
	int k;
	/* kv0: the KV traffic that does not grow with T (the new token's K and V) */
	rf_decoder_ops(f, c, m, 0, 0, 1, &ops, &n);
	for (i = 0; i < n; i++)
		if (strcmp(ops[i].op, "attn") == 0)
			kv0 += ops[i].dram_bytes;
	free(ops);
	while (kv_minus_weights(f, c, m, hi, kv0) < 0 && hi < 1e18)
		hi *= 2;
	for (k = 0; k < 200 && hi - lo > 1e-9 * hi; k++) {
		double mid = 0.5 * (lo + hi);
		if (kv_minus_weights(f, c, m, mid, kv0) < 0)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

/* ---- the sweep ---- */

static int
fits(const RfFamily *f, const RfCeilings *c, double target, RfDecoder *m)
{
	rf_decoder_shape(f, c, target, m);
	return m->mvmus_needed <= c->mvmus;
}

static void
cliff(RfScaling *s)
{
	RfDecoder m;
	double lo = log(1e3), hi = log(1e14);
	int k;
	s->cliff_params_closed = s->c.capacity_weights;
	if (!fits(&s->f, &s->c, exp(lo), &m)) {
		s->cliff_params = m.params;
		s->last_resident_params = 0;
		return;
	}
	if (fits(&s->f, &s->c, exp(hi), &m)) {
		s->cliff_params = INFINITY;
		s->last_resident_params = m.params;
		return;
	}
	for (k = 0; k < 200 && hi - lo > 1e-12; k++) {
		double mid = 0.5 * (lo + hi);
		if (fits(&s->f, &s->c, exp(mid), &m))
			lo = mid;
		else
			hi = mid;
	}
	fits(&s->f, &s->c, exp(hi), &m);
	s->cliff_params = m.params;
	fits(&s->f, &s->c, exp(lo), &m);
	s->last_resident_params = m.params;
}

static void
add_fit(RfScaling *s, const char *name, const char *regime, double at, const double *x,
        const double *y, int n, int min_points)
{
	RfNamedFit *nf;
	if (s->nfits >= RF_MAXFITS || n < min_points)
		return;
	nf = &s->fits[s->nfits];
	if (rf_powerlaw_fit(x, y, n, &nf->fit))
		return;
	snprintf(nf->name, sizeof nf->name, "%s", name);
	snprintf(nf->regime, sizeof nf->regime, "%s", regime);
	nf->at = at;
	s->nfits++;
}

static void
fits_all(RfScaling *s)
{
	int np = s->npts, nc = s->f.ncontext, i, k, reg;
	double *x = xcalloc((size_t)(np > nc ? np : nc), sizeof *x);
	double *y = xcalloc((size_t)(np > nc ? np : nc), sizeof *y);
	double *z = xcalloc((size_t)(np > nc ? np : nc), sizeof *z);
	double Tf = (double)s->f.context[s->fit_ctx];
	static const char *const regimes[] = {"all", "resident", "streamed"};
	for (reg = 0; reg < 3; reg++) {
		for (i = 0, k = 0; i < np; i++) {
			const RfTokenCost *t = &s->pts[i].decode[s->fit_ctx];
			if (reg == 1 && t->resident < 1)
				continue;
			if (reg == 2 && t->resident >= 1)
				continue;
			x[k] = s->pts[i].m.params;
			y[k] = t->latency_s;
			z[k] = t->energy_j;
			k++;
		}
		add_fit(s, "decode_latency_vs_N", regimes[reg], Tf, x, y, k, reg ? 3 : 2);
		add_fit(s, "decode_energy_vs_N", regimes[reg], Tf, x, z, k, reg ? 3 : 2);
	}
	for (i = 0; i < np; i++) {
		x[i] = s->pts[i].m.params;
		y[i] = s->pts[i].prefill[s->fit_ctx].latency_s;
		z[i] = s->pts[i].prefill[s->fit_ctx].energy_j;
	}
	add_fit(s, "prefill_latency_vs_N", "all", Tf, x, y, np, 2);
	add_fit(s, "prefill_energy_vs_N", "all", Tf, x, z, np, 2);
	{
		const RfScalePoint *p = &s->pts[s->ref_point];
		for (k = 0; k < nc; k++) {
			x[k] = (double)s->f.context[k];
			y[k] = p->decode[k].latency_s;
			z[k] = p->decode[k].energy_j;
		}
		add_fit(s, "decode_latency_vs_T", "all", p->m.params, x, y, nc, 2);
		add_fit(s, "decode_energy_vs_T", "all", p->m.params, x, z, nc, 2);
		for (k = 0; k < nc; k++)
			y[k] = p->prefill[k].latency_s;
		add_fit(s, "prefill_latency_vs_T", "all", p->m.params, x, y, nc, 2);
	}
	free(x);
	free(y);
	free(z);
}

int
rf_scaling_run(const HwArch *a, const RfFamily *f, RfScaling *s, Diag *d)
{
	HwArch arch = *a;
	const char *paths[2];
	const char *vals[2];
	char wb[16], ib[16];
	int np = 0, i, k;

	memset(s, 0, sizeof *s);
	if (f->weight_bits) {
		snprintf(wb, sizeof wb, "%d", f->weight_bits);
		paths[np] = "mvmu.weight_bits";
		vals[np++] = wb;
	}
	if (f->act_bits) {
		snprintf(ib, sizeof ib, "%d", f->act_bits);
		paths[np] = "mvmu.input_bits";
		vals[np++] = ib;
	}
	if (np && hw_arch_set_many(&arch, paths, vals, np, d)) {
		char msg[DIAG_MAX];
		snprintf(msg, sizeof msg, "%s", d->msg);
		d->set = 0;
		return diag_err(d, NULL, "the family's bits do not fit architecture %s: %s",
		                a->name, msg);
	}
	rf_ceilings(&arch, &s->c);
	s->f = *f;
	s->npts = f->points;
	s->pts = xcalloc((size_t)s->npts, sizeof *s->pts);
	for (k = 0; k < f->ncontext; k++)
		if (f->context[k] == f->fit_context)
			s->fit_ctx = k;
	for (i = 0; i < s->npts; i++) {
		RfScalePoint *p = &s->pts[i];
		double t = s->npts > 1 ? (double)i / (s->npts - 1) : 0;
		double target =
		    exp(log(f->params_min) + t * (log(f->params_max) - log(f->params_min)));
		rf_decoder_shape(f, &s->c, target, &p->m);
		p->tx_closed = rf_tx_closed(f, &s->c, &p->m);
		p->tx_numeric = rf_tx_numeric(f, &s->c, &p->m);
		for (k = 0; k < f->ncontext; k++) {
			rf_decoder_cost(f, &s->c, &p->m, (double)f->context[k], 0, &p->decode[k]);
			rf_decoder_cost(f, &s->c, &p->m, (double)f->context[k], 1, &p->prefill[k]);
		}
	}
	s->ref_point = s->npts / 2;
	if (f->fit_params > 0) {
		double best = INFINITY;
		for (i = 0; i < s->npts; i++) {
			double e = fabs(log(s->pts[i].m.params / f->fit_params));
			if (e < best) {
				best = e;
				s->ref_point = i;
			}
		}
	}
	cliff(s);
	fits_all(s);
	return 0;
}

void
rf_scaling_free(RfScaling *s)
{
	free(s->pts);
	s->pts = NULL;
	s->npts = 0;
}
