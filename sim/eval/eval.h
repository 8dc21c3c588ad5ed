/* eval.h: task accuracy of a compiled model on a labelled dataset: the dataset (NAME_x.npy float
 * samples [N, inputs], NAME_y.npy integer labels [N]), the samples run through the cycle-level
 * simulator (ideal or non-ideal devices, a fresh chip state per sample) or through the integer
 * reference, and the float reference's accuracy beside it. The predicted class is the largest
 * output (the first on a tie). Public API of eval/; `kolmo eval` and the DSE's accuracy
 * objective are thin users of it.
 *
 * Nothing here is global: a loaded dataset is only read by the evaluations, so any number of
 * threads may evaluate over one EvalData at once. */
#ifndef KOLMO_EVAL_H
#define KOLMO_EVAL_H

#include <stdint.h>

#include "cc.h"
#include "hw.h"
#include "sim.h"
#include "util.h"

typedef struct EvalData {
	char xpath[1100], ypath[1100], name[256];
	float *x;   /* [n, nin] */
	int32_t *y; /* [n] */
	uint32_t n, nin;
	int32_t max_label;
	uint64_t hash; /* of the samples and labels (FNV-1a over the values as loaded) */
} EvalData;

/* eval_data_find: where the dataset D is: a directory holding exactly one NAME_x.npy /
 * NAME_y.npy pair, or the prefix DIR/NAME. Fills xpath, ypath and name; an empty or ambiguous
 * directory is an error (-1 with d). Does not check that the prefix's files exist. */
int eval_data_find(const char *spec, EvalData *ds, Diag *d);

/* eval_data_load: find and read D: samples [N, nin] of finite numbers (nin 0: any width, taken
 * from the file), integer labels [N] in 0 .. nclass-1 (nclass 0: any label >= 0). in_name names
 * the model input in the message about a wrong width. Returns 0, or -1 with d naming the file;
 * on error nothing needs freeing. */
int eval_data_load(const char *spec, uint32_t nin, uint32_t nclass, const char *in_name,
                   EvalData *ds, Diag *d);
void eval_data_free(EvalData *ds);

/* The tally of one evaluation: correct predictions out of n, sums of the per-inference latency
 * and energy (simulated runs only; 0 from the integer reference). */
typedef struct EvalScore {
	uint32_t correct, n;
	double lat_sum, energy_sum;
} EvalScore;

/* Progress of an evaluation: samples done out of total (called after each sample). */
typedef void (*EvalProgress)(void *ctx, uint32_t done, uint32_t total);

/* eval_sim: run the first n samples of ds (n 0 or beyond ds->n: all) through the simulator with
 * program p on arch and options so (NULL: ideal), one sim_new per sample (same seed: the same
 * chip), inputs quantised as `kolmo sim --input` does (divide by the input's scale, round half
 * away from zero, saturate). ds->nin must be the program input's element count and the output's
 * element count the number of classes. progress may be NULL. Returns 0 with sc, or -1 with d
 * (a simulator fault). */
int eval_sim(const HwArch *arch, const KProg *p, const SimOptions *so, const EvalData *ds,
             uint32_t n, EvalProgress progress, void *ctx, EvalScore *sc, Diag *d);

/* eval_qref: the same tally through the compiler's integer reference (cc_qref, bit-exact with
 * the ideal simulator, ADC rounding included) instead of the simulator: no latency or energy. m
 * is the model p was compiled from. */
int eval_qref(const CcModel *m, const KProg *p, const EvalData *ds, uint32_t n, EvalScore *sc,
              Diag *d);

/* eval_float: correct predictions of the float reference (cc_eval_float) on the first n
 * samples (0: all); nout is the model's output count. */
int eval_float(Graph *g, const EvalData *ds, uint32_t n, uint32_t nout, uint32_t *correct, Diag *d);

/* eval_accuracy: correct / n as a fraction (0 when n is 0). */
double eval_accuracy(const EvalScore *sc);

#endif
