/* cmd_dot.c: `kolmo dot M.kir [-o G.svg]`: the IR graph drawn by Graphviz (ir/irdot.c). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "onnx.h"
#include "ir.h"

static const CliOpt opts[] = {
    {"output", 'o', "FILE", "write FILE (.svg, .png, .pdf, .dot or .gv); default: DOT on stdout"},
    {NULL, 0, NULL, NULL},
};

static int
run(const CliCmd *cmd, CliArgs *a)
{
	const char *out = cli_opt(cmd, a, "output");
	Diag d = {0};
	Graph *g = onnx_model_load(a->pos[0], 0, &d);
	int r = 0;
	if (!g || ir_verify(g, &d) != 0) {
		ir_free(g);
		return cli_fail(&d);
	}
	if (out) {
		r = ir_dot_write(g, out, &d);
	} else {
		char *buf;
		size_t len;
		r = ir_dot_render(g, "dot", &buf, &len, &d);
		if (r == 0) {
			fwrite(buf, 1, len, stdout);
			free(buf);
		}
	}
	ir_free(g);
	return r == 0 ? 0 : cli_fail(&d);
}

const CliCmd cmd_dot = {
    .name = "dot",
    .summary = "draw an IR graph (.kir) with Graphviz",
    .usage = "M.kir [-o G.svg]",
    .details = "Parses and verifies M.kir, then lays it out with Graphviz dot. The output\n"
               "format follows the extension of -o. Ops are boxes (KAN layers green,\n"
               "attention red), inputs ellipses, weights grey notes, outputs double\n"
               "octagons; edges carry tensor types. On error no file is written.",
    .opts = opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
