/* scaling_report.c: the scaling study as text tables, JSON (keys in docs/roofline.md) and gnuplot
 * plots. */
#include "roofline.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *
rname(int r)
{
	return r >= 0 && r < RF_NRES ? rf_res[r].name : "-";
}

static void
grid(const RfScaling *s, FILE *f, const char *title, int prefill, int energy)
{
	int i, k;
	fprintf(f, "\n%s\n%10s", title, "N \\ T");
	for (k = 0; k < s->f.ncontext; k++)
		fprintf(f, " %16lld", (long long)s->f.context[k]);
	fputc('\n', f);
	for (i = 0; i < s->npts; i++) {
		fprintf(f, "%10.3g", s->pts[i].m.params);
		for (k = 0; k < s->f.ncontext; k++) {
			const RfTokenCost *t =
			    prefill ? &s->pts[i].prefill[k] : &s->pts[i].decode[k];
			char cell[40];
			snprintf(cell, sizeof cell, "%.3g %s%s",
			         energy ? t->energy_j : t->latency_s, rname(t->binding),
			         t->resident < 1 ? "*" : "");
			fprintf(f, " %16s", cell);
		}
		fputc('\n', f);
	}
}

void
rf_scaling_print(const RfScaling *s, FILE *f)
{
	const RfFamily *fm = &s->f;
	const RfCeilings *c = &s->c;
	int i;
	fprintf(f,
	        "scaling: family %s on %s: %s feed-forward, %s attention (keep %.3g), batch %d, "
	        "b_w %d, b_a %d, b_kv %d\n",
	        fm->name, c->arch.name, fm->ffn == RF_FFN_KAN ? "KAN" : "MLP",
	        fm->attn == RF_ATTN_SPARSE ? "sparse" : "dense",
	        fm->attn == RF_ATTN_SPARSE ? fm->keep : 1.0, fm->batch, c->weight_bits,
	        c->input_bits, fm->kv_bits ? fm->kv_bits : c->input_bits);
	fprintf(
	    f,
	    "capacity: %lld bytes = %.4g weights in %lld MVMUs (closed-form cliff %.4g params); ",
	    (long long)c->capacity_bytes, c->capacity_weights, (long long)c->mvmus,
	    s->cliff_params_closed);
	if (s->last_resident_params <= 0)
		fprintf(f, "no model of this family fits (the smallest has %.4g params)\n",
		        s->cliff_params);
	else if (!isfinite(s->cliff_params))
		fprintf(f, "every model of this family fits\n");
	else
		fprintf(f, "cliff between %.4g params (last resident) and %.4g (first streamed)\n",
		        s->last_resident_params, s->cliff_params);
	fprintf(f, "\n%10s %5s %7s %7s %5s %5s %10s %8s %9s %11s %11s\n", "N", "L", "d", "d_ff",
	        "heads", "kv", "weights B", "MVMUs", "resident", "T_x closed", "T_x numeric");
	for (i = 0; i < s->npts; i++) {
		const RfScalePoint *p = &s->pts[i];
		fprintf(f,
		        "%10.3g %5d %7lld %7lld %5lld %5lld %10.3g %8lld %8.1f%% %11.4g %11.4g\n",
		        p->m.params, p->m.layers, (long long)p->m.d_model, (long long)p->m.d_ff,
		        (long long)p->m.n_heads, (long long)p->m.n_kv_heads, p->m.weight_bytes,
		        (long long)p->m.mvmus_needed, 100 * p->decode[0].resident, p->tx_closed,
		        p->tx_numeric);
	}
	grid(s, f, "decode latency bound per step (s; binding resource; * = weights streamed)", 0,
	     0);
	grid(s, f, "decode energy bound per step (J)", 0, 1);
	grid(s, f, "prefill latency bound per token (s), prefill of T tokens", 1, 0);
	grid(s, f, "prefill energy bound per token (J)", 1, 1);
	fprintf(f, "\npower-law fits y = a x^b (least squares in log space)\n");
	fprintf(f, "%-22s %-9s %12s %12s %8s %8s %4s\n", "fit", "regime", "at", "a", "b", "R^2",
	        "n");
	for (i = 0; i < s->nfits; i++) {
		const RfNamedFit *n = &s->fits[i];
		fprintf(f, "%-22s %-9s %12.4g %12.4g %8.4f %8.4f %4d\n", n->name, n->regime, n->at,
		        n->fit.a, n->fit.b, n->fit.r2, n->fit.n);
	}
}

static json_t *
cost_json(const RfTokenCost *t)
{
	json_t *o = json_object(), *tr = json_object();
	int r;
	json_object_set_new(o, "latency_s", json_real(t->latency_s));
	json_object_set_new(o, "latency_overlap_s", json_real(t->latency_overlap_s));
	json_object_set_new(o, "energy_j", json_real(t->energy_j));
	json_object_set_new(o, "binding",
	                    t->binding >= 0 ? json_string(rf_res[t->binding].name) : json_null());
	json_object_set_new(o, "resident_fraction", json_real(t->resident));
	json_object_set_new(o, "kv_in_dram", json_boolean(t->kv_in_dram));
	json_object_set_new(o, "weight_stream_bytes", json_real(t->weight_stream_bytes));
	json_object_set_new(o, "kv_read_bytes", json_real(t->kv_read_bytes));
	for (r = 0; r < RF_NRES; r++)
		json_object_set_new(tr, rf_res[r].name, json_real(t->time_res_s[r]));
	json_object_set_new(o, "time_s", tr);
	return o;
}

char *
rf_scaling_json(const RfScaling *s)
{
	const RfFamily *fm = &s->f;
	json_t *root = json_object(), *pts = json_array(), *fits = json_array(),
	       *ctx = json_array();
	char *out;
	int i, k;
	json_object_set_new(root, "arch", json_string(s->c.arch.name));
	json_object_set_new(root, "family", json_string(fm->name));
	for (k = 0; k < fm->ncontext; k++)
		json_array_append_new(ctx, json_integer((json_int_t)fm->context[k]));
	json_object_set_new(root, "workload",
	                    json_pack("{s:o,s:i,s:s,s:s,s:f,s:i,s:i,s:i}", "context", ctx, "batch",
	                              fm->batch, "ffn", fm->ffn == RF_FFN_KAN ? "kan" : "mlp",
	                              "attention", fm->attn == RF_ATTN_SPARSE ? "sparse" : "dense",
	                              "keep", fm->attn == RF_ATTN_SPARSE ? fm->keep : 1.0,
	                              "weight_bits", s->c.weight_bits, "act_bits", s->c.input_bits,
	                              "kv_bits", fm->kv_bits ? fm->kv_bits : s->c.input_bits));
	json_object_set_new(root, "capacity",
	                    json_pack("{s:I,s:f,s:I,s:f,s:f,s:f}", "bytes",
	                              (json_int_t)s->c.capacity_bytes, "weights",
	                              s->c.capacity_weights, "mvmus", (json_int_t)s->c.mvmus,
	                              "cliff_params_closed", s->cliff_params_closed, "cliff_params",
	                              isfinite(s->cliff_params) ? s->cliff_params : -1,
	                              "last_resident_params", s->last_resident_params));
	for (i = 0; i < s->npts; i++) {
		const RfScalePoint *p = &s->pts[i];
		json_t *o = json_object(), *cs = json_array();
		json_object_set_new(o, "target_params", json_real(p->m.target_params));
		json_object_set_new(o, "params", json_real(p->m.params));
		json_object_set_new(o, "params_attention", json_real(p->m.params_attn));
		json_object_set_new(o, "params_ffn", json_real(p->m.params_ffn));
		json_object_set_new(o, "layers", json_integer(p->m.layers));
		json_object_set_new(o, "d_model", json_integer((json_int_t)p->m.d_model));
		json_object_set_new(o, "d_ff", json_integer((json_int_t)p->m.d_ff));
		json_object_set_new(o, "n_heads", json_integer((json_int_t)p->m.n_heads));
		json_object_set_new(o, "n_kv_heads", json_integer((json_int_t)p->m.n_kv_heads));
		json_object_set_new(o, "head_dim", json_integer((json_int_t)p->m.head_dim));
		json_object_set_new(o, "weight_bytes", json_real(p->m.weight_bytes));
		json_object_set_new(o, "mvmus_needed", json_integer((json_int_t)p->m.mvmus_needed));
		json_object_set_new(o, "tx_closed", json_real(p->tx_closed));
		json_object_set_new(o, "tx_numeric", json_real(p->tx_numeric));
		for (k = 0; k < fm->ncontext; k++)
			json_array_append_new(
			    cs, json_pack("{s:I,s:o,s:o}", "T", (json_int_t)fm->context[k],
			                  "decode", cost_json(&p->decode[k]), "prefill_per_token",
			                  cost_json(&p->prefill[k])));
		json_object_set_new(o, "contexts", cs);
		json_array_append_new(pts, o);
	}
	json_object_set_new(root, "points", pts);
	for (i = 0; i < s->nfits; i++) {
		const RfNamedFit *n = &s->fits[i];
		json_array_append_new(fits,
		                      json_pack("{s:s,s:s,s:f,s:f,s:f,s:f,s:i}", "name", n->name,
		                                "regime", n->regime, "at", n->at, "a", n->fit.a,
		                                "b", n->fit.b, "r2", n->fit.r2, "n", n->fit.n));
	}
	json_object_set_new(root, "fits", fits);
	out = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(root);
	return out;
}

/* One plot: y versus N (one line per T) or versus T (one line per chosen N). */
static int
plot_one(const RfScaling *s, const char *dir, const char *file, const char *title,
         const char *ylabel, int versus_T, int prefill, int energy, Diag *d)
{
	enum { MAXS = RF_MAXCTX + 2 };
	RfSeries ser[MAXS];
	char titles[MAXS][48], path[1200];
	double *xs = xcalloc((size_t)MAXS * (size_t)(s->npts + s->f.ncontext), sizeof *xs);
	double *ys = xcalloc((size_t)MAXS * (size_t)(s->npts + s->f.ncontext), sizeof *ys);
	double cx[2], cy[2], ylo = INFINITY, yhi = 0;
	int ns = 0, i, k, r, stride = s->npts + s->f.ncontext;
	RfPlot p;

	if (!versus_T) {
		for (k = 0; k < s->f.ncontext && ns < MAXS - 1; k++, ns++) {
			double *x = xs + ns * stride, *y = ys + ns * stride;
			for (i = 0; i < s->npts; i++) {
				const RfTokenCost *t =
				    prefill ? &s->pts[i].prefill[k] : &s->pts[i].decode[k];
				x[i] = s->pts[i].m.params;
				y[i] = energy ? t->energy_j : t->latency_s;
				ylo = fmin(ylo, y[i]);
				yhi = fmax(yhi, y[i]);
			}
			snprintf(titles[ns], sizeof titles[ns], "T = %lld",
			         (long long)s->f.context[k]);
			ser[ns] = (RfSeries){titles[ns], x, y, s->npts, RF_LINES, NULL};
		}
		if (isfinite(s->cliff_params) && s->cliff_params > 0 && yhi > 0) {
			cx[0] = cx[1] = sqrt(s->cliff_params * fmax(s->last_resident_params, 1));
			cy[0] = ylo;
			cy[1] = yhi;
			ser[ns++] = (RfSeries){"capacity cliff", cx, cy, 2, RF_LINES, NULL};
		}
	} else {
		int want = s->npts < 5 ? s->npts : 5;
		for (r = 0; r < want; r++, ns++) {
			int pi = want > 1 ? r * (s->npts - 1) / (want - 1) : 0;
			double *x = xs + ns * stride, *y = ys + ns * stride;
			for (k = 0; k < s->f.ncontext; k++) {
				const RfTokenCost *t =
				    prefill ? &s->pts[pi].prefill[k] : &s->pts[pi].decode[k];
				x[k] = (double)s->f.context[k];
				y[k] = energy ? t->energy_j : t->latency_s;
			}
			snprintf(titles[ns], sizeof titles[ns], "N = %.3g", s->pts[pi].m.params);
			ser[ns] = (RfSeries){titles[ns], x, y, s->f.ncontext, RF_LINES, NULL};
		}
	}
	memset(&p, 0, sizeof p);
	p.title = title;
	p.xlabel = versus_T ? "context length T (tokens)" : "non-embedding parameters N";
	p.ylabel = ylabel;
	p.logx = p.logy = 1;
	p.series = ser;
	p.nseries = ns;
	snprintf(path, sizeof path, "%s/%s", dir, file);
	i = rf_plot_write(&p, path, d);
	free(xs);
	free(ys);
	return i;
}

int
rf_scaling_plots(const RfScaling *s, const char *dir, Diag *d)
{
	char t[4][200];
	snprintf(t[0], sizeof t[0], "decode latency bound per step: %s on %s", s->f.name,
	         s->c.arch.name);
	snprintf(t[1], sizeof t[1], "decode energy bound per step: %s on %s", s->f.name,
	         s->c.arch.name);
	snprintf(t[2], sizeof t[2], "decode latency bound versus context: %s on %s", s->f.name,
	         s->c.arch.name);
	snprintf(t[3], sizeof t[3], "prefill latency bound per token: %s on %s", s->f.name,
	         s->c.arch.name);
	if (plot_one(s, dir, "scaling_decode_latency.svg", t[0], "latency per step (s)", 0, 0, 0,
	             d) ||
	    plot_one(s, dir, "scaling_decode_energy.svg", t[1], "energy per step (J)", 0, 0, 1,
	             d) ||
	    plot_one(s, dir, "scaling_decode_context.svg", t[2], "latency per step (s)", 1, 0, 0,
	             d) ||
	    plot_one(s, dir, "scaling_prefill_latency.svg", t[3], "latency per token (s)", 0, 1, 0,
	             d))
		return -1;
	return 0;
}
