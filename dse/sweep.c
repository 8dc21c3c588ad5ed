/* sweep.c: the sweep file: YAML (libyaml document API, with source positions) to a checked
 * DseSweep. Every error points at file:line:col with the source line and a caret, and happens
 * before any point is evaluated. docs/dse.md is the reference of the format. */
#include "dse.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "ir.h"

const DseObjInfo dse_objs[DSE_NOBJ] = {
#define DSE_OBJ(id, name, unit, help) {name, unit, help},
    DSE_OBJECTIVES
#undef DSE_OBJ
};

const char *const dse_method_names[] = {"grid", "random", "lhs", NULL};

enum { MAX_SWEEP_BYTES = 1 << 20, MAX_LEVELS = 1 << 20, MAX_MODEL_BYTES = 64 << 20 };

int
dse_obj_find(const char *name)
{
	int i;
	for (i = 0; i < DSE_NOBJ; i++)
		if (strcmp(dse_objs[i].name, name) == 0)
			return i;
	return -1;
}

typedef struct Ctx {
	const char *file;
	const char *text;
	const char *dir;
	yaml_document_t *doc;
	DseSweep *s;
	Diag *d;
} Ctx;

static int yerr(Ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
yerr(Ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int line = n ? (int)n->start_mark.line + 1 : 1, col = n ? (int)n->start_mark.column + 1 : 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return diag_at(c->d, c->file, line, col, diag_src_line(c->text, line), "%s", msg);
}

/* ---- closest names (for "did you mean") ---- */

/* closest_key: the schema key nearest to key: the same leaf in another section first, else the
 * smallest edit distance (within reason). NULL if nothing is close. */
static const char *
closest_key(const char *key)
{
	const char *leaf = strrchr(key, '.'), *best = NULL;
	size_t bd = (size_t)-1;
	int i;
	for (i = 0; i < hw_nparams; i++) {
		const char *p = hw_params[i].path, *pl = strrchr(p, '.');
		size_t dist;
		if (leaf && pl && strcmp(leaf, pl) == 0)
			return p;
		if (!leaf && pl && strcmp(key, pl + 1) == 0)
			return p;
		dist = edit_distance(key, p);
		if (dist < bd) {
			bd = dist;
			best = p;
		}
	}
	if (bd == 0 || bd > 4 || bd * 2 > strlen(key))
		return NULL;
	return best;
}

static const char *
closest_of(const char *key, const char *const *names)
{
	const char *best = NULL;
	size_t bd = (size_t)-1;
	int i;
	for (i = 0; names[i]; i++) {
		size_t dist = edit_distance(key, names[i]);
		if (dist < bd) {
			bd = dist;
			best = names[i];
		}
	}
	if (bd > 3 || bd * 2 > strlen(key))
		return NULL;
	return best;
}

/* dym: " (did you mean 'x'?)" for a suggestion, "" for none. */
static const char *
dym(char *buf, size_t n, const char *sug)
{
	if (!sug)
		return "";
	snprintf(buf, n, " (did you mean '%s'?)", sug);
	return buf;
}

static void
list_names(const char *const *names, char *buf, size_t n)
{
	size_t len = 0;
	int i;
	buf[0] = 0;
	for (i = 0; names[i] && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", names[i]);
}

/* ---- YAML access ---- */

static yaml_node_t *
node(Ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *
scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int
want_scalar(Ctx *c, yaml_node_t *n, const char *what)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return yerr(c, n, "%s: expected a single value", what);
	if (strlen(scalar(n)) != n->data.scalar.length || n->data.scalar.length > 4000)
		return yerr(c, n, "%s: value too long or not text", what);
	return 0;
}

static int
get_int(Ctx *c, yaml_node_t *n, const char *what, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;
	if (want_scalar(c, n, what))
		return -1;
	errno = 0;
	v = strtoll(scalar(n), &end, 0);
	if (errno || end == scalar(n) || *end)
		return yerr(c, n, "%s: expected an integer, got '%.60s'", what, scalar(n));
	if (v < lo || v > hi)
		return yerr(c, n, "%s: %lld is out of range [%lld, %lld]", what, v, lo, hi);
	*out = v;
	return 0;
}

static int
get_bool(Ctx *c, yaml_node_t *n, const char *what, int *out)
{
	const char *v;
	if (want_scalar(c, n, what))
		return -1;
	v = scalar(n);
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
		*out = 1;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
		*out = 0;
	else
		return yerr(c, n, "%s: expected true or false, got '%.60s'", what, v);
	return 0;
}

static int
get_double(Ctx *c, yaml_node_t *n, const char *what, double *out)
{
	char *end;
	if (want_scalar(c, n, what))
		return -1;
	errno = 0;
	*out = strtod(scalar(n), &end);
	if (errno || end == scalar(n) || *end || !isfinite(*out))
		return yerr(c, n, "%s: expected a number, got '%.60s'", what, scalar(n));
	return 0;
}

/* ---- values of architecture keys (checked against the schema) ---- */

/* parse_bytes: "65536", "64KiB" ... into *v. */
static int
parse_bytes(const char *s, double *v)
{
	static const struct {
		const char *suf;
		double mul;
	} sufs[] = {{"", 1},
	            {"B", 1},
	            {"KiB", 1024.0},
	            {"MiB", 1048576.0},
	            {"GiB", 1073741824.0},
	            {"TiB", 1099511627776.0}};
	char *end;
	size_t k;
	errno = 0;
	*v = (double)strtoll(s, &end, 10);
	if (errno || end == s || isspace((unsigned char)*s) || *s == '+')
		return -1;
	while (*end == ' ')
		end++;
	for (k = 0; k < NELEM(sufs); k++)
		if (strcmp(end, sufs[k].suf) == 0) {
			*v *= sufs[k].mul;
			return 0;
		}
	return -1;
}

/* value_number: the numeric value of text for schema row i (enums and strings: -1). */
static int
value_number(int i, const char *s, double *v)
{
	const HwParam *p = &hw_params[i];
	char *end;
	switch (p->type) {
	case HW_T_INT:
		errno = 0;
		*v = (double)strtoll(s, &end, 10);
		return errno || end == s || *end ? -1 : 0;
	case HW_T_BYTES:
		return parse_bytes(s, v);
	case HW_T_F64:
		errno = 0;
		*v = strtod(s, &end);
		return errno || end == s || *end || !isfinite(*v) ? -1 : 0;
	default:
		return -1;
	}
}

/* check_value: can text ever be a value of schema row i (type and range)? */
static int
check_value(Ctx *c, yaml_node_t *n, int i, const char *s)
{
	const HwParam *p = &hw_params[i];
	double v;
	switch (p->type) {
	case HW_T_INT:
	case HW_T_BYTES:
	case HW_T_F64:
		if (value_number(i, s, &v))
			return yerr(c, n, "%s: expected %s, got '%.60s'", p->path,
			            p->type == HW_T_INT     ? "an integer"
			            : p->type == HW_T_BYTES ? "a byte count (e.g. 65536 or 64KiB)"
			                                    : "a number",
			            s);
		if (v < p->min || v > p->max)
			return yerr(c, n, "%s: %.15g is out of range [%.15g, %.15g]%s%s", p->path,
			            v, p->min, p->max, p->unit[0] ? " " : "", p->unit);
		return 0;
	case HW_T_BOOL:
		if (strcmp(s, "true") && strcmp(s, "false") && strcmp(s, "yes") &&
		    strcmp(s, "no") && strcmp(s, "on") && strcmp(s, "off") && strcmp(s, "1") &&
		    strcmp(s, "0"))
			return yerr(c, n, "%s: expected true or false, got '%.60s'", p->path, s);
		return 0;
	case HW_T_ENUM: {
		char opts[256];
		int k;
		for (k = 0; p->enums[k]; k++)
			if (strcmp(s, p->enums[k]) == 0)
				return 0;
		list_names(p->enums, opts, sizeof opts);
		return yerr(c, n, "%s: unknown value '%.60s' (expected one of %s)", p->path, s,
		            opts);
	}
	case HW_T_STR:
		if ((double)strlen(s) < p->min || (double)strlen(s) > p->max)
			return yerr(c, n, "%s: length %zu is out of range", p->path, strlen(s));
		return 0;
	}
	return 0;
}

/* key_row: the schema row of an architecture key, or an error with a suggestion. */
static int
key_row(Ctx *c, yaml_node_t *kn, const char *key)
{
	int i = hw_param_find(key);
	const char *sug;
	if (i >= 0)
		return i;
	sug = closest_key(key);
	if (sug)
		yerr(c, kn, "unknown architecture parameter '%s' (did you mean '%s'?)", key, sug);
	else
		yerr(
		    c, kn,
		    "unknown architecture parameter '%s' (the keys are listed in docs/hwmodels.md)",
		    key);
	return -1;
}

/* ---- parameters ---- */

static char *
fmt_level(int row, double v)
{
	char buf[64];
	if (hw_params[row].type == HW_T_F64)
		snprintf(buf, sizeof buf, "%.15g", v);
	else
		snprintf(buf, sizeof buf, "%.0f", v);
	return xstrdup(buf);
}

static int
param_range(Ctx *c, DseParam *p, yaml_node_t *vn)
{
	yaml_node_pair_t *pr;
	yaml_node_t *from = NULL, *to = NULL, *step = NULL, *times = NULL;
	int row = p->keys[0];
	const HwParam *hp = &hw_params[row];
	double lo, hi, st = 0, tm = 0, v;
	int isint = hp->type == HW_T_INT || hp->type == HW_T_BYTES;
	static const char *const rk[] = {"from", "to", "step", "times", NULL};
	if (hp->type != HW_T_INT && hp->type != HW_T_BYTES && hp->type != HW_T_F64)
		return yerr(c, vn, "%s: a range needs a numeric key; list the values instead",
		            p->name);
	for (pr = vn->data.mapping.pairs.start; pr < vn->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(c, pr->key), *v2 = node(c, pr->value);
		const char *ks;
		char dymb[96];
		if (want_scalar(c, k, "range key"))
			return -1;
		ks = scalar(k);
		if (!strcmp(ks, "from"))
			from = v2;
		else if (!strcmp(ks, "to"))
			to = v2;
		else if (!strcmp(ks, "step"))
			step = v2;
		else if (!strcmp(ks, "times"))
			times = v2;
		else
			return yerr(c, k,
			            "unknown range key '%s'%s (expected from, to, step, times)", ks,
			            dym(dymb, sizeof dymb, closest_of(ks, rk)));
	}
	if (!from || !to)
		return yerr(c, vn, "%s: a range needs 'from' and 'to'", p->name);
	if (step && times)
		return yerr(c, times, "%s: give 'step' or 'times', not both", p->name);
	if (want_scalar(c, from, "from") || want_scalar(c, to, "to") ||
	    check_value(c, from, row, scalar(from)) || check_value(c, to, row, scalar(to)))
		return -1;
	value_number(row, scalar(from), &lo);
	value_number(row, scalar(to), &hi);
	if (lo > hi)
		return yerr(c, vn, "%s: empty range: from (%g) is above to (%g)", p->name, lo, hi);
	if (step) {
		if (hp->type == HW_T_BYTES ? parse_bytes(scalar(step), &st)
		                           : get_double(c, step, "step", &st))
			return c->d->set ? -1 : yerr(c, step, "step: expected a number");
		if (!(st > 0))
			return yerr(c, step, "%s: empty range: step must be positive, not %g",
			            p->name, st);
		if (isint && st != floor(st))
			return yerr(c, step, "%s: the key is an integer; step %g is not", p->name,
			            st);
	}
	if (times) {
		if (get_double(c, times, "times", &tm))
			return -1;
		if (!(tm > 1))
			return yerr(c, times, "%s: empty range: times must be above 1, not %g",
			            p->name, tm);
		if (!(lo > 0))
			return yerr(c, from, "%s: a geometric range (times) needs from > 0",
			            p->name);
	}
	if (!step && !times) {
		p->kind = DSE_P_CONT;
		p->lo = lo;
		p->hi = hi;
		p->integer = isint;
		return 0;
	}
	p->kind = DSE_P_RANGE;
	for (v = lo; v <= hi * (1 + 1e-12) + 1e-12;) {
		if (p->nlevels >= MAX_LEVELS)
			return yerr(c, vn, "%s: more than %d levels", p->name, MAX_LEVELS);
		p->levels = xrealloc(p->levels, sizeof(char *) * (size_t)(p->nlevels + 1));
		p->levels[p->nlevels++] = fmt_level(row, isint ? floor(v + 0.5) : v);
		if (step)
			v = lo + st * p->nlevels; /* no accumulated rounding */
		else
			v *= tm;
	}
	return 0;
}

static int
param_list(Ctx *c, DseParam *p, yaml_node_t *vn)
{
	yaml_node_item_t *it;
	int n = (int)(vn->data.sequence.items.top - vn->data.sequence.items.start);
	if (n == 0)
		return yerr(c, vn, "%s: empty list of values", p->name);
	p->kind = DSE_P_LIST;
	p->levels = xcalloc((size_t)n, sizeof(char *));
	for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
		yaml_node_t *v = node(c, *it);
		if (want_scalar(c, v, p->name) || check_value(c, v, p->keys[0], scalar(v)))
			return -1;
		p->levels[p->nlevels++] = xstrdup(scalar(v));
	}
	return 0;
}

static int
param_group(Ctx *c, DseParam *p, yaml_node_t *vn)
{
	yaml_node_item_t *it;
	int n = (int)(vn->data.sequence.items.top - vn->data.sequence.items.start), lv = 0;
	if (n == 0)
		return yerr(c, vn, "group '%s': empty list of choices", p->name);
	p->kind = DSE_P_GROUP;
	for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++, lv++) {
		yaml_node_t *m = node(c, *it);
		yaml_node_pair_t *pr;
		int k = 0;
		if (!m || m->type != YAML_MAPPING_NODE)
			return yerr(
			    c, m,
			    "group '%s': each choice is a mapping of keys set together, e.g. "
			    "{mvmu.tech: sram, mvmu.adc_bits: 0}",
			    p->name);
		if (lv == 0) {
			p->nkeys = (int)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
			if (p->nkeys == 0)
				return yerr(c, m, "group '%s': a choice sets no key", p->name);
			p->keys = xcalloc((size_t)p->nkeys, sizeof(int));
			p->levels = xcalloc((size_t)(n * p->nkeys), sizeof(char *));
			p->nlevels = n; /* all slots, so that an error frees what is set */
		} else if ((int)(m->data.mapping.pairs.top - m->data.mapping.pairs.start) !=
		           p->nkeys)
			return yerr(
			    c, m, "group '%s': every choice must set the same %d keys as the first",
			    p->name, p->nkeys);
		for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++, k++) {
			yaml_node_t *kn = node(c, pr->key), *v = node(c, pr->value);
			int row, j, slot = k;
			if (want_scalar(c, kn, "key") || (row = key_row(c, kn, scalar(kn))) < 0)
				return -1;
			if (lv == 0) {
				for (j = 0; j < k; j++)
					if (p->keys[j] == row)
						return yerr(c, kn, "group '%s': key '%s' twice",
						            p->name, scalar(kn));
				p->keys[k] = row;
			} else {
				for (j = 0; j < p->nkeys && p->keys[j] != row; j++)
					;
				if (j == p->nkeys)
					return yerr(
					    c, kn,
					    "group '%s': '%s' is not set by the first choice; "
					    "every choice sets the same keys",
					    p->name, scalar(kn));
				slot = j;
			}
			if (want_scalar(c, v, scalar(kn)) || check_value(c, v, row, scalar(v)))
				return -1;
			if (p->levels[lv * p->nkeys + slot])
				return yerr(c, kn, "group '%s': key '%s' twice", p->name,
				            scalar(kn));
			p->levels[lv * p->nkeys + slot] = xstrdup(scalar(v));
		}
	}
	return 0;
}

static int
load_params(Ctx *c, yaml_node_t *vn)
{
	DseSweep *s = c->s;
	yaml_node_pair_t *pr;
	int i, j, k;
	if (vn->type != YAML_MAPPING_NODE)
		return yerr(c, vn,
		            "parameters: expected a mapping of key paths to values, e.g. "
		            "'mvmu.adc_bits: [4, 6, 8]'");
	s->nparams = (int)(vn->data.mapping.pairs.top - vn->data.mapping.pairs.start);
	if (s->nparams == 0)
		return yerr(c, vn, "parameters: nothing to vary");
	s->params = xcalloc((size_t)s->nparams, sizeof(DseParam));
	i = 0;
	for (pr = vn->data.mapping.pairs.start; pr < vn->data.mapping.pairs.top; pr++, i++) {
		yaml_node_t *kn = node(c, pr->key), *v = node(c, pr->value);
		DseParam *p = &s->params[i];
		const char *key;
		if (want_scalar(c, kn, "parameter"))
			return -1;
		key = scalar(kn);
		p->name = xstrdup(key);
		p->line = (int)kn->start_mark.line + 1;
		p->col = (int)kn->start_mark.column + 1;
		if (hw_param_find(key) < 0 && v->type == YAML_SEQUENCE_NODE && !strchr(key, '.') &&
		    v->data.sequence.items.top > v->data.sequence.items.start &&
		    node(c, *v->data.sequence.items.start)->type == YAML_MAPPING_NODE) {
			if (param_group(c, p, v))
				return -1;
			continue;
		}
		p->nkeys = 1;
		p->keys = xcalloc(1, sizeof(int));
		if ((p->keys[0] = key_row(c, kn, key)) < 0)
			return -1;
		if (!strcmp(key, "name"))
			return yerr(c, kn, "'name' is not a hardware parameter to sweep");
		if (v->type == YAML_SEQUENCE_NODE) {
			if (param_list(c, p, v))
				return -1;
		} else if (v->type == YAML_MAPPING_NODE) {
			if (param_range(c, p, v))
				return -1;
		} else {
			if (want_scalar(c, v, key) || check_value(c, v, p->keys[0], scalar(v)))
				return -1;
			p->kind = DSE_P_LIST; /* a single value: fixed for the whole sweep */
			p->levels = xcalloc(1, sizeof(char *));
			p->levels[p->nlevels++] = xstrdup(scalar(v));
		}
	}
	/* Columns: each key once. */
	s->cols = xcalloc((size_t)hw_nparams + 2, sizeof(int));
	for (i = 0; i < s->nparams; i++)
		for (k = 0; k < s->params[i].nkeys; k++) {
			int row = s->params[i].keys[k];
			for (j = 0; j < s->ncols; j++)
				if (s->cols[j] == row) {
					yaml_node_t fake;
					memset(&fake, 0, sizeof fake);
					fake.start_mark.line = (size_t)s->params[i].line - 1;
					fake.start_mark.column = (size_t)s->params[i].col - 1;
					return yerr(c, &fake,
					            "'%s' is set by two parameters; put the values "
					            "that go together in one group",
					            hw_params[row].path);
				}
			s->cols[s->ncols++] = row;
		}
	return 0;
}

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

static char *
resolve(Ctx *c, const char *p)
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
		return yerr(c, on, "options: expected a mapping (opt_level, row_gating, ...)");
	for (pr = on->data.mapping.pairs.start; pr < on->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
		const char *ks;
		char dymb[96];
		long long x;
		if (want_scalar(c, k, "option"))
			return -1;
		ks = scalar(k);
		if (!strcmp(ks, "opt_level")) {
			if (get_int(c, v, ks, 0, 2, &x))
				return -1;
			if (x == 1)
				return yerr(c, v, "opt_level: 0 or 2");
			w->opt.opt_level = (int)x;
		} else if (!strcmp(ks, "row_gating")) {
			if (get_bool(c, v, ks, &w->opt.row_gating))
				return -1;
		} else if (!strcmp(ks, "adc_exact")) {
			if (get_bool(c, v, ks, &w->opt.adc_exact))
				return -1;
		} else if (!strcmp(ks, "seed")) {
			if (get_int(c, v, ks, 0, INT64_MAX, &x))
				return -1;
			w->opt.seed = (uint64_t)x;
		} else if (!strcmp(ks, "calib_samples")) {
			if (get_int(c, v, ks, 1, 65536, &x))
				return -1;
			w->opt.nsynth = (uint32_t)x;
		} else if (!strcmp(ks, "input_range")) {
			yaml_node_item_t *it;
			if (v->type != YAML_SEQUENCE_NODE ||
			    v->data.sequence.items.top - v->data.sequence.items.start != 2)
				return yerr(c, v, "input_range: expected [lo, hi]");
			it = v->data.sequence.items.start;
			if (get_double(c, node(c, it[0]), "input_range", &w->opt.input_lo) ||
			    get_double(c, node(c, it[1]), "input_range", &w->opt.input_hi))
				return -1;
			if (!(w->opt.input_lo < w->opt.input_hi))
				return yerr(c, v, "input_range: lo must be below hi");
		} else
			return yerr(
			    c, k, "unknown compile option '%s'%s (expected %s)", ks,
			    dym(dymb, sizeof dymb, closest_of(ks, ok)),
			    "opt_level, row_gating, adc_exact, seed, input_range, calib_samples");
	}
	return 0;
}

static int
load_workloads(Ctx *c, yaml_node_t *vn)
{
	DseSweep *s = c->s;
	yaml_node_item_t *it;
	int i;
	if (vn->type != YAML_SEQUENCE_NODE ||
	    vn->data.sequence.items.top == vn->data.sequence.items.start)
		return yerr(c, vn, "workloads: expected a list of models, e.g. '- model: m.kir'");
	s->nwl = (int)(vn->data.sequence.items.top - vn->data.sequence.items.start);
	if (s->nwl > DSE_MAX_WL)
		return yerr(c, vn, "workloads: at most %d", DSE_MAX_WL);
	s->wl = xcalloc((size_t)s->nwl, sizeof(DseWorkload));
	i = 0;
	for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++, i++) {
		yaml_node_t *m = node(c, *it), *model = NULL, *name = NULL, *opts = NULL;
		DseWorkload *w = &s->wl[i];
		yaml_node_pair_t *pr;
		Graph *g;
		int j;
		cc_options_default(&w->opt);
		if (m->type == YAML_SCALAR_NODE)
			model = m;
		else if (m->type != YAML_MAPPING_NODE)
			return yerr(c, m,
			            "a workload is 'model: file.kir' with optional name and "
			            "options");
		else
			for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
			     pr++) {
				yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
				if (want_scalar(c, k, "workload key"))
					return -1;
				if (!strcmp(scalar(k), "model"))
					model = v;
				else if (!strcmp(scalar(k), "name"))
					name = v;
				else if (!strcmp(scalar(k), "options"))
					opts = v;
				else
					return yerr(
					    c, k,
					    "unknown workload key '%s' (expected model, name, "
					    "options)",
					    scalar(k));
			}
		if (!model)
			return yerr(c, m, "workload: 'model' is required");
		if (want_scalar(c, model, "model") || (name && want_scalar(c, name, "name")))
			return -1;
		if (opts && load_options(c, w, opts))
			return -1;
		w->path = resolve(c, scalar(model));
		w->shown = xstrdup(scalar(model));
		if (name)
			w->name = xstrdup(scalar(name));
		else {
			const char *b = strrchr(scalar(model), '/');
			char *dot;
			w->name = xstrdup(b ? b + 1 : scalar(model));
			if ((dot = strrchr(w->name, '.')))
				*dot = 0;
		}
		for (j = 0; w->name[j]; j++)
			if (!isalnum((unsigned char)w->name[j]) && w->name[j] != '_' &&
			    w->name[j] != '-')
				return yerr(
				    c, name ? name : model,
				    "workload name '%s': use letters, digits, '_' and '-' (it "
				    "names output columns)",
				    w->name);
		for (j = 0; j < i; j++)
			if (!strcmp(s->wl[j].name, w->name))
				return yerr(c, name ? name : model,
				            "two workloads named '%s'; give one a 'name'", w->name);
		{
			Diag fd = {0};
			w->text = read_file(w->path, MAX_MODEL_BYTES, &w->len, &fd);
			if (!w->text)
				return yerr(c, model, "workload: %s",
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
		g = ir_parse_mem(w->text, w->len, w->path, w->base_dir, IR_PARSE_LOAD_WEIGHTS,
		                 c->d);
		if (!g)
			return -1;
		if (ir_verify(g, c->d)) {
			ir_free(g);
			return -1;
		}
		layer_fractions(w, g);
		ir_free(g);
	}
	return 0;
}

/* ---- objectives ---- */

static int
obj_name(Ctx *c, yaml_node_t *n)
{
	const char *names[DSE_NOBJ + 1], *sug;
	char all[256], dymb[96];
	int i;
	if (want_scalar(c, n, "objective"))
		return -1;
	if ((i = dse_obj_find(scalar(n))) >= 0)
		return i;
	for (i = 0; i < DSE_NOBJ; i++)
		names[i] = dse_objs[i].name;
	names[DSE_NOBJ] = NULL;
	list_names(names, all, sizeof all);
	sug = closest_of(scalar(n), names);
	yerr(c, n, "unknown objective '%s'%s (expected one of %s)", scalar(n),
	     dym(dymb, sizeof dymb, sug), all);
	return -1;
}

static int
load_objectives(Ctx *c, yaml_node_t *vn)
{
	DseSweep *s = c->s;
	yaml_node_item_t *it;
	if (vn->type != YAML_SEQUENCE_NODE ||
	    vn->data.sequence.items.top == vn->data.sequence.items.start)
		return yerr(c, vn,
		            "objectives: expected a list, e.g. [latency_s, energy_j, area_mm2]");
	s->nobj = 0;
	for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
		int o = obj_name(c, node(c, *it)), j;
		if (o < 0)
			return -1;
		for (j = 0; j < s->nobj; j++)
			if (s->obj[j] == o)
				return yerr(c, node(c, *it), "objective '%s' twice",
				            dse_objs[o].name);
		s->obj[s->nobj++] = o;
	}
	return 0;
}

static int
load_pareto(Ctx *c, yaml_node_t *vn)
{
	DseSweep *s = c->s;
	yaml_node_item_t *it;
	if (vn->type != YAML_SEQUENCE_NODE)
		return yerr(c, vn,
		            "pareto: expected a list of pairs, e.g. [[latency_s, energy_j]]");
	s->npareto = 0;
	for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
		yaml_node_t *pn = node(c, *it);
		int a, b;
		if (pn->type != YAML_SEQUENCE_NODE ||
		    pn->data.sequence.items.top - pn->data.sequence.items.start != 2)
			return yerr(c, pn, "pareto: each entry is a pair [a, b] of objectives");
		if (s->npareto >= DSE_MAX_PARETO)
			return yerr(c, pn, "pareto: at most %d pairs", DSE_MAX_PARETO);
		if ((a = obj_name(c, node(c, pn->data.sequence.items.start[0]))) < 0 ||
		    (b = obj_name(c, node(c, pn->data.sequence.items.start[1]))) < 0)
			return -1;
		if (a == b)
			return yerr(c, pn, "pareto: a pair needs two different objectives");
		if (a == DSE_O_ACCURACY || b == DSE_O_ACCURACY)
			return yerr(c, pn,
			            "pareto: accuracy is not evaluated by kolmo dse yet (it needs "
			            "kolmo eval); use output_error for numerical fidelity");
		s->pareto[s->npareto][0] = a;
		s->pareto[s->npareto][1] = b;
		s->npareto++;
	}
	return 0;
}

/* ---- the document ---- */

static int
load_doc(Ctx *c)
{
	static const char *const top[] = {"name",       "base",      "sampling",
	                                  "parameters", "workloads", "objectives",
	                                  "pareto",     "auto_mesh", NULL};
	DseSweep *s = c->s;
	yaml_node_t *root = yaml_document_get_root_node(c->doc);
	yaml_node_t *params = NULL, *wl = NULL, *base = NULL, *objs = NULL, *par = NULL,
	            *samp = NULL;
	yaml_node_pair_t *pr;
	int i;
	if (!root || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
		return yerr(c, NULL, "empty sweep file (expected base, parameters, workloads)");
	if (root->type != YAML_MAPPING_NODE)
		return yerr(c, root, "expected a mapping (base, parameters, workloads, ...)");
	for (pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
		const char *ks, *sug;
		char dymb[96];
		if (want_scalar(c, k, "key"))
			return -1;
		ks = scalar(k);
		for (i = 0; top[i] && strcmp(top[i], ks); i++)
			;
		if (!top[i]) {
			char all[256];
			list_names(top, all, sizeof all);
			sug = closest_of(ks, top);
			return yerr(c, k, "unknown key '%s'%s (expected %s)", ks,
			            dym(dymb, sizeof dymb, sug), all);
		}
		if (!strcmp(ks, "name")) {
			if (want_scalar(c, v, ks))
				return -1;
			free(s->name);
			s->name = xstrdup(scalar(v));
		} else if (!strcmp(ks, "base"))
			base = v;
		else if (!strcmp(ks, "sampling"))
			samp = v;
		else if (!strcmp(ks, "parameters"))
			params = v;
		else if (!strcmp(ks, "workloads"))
			wl = v;
		else if (!strcmp(ks, "objectives"))
			objs = v;
		else if (!strcmp(ks, "pareto"))
			par = v;
		else if (get_bool(c, v, ks, &s->auto_mesh))
			return -1;
	}
	if (!base)
		return yerr(c, root,
		            "missing required key 'base' (the architecture config to vary)");
	if (!params)
		return yerr(c, root, "missing required key 'parameters'");
	if (!wl)
		return yerr(c, root, "missing required key 'workloads'");
	if (want_scalar(c, base, "base"))
		return -1;
	s->base_path = resolve(c, scalar(base));
	{
		Diag bd = {0};
		if (hw_arch_load(&s->base, s->base_path, &bd)) {
			/* Point at the sweep's line and keep the config's own message. */
			return yerr(c, base, "base architecture: %s", bd.msg);
		}
	}
	if (samp) {
		static const char *const sk[] = {"method", "points", "seed", NULL};
		yaml_node_t *pts = NULL;
		if (samp->type != YAML_MAPPING_NODE)
			return yerr(c, samp, "sampling: expected method, points and seed");
		for (pr = samp->data.mapping.pairs.start; pr < samp->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = node(c, pr->key), *v = node(c, pr->value);
			long long x;
			char dymb[96];
			if (want_scalar(c, k, "sampling key"))
				return -1;
			if (!strcmp(scalar(k), "method")) {
				if (want_scalar(c, v, "method"))
					return -1;
				for (i = 0;
				     dse_method_names[i] && strcmp(dse_method_names[i], scalar(v));
				     i++)
					;
				if (!dse_method_names[i])
					return yerr(
					    c, v,
					    "sampling method '%s': expected grid, random or lhs",
					    scalar(v));
				s->method = (DseMethod)i;
			} else if (!strcmp(scalar(k), "points")) {
				if (get_int(c, v, "points", 1, 100000000, &x))
					return -1;
				s->npoints_req = (uint32_t)x;
				pts = v;
			} else if (!strcmp(scalar(k), "seed")) {
				if (get_int(c, v, "seed", 0, INT64_MAX, &x))
					return -1;
				s->seed = (uint64_t)x;
			} else
				return yerr(c, k, "unknown sampling key '%s'%s", scalar(k),
				            dym(dymb, sizeof dymb, closest_of(scalar(k), sk)));
		}
		if (s->method != DSE_GRID && !pts)
			return yerr(c, samp, "sampling: %s needs 'points'",
			            dse_method_names[s->method]);
		if (s->method == DSE_GRID && pts)
			return yerr(c, pts,
			            "sampling: a grid has as many points as value combinations; "
			            "'points' is for random and lhs");
	}
	if (load_params(c, params))
		return -1;
	for (i = 0; i < s->nparams; i++)
		if (s->params[i].kind == DSE_P_CONT && s->method == DSE_GRID) {
			yaml_node_t fake;
			memset(&fake, 0, sizeof fake);
			fake.start_mark.line = (size_t)s->params[i].line - 1;
			fake.start_mark.column = (size_t)s->params[i].col - 1;
			return yerr(
			    c, &fake,
			    "%s: a range without 'step' or 'times' is continuous and cannot "
			    "be enumerated by a grid (add a step, or use random or lhs)",
			    s->params[i].name);
		}
	/* chip.tiles swept alone: derive the mesh. */
	s->mesh_rows_col = s->mesh_cols_col = -1;
	if (s->auto_mesh) {
		int tiles = 0, mesh = 0, j;
		for (j = 0; j < s->ncols; j++) {
			const char *p = hw_params[s->cols[j]].path;
			tiles |= !strcmp(p, "chip.tiles");
			mesh |= !strcmp(p, "chip.mesh_rows") || !strcmp(p, "chip.mesh_cols");
		}
		if (tiles && !mesh) {
			s->mesh_rows_col = s->ncols;
			s->cols[s->ncols++] = hw_param_find("chip.mesh_rows");
			s->mesh_cols_col = s->ncols;
			s->cols[s->ncols++] = hw_param_find("chip.mesh_cols");
		}
	}
	if (load_workloads(c, wl))
		return -1;
	if (objs && load_objectives(c, objs))
		return -1;
	if (par && load_pareto(c, par))
		return -1;
	/* The identity of results: base config, workloads, options, auto-mesh. */
	{
		char buf[8192];
		uint64_t h = FNV1A64_INIT;
		size_t len = hw_arch_canonical(&s->base, buf, sizeof buf);
		h = fnv1a64(buf, len, h);
		for (i = 0; i < s->nwl; i++) {
			const DseWorkload *w = &s->wl[i];
			h = fnv1a64(w->name, strlen(w->name) + 1, h);
			h = fnv1a64(w->text, w->len, h);
			len = (size_t)snprintf(buf, sizeof buf, "%d %d %d %llu %.17g %.17g %u",
			                       w->opt.opt_level, w->opt.row_gating,
			                       w->opt.adc_exact, (unsigned long long)w->opt.seed,
			                       w->opt.input_lo, w->opt.input_hi, w->opt.nsynth);
			h = fnv1a64(buf, len, h);
		}
		h = fnv1a64(&s->auto_mesh, sizeof s->auto_mesh, h);
		s->hash = h;
	}
	return 0;
}

static void
set_defaults(DseSweep *s, const char *fname)
{
	const char *b = strrchr(fname, '/');
	char *dot;
	memset(s, 0, sizeof *s);
	s->file = xstrdup(fname);
	s->name = xstrdup(b ? b + 1 : fname);
	if ((dot = strrchr(s->name, '.')))
		*dot = 0;
	s->auto_mesh = 1;
	s->method = DSE_GRID;
	s->obj[0] = DSE_O_LATENCY;
	s->obj[1] = DSE_O_ENERGY;
	s->obj[2] = DSE_O_AREA;
	s->obj[3] = DSE_O_EDP;
	s->nobj = 4;
	s->pareto[0][0] = DSE_O_LATENCY;
	s->pareto[0][1] = DSE_O_ENERGY;
	s->pareto[1][0] = DSE_O_ENERGY;
	s->pareto[1][1] = DSE_O_AREA;
	s->npareto = 2;
}

int
dse_sweep_load_mem(DseSweep *s, const char *buf, size_t len, const char *fname, const char *dir,
                   Diag *d)
{
	yaml_document_t doc;
	char *text;
	Ctx c;
	int r;
	if (!fname)
		fname = "<sweep>";
	set_defaults(s, fname);
	if (len > MAX_SWEEP_BYTES) {
		dse_sweep_free(s);
		return diag_err(d, fname, "sweep file larger than %d bytes", MAX_SWEEP_BYTES);
	}
	text = xmalloc(len + 1);
	memcpy(text, buf, len);
	text[len] = 0;
	memset(&c, 0, sizeof c);
	c.file = fname;
	c.text = text;
	c.dir = dir;
	c.s = s;
	c.d = d;
	c.doc = &doc;
	if (hw_yaml_parse(text, len, fname, &doc, d)) {
		free(text);
		dse_sweep_free(s);
		return -1;
	}
	r = load_doc(&c);
	yaml_document_delete(&doc);
	free(text);
	if (r)
		dse_sweep_free(s);
	return r;
}

int
dse_sweep_load(DseSweep *s, const char *path, Diag *d)
{
	size_t len;
	char *buf = read_file(path, MAX_SWEEP_BYTES, &len, d), tmp[4096];
	int r;
	if (!buf) {
		memset(s, 0, sizeof *s);
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s", path);
	r = dse_sweep_load_mem(s, buf, len, path, dirname(tmp), d);
	free(buf);
	return r;
}

void
dse_sweep_free(DseSweep *s)
{
	int i, k;
	for (i = 0; i < s->nparams; i++) {
		DseParam *p = &s->params[i];
		for (k = 0; k < p->nlevels * p->nkeys; k++)
			free(p->levels[k]);
		free(p->levels);
		free(p->keys);
		free(p->name);
	}
	for (i = 0; i < s->nwl; i++) {
		DseWorkload *w = &s->wl[i];
		for (k = 0; k < w->nlayers; k++)
			free(w->layer_names[k]);
		free(w->layer_names);
		free(w->layer_active);
		free(w->layer_nb);
		free(w->name);
		free(w->path);
		free(w->shown);
		free(w->text);
		free(w->base_dir);
	}
	free(s->wl);
	free(s->params);
	free(s->cols);
	free(s->file);
	free(s->name);
	free(s->base_path);
	memset(s, 0, sizeof *s);
}
