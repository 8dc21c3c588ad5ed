/* plot.c: plots drawn by gnuplot run as a program (Debian gnuplot-nox): a data file and a script
 * are written to a private temporary directory, gnuplot renders into a temporary file next to
 * the target, and the file is renamed onto the target only when gnuplot succeeded and wrote
 * something. Also the hierarchical roofline picture of a model. */
#include "roofline.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int
rf_gnuplot_find(char *buf, size_t n)
{
	const char *env = getenv("KOLMO_GNUPLOT"), *path = getenv("PATH"), *p;
	if (env && *env) {
		snprintf(buf, n, "%s", env);
		return access(buf, X_OK) == 0 ? 0 : -1;
	}
	for (p = path ? path : "/usr/bin:/bin"; *p;) {
		const char *e = strchr(p, ':');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		snprintf(buf, n, "%.*s/gnuplot", (int)len, len ? p : ".");
		if (access(buf, X_OK) == 0)
			return 0;
		p += len + (e ? 1 : 0);
	}
	buf[0] = 0;
	return -1;
}

/* A gnuplot single-quoted string: '' stands for a quote; no newlines. */
static void
quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; s && *s; s++) {
		if (*s == '\'')
			fputs("''", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static int
write_data(const RfPlot *p, const char *path, Diag *d)
{
	FILE *f = fopen(path, "w");
	int i, k;
	if (!f)
		return diag_err(d, path, "cannot write plot data: %s", strerror(errno));
	for (i = 0; i < p->nseries; i++) {
		const RfSeries *s = &p->series[i];
		fprintf(f, "# series %d\n", i);
		for (k = 0; k < s->n; k++) {
			if (!(s->x[k] > 0 || !p->logx) || !(s->y[k] > 0 || !p->logy) ||
			    !isfinite(s->x[k]) || !isfinite(s->y[k]))
				continue;
			fprintf(f, "%.10g %.10g", s->x[k], s->y[k]);
			if (s->style == RF_LABELS) {
				const char *l = s->labels ? s->labels[k] : "";
				fputs(" \"", f);
				for (; *l; l++)
					if (*l != '"' && *l != '\n')
						fputc(*l, f);
				fputc('"', f);
			}
			fputc('\n', f);
		}
		fprintf(f, "\n\n");
	}
	if (fclose(f) != 0)
		return diag_err(d, path, "cannot write plot data: %s", strerror(errno));
	return 0;
}

static int
write_script(const RfPlot *p, const char *script, const char *data, const char *out, int svg,
             Diag *d)
{
	FILE *f = fopen(script, "w");
	int i, first = 1, any = 0;
	if (!f)
		return diag_err(d, script, "cannot write plot script: %s", strerror(errno));
	if (svg)
		fprintf(f, "set terminal svg size 960,680 dynamic noenhanced font 'Helvetica,12' "
		           "background rgb 'white'\n");
	else
		fprintf(f, "set terminal pngcairo size 960,680 noenhanced font 'Helvetica,11'\n");
	fputs("set output ", f);
	quote(f, out);
	fputs("\nset title ", f);
	quote(f, p->title);
	fputs("\nset xlabel ", f);
	quote(f, p->xlabel);
	fputs("\nset ylabel ", f);
	quote(f, p->ylabel);
	fputc('\n', f);
	if (p->logx)
		fputs("set logscale x\n", f);
	if (p->logy)
		fputs("set logscale y\n", f);
	if (p->xmax > p->xmin)
		fprintf(f, "set xrange [%.10g:%.10g]\n", p->xmin, p->xmax);
	if (p->ymax > p->ymin)
		fprintf(f, "set yrange [%.10g:%.10g]\n", p->ymin, p->ymax);
	fputs("set grid xtics ytics mxtics mytics lc rgb '#dddddd'\nset key outside right top "
	      "box\nset samples 1000\nset format x '%g'\nset format y '%g'\nplot ",
	      f);
	for (i = 0; i < p->nroofs; i++, first = 0) {
		double s = p->roof_slope[i], cap = p->roof_cap[i];
		if (!first)
			fputs(", \\\n     ", f);
		if (s > 0 && cap > 0)
			fprintf(f, "(x*%.10g < %.10g ? x*%.10g : 1/0)", s, cap, s);
		else if (s > 0)
			fprintf(f, "x*%.10g", s);
		else
			fprintf(f, "%.10g", cap);
		fprintf(f, " with lines lw 2 dt %d title ", s > 0 ? 2 : 1);
		quote(f, p->roof_title[i]);
		any = 1;
	}
	for (i = 0; i < p->nseries; i++, first = 0) {
		const RfSeries *s = &p->series[i];
		if (!first)
			fputs(", \\\n     ", f);
		quote(f, data);
		fprintf(f, " index %d using 1:2%s with %s", i, s->style == RF_LABELS ? ":3" : "",
		        s->style == RF_LABELS  ? "labels offset 0.6,0.6 left font ',9'"
		        : s->style == RF_LINES ? "linespoints lw 1.5 pt 7 ps 0.7"
		                               : "points pt 7 ps 1.1");
		if (s->title) {
			fputs(" title ", f);
			quote(f, s->title);
		} else {
			fputs(" notitle", f);
		}
		any = 1;
	}
	if (!any)
		fputs("1/0 notitle", f);
	fputs("\nunset output\n", f);
	if (fclose(f) != 0)
		return diag_err(d, script, "cannot write plot script: %s", strerror(errno));
	return 0;
}

/* run gnuplot on script, stderr into errpath; returns the exit status (-1: not started). */
static int
run_gnuplot(const char *exe, const char *script, const char *errpath)
{
	posix_spawn_file_actions_t fa;
	char *argv[3];
	pid_t pid;
	int st, r;
	argv[0] = (char *)exe;
	argv[1] = (char *)script;
	argv[2] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	r = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void
first_error(const char *errpath, char *msg, size_t n)
{
	FILE *f = fopen(errpath, "r");
	size_t len = 0;
	int c, prev = ' ';
	msg[0] = 0;
	if (!f)
		return;
	while ((c = fgetc(f)) != EOF && len + 1 < n) {
		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		if (c == ' ' && prev == ' ')
			continue;
		msg[len++] = (char)c;
		prev = c;
	}
	msg[len] = 0;
	fclose(f);
}

int
rf_plot_write(const RfPlot *p, const char *path, Diag *d)
{
	char exe[1024], dir[] = "/tmp/kolmo-plot-XXXXXX", data[64], script[64], errp[64];
	char tmp[1100], msg[400];
	const char *ext = strrchr(path, '.');
	int svg, fd, st, r = -1;
	struct stat sb;

	if (!ext || (strcmp(ext, ".svg") != 0 && strcmp(ext, ".png") != 0))
		return diag_err(d, path, "plot output must end in .svg or .png");
	svg = strcmp(ext, ".svg") == 0;
	if (strlen(path) > 1000)
		return diag_err(d, NULL, "plot output path too long");
	if (rf_gnuplot_find(exe, sizeof exe))
		return diag_err(
		    d, path,
		    "cannot draw the plot: gnuplot not found (install gnuplot-nox, e.g. "
		    "with tools/install-deps.sh, or set KOLMO_GNUPLOT)");
	if (!mkdtemp(dir))
		return diag_err(d, NULL, "cannot create a temporary directory: %s",
		                strerror(errno));
	snprintf(data, sizeof data, "%s/data.dat", dir);
	snprintf(script, sizeof script, "%s/plot.gp", dir);
	snprintf(errp, sizeof errp, "%s/stderr.txt", dir);
	snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		diag_err(d, path, "cannot write: %s", strerror(errno));
		goto out;
	}
	(void)fchmod(fd, 0644); /* mkstemp made it private; a plot is an ordinary file */
	close(fd);
	if (write_data(p, data, d) || write_script(p, script, data, tmp, svg, d))
		goto fail;
	st = run_gnuplot(exe, script, errp);
	if (st != 0) {
		first_error(errp, msg, sizeof msg);
		diag_err(d, path, "gnuplot (%s) failed%s%s", exe, msg[0] ? ": " : "", msg);
		goto fail;
	}
	if (stat(tmp, &sb) != 0 || sb.st_size == 0) {
		diag_err(d, path, "gnuplot wrote nothing");
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		diag_err(d, path, "cannot write: %s", strerror(errno));
		goto fail;
	}
	r = 0;
	goto out;
fail:
	unlink(tmp);
out:
	unlink(data);
	unlink(script);
	unlink(errp);
	rmdir(dir);
	return r;
}

/* ---- the roofline picture of a model ---- */

int
rf_model_plot(const RfModel *m, const char *path, Diag *d)
{
	const RfCeilings *c = &m->c;
	RfSeries ser[RF_NRES + 3];
	double slope[RF_NRES], cap[RF_NRES], top = 0, xlo = 1e300, xhi = 0, ylo = 1e300, yhi = 0;
	char titles[RF_NRES][96], stitle[RF_NRES][64];
	const char *rtitle[RF_NRES];
	double *xs = xcalloc((size_t)(m->nops + 1) * RF_NRES, sizeof *xs);
	double *ys = xcalloc((size_t)(m->nops + 1) * RF_NRES, sizeof *ys);
	double *lx = xcalloc(m->nops + 1, sizeof *lx), *ly = xcalloc(m->nops + 1, sizeof *ly);
	const char **lab = xcalloc(m->nops + 1, sizeof *lab);
	double simx[1], simy[1], bx[1], by[1];
	int nr = 0, ns = 0, r, nl = 0;
	uint32_t i;
	char title[160];
	RfPlot p;

	for (r = 0; r < RF_NRES; r++)
		if (rf_res[r].kind == RF_COMPUTE &&
		    (r == RF_R_mvm || r == RF_R_adc || r == RF_R_vfu) && c->roof_ops_per_s[r] > 0) {
			slope[nr] = 0;
			cap[nr] = c->roof_ops_per_s[r];
			snprintf(titles[nr], sizeof titles[nr], "%s roof %.3g ops/s",
			         rf_res[r].label, cap[nr]);
			rtitle[nr] = titles[nr];
			if (cap[nr] > top)
				top = cap[nr];
			nr++;
		}
	for (r = 0; r < RF_NRES; r++)
		if (rf_res[r].kind == RF_MEMORY && c->bw_bytes_per_s[r] > 0) {
			slope[nr] = c->bw_bytes_per_s[r];
			cap[nr] = top;
			snprintf(titles[nr], sizeof titles[nr], "%s %.3g GB/s", rf_res[r].label,
			         slope[nr] * 1e-9);
			rtitle[nr] = titles[nr];
			nr++;
		}
	/* one series per memory level: each op at (W / Q_level, W / latency bound) */
	for (r = 0; r < RF_NRES; r++) {
		int n = 0;
		double *x = xs + (size_t)r * (m->nops + 1), *y = ys + (size_t)r * (m->nops + 1);
		if (rf_res[r].kind != RF_MEMORY)
			continue;
		for (i = 0; i < m->nops; i++) {
			const RfOpCost *o = &m->ops[i];
			if (o->work_ops <= 0 || o->demand[r] <= 0 || o->latency_s <= 0)
				continue;
			x[n] = o->work_ops / o->demand[r];
			y[n] = o->work_ops / o->latency_s;
			xlo = fmin(xlo, x[n]);
			xhi = fmax(xhi, x[n]);
			ylo = fmin(ylo, y[n]);
			yhi = fmax(yhi, y[n]);
			n++;
		}
		if (!n)
			continue;
		snprintf(stitle[r], sizeof stitle[r], "ops @ %s", rf_res[r].name);
		ser[ns].title = stitle[r];
		ser[ns].x = x;
		ser[ns].y = y;
		ser[ns].n = n;
		ser[ns].style = RF_POINTS;
		ser[ns].labels = NULL;
		ns++;
	}
	/* op names next to their tile-memory point (every op with work has one) */
	for (i = 0; i < m->nops; i++) {
		const RfOpCost *o = &m->ops[i];
		if (o->work_ops <= 0 || o->demand[RF_R_tmem] <= 0 || o->latency_s <= 0)
			continue;
		lx[nl] = o->work_ops / o->demand[RF_R_tmem];
		ly[nl] = o->work_ops / o->latency_s;
		lab[nl++] = o->d.name;
	}
	if (nl) {
		ser[ns] = (RfSeries){NULL, lx, ly, nl, RF_LABELS, lab};
		ns++;
	}
	if (m->total.work_ops > 0 && m->total.demand[RF_R_tmem] > 0 && m->latency_s > 0) {
		bx[0] = m->total.work_ops / m->total.demand[RF_R_tmem];
		by[0] = m->total.work_ops / m->latency_s;
		ser[ns++] = (RfSeries){"model bound @ tmem", bx, by, 1, RF_POINTS, NULL};
		xlo = fmin(xlo, bx[0]);
		xhi = fmax(xhi, bx[0]);
		if (m->have_sim && m->sim_latency_s > 0) {
			simx[0] = bx[0];
			simy[0] = m->total.work_ops / m->sim_latency_s;
			ser[ns++] = (RfSeries){"simulated model", simx, simy, 1, RF_POINTS, NULL};
			ylo = fmin(ylo, simy[0]);
		}
	}
	if (xhi <= 0) {
		xlo = 0.01;
		xhi = 100;
	}
	if (yhi <= 0)
		ylo = top * 1e-3;
	snprintf(title, sizeof title, "roofline: %s on %s", m->name, c->arch.name);
	memset(&p, 0, sizeof p);
	p.title = title;
	p.xlabel = "operational intensity (ops/byte)";
	p.ylabel = "performance (ops/s)";
	p.logx = p.logy = 1;
	p.series = ser;
	p.nseries = ns;
	p.roof_slope = slope;
	p.roof_cap = cap;
	p.roof_title = rtitle;
	p.nroofs = nr;
	p.xmin = xlo / 10;
	p.xmax = xhi * 10;
	p.ymin = fmin(ylo, top) / 10;
	p.ymax = top * 4;
	r = rf_plot_write(&p, path, d);
	free(xs);
	free(ys);
	free(lx);
	free(ly);
	free(lab);
	return r;
}
