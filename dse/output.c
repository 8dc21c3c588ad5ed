/* output.c: the files a sweep leaves in OUT, all rebuilt from the results in index order:
 * points.csv, points.json, pareto_<a>_<b>.csv, plots (gnuplot), summary.json; and the summary. */
#include "dse.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- a growing text buffer ---- */

typedef struct Buf {
	char *s;
	size_t len, cap;
} Buf;

static void bprintf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
bprintf(Buf *b, const char *fmt, ...)
{
	va_list ap;
	int k;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		k = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		KASSERT(k >= 0);
		if ((size_t)k < room) {
			b->len += (size_t)k;
			return;
		}
		b->s = xgrow(b->s, &b->cap, b->len + (size_t)k + 1, 1);
	}
}

static void
csv_field(Buf *b, const char *s)
{
	const char *p;
	if (!strpbrk(s, ",\"\n\r")) {
		bprintf(b, "%s", s);
		return;
	}
	bprintf(b, "\"");
	for (p = s; *p; p++)
		bprintf(b, *p == '"' ? "\"\"" : "%c", *p);
	bprintf(b, "\"");
}

static void
csv_num(Buf *b, double v)
{
	if (isnan(v))
		bprintf(b, ",");
	else
		bprintf(b, ",%.10g", v);
}

/* signed_obj: objective k of r as a value to minimise (maximised objectives negated). */
static double
signed_obj(const DseResult *r, int k)
{
	return dse_objs[k].maximise ? -r->obj[k] : r->obj[k];
}

static void
csv_header(const DseSweep *s, Buf *b)
{
	int j, k;
	bprintf(b, "index,feasible");
	for (j = 0; j < s->ncols; j++)
		bprintf(b, ",%s", hw_params[s->cols[j]].path);
	for (k = 0; k < DSE_NOBJ; k++)
		if (k != DSE_O_ACCURACY || s->accuracy)
			bprintf(b, ",%s", dse_objs[k].name);
	for (k = 0; k < s->nwl; k++) {
		bprintf(b, ",%s.cycles,%s.latency_s,%s.energy_j,%s.output_error", s->wl[k].name,
		        s->wl[k].name, s->wl[k].name, s->wl[k].name);
		if (s->wl[k].has_eval)
			bprintf(b, ",%s.accuracy", s->wl[k].name);
	}
	bprintf(b, ",mode,reason\n");
}

static void
csv_row(const DseSweep *s, const DsePoint *p, const DseResult *r, Buf *b)
{
	int j, k;
	bprintf(b, "%u,%d", p->index, r->feasible);
	for (j = 0; j < s->ncols; j++) {
		bprintf(b, ",");
		csv_field(b, p->val[j] ? p->val[j] : "");
	}
	for (k = 0; k < DSE_NOBJ; k++)
		if (k != DSE_O_ACCURACY || s->accuracy)
			csv_num(b, r->feasible ? r->obj[k] : NAN);
	for (k = 0; k < s->nwl; k++) {
		if (r->feasible && k < r->nwl)
			bprintf(b, ",%" PRIu64, r->wl[k].cycles);
		else
			bprintf(b, ",");
		csv_num(b, r->feasible && k < r->nwl ? r->wl[k].latency_s : NAN);
		csv_num(b, r->feasible && k < r->nwl ? r->wl[k].energy_j : NAN);
		csv_num(b, r->feasible && k < r->nwl ? r->wl[k].output_error : NAN);
		if (s->wl[k].has_eval)
			csv_num(b, r->feasible && k < r->nwl ? r->wl[k].accuracy : NAN);
	}
	bprintf(b, ",%s,", r->estimate ? "estimate" : "simulated");
	csv_field(b, r->feasible ? "" : r->reason);
	bprintf(b, "\n");
}

static json_t *
jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
point_json(const DseSweep *s, const DsePoint *p, const DseResult *r)
{
	json_t *o = json_object(), *par = json_object(), *m = json_object(), *wl = json_object();
	int j, k;
	json_object_set_new(o, "index", json_integer(p->index));
	for (j = 0; j < s->ncols; j++)
		if (p->val[j])
			json_object_set_new(par, hw_params[s->cols[j]].path,
			                    json_string(p->val[j]));
	json_object_set_new(o, "params", par);
	json_object_set_new(o, "feasible", json_boolean(r->feasible));
	if (!r->feasible) {
		json_object_set_new(o, "reason", json_string(r->reason));
		json_decref(m);
		json_decref(wl);
		return o;
	}
	for (k = 0; k < DSE_NOBJ; k++)
		if (k != DSE_O_ACCURACY || s->accuracy)
			json_object_set_new(m, dse_objs[k].name, jnum(r->obj[k]));
	json_object_set_new(o, "metrics", m);
	for (k = 0; k < s->nwl && k < r->nwl; k++) {
		json_t *w = json_object();
		json_object_set_new(w, "cycles", json_integer((json_int_t)r->wl[k].cycles));
		json_object_set_new(w, "latency_s", jnum(r->wl[k].latency_s));
		json_object_set_new(w, "energy_j", jnum(r->wl[k].energy_j));
		json_object_set_new(w, "output_error", jnum(r->wl[k].output_error));
		if (s->wl[k].has_eval)
			json_object_set_new(w, "accuracy", jnum(r->wl[k].accuracy));
		json_object_set_new(wl, s->wl[k].name, w);
	}
	json_object_set_new(o, "workloads", wl);
	return o;
}

/* ---- fronts ---- */

static uint32_t
front_of(const DseSweep *s, const DseResult *res, uint32_t n, int a, int b, unsigned char *front)
{
	double *x = xmalloc(sizeof(double) * (n ? n : 1)),
	       *y = xmalloc(sizeof(double) * (n ? n : 1));
	unsigned char *ok = xmalloc(n ? n : 1);
	uint32_t i, c;
	(void)s;
	for (i = 0; i < n; i++) {
		ok[i] = (unsigned char)res[i].feasible;
		x[i] = signed_obj(&res[i], a);
		y[i] = signed_obj(&res[i], b);
	}
	c = dse_pareto2(x, y, ok, n, front);
	free(x), free(y), free(ok);
	return c;
}

/* front indices sorted by objective a (then b, then index), best first. */
typedef struct Key {
	double a, b;
	uint32_t i;
} Key;

static int
by_key(const void *pa, const void *pb)
{
	const Key *x = pa, *y = pb;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	if (x->b != y->b)
		return x->b < y->b ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static uint32_t *
front_sorted(const DseResult *res, uint32_t n, int a, int b, const unsigned char *front,
             uint32_t *count)
{
	uint32_t *idx = xmalloc(sizeof(uint32_t) * (n ? n : 1)), i, c = 0;
	Key *k = xmalloc(sizeof(Key) * (n ? n : 1));
	for (i = 0; i < n; i++)
		if (front[i]) {
			k[c].a = signed_obj(&res[i], a);
			k[c].b = signed_obj(&res[i], b);
			k[c++].i = i;
		}
	qsort(k, c, sizeof *k, by_key);
	for (i = 0; i < c; i++)
		idx[i] = k[i].i;
	free(k);
	*count = c;
	return idx;
}

/* ---- plots ---- */

static void
gp_quote(Buf *b, const char *s)
{
	bprintf(b, "'");
	for (; *s; s++)
		bprintf(b, *s == '\'' ? "''" : "%c", *s);
	bprintf(b, "'");
}

static int
run_gnuplot(const char *script, FILE *warn)
{
	pid_t pid;
	int st;
	char *argv[] = {"gnuplot", (char *)script, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 0x1 /* O_WRONLY */, 0);
	if (posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		fprintf(warn,
		        "kolmo dse: warning: gnuplot not found: no plots (install gnuplot-nox)\n");
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(warn, "kolmo dse: warning: gnuplot failed on %s: no plot\n", script);
		return -1;
	}
	return 0;
}

static int
plot(const DseSweep *s, const DseResult *res, uint32_t n, int a, int b, const uint32_t *fidx,
     uint32_t fc, const char *out_dir, FILE *warn, Diag *d)
{
	Buf dat = {0}, gp = {0};
	char path[1200], script[1200], img[1200], tmp[1300];
	const char *na = dse_objs[a].name, *nb = dse_objs[b].name;
	double minx = INFINITY, maxx = 0, miny = INFINITY, maxy = 0;
	uint32_t i, nfeas = 0;
	int rc = 0;
	static const char *const ext[] = {"svg", "png"};
	int e;
	bprintf(&dat, "# %s %s index (block 0: feasible points; block 1: Pareto front)\n", na, nb);
	for (i = 0; i < n; i++)
		if (res[i].feasible && !isnan(res[i].obj[a]) && !isnan(res[i].obj[b])) {
			bprintf(&dat, "%.10g %.10g %u\n", res[i].obj[a], res[i].obj[b], i);
			minx = fmin(minx, res[i].obj[a]);
			maxx = fmax(maxx, res[i].obj[a]);
			miny = fmin(miny, res[i].obj[b]);
			maxy = fmax(maxy, res[i].obj[b]);
			nfeas++;
		}
	if (!nfeas) {
		free(dat.s);
		return 0;
	}
	bprintf(&dat, "\n\n");
	for (i = 0; i < fc; i++)
		bprintf(&dat, "%.10g %.10g %u\n", res[fidx[i]].obj[a], res[fidx[i]].obj[b],
		        fidx[i]);
	snprintf(path, sizeof path, "%s/pareto_%s_%s.dat", out_dir, na, nb);
	if (write_file_atomic(path, dat.s, dat.len, d)) {
		free(dat.s);
		return -1;
	}
	for (e = 0; e < 2; e++) {
		snprintf(img, sizeof img, "%s/pareto_%s_%s.%s", out_dir, na, nb, ext[e]);
		snprintf(tmp, sizeof tmp, "%s.tmp", img);
		if (e == 0)
			bprintf(&gp, "set terminal svg size 800,600 dynamic font 'sans,12'\n");
		else
			bprintf(&gp, "set terminal pngcairo size 800,600 font 'sans,10'\n");
		bprintf(&gp, "set output ");
		gp_quote(&gp, tmp);
		bprintf(&gp, "\n");
		if (e == 0) {
			bprintf(&gp, "set title ");
			gp_quote(&gp, s->name);
			bprintf(&gp, " noenhanced\nset xlabel '%s (%s)' noenhanced\n", na,
			        dse_objs[a].unit);
			bprintf(&gp, "set ylabel '%s (%s)' noenhanced\nset grid\n", nb,
			        dse_objs[b].unit);
			bprintf(&gp, "set key top right\nset format x '%%.3s%%c'\nset format y "
			             "'%%.3s%%c'\n");
			if (minx > 0 && maxx / minx > 20)
				bprintf(&gp, "set logscale x\n");
			if (miny > 0 && maxy / miny > 20)
				bprintf(&gp, "set logscale y\n");
			bprintf(&gp, "plot ");
			gp_quote(&gp, path);
			bprintf(&gp,
			        " index 0 using 1:2 with points pt 7 ps 0.5 lc rgb '#8c96a0' "
			        "title 'feasible points (%u)', '' index 1 using 1:2 with "
			        "linespoints pt 7 ps 1.1 lw 2 lc rgb '#d62728' title 'Pareto "
			        "front (%u)'\n",
			        nfeas, fc);
		} else
			bprintf(&gp, "replot\n");
	}
	bprintf(&gp, "unset output\n");
	snprintf(script, sizeof script, "%s/pareto_%s_%s.gp", out_dir, na, nb);
	if (write_file_atomic(script, gp.s, gp.len, d))
		rc = -1;
	else if (run_gnuplot(script, warn) == 0)
		for (e = 0; e < 2; e++) {
			snprintf(img, sizeof img, "%s/pareto_%s_%s.%s", out_dir, na, nb, ext[e]);
			snprintf(tmp, sizeof tmp, "%s.tmp", img);
			if (rename(tmp, img))
				rc = diag_err(d, img, "cannot rename the plot into place: %s",
				              strerror(errno));
		}
	free(dat.s);
	free(gp.s);
	return rc;
}

/* ---- summary ---- */

static uint32_t
best_of(const DseResult *res, uint32_t n, int k)
{
	uint32_t i, best = UINT32_MAX;
	for (i = 0; i < n; i++)
		if (res[i].feasible && !isnan(res[i].obj[k]) &&
		    (best == UINT32_MAX || signed_obj(&res[i], k) < signed_obj(&res[best], k)))
			best = i;
	return best;
}

char *
dse_summary_json(const DseSweep *s, const DsePoints *pts, const DseResult *res, int fast)
{
	json_t *o = json_object(), *best = json_object(), *par = json_object();
	uint32_t i, nf = 0;
	unsigned char *front = xmalloc(pts->n ? pts->n : 1);
	char *txt;
	int k;
	for (i = 0; i < pts->n; i++)
		nf += (uint32_t)res[i].feasible;
	json_object_set_new(o, "sweep", json_string(s->name));
	json_object_set_new(o, "mode", json_string(fast ? "estimate" : "simulated"));
	json_object_set_new(o, "points", json_integer(pts->n));
	json_object_set_new(o, "feasible", json_integer(nf));
	json_object_set_new(o, "infeasible", json_integer(pts->n - nf));
	for (k = 0; k < s->nobj; k++) {
		int ob = s->obj[k];
		uint32_t b;
		json_t *e;
		b = best_of(res, pts->n, ob);
		if (b == UINT32_MAX) {
			json_object_set_new(best, dse_objs[ob].name, json_null());
			continue;
		}
		e = json_object();
		json_object_set_new(e, "index", json_integer(b));
		json_object_set_new(e, "value", jnum(res[b].obj[ob]));
		{
			json_t *pp = json_object();
			int j;
			for (j = 0; j < s->ncols; j++)
				if (pts->p[b].val[j])
					json_object_set_new(pp, hw_params[s->cols[j]].path,
					                    json_string(pts->p[b].val[j]));
			json_object_set_new(e, "params", pp);
		}
		json_object_set_new(best, dse_objs[ob].name, e);
	}
	json_object_set_new(o, "best", best);
	for (k = 0; k < s->npareto; k++) {
		int a = s->pareto[k][0], b = s->pareto[k][1];
		uint32_t c, *idx;
		json_t *arr = json_array();
		char key[64];
		front_of(s, res, pts->n, a, b, front);
		idx = front_sorted(res, pts->n, a, b, front, &c);
		for (i = 0; i < c; i++)
			json_array_append_new(arr, json_integer(idx[i]));
		free(idx);
		snprintf(key, sizeof key, "%s_%s", dse_objs[a].name, dse_objs[b].name);
		json_object_set_new(par, key, arr);
	}
	json_object_set_new(o, "pareto", par);
	free(front);
	txt = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	json_decref(o);
	return txt;
}

void
dse_summary(const DseSweep *s, const DsePoints *pts, const DseResult *res, int fast, FILE *f)
{
	uint32_t i, nf = 0;
	unsigned char *front = xmalloc(pts->n ? pts->n : 1);
	int k, j;
	for (i = 0; i < pts->n; i++)
		nf += (uint32_t)res[i].feasible;
	fprintf(f, "sweep %s: %u points, %u feasible, %u infeasible; %s\n", s->name, pts->n, nf,
	        pts->n - nf,
	        fast ? "ESTIMATED (--fast: analytic estimate, no simulation)"
	             : "simulated (cycle-level)");
	for (k = 0; k < s->nobj; k++) {
		int ob = s->obj[k];
		uint32_t b;
		b = best_of(res, pts->n, ob);
		if (b == UINT32_MAX) {
			fprintf(f, "  best %-13s none (no feasible point)\n", dse_objs[ob].name);
			continue;
		}
		fprintf(f, "  best %-13s %-12.5g %-4s point %u:", dse_objs[ob].name, res[b].obj[ob],
		        dse_objs[ob].unit, b);
		for (j = 0; j < s->ncols; j++)
			if (pts->p[b].val[j])
				fprintf(f, " %s=%s", hw_params[s->cols[j]].path, pts->p[b].val[j]);
		fprintf(f, "\n");
	}
	for (k = 0; k < s->npareto; k++) {
		int a = s->pareto[k][0], b = s->pareto[k][1];
		uint32_t c = front_of(s, res, pts->n, a, b, front);
		fprintf(f, "  pareto %s x %s: %u points (pareto_%s_%s.csv)\n", dse_objs[a].name,
		        dse_objs[b].name, c, dse_objs[a].name, dse_objs[b].name);
	}
	free(front);
}

int
dse_write_outputs(const DseSweep *s, const DsePoints *pts, const DseResult *res,
                  const char *out_dir, int fast, FILE *warn, Diag *d)
{
	Buf csv = {0};
	char path[1200], *txt;
	unsigned char *front = xmalloc(pts->n ? pts->n : 1);
	json_t *o, *arr;
	uint32_t i;
	int k, rc = -1;
	if (!warn)
		warn = stderr;

	csv_header(s, &csv);
	for (i = 0; i < pts->n; i++)
		csv_row(s, &pts->p[i], &res[i], &csv);
	snprintf(path, sizeof path, "%s/points.csv", out_dir);
	if (write_file_atomic(path, csv.s, csv.len, d))
		goto out;

	o = json_object();
	json_object_set_new(o, "sweep", json_string(s->name));
	json_object_set_new(o, "mode", json_string(fast ? "estimate" : "simulated"));
	arr = json_array();
	for (k = 0; k < s->nobj; k++)
		json_array_append_new(arr, json_string(dse_objs[s->obj[k]].name));
	json_object_set_new(o, "objectives", arr);
	arr = json_array();
	for (i = 0; i < pts->n; i++)
		json_array_append_new(arr, point_json(s, &pts->p[i], &res[i]));
	json_object_set_new(o, "points", arr);
	txt = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	json_decref(o);
	snprintf(path, sizeof path, "%s/points.json", out_dir);
	k = write_file_atomic(path, txt, strlen(txt), d);
	free(txt);
	if (k)
		goto out;

	for (k = 0; k < s->npareto; k++) {
		int a = s->pareto[k][0], b = s->pareto[k][1];
		uint32_t c, *idx, t;
		csv.len = 0;
		front_of(s, res, pts->n, a, b, front);
		idx = front_sorted(res, pts->n, a, b, front, &c);
		csv_header(s, &csv);
		for (t = 0; t < c; t++)
			csv_row(s, &pts->p[idx[t]], &res[idx[t]], &csv);
		snprintf(path, sizeof path, "%s/pareto_%s_%s.csv", out_dir, dse_objs[a].name,
		         dse_objs[b].name);
		if (write_file_atomic(path, csv.s, csv.len, d) ||
		    plot(s, res, pts->n, a, b, idx, c, out_dir, warn, d)) {
			free(idx);
			goto out;
		}
		free(idx);
	}

	txt = dse_summary_json(s, pts, res, fast);
	snprintf(path, sizeof path, "%s/summary.json", out_dir);
	k = write_file_atomic(path, txt, strlen(txt), d);
	free(txt);
	if (k)
		goto out;
	rc = 0;
out:
	free(csv.s);
	free(front);
	return rc;
}
