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
#include "sweep_int.h"

const DseObjInfo dse_objs[DSE_NOBJ] = {
#define DSE_OBJ(id, name, unit, maximise, help) {name, unit, maximise, help},
    DSE_OBJECTIVES
#undef DSE_OBJ
};

const char *const dse_method_names[] = {"grid", "random", "lhs", NULL};

int
dse_obj_find(const char *name)
{
	int i;
	for (i = 0; i < DSE_NOBJ; i++)
		if (strcmp(dse_objs[i].name, name) == 0)
			return i;
	return -1;
}

int
sw_err(Ctx *c, const yaml_node_t *n, const char *fmt, ...)
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

const char *
sw_closest_of(const char *key, const char *const *names)
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
const char *
sw_dym(char *buf, size_t n, const char *sug)
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

yaml_node_t *
sw_node(Ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

const char *
sw_scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

int
sw_want_scalar(Ctx *c, yaml_node_t *n, const char *what)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return sw_err(c, n, "%s: expected a single value", what);
	if (strlen(sw_scalar(n)) != n->data.scalar.length || n->data.scalar.length > 4000)
		return sw_err(c, n, "%s: value too long or not text", what);
	return 0;
}

int
sw_get_int(Ctx *c, yaml_node_t *n, const char *what, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;
	if (sw_want_scalar(c, n, what))
		return -1;
	errno = 0;
	v = strtoll(sw_scalar(n), &end, 0);
	if (errno || end == sw_scalar(n) || *end)
		return sw_err(c, n, "%s: expected an integer, got '%.60s'", what, sw_scalar(n));
	if (v < lo || v > hi)
		return sw_err(c, n, "%s: %lld is out of range [%lld, %lld]", what, v, lo, hi);
	*out = v;
	return 0;
}

int
sw_get_bool(Ctx *c, yaml_node_t *n, const char *what, int *out)
{
	const char *v;
	if (sw_want_scalar(c, n, what))
		return -1;
	v = sw_scalar(n);
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
		*out = 1;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
		*out = 0;
	else
		return sw_err(c, n, "%s: expected true or false, got '%.60s'", what, v);
	return 0;
}

int
sw_get_double(Ctx *c, yaml_node_t *n, const char *what, double *out)
{
	char *end;
	if (sw_want_scalar(c, n, what))
		return -1;
	errno = 0;
	*out = strtod(sw_scalar(n), &end);
	if (errno || end == sw_scalar(n) || *end || !isfinite(*out))
		return sw_err(c, n, "%s: expected a number, got '%.60s'", what, sw_scalar(n));
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
			return sw_err(c, n, "%s: expected %s, got '%.60s'", p->path,
			              p->type == HW_T_INT     ? "an integer"
			              : p->type == HW_T_BYTES ? "a byte count (e.g. 65536 or 64KiB)"
			                                      : "a number",
			              s);
		if (v < p->min || v > p->max)
			return sw_err(c, n, "%s: %.15g is out of range [%.15g, %.15g]%s%s", p->path,
			              v, p->min, p->max, p->unit[0] ? " " : "", p->unit);
		return 0;
	case HW_T_BOOL:
		if (strcmp(s, "true") && strcmp(s, "false") && strcmp(s, "yes") &&
		    strcmp(s, "no") && strcmp(s, "on") && strcmp(s, "off") && strcmp(s, "1") &&
		    strcmp(s, "0"))
			return sw_err(c, n, "%s: expected true or false, got '%.60s'", p->path, s);
		return 0;
	case HW_T_ENUM: {
		char opts[256];
		int k;
		for (k = 0; p->enums[k]; k++)
			if (strcmp(s, p->enums[k]) == 0)
				return 0;
		list_names(p->enums, opts, sizeof opts);
		return sw_err(c, n, "%s: unknown value '%.60s' (expected one of %s)", p->path, s,
		              opts);
	}
	case HW_T_STR:
		if ((double)strlen(s) < p->min || (double)strlen(s) > p->max)
			return sw_err(c, n, "%s: length %zu is out of range", p->path, strlen(s));
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
		sw_err(c, kn, "unknown architecture parameter '%s' (did you mean '%s'?)", key, sug);
	else
		sw_err(
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
		return sw_err(c, vn, "%s: a range needs a numeric key; list the values instead",
		              p->name);
	for (pr = vn->data.mapping.pairs.start; pr < vn->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = sw_node(c, pr->key), *v2 = sw_node(c, pr->value);
		const char *ks;
		char dymb[96];
		if (sw_want_scalar(c, k, "range key"))
			return -1;
		ks = sw_scalar(k);
		if (!strcmp(ks, "from"))
			from = v2;
		else if (!strcmp(ks, "to"))
			to = v2;
		else if (!strcmp(ks, "step"))
			step = v2;
		else if (!strcmp(ks, "times"))
			times = v2;
		else
			return sw_err(c, k,
			              "unknown range key '%s'%s (expected from, to, step, times)",
			              ks, sw_dym(dymb, sizeof dymb, sw_closest_of(ks, rk)));
	}
	if (!from || !to)
		return sw_err(c, vn, "%s: a range needs 'from' and 'to'", p->name);
	if (step && times)
		return sw_err(c, times, "%s: give 'step' or 'times', not both", p->name);
	if (sw_want_scalar(c, from, "from") || sw_want_scalar(c, to, "to") ||
	    check_value(c, from, row, sw_scalar(from)) || check_value(c, to, row, sw_scalar(to)))
		return -1;
	value_number(row, sw_scalar(from), &lo);
	value_number(row, sw_scalar(to), &hi);
	if (lo > hi)
		return sw_err(c, vn, "%s: empty range: from (%g) is above to (%g)", p->name, lo,
		              hi);
	if (step) {
		if (hp->type == HW_T_BYTES ? parse_bytes(sw_scalar(step), &st)
		                           : sw_get_double(c, step, "step", &st))
			return c->d->set ? -1 : sw_err(c, step, "step: expected a number");
		if (!(st > 0))
			return sw_err(c, step, "%s: empty range: step must be positive, not %g",
			              p->name, st);
		if (isint && st != floor(st))
			return sw_err(c, step, "%s: the key is an integer; step %g is not", p->name,
			              st);
	}
	if (times) {
		if (sw_get_double(c, times, "times", &tm))
			return -1;
		if (!(tm > 1))
			return sw_err(c, times, "%s: empty range: times must be above 1, not %g",
			              p->name, tm);
		if (!(lo > 0))
			return sw_err(c, from, "%s: a geometric range (times) needs from > 0",
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
			return sw_err(c, vn, "%s: more than %d levels", p->name, MAX_LEVELS);
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
		return sw_err(c, vn, "%s: empty list of values", p->name);
	p->kind = DSE_P_LIST;
	p->levels = xcalloc((size_t)n, sizeof(char *));
	for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
		yaml_node_t *v = sw_node(c, *it);
		if (sw_want_scalar(c, v, p->name) || check_value(c, v, p->keys[0], sw_scalar(v)))
			return -1;
		p->levels[p->nlevels++] = xstrdup(sw_scalar(v));
	}
	return 0;
}

static int
param_group(Ctx *c, DseParam *p, yaml_node_t *vn)
{
	yaml_node_item_t *it;
	int n = (int)(vn->data.sequence.items.top - vn->data.sequence.items.start), lv = 0;
	if (n == 0)
		return sw_err(c, vn, "group '%s': empty list of choices", p->name);
	p->kind = DSE_P_GROUP;
	for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++, lv++) {
		yaml_node_t *m = sw_node(c, *it);
		yaml_node_pair_t *pr;
		int k = 0;
		if (!m || m->type != YAML_MAPPING_NODE)
			return sw_err(
			    c, m,
			    "group '%s': each choice is a mapping of keys set together, e.g. "
			    "{mvmu.tech: sram, mvmu.adc_bits: 0}",
			    p->name);
		if (lv == 0) {
			p->nkeys = (int)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
			if (p->nkeys == 0)
				return sw_err(c, m, "group '%s': a choice sets no key", p->name);
			p->keys = xcalloc((size_t)p->nkeys, sizeof(int));
			p->levels = xcalloc((size_t)(n * p->nkeys), sizeof(char *));
			p->nlevels = n; /* all slots, so that an error frees what is set */
		} else if ((int)(m->data.mapping.pairs.top - m->data.mapping.pairs.start) !=
		           p->nkeys)
			return sw_err(
			    c, m, "group '%s': every choice must set the same %d keys as the first",
			    p->name, p->nkeys);
		for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++, k++) {
			yaml_node_t *kn = sw_node(c, pr->key), *v = sw_node(c, pr->value);
			int row, j, slot = k;
			if (sw_want_scalar(c, kn, "key") ||
			    (row = key_row(c, kn, sw_scalar(kn))) < 0)
				return -1;
			if (lv == 0) {
				for (j = 0; j < k; j++)
					if (p->keys[j] == row)
						return sw_err(c, kn, "group '%s': key '%s' twice",
						              p->name, sw_scalar(kn));
				p->keys[k] = row;
			} else {
				for (j = 0; j < p->nkeys && p->keys[j] != row; j++)
					;
				if (j == p->nkeys)
					return sw_err(
					    c, kn,
					    "group '%s': '%s' is not set by the first choice; "
					    "every choice sets the same keys",
					    p->name, sw_scalar(kn));
				slot = j;
			}
			if (sw_want_scalar(c, v, sw_scalar(kn)) ||
			    check_value(c, v, row, sw_scalar(v)))
				return -1;
			if (p->levels[lv * p->nkeys + slot])
				return sw_err(c, kn, "group '%s': key '%s' twice", p->name,
				              sw_scalar(kn));
			p->levels[lv * p->nkeys + slot] = xstrdup(sw_scalar(v));
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
		return sw_err(c, vn,
		              "parameters: expected a mapping of key paths to values, e.g. "
		              "'mvmu.adc_bits: [4, 6, 8]'");
	s->nparams = (int)(vn->data.mapping.pairs.top - vn->data.mapping.pairs.start);
	if (s->nparams == 0)
		return sw_err(c, vn, "parameters: nothing to vary");
	s->params = xcalloc((size_t)s->nparams, sizeof(DseParam));
	i = 0;
	for (pr = vn->data.mapping.pairs.start; pr < vn->data.mapping.pairs.top; pr++, i++) {
		yaml_node_t *kn = sw_node(c, pr->key), *v = sw_node(c, pr->value);
		DseParam *p = &s->params[i];
		const char *key;
		if (sw_want_scalar(c, kn, "parameter"))
			return -1;
		key = sw_scalar(kn);
		p->name = xstrdup(key);
		p->line = (int)kn->start_mark.line + 1;
		p->col = (int)kn->start_mark.column + 1;
		if (hw_param_find(key) < 0 && v->type == YAML_SEQUENCE_NODE && !strchr(key, '.') &&
		    v->data.sequence.items.top > v->data.sequence.items.start &&
		    sw_node(c, *v->data.sequence.items.start)->type == YAML_MAPPING_NODE) {
			if (param_group(c, p, v))
				return -1;
			continue;
		}
		p->nkeys = 1;
		p->keys = xcalloc(1, sizeof(int));
		if ((p->keys[0] = key_row(c, kn, key)) < 0)
			return -1;
		if (!strcmp(key, "name"))
			return sw_err(c, kn, "'name' is not a hardware parameter to sweep");
		if (v->type == YAML_SEQUENCE_NODE) {
			if (param_list(c, p, v))
				return -1;
		} else if (v->type == YAML_MAPPING_NODE) {
			if (param_range(c, p, v))
				return -1;
		} else {
			if (sw_want_scalar(c, v, key) ||
			    check_value(c, v, p->keys[0], sw_scalar(v)))
				return -1;
			p->kind = DSE_P_LIST; /* a single value: fixed for the whole sweep */
			p->levels = xcalloc(1, sizeof(char *));
			p->levels[p->nlevels++] = xstrdup(sw_scalar(v));
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
					return sw_err(
					    c, &fake,
					    "'%s' is set by two parameters; put the values "
					    "that go together in one group",
					    hw_params[row].path);
				}
			s->cols[s->ncols++] = row;
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
	if (sw_want_scalar(c, n, "objective"))
		return -1;
	if ((i = dse_obj_find(sw_scalar(n))) >= 0)
		return i;
	for (i = 0; i < DSE_NOBJ; i++)
		names[i] = dse_objs[i].name;
	names[DSE_NOBJ] = NULL;
	list_names(names, all, sizeof all);
	sug = sw_closest_of(sw_scalar(n), names);
	sw_err(c, n, "unknown objective '%s'%s (expected one of %s)", sw_scalar(n),
	       sw_dym(dymb, sizeof dymb, sug), all);
	return -1;
}

static const char no_dataset[] =
    "accuracy needs a workload with a dataset ('eval: DIR' as for kolmo eval --data); "
    "use output_error for numerical fidelity";

static int
load_objectives(Ctx *c, yaml_node_t *vn)
{
	DseSweep *s = c->s;
	yaml_node_item_t *it;
	if (vn->type != YAML_SEQUENCE_NODE ||
	    vn->data.sequence.items.top == vn->data.sequence.items.start)
		return sw_err(c, vn,
		              "objectives: expected a list, e.g. [latency_s, energy_j, area_mm2]");
	s->nobj = 0;
	for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
		int o = obj_name(c, sw_node(c, *it)), j;
		if (o < 0)
			return -1;
		for (j = 0; j < s->nobj; j++)
			if (s->obj[j] == o)
				return sw_err(c, sw_node(c, *it), "objective '%s' twice",
				              dse_objs[o].name);
		if (o == DSE_O_ACCURACY && !s->accuracy)
			return sw_err(c, sw_node(c, *it), "%s", no_dataset);
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
		return sw_err(c, vn,
		              "pareto: expected a list of pairs, e.g. [[latency_s, energy_j]]");
	s->npareto = 0;
	for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
		yaml_node_t *pn = sw_node(c, *it);
		int a, b;
		if (pn->type != YAML_SEQUENCE_NODE ||
		    pn->data.sequence.items.top - pn->data.sequence.items.start != 2)
			return sw_err(c, pn, "pareto: each entry is a pair [a, b] of objectives");
		if (s->npareto >= DSE_MAX_PARETO)
			return sw_err(c, pn, "pareto: at most %d pairs", DSE_MAX_PARETO);
		if ((a = obj_name(c, sw_node(c, pn->data.sequence.items.start[0]))) < 0 ||
		    (b = obj_name(c, sw_node(c, pn->data.sequence.items.start[1]))) < 0)
			return -1;
		if (a == b)
			return sw_err(c, pn, "pareto: a pair needs two different objectives");
		if ((a == DSE_O_ACCURACY || b == DSE_O_ACCURACY) && !s->accuracy)
			return sw_err(c, pn, "pareto: %s", no_dataset);
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
		return sw_err(c, NULL, "empty sweep file (expected base, parameters, workloads)");
	if (root->type != YAML_MAPPING_NODE)
		return sw_err(c, root, "expected a mapping (base, parameters, workloads, ...)");
	for (pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = sw_node(c, pr->key), *v = sw_node(c, pr->value);
		const char *ks, *sug;
		char dymb[96];
		if (sw_want_scalar(c, k, "key"))
			return -1;
		ks = sw_scalar(k);
		for (i = 0; top[i] && strcmp(top[i], ks); i++)
			;
		if (!top[i]) {
			char all[256];
			list_names(top, all, sizeof all);
			sug = sw_closest_of(ks, top);
			return sw_err(c, k, "unknown key '%s'%s (expected %s)", ks,
			              sw_dym(dymb, sizeof dymb, sug), all);
		}
		if (!strcmp(ks, "name")) {
			if (sw_want_scalar(c, v, ks))
				return -1;
			free(s->name);
			s->name = xstrdup(sw_scalar(v));
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
		else if (sw_get_bool(c, v, ks, &s->auto_mesh))
			return -1;
	}
	if (!base)
		return sw_err(c, root,
		              "missing required key 'base' (the architecture config to vary)");
	if (!params)
		return sw_err(c, root, "missing required key 'parameters'");
	if (!wl)
		return sw_err(c, root, "missing required key 'workloads'");
	if (sw_want_scalar(c, base, "base"))
		return -1;
	s->base_path = sw_resolve(c, sw_scalar(base));
	{
		Diag bd = {0};
		if (hw_arch_load(&s->base, s->base_path, &bd)) {
			/* Point at the sweep's line and keep the config's own message. */
			return sw_err(c, base, "base architecture: %s", bd.msg);
		}
	}
	if (samp) {
		static const char *const sk[] = {"method", "points", "seed", NULL};
		yaml_node_t *pts = NULL;
		if (samp->type != YAML_MAPPING_NODE)
			return sw_err(c, samp, "sampling: expected method, points and seed");
		for (pr = samp->data.mapping.pairs.start; pr < samp->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = sw_node(c, pr->key), *v = sw_node(c, pr->value);
			long long x;
			char dymb[96];
			if (sw_want_scalar(c, k, "sampling key"))
				return -1;
			if (!strcmp(sw_scalar(k), "method")) {
				if (sw_want_scalar(c, v, "method"))
					return -1;
				for (i = 0; dse_method_names[i] &&
				            strcmp(dse_method_names[i], sw_scalar(v));
				     i++)
					;
				if (!dse_method_names[i])
					return sw_err(
					    c, v,
					    "sampling method '%s': expected grid, random or lhs",
					    sw_scalar(v));
				s->method = (DseMethod)i;
			} else if (!strcmp(sw_scalar(k), "points")) {
				if (sw_get_int(c, v, "points", 1, 100000000, &x))
					return -1;
				s->npoints_req = (uint32_t)x;
				pts = v;
			} else if (!strcmp(sw_scalar(k), "seed")) {
				if (sw_get_int(c, v, "seed", 0, INT64_MAX, &x))
					return -1;
				s->seed = (uint64_t)x;
			} else
				return sw_err(
				    c, k, "unknown sampling key '%s'%s", sw_scalar(k),
				    sw_dym(dymb, sizeof dymb, sw_closest_of(sw_scalar(k), sk)));
		}
		if (s->method != DSE_GRID && !pts)
			return sw_err(c, samp, "sampling: %s needs 'points'",
			              dse_method_names[s->method]);
		if (s->method == DSE_GRID && pts)
			return sw_err(c, pts,
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
			return sw_err(
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
	if (sw_load_workloads(c, wl))
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
			if (w->has_eval) {
				len = (size_t)snprintf(
				    buf, sizeof buf, "eval %016llx %u %.17g %.17g %.17g",
				    (unsigned long long)w->data.hash, w->eval_samples,
				    w->eval_so.g_sigma, w->eval_so.stuck_prob,
				    w->eval_so.read_noise);
				h = fnv1a64(buf, len, h);
			}
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
		eval_data_free(&w->data);
	}
	free(s->wl);
	free(s->params);
	free(s->cols);
	free(s->file);
	free(s->name);
	free(s->base_path);
	memset(s, 0, sizeof *s);
}
