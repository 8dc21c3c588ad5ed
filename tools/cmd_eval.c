/* cmd_eval.c: `kolmo eval M.kir --arch A.yaml --data D`: classification accuracy of a compiled
 * model on the simulated hardware, beside the float reference, with latency and energy per
 * inference; optionally swept over a non-ideality (ADC bits, conductance variation, stuck cells,
 * read noise) and plotted with gnuplot. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccopts.h"
#include "eval.h"
#include "sim.h"

static const CliOpt opts[] = {
    CC_CLI_OPTS,
    {"data", 'D', "D",
     "dataset: a directory holding one NAME_x.npy / NAME_y.npy pair, or the prefix DIR/NAME"},
    {"json", 0, NULL, "print the results as JSON"},
    {"sweep", 0, "PARAM", "sweep adc_bits, g_sigma, stuck or read_noise (with --values)"},
    {"values", 0, "V1,V2,...", "the swept values"},
    {"out", 'o', "PLOT", "draw the sweep with gnuplot (.svg, .png or .pdf)"},
    {"adc-bits", 0, "N", "ADC resolution (mvmu.adc_bits); implies --adc-lossy tiling"},
    {"g-sigma", 0, "X", "conductance variation: relative sigma per cell slice"},
    {"stuck", 0, "P", "probability that a cell slice is stuck at 0 or its maximum"},
    {"read-noise", 0, "X", "Gaussian read noise per conversion, in partial-sum LSBs"},
    {"limit", 0, "N", "evaluate only the first N samples"},
    {NULL, 0, NULL, NULL},
};

enum { SW_NONE, SW_ADC, SW_GSIGMA, SW_STUCK, SW_NOISE };
static const char *const sweep_names[] = {"", "adc_bits", "g_sigma", "stuck", "read_noise"};
static const char *const sweep_labels[] = {"", "ADC bits", "conductance sigma (relative)",
                                           "stuck-cell probability", "read noise (LSB)"};

/* One evaluated condition: the swept value and the tally. */
typedef struct Point {
	double value;
	EvalScore sc;
} Point;

static int
parse_num(const char *opt, const char *s, double lo, double hi, double *out, Diag *d)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return diag_err(d, "kolmo", "eval: --%s wants a number in [%g, %g], not '%s'", opt,
		                lo, hi, s);
	*out = v;
	return 0;
}

static int
ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

static void
progress(uint32_t done, uint32_t total, const char *what)
{
	int w = 40, k, fill = total ? (int)((uint64_t)done * (uint64_t)w / total) : w;
	fprintf(stderr, "\r%s [", what);
	for (k = 0; k < w; k++)
		fputc(k < fill ? '#' : '.', stderr);
	fprintf(stderr, "] %u/%u", done, total);
	fflush(stderr);
}

static void
progress_clear(void)
{
	fprintf(stderr, "\r%*s\r", 100, "");
	fflush(stderr);
}

/* The progress bar of one evaluation, on stderr when it is a terminal. */
typedef struct Bar {
	const char *what;
	uint32_t every;
} Bar;

static void
bar_step(void *ctx, uint32_t done, uint32_t total)
{
	const Bar *b = ctx;
	if (done % b->every == 0 || done == total)
		progress(done, total, b->what);
}

/* Run the samples through the simulator, with a progress bar on a terminal. */
static int
eval_point(const HwArch *arch, const KProg *p, const SimOptions *so, const EvalData *ds,
           const char *what, Point *pt, Diag *d)
{
	Bar b = {what, 8};
	int tty = isatty(2), rc;
	rc = eval_sim(arch, p, so, ds, 0, tty ? bar_step : NULL, &b, &pt->sc, d);
	if (tty)
		progress_clear();
	return rc;
}

static double
pct(const Point *p)
{
	return 100.0 * eval_accuracy(&p->sc);
}

/* gnuplot, driven as a program: accuracy against the swept value, the float reference as a
 * dashed line. The plot is written to a temporary file and renamed when gnuplot succeeds. */
static int
plot(const char *path, const char *title, int sweep, const Point *pts, uint32_t np, double ref,
     Diag *d)
{
	char data[] = "/tmp/kolmo-eval-XXXXXX", tmp[1100];
	const char *term;
	FILE *f, *g;
	uint32_t i;
	int fd, st;
	if (ends_with(path, ".svg"))
		term = "svg size 720,440 dynamic font 'sans,12'";
	else if (ends_with(path, ".png"))
		term = "pngcairo size 900,560 font 'sans,11'";
	else if (ends_with(path, ".pdf"))
		term = "pdfcairo size 6in,3.7in font 'sans,10'";
	else
		return diag_err(d, path, "the plot must be .svg, .png or .pdf");
	if (strchr(path, '\'') || strchr(path, '\n'))
		return diag_err(d, path, "the plot path must not contain quotes or newlines");
	if ((fd = mkstemp(data)) < 0)
		return diag_err(d, data, "cannot create: %s", strerror(errno));
	f = fdopen(fd, "w");
	for (i = 0; i < np; i++)
		fprintf(f, "%.10g %.6f\n", pts[i].value, pct(&pts[i]));
	fclose(f);
	snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
	g = popen("gnuplot 2>&1", "w");
	if (!g) {
		unlink(data);
		return diag_err(d, "gnuplot", "cannot start: %s", strerror(errno));
	}
	fprintf(g,
	        "set terminal %s\nset output '%s'\nset title \"%s\" noenhanced\n"
	        "set xlabel '%s'\nset ylabel 'accuracy (%%)'\nset yrange [0:100]\nset grid\n"
	        "set key bottom right\n%s"
	        "plot '%s' using 1:2 with linespoints lw 2 pt 7 title 'simulated', "
	        "%.6f with lines dt 2 lw 2 title 'float reference'\n",
	        term, tmp, title, sweep_labels[sweep], sweep == SW_ADC ? "set xtics 1\n" : "", data,
	        ref);
	st = pclose(g);
	unlink(data);
	if (st != 0) {
		unlink(tmp);
		return diag_err(d, "gnuplot",
		                "failed (exit status %d); is gnuplot installed (gnuplot-nox)?",
		                WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return diag_err(d, path, "cannot write: %s", strerror(errno));
	}
	return 0;
}

static json_t *
point_json(const Point *p, int with_value)
{
	json_t *o = json_object();
	if (with_value)
		json_object_set_new(o, "value", json_real(p->value));
	const EvalScore *sc = &p->sc;
	json_object_set_new(o, "accuracy", json_real(eval_accuracy(sc)));
	json_object_set_new(o, "correct", json_integer(sc->correct));
	json_object_set_new(o, "latency_s_mean", json_real(sc->n ? sc->lat_sum / sc->n : 0));
	json_object_set_new(o, "energy_j_mean", json_real(sc->n ? sc->energy_sum / sc->n : 0));
	return o;
}

/* Compile for arch (adc_bits > 0: with that ADC resolution and lossy tiling). */
static int
compile_for(CcJob *j, HwArch *arch, int adc_bits, KProg **p, CcModel **m, Diag *d)
{
	CcOptions o = j->opt;
	*arch = j->arch;
	if (adc_bits > 0) {
		char v[16];
		snprintf(v, sizeof v, "%d", adc_bits);
		if (hw_arch_set(arch, "mvmu.adc_bits", v, d))
			return -1;
		o.adc_exact = 0;
	}
	return cc_compile(j->g, arch, &o, p, m, d);
}

static int
run(const CliCmd *cmd, CliArgs *a)
{
	CcJob j;
	Diag d = {0};
	EvalData ds;
	HwArch arch;
	KProg *p = NULL;
	SimOptions so;
	Point base, *pts = NULL;
	uint32_t np = 0, i, nin = 0, nout = 0, ref_correct = 0;
	int rc = 1, sweep = SW_NONE, adc_bits = 0;
	const char *v, *plot_path = cli_opt(cmd, a, "out");
	double x;
	CcModel *m = NULL;
	double sin, sout;

	memset(&ds, 0, sizeof ds);
	memset(&j, 0, sizeof j);
	sim_options_default(&so);
	if (!cli_opt(cmd, a, "data")) {
		diag_err(&d, "kolmo", "eval: --data D is required (NAME_x.npy and NAME_y.npy)");
		return cli_fail(&d);
	}
	if ((v = cli_opt(cmd, a, "sweep"))) {
		for (sweep = SW_ADC; sweep <= SW_NOISE && strcmp(v, sweep_names[sweep]); sweep++)
			;
		if (sweep > SW_NOISE) {
			diag_err(
			    &d, "kolmo",
			    "eval: --sweep wants adc_bits, g_sigma, stuck or read_noise, not '%s'",
			    v);
			return cli_fail(&d);
		}
		if (!cli_opt(cmd, a, "values")) {
			diag_err(&d, "kolmo", "eval: --sweep %s needs --values V1,V2,...", v);
			return cli_fail(&d);
		}
	} else if (cli_opt(cmd, a, "values") || plot_path) {
		diag_err(&d, "kolmo", "eval: --values and -o (the plot) go with --sweep");
		return cli_fail(&d);
	}
	if ((v = cli_opt(cmd, a, "adc-bits"))) {
		if (parse_num("adc-bits", v, 1, 24, &x, &d))
			return cli_fail(&d);
		if (x != floor(x)) {
			diag_err(&d, "kolmo", "eval: --adc-bits wants an integer, not '%s'", v);
			return cli_fail(&d);
		}
		adc_bits = (int)x;
	}
	if (((v = cli_opt(cmd, a, "g-sigma")) && parse_num("g-sigma", v, 0, 10, &so.g_sigma, &d)) ||
	    ((v = cli_opt(cmd, a, "stuck")) && parse_num("stuck", v, 0, 1, &so.stuck_prob, &d)) ||
	    ((v = cli_opt(cmd, a, "read-noise")) &&
	     parse_num("read-noise", v, 0, 1e6, &so.read_noise, &d)))
		return cli_fail(&d);
	if (sweep != SW_NONE) {
		char *copy = xstrdup(cli_opt(cmd, a, "values")), *tok, *save = NULL;
		static const double lim[][2] = {{0, 0}, {1, 24}, {0, 10}, {0, 1}, {0, 1e6}};
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			pts = xrealloc(pts, sizeof(Point) * (np + 1));
			memset(&pts[np], 0, sizeof(Point));
			if (parse_num("values", tok, lim[sweep][0], lim[sweep][1], &pts[np].value,
			              &d) ||
			    (sweep == SW_ADC && pts[np].value != floor(pts[np].value))) {
				if (!d.set)
					diag_err(&d, "kolmo",
					         "eval: ADC bits must be integers, not '%s'", tok);
				free(copy);
				goto out;
			}
			np++;
		}
		free(copy);
		if (!np) {
			diag_err(&d, "kolmo", "eval: --values lists no value");
			goto out;
		}
	}
	if ((v = cli_opt(cmd, a, "seed")))
		so.seed = strtoull(v, NULL, 0);

	/* Model, architecture, data; the float reference over the data. */
	if (ccjob_load(cmd, a, &j, &d) || compile_for(&j, &arch, adc_bits, &p, &m, &d))
		goto out;
	cc_model_io(m, &nin, &sin, &nout, &sout);
	if (eval_data_load(cli_opt(cmd, a, "data"), nin, nout, p->io[0].name, &ds, &d))
		goto out;
	if ((v = cli_opt(cmd, a, "limit"))) {
		if (parse_num("limit", v, 1, 4e9, &x, &d))
			goto out;
		if ((uint32_t)x < ds.n)
			ds.n = (uint32_t)x;
	}
	if (eval_float(j.g, &ds, ds.n, nout, &ref_correct, &d))
		goto out;

	/* The configured point, then the sweep. */
	if (eval_point(&arch, p, &so, &ds, "eval", &base, &d))
		goto out;
	for (i = 0; i < np; i++) {
		SimOptions o = so;
		HwArch pa;
		KProg *pp = NULL;
		char what[64];
		int r;
		snprintf(what, sizeof what, "%s=%g", sweep_names[sweep], pts[i].value);
		if (sweep == SW_ADC) {
			if (compile_for(&j, &pa, (int)pts[i].value, &pp, NULL, &d))
				goto out;
		} else {
			pa = arch;
			pp = p;
			if (sweep == SW_GSIGMA)
				o.g_sigma = pts[i].value;
			else if (sweep == SW_STUCK)
				o.stuck_prob = pts[i].value;
			else
				o.read_noise = pts[i].value;
		}
		r = eval_point(&pa, pp, &o, &ds, what, &pts[i], &d);
		if (pp != p)
			kprog_free(pp);
		if (r)
			goto out;
	}
	if (plot_path) {
		char title[512];
		snprintf(title, sizeof title, "%s on %s: accuracy vs %s (%u samples of %s)",
		         j.g->name, j.arch.name, sweep_names[sweep], ds.n, ds.name);
		if (plot(plot_path, title, sweep, pts, np, 100.0 * ref_correct / ds.n, &d))
			goto out;
	}

	if (cli_opt(cmd, a, "json")) {
		json_t *js = point_json(&base, 0), *ni = json_object();
		json_object_set_new(js, "model", json_string(j.g->name));
		json_object_set_new(js, "arch", json_string(j.arch.name));
		json_object_set_new(js, "data", json_string(ds.name));
		json_object_set_new(js, "samples", json_integer(ds.n));
		json_object_set_new(js, "reference_accuracy",
		                    json_real((double)ref_correct / ds.n));
		json_object_set_new(js, "reference_correct", json_integer(ref_correct));
		json_object_set_new(ni, "adc_bits", json_integer(arch.mvmu.adc_bits));
		json_object_set_new(ni, "adc_lossy_tiling",
		                    json_boolean(adc_bits > 0 || !j.opt.adc_exact));
		json_object_set_new(ni, "g_sigma", json_real(so.g_sigma));
		json_object_set_new(ni, "stuck_prob", json_real(so.stuck_prob));
		json_object_set_new(ni, "read_noise", json_real(so.read_noise));
		json_object_set_new(ni, "seed", json_integer((json_int_t)so.seed));
		json_object_set_new(js, "conditions", ni);
		if (sweep != SW_NONE) {
			json_t *sw = json_object(), *arr = json_array();
			for (i = 0; i < np; i++)
				json_array_append_new(arr, point_json(&pts[i], 1));
			json_object_set_new(sw, "param", json_string(sweep_names[sweep]));
			json_object_set_new(sw, "points", arr);
			json_object_set_new(js, "sweep", sw);
		}
		json_dumpf(js, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
		fputc('\n', stdout);
		json_decref(js);
	} else {
		printf("model       %s on %s, %u samples of %s\n", j.g->name, j.arch.name, ds.n,
		       ds.name);
		printf("accuracy    %.2f%% simulated (%u/%u)", pct(&base), base.sc.correct,
		       base.sc.n);
		if (adc_bits || so.g_sigma > 0 || so.stuck_prob > 0 || so.read_noise > 0)
			printf(" with adc_bits %d, g_sigma %g, stuck %g, read_noise %g",
			       arch.mvmu.adc_bits, so.g_sigma, so.stuck_prob, so.read_noise);
		printf("\nreference   %.2f%% float32 (%u/%u)\n", 100.0 * ref_correct / ds.n,
		       ref_correct, ds.n);
		printf("latency     %.4g us mean per inference\n", base.sc.lat_sum / ds.n * 1e6);
		printf("energy      %.4g nJ mean per inference\n", base.sc.energy_sum / ds.n * 1e9);
		if (sweep != SW_NONE) {
			printf("\n%-12s %9s %12s %12s\n", sweep_names[sweep], "accuracy",
			       "latency_us", "energy_nJ");
			for (i = 0; i < np; i++)
				printf("%-12g %8.2f%% %12.4g %12.4g\n", pts[i].value, pct(&pts[i]),
				       pts[i].sc.lat_sum / ds.n * 1e6,
				       pts[i].sc.energy_sum / ds.n * 1e9);
			if (plot_path)
				printf("\nplot        %s\n", plot_path);
		}
	}
	rc = 0;
out:
	if (rc)
		cli_fail(&d);
	cc_model_free(m);
	kprog_free(p);
	ccjob_free(&j);
	eval_data_free(&ds);
	free(pts);
	return rc;
}

const CliCmd cmd_eval = {
    .name = "eval",
    .summary = "accuracy of a compiled model over a dataset on the simulated hardware",
    .usage = "M.kir --arch A.yaml --data D [--json] [--sweep adc_bits|g_sigma|stuck|read_noise "
             "--values V1,V2,... [-o plot.svg]] [--seed N] [compile options]",
    .details =
        "Compiles the model once and runs every sample of D (NAME_x.npy: float [N, inputs];\n"
        "NAME_y.npy: integer labels [N]) through the cycle-level simulator, a fresh chip\n"
        "state per sample. The predicted class is the largest output. Reports the accuracy\n"
        "beside the float32 reference's, and the mean latency and energy per inference.\n"
        "Non-ideal devices use the simulator's modes (one seeded chip: the same conductance\n"
        "deviations and stuck cells for every sample); --adc-bits below the lossless width\n"
        "compiles with full crossbars so the ADC rounds and clips. --sweep evaluates each\n"
        "value in turn (adc_bits recompiles) and -o draws accuracy against it with gnuplot.",
    .opts = opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
