/* cmd_asm.c: `kolmo asm F.s -o F.kelf`: assemble a whole program into a .kelf binary. */
#include <string.h>

#include "cli.h"
#include "kelf.h"

static int
run(const CliCmd *cmd, CliArgs *a)
{
	const char *in = a->pos[0], *out = cli_opt(cmd, a, "output");
	char def[1024];
	KProg *p;
	Diag d = {0};
	int rc;
	if (!out) {
		/* F.s -> F.kelf next to it */
		const char *dot = strrchr(in, '.'), *slash = strrchr(in, '/');
		size_t n = dot && (!slash || dot > slash) ? (size_t)(dot - in) : strlen(in);
		if (n + 6 > sizeof def) {
			diag_err(&d, "kolmo", "asm: input path too long; give -o");
			return cli_fail(&d);
		}
		memcpy(def, in, n);
		strcpy(def + n, ".kelf");
		out = def;
	}
	if (kasm_file(in, &p, &d))
		return cli_fail(&d);
	rc = kelf_write_file(p, out, &d);
	kprog_free(p);
	return rc ? cli_fail(&d) : 0;
}

const CliCmd cmd_asm = {
    .name = "asm",
    .summary = "assemble a kolmo assembly file (.s) into a binary (.kelf)",
    .usage = "F.s [-o F.kelf]",
    .details = "The file holds a whole program: .arch, .core TILE CORE, instructions and labels,\n"
               ".spad/.tmem/.dram data, .xbar crossbar images, .layer symbols and the\n"
               ".input/.output tensor map (docs/binary.md). Errors are file:line:col with the\n"
               "source line; on any error no output file is written.",
    .opts = (const CliOpt[]){{"output", 'o', "F.kelf", "output file (default: F with .kelf)"},
                             {NULL, 0, NULL, NULL}},
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
