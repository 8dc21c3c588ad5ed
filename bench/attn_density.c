/* attn_density.c: sparse attention on SRAM-CIM against block density (docs/attention.md).
 *
 *   build/bench/attn_density [--plot OUT.svg] [N ...]      (default N = 4096)
 *
 * For each sequence length N (4 heads x 64, blocks of 64 x 64, non-causal top-k so the kept
 * fraction is exact): compiles dense attention and sparse attention at densities from 100% to
 * 5%, simulates each on hwmodels/configs/sram-cim.yaml with the same structured inputs (blocks
 * of tokens on 16 topics, see inputs(), so attention is peaked as in trained models), and
 * prints latency, energy, the speedup over dense attention beside the ideal
 * 1/density, and the output error against float dense attention (cosine similarity, relative
 * L1) of the simulated 8-bit output and of float sparse attention. Every simulated output is
 * also checked bit for bit against the compiler's integer reference. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc.h"
#include "roofline.h"
#include "sim.h"

enum { H = 4, D = 64, BLK = 64 };

static double
uni(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return ((double)(*s >> 11) * 0x1.0p-53) * 2 - 1;
}

static float
clampf(double v)
{
	return (float)(v > 1 ? 1 : v < -1 ? -1 : v);
}

/* q | k | v: per head, every block of 64 tokens belongs to one of K topics (a random one); its
 * tokens are the topic's centre (entries +-0.8) plus noise, queries and keys alike, and values
 * the topic's value vector plus noise. Attention then concentrates on the blocks of the query's
 * topic, as SpargeAttn assumes of real (locally self-similar) token streams. */
enum { TOPICS = 16 };

static void
inputs(float *x, uint32_t N)
{
	uint64_t s = 12345;
	size_t per = (size_t)H * N * D, h, t, e;
	float *cq = malloc(sizeof(float) * TOPICS * D), *cv = malloc(sizeof(float) * TOPICS * D);
	for (e = 0; e < (size_t)TOPICS * D; e++)
		cq[e] = uni(&s) < 0 ? -0.8f : 0.8f, cv[e] = clampf(0.8 * uni(&s));
	for (h = 0; h < H; h++)
		for (t = 0; t < N; t++) {
			uint64_t z = ((h + 1) * 0x9e3779b97f4a7c15ull) ^
			             ((t / BLK + 1) * 0xbf58476d1ce4e5b9ull);
			uint32_t topic;
			z ^= z >> 29;
			z *= 0x94d049bb133111ebull;
			topic = (uint32_t)((z >> 33) % TOPICS);
			for (e = 0; e < D; e++) {
				size_t at = (h * N + t) * D + e;
				x[at] = clampf(cq[topic * D + e] + 0.3 * uni(&s));
				x[per + at] = clampf(cq[topic * D + e] + 0.3 * uni(&s));
				x[2 * per + at] = clampf(cv[topic * D + e] + 0.2 * uni(&s));
			}
		}
	free(cq), free(cv);
}

typedef struct Point {
	double density, cycles, energy, cos, l1, fcos, fl1;
	int exact;
} Point;

static void
metrics(const float *y, const float *r, size_t n, double *cos, double *l1)
{
	double dot = 0, ny = 0, nr = 0, a = 0, b = 0;
	size_t i;
	for (i = 0; i < n; i++) {
		dot += (double)y[i] * r[i], ny += (double)y[i] * y[i], nr += (double)r[i] * r[i];
		a += fabs((double)y[i] - r[i]), b += fabs((double)r[i]);
	}
	*cos = dot / sqrt(ny * nr);
	*l1 = a / b;
}

static int
point(const HwArch *arch, uint32_t N, double rho, const float *x, const float *dense, Point *pt)
{
	char src[1024];
	Diag d = {0};
	Graph *g;
	KProg *p = NULL;
	CcModel *m = NULL;
	Sim *s = NULL;
	uint32_t nin, nout, i, at = 0, nk = N / BLK, nsel;
	double sin, sout;
	float *y, *yf;
	int32_t *xq, *yq;
	int8_t *xb;
	const uint8_t *o;
	size_t bytes;
	if (rho > 0)
		snprintf(
		    src, sizeof src,
		    "kir 1\ngraph a {\n input q : f32[1, %d, %u, %d]\n input k : f32[1, %d, %u, "
		    "%d]\n input v : f32[1, %d, %u, %d]\n %%o = sparse_attention(q, k, v) {blkq = "
		    "%d, blkk = %d, mode = topk, rho = %g} : f32[1, %d, %u, %d]\n output y = "
		    "%%o\n}\n",
		    H, N, D, H, N, D, H, N, D, BLK, BLK, rho, H, N, D);
	else
		snprintf(
		    src, sizeof src,
		    "kir 1\ngraph a {\n input q : f32[1, %d, %u, %d]\n input k : f32[1, %d, %u, "
		    "%d]\n input v : f32[1, %d, %u, %d]\n %%o = attention(q, k, v) : f32[1, %d, "
		    "%u, "
		    "%d]\n output y = %%o\n}\n",
		    H, N, D, H, N, D, H, N, D, H, N, D);
	g = ir_parse_mem(src, strlen(src), "bench.kir", NULL, 0, &d);
	if (!g || cc_compile(g, arch, NULL, &p, &m, &d))
		goto fail;
	cc_model_io(m, &nin, &sin, &nout, &sout);
	y = malloc(sizeof(float) * nout), yf = malloc(sizeof(float) * nout);
	xq = malloc(sizeof(int32_t) * nin), yq = malloc(sizeof(int32_t) * nout);
	xb = malloc(nin);
	for (i = 0; i < nin; i++) {
		double v = x[i] / sin;
		v = v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
		xq[i] = (int32_t)(v > 127 ? 127 : v < -128 ? -128 : v);
		xb[i] = (int8_t)xq[i];
	}
	if (sim_new(arch, p, NULL, &s, &d))
		goto fail;
	for (i = 0; i < p->nio; i++)
		if (p->io[i].dir == KDIR_IN) {
			uint32_t n = (uint32_t)ktensor_bytes(&p->io[i]);
			if (sim_set_input(s, p->io[i].name, xb + at, n, &d))
				goto fail;
			at += n;
		}
	if (sim_run(s, &d) || !(o = sim_output(s, "y", &bytes, &d)) || cc_qref(m, xq, yq, &d) ||
	    cc_eval_float(g, x, yf, &d))
		goto fail;
	pt->exact = 1;
	for (i = 0; i < nout; i++) {
		y[i] = (float)((int8_t)o[i] * sout);
		pt->exact &= (int8_t)o[i] == yq[i];
	}
	nsel = rho > 0 ? (uint32_t)floor(rho * nk) : nk;
	pt->density = (double)(nsel ? nsel : 1) / nk;
	pt->cycles = (double)sim_stats(s)->cycles;
	{
		json_t *j = sim_stats_json(s, arch);
		pt->energy =
		    json_real_value(json_object_get(json_object_get(j, "energy_j"), "total"));
		json_decref(j);
	}
	metrics(y, dense, nout, &pt->cos, &pt->l1);
	metrics(yf, dense, nout, &pt->fcos, &pt->fl1);
	sim_free(s);
	free(y), free(yf), free(xq), free(yq), free(xb);
	cc_model_free(m);
	kprog_free(p);
	ir_free(g);
	return 0;
fail:
	fprintf(stderr, "attn_density: %s\n", d.msg);
	return -1;
}

int
main(int argc, char **argv)
{
	static const double rhos[] = {1.0, 0.75, 0.5, 0.25, 0.2, 0.1, 0.05};
	enum { NR = sizeof rhos / sizeof *rhos };
	HwArch arch;
	Diag d = {0};
	const char *plot = NULL;
	uint32_t Ns[8], nN = 0;
	int i, r;
	double px[8][NR], py[8][NR], ideal[NR];
	char titles[8][64];
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--plot") == 0 && i + 1 < argc)
			plot = argv[++i];
		else if (nN < 8)
			Ns[nN++] = (uint32_t)strtoul(argv[i], NULL, 10);
	if (!nN)
		Ns[nN++] = 4096;
	if (hw_arch_load(&arch, KOLMO_SOURCE_DIR "/hwmodels/configs/sram-cim.yaml", &d)) {
		fprintf(stderr, "%s\n", d.msg);
		return 1;
	}
	for (i = 0; i < (int)nN; i++) {
		uint32_t N = Ns[i];
		size_t n = (size_t)3 * H * N * D;
		float *x = malloc(sizeof(float) * n), *dense = malloc(sizeof(float) * H * N * D);
		Graph *g;
		Point base, pt;
		char src[512];
		snprintf(
		    src, sizeof src,
		    "kir 1\ngraph a {\n input q : f32[1, %d, %u, %d]\n input k : f32[1, %d, %u, "
		    "%d]\n input v : f32[1, %d, %u, %d]\n %%o = attention(q, k, v) : f32[1, %d, "
		    "%u, "
		    "%d]\n output y = %%o\n}\n",
		    H, N, D, H, N, D, H, N, D, H, N, D);
		inputs(x, N);
		g = ir_parse_mem(src, strlen(src), "bench.kir", NULL, 0, &d);
		if (!g || cc_attention_dense(g, x, dense, &d) ||
		    point(&arch, N, 0, x, dense, &base))
			return 1;
		ir_free(g);
		printf("N = %u, %d heads x %d, blocks %dx%d, sram-cim-22; dense attention: %.0f "
		       "cycles "
		       "(%.1f us), %.3g J, cosine %.5f, rel L1 %.4f, %s\n",
		       N, H, D, BLK, BLK, base.cycles, base.cycles / 800.0, base.energy, base.cos,
		       base.l1, base.exact ? "bit-exact" : "NOT bit-exact");
		printf("| density | cycles | latency (us) | energy (uJ) | speedup | ideal | of "
		       "ideal | "
		       "energy gain | cosine | rel L1 | float cosine | float rel L1 |\n");
		printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
		for (r = 0; r < NR; r++) {
			uint32_t nk = N / BLK;
			if (r && fmax(1, floor(rhos[r] * nk)) == fmax(1, floor(rhos[r - 1] * nk))) {
				px[i][r] = px[i][r - 1], py[i][r] = py[i][r - 1];
				ideal[r] = ideal[r - 1];
				continue; /* the same number of blocks as the previous point */
			}
			if (point(&arch, N, rhos[r], x, dense, &pt))
				return 1;
			printf("| %.1f%% | %.0f | %.1f | %.1f | %.2fx | %.2fx | %.0f%% | %.2fx | "
			       "%.5f | "
			       "%.4f | %.5f | %.4f |%s\n",
			       100 * pt.density, pt.cycles, pt.cycles / 800.0, pt.energy * 1e6,
			       base.cycles / pt.cycles, 1 / pt.density,
			       100 * base.cycles / pt.cycles * pt.density, base.energy / pt.energy,
			       pt.cos, pt.l1, pt.fcos, pt.fl1, pt.exact ? "" : " NOT bit-exact");
			fflush(stdout);
			px[i][r] = 100 * pt.density;
			py[i][r] = base.cycles / pt.cycles;
			ideal[r] = 1 / pt.density;
		}
		free(x), free(dense);
		printf("\n");
	}
	if (plot) {
		RfSeries ser[9];
		RfPlot p;
		memset(&p, 0, sizeof p);
		memset(ser, 0, sizeof ser);
		for (i = 0; i < (int)nN; i++) {
			snprintf(titles[i], sizeof titles[i], "simulated, N = %u", Ns[i]);
			ser[i].title = titles[i], ser[i].x = px[i], ser[i].y = py[i], ser[i].n = NR;
			ser[i].style = RF_LINES;
		}
		ser[nN].title = "ideal 1/density", ser[nN].x = px[nN - 1], ser[nN].y = ideal;
		ser[nN].n = NR, ser[nN].style = RF_LINES;
		p.title = "Sparse attention on sram-cim-22: speedup over dense attention";
		p.xlabel = "block density (% of key blocks kept)";
		p.ylabel = "speedup (dense latency / sparse latency)";
		p.logx = p.logy = 1;
		p.series = ser, p.nseries = (int)nN + 1;
		if (rf_plot_write(&p, plot, &d)) {
			fprintf(stderr, "%s\n", d.msg);
			return 1;
		}
	}
	return 0;
}
