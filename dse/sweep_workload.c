/* sweep_workload.c: the workloads of a sweep file: models (parsed and checked before any point
 * runs), their compile options and per-layer fractions. Part of the sweep loader (sweep.c). */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "dse.h"
#include "ir.h"
#include "onnx.h"
#include "sweep_int.h"

/* ---- workloads ---- */

/* layer_fractions: for the estimate, the expected fraction of each layer's drive rows that row
 * gating keeps active, by the name of every tensor a layer (or its fused activation) produces. */
static void
layer_fractions(DseWorkload *w, const Graph *g)
{
	double *frac = xcalloc(g->ntensors + 1, sizeof(double));
	int *nb = xcalloc(g->ntensors + 1, sizeof(int));
	uint32_t i;
	for (i = 0; i < g->ntensors; i++)
		frac[i] = -1;
	for (i = 0; i < g->nnodes; i++) {
		const IrNode *n = &g->nodes[i];
		double f = -1;
		int b = 0;
		if (n->op == IR_OP_kan_linear) {
			double G = (double)ir_attr_int(g, i, "grid_size");
			double k = (double)ir_attr_int(g, i, "spline_order");
			f = (2 + k) / (1 + G + k);
			b = (int)(G + k);
		} else if (n->op == IR_OP_linear)
			f = 1;
		else if (n->nin >= 1 && n->in[0] < g->ntensors) {
			f = frac[n->in[0]]; /* a fused activation keeps its layer's figures */
			b = nb[n->in[0]];
		}
		if (n->nout >= 1 && n->out[0] < g->ntensors) {
			frac[n->out[0]] = f;
			nb[n->out[0]] = b;
		}
	}
	for (i = 0; i < g->ntensors; i++)
		if (frac[i] >= 0) {
			w->layer_names =
			    xrealloc(w->layer_names, sizeof(char *) * (size_t)(w->nlayers + 1));
			w->layer_active =
			    xrealloc(w->layer_active, sizeof(double) * (size_t)(w->nlayers + 1));
			w->layer_nb = xrealloc(w->layer_nb, sizeof(int) * (size_t)(w->nlayers + 1));
			w->layer_names[w->nlayers] = xstrdup(g->tensors[i].name);
			w->layer_nb[w->nlayers] = nb[i];
			w->layer_active[w->nlayers++] = frac[i];
		}
	free(frac);
	free(nb);
}

char *
sw_resolve(Ctx *c, const char *p)
{
	char buf[4096];
	if (p[0] == '/' || !c->dir || !c->dir[0])
		return xstrdup(p);
	snprintf(buf, sizeof buf, "%s/%s", c->dir, p);
	return xstrdup(buf);
}

static int
load_options(Ctx *c, DseWorkload *w, yaml_node_t *on)
{
	static const char *const ok[] = {"opt_level",   "row_gating",    "adc_exact", "seed",
	                                 "input_range", "calib_samples", NULL};
	yaml_node_pair_t *pr;
	if (on->type != YAML_MAPPING_NODE)
		return sw_err(c, on, "options: expected a mapping (opt_level, row_gating, ...)");
	for (pr = on->data.mapping.pairs.start; pr < on->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = sw_node(c, pr->key), *v = sw_node(c, pr->value);
		const char *ks;
		char dymb[96];
		long long x;
		if (sw_want_scalar(c, k, "option"))
			return -1;
		ks = sw_scalar(k);
		if (!strcmp(ks, "opt_level")) {
			if (sw_get_int(c, v, ks, 0, 2, &x))
				return -1;
			if (x == 1)
				return sw_err(c, v, "opt_level: 0 or 2");
			w->opt.opt_level = (int)x;
		} else if (!strcmp(ks, "row_gating")) {
			if (sw_get_bool(c, v, ks, &w->opt.row_gating))
				return -1;
		} else if (!strcmp(ks, "adc_exact")) {
			if (sw_get_bool(c, v, ks, &w->opt.adc_exact))
				return -1;
		} else if (!strcmp(ks, "seed")) {
			if (sw_get_int(c, v, ks, 0, INT64_MAX, &x))
				return -1;
			w->opt.seed = (uint64_t)x;
		} else if (!strcmp(ks, "calib_samples")) {
			if (sw_get_int(c, v, ks, 1, 65536, &x))
				return -1;
			w->opt.nsynth = (uint32_t)x;
		} else if (!strcmp(ks, "input_range")) {
			yaml_node_item_t *it;
			if (v->type != YAML_SEQUENCE_NODE ||
			    v->data.sequence.items.top - v->data.sequence.items.start != 2)
				return sw_err(c, v, "input_range: expected [lo, hi]");
			it = v->data.sequence.items.start;
			if (sw_get_double(c, sw_node(c, it[0]), "input_range", &w->opt.input_lo) ||
			    sw_get_double(c, sw_node(c, it[1]), "input_range", &w->opt.input_hi))
				return -1;
			if (!(w->opt.input_lo < w->opt.input_hi))
				return sw_err(c, v, "input_range: lo must be below hi");
		} else
			return sw_err(
			    c, k, "unknown compile option '%s'%s (expected %s)", ks,
			    sw_dym(dymb, sizeof dymb, sw_closest_of(ks, ok)),
			    "opt_level, row_gating, adc_exact, seed, input_range, calib_samples");
	}
	return 0;
}

/* graph_io: the per-sample input width and output count of a one-input, one-output graph (the
 * last dimension of each), to check a dataset against; 0 when the graph has another form (the
 * compiler then says why). */
static void
graph_io(const Graph *g, uint32_t *nin, uint32_t *nout, const char **in_name)
{
	const IrTensor *in = NULL;
	uint32_t i, ninputs = 0;
	*nin = *nout = 0;
	*in_name = "input";
	for (i = 0; i < g->ntensors; i++)
		if (g->tensors[i].kind == IR_INPUT) {
			in = &g->tensors[i];
			ninputs++;
		}
	if (ninputs != 1 || g->noutputs != 1 || g->outputs[0].t >= g->ntensors)
		return;
	*in_name = in->name;
	if (in->type.rank >= 1 && in->type.rank <= 2)
		*nin = (uint32_t)in->type.dim[in->type.rank - 1];
	{
		const IrType *t = &g->tensors[g->outputs[0].t].type;
		if (t->rank >= 1 && t->rank <= 2)
			*nout = (uint32_t)t->dim[t->rank - 1];
	}
}

/* load_eval: `eval: DATASET` or `eval: {data: DATASET, samples: N, g_sigma: X, stuck: P,
 * read_noise: X}`: the dataset is read and checked against the model now, so that a missing or
 * malformed file stops the sweep before any point runs. */
static int
load_eval(Ctx *c, DseWorkload *w, yaml_node_t *en, const Graph *g)
{
	static const char *const ok[] = {"data", "samples", "g_sigma", "stuck", "read_noise", NULL};
	yaml_node_t *data = NULL;
	uint32_t nin, nout;
	const char *in_name;
	Diag fd = {0};
	char *path;
	int rc;
	sim_options_default(&w->eval_so);
	w->eval_so.seed = w->opt.seed;
	if (en->type == YAML_SCALAR_NODE)
		data = en;
	else if (en->type != YAML_MAPPING_NODE)
		return sw_err(c, en,
		              "eval: expected a dataset (as for kolmo eval --data) or a mapping "
		              "{data, samples, g_sigma, stuck, read_noise}");
	else {
		yaml_node_pair_t *pr;
		for (pr = en->data.mapping.pairs.start; pr < en->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = sw_node(c, pr->key), *v = sw_node(c, pr->value);
			const char *ks;
			char dymb[96];
			long long x;
			if (sw_want_scalar(c, k, "eval key"))
				return -1;
			ks = sw_scalar(k);
			if (!strcmp(ks, "data"))
				data = v;
			else if (!strcmp(ks, "samples")) {
				if (sw_get_int(c, v, ks, 1, UINT32_MAX, &x))
					return -1;
				w->eval_samples = (uint32_t)x;
			} else if (!strcmp(ks, "g_sigma") || !strcmp(ks, "stuck") ||
			           !strcmp(ks, "read_noise")) {
				double *dst = !strcmp(ks, "g_sigma") ? &w->eval_so.g_sigma
				              : !strcmp(ks, "stuck") ? &w->eval_so.stuck_prob
				                                     : &w->eval_so.read_noise;
				double hi = !strcmp(ks, "g_sigma") ? 10
				            : !strcmp(ks, "stuck") ? 1
				                                   : 1e6;
				if (sw_get_double(c, v, ks, dst))
					return -1;
				if (!(*dst >= 0 && *dst <= hi))
					return sw_err(c, v, "%s: a number in [0, %g]", ks, hi);
			} else
				return sw_err(c, k, "unknown eval key '%s'%s (expected %s)", ks,
				              sw_dym(dymb, sizeof dymb, sw_closest_of(ks, ok)),
				              "data, samples, g_sigma, stuck, read_noise");
		}
		if (!data)
			return sw_err(c, en, "eval: 'data' (the dataset) is required");
	}
	if (sw_want_scalar(c, data, "data"))
		return -1;
	graph_io(g, &nin, &nout, &in_name);
	path = sw_resolve(c, sw_scalar(data));
	rc = eval_data_load(path, nin, nout, in_name, &w->data, &fd);
	free(path);
	if (rc) {
		/* the file and the reason, without the diagnostic's "error: " tag */
		char msg[600], *e;
		snprintf(msg, sizeof msg, "%.*s", (int)strcspn(fd.msg, "\n"), fd.msg);
		if ((e = strstr(msg, "error: ")))
			memmove(e, e + 7, strlen(e + 7) + 1);
		return sw_err(c, data, "eval: dataset %s", msg);
	}
	w->has_eval = 1;
	c->s->accuracy = 1;
	return 0;
}

int
sw_load_workloads(Ctx *c, yaml_node_t *vn)
{
	DseSweep *s = c->s;
	yaml_node_item_t *it;
	int i;
	if (vn->type != YAML_SEQUENCE_NODE ||
	    vn->data.sequence.items.top == vn->data.sequence.items.start)
		return sw_err(c, vn, "workloads: expected a list of models, e.g. '- model: m.kir'");
	s->nwl = (int)(vn->data.sequence.items.top - vn->data.sequence.items.start);
	if (s->nwl > DSE_MAX_WL)
		return sw_err(c, vn, "workloads: at most %d", DSE_MAX_WL);
	s->wl = xcalloc((size_t)s->nwl, sizeof(DseWorkload));
	i = 0;
	for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++, i++) {
		yaml_node_t *m = sw_node(c, *it), *model = NULL, *name = NULL, *opts = NULL,
		            *ev = NULL;
		DseWorkload *w = &s->wl[i];
		yaml_node_pair_t *pr;
		Graph *g;
		int j;
		cc_options_default(&w->opt);
		if (m->type == YAML_SCALAR_NODE)
			model = m;
		else if (m->type != YAML_MAPPING_NODE)
			return sw_err(c, m,
			              "a workload is 'model: file.kir' with optional name and "
			              "options");
		else
			for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
			     pr++) {
				yaml_node_t *k = sw_node(c, pr->key), *v = sw_node(c, pr->value);
				if (sw_want_scalar(c, k, "workload key"))
					return -1;
				if (!strcmp(sw_scalar(k), "model"))
					model = v;
				else if (!strcmp(sw_scalar(k), "name"))
					name = v;
				else if (!strcmp(sw_scalar(k), "options"))
					opts = v;
				else if (!strcmp(sw_scalar(k), "eval"))
					ev = v;
				else
					return sw_err(
					    c, k,
					    "unknown workload key '%s' (expected model, name, "
					    "options, eval)",
					    sw_scalar(k));
			}
		if (!model)
			return sw_err(c, m, "workload: 'model' is required");
		if (sw_want_scalar(c, model, "model") || (name && sw_want_scalar(c, name, "name")))
			return -1;
		if (opts && load_options(c, w, opts))
			return -1;
		w->path = sw_resolve(c, sw_scalar(model));
		w->shown = xstrdup(sw_scalar(model));
		if (name)
			w->name = xstrdup(sw_scalar(name));
		else {
			const char *b = strrchr(sw_scalar(model), '/');
			char *dot;
			w->name = xstrdup(b ? b + 1 : sw_scalar(model));
			if ((dot = strrchr(w->name, '.')))
				*dot = 0;
		}
		for (j = 0; w->name[j]; j++)
			if (!isalnum((unsigned char)w->name[j]) && w->name[j] != '_' &&
			    w->name[j] != '-')
				return sw_err(
				    c, name ? name : model,
				    "workload name '%s': use letters, digits, '_' and '-' (it "
				    "names output columns)",
				    w->name);
		for (j = 0; j < i; j++)
			if (!strcmp(s->wl[j].name, w->name))
				return sw_err(c, name ? name : model,
				              "two workloads named '%s'; give one a 'name'",
				              w->name);
		{
			Diag fd = {0};
			w->text = read_file(w->path, MAX_MODEL_BYTES, &w->len, &fd);
			if (!w->text)
				return sw_err(c, model, "workload: %s",
				              strstr(fd.msg, "error: ")
				                  ? strstr(fd.msg, "error: ") + 7
				                  : fd.msg);
		}
		{
			char tmp[4096];
			snprintf(tmp, sizeof tmp, "%s", w->path);
			w->base_dir = xstrdup(dirname(tmp));
		}
		/* Parse once now: a model that does not parse stops the sweep before any work. */
		g = onnx_model_load_mem(w->text, w->len, w->path, w->base_dir,
		                        IR_PARSE_LOAD_WEIGHTS, c->d);
		if (!g)
			return -1;
		if (ir_verify(g, c->d)) {
			ir_free(g);
			return -1;
		}
		layer_fractions(w, g);
		if (ev && load_eval(c, w, ev, g)) {
			ir_free(g);
			return -1;
		}
		ir_free(g);
	}
	return 0;
}
