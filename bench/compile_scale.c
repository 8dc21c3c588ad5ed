/* compile_scale.c: compile time and peak memory against model size. Builds square KAN layers
 * (G=5, k=3) of about 10^5, 10^6 and 10^7 parameters in memory with seeded weights and compiles
 * each for edge-kan with enough tiles, in a child process so that peak RSS is per model.
 * Prints parameters, crossbar blocks, compile seconds and peak RSS. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cc.h"

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int
one(const char *arch_path, uint32_t n)
{
	Diag d = {0};
	HwArch arch;
	Graph *g = ir_new("scale");
	IrTensorId x, wb, ws, y;
	IrNodeId node;
	IrWeight w;
	int64_t dx[2] = {1, n}, db[2] = {n, n}, ds[3] = {n, n, 8};
	IrType tx = ir_type(IR_F32, 2, dx), tb = ir_type(IR_F32, 2, db),
	       ts = ir_type(IR_F32, 3, ds);
	KProg *p = NULL;
	CcOptions o;
	uint32_t tiles, side, blocks;
	char tv[32], sv[32];
	const char *paths[4] = {"chip.tiles", "chip.mesh_rows", "chip.mesh_cols",
	                        "core.spad_bytes"};
	const char *vals[4] = {tv, sv, sv, "256KiB"};
	double t0, t1;
	struct rusage ru;
	if (hw_arch_load(&arch, arch_path, &d))
		goto fail;
	blocks = ((n * 9 + 254) / 255) * ((n + 255) / 256);
	tiles = (blocks + 11) / 12;
	for (side = 1; side * side < tiles; side++)
		;
	snprintf(tv, sizeof tv, "%u", side * side);
	snprintf(sv, sizeof sv, "%u", side);
	if (hw_arch_set_many(&arch, paths, vals, 4, &d))
		goto fail;
	memset(&w, 0, sizeof w);
	w.src = IR_W_RANDOM;
	w.dist = IR_UNIFORM;
	w.a = -0.05;
	w.b = 0.05;
	x = ir_add_input(g, "x", &tx);
	w.seed = 1;
	wb = ir_add_weight(g, "base", &tb, &w);
	w.seed = 2;
	ws = ir_add_weight(g, "spline", &ts, &w);
	{
		IrTensorId in[3] = {x, wb, ws};
		const char *names[1] = {"y"};
		node = ir_node_new(g, IR_OP_kan_linear, in, 3);
		y = ir_node_finish(g, node, names, &d);
		if (y == IR_NONE)
			goto fail;
	}
	ir_add_output(g, "y", y);
	cc_options_default(&o);
	o.nsynth = 16;
	t0 = now_s();
	if (cc_compile(g, &arch, &o, &p, NULL, &d))
		goto fail;
	t1 = now_s();
	getrusage(RUSAGE_SELF, &ru);
	printf("%12llu params %6u blocks %4u tiles   compile %7.2f s   peak RSS %8.1f MiB\n",
	       (unsigned long long)n * n * 9, blocks, side * side, t1 - t0,
	       (double)ru.ru_maxrss / 1024.0);
	kprog_free(p);
	ir_free(g);
	return 0;
fail:
	fprintf(stderr, "n=%u: %s\n", n, d.msg);
	return 1;
}

int
main(int argc, char **argv)
{
	const char *arch = argc > 1 ? argv[1] : KOLMO_SOURCE_DIR "/hwmodels/configs/edge-kan.yaml";
	static const uint32_t sizes[] = {105, 333, 1054}; /* 9 n^2 ~ 10^5, 10^6, 10^7 */
	unsigned i;
	int rc = 0;
	printf("compile time and peak memory vs model size (square KAN layers, G=5, k=3)\n");
	fflush(stdout);
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		pid_t pid = fork();
		int st;
		if (pid == 0) {
			int r = one(arch, sizes[i]);
			fflush(stdout);
			_exit(r);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			rc = 1;
	}
	return rc;
}
