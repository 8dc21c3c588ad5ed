/* points.c: the points of a sweep: grid (every combination, the first parameter varying
 * slowest), random (each coordinate drawn independently) and Latin hypercube (each dimension cut
 * into N equal strata, one point per stratum, strata matched by seeded permutations). Draws come
 * from splitmix64 streams keyed by (seed, dimension, point), so they do not depend on the order in
 * which points are generated or on the machine. */
#include "dse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_POINTS = 10000000 };

static uint64_t
mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* uniform in [0, 1) for (seed, dim, i, salt). */
static double
draw(uint64_t seed, uint32_t dim, uint32_t i, uint32_t salt)
{
	uint64_t z = mix(mix(mix(seed ^ 0x6473655f73656564ull) ^ dim) ^ ((uint64_t)salt << 32 | i));
	return (double)(z >> 11) * 0x1.0p-53;
}

/* A point's value for dimension p at normalised coordinate u in [0, 1). Writes the texts of the
 * keys it sets into val (by column). */
static void
assign(const DseSweep *s, int pi, double u, int level, const int *colof, char **val)
{
	const DseParam *p = &s->params[pi];
	int k;
	if (p->kind == DSE_P_CONT) {
		char buf[64];
		double v;
		if (p->integer) {
			v = p->lo + floor(u * (p->hi - p->lo + 1));
			if (v > p->hi)
				v = p->hi;
			snprintf(buf, sizeof buf, "%.0f", v);
		} else {
			v = p->lo + u * (p->hi - p->lo);
			snprintf(buf, sizeof buf, "%.17g", v);
		}
		val[colof[pi]] = xstrdup(buf);
		return;
	}
	if (level < 0) {
		level = (int)floor(u * p->nlevels);
		if (level >= p->nlevels)
			level = p->nlevels - 1;
	}
	for (k = 0; k < p->nkeys; k++)
		val[colof[pi] + k] = xstrdup(p->levels[level * p->nkeys + k]);
}

/* auto-mesh: the most square rows x cols = tiles with rows <= cols. */
static void
mesh_for(long tiles, long *rows, long *cols)
{
	long r;
	*rows = 1;
	for (r = 1; r * r <= tiles; r++)
		if (tiles % r == 0)
			*rows = r;
	*cols = tiles / *rows;
}

static void
finish(const DseSweep *s, int fast, DsePoint *pt)
{
	uint64_t h = s->hash;
	int j;
	if (s->mesh_rows_col >= 0) {
		int tcol = -1;
		long rows, cols;
		char buf[32];
		for (j = 0; j < s->ncols; j++)
			if (!strcmp(hw_params[s->cols[j]].path, "chip.tiles"))
				tcol = j;
		mesh_for(strtol(pt->val[tcol], NULL, 10), &rows, &cols);
		snprintf(buf, sizeof buf, "%ld", rows);
		pt->val[s->mesh_rows_col] = xstrdup(buf);
		snprintf(buf, sizeof buf, "%ld", cols);
		pt->val[s->mesh_cols_col] = xstrdup(buf);
	}
	h = fnv1a64(fast ? "fast" : "sim", fast ? 4 : 3, h);
	for (j = 0; j < s->ncols; j++) {
		const char *k = hw_params[s->cols[j]].path;
		h = fnv1a64(k, strlen(k) + 1, h);
		if (pt->val[j])
			h = fnv1a64(pt->val[j], strlen(pt->val[j]) + 1, h);
	}
	pt->hash = h;
}

int
dse_points(const DseSweep *s, int fast, DsePoints *out, Diag *d)
{
	int colof[256], i, c = 0;
	uint32_t n, idx;
	uint32_t **perm = NULL;
	memset(out, 0, sizeof *out);
	KASSERT(s->nparams <= 256);
	for (i = 0; i < s->nparams; i++) {
		colof[i] = c;
		c += s->params[i].nkeys;
	}
	if (s->method == DSE_GRID) {
		double total = 1;
		for (i = 0; i < s->nparams; i++)
			total *= s->params[i].nlevels;
		if (total > MAX_POINTS)
			return diag_err(d, s->file,
			                "the grid has %.0f points, more than %d; use random or lhs "
			                "sampling",
			                total, MAX_POINTS);
		n = (uint32_t)total;
	} else
		n = s->npoints_req;
	out->n = n;
	out->ncols = s->ncols;
	out->p = xcalloc(n ? n : 1, sizeof(DsePoint));
	if (s->method == DSE_LHS) {
		/* One permutation of the strata per dimension (Fisher-Yates, seeded). */
		perm = xcalloc((size_t)s->nparams, sizeof(uint32_t *));
		for (i = 0; i < s->nparams; i++) {
			uint32_t k;
			perm[i] = xmalloc(sizeof(uint32_t) * (n ? n : 1));
			for (k = 0; k < n; k++)
				perm[i][k] = k;
			for (k = n; k > 1; k--) {
				uint32_t j = (uint32_t)(draw(s->seed, (uint32_t)i, k, 1) * k), t;
				if (j >= k)
					j = k - 1;
				t = perm[i][k - 1];
				perm[i][k - 1] = perm[i][j];
				perm[i][j] = t;
			}
		}
	}
	for (idx = 0; idx < n; idx++) {
		DsePoint *pt = &out->p[idx];
		uint32_t rest = idx;
		pt->index = idx;
		pt->val = xcalloc((size_t)s->ncols + 1, sizeof(char *));
		if (s->method == DSE_GRID) {
			/* Mixed radix, last parameter fastest. */
			for (i = s->nparams - 1; i >= 0; i--) {
				uint32_t L = (uint32_t)s->params[i].nlevels;
				assign(s, i, 0, (int)(rest % L), colof, pt->val);
				rest /= L;
			}
		} else
			for (i = 0; i < s->nparams; i++) {
				double u = draw(s->seed, (uint32_t)i, idx, 0);
				if (s->method == DSE_LHS)
					u = (perm[i][idx] + u) / n;
				assign(s, i, u, -1, colof, pt->val);
			}
		finish(s, fast, pt);
	}
	if (perm) {
		for (i = 0; i < s->nparams; i++)
			free(perm[i]);
		free(perm);
	}
	return 0;
}

void
dse_points_free(DsePoints *p)
{
	uint32_t i;
	int j;
	for (i = 0; i < p->n; i++) {
		for (j = 0; j < p->ncols; j++)
			free(p->p[i].val[j]);
		free(p->p[i].val);
	}
	free(p->p);
	memset(p, 0, sizeof *p);
}
