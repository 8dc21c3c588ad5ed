/* dataset.c: a labelled dataset for eval.h: finding the NAME_x.npy / NAME_y.npy pair, reading and
 * checking it (shape against the model, finite samples, integer labels within the classes). */
#include "eval.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "npy.h"

static int
ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

int
eval_data_find(const char *spec, EvalData *ds, Diag *d)
{
	struct stat st;
	if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode)) {
		DIR *dir = opendir(spec);
		struct dirent *e;
		int found = 0;
		char names[1024] = "";
		if (!dir)
			return diag_err(d, spec, "cannot open directory: %s", strerror(errno));
		while ((e = readdir(dir))) {
			char y[1200];
			size_t n = strlen(e->d_name);
			if (!ends_with(e->d_name, "_x.npy") || n - 6 >= sizeof ds->name)
				continue;
			snprintf(y, sizeof y, "%s/%.*s_y.npy", spec, (int)(n - 6), e->d_name);
			if (stat(y, &st) != 0)
				continue;
			/* the lexicographically first pair is kept, the others are named */
			if (!found || strncmp(e->d_name, ds->name, n - 6) < 0)
				snprintf(ds->name, sizeof ds->name, "%.*s", (int)(n - 6),
				         e->d_name);
			found++;
			if (strlen(names) + n < sizeof names - 8)
				snprintf(names + strlen(names), sizeof names - strlen(names),
				         "%s%.*s", found > 1 ? ", " : "", (int)(n - 6), e->d_name);
		}
		closedir(dir);
		if (!found)
			return diag_err(
			    d, spec,
			    "no dataset here: need NAME_x.npy (samples) with NAME_y.npy "
			    "(labels)");
		if (found > 1)
			return diag_err(d, spec,
			                "several datasets here (%s): give the prefix, e.g. --data "
			                "%s/%s",
			                names, spec, ds->name);
		snprintf(ds->xpath, sizeof ds->xpath, "%s/%s_x.npy", spec, ds->name);
		snprintf(ds->ypath, sizeof ds->ypath, "%s/%s_y.npy", spec, ds->name);
	} else {
		const char *base = strrchr(spec, '/');
		snprintf(ds->name, sizeof ds->name, "%s", base ? base + 1 : spec);
		snprintf(ds->xpath, sizeof ds->xpath, "%s_x.npy", spec);
		snprintf(ds->ypath, sizeof ds->ypath, "%s_y.npy", spec);
	}
	return 0;
}

/* check_shapes: samples [N, nin] (any width when nin is 0), labels [N] of integers. */
static int
check_shapes(const EvalData *ds, const Npy *x, const Npy *y, uint32_t nin, const char *in_name,
             Diag *d)
{
	if (x->rank < 1 || x->dims[0] == 0 || x->dims[0] > UINT32_MAX ||
	    (nin && x->count / x->dims[0] != nin) || x->count / x->dims[0] > UINT32_MAX)
		return nin ? diag_err(d, ds->xpath,
		                      "samples must be an [N, %u] array for model input '%s' (%u "
		                      "values each)",
		                      nin, in_name, nin)
		           : diag_err(d, ds->xpath,
		                      "samples must be a non-empty [N, inputs] array");
	if (y->rank != 1 || y->dims[0] != x->dims[0])
		return diag_err(d, ds->ypath,
		                "labels must be an [N] array with N = %llu (the samples)",
		                (unsigned long long)x->dims[0]);
	if (y->type == NPY_F32 || y->type == NPY_F64)
		return diag_err(d, ds->ypath, "labels must be integers, not %s",
		                npy_type_names[y->type]);
	return 0;
}

int
eval_data_load(const char *spec, uint32_t nin, uint32_t nclass, const char *in_name, EvalData *ds,
               Diag *d)
{
	Npy x, y;
	uint64_t i;
	int rc;
	memset(ds, 0, sizeof *ds);
	if (eval_data_find(spec, ds, d) || npy_read_file(ds->xpath, 1ull << 30, &x, d))
		return -1;
	if (npy_read_file(ds->ypath, 1ull << 28, &y, d)) {
		npy_free(&x);
		return -1;
	}
	rc = check_shapes(ds, &x, &y, nin, in_name, d);
	if (!rc) {
		ds->n = (uint32_t)x.dims[0];
		ds->nin = (uint32_t)(x.count / x.dims[0]);
		ds->x = xmalloc(sizeof(float) * x.count + 1);
		ds->y = xmalloc(sizeof(int32_t) * ds->n + 1);
		ds->max_label = 0;
		for (i = 0; i < x.count && !rc; i++) {
			double v = npy_get_f64(&x, i);
			if (!isfinite(v))
				rc = diag_err(d, ds->xpath,
				              "sample %llu, element %llu is not finite",
				              (unsigned long long)(i / ds->nin),
				              (unsigned long long)(i % ds->nin));
			ds->x[i] = (float)v;
		}
		for (i = 0; i < ds->n && !rc; i++) {
			double v = npy_get_f64(&y, i);
			if (nclass && !(v >= 0 && v < nclass))
				rc = diag_err(
				    d, ds->ypath,
				    "label %llu is %g: the model has %u outputs (classes 0..%u)",
				    (unsigned long long)i, v, nclass, nclass - 1);
			else if (!(v >= 0 && v <= INT32_MAX))
				rc = diag_err(d, ds->ypath,
				              "label %llu is %g: labels are classes >= 0",
				              (unsigned long long)i, v);
			ds->y[i] = (int32_t)v;
			if (ds->y[i] > ds->max_label)
				ds->max_label = ds->y[i];
		}
	}
	npy_free(&x);
	npy_free(&y);
	if (rc) {
		eval_data_free(ds);
		return -1;
	}
	ds->hash = fnv1a64(ds->x, sizeof(float) * (size_t)ds->n * ds->nin, FNV1A64_INIT);
	ds->hash = fnv1a64(ds->y, sizeof(int32_t) * ds->n, ds->hash);
	return 0;
}

void
eval_data_free(EvalData *ds)
{
	free(ds->x);
	free(ds->y);
	ds->x = NULL;
	ds->y = NULL;
	ds->n = 0;
}
