/* family.c: decoder-family files for `kolmo scaling`: YAML read with libyaml's document API
 * (source positions kept), checked against the schema of family.def: unknown keys (with a
 * suggestion), types, ranges, duplicates, missing keys and cross-key consistency, each reported
 * as file:line:col: error with the source line and a caret. */
#include "roofline.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static const char *const rf_ffn_names[] = {"mlp", "kan", NULL};
static const char *const rf_attn_names[] = {"dense", "sparse", NULL};

typedef enum FamType { FT_INT, FT_F64, FT_STR, FT_ENUM, FT_INTS } FamType;

typedef struct FamParam {
	const char *path;
	FamType type;
	double min, max;
	const char *def;
	const char *const *enums;
	const char *help;
	size_t off;
} FamParam;

static const FamParam fparams[] = {
#define RF_FAM(path, member, type, min, max, def, enums, help)                                     \
	{path, type, min, max, def, enums, help, offsetof(RfFamily, member)},
#include "family.def"
};
enum { NFP = (int)NELEM(fparams), RF_MAX_FAMILY_BYTES = 1 << 20 };

typedef struct Src {
	const char *file, *text;
	int line[NFP], col[NFP]; /* where each key's value was written (0: default) */
} Src;

static int ferr(Diag *d, const Src *s, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
ferr(Diag *d, const Src *s, int line, int col, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line <= 0)
		return diag_err(d, s->file, "%s", msg);
	return diag_at(d, s->file, line, col, diag_src_line(s->text, line), "%s", msg);
}

static int
mark_err_at(Diag *d, const Src *s, yaml_mark_t m, const char *msg)
{
	return ferr(d, s, (int)m.line + 1, (int)m.column + 1, "%s", msg);
}

static int
find(const char *path)
{
	int i;
	for (i = 0; i < NFP; i++)
		if (strcmp(fparams[i].path, path) == 0)
			return i;
	return -1;
}

static int
is_section(const char *name)
{
	size_t n = strlen(name);
	int i;
	for (i = 0; i < NFP; i++)
		if (strncmp(fparams[i].path, name, n) == 0 && fparams[i].path[n] == '.')
			return 1;
	return 0;
}

/* The closest key path (or section name), or NULL. */
static const char *
suggest(const char *key, int sections, char *buf, size_t n)
{
	size_t best = (size_t)-1, dist;
	int i;
	for (i = 0; i < NFP; i++) {
		const char *p = fparams[i].path, *dot = strchr(p, '.');
		char cand[64];
		if (sections && !dot)
			continue;
		if (sections)
			snprintf(cand, sizeof cand, "%.*s", (int)(dot - p), p);
		else
			snprintf(cand, sizeof cand, "%s", p);
		dist = edit_distance(key, cand);
		if (dist < best) {
			best = dist;
			snprintf(buf, n, "%s", cand);
		}
	}
	if (best == 0 || best > 3 || best * 2 > strlen(key))
		return NULL;
	return buf;
}

/* parse one scalar of row i into f; msg on error */
static int
parse_scalar(RfFamily *f, int i, const char *s, int64_t *ival, char *msg, size_t n)
{
	const FamParam *p = &fparams[i];
	char *end;
	void *field = (char *)f + p->off;
	switch (p->type) {
	case FT_INT:
	case FT_INTS: {
		long long v;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || end == s || *end) {
			snprintf(msg, n, "%s: expected an integer, got '%.60s'", p->path, s);
			return -1;
		}
		if ((double)v < p->min || (double)v > p->max) {
			snprintf(msg, n, "%s: %lld is out of range [%.15g, %.15g]", p->path, v,
			         p->min, p->max);
			return -1;
		}
		if (p->type == FT_INTS)
			*ival = v;
		else if (p->off == offsetof(RfFamily, fit_context))
			*(int64_t *)field = v;
		else
			*(int *)field = (int)v;
		return 0;
	}
	case FT_F64: {
		double v;
		errno = 0;
		v = strtod(s, &end);
		if (errno || end == s || *end || !isfinite(v)) {
			snprintf(msg, n, "%s: expected a number, got '%.60s'", p->path, s);
			return -1;
		}
		if (v < p->min || v > p->max) {
			snprintf(msg, n, "%s: %.15g is out of range [%.15g, %.15g]", p->path, v,
			         p->min, p->max);
			return -1;
		}
		*(double *)field = v;
		return 0;
	}
	case FT_ENUM: {
		int k;
		size_t len = 0;
		char opts[128] = "";
		for (k = 0; p->enums[k]; k++)
			if (strcmp(s, p->enums[k]) == 0) {
				*(int *)field = k;
				return 0;
			}
		for (k = 0; p->enums[k]; k++)
			len += (size_t)snprintf(opts + len, sizeof opts - len, "%s'%s'",
			                        k ? ", " : "", p->enums[k]);
		snprintf(msg, n, "%s: unknown value '%.60s' (expected one of %s)", p->path, s,
		         opts);
		return -1;
	}
	case FT_STR: {
		size_t len = strlen(s);
		if ((double)len < p->min || (double)len > p->max) {
			snprintf(msg, n, "%s: length %zu is out of range [%.0f, %.0f]", p->path,
			         len, p->min, p->max);
			return -1;
		}
		memcpy(field, s, len + 1);
		return 0;
	}
	}
	return -1;
}

static void
defaults(RfFamily *f)
{
	char msg[256];
	int64_t dummy;
	int i;
	memset(f, 0, sizeof *f);
	for (i = 0; i < NFP; i++)
		if (fparams[i].def)
			KASSERT(parse_scalar(f, i, fparams[i].def, &dummy, msg, sizeof msg) == 0);
}

static int
set_key(RfFamily *f, Src *s, yaml_document_t *doc, const char *path, yaml_node_t *kn,
        yaml_node_t *vn, Diag *d)
{
	char msg[512], sug[64];
	int i = find(path);
	int64_t v;
	if (i < 0) {
		const char *g = suggest(path, 0, sug, sizeof sug);
		snprintf(msg, sizeof msg, "unknown key '%.60s'%s%s%s", path,
		         g ? " (did you mean '" : "", g ? g : "", g ? "'?)" : "");
		return mark_err_at(d, s, kn->start_mark, msg);
	}
	if (s->line[i]) {
		snprintf(msg, sizeof msg, "duplicate key '%s'", path);
		return mark_err_at(d, s, kn->start_mark, msg);
	}
	s->line[i] = (int)vn->start_mark.line + 1;
	s->col[i] = (int)vn->start_mark.column + 1;
	if (fparams[i].type == FT_INTS) {
		yaml_node_item_t *it;
		if (vn->type != YAML_SEQUENCE_NODE) {
			snprintf(msg, sizeof msg,
			         "%s: expected a list of integers, e.g. [512, 2048]", path);
			return mark_err_at(d, s, vn->start_mark, msg);
		}
		f->ncontext = 0;
		for (it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
			yaml_node_t *e = yaml_document_get_node(doc, *it);
			if (!e || e->type != YAML_SCALAR_NODE) {
				snprintf(msg, sizeof msg, "%s: expected a list of integers", path);
				return mark_err_at(d, s, e ? e->start_mark : vn->start_mark, msg);
			}
			if (f->ncontext >= RF_MAXCTX) {
				snprintf(msg, sizeof msg, "%s: at most %d context lengths", path,
				         RF_MAXCTX);
				return mark_err_at(d, s, e->start_mark, msg);
			}
			if (parse_scalar(f, i, (const char *)e->data.scalar.value, &v, msg,
			                 sizeof msg))
				return mark_err_at(d, s, e->start_mark, msg);
			f->context[f->ncontext++] = v;
		}
		if (f->ncontext == 0) {
			snprintf(msg, sizeof msg, "%s: the list is empty", path);
			return mark_err_at(d, s, vn->start_mark, msg);
		}
		return 0;
	}
	if (vn->type != YAML_SCALAR_NODE) {
		snprintf(msg, sizeof msg, "%s: expected a single value, not a %s", path,
		         vn->type == YAML_MAPPING_NODE ? "mapping" : "list");
		return mark_err_at(d, s, vn->start_mark, msg);
	}
	if (vn->data.scalar.length > 200 ||
	    strlen((const char *)vn->data.scalar.value) != vn->data.scalar.length) {
		snprintf(msg, sizeof msg, "%s: value too long or not text", path);
		return mark_err_at(d, s, vn->start_mark, msg);
	}
	if (parse_scalar(f, i, (const char *)vn->data.scalar.value, &v, msg, sizeof msg))
		return mark_err_at(d, s, vn->start_mark, msg);
	return 0;
}

#define AT(key) s->line[find(key)], s->col[find(key)]

static int
check(RfFamily *f, Src *s, Diag *d)
{
	int k, i;
	if (f->params_min > f->params_max)
		return ferr(d, s, AT("params.max"), "params.max (%.4g) is below params.min (%.4g)",
		            f->params_max, f->params_min);
	if (f->attn == RF_ATTN_DENSE && f->keep != 1)
		return ferr(d, s, AT("attention.keep"),
		            "dense attention keeps every key block: remove attention.keep or use "
		            "attention.type: sparse");
	if (f->ffn == RF_FFN_MLP)
		for (k = 0; k < 2; k++) {
			const char *key = k ? "ffn.spline_order" : "ffn.grid_size";
			if (s->line[find(key)])
				return ferr(
				    d, s, AT(key),
				    "%s is a KAN setting, but ffn.type is mlp (use ffn.type: "
				    "kan)",
				    key);
		}
	if (f->fit_context) {
		for (i = 0; i < f->ncontext; i++)
			if (f->context[i] == f->fit_context)
				break;
		if (i == f->ncontext)
			return ferr(d, s, AT("workload.fit_context"),
			            "workload.fit_context (%lld) is not one of workload.context",
			            (long long)f->fit_context);
	} else {
		f->fit_context = f->context[0];
	}
	return 0;
}

static int
load_doc(RfFamily *f, Src *s, yaml_document_t *doc, Diag *d)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_pair_t *pr, *pr2;
	char msg[256], sug[64];
	int i;

	if (!root || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
		return ferr(d, s, 1, 1,
		            "empty family file (expected keys 'name', 'params', 'ffn', "
		            "'attention', 'workload')");
	if (root->type != YAML_MAPPING_NODE)
		return mark_err_at(d, s, root->start_mark,
		                   "expected a mapping of keys at the top of the family file");
	for (pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = yaml_document_get_node(doc, pr->key);
		yaml_node_t *vn = yaml_document_get_node(doc, pr->value);
		const char *key;
		if (!kn || !vn || kn->type != YAML_SCALAR_NODE)
			return mark_err_at(d, s, root->start_mark, "a key must be a plain name");
		key = (const char *)kn->data.scalar.value;
		if (!is_section(key) || strlen(key) > 40) {
			if (find(key) < 0 && vn->type == YAML_MAPPING_NODE) {
				const char *g = suggest(key, 1, sug, sizeof sug);
				snprintf(msg, sizeof msg, "unknown section '%.40s'%s%s%s", key,
				         g ? " (did you mean '" : "", g ? g : "", g ? "'?)" : "");
				return mark_err_at(d, s, kn->start_mark, msg);
			}
			if (set_key(f, s, doc, key, kn, vn, d))
				return -1;
			continue;
		}
		if (vn->type != YAML_MAPPING_NODE) {
			snprintf(msg, sizeof msg,
			         "'%s' is a section: expected its keys on the "
			         "following lines",
			         key);
			return mark_err_at(d, s, vn->start_mark, msg);
		}
		for (pr2 = vn->data.mapping.pairs.start; pr2 < vn->data.mapping.pairs.top; pr2++) {
			yaml_node_t *k2 = yaml_document_get_node(doc, pr2->key);
			yaml_node_t *v2 = yaml_document_get_node(doc, pr2->value);
			char path[128];
			if (!k2 || !v2 || k2->type != YAML_SCALAR_NODE)
				return mark_err_at(d, s, vn->start_mark,
				                   "a key must be a plain name");
			snprintf(path, sizeof path, "%s.%.60s", key,
			         (const char *)k2->data.scalar.value);
			if (set_key(f, s, doc, path, k2, v2, d))
				return -1;
		}
	}
	for (i = 0; i < NFP; i++)
		if (!s->line[i] && !fparams[i].def)
			return ferr(
			    d, s, (int)root->start_mark.line + 1, (int)root->start_mark.column + 1,
			    "missing required key '%s' (%s)", fparams[i].path, fparams[i].help);
	return check(f, s, d);
}

int
rf_family_load_mem(RfFamily *f, const char *buf, size_t len, const char *fname, Diag *d)
{
	yaml_document_t doc;
	Src s;
	char *text;
	int r;

	defaults(f);
	memset(&s, 0, sizeof s);
	s.file = fname ? fname : "<family>";
	if (len > RF_MAX_FAMILY_BYTES)
		return diag_err(d, s.file, "family file larger than %d bytes", RF_MAX_FAMILY_BYTES);
	text = xmalloc(len + 1);
	memcpy(text, buf, len);
	text[len] = 0;
	s.text = text;
	if (hw_yaml_parse(text, len, s.file, &doc, d)) {
		free(text);
		return -1;
	}
	r = load_doc(f, &s, &doc, d);
	yaml_document_delete(&doc);
	free(text);
	return r;
}

int
rf_family_load(RfFamily *f, const char *path, Diag *d)
{
	size_t len;
	char *buf = read_file(path, RF_MAX_FAMILY_BYTES, &len, d);
	int r;
	if (!buf) {
		defaults(f);
		return -1;
	}
	r = rf_family_load_mem(f, buf, len, path, d);
	free(buf);
	return r;
}
