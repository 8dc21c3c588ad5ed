/* ccopts.c: loading a model, an architecture and the compile options for compile and run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ccopts.h"
#include "onnx.h"

int
ccjob_load(const CliCmd *cmd, const CliArgs *a, CcJob *j, Diag *d)
{
	const char *v;
	memset(j, 0, sizeof *j);
	cc_options_default(&j->opt);
	if (!cli_opt(cmd, a, "arch"))
		return diag_err(d, "kolmo", "%s: --arch A.yaml is required", cmd->name);
	if (cli_opt(cmd, a, "O0") && cli_opt(cmd, a, "O2"))
		return diag_err(d, "kolmo", "%s: -O0 and -O2 exclude each other", cmd->name);
	j->opt.opt_level = cli_opt(cmd, a, "O0") ? 0 : 2;
	j->opt.row_gating = cli_opt(cmd, a, "no-row-gating") == NULL;
	j->opt.adc_exact = cli_opt(cmd, a, "adc-lossy") == NULL;
	if ((v = cli_opt(cmd, a, "seed"))) {
		char *end;
		errno = 0;
		j->opt.seed = strtoull(v, &end, 0);
		if (errno || *end || end == v)
			return diag_err(d, "kolmo", "%s: --seed wants a number, not '%s'",
			                cmd->name, v);
	}
	if ((v = cli_opt(cmd, a, "input-range"))) {
		char *end;
		j->opt.input_lo = strtod(v, &end);
		if (*end != ',' || !(j->opt.input_hi = strtod(end + 1, &end), *end == 0) ||
		    !(j->opt.input_lo < j->opt.input_hi))
			return diag_err(d, "kolmo",
			                "%s: --input-range wants LO,HI with LO < HI, not '%s'",
			                cmd->name, v);
	}
	if ((v = cli_opt(cmd, a, "max-mem-mib"))) {
		char *end;
		unsigned long long mib;
		errno = 0;
		mib = strtoull(v, &end, 0);
		if (errno || *end || end == v || mib == 0 || mib > (1ull << 40))
			return diag_err(d, "kolmo",
			                "%s: --max-mem-mib wants a positive number, not '%s'",
			                cmd->name, v);
		j->opt.max_mem_bytes = (uint64_t)mib << 20;
	}
	if (hw_arch_load(&j->arch, cli_opt(cmd, a, "arch"), d))
		return -1;
	j->g = onnx_model_load(a->pos[0], 0, d);
	if (!j->g)
		return -1;
	if ((v = cli_opt(cmd, a, "max-weight-elems"))) {
		char *end;
		errno = 0;
		j->g->max_weight_elems = (int64_t)strtoll(v, &end, 0);
		if (errno || *end || end == v || j->g->max_weight_elems < 1)
			return diag_err(d, "kolmo",
			                "%s: --max-weight-elems wants a positive number, not '%s'",
			                cmd->name, v);
	}
	if (ir_load_weights(j->g, d))
		return -1;
	if ((v = cli_opt(cmd, a, "calib"))) {
		uint64_t i;
		float *f;
		if (npy_read_file(v, 1ull << 28, &j->calib, d))
			return -1;
		if (j->calib.rank != 2)
			return diag_err(d, v, "calibration samples must be a [N, inputs] array");
		f = xmalloc(sizeof(float) * j->calib.count + 1);
		for (i = 0; i < j->calib.count; i++)
			f[i] = (float)npy_get_f64(&j->calib, i);
		npy_free(&j->calib);
		j->calib.data = f;
		j->opt.calib = f;
		j->opt.ncalib = (uint32_t)j->calib.dims[0];
	}
	return 0;
}

void
ccjob_free(CcJob *j)
{
	free(j->calib.data);
	ir_free(j->g);
	j->g = NULL;
}
