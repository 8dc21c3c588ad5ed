/* trace.c: Chrome trace-event JSON (opens in Perfetto and chrome://tracing): one process per
 * tile, one track per unit of each core, one complete event per instruction that occupies a unit.
 * Written through a temporary file that is renamed into place only when the run succeeds. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simint.h"

enum { TRACE_MAX_EVENTS = 2000000, TRACE_BUF = 1 << 20 };

struct SimTrace {
	OutFile out;
	char *buf;
	size_t len;
	uint64_t events;
	int failed;
	Diag err;
	uint8_t named[65536 / 8]; /* tracks already named, by tid within a tile (bit set) */
};

static void
flush(SimTrace *t)
{
	if (t->len && !t->failed && outfile_write(&t->out, t->buf, t->len, &t->err))
		t->failed = 1;
	t->len = 0;
}

static void emit(SimTrace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
emit(SimTrace *t, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (TRACE_BUF - t->len < 512)
		flush(t);
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, TRACE_BUF - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n;
}

int
sim_trace_open(Sim *s, const char *path, Diag *d)
{
	SimTrace *t = xcalloc(1, sizeof *t);
	if (outfile_open(&t->out, path, d)) {
		free(t);
		return -1;
	}
	t->buf = xmalloc(TRACE_BUF);
	emit(t, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"clock_hz\":%.6g},\"traceEvents\":[\n",
	     s->p.clock_hz);
	s->trace = t;
	return 0;
}

void
sim_trace_insn(Sim *s, const Core *c, const Insn *in, uint64_t start, uint64_t cycles)
{
	SimTrace *t = s->trace;
	const IsaInfo *info = isa_info(in->op);
	unsigned unit = info->unit;
	uint32_t tid = c->idx * U_COUNT + unit;
	double us_per_cycle = 1e6 / s->p.clock_hz;
	uint64_t dur = cycles;
	if (t->events >= TRACE_MAX_EVENTS)
		return;
	if (in->op == OP_mvm || in->op == OP_xbw || in->op == OP_xbwt) {
		/* Show the MVMU's own busy time on its track. */
		dur = c->mvmu[in->unit].busy_until - start;
	}
	if (tid < 65536 && !(t->named[tid / 8] & (1u << (tid % 8)))) {
		t->named[tid / 8] |= (uint8_t)(1u << (tid % 8));
		emit(t,
		     "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":%u,"
		     "\"args\":{\"name\":\"core %u %s\"}},\n",
		     c->tile, tid, c->idx, isa_unit_names[unit]);
	}
	emit(t,
	     "{\"name\":\"%s\",\"ph\":\"X\",\"pid\":%u,\"tid\":%u,\"ts\":%.6f,\"dur\":%.6f,"
	     "\"args\":{\"pc\":%u}},\n",
	     info->name, c->tile, tid, (double)start * us_per_cycle, (double)dur * us_per_cycle,
	     c->pc);
	t->events++;
}

int
sim_trace_close(Sim *s, int commit, Diag *d)
{
	SimTrace *t = s->trace;
	int r = 0;
	uint32_t i;
	s->trace = NULL;
	if (commit) {
		for (i = 0; i < s->p.tiles && i < 4096; i++)
			emit(
			    t,
			    "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%u,\"args\":{\"name\":"
			    "\"tile %u\"}},\n",
			    i, i);
		emit(t,
		     "{\"name\":\"end\",\"ph\":\"i\",\"pid\":0,\"tid\":0,\"ts\":%.6f,\"s\":\"g\"}"
		     "\n]}\n",
		     (double)s->stats.cycles * 1e6 / s->p.clock_hz);
		flush(t);
	}
	if (commit && !t->failed) {
		if (outfile_commit(&t->out, d))
			r = -1;
	} else {
		if (commit && t->failed && d)
			*d = t->err;
		r = commit ? -1 : 0;
		outfile_abort(&t->out);
	}
	free(t->buf);
	free(t);
	return r;
}
