/* cmd_sim.c: `kolmo sim M.kelf --arch A.yaml`: run a binary on the cycle-level simulator. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "npy.h"
#include "sim.h"

static const CliOpt opts[] = {
    {"arch", 'a', "A.yaml", "architecture config (required)"},
    {"input", 'i', "[NAME=]X.npy",
     "input tensor(s), comma-separated; a bare path is the first input"},
    {"out", 'o', "DIR", "write one NAME.npy per output tensor into DIR"},
    {"raw", 0, NULL, "write outputs as the raw integers instead of dequantised float32"},
    {"stats", 0, "S.json", "write the statistics as JSON"},
    {"trace", 0, "T.json", "write a Chrome trace-event file (opens in Perfetto)"},
    {"json", 0, NULL, "print the statistics as JSON instead of the report"},
    {"max-cycles", 0, "N", "fault past this many cycles (default 10^12)"},
    {"max-insns", 0, "N", "fault past this many instructions (default 10^11)"},
    {"seed", 0, "N", "seed for the non-ideal device modes (default 0)"},
    {"g-sigma", 0, "X", "conductance variation: relative sigma per cell (default 0)"},
    {"stuck", 0, "P", "probability that a cell slice is stuck at 0 or its maximum"},
    {"read-noise", 0, "X", "Gaussian read noise per conversion, in partial-sum LSBs"},
    {NULL, 0, NULL, NULL},
};

static int
parse_num(const char *opt, const char *s, double lo, double hi, double *out, Diag *d)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return diag_err(d, "kolmo", "sim: --%s wants a number in [%g, %g], not '%s'", opt,
		                lo, hi, s);
	*out = v;
	return 0;
}

/* Convert an .npy array to the I/O map's integers: integer arrays are taken as they are (they
 * must fit), float arrays are quantised with the tensor's scale (round half away from zero). */
static int
load_input(Sim *s, const KTensor *t, const char *path, Diag *d)
{
	Npy a;
	uint64_t n = 1, i, sat = 0;
	unsigned sz = isa_type_size(t->type);
	int64_t lo = t->type == TY_I8 ? INT8_MIN : t->type == TY_I16 ? INT16_MIN : INT32_MIN;
	int64_t hi = t->type == TY_I8 ? INT8_MAX : t->type == TY_I16 ? INT16_MAX : INT32_MAX;
	unsigned char *buf;
	int r;
	for (i = 0; i < t->rank; i++)
		n *= t->dims[i];
	if (npy_read_file(path, 1ull << 32, &a, d))
		return -1;
	if (a.count != n) {
		npy_free(&a);
		return diag_err(d, path, "input '%s' needs %llu elements, the file has %llu",
		                t->name, (unsigned long long)n, (unsigned long long)a.count);
	}
	buf = xmalloc(n * sz + 1);
	for (i = 0; i < n; i++) {
		double v = npy_get_f64(&a, i);
		int64_t q;
		if (a.type == NPY_F32 || a.type == NPY_F64) {
			if (!isfinite(v)) {
				free(buf);
				npy_free(&a);
				return diag_err(d, path, "input '%s' element %llu is not finite",
				                t->name, (unsigned long long)i);
			}
			v /= t->scale;
			q = (int64_t)(v < 0 ? -floor(-v + 0.5) : floor(v + 0.5));
			if (q < lo || q > hi) {
				q = q < lo ? lo : hi;
				sat++;
			}
		} else {
			q = (int64_t)v;
			if (q < lo || q > hi) {
				free(buf);
				npy_free(&a);
				return diag_err(d, path,
				                "input '%s' element %llu = %lld does not fit in %s",
				                t->name, (unsigned long long)i, (long long)q,
				                isa_type_names[t->type]);
			}
		}
		memcpy(buf + i * sz, &q, sz); /* little-endian: low bytes */
	}
	npy_free(&a);
	if (sat)
		fprintf(
		    stderr,
		    "kolmo sim: warning: %llu of %llu values of input '%s' were outside the range "
		    "of its quantisation (scale %g) and saturated\n",
		    (unsigned long long)sat, (unsigned long long)n, t->name, t->scale);
	r = sim_set_input(s, t->name, buf, n * sz, d);
	free(buf);
	return r;
}

static int
set_inputs(Sim *s, const KProg *p, const char *spec, Diag *d)
{
	char *copy = xstrdup(spec), *tok, *save = NULL;
	int first = 1, r = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !r; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		const KTensor *t = NULL;
		uint32_t i;
		const char *path = tok;
		if (eq) {
			*eq = 0;
			path = eq + 1;
		}
		for (i = 0; i < p->nio; i++) {
			if (p->io[i].dir != KDIR_IN)
				continue;
			if (eq ? strcmp(p->io[i].name, tok) == 0 : first) {
				t = &p->io[i];
				break;
			}
		}
		first = 0;
		if (!t) {
			r = diag_err(d, "kolmo", "sim: the binary has no input %s%s%s",
			             eq ? "named '" : "", eq ? tok : "to take", eq ? "'" : "");
			break;
		}
		r = load_input(s, t, path, d);
	}
	free(copy);
	return r;
}

static int
write_outputs(Sim *s, const KProg *p, const char *dir, int raw, Diag *d)
{
	uint32_t i, k;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return diag_err(d, dir, "cannot create directory: %s", strerror(errno));
	for (i = 0; i < p->nio; i++) {
		const KTensor *t = &p->io[i];
		char path[1200];
		size_t bytes, n, j;
		const unsigned char *src;
		uint64_t dims[KELF_MAX_RANK];
		int r;
		if (t->dir != KDIR_OUT)
			continue;
		src = sim_output(s, t->name, &bytes, d);
		if (!src)
			return -1;
		for (k = 0; k < t->rank; k++)
			dims[k] = t->dims[k];
		snprintf(path, sizeof path, "%s/%s.npy", dir, t->name);
		n = bytes / isa_type_size(t->type);
		if (raw) {
			static const int nt[TY_COUNT] = {NPY_I8, NPY_I16, NPY_I32};
			r = npy_write_file(path, nt[t->type], t->rank, dims, src, d);
		} else {
			float *f = xmalloc(n * sizeof(float) + 1);
			for (j = 0; j < n; j++) {
				int64_t v;
				if (t->type == TY_I8)
					v = (int8_t)src[j];
				else if (t->type == TY_I16) {
					int16_t h;
					memcpy(&h, src + 2 * j, 2);
					v = h;
				} else {
					int32_t w;
					memcpy(&w, src + 4 * j, 4);
					v = w;
				}
				f[j] = (float)((double)v * t->scale);
			}
			r = npy_write_file(path, NPY_F32, t->rank, dims, f, d);
			free(f);
		}
		if (r)
			return -1;
	}
	return 0;
}

/* blame: prefix a location-less library error with the binary's name. */
static void
blame(Diag *d, const char *file)
{
	char msg[DIAG_MAX];
	if (strncmp(d->msg, "error: ", 7) != 0)
		return;
	snprintf(msg, sizeof msg, "%s", d->msg + 7);
	d->set = 0;
	diag_err(d, file, "%s", msg);
}

static int
run(const CliCmd *cmd, CliArgs *a)
{
	Diag d = {0};
	HwArch arch;
	KProg *prog = NULL;
	Sim *s = NULL;
	SimOptions o;
	const char *v;
	double x;
	int rc = 1;

	sim_options_default(&o);
	if (!cli_opt(cmd, a, "arch")) {
		diag_err(&d, "kolmo", "sim: --arch A.yaml is required");
		return cli_fail(&d);
	}
	if ((v = cli_opt(cmd, a, "max-cycles"))) {
		if (parse_num("max-cycles", v, 1, 1e18, &x, &d))
			return cli_fail(&d);
		o.max_cycles = (uint64_t)x;
	}
	if ((v = cli_opt(cmd, a, "max-insns"))) {
		if (parse_num("max-insns", v, 1, 1e18, &x, &d))
			return cli_fail(&d);
		o.max_insns = (uint64_t)x;
	}
	if ((v = cli_opt(cmd, a, "seed"))) {
		if (parse_num("seed", v, 0, 1.8e19, &x, &d))
			return cli_fail(&d);
		o.seed = (uint64_t)x;
	}
	if ((v = cli_opt(cmd, a, "g-sigma")) && parse_num("g-sigma", v, 0, 10, &o.g_sigma, &d))
		return cli_fail(&d);
	if ((v = cli_opt(cmd, a, "stuck")) && parse_num("stuck", v, 0, 1, &o.stuck_prob, &d))
		return cli_fail(&d);
	if ((v = cli_opt(cmd, a, "read-noise")) &&
	    parse_num("read-noise", v, 0, 1e6, &o.read_noise, &d))
		return cli_fail(&d);
	o.trace_path = cli_opt(cmd, a, "trace");

	if (hw_arch_load(&arch, cli_opt(cmd, a, "arch"), &d) ||
	    kelf_read_file(a->pos[0], &prog, &d))
		goto out;
	if (sim_new(&arch, prog, &o, &s, &d)) {
		blame(&d, a->pos[0]);
		goto out;
	}
	if ((v = cli_opt(cmd, a, "input")) && set_inputs(s, prog, v, &d))
		goto out;
	if (sim_run(s, &d)) {
		blame(&d, a->pos[0]);
		goto out;
	}
	if ((v = cli_opt(cmd, a, "out")) &&
	    write_outputs(s, prog, v, cli_opt(cmd, a, "raw") != NULL, &d))
		goto out;
	{
		json_t *j = sim_stats_json(s, &arch);
		if ((v = cli_opt(cmd, a, "stats"))) {
			char *txt = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS |
			                              JSON_REAL_PRECISION(10));
			int r = write_file_atomic(v, txt, strlen(txt), &d);
			free(txt);
			if (r) {
				json_decref(j);
				goto out;
			}
		}
		if (cli_opt(cmd, a, "json")) {
			json_dumpf(j, stdout,
			           JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
			fputc('\n', stdout);
		} else {
			sim_report(s, &arch, stdout);
		}
		json_decref(j);
	}
	rc = 0;
out:
	if (rc)
		cli_fail(&d);
	sim_free(s);
	kprog_free(prog);
	return rc;
}

const CliCmd cmd_sim = {
    .name = "sim",
    .summary = "run a binary on the cycle-level simulator: outputs, latency, energy",
    .usage = "M.kelf --arch A.yaml [--input X.npy] [--out DIR] [--stats S.json] [--trace T.json]",
    .details = "Runs every core of the binary on the architecture, functionally exact (ideal\n"
               "mode is bit-exact) and timed by the rules of docs/timing.md. Prints latency,\n"
               "energy by component and by layer; --stats and --json give the JSON described\n"
               "in docs/sim.md. Float inputs are quantised with the binary's input scale.",
    .opts = opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
