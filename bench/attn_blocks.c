/* attn_blocks.c: attention layers and KAN-former blocks on SRAM-CIM (docs/attention.md).
 *
 *   build/bench/attn_blocks [N ...]           (default N = 256 1024; 4096 takes minutes)
 *
 * For each sequence length N: compiles examples/attention/{sparse,dense}_{mha,block}*.kir (the
 * pre-norm attention layers and the KAN-former blocks), simulates each on
 * hwmodels/configs/sram-cim.yaml on `kolmo run`'s default input (a seeded uniform draw in
 * [-1, 1]) and prints latency, energy, the time of each part (the layers' first issue to last
 * completion: layer norm and projections, attention, output projection and residual, the
 * feed-forward), the output error against the float interpreter (cosine, relative L1) and
 * whether the simulated output equals the integer reference bit for bit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cc.h"
#include "sim.h"

typedef struct Row {
	uint64_t cycles;
	double latency_s, energy_j;
	uint64_t part[4]; /* pre-attention, attention, post-attention, feed-forward (cycles) */
	double cos, l1;
	int exact;
} Row;

static double
uni(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return ((double)(*s >> 11) * 0x1.0p-53) * 2 - 1;
}

/* Which part of the run layer `name` belongs to. */
static int
part_of(const char *name)
{
	static const char *const pre[] = {"h", "h1", "q", "k", "v"}, *post[] = {"o", "y", "r1"};
	static const char *const ffn[] = {"h2", "f0", "f1", "r2"};
	size_t i;
	if (!strcmp(name, "a"))
		return 1;
	for (i = 0; i < sizeof pre / sizeof *pre; i++)
		if (!strcmp(name, pre[i]))
			return 0;
	for (i = 0; i < sizeof post / sizeof *post; i++)
		if (!strcmp(name, post[i]))
			return 2;
	for (i = 0; i < sizeof ffn / sizeof *ffn; i++)
		if (!strcmp(name, ffn[i]))
			return 3;
	return -1;
}

static int
run(const char *path, const HwArch *arch, Row *row)
{
	Diag d = {0};
	Graph *g = ir_parse_file(path, IR_PARSE_LOAD_WEIGHTS, &d);
	KProg *p = NULL;
	CcModel *m = NULL;
	Sim *s = NULL;
	uint32_t nin, nout, i, at = 0;
	double sin, sout, dot = 0, ny = 0, nr = 0, l1 = 0, l1r = 0;
	float *x = NULL, *yf = NULL;
	int32_t *xq = NULL, *yq = NULL;
	int8_t *xb = NULL;
	uint64_t seed = 0x696e707574ull, lo[4], hi[4];
	const SimStats *st;
	const uint8_t *o;
	size_t bytes;
	int rc = -1;
	CcOptions opt;
	cc_options_default(&opt);
	if (!g || cc_compile(g, arch, &opt, &p, &m, &d))
		goto out;
	cc_model_io(m, &nin, &sin, &nout, &sout);
	x = malloc(sizeof(float) * nin), yf = malloc(sizeof(float) * nout);
	xq = malloc(sizeof(int32_t) * nin), yq = malloc(sizeof(int32_t) * nout);
	xb = malloc(nin);
	for (i = 0; i < nin; i++) {
		double v;
		x[i] = (float)uni(&seed);
		v = x[i] / sin;
		v = v < 0 ? -floor(-v + 0.5) : floor(v + 0.5);
		xq[i] = (int32_t)(v > 127 ? 127 : v < -128 ? -128 : v);
		xb[i] = (int8_t)xq[i];
	}
	if (sim_new(arch, p, NULL, &s, &d))
		goto out;
	for (i = 0; i < p->nio; i++)
		if (p->io[i].dir == KDIR_IN) {
			uint32_t n = (uint32_t)ktensor_bytes(&p->io[i]);
			if (sim_set_input(s, p->io[i].name, xb + at, n, &d))
				goto out;
			at += n;
		}
	if (sim_run(s, &d) || !(o = sim_output(s, "y", &bytes, &d)) || cc_qref(m, xq, yq, &d) ||
	    cc_eval_float(g, x, yf, &d))
		goto out;
	row->exact = 1;
	for (i = 0; i < nout; i++) {
		double v = (int8_t)o[i] * sout, r = yf[i];
		row->exact &= (int8_t)o[i] == yq[i];
		dot += v * r, ny += v * v, nr += r * r, l1 += fabs(v - r), l1r += fabs(r);
	}
	row->cos = ny > 0 && nr > 0 ? dot / sqrt(ny * nr) : 0;
	row->l1 = l1r > 0 ? l1 / l1r : 0;
	st = sim_stats(s);
	row->cycles = st->cycles;
	row->latency_s = st->latency_s;
	{
		HwEnergy e;
		sim_energy(s, arch, &e);
		row->energy_j = e.total_j;
	}
	for (i = 0; i < 4; i++)
		lo[i] = UINT64_MAX, hi[i] = 0;
	for (i = 0; i < st->nlayers; i++) {
		int k = part_of(st->layers[i].name);
		if (k < 0 || st->layers[i].last_cycle == 0)
			continue;
		lo[k] = st->layers[i].first_cycle < lo[k] ? st->layers[i].first_cycle : lo[k];
		hi[k] = st->layers[i].last_cycle > hi[k] ? st->layers[i].last_cycle : hi[k];
	}
	for (i = 0; i < 4; i++)
		row->part[i] = hi[i] > lo[i] ? hi[i] - lo[i] : 0;
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "attn_blocks: %s: %s\n", path, d.msg);
	sim_free(s);
	free(x), free(yf), free(xq), free(yq), free(xb);
	cc_model_free(m);
	kprog_free(p);
	ir_free(g);
	return rc;
}

int
main(int argc, char **argv)
{
	static const char *const kinds[] = {"sparse_mha", "dense_mha", "sparse_block",
	                                    "dense_block"};
	HwArch arch;
	Diag d = {0};
	uint32_t Ns[8], nN = 0, n, k;
	int i;
	for (i = 1; i < argc && nN < 8; i++)
		Ns[nN++] = (uint32_t)strtoul(argv[i], NULL, 10);
	if (!nN)
		Ns[nN++] = 256, Ns[nN++] = 1024;
	if (hw_arch_load(&arch, KOLMO_SOURCE_DIR "/hwmodels/configs/sram-cim.yaml", &d)) {
		fprintf(stderr, "attn_blocks: %s\n", d.msg);
		return 1;
	}
	printf("| model | N | cycles | latency (us) | energy (uJ) | norm + q, k, v | attention | "
	       "out proj + res | feed-forward | cosine | rel L1 | bit-exact |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
	for (n = 0; n < nN; n++)
		for (k = 0; k < 4; k++) {
			char path[512];
			Row r;
			const char *suffix = "";
			char nb[32], ff[32];
			memset(&r, 0, sizeof r);
			if (strstr(kinds[k], "block")) {
				if (Ns[n] != 256)
					snprintf(nb, sizeof nb, "_%u", Ns[n]), suffix = nb;
			} else
				snprintf(nb, sizeof nb, "_%u", Ns[n]), suffix = nb;
			snprintf(path, sizeof path, "%s/examples/attention/%s%s.kir",
			         KOLMO_SOURCE_DIR, kinds[k], suffix);
			if (run(path, &arch, &r))
				return 1;
			snprintf(ff, sizeof ff, "%llu", (unsigned long long)r.part[3]);
			printf("| %s | %u | %llu | %.1f | %.1f | %llu | %llu | %llu | %s | %.5f | "
			       "%.4f | "
			       "%s |\n",
			       kinds[k], Ns[n], (unsigned long long)r.cycles, r.latency_s * 1e6,
			       r.energy_j * 1e6, (unsigned long long)r.part[0],
			       (unsigned long long)r.part[1], (unsigned long long)r.part[2],
			       r.part[3] ? ff : "-", r.cos, r.l1, r.exact ? "yes" : "NO");
			fflush(stdout);
		}
	return 0;
}
