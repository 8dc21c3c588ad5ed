/* cmd_compile.c: `kolmo compile M.kir --arch A.yaml -o M.kelf`. */
#include <stdlib.h>
#include <string.h>

#include "ccopts.h"

static const CliOpt opts[] = {
    CC_CLI_OPTS,
    {"out", 'o', "M.kelf", "output binary (default: the model's name with .kelf)"},
    {"emit", 0, "WHAT", "print a stage instead of writing the binary: ir, model, asm, dot"},
    {"d", 'd', NULL, "per-pass dumps to stderr: canonical graph (.kir), formats, placement"},
    {NULL, 0, NULL, NULL},
};

static int
run(const CliCmd *cmd, CliArgs *a)
{
	CcJob j;
	Diag d = {0};
	KProg *p = NULL;
	CcModel *m = NULL;
	const char *emit = cli_opt(cmd, a, "emit"), *out = cli_opt(cmd, a, "out");
	char defout[1024];
	int rc = 1;
	if (emit && strcmp(emit, "ir") && strcmp(emit, "model") && strcmp(emit, "asm") &&
	    strcmp(emit, "dot")) {
		diag_err(&d, "kolmo", "compile: --emit wants ir, model, asm or dot, not '%s'",
		         emit);
		return cli_fail(&d);
	}
	if (ccjob_load(cmd, a, &j, &d))
		goto out;
	if (emit && strcmp(emit, "ir") == 0) {
		char *t = ir_print(j.g);
		int r = out ? write_file_atomic(out, t, strlen(t), &d) : (fputs(t, stdout), 0);
		free(t);
		rc = r ? 1 : 0;
		goto out;
	}
	if (emit && strcmp(emit, "dot") == 0) {
		if (!out) {
			char *buf;
			size_t len;
			if (ir_dot_render(j.g, "dot", &buf, &len, &d))
				goto out;
			fwrite(buf, 1, len, stdout);
			free(buf);
		} else if (ir_dot_write(j.g, out, &d)) {
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (cli_opt(cmd, a, "d"))
		j.opt.dump = stderr;
	if (cc_compile(j.g, &j.arch, &j.opt, &p, &m, &d))
		goto out;
	if (emit && strcmp(emit, "model") == 0) {
		cc_model_dump(m, stdout);
	} else if (emit && strcmp(emit, "asm") == 0) {
		kprog_disasm(p, stdout, 0);
	} else {
		if (!out) {
			const char *base = strrchr(a->pos[0], '/');
			const char *dot;
			base = base ? base + 1 : a->pos[0];
			dot = strrchr(base, '.');
			snprintf(defout, sizeof defout, "%.*s.kelf",
			         (int)(dot ? (size_t)(dot - base) : strlen(base)), base);
			out = defout;
		}
		if (kelf_write_file(p, out, &d))
			goto out;
	}
	rc = 0;
out:
	if (rc)
		cli_fail(&d);
	cc_model_free(m);
	kprog_free(p);
	ccjob_free(&j);
	return rc;
}

const CliCmd cmd_compile = {
    .name = "compile",
    .summary = "compile a model (.kir) for an architecture into a binary (.kelf)",
    .usage = "M.kir --arch A.yaml [-o M.kelf] [-O0|-O2] [--emit ir|model|asm|dot] [-d]",
    .details = "Lowers a chain of linear and kan_linear layers (with relu or silu after them)\n"
               "to the CIM ISA: calibration, fixed-point formats, crossbar tiling, placement on\n"
               "MVMUs, cores and tiles, memory allocation, code generation. docs/compiler.md\n"
               "describes each step and the fixed-point formats.",
    .opts = opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
