/* pareto.c: non-dominated sets of two minimised objectives. */
#include "dse.h"

#include <math.h>
#include <stdlib.h>

int
dse_dominates(double a0, double a1, double b0, double b1)
{
	return a0 <= b0 && a1 <= b1 && (a0 < b0 || a1 < b1);
}

typedef struct Item {
	double x, y;
	uint32_t i;
} Item;

static int
by_xy(const void *pa, const void *pb)
{
	const Item *a = pa, *b = pb;
	if (a->x != b->x)
		return a->x < b->x ? -1 : 1;
	if (a->y != b->y)
		return a->y < b->y ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

uint32_t
dse_pareto2(const double *x, const double *y, const unsigned char *ok, uint32_t n,
            unsigned char *front)
{
	Item *v = xmalloc(sizeof(Item) * (n ? n : 1));
	uint32_t m = 0, i, k, count = 0;
	double best = INFINITY;
	for (i = 0; i < n; i++) {
		front[i] = 0;
		if ((!ok || ok[i]) && !isnan(x[i]) && !isnan(y[i])) {
			v[m].x = x[i];
			v[m].y = y[i];
			v[m++].i = i;
		}
	}
	qsort(v, m, sizeof *v, by_xy);
	/* Sweep by increasing x: a point is on the front iff its y is below every y seen at a
	 * smaller x, or equal to the best y among points with exactly the same (x, y). */
	for (i = 0; i < m; i = k) {
		/* Group of equal x: only its smallest y can be non-dominated (and its copies). */
		double gy = v[i].y;
		for (k = i; k < m && v[k].x == v[i].x; k++)
			;
		if (gy < best) {
			uint32_t t;
			for (t = i; t < k && v[t].y == gy; t++) {
				front[v[t].i] = 1;
				count++;
			}
			best = gy;
		}
	}
	free(v);
	return count;
}
