/* cmd_scaling.c: `kolmo scaling --arch A.yaml --family F.yaml [-o DIR] [--json]`: decode and
 * prefill bounds of a family of decoder models over a parameter range, power-law fits, the
 * KV/weight crossover and the capacity cliff (roofline/, docs/roofline.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "roofline.h"

static const CliOpt opts[] = {
    {"arch", 'a', "A.yaml", "architecture config (required)"},
    {"family", 'f', "F.yaml", "decoder family (required; e.g. examples/scaling/family.yaml)"},
    {"output", 'o', "DIR", "write DIR/scaling.json and the plots DIR/scaling_*.svg"},
    {"json", 0, NULL, "print the JSON report instead of the tables"},
    {NULL, 0, NULL, NULL},
};

static int
run(const CliCmd *cmd, CliArgs *a)
{
	const char *arch_path = cli_opt(cmd, a, "arch"), *fam = cli_opt(cmd, a, "family");
	const char *dir = cli_opt(cmd, a, "output");
	Diag d = {0};
	HwArch arch;
	RfFamily f;
	RfScaling s;
	char *js;
	int st = 0;

	if (!arch_path || !fam) {
		diag_err(&d, "kolmo", "scaling: --arch A.yaml and --family F.yaml are required");
		return cli_fail(&d);
	}
	if (hw_arch_load(&arch, arch_path, &d) || rf_family_load(&f, fam, &d) ||
	    rf_scaling_run(&arch, &f, &s, &d))
		return cli_fail(&d);
	js = rf_scaling_json(&s);
	if (dir) {
		char path[1100];
		if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
			diag_err(&d, dir, "cannot create the output directory: %s",
			         strerror(errno));
			st = 1;
		}
		snprintf(path, sizeof path, "%s/scaling.json", dir);
		if (!st && (!js || write_file_atomic(path, js, strlen(js), &d) ||
		            rf_scaling_plots(&s, dir, &d)))
			st = 1;
	}
	if (st) {
		free(js);
		rf_scaling_free(&s);
		return cli_fail(&d);
	}
	if (cli_opt(cmd, a, "json"))
		printf("%s\n", js ? js : "{}");
	else
		rf_scaling_print(&s, stdout);
	free(js);
	rf_scaling_free(&s);
	return 0;
}

const CliCmd cmd_scaling = {
    .name = "scaling",
    .summary = "scaling laws of decoder families on an architecture (roofline bounds)",
    .usage = "--arch A.yaml --family F.yaml [-o DIR] [--json]",
    .details =
        "Generates decoder models over the family's parameter range (dense-MLP or KAN\n"
        "feed-forward, dense or sparse attention), and bounds the latency and energy of a\n"
        "decode step and of a prefill (per token) at each context length: weights resident in\n"
        "the arrays while they fit, streamed from DRAM beyond (the capacity cliff); the KV\n"
        "cache in tile memory while it fits, in DRAM beyond. Fits power laws (least squares in\n"
        "log space, with R^2) versus N and versus T, and gives the KV/weight crossover T_x in\n"
        "closed form and numerically. -o DIR writes scaling.json and gnuplot plots.\n"
        "Family schema: docs/roofline.md.",
    .opts = opts,
    .min_pos = 0,
    .max_pos = 0,
    .run = run,
};
