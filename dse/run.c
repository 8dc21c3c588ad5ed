/* run.c: the parallel driver. Each process runs N worker threads that take pending points from a
 * shared counter and evaluate them (dse_eval: private architecture, graph, program, simulator);
 * finished points become journal lines handed to the process's main thread. On rank 0 (the only
 * process without MPI) the main thread appends each line to the journal (fsync'd) and draws the
 * progress bar; under MPI the other ranks' main threads send their lines to rank 0. The pending
 * list is computed by rank 0 from the journal and broadcast; rank r takes every size-th entry
 * starting at r, so no point is evaluated twice. */
#include "dse.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dsempi.h"

typedef struct Pool {
	const DseSweep *s;
	const DsePoints *pts;
	const DseRunOpts *o;
	const uint32_t *pending; /* this process's points */
	uint32_t npending, next;
	int nthreads, finished, stop;
	char **q; /* finished lines waiting for the main thread */
	size_t qn, qcap;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} Pool;

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

static void *
worker(void *arg)
{
	Pool *p = arg;
	for (;;) {
		uint32_t k;
		DseResult r;
		char *line;
		pthread_mutex_lock(&p->mu);
		if (p->stop || p->next >= p->npending) {
			p->finished++;
			pthread_cond_broadcast(&p->cv);
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		k = p->pending[p->next++];
		pthread_mutex_unlock(&p->mu);
		dse_eval(p->s, &p->pts->p[k], p->o->fast, &r);
		line = dse_result_json(p->s, &p->pts->p[k], &r);
		if (p->o->delay_ms)
			sleep_ms(p->o->delay_ms);
		pthread_mutex_lock(&p->mu);
		p->q = xgrow(p->q, &p->qcap, p->qn + 1, sizeof(char *));
		p->q[p->qn++] = line;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
}

/* ---- progress ---- */

typedef struct Progress {
	int on;
	uint32_t total, done0, done;
	double t0, last;
} Progress;

static void
progress_draw(Progress *pg, int final)
{
	double t = now_s(), el = t - pg->t0, rate;
	uint32_t run = pg->done - pg->done0, left = pg->total - pg->done;
	int w = 30, fill, i;
	char bar[64];
	if (!pg->on || (!final && t - pg->last < 0.1))
		return;
	pg->last = t;
	rate = el > 0 ? run / el : 0;
	fill = pg->total ? (int)((double)w * pg->done / pg->total) : w;
	for (i = 0; i < w; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[w] = 0;
	fprintf(stderr, "\r[%s] %u/%u %3.0f%% %7.1f pt/s", bar, pg->done, pg->total,
	        pg->total ? 100.0 * pg->done / pg->total : 100.0, rate);
	if (!final && rate > 0)
		fprintf(stderr, " ETA %5.0fs ", left / rate);
	else
		fprintf(stderr, " %6.1fs    ", el);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* rank 0: record one finished line. */
static int
take_line(const DsePoints *pts, DseJournal *j, DseResult *res, unsigned char *done,
          const char *line, Progress *pg, Diag *d)
{
	DseResult r;
	if (dse_result_parse(line, strlen(line), &r) || r.index >= pts->n ||
	    pts->p[r.index].hash != r.hash)
		return diag_err(d, j->path, "internal error: a worker sent a bad record");
	if (done[r.index])
		return 0; /* cannot happen with disjoint shares; never write a point twice */
	if (dse_journal_append(j, line, d))
		return -1;
	done[r.index] = 1;
	res[r.index] = r;
	pg->done++;
	progress_draw(pg, 0);
	return 0;
}

int
dse_run(const DseSweep *s, const DsePoints *pts, const DseRunOpts *o, DseResult *res,
        DseRunInfo *info, Diag *d)
{
	DseJournal j = {-1, ""};
	unsigned char *done = xcalloc(pts->n ? pts->n : 1, 1);
	uint32_t *pending = NULL, npending = 0, ndone = 0, *mine = NULL, nmine = 0, i;
	int rank, size, t, ok, rc = -1, nthreads;
	pthread_t *th = NULL;
	Pool pool;
	Progress pg;
	double t0;
	struct {
		uint64_t hash;
		uint32_t n, npending;
		int32_t ok;
	} hdr;

	memset(info, 0, sizeof *info);
	memset(&pool, 0, sizeof pool);
	memset(&pg, 0, sizeof pg);
	dsempi_rank(&rank, &size);
	info->rank = rank;
	info->nranks = size;
	info->npoints = pts->n;

	/* Rank 0: the journal and the pending list. */
	if (rank == 0) {
		ok = dse_journal_open(&j, o->out_dir, pts, done, res, &ndone, d) == 0;
		if (ok) {
			pending = xmalloc(sizeof(uint32_t) * (pts->n ? pts->n : 1));
			for (i = 0; i < pts->n; i++)
				if (!done[i])
					pending[npending++] = i;
		}
		hdr.hash = s->hash;
		hdr.n = pts->n;
		hdr.npending = npending;
		hdr.ok = ok;
	}
	dsempi_bcast(&hdr, sizeof hdr);
	if (!hdr.ok)
		goto out; /* rank 0 reports why; the other ranks stay quiet */
	if (rank != 0 && (hdr.hash != s->hash || hdr.n != pts->n)) {
		/* Different sweep files on different ranks: stop everyone. */
		diag_err(d, s->file, "rank %d read a different sweep than rank 0", rank);
		dsempi_abort(1);
		goto out;
	}
	if (rank != 0) {
		npending = hdr.npending;
		pending = xmalloc(sizeof(uint32_t) * (npending ? npending : 1));
	}
	dsempi_bcast(pending, sizeof(uint32_t) * npending);
	info->skipped = pts->n - npending;

	/* This rank's share: interleaved, so neighbouring (similar-cost) points spread out. */
	mine = xmalloc(sizeof(uint32_t) * (npending ? npending : 1));
	for (i = (uint32_t)rank; i < npending; i += (uint32_t)size)
		mine[nmine++] = pending[i];

	pg.on = rank == 0 && o->progress;
	pg.total = pts->n;
	pg.done0 = pg.done = ndone;
	pg.t0 = pg.last = now_s();
	t0 = now_s();

	nthreads = o->threads < 1 ? 1 : o->threads;
	if ((uint32_t)nthreads > nmine)
		nthreads = nmine ? (int)nmine : 0;
	pool.s = s;
	pool.pts = pts;
	pool.o = o;
	pool.pending = mine;
	pool.npending = nmine;
	pool.nthreads = nthreads;
	pthread_mutex_init(&pool.mu, NULL);
	pthread_cond_init(&pool.cv, NULL);
	th = xcalloc((size_t)nthreads + 1, sizeof(pthread_t));
	for (t = 0; t < nthreads; t++)
		if (pthread_create(&th[t], NULL, worker, &pool)) {
			KASSERT(!"pthread_create failed");
		}

	{
		int ranks_left = rank == 0 ? size - 1 : 0, failed = 0;
		for (;;) {
			char **lines = NULL;
			size_t nl, k;
			int all_done;
			pthread_mutex_lock(&pool.mu);
			while (pool.qn == 0 && pool.finished < nthreads) {
				if (rank == 0 && ranks_left > 0) {
					/* Wake up now and then to look at MPI messages. */
					struct timespec ts;
					clock_gettime(CLOCK_REALTIME, &ts);
					ts.tv_nsec += 2000000;
					if (ts.tv_nsec >= 1000000000) {
						ts.tv_sec++;
						ts.tv_nsec -= 1000000000;
					}
					pthread_cond_timedwait(&pool.cv, &pool.mu, &ts);
					break;
				}
				pthread_cond_wait(&pool.cv, &pool.mu);
			}
			lines = pool.q;
			nl = pool.qn;
			pool.q = NULL;
			pool.qn = pool.qcap = 0;
			all_done = pool.finished == nthreads;
			pthread_mutex_unlock(&pool.mu);
			for (k = 0; k < nl; k++) {
				if (!failed) {
					if (rank == 0) {
						if (take_line(pts, &j, res, done, lines[k], &pg,
						              d)) {
							failed = 1;
							pthread_mutex_lock(&pool.mu);
							pool.stop = 1;
							pthread_mutex_unlock(&pool.mu);
						}
					} else
						dsempi_send_result(lines[k]);
				}
				free(lines[k]);
			}
			free(lines);
			if (rank == 0 && ranks_left > 0) {
				char *line;
				int src, r;
				while ((r = dsempi_poll(&line, &src)) != 0) {
					if (r == 2) {
						ranks_left--;
						continue;
					}
					if (!failed && take_line(pts, &j, res, done, line, &pg, d))
						failed = 1;
					free(line);
				}
				if (ranks_left > 0 && all_done && nl == 0)
					sleep_ms(1);
			}
			if (all_done && nl == 0 && ranks_left == 0)
				break;
		}
		for (t = 0; t < nthreads; t++)
			pthread_join(th[t], NULL);
		if (rank != 0)
			dsempi_send_done();
		if (failed) {
			/* The journal cannot be written: nothing more can be kept safely. */
			if (size > 1) {
				fprintf(stderr, "%s\n", d->msg);
				dsempi_abort(1);
			}
			goto out;
		}
	}
	info->evaluated = rank == 0 ? pg.done - pg.done0 : nmine;
	info->seconds = now_s() - t0;
	progress_draw(&pg, 1);

	ok = 1;
	if (rank == 0) {
		for (i = 0; i < pts->n; i++)
			KASSERT(done[i]);
		ok = dse_write_outputs(s, pts, res, o->out_dir, o->fast, o->warn, d) == 0;
	}
	if (size > 1) {
		int32_t v = ok;
		dsempi_bcast(&v, sizeof v);
		ok = v; /* rank 0 reports a failure */
	}
	rc = ok ? 0 : -1;
out:
	if (th) {
		pthread_mutex_destroy(&pool.mu);
		pthread_cond_destroy(&pool.cv);
	}
	dse_journal_close(&j);
	free(th);
	free(done);
	free(pending);
	free(mine);
	return rc;
}
