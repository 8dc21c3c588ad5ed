/* cmd_dse.c: `kolmo dse S.yaml [-j N] [-o OUT] [--fast] [--json]`: a design-space sweep. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "dse.h"

static const CliOpt opts[] = {
    {"jobs", 'j', "N", "worker threads in this process (default 1)"},
    {"out", 'o', "OUT", "output directory (default: dse-<sweep name>)"},
    {"fast", 0, NULL,
     "no simulation: an analytic ESTIMATE from the compiled program and the timing rules"},
    {"json", 0, NULL, "print the summary as JSON (keys in docs/dse.md)"},
    {"no-progress", 0, NULL, "no progress bar (it is drawn only when stderr is a terminal)"},
    {"delay-ms", 0, "MS", "sleep MS after each point (for demonstrating and testing resume)"},
    {NULL, 0, NULL, NULL},
};

static int
num_opt(const CliCmd *cmd, const CliArgs *a, const char *name, long lo, long hi, long *out, Diag *d)
{
	const char *v = cli_opt(cmd, a, name);
	char *end;
	if (!v)
		return 0;
	errno = 0;
	*out = strtol(v, &end, 10);
	if (errno || *end || end == v || *out < lo || *out > hi)
		return diag_err(d, "kolmo", "dse: --%s wants a number from %ld to %ld, not '%s'",
		                name, lo, hi, v);
	return 0;
}

static int
run(const CliCmd *cmd, CliArgs *a)
{
	DseSweep s;
	DsePoints pts;
	DseRunOpts o;
	DseRunInfo info;
	DseResult *res = NULL;
	Diag d = {0};
	long jobs = 1, delay = 0;
	char outbuf[1024];
	int rank = 0, size, ok, rc = 1, loaded = 0, r0;

	memset(&pts, 0, sizeof pts);
	size = dse_mpi_init(NULL, NULL, &rank);
	ok = num_opt(cmd, a, "jobs", 1, 1024, &jobs, &d) == 0 &&
	     num_opt(cmd, a, "delay-ms", 0, 600000, &delay, &d) == 0;
	if (ok) {
		ok = dse_sweep_load(&s, a->pos[0], &d) == 0;
		loaded = ok;
	}
	if (ok)
		ok = dse_points(&s, cli_opt(cmd, a, "fast") != NULL, &pts, &d) == 0;
	/* Every rank loads the sweep; rank 0 speaks for an error it shares. */
	r0 = dse_mpi_bcast_int(ok);
	if (!dse_mpi_agree(ok)) {
		if (!ok && (rank == 0 || r0))
			cli_fail(&d);
		goto out;
	}
	memset(&o, 0, sizeof o);
	o.threads = (int)jobs;
	o.fast = cli_opt(cmd, a, "fast") != NULL;
	o.delay_ms = (unsigned)delay;
	o.progress = !cli_opt(cmd, a, "no-progress") && isatty(2);
	o.out_dir = cli_opt(cmd, a, "out");
	if (!o.out_dir) {
		snprintf(outbuf, sizeof outbuf, "dse-%s", s.name);
		o.out_dir = outbuf;
	}
	res = xcalloc(pts.n ? pts.n : 1, sizeof(DseResult));
	if (dse_run(&s, &pts, &o, res, &info, &d)) {
		if (d.set)
			cli_fail(&d);
		goto out;
	}
	if (rank == 0) {
		double rate = info.seconds > 0 ? info.evaluated / info.seconds : 0;
		if (cli_opt(cmd, a, "json")) {
			char *txt = dse_summary_json(&s, &pts, res, o.fast);
			json_error_t err;
			json_t *js = json_loads(txt, JSON_DECODE_ANY, &err), *r = json_object();
			free(txt);
			json_object_set_new(r, "evaluated", json_integer(info.evaluated));
			json_object_set_new(r, "from_journal", json_integer(info.skipped));
			json_object_set_new(r, "seconds", json_real(info.seconds));
			json_object_set_new(r, "points_per_s", json_real(rate));
			json_object_set_new(r, "threads", json_integer(o.threads));
			json_object_set_new(r, "ranks", json_integer(size));
			json_object_set_new(r, "by_other_ranks", json_integer(info.by_others));
			json_object_set_new(js, "run", r);
			json_object_set_new(js, "out", json_string(o.out_dir));
			json_dumpf(js, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			fputc('\n', stdout);
			json_decref(js);
		} else {
			dse_summary(&s, &pts, res, o.fast, stdout);
			printf(
			    "  run: %u evaluated (%u from the journal) in %.2f s, %.1f points/s, "
			    "%d thread%s x %d rank%s; outputs in %s/\n",
			    info.evaluated, info.skipped, info.seconds, rate, o.threads,
			    o.threads == 1 ? "" : "s", size, size == 1 ? "" : "s", o.out_dir);
		}
	}
	rc = 0;
out:
	free(res);
	dse_points_free(&pts);
	if (loaded)
		dse_sweep_free(&s);
	dse_mpi_finalize();
	return rc;
}

const CliCmd cmd_dse = {
    .name = "dse",
    .summary = "design-space sweep: points, Pareto fronts, plots (threads; mpirun for ranks)",
    .usage = "S.yaml [-j N] [-o OUT] [--fast] [--json]",
    .details =
        "Evaluates every point of the sweep file S.yaml (docs/dse.md): sets its parameters on\n"
        "the base architecture, compiles each workload, simulates it (or estimates it with\n"
        "--fast) and prices energy, area and power. Writes OUT/points.csv, points.json,\n"
        "pareto_<a>_<b>.csv with .svg/.png plots, summary.json, and OUT/journal.jsonl, the\n"
        "record of finished points: running the same command again (after a crash or kill)\n"
        "skips them. Under `mpirun -np N kolmo dse S.yaml` the ranks share the points and\n"
        "rank 0 writes the outputs.",
    .opts = opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
