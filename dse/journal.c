/* journal.c: the crash-safe record of finished points: OUT/journal.jsonl, one compact JSON line
 * per point (index, parameter hash, results), appended in batches of whole lines (one write()
 * and one fdatasync each) by a writer thread. A kill at any moment leaves whole lines plus at
 * most one torn last line, which the next run drops before appending. */
#include "dse.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

enum { JSON_FLAGS = JSON_COMPACT | JSON_REAL_PRECISION(17) };

static json_t *
num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

char *
dse_result_json(const DseSweep *s, const DsePoint *p, const DseResult *r)
{
	json_t *o = json_object(), *par = json_object(), *wl = json_array();
	char h[32], *txt, *line;
	size_t n;
	int j;
	snprintf(h, sizeof h, "%016" PRIx64, r->hash);
	json_object_set_new(o, "i", json_integer(r->index));
	json_object_set_new(o, "h", json_string(h));
	for (j = 0; j < s->ncols; j++)
		if (p->val[j])
			json_object_set_new(par, hw_params[s->cols[j]].path,
			                    json_string(p->val[j]));
	json_object_set_new(o, "params", par);
	json_object_set_new(o, "feasible", json_boolean(r->feasible));
	json_object_set_new(o, "estimate", json_boolean(r->estimate));
	if (!r->feasible)
		json_object_set_new(o, "reason", json_string(r->reason));
	else {
		for (j = 0; j < DSE_NOBJ; j++)
			if (j != DSE_O_ACCURACY || s->accuracy)
				json_object_set_new(o, dse_objs[j].name, num(r->obj[j]));
		for (j = 0; j < r->nwl; j++) {
			json_t *w = json_object();
			json_object_set_new(w, "cycles", json_integer((json_int_t)r->wl[j].cycles));
			json_object_set_new(w, "latency_s", num(r->wl[j].latency_s));
			json_object_set_new(w, "energy_j", num(r->wl[j].energy_j));
			json_object_set_new(w, "output_error", num(r->wl[j].output_error));
			if (j < s->nwl && s->wl[j].has_eval)
				json_object_set_new(w, "accuracy", num(r->wl[j].accuracy));
			json_array_append_new(wl, w);
		}
	}
	json_object_set_new(o, "wl", wl);
	txt = json_dumps(o, JSON_FLAGS);
	json_decref(o);
	KASSERT(txt);
	n = strlen(txt);
	line = xmalloc(n + 2);
	memcpy(line, txt, n);
	line[n] = '\n';
	line[n + 1] = 0;
	free(txt);
	return line;
}

static double
get_num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

int
dse_result_parse(const char *line, size_t len, DseResult *r)
{
	json_error_t err;
	json_t *o = json_loadb(line, len, 0, &err), *v, *wl;
	int j;
	size_t k;
	if (!o)
		return -1;
	memset(r, 0, sizeof *r);
	for (j = 0; j < DSE_NOBJ; j++)
		r->obj[j] = NAN;
	v = json_object_get(o, "i");
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
		goto bad;
	r->index = (uint32_t)json_integer_value(v);
	v = json_object_get(o, "h");
	if (!json_is_string(v))
		goto bad;
	r->hash = strtoull(json_string_value(v), NULL, 16);
	r->feasible = json_is_true(json_object_get(o, "feasible"));
	r->estimate = json_is_true(json_object_get(o, "estimate"));
	if (!r->feasible) {
		v = json_object_get(o, "reason");
		snprintf(r->reason, sizeof r->reason, "%s",
		         json_is_string(v) ? json_string_value(v) : "?");
	} else
		for (j = 0; j < DSE_NOBJ; j++)
			r->obj[j] = get_num(o, dse_objs[j].name);
	wl = json_object_get(o, "wl");
	if (!json_is_array(wl) || json_array_size(wl) > DSE_MAX_WL)
		goto bad;
	r->nwl = (int)json_array_size(wl);
	for (k = 0; k < json_array_size(wl); k++) {
		json_t *w = json_array_get(wl, k);
		v = json_object_get(w, "cycles");
		r->wl[k].cycles = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
		r->wl[k].latency_s = get_num(w, "latency_s");
		r->wl[k].energy_j = get_num(w, "energy_j");
		r->wl[k].output_error = get_num(w, "output_error");
		r->wl[k].accuracy = get_num(w, "accuracy");
	}
	json_decref(o);
	return 0;
bad:
	json_decref(o);
	return -1;
}

int
dse_journal_open(DseJournal *j, const char *out_dir, const DsePoints *pts, unsigned char *done,
                 DseResult *res, uint32_t *ndone, Diag *d)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, pos = 0, good = 0;
	int lineno = 0;
	*ndone = 0;
	j->fd = -1;
	if (mkdir(out_dir, 0777) && errno != EEXIST)
		return diag_err(d, out_dir, "cannot create the output directory: %s",
		                strerror(errno));
	snprintf(j->path, sizeof j->path, "%s/journal.jsonl", out_dir);
	j->fd = open(j->path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (j->fd < 0)
		return diag_err(d, j->path, "cannot open: %s", strerror(errno));
	if (flock(j->fd, LOCK_EX | LOCK_NB)) {
		close(j->fd);
		j->fd = -1;
		return diag_err(d, j->path,
		                "another kolmo dse is writing this journal (use another -o)");
	}
	if (fstat(j->fd, &st))
		return diag_err(d, j->path, "cannot stat: %s", strerror(errno));
	if (st.st_size > 0) {
		ssize_t r;
		buf = xmalloc((size_t)st.st_size + 1);
		while (len < (size_t)st.st_size &&
		       (r = pread(j->fd, buf + len, (size_t)st.st_size - len, (off_t)len)) > 0)
			len += (size_t)r;
	}
	while (pos < len) {
		char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		DseResult r;
		lineno++;
		if (!nl || dse_result_parse(buf + pos, n, &r)) {
			/* A torn line is only acceptable at the very end. */
			if (nl && (size_t)(nl - buf) + 1 < len) {
				free(buf);
				return diag_at(
				    d, j->path, lineno, 1, NULL,
				    "corrupt journal line (not a complete record); remove "
				    "the journal to start over");
			}
			break;
		}
		if (r.index >= pts->n || pts->p[r.index].hash != r.hash) {
			free(buf);
			return diag_at(d, j->path, lineno, 1, NULL,
			               "this journal was written by a different sweep (point %u "
			               "has other parameters, workloads or mode); use another -o "
			               "or delete it",
			               r.index);
		}
		if (!done[r.index]) {
			done[r.index] = 1;
			res[r.index] = r;
			(*ndone)++;
		}
		pos += n + 1;
		good = pos;
	}
	free(buf);
	if (good < len && ftruncate(j->fd, (off_t)good))
		return diag_err(d, j->path, "cannot drop the torn last line: %s", strerror(errno));
	if (lseek(j->fd, 0, SEEK_END) < 0)
		return diag_err(d, j->path, "cannot seek: %s", strerror(errno));
	return 0;
}

int
dse_journal_append(DseJournal *j, const char *line, Diag *d)
{
	size_t n = strlen(line), off = 0;
	while (off < n) {
		ssize_t w = write(j->fd, line + off, n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return diag_err(d, j->path, "write failed: %s", strerror(errno));
		}
		off += (size_t)w;
	}
	if (fdatasync(j->fd))
		return diag_err(d, j->path, "fdatasync failed: %s", strerror(errno));
	return 0;
}

/* ---- the writer thread ---- */

static void *
jw_main(void *arg)
{
	DseJournalWriter *w = arg;
	char *buf = NULL;
	size_t cap = 0;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		char *t;
		size_t tc;
		Diag d = {0};
		int rc;
		while (!w->len && !w->closing)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->len)
			break;
		/* Take the waiting lines and write them without the lock. */
		t = w->buf, w->buf = buf, buf = t;
		tc = w->cap, w->cap = cap, cap = tc;
		w->len = 0;
		if (w->buf)
			w->buf[0] = 0;
		pthread_mutex_unlock(&w->mu);
		rc = w->failed ? 0 : dse_journal_append(w->j, buf, &d);
		pthread_mutex_lock(&w->mu);
		w->batches++;
		if (rc && !w->failed) {
			w->failed = 1;
			w->d = d;
		}
	}
	pthread_mutex_unlock(&w->mu);
	free(buf);
	return NULL;
}

void
dse_jw_start(DseJournalWriter *w, DseJournal *j)
{
	memset(w, 0, sizeof *w);
	w->j = j;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->th, NULL, jw_main, w))
		KASSERT(!"pthread_create failed");
}

int
dse_jw_push(DseJournalWriter *w, const char *line, Diag *d)
{
	size_t n = strlen(line);
	int failed;
	pthread_mutex_lock(&w->mu);
	failed = w->failed;
	if (failed)
		*d = w->d;
	else {
		w->buf = xgrow(w->buf, &w->cap, w->len + n + 1, 1);
		memcpy(w->buf + w->len, line, n + 1);
		w->len += n;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return failed ? -1 : 0;
}

int
dse_jw_finish(DseJournalWriter *w, Diag *d)
{
	int failed;
	pthread_mutex_lock(&w->mu);
	w->closing = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	failed = w->failed;
	if (failed)
		*d = w->d;
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->buf);
	w->buf = NULL;
	return failed ? -1 : 0;
}

void
dse_journal_close(DseJournal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}
