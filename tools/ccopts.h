/* ccopts.h: the compile options shared by `kolmo compile` and `kolmo run` (one registration). */
#ifndef KOLMO_CCOPTS_H
#define KOLMO_CCOPTS_H

#include "cc.h"
#include "cli.h"
#include "npy.h"

#define CC_CLI_OPTS                                                                                \
	{"arch", 'a', "A.yaml", "architecture config (required)"},                                 \
	    {"O0", 0, NULL, "no optimisation"}, {"O2", 0, NULL, "optimise (default)"},             \
	    {"no-row-gating", 0, NULL, "activate every crossbar row (no zero-input gating)"},      \
	    {"adc-lossy", 0, NULL, "fill whole crossbars even if partial sums exceed the ADC"},    \
	    {"calib", 0, "X.npy", "calibration samples [N, inputs] for activation ranges"},        \
	    {"input-range", 0, "LO,HI", "synthetic calibration range (default -1,1)"},             \
	    {"max-weight-elems", 0, "N", "refuse a weight of more elements (default 2^28)"},       \
	    {"max-mem-mib", 0, "N", "refuse a model needing more compile memory (default 4096)"},  \
	{                                                                                          \
		"seed", 0, "N", "seed of synthetic calibration and inputs (default 0)"             \
	}

/* A loaded model and architecture with the options set from the command line. */
typedef struct CcJob {
	Graph *g;
	HwArch arch;
	CcOptions opt;
	Npy calib;
} CcJob;

int ccjob_load(const CliCmd *cmd, const CliArgs *a, CcJob *j, Diag *d);
void ccjob_free(CcJob *j);

#endif
