/* arch.c: the architecture config: schema table, YAML loading (libyaml document API, with source
 * positions), value parsing, range and consistency checks, derived values, hw_arch_set and the
 * canonical form behind the fingerprint. */
#include "hw.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

const char *const hw_mem_tech_names[] = {"sram", "edram", NULL};
const char *const hw_xbar_tech_names[] = {"reram", "sram", NULL};
const char *const hw_adc_type_names[] = {"sar", "pipeline", "flash", NULL};

const HwParam hw_params[] = {
#define HW_PARAM(path, member, type, unit, min, max, def, enums, help)                             \
	{path, type, unit, min, max, def, enums, help, offsetof(HwArch, member)},
#include "schema.def"
#undef HW_PARAM
};
const int hw_nparams = (int)NELEM(hw_params);

/* Each row's member has the size its type implies. */
#define HW_TSIZE(t)                                                                                \
	((t) == HW_T_BYTES ? sizeof(int64_t)                                                       \
	 : (t) == HW_T_F64 ? sizeof(double)                                                        \
	 : (t) == HW_T_STR ? sizeof(((HwArch *)0)->name)                                           \
	                   : sizeof(int))
#define HW_PARAM(path, member, type, unit, min, max, def, enums, help)                             \
	_Static_assert(sizeof(((HwArch *)0)->member) == HW_TSIZE(type), "schema type of " path);
#include "schema.def"
#undef HW_PARAM
_Static_assert(NELEM(hw_params) <= HW_MAXPARAMS, "raise HW_MAXPARAMS");

enum { HW_MAX_CONFIG_BYTES = 1 << 20 };

/* Where diagnostics point: the file name and its text (NULL for hw_arch_set). */
typedef struct Src {
	const char *file;
	const char *text;
} Src;

int
hw_param_find(const char *path)
{
	int i;
	for (i = 0; i < hw_nparams; i++)
		if (strcmp(hw_params[i].path, path) == 0)
			return i;
	return -1;
}

static void *
field(HwArch *a, int i)
{
	return (char *)a + hw_params[i].offset;
}

static const void *
cfield(const HwArch *a, int i)
{
	return (const char *)a + hw_params[i].offset;
}

/* ---- values ---- */

static int
fmt_value(const HwArch *a, int i, char *buf, size_t n, int canonical)
{
	const HwParam *p = &hw_params[i];
	const void *f = cfield(a, i);
	switch (p->type) {
	case HW_T_INT:
		return snprintf(buf, n, "%d", *(const int *)f);
	case HW_T_BOOL:
		return snprintf(buf, n, "%s", *(const int *)f ? "true" : "false");
	case HW_T_BYTES:
		return snprintf(buf, n, "%lld", (long long)*(const int64_t *)f);
	case HW_T_F64:
		return snprintf(buf, n, canonical ? "%.17g" : "%.15g", *(const double *)f);
	case HW_T_ENUM: {
		int v = *(const int *)f, k;
		for (k = 0; p->enums[k]; k++)
			if (k == v)
				return snprintf(buf, n, "%s", p->enums[k]);
		return snprintf(buf, n, "?%d", v);
	}
	case HW_T_STR:
		return snprintf(buf, n, "%s", (const char *)f);
	}
	return 0;
}

int
hw_arch_get(const HwArch *a, const char *path, char *buf, size_t n)
{
	int i = hw_param_find(path);
	if (i < 0)
		return -1;
	fmt_value(a, i, buf, n, 0);
	return 0;
}

static int
range_msg(const HwParam *p, char *msg, size_t n, double v)
{
	if (v >= p->min && v <= p->max)
		return 0;
	snprintf(msg, n, "%s: %.15g is out of range [%.15g, %.15g]%s%s", p->path, v, p->min, p->max,
	         p->unit[0] ? " " : "", p->unit);
	return -1;
}

static void
list_enums(const HwParam *p, char *buf, size_t n)
{
	size_t len = 0;
	int k;
	buf[0] = 0;
	for (k = 0; p->enums[k] && len < n; k++)
		len += (size_t)snprintf(buf + len, n - len, "%s'%s'", k ? ", " : "", p->enums[k]);
}

/* parse_value: text -> field i of a. Returns 0, or -1 with a message (no location) in msg. */
static int
parse_value(HwArch *a, int i, const char *s, char *msg, size_t n)
{
	const HwParam *p = &hw_params[i];
	char *end;
	if (!*s && p->type != HW_T_STR) {
		snprintf(msg, n, "%s: missing value", p->path);
		return -1;
	}
	switch (p->type) {
	case HW_T_INT: {
		long long v;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || end == s || *end || isspace((unsigned char)*s)) {
			snprintf(msg, n, "%s: expected an integer, got '%.60s'", p->path, s);
			return -1;
		}
		if (range_msg(p, msg, n, (double)v))
			return -1;
		*(int *)field(a, i) = (int)v;
		return 0;
	}
	case HW_T_BOOL: {
		static const char *const yes[] = {"true", "yes", "on", "1"};
		static const char *const no[] = {"false", "no", "off", "0"};
		size_t k;
		for (k = 0; k < NELEM(yes); k++) {
			if (strcmp(s, yes[k]) == 0) {
				*(int *)field(a, i) = 1;
				return 0;
			}
			if (strcmp(s, no[k]) == 0) {
				*(int *)field(a, i) = 0;
				return 0;
			}
		}
		snprintf(msg, n, "%s: expected true or false, got '%.60s'", p->path, s);
		return -1;
	}
	case HW_T_BYTES: {
		static const struct {
			const char *suf;
			double mul;
		} sufs[] = {{"", 1},
		            {"B", 1},
		            {"KiB", 1024.0},
		            {"MiB", 1048576.0},
		            {"GiB", 1073741824.0},
		            {"TiB", 1099511627776.0}};
		double v;
		size_t k;
		errno = 0;
		v = (double)strtoll(s, &end, 10);
		if (errno || end == s || isspace((unsigned char)*s) || *s == '+') {
			snprintf(msg, n,
			         "%s: expected a byte count (e.g. 65536 or 64KiB), got '%.60s'",
			         p->path, s);
			return -1;
		}
		while (*end == ' ')
			end++;
		for (k = 0; k < NELEM(sufs); k++)
			if (strcmp(end, sufs[k].suf) == 0)
				break;
		if (k == NELEM(sufs)) {
			snprintf(
			    msg, n,
			    "%s: expected a byte count (e.g. 65536 or 64KiB), got '%.60s' (units: "
			    "B, KiB, MiB, GiB, TiB)",
			    p->path, s);
			return -1;
		}
		v *= sufs[k].mul;
		if (range_msg(p, msg, n, v))
			return -1;
		*(int64_t *)field(a, i) = (int64_t)v;
		return 0;
	}
	case HW_T_F64: {
		double v;
		errno = 0;
		v = strtod(s, &end);
		if (errno || end == s || *end || isspace((unsigned char)*s) || !isfinite(v)) {
			snprintf(msg, n, "%s: expected a number, got '%.60s'", p->path, s);
			return -1;
		}
		if (range_msg(p, msg, n, v))
			return -1;
		*(double *)field(a, i) = v;
		return 0;
	}
	case HW_T_ENUM: {
		char opts[256];
		int k;
		for (k = 0; p->enums[k]; k++)
			if (strcmp(s, p->enums[k]) == 0) {
				*(int *)field(a, i) = k;
				return 0;
			}
		list_enums(p, opts, sizeof opts);
		snprintf(msg, n, "%s: unknown value '%.60s' (expected one of %s)", p->path, s,
		         opts);
		return -1;
	}
	case HW_T_STR: {
		size_t len = strlen(s);
		if ((double)len < p->min || (double)len > p->max) {
			snprintf(msg, n, "%s: length %zu is out of range [%.0f, %.0f]", p->path,
			         len, p->min, p->max);
			return -1;
		}
		memcpy(field(a, i), s, len + 1);
		return 0;
	}
	}
	return -1;
}

void
hw_arch_defaults(HwArch *a)
{
	char msg[256];
	int i;
	memset(a, 0, sizeof *a);
	for (i = 0; i < hw_nparams; i++)
		if (hw_params[i].def)
			KASSERT(parse_value(a, i, hw_params[i].def, msg, sizeof msg) == 0);
}

/* ---- canonical form and fingerprint ---- */

size_t
hw_arch_canonical(const HwArch *a, char *buf, size_t n)
{
	size_t len = 0;
	int i;
	char v[128];
	if (n)
		buf[0] = 0;
	for (i = 0; i < hw_nparams; i++) {
		int k;
		if (hw_params[i].type == HW_T_STR)
			continue;
		fmt_value(a, i, v, sizeof v, 1);
		k = snprintf(len < n ? buf + len : NULL, len < n ? n - len : 0, "%s=%s\n",
		             hw_params[i].path, v);
		len += (size_t)k;
	}
	return len;
}

uint64_t
hw_arch_fingerprint(const HwArch *a)
{
	char buf[8192];
	size_t len = hw_arch_canonical(a, buf, sizeof buf);
	KASSERT(len < sizeof buf);
	return fnv1a64(buf, len, FNV1A64_INIT);
}

/* ---- diagnostics ---- */

/* report: error at parameter i's source position when it has one (else at the first of the
 * fallback rows that has one), else without a position. */
static int verr(Diag *d, const Src *src, const HwArch *a, const int *rows, int nrows,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int
verr(Diag *d, const Src *src, const HwArch *a, const int *rows, int nrows, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int k;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (src && src->text)
		for (k = 0; k < nrows; k++) {
			HwMark m = a->mark[rows[k]];
			if (m.line > 0)
				return diag_at(d, src->file, m.line, m.col,
				               diag_src_line(src->text, m.line), "%s", msg);
		}
	return diag_err(d, src ? src->file : NULL, "%s", msg);
}

#define P(path) param_index(path)
static int
param_index(const char *path)
{
	int i = hw_param_find(path);
	KASSERT(i >= 0);
	return i;
}

#define CHECK(cond, blame, ...)                                                                    \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			const int rows_[] = {blame};                                               \
			return verr(d, src, a, rows_, (int)NELEM(rows_), __VA_ARGS__);             \
		}                                                                                  \
	} while (0)
#define B2(x, y)    x, y
#define B3(x, y, z) x, y, z

static int64_t
ceil_div(int64_t x, int64_t y)
{
	return (x + y - 1) / y;
}

static int
ceil_log2(int64_t n)
{
	int k = 0;
	while (k < 62 && ((int64_t)1 << k) < n)
		k++;
	return k;
}

int64_t
hw_cycles(const HwArch *a, double ns)
{
	double c = ceil(ns * a->clock.core_ghz - 1e-9);
	if (!(c < 1e12)) /* bounded so that cycle arithmetic cannot overflow */
		c = 1e12;
	return c < 1 ? 1 : (int64_t)c;
}

int
hw_mvm_input_cycles(const HwArch *a, int nbits)
{
	if (nbits <= 1)
		return 1;
	return 1 + (int)ceil_div(nbits - 1, a->mvmu.dac_bits);
}

int64_t
hw_mvm_cycles(const HwArch *a, int rows, int cols, int nbits)
{
	int64_t cin = hw_mvm_input_cycles(a, nbits), tc;
	if (a->mvmu.tech == HW_XBAR_SRAM)
		return cin + ceil_log2(rows) + 2;
	tc = ceil_div(cols, a->mvmu.adcs_per_xbar) * a->d.adc_cycles;
	if (tc < a->d.read_cycles)
		tc = a->d.read_cycles;
	return cin * tc + 2;
}

static const char *suggest(const char *key, int sections, char *buf, size_t n);

/* validate: ranges, consistency, derived values, fingerprint. */
static int
validate(HwArch *a, const Src *src, Diag *d)
{
	char msg[512];
	int i;
	HwDerived *x = &a->d;

	for (i = 0; i < hw_nparams; i++) {
		const HwParam *p = &hw_params[i];
		double v;
		const int row[] = {i};
		switch (p->type) {
		case HW_T_INT:
		case HW_T_BOOL:
			v = *(const int *)cfield(a, i);
			break;
		case HW_T_BYTES:
			v = (double)*(const int64_t *)cfield(a, i);
			break;
		case HW_T_F64:
			v = *(const double *)cfield(a, i);
			break;
		case HW_T_ENUM: {
			int k, e = *(const int *)cfield(a, i);
			for (k = 0; p->enums[k]; k++)
				;
			if (e < 0 || e >= k)
				return verr(d, src, a, row, 1, "%s: invalid value %d", p->path, e);
			continue;
		}
		default:
			v = (double)strnlen(a->name, sizeof a->name - 1);
			if (!memchr(a->name, 0, sizeof a->name))
				return verr(d, src, a, row, 1, "name: not terminated");
			break;
		}
		if (range_msg(p, msg, sizeof msg, v))
			return verr(d, src, a, row, 1, "%s", msg);
	}

	CHECK((int64_t)a->chip.mesh_rows * a->chip.mesh_cols == a->chip.tiles,
	      B3(P("chip.mesh_cols"), P("chip.mesh_rows"), P("chip.tiles")),
	      "the mesh has chip.mesh_rows x chip.mesh_cols = %d x %d = %lld tiles, but chip.tiles "
	      "is %d",
	      a->chip.mesh_rows, a->chip.mesh_cols,
	      (long long)a->chip.mesh_rows * a->chip.mesh_cols, a->chip.tiles);
	CHECK(a->chip.tiles % a->noc.tiles_per_router == 0,
	      B2(P("noc.tiles_per_router"), P("chip.tiles")),
	      "noc.tiles_per_router (%d) does not divide chip.tiles (%d)", a->noc.tiles_per_router,
	      a->chip.tiles);
	CHECK(a->noc.flit_bits % 8 == 0, P("noc.flit_bits"),
	      "noc.flit_bits (%d) is not a multiple of 8", a->noc.flit_bits);
	CHECK(a->tile.mem_port_bits % 8 == 0, P("tile.mem_port_bits"),
	      "tile.mem_port_bits (%d) is not a multiple of 8", a->tile.mem_port_bits);
	CHECK(a->tile.mem_bytes % a->tile.mem_banks == 0,
	      B2(P("tile.mem_banks"), P("tile.mem_bytes")),
	      "tile.mem_bytes (%lld) is not a multiple of tile.mem_banks (%d)",
	      (long long)a->tile.mem_bytes, a->tile.mem_banks);
	CHECK(a->mvmu.weight_bits % a->mvmu.cell_bits == 0,
	      B2(P("mvmu.weight_bits"), P("mvmu.cell_bits")),
	      "mvmu.weight_bits (%d) is not a multiple of mvmu.cell_bits (%d)", a->mvmu.weight_bits,
	      a->mvmu.cell_bits);
	CHECK(a->mvmu.dac_bits <= a->mvmu.input_bits, B2(P("mvmu.dac_bits"), P("mvmu.input_bits")),
	      "mvmu.dac_bits (%d) exceeds mvmu.input_bits (%d)", a->mvmu.dac_bits,
	      a->mvmu.input_bits);
	if (a->mvmu.tech == HW_XBAR_SRAM) {
		CHECK(a->mvmu.adc_bits == 0, B2(P("mvmu.adc_bits"), P("mvmu.tech")),
		      "mvmu.adc_bits is set (%d) on a digital (sram) array, which has no ADC; "
		      "remove it or use tech: reram",
		      a->mvmu.adc_bits);
		CHECK(a->mvmu.adcs_per_xbar == 0, B2(P("mvmu.adcs_per_xbar"), P("mvmu.tech")),
		      "mvmu.adcs_per_xbar is set (%d) on a digital (sram) array, which has no ADC",
		      a->mvmu.adcs_per_xbar);
		CHECK(a->mvmu.adc_rate_gsps == 0, B2(P("mvmu.adc_rate_gsps"), P("mvmu.tech")),
		      "mvmu.adc_rate_gsps is set on a digital (sram) array, which has no ADC");
		CHECK(a->mvmu.cell_bits == 1, B2(P("mvmu.cell_bits"), P("mvmu.tech")),
		      "a digital (sram) array stores 1 bit per cell, not %d", a->mvmu.cell_bits);
		CHECK(a->mvmu.dac_bits == 1, B2(P("mvmu.dac_bits"), P("mvmu.tech")),
		      "a digital (sram) array applies 1 input bit per cycle (mvmu.dac_bits is %d)",
		      a->mvmu.dac_bits);
	} else {
		CHECK(a->mvmu.adcs_per_xbar >= 1, B2(P("mvmu.adcs_per_xbar"), P("mvmu.tech")),
		      "an analog (reram) array needs ADCs: mvmu.adcs_per_xbar is 0");
		CHECK(a->mvmu.adc_bits >= 1, B2(P("mvmu.adc_bits"), P("mvmu.tech")),
		      "an analog (reram) array needs an ADC resolution: mvmu.adc_bits is 0");
		CHECK(a->mvmu.adc_rate_gsps > 0, B2(P("mvmu.adc_rate_gsps"), P("mvmu.tech")),
		      "an analog (reram) array needs an ADC rate: mvmu.adc_rate_gsps is 0");
		CHECK(a->mvmu.adcs_per_xbar <= a->mvmu.cols,
		      B2(P("mvmu.adcs_per_xbar"), P("mvmu.cols")),
		      "mvmu.adcs_per_xbar (%d) exceeds the crossbar's columns (%d)",
		      a->mvmu.adcs_per_xbar, a->mvmu.cols);
	}

	memset(x, 0, sizeof *x);
	x->digital = a->mvmu.tech == HW_XBAR_SRAM;
	x->slices = a->mvmu.weight_bits / a->mvmu.cell_bits;
	x->routers = a->chip.tiles / a->noc.tiles_per_router;
	x->mvmus_per_tile = (int64_t)a->tile.cores * a->core.mvmus;
	x->mvmus = x->mvmus_per_tile * a->chip.tiles;
	x->xbars = x->mvmus * x->slices;
	x->clock_ns = 1.0 / a->clock.core_ghz;
	x->read_cycles = (int)hw_cycles(a, a->mvmu.read_ns);
	x->write_row_cycles = (int)sat_i64(hw_cycles(a, a->mvmu.write_row_ns), 1, INT32_MAX);
	if (!x->digital) {
		x->adc_conv_ns = 1.0 / a->mvmu.adc_rate_gsps;
		x->cols_per_adc = (int)ceil_div(a->mvmu.cols, a->mvmu.adcs_per_xbar);
		x->adc_cycles = (int)sat_i64(hw_cycles(a, x->adc_conv_ns), 1, INT32_MAX);
		x->input_cycle_cycles = (int64_t)x->cols_per_adc * x->adc_cycles;
		if (x->input_cycle_cycles < x->read_cycles)
			x->input_cycle_cycles = x->read_cycles;
	} else {
		x->input_cycle_cycles = 1;
	}
	x->input_cycles = hw_mvm_input_cycles(a, a->mvmu.input_bits);
	x->mvm_cycles = hw_mvm_cycles(a, a->mvmu.rows, a->mvmu.cols, a->mvmu.input_bits);
	x->tmem_bytes_per_cycle = a->tile.mem_banks * a->tile.mem_port_bits / 8;
	x->tmem_latency_cycles = (int)sat_i64(hw_cycles(a, a->tile.mem_latency_ns), 1, INT32_MAX);
	x->dram_bytes_per_cycle = a->dram.bandwidth_gb_per_s / a->clock.core_ghz;
	x->dram_latency_cycles = (int)sat_i64(hw_cycles(a, a->dram.latency_ns), 1, INT32_MAX);
	x->weight_capacity_bytes = x->mvmus * a->mvmu.rows * a->mvmu.cols * a->mvmu.weight_bits / 8;
	a->fingerprint = hw_arch_fingerprint(a);
	return 0;
}

int
hw_arch_validate(HwArch *a, Diag *d)
{
	return validate(a, NULL, d);
}

int
hw_arch_set_many(HwArch *a, const char *const *paths, const char *const *values, int n, Diag *d)
{
	HwArch t = *a;
	char msg[512];
	int k;
	for (k = 0; k < n; k++) {
		int i = hw_param_find(paths[k]);
		if (i < 0) {
			char sug[64];
			const char *s = suggest(paths[k], 0, sug, sizeof sug);
			return diag_err(d, NULL, "unknown architecture parameter '%s'%s%s%s",
			                paths[k], s ? " (did you mean '" : "", s ? s : "",
			                s ? "'?)" : "");
		}
		if (parse_value(&t, i, values[k], msg, sizeof msg))
			return diag_err(d, NULL, "%s", msg);
		t.mark[i].line = 0;
	}
	if (validate(&t, NULL, d))
		return -1;
	*a = t;
	return 0;
}

int
hw_arch_set(HwArch *a, const char *path, const char *value, Diag *d)
{
	return hw_arch_set_many(a, &path, &value, 1, d);
}

/* ---- YAML ---- */

/* suggest: the closest schema path (or section when sections), or NULL. */
static const char *
suggest(const char *key, int sections, char *buf, size_t n)
{
	size_t best = (size_t)-1, dist;
	const char *leaf = strrchr(key, '.');
	int i;
	buf[0] = 0;
	for (i = 0; i < hw_nparams; i++) {
		const char *p = hw_params[i].path, *dot = strchr(p, '.');
		char cand[64];
		if (sections) {
			if (!dot)
				continue;
			snprintf(cand, sizeof cand, "%.*s", (int)(dot - p), p);
		} else {
			snprintf(cand, sizeof cand, "%s", p);
			/* The same key in another section is the likeliest mistake. */
			if (leaf && dot && strcmp(leaf, strrchr(p, '.')) == 0) {
				snprintf(buf, n, "%s", p);
				return buf;
			}
		}
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

static int yerr(Diag *d, const Src *src, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
yerr(Diag *d, const Src *src, yaml_mark_t m, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int line = (int)m.line + 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return diag_at(d, src->file, line, (int)m.column + 1, diag_src_line(src->text, line), "%s",
	               msg);
}

static int
is_section(const char *name)
{
	size_t n = strlen(name);
	int i;
	for (i = 0; i < hw_nparams; i++)
		if (strncmp(hw_params[i].path, name, n) == 0 && hw_params[i].path[n] == '.')
			return 1;
	return 0;
}

static int
set_scalar(HwArch *a, const Src *src, const char *path, yaml_node_t *kn, yaml_node_t *vn,
           unsigned char *seen, Diag *d)
{
	char msg[512], sug[64];
	int i = hw_param_find(path);
	if (i < 0) {
		const char *s = suggest(path, 0, sug, sizeof sug);
		if (s)
			return yerr(d, src, kn->start_mark, "unknown key '%s' (did you mean '%s'?)",
			            path, s);
		return yerr(d, src, kn->start_mark, "unknown key '%s'", path);
	}
	if (seen[i])
		return yerr(d, src, kn->start_mark, "duplicate key '%s'", path);
	seen[i] = 1;
	if (vn->type != YAML_SCALAR_NODE)
		return yerr(d, src, vn->start_mark, "%s: expected a single value, not a %s", path,
		            vn->type == YAML_MAPPING_NODE ? "mapping" : "list");
	if (vn->data.scalar.length > 200 ||
	    strlen((const char *)vn->data.scalar.value) != vn->data.scalar.length)
		return yerr(d, src, vn->start_mark, "%s: value too long or not text", path);
	if (parse_value(a, i, (const char *)vn->data.scalar.value, msg, sizeof msg))
		return yerr(d, src, vn->start_mark, "%s", msg);
	a->mark[i].line = (int)vn->start_mark.line + 1;
	a->mark[i].col = (int)vn->start_mark.column + 1;
	return 0;
}

static int
load_doc(HwArch *a, const Src *src, yaml_document_t *doc, Diag *d)
{
	unsigned char seen[HW_MAXPARAMS] = {0};
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_pair_t *pr, *pr2;
	char seen_sec[16][48];
	yaml_mark_t sec_mark[16];
	int nsec = 0, i, k;

	if (!root || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)) {
		yaml_mark_t m = {0, 0, 0};
		return yerr(d, src, m,
		            "empty architecture config (expected keys such as 'name', "
		            "'chip', 'tile', 'core', 'mvmu')");
	}
	if (root->type != YAML_MAPPING_NODE)
		return yerr(d, src, root->start_mark,
		            "expected a mapping of keys at the top of the architecture config");
	for (pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = yaml_document_get_node(doc, pr->key);
		yaml_node_t *vn = yaml_document_get_node(doc, pr->value);
		const char *key;
		char sug[64];
		if (!kn || !vn)
			return yerr(d, src, root->start_mark, "malformed mapping");
		if (kn->type != YAML_SCALAR_NODE)
			return yerr(d, src, kn->start_mark, "a key must be a plain name");
		key = (const char *)kn->data.scalar.value;
		if (strlen(key) > 40 || strchr(key, '.')) {
			const char *s = suggest(key, 0, sug, sizeof sug);
			return yerr(d, src, kn->start_mark, "unknown key '%.40s'%s%s%s", key,
			            s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
		}
		if (!is_section(key)) {
			if (hw_param_find(key) < 0 && vn->type == YAML_MAPPING_NODE) {
				const char *s = suggest(key, 1, sug, sizeof sug);
				if (s)
					return yerr(d, src, kn->start_mark,
					            "unknown section '%s' (did you mean '%s'?)",
					            key, s);
				return yerr(d, src, kn->start_mark, "unknown section '%s'", key);
			}
			if (set_scalar(a, src, key, kn, vn, seen, d))
				return -1;
			continue;
		}
		for (k = 0; k < nsec; k++)
			if (strcmp(seen_sec[k], key) == 0)
				return yerr(d, src, kn->start_mark, "duplicate section '%s'", key);
		KASSERT(nsec < 16);
		snprintf(seen_sec[nsec], sizeof seen_sec[nsec], "%s", key);
		sec_mark[nsec++] = kn->start_mark;
		if (vn->type != YAML_MAPPING_NODE)
			return yerr(d, src, vn->start_mark,
			            "'%s' is a section: expected its keys on the following lines "
			            "(e.g. '%s:\\n  key: value')",
			            key, key);
		for (pr2 = vn->data.mapping.pairs.start; pr2 < vn->data.mapping.pairs.top; pr2++) {
			yaml_node_t *k2 = yaml_document_get_node(doc, pr2->key);
			yaml_node_t *v2 = yaml_document_get_node(doc, pr2->value);
			char path[128];
			if (!k2 || !v2)
				return yerr(d, src, vn->start_mark, "malformed mapping");
			if (k2->type != YAML_SCALAR_NODE)
				return yerr(d, src, k2->start_mark, "a key must be a plain name");
			snprintf(path, sizeof path, "%s.%.60s", key,
			         (const char *)k2->data.scalar.value);
			if (set_scalar(a, src, path, k2, v2, seen, d))
				return -1;
		}
	}
	for (i = 0; i < hw_nparams; i++) {
		const char *p = hw_params[i].path, *dot = strchr(p, '.');
		yaml_mark_t m = root->start_mark;
		if (seen[i] || hw_params[i].def)
			continue;
		if (dot)
			for (k = 0; k < nsec; k++)
				if (strlen(seen_sec[k]) == (size_t)(dot - p) &&
				    strncmp(seen_sec[k], p, (size_t)(dot - p)) == 0)
					m = sec_mark[k];
		return yerr(d, src, m, "missing required key '%s' (%s)", p, hw_params[i].help);
	}
	return validate(a, src, d);
}

int
hw_arch_load_mem(HwArch *a, const char *buf, size_t len, const char *fname, Diag *d)
{
	yaml_document_t doc;
	char *text;
	Src src;
	int r;

	hw_arch_defaults(a);
	if (!fname)
		fname = "<config>";
	if (len > HW_MAX_CONFIG_BYTES)
		return diag_err(d, fname, "architecture config larger than %d bytes",
		                HW_MAX_CONFIG_BYTES);
	text = xmalloc(len + 1);
	memcpy(text, buf, len);
	text[len] = 0;
	src.file = fname;
	src.text = text;
	if (hw_yaml_parse(text, len, fname, &doc, d)) {
		free(text);
		return -1;
	}
	r = load_doc(a, &src, &doc, d);
	yaml_document_delete(&doc);
	free(text);
	return r;
}

int
hw_arch_load(HwArch *a, const char *path, Diag *d)
{
	size_t len;
	char *buf = read_file(path, HW_MAX_CONFIG_BYTES, &len, d);
	int r;
	if (!buf) {
		hw_arch_defaults(a);
		return -1;
	}
	r = hw_arch_load_mem(a, buf, len, path, d);
	free(buf);
	return r;
}

/* ---- docs ---- */

char *
hw_schema_markdown(void)
{
	size_t cap = 16384, len = 0;
	char *s = xmalloc(cap);
	int i;
	s[0] = 0;
#define OUT(...)                                                                                   \
	do {                                                                                       \
		int k_ = snprintf(s + len, cap - len, __VA_ARGS__);                                \
		while ((size_t)k_ >= cap - len) {                                                  \
			s = xgrow(s, &cap, len + (size_t)k_ + 1, 1);                               \
			k_ = snprintf(s + len, cap - len, __VA_ARGS__);                            \
		}                                                                                  \
		len += (size_t)k_;                                                                 \
	} while (0)
	OUT("<!-- Generated by hw_gen schema from hwmodels/schema.def; do not edit. -->\n");
	OUT("| key | type | unit | range | default | meaning |\n|---|---|---|---|---|---|\n");
	for (i = 0; i < hw_nparams; i++) {
		const HwParam *p = &hw_params[i];
		static const char *const tn[] = {"int",    "bool", "bytes",
		                                 "number", "enum", "string"};
		char range[128];
		if (p->type == HW_T_ENUM)
			list_enums(p, range, sizeof range);
		else if (p->type == HW_T_BOOL)
			snprintf(range, sizeof range, "true, false");
		else if (p->type == HW_T_STR)
			snprintf(range, sizeof range, "%.0f..%.0f chars", p->min, p->max);
		else
			snprintf(range, sizeof range, "%.15g .. %.15g", p->min, p->max);
		OUT("| `%s` | %s | %s | %s | %s | %s |\n", p->path, tn[p->type],
		    p->unit[0] ? p->unit : "", range, p->def ? p->def : "**required**", p->help);
	}
#undef OUT
	return s;
}
