/* cmd_ref.c: `kolmo ref M.kir --out DIR`: golden outputs through the LLVM JIT, in float32 or
 * (--quantized) exactly as the compiled model computes them. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ccopts.h"
#include "onnx.h"
#include "isa.h"
#include "ref.h"

static const CliOpt opts[] = {
    CC_CLI_OPTS,
    {"input", 'i', "[NAME=]X.npy",
     "input tensor(s), comma-separated; a bare path is the first input; default: a seeded "
     "uniform draw in the input range (the same as kolmo run)"},
    {"quantized", 'q', NULL, "run the compiled, quantised model (needs --arch)"},
    {"out", 'o', "DIR", "write one NAME.npy (float32) per output tensor into DIR (required)"},
    {"json", 0, NULL, "print a JSON summary (mode, outputs, timings)"},
    {"emit-llvm", 0, "F.ll", "also write the generated LLVM IR (before optimisation)"},
    {NULL, 0, NULL, NULL},
};

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Seed and input range for the default inputs in float mode (compile options do it otherwise).
 */
static int
float_options(const CliCmd *cmd, const CliArgs *a, CcOptions *o, Diag *d)
{
	const char *v;
	cc_options_default(o);
	if ((v = cli_opt(cmd, a, "seed"))) {
		char *end;
		errno = 0;
		o->seed = strtoull(v, &end, 0);
		if (errno || *end || end == v)
			return diag_err(d, "kolmo", "ref: --seed wants a number, not '%s'", v);
	}
	if ((v = cli_opt(cmd, a, "input-range"))) {
		char *end;
		o->input_lo = strtod(v, &end);
		if (*end != ',' || !(o->input_hi = strtod(end + 1, &end), *end == 0) ||
		    !(o->input_lo < o->input_hi))
			return diag_err(d, "kolmo",
			                "ref: --input-range wants LO,HI with LO < HI, not '%s'", v);
	}
	return 0;
}

/* Fill the model inputs: from the --input files, the rest from the seeded generator of
 * `kolmo run` (one stream, inputs in order). */
static int
load_inputs(const RefModel *r, const char *spec, const CcOptions *o, float **x, Diag *d)
{
	uint32_t i, n = ref_ninputs(r);
	char *given = xcalloc(n + 1, 1);
	uint64_t s = o->seed ^ 0x696e707574ull;
	int rc = 0;
	if (spec) {
		char *copy = xstrdup(spec), *tok, *save = NULL;
		int first = 1;
		for (tok = strtok_r(copy, ",", &save); tok && !rc;
		     tok = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(tok, '='), *path = tok;
			uint32_t k = n;
			Npy t;
			uint64_t e;
			if (eq) {
				*eq = 0;
				path = eq + 1;
				for (k = 0; k < n && strcmp(ref_input(r, k)->name, tok); k++)
					;
			} else if (first) {
				k = 0;
			}
			first = 0;
			if (k >= n) {
				rc = diag_err(d, "kolmo", "ref: the model has no input %s%s%s",
				              eq ? "named '" : "", eq ? tok : "to take",
				              eq ? "'" : "");
				break;
			}
			if (npy_read_file(path, 1ull << 31, &t, d)) {
				rc = -1;
				break;
			}
			if (t.count != ref_input(r, k)->elems) {
				rc = diag_err(d, path,
				              "input '%s' needs %llu elements, the file has %llu",
				              ref_input(r, k)->name,
				              (unsigned long long)ref_input(r, k)->elems,
				              (unsigned long long)t.count);
				npy_free(&t);
				break;
			}
			for (e = 0; e < t.count && !rc; e++) {
				double v = npy_get_f64(&t, e);
				if (!isfinite(v))
					rc = diag_err(d, path,
					              "input '%s' element %llu is not finite",
					              ref_input(r, k)->name, (unsigned long long)e);
				x[k][e] = (float)v;
			}
			npy_free(&t);
			given[k] = 1;
		}
		free(copy);
	}
	for (i = 0; i < n && !rc; i++) {
		uint64_t e;
		if (given[i])
			continue;
		for (e = 0; e < ref_input(r, i)->elems; e++) {
			uint64_t z = (s += 0x9e3779b97f4a7c15ull);
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
			z ^= z >> 31;
			x[i][e] = (float)(o->input_lo + (o->input_hi - o->input_lo) *
			                                    (double)(z >> 11) * 0x1.0p-53);
		}
	}
	free(given);
	return rc;
}

/* Write every output, or none: files written before a failure are removed. */
static int
write_outputs(const RefModel *r, const char *dir, float **y, Diag *d)
{
	uint32_t i, k, n = ref_noutputs(r);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return diag_err(d, dir, "cannot create directory: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		const RefIo *io = ref_output(r, i);
		uint64_t dims[NPY_MAX_RANK];
		char path[1200];
		for (k = 0; k < io->rank; k++)
			dims[k] = (uint64_t)io->dims[k];
		snprintf(path, sizeof path, "%s/%s.npy", dir, io->name);
		if (npy_write_file(path, NPY_F32, io->rank, dims, y[i], d)) {
			while (i-- > 0) {
				snprintf(path, sizeof path, "%s/%s.npy", dir,
				         ref_output(r, i)->name);
				unlink(path);
			}
			return -1;
		}
	}
	return 0;
}

static int
run(const CliCmd *cmd, CliArgs *a)
{
	CcJob j;
	Diag d = {0};
	KProg *p = NULL;
	CcModel *m = NULL;
	RefModel *r = NULL;
	const char *outdir = cli_opt(cmd, a, "out"), *v;
	int quant = cli_opt(cmd, a, "quantized") != NULL, rc = 1;
	float **x = NULL, **y = NULL;
	uint32_t i, nin = 0, nout = 0, sat = 0;
	double t0 = now_s(), t_build = 0, t_run = 0;

	memset(&j, 0, sizeof j);
	if (!outdir) {
		diag_err(&d, "kolmo", "ref: --out DIR is required");
		return cli_fail(&d);
	}
	if (quant) {
		if (ccjob_load(cmd, a, &j, &d) || cc_compile(j.g, &j.arch, &j.opt, &p, &m, &d) ||
		    ref_build_quant(m, &r, &d))
			goto out;
	} else {
		if (float_options(cmd, a, &j.opt, &d))
			goto out;
		j.g = onnx_model_load(a->pos[0], IR_PARSE_LOAD_WEIGHTS, &d);
		if (!j.g || cc_canonicalize(j.g, &d) || ref_build_float(j.g, &r, &d))
			goto out;
	}
	t_build = now_s() - t0;
	if ((v = cli_opt(cmd, a, "emit-llvm")) &&
	    write_file_atomic(v, ref_llvm_ir(r), strlen(ref_llvm_ir(r)), &d))
		goto out;
	nin = ref_ninputs(r);
	nout = ref_noutputs(r);
	x = xcalloc(nin + 1, sizeof *x);
	y = xcalloc(nout + 1, sizeof *y);
	for (i = 0; i < nin; i++)
		x[i] = xcalloc(ref_input(r, i)->elems + 1, sizeof(float));
	for (i = 0; i < nout; i++)
		y[i] = xcalloc(ref_output(r, i)->elems + 1, sizeof(float));
	if (load_inputs(r, cli_opt(cmd, a, "input"), &j.opt, x, &d))
		goto out;
	t0 = now_s();
	if (quant) {
		/* Quantise the input as the simulator does: scale, round half away from zero,
		 * saturate to the input type. */
		const RefIo *in = ref_input(r, 0), *o = ref_output(r, 0);
		int64_t lo = in->qtype == TY_I8 ? INT8_MIN : INT16_MIN;
		int64_t hi = in->qtype == TY_I8 ? INT8_MAX : INT16_MAX;
		int32_t *xq = xcalloc(in->elems + 1, sizeof(int32_t));
		int32_t *yq = xcalloc(o->elems + 1, sizeof(int32_t));
		uint64_t e;
		for (e = 0; e < in->elems; e++) {
			double q = x[0][e] / in->scale;
			int64_t qi = (int64_t)(q < 0 ? -floor(-q + 0.5) : floor(q + 0.5));
			if (qi < lo || qi > hi) {
				qi = qi < lo ? lo : hi;
				sat++;
			}
			xq[e] = (int32_t)qi;
		}
		ref_run_quant(r, xq, yq);
		for (e = 0; e < o->elems; e++)
			y[0][e] = (float)((double)yq[e] * o->scale);
		free(xq);
		free(yq);
		if (sat)
			fprintf(
			    stderr,
			    "kolmo ref: warning: %u input values saturated at the input scale %g\n",
			    sat, in->scale);
	} else {
		ref_run_float(r, (const float *const *)x, y);
	}
	t_run = now_s() - t0;
	if (write_outputs(r, outdir, y, &d))
		goto out;
	if (cli_opt(cmd, a, "json")) {
		json_t *js = json_object(), *outs = json_array();
		json_object_set_new(js, "mode", json_string(quant ? "quantized" : "float"));
		json_object_set_new(js, "model", json_string(a->pos[0]));
		if (quant)
			json_object_set_new(js, "arch", json_string(j.arch.name));
		json_object_set_new(js, "build_s", json_real(t_build));
		json_object_set_new(js, "run_s", json_real(t_run));
		json_object_set_new(js, "saturated_inputs", json_integer(sat));
		for (i = 0; i < nout; i++) {
			const RefIo *io = ref_output(r, i);
			json_t *o = json_object(), *shape = json_array();
			char path[1200];
			uint32_t k;
			for (k = 0; k < io->rank; k++)
				json_array_append_new(shape, json_integer(io->dims[k]));
			snprintf(path, sizeof path, "%s/%s.npy", outdir, io->name);
			json_object_set_new(o, "name", json_string(io->name));
			json_object_set_new(o, "file", json_string(path));
			json_object_set_new(o, "shape", shape);
			json_array_append_new(outs, o);
		}
		json_object_set_new(js, "outputs", outs);
		json_dumpf(js, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
		fputc('\n', stdout);
		json_decref(js);
	} else {
		for (i = 0; i < nout; i++)
			printf("%s/%s.npy\n", outdir, ref_output(r, i)->name);
	}
	rc = 0;
out:
	if (rc)
		cli_fail(&d);
	for (i = 0; x && i < nin; i++)
		free(x[i]);
	for (i = 0; y && i < nout; i++)
		free(y[i]);
	free(x), free(y);
	ref_free(r);
	cc_model_free(m);
	kprog_free(p);
	ccjob_free(&j);
	return rc;
}

const CliCmd cmd_ref = {
    .name = "ref",
    .summary = "golden outputs through the LLVM JIT (float32, or the quantised model)",
    .usage = "M.kir [--input X.npy] [--quantized --arch A.yaml] --out DIR [--json]",
    .details =
        "Lowers the model to LLVM IR, JIT-compiles it (ORC LLJIT) and runs it, writing one\n"
        "NAME.npy (float32) per output, the same layout as `kolmo sim --out`.\n"
        "Float mode runs the graph in float32: linear, kan_linear (Cox-de Boor), relu, silu,\n"
        "exp, sigmoid, tanh, add, mul, sub, div, reshape, matmul, softmax, layernorm,\n"
        "transpose, concat, attention, block_mask, sparse_attention, linear_attention.\n"
        "--quantized compiles the model with the compile options and\n"
        "runs its fixed-point semantics (docs/compiler.md): the simulator's ideal-mode output\n"
        "equals it bit for bit. Inputs are quantised with the model's input scale.",
    .opts = opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
