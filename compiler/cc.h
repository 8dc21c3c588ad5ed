/* cc.h: the kolmo compiler: a graph-IR model and an architecture in, a machine program (KProg,
 * written as .kelf) out. Public API of compiler/.
 *
 * The pipeline is a flat list of passes (cc.c), one per file:
 *   check     the graph is a supported chain of layers with known shapes
 *   fold      canonicalise: fold spline scalers, fuse activations into their layer
 *   calib     run the float reference on calibration samples: activation ranges
 *   quant     fixed-point formats: per-channel weights, per-tensor activations, KAN tables
 *   tile      cut each layer's weight matrix into crossbar blocks
 *   place     assign blocks to MVMUs of cores of tiles
 *   alloc     scratchpad and tile-memory addresses
 *   codegen   instructions per core, with layer symbols
 * The quantised model (CcModel) is also what the integer reference (cc_qref) executes, so the
 * simulator's ideal-mode outputs can be checked against it bit for bit. */
#ifndef KOLMO_CC_H
#define KOLMO_CC_H

#include <stdint.h>
#include <stdio.h>

#include "hw.h"
#include "ir.h"
#include "kelf.h"
#include "util.h"

typedef struct CcOptions {
	int opt_level;      /* 0 or 2 */
	int row_gating;     /* emit mvm with the gate flag (default 1) */
	int adc_exact;      /* limit rows per crossbar block so the ADC is lossless (default 1) */
	const float *calib; /* calibration samples [ncalib, input elems], or NULL */
	uint32_t ncalib;
	double input_lo,
	    input_hi;           /* synthetic calibration range when calib is NULL (default -1, 1) */
	uint32_t nsynth;        /* synthetic samples (default 256) */
	uint64_t seed;          /* for synthetic samples */
	uint64_t max_mem_bytes; /* refuse a model whose estimated compile memory (cc_mem_estimate)
	                           is larger (0: CC_MEM_DEFAULT) */
	FILE *dump;             /* per-pass dumps (-d): the graph after canonicalisation in .kir
	                           syntax, the quantised model after quant and after placement */
} CcOptions;

#define CC_MEM_DEFAULT ((uint64_t)4 << 30)

void cc_options_default(CcOptions *o);

/* cc_mem_estimate: an upper estimate of the heap bytes cc_compile needs for g with options o:
 * 16 bytes per weight element (float data, quantised values, crossbar images) plus the float
 * calibration activations (samples x every tensor's elements x 4 bytes). cc_compile refuses, with
 * a diagnostic and before allocating, a model over o->max_mem_bytes. */
uint64_t cc_mem_estimate(const Graph *g, const CcOptions *o);

typedef struct CcModel CcModel;

/* cc_canonicalize: rewrite g in place into the forms the rest of the toolchain reads (every
 * pykan_linear becomes a kan_linear with converted weights). 0, or -1 with d. cc_compile and
 * cc_eval_float call it; so do the references and the interpreter. */
int cc_canonicalize(Graph *g, Diag *d);

/* cc_compile: compile g for arch. On success *out is a validated program and *model (if not
 * NULL) the quantised model it implements (free with cc_model_free). On error returns -1 with a
 * diagnostic (file:line:col for model errors, e.g. an unsupported op or a capacity shortfall). */
int cc_compile(Graph *g, const HwArch *arch, const CcOptions *o, KProg **out, CcModel **model,
               Diag *d);
void cc_model_free(CcModel *m);

/* cc_model_dump: the quantised model in a readable form (formats, scales, blocks, placement). */
void cc_model_dump(const CcModel *m, FILE *f);

/* cc_qref: the integer reference: run the quantised model on the quantised input (batch x
 * in_len integers) and write the output integers (batch x out_len). Independent of tiling except
 * for the ADC's rounding, which it emulates per crossbar block when the ADC is not lossless. */
int cc_qref(const CcModel *m, const int32_t *in, int32_t *out, Diag *d);
/* cc_model_batch: samples per run (the input's leading dimension; 1 for a vector input). */
uint32_t cc_model_batch(const CcModel *m);
/* cc_model_io: per-sample element counts and scales of the model's input and output. */
void cc_model_io(const CcModel *m, uint32_t *in_len, double *in_scale, uint32_t *out_len,
                 double *out_scale);

/* cc_is_attention: g holds an attention or sparse_attention node (the attention lowering,
 * docs/attention.md, takes it: inputs q, k, v concatenated in that order wherever the API
 * speaks of "the input"). */
int cc_is_attention(const Graph *g);
/* cc_attention_core: 1 if g's attention node reads the graph's inputs q, k, v (not an attention
 * layer with projections). */
int cc_attention_core(const Graph *g);

/* cc_attention_dense: for an attention graph, dense attention (same scale, causal rule) of its
 * q | k | v input (in node-operand order): the baseline that sparse attention is measured against.
 */
int cc_attention_dense(Graph *g, const float *in, float *out, Diag *d);

/* cc_eval_float: the float reference of the graph on one input (elements in, out). */
int cc_eval_float(Graph *g, const float *in, float *out, Diag *d);

#endif
