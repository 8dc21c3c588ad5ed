/* run.c: the parallel driver. Each process runs N worker threads that take points from a shared
 * list and evaluate them (dse_eval: private architecture, graph, program, simulator); finished
 * points become journal lines handed to the process's main thread. Rank 0 (the only process
 * without MPI) computes the pending points from the journal, keeps them as its workers' list and
 * hands chunks of it to the other ranks on request (guided: a chunk is the remaining points over
 * twice the ranks, so chunks shrink towards the end and no rank is left with a long tail). Its
 * main thread queues every finished line to the journal's writer thread (batched fdatasync, off
 * the critical path) and draws the progress bar; the other ranks' main threads ask for work
 * before their list runs dry and send their lines to rank 0. Only main threads call MPI. */
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
	uint32_t *work; /* points this process may take: rank 0 every pending point, another rank
	                   the chunks received so far */
	uint32_t nwork, next;
	size_t wcap;
	int more; /* another rank: rank 0 may still send work */
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
		while (!p->stop && p->next >= p->nwork && p->more)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop || p->next >= p->nwork) {
			p->finished++;
			pthread_cond_broadcast(&p->cv);
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		k = p->work[p->next++];
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

/* wait_lines: the finished lines (the caller frees them and the array), after waiting until
 * there is one, or every worker has finished, or (timed) ms milliseconds have passed. */
static char **
wait_lines(Pool *p, int timed, long ms, size_t *nl, int *all_done)
{
	char **lines;
	pthread_mutex_lock(&p->mu);
	if (p->qn == 0 && (timed || p->finished < p->nthreads)) {
		if (timed) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += ms * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			if (p->finished < p->nthreads)
				pthread_cond_timedwait(&p->cv, &p->mu, &ts);
			else {
				pthread_mutex_unlock(&p->mu);
				sleep_ms((unsigned)ms);
				pthread_mutex_lock(&p->mu);
			}
		} else
			while (p->qn == 0 && p->finished < p->nthreads)
				pthread_cond_wait(&p->cv, &p->mu);
	}
	lines = p->q;
	*nl = p->qn;
	p->q = NULL;
	p->qn = p->qcap = 0;
	*all_done = p->finished == p->nthreads;
	pthread_mutex_unlock(&p->mu);
	return lines;
}

static void
stop_workers(Pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
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

/* rank 0: record one finished line and queue it to the journal. */
static int
take_line(const DsePoints *pts, DseJournalWriter *jw, const char *jpath, DseResult *res,
          unsigned char *done, const char *line, Progress *pg, Diag *d)
{
	DseResult r;
	if (dse_result_parse(line, strlen(line), &r) || r.index >= pts->n ||
	    pts->p[r.index].hash != r.hash)
		return diag_err(d, jpath, "internal error: a worker sent a bad record");
	if (done[r.index])
		return 0; /* cannot happen with disjoint shares; never write a point twice */
	if (dse_jw_push(jw, line, d))
		return -1;
	done[r.index] = 1;
	res[r.index] = r;
	pg->done++;
	progress_draw(pg, 0);
	return 0;
}

/* rank 0: a chunk of the pending points for another rank (guided: the remaining points over
 * twice the ranks, at least 1; none when all are taken). */
static void
give_work(Pool *p, int dst, int nranks)
{
	uint32_t left, c;
	const uint32_t *idx;
	pthread_mutex_lock(&p->mu);
	left = p->stop ? 0 : p->nwork - p->next;
	c = (left + 2 * (uint32_t)nranks - 1) / (2 * (uint32_t)nranks);
	c = c > left ? left : c;
	idx = p->work + p->next;
	p->next += c;
	pthread_mutex_unlock(&p->mu);
	dsempi_send_work(dst, idx, c); /* the list is not reallocated on rank 0 */
}

/* another rank: a chunk from rank 0 (empty: no more work). */
static void
add_work(Pool *p, const uint32_t *idx, uint32_t n)
{
	pthread_mutex_lock(&p->mu);
	if (!n)
		p->more = 0;
	else {
		p->work = xgrow(p->work, &p->wcap, p->nwork + n, sizeof(uint32_t));
		memcpy(p->work + p->nwork, idx, sizeof(uint32_t) * n);
		p->nwork += n;
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* rank 0's main loop: lines to the journal, work to the other ranks. Returns 0 or -1 with d. */
static int
serve(Pool *p, int size, const DsePoints *pts, DseJournalWriter *jw, const char *jpath,
      DseResult *res, unsigned char *done, Progress *pg, uint32_t *by_others, Diag *d)
{
	int ranks_left = size - 1, failed = 0;
	for (;;) {
		size_t nl, k;
		int all_done;
		char **lines = wait_lines(p, ranks_left > 0, 1, &nl, &all_done);
		for (k = 0; k < nl; k++) {
			if (!failed && take_line(pts, jw, jpath, res, done, lines[k], pg, d)) {
				failed = 1;
				stop_workers(p);
			}
			free(lines[k]);
		}
		free(lines);
		if (ranks_left > 0) {
			DseMsg m;
			while (dsempi_poll(&m) != DSEMSG_NONE) {
				if (m.kind == DSEMSG_DONE)
					ranks_left--;
				else if (m.kind == DSEMSG_REQUEST)
					give_work(p, m.src, size);
				else if (m.kind == DSEMSG_RESULT && !failed) {
					if (take_line(pts, jw, jpath, res, done, m.line, pg, d)) {
						failed = 1;
						stop_workers(p);
					} else
						(*by_others)++;
				}
				free(m.line);
				free(m.idx);
			}
		}
		if (all_done && nl == 0 && ranks_left == 0)
			return failed ? -1 : 0;
	}
}

/* another rank's main loop: ask for work before the list runs dry, send the lines. */
static void
work_for_rank0(Pool *p)
{
	int asked = 0;
	for (;;) {
		size_t nl, k;
		int all_done, low;
		char **lines;
		pthread_mutex_lock(&p->mu);
		low = p->more && p->nwork - p->next <= (uint32_t)p->nthreads;
		pthread_mutex_unlock(&p->mu);
		if (low && !asked) {
			dsempi_request();
			asked = 1;
		}
		lines = wait_lines(p, 1, 1, &nl, &all_done);
		for (k = 0; k < nl; k++) {
			dsempi_send_result(lines[k]);
			free(lines[k]);
		}
		free(lines);
		{
			DseMsg m;
			while (dsempi_poll(&m) != DSEMSG_NONE) {
				if (m.kind == DSEMSG_WORK) {
					add_work(p, m.idx, m.n);
					asked = 0;
				}
				free(m.line);
				free(m.idx);
			}
		}
		if (all_done && nl == 0)
			return;
	}
}

int
dse_run(const DseSweep *s, const DsePoints *pts, const DseRunOpts *o, DseResult *res,
        DseRunInfo *info, Diag *d)
{
	DseJournal j = {-1, ""};
	DseJournalWriter jw;
	unsigned char *done = xcalloc(pts->n ? pts->n : 1, 1);
	uint32_t *pending = NULL, npending = 0, ndone = 0, i;
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
	npending = hdr.npending;
	info->skipped = pts->n - npending;

	pg.on = rank == 0 && o->progress;
	pg.total = pts->n;
	pg.done0 = pg.done = ndone;
	pg.t0 = pg.last = now_s();
	t0 = now_s();

	nthreads = o->threads < 1 ? 1 : o->threads;
	if ((uint32_t)nthreads > npending)
		nthreads = (int)npending;
	pool.s = s;
	pool.pts = pts;
	pool.o = o;
	if (rank == 0) {
		pool.work = pending; /* shared with the other ranks through give_work */
		pool.nwork = npending;
		pending = NULL;
	} else
		pool.more = npending > 0;
	pool.nthreads = nthreads;
	pthread_mutex_init(&pool.mu, NULL);
	pthread_cond_init(&pool.cv, NULL);
	th = xcalloc((size_t)nthreads + 1, sizeof(pthread_t));
	for (t = 0; t < nthreads; t++)
		if (pthread_create(&th[t], NULL, worker, &pool)) {
			KASSERT(!"pthread_create failed");
		}

	if (rank == 0) {
		int failed;
		dse_jw_start(&jw, &j);
		failed = serve(&pool, size, pts, &jw, j.path, res, done, &pg, &info->by_others, d);
		for (t = 0; t < nthreads; t++)
			pthread_join(th[t], NULL);
		if (dse_jw_finish(&jw, d) || failed) {
			/* The journal cannot be written: nothing more can be kept safely. */
			if (size > 1) {
				fprintf(stderr, "%s\n", d->msg);
				dsempi_abort(1);
			}
			goto out;
		}
		info->evaluated = pg.done - pg.done0;
	} else {
		work_for_rank0(&pool);
		for (t = 0; t < nthreads; t++)
			pthread_join(th[t], NULL);
		dsempi_send_done();
		info->evaluated = pool.next;
	}
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
	free(pool.work);
	return rc;
}
