/* whole_model.c: a whole model at scale, compiled and simulated. Builds a chain of LAYERS square
 * KAN layers (G=5, k=3: 9 WIDTH^2 parameters each) in memory with seeded weights; the default,
 * 4 x 1760, has 1.1 x 10^8 parameters. Derives an architecture from a config (default edge-kan)
 * with enough tiles in a square mesh, compiles the model, writes the .kelf to memory, simulates
 * one inference and checks the output bit for bit against the compiler's integer reference.
 * Prints the wall and CPU time of each phase and the peak RSS (getrusage) after it.
 * Usage: whole_model [ARCH.yaml [LAYERS [WIDTH]]] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cc.h"
#include "sim.h"

/* The run's state, freed at the end. */
typedef struct Bench {
	HwArch arch;
	Graph *g;
	KProg *p;
	CcModel *m;
	Sim *s;
	uint8_t *image;
	size_t image_bytes;
	double t_last, cpu_last; /* wall and CPU seconds at the end of the previous phase */
} Bench;

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* phase: print the wall and CPU (user + system) seconds since the previous phase and the peak
 * RSS so far. */
static void
phase(Bench *b, const char *name)
{
	struct rusage ru;
	double t = now_s(), cpu;
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
	printf("  %-24s %8.2f s (CPU %7.2f s)   peak RSS %8.1f MiB\n", name, t - b->t_last,
	       cpu - b->cpu_last, (double)ru.ru_maxrss / 1024.0);
	fflush(stdout);
	b->t_last = t;
	b->cpu_last = cpu;
}

/* build_model: x[1, n] -> layers x kan_linear(n -> n) -> y, uniform weights in [-a, a] with a
 * shrinking like 1/sqrt(fan-in) so that activations stay in the spline grid. */
static int
build_model(Bench *b, uint32_t layers, uint32_t n, Diag *d)
{
	int64_t dx[2] = {1, n}, db[2] = {n, n}, ds[3] = {n, n, 8};
	IrType tx = ir_type(IR_F32, 2, dx), tb = ir_type(IR_F32, 2, db),
	       ts = ir_type(IR_F32, 3, ds);
	IrTensorId h;
	IrWeight w;
	uint32_t l;
	b->g = ir_new("whole_model");
	memset(&w, 0, sizeof w);
	w.src = IR_W_RANDOM;
	w.dist = IR_UNIFORM;
	w.b = 1.0 / sqrt((double)n);
	w.a = -w.b;
	h = ir_add_input(b->g, "x", &tx);
	for (l = 0; l < layers; l++) {
		char bn[32], sn[32], yn[32];
		IrTensorId in[3];
		const char *names[1] = {yn};
		IrNodeId node;
		snprintf(bn, sizeof bn, "base%u", l);
		snprintf(sn, sizeof sn, "spline%u", l);
		snprintf(yn, sizeof yn, "h%u", l + 1);
		w.seed = 2 * l + 1;
		in[1] = ir_add_weight(b->g, bn, &tb, &w);
		w.seed = 2 * l + 2;
		in[2] = ir_add_weight(b->g, sn, &ts, &w);
		in[0] = h;
		node = ir_node_new(b->g, IR_OP_kan_linear, in, 3);
		h = ir_node_finish(b->g, node, names, d);
		if (h == IR_NONE)
			return -1;
	}
	ir_add_output(b->g, "y", h);
	return 0;
}

/* derive_arch: the config with enough tiles for the model's crossbar blocks (the compiler's
 * ADC-exact tiling: rows - 1 rows of the 9 n [base | spline] rows per block, cols outputs) plus
 * an eighth to spare, in a square mesh that the routers' concentration divides; 256 KiB
 * scratchpads hold a layer's activations and 16 Ki-word instruction memories the code of a
 * leader that reduces many cores' partial sums. */
static int
derive_arch(Bench *b, const char *path, uint32_t layers, uint32_t n, Diag *d)
{
	const char *paths[5] = {"chip.tiles", "chip.mesh_rows", "chip.mesh_cols", "core.spad_bytes",
	                        "core.imem_words"};
	char tv[32], sv[32];
	const char *vals[5] = {tv, sv, sv, "256KiB", "16384"};
	uint64_t rows, blocks, per_tile, tiles, side;
	if (hw_arch_load(&b->arch, path, d))
		return -1;
	rows = (uint64_t)b->arch.mvmu.rows - 1;
	blocks = (uint64_t)layers * ((9ull * n + rows - 1) / rows) *
	         ((n + (uint64_t)b->arch.mvmu.cols - 1) / (uint64_t)b->arch.mvmu.cols);
	per_tile = (uint64_t)b->arch.tile.cores * (uint64_t)b->arch.core.mvmus;
	tiles = (blocks + blocks / 8 + per_tile - 1) / per_tile;
	for (side = 1;
	     side * side < tiles || side * side % (uint64_t)b->arch.noc.tiles_per_router != 0;
	     side++)
		;
	snprintf(tv, sizeof tv, "%llu", (unsigned long long)(side * side));
	snprintf(sv, sizeof sv, "%llu", (unsigned long long)side);
	if (hw_arch_set_many(&b->arch, paths, vals, 5, d))
		return -1;
	printf("  architecture: %s with %llu tiles (%llu x %llu mesh) for %llu crossbar blocks\n",
	       b->arch.name, (unsigned long long)(side * side), (unsigned long long)side,
	       (unsigned long long)side, (unsigned long long)blocks);
	return 0;
}

/* simulate: one inference on a seeded input in [-1, 1); the output must equal cc_qref's. */
static int
simulate(Bench *b, Diag *d)
{
	uint32_t nin, nout, i, diff = 0, nonzero = 0;
	double sin, sout;
	const KTensor *tin = NULL, *tout = NULL;
	int32_t *xq, *yq;
	uint8_t *buf;
	const uint8_t *o;
	size_t bytes;
	unsigned isz, osz;
	uint64_t seed = 12345;
	int rc = -1;
	cc_model_io(b->m, &nin, &sin, &nout, &sout);
	for (i = 0; i < b->p->nio; i++)
		if (b->p->io[i].dir == KDIR_IN)
			tin = &b->p->io[i];
		else
			tout = &b->p->io[i];
	KASSERT(tin && tout);
	isz = isa_type_size(tin->type);
	osz = isa_type_size(tout->type);
	xq = xmalloc(nin * sizeof *xq);
	yq = xmalloc(nout * sizeof *yq);
	buf = xmalloc((size_t)nin * isz);
	for (i = 0; i < nin; i++) {
		float x;
		ir_random_fill(&x, 1, IR_UNIFORM, -1, 1, seed++, IR_F32);
		xq[i] = (int32_t)lround(
		    fmin(fmax(x / sin, isz == 1 ? -128 : -32768), isz == 1 ? 127 : 32767));
		memcpy(buf + (size_t)i * isz, &xq[i], isz); /* little-endian low bytes */
	}
	if (sim_new(&b->arch, b->p, NULL, &b->s, d) ||
	    sim_set_input(b->s, tin->name, buf, (size_t)nin * isz, d))
		goto out;
	phase(b, "simulator load");
	if (sim_run(b->s, d))
		goto out;
	phase(b, "simulate one inference");
	if (cc_qref(b->m, xq, yq, d) || !(o = sim_output(b->s, tout->name, &bytes, d)))
		goto out;
	for (i = 0; i < nout; i++) {
		int32_t v = 0;
		memcpy(&v, o + (size_t)i * osz, osz);
		if (osz < 4) /* sign-extend */
			v = (int32_t)((uint32_t)v << (32 - 8 * osz)) >> (32 - 8 * osz);
		diff += v != yq[i];
		nonzero += v != 0;
	}
	phase(b, "integer reference");
	printf("  %llu cycles, %llu instructions; output %s the integer reference (%u of %u "
	       "differ, %u non-zero)\n",
	       (unsigned long long)sim_stats(b->s)->cycles,
	       (unsigned long long)sim_stats(b->s)->instructions, diff ? "DIFFERS FROM" : "equals",
	       diff, nout, nonzero);
	rc = diff ? diag_err(d, NULL, "simulated output differs from the integer reference") : 0;
out:
	free(xq);
	free(yq);
	free(buf);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : KOLMO_SOURCE_DIR "/hwmodels/configs/edge-kan.yaml";
	uint32_t layers = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 4;
	uint32_t n = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 1760;
	Bench b;
	Diag d = {0};
	CcOptions o;
	int rc = 1;
	memset(&b, 0, sizeof b);
	if (layers < 1 || layers > 64 || n < 8 || n > 20000) {
		fprintf(stderr, "usage: whole_model [ARCH.yaml [LAYERS 1..64 [WIDTH 8..20000]]]\n");
		return 2;
	}
	printf("whole model: %u KAN layers %u -> %u (G=5, k=3), %.3g parameters\n", layers, n, n,
	       9.0 * layers * n * n);
	b.t_last = now_s();
	if (derive_arch(&b, path, layers, n, &d) || build_model(&b, layers, n, &d))
		goto out;
	phase(&b, "graph");
	cc_options_default(&o);
	o.nsynth = 16;
	if (cc_compile(b.g, &b.arch, &o, &b.p, &b.m, &d))
		goto out;
	phase(&b, "compile");
	if (kelf_write_mem(b.p, &b.image, &b.image_bytes, &d))
		goto out;
	phase(&b, "write .kelf (in memory)");
	printf("  .kelf image %.1f MiB\n", (double)b.image_bytes / 1048576.0);
	free(b.image);
	b.image = NULL;
	if (simulate(&b, &d))
		goto out;
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "whole_model: %s\n", d.msg);
	sim_free(b.s);
	cc_model_free(b.m);
	kprog_free(b.p);
	ir_free(b.g);
	free(b.image);
	return rc;
}
