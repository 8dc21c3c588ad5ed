/* cmd_roofline.c: `kolmo roofline M.kir --arch A.yaml [--stats S.json] [-o R.svg|.png] [--json]`:
 * per-op and whole-model roofline bounds (roofline/, docs/roofline.md). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "onnx.h"
#include "roofline.h"

static const CliOpt opts[] = {
    {"arch", 'a', "A.yaml", "architecture config (required)"},
    {"stats", 0, "S.json", "simulator statistics (kolmo sim --stats) to compare with the bounds"},
    {"output", 'o', "R.svg", "draw the roofline plot (.svg or .png) with gnuplot"},
    {"json", 0, NULL, "print the report as JSON (keys in docs/roofline.md)"},
    {NULL, 0, NULL, NULL},
};

static int
run(const CliCmd *cmd, CliArgs *a)
{
	const char *arch_path = cli_opt(cmd, a, "arch"), *stats = cli_opt(cmd, a, "stats");
	const char *out = cli_opt(cmd, a, "output");
	Diag d = {0};
	HwArch arch;
	RfModel m;
	Graph *g;
	int st = 0;

	if (!arch_path) {
		diag_err(&d, "kolmo", "roofline: --arch A.yaml is required");
		return cli_fail(&d);
	}
	if (hw_arch_load(&arch, arch_path, &d))
		return cli_fail(&d);
	g = onnx_model_load(a->pos[0], IR_PARSE_NO_IO, &d);
	if (!g || ir_verify(g, &d) != 0) {
		ir_free(g);
		return cli_fail(&d);
	}
	if (rf_analyze(g, &arch, &m, &d)) {
		ir_free(g);
		return cli_fail(&d);
	}
	ir_free(g);
	if ((stats && rf_stats_apply(&m, stats, &d)) || (out && rf_model_plot(&m, out, &d))) {
		rf_model_free(&m);
		return cli_fail(&d);
	}
	if (cli_opt(cmd, a, "json")) {
		char *s = rf_model_json(&m);
		if (s)
			printf("%s\n", s);
		else
			st = 1;
		free(s);
	} else {
		rf_model_print(&m, stdout);
		if (out)
			printf("\nplot: %s\n", out);
	}
	rf_model_free(&m);
	return st;
}

const CliCmd cmd_roofline = {
    .name = "roofline",
    .summary = "roofline bounds of a model on an architecture (latency, energy, binding level)",
    .usage = "M.kir --arch A.yaml [--stats S.json] [-o R.svg] [--json]",
    .details =
        "Costs every op of M.kir on the architecture: work (2 ops per MAC; KAN layers dense\n"
        "and row-gated), traffic at each level (array writes, scratchpad, tile memory, NoC,\n"
        "DRAM; weights resident in the arrays while they fit, streamed from DRAM otherwise),\n"
        "the roofs of the architecture (MVM timing rule, ADC conversion rate, VFU, bandwidth\n"
        "per level, capacity), the binding resource and lower bounds on latency and energy per\n"
        "op and for the model (ops in sequence). --stats compares with a simulator run; its\n"
        "layers match ops by the name of the op's result (%h = ... matches layer 'h').\n"
        "-o draws the hierarchical roofline with gnuplot (gnuplot-nox). See docs/roofline.md.",
    .opts = opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
