/* dse.h: design-space exploration: sweep files, point generation, evaluation (compile + simulate,
 * or an analytic estimate), a crash-safe journal, Pareto fronts, outputs, and the parallel driver
 * (threads; MPI ranks under mpirun). Public API of dse/.
 *
 * A sweep (YAML, docs/dse.md) names a base architecture, parameters to vary by their hwmodels key
 * paths, workloads (.kir models with compile options) and objectives. Its points are generated
 * deterministically (grid, random or Latin hypercube with a seed); each point is evaluated
 * independently by a worker that owns its own architecture, graph, program and simulator, so
 * any number of workers run at once. Finished points go to a journal (one JSON line each, fsync'd);
 * the outputs are always rebuilt from the journal, so a resumed or parallel run writes the same
 * bytes as a single uninterrupted one. */
#ifndef KOLMO_DSE_H
#define KOLMO_DSE_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "cc.h"
#include "eval.h"
#include "hw.h"
#include "sim.h"
#include "util.h"

/* ---- objectives: one table ---- */

/* DSE_OBJ(id, name, unit, maximise, help): maximise 1 for an objective where more is better. */
#define DSE_OBJECTIVES                                                                             \
	DSE_OBJ(LATENCY, "latency_s", "s", 0, "sum over the workloads of one inference's latency") \
	DSE_OBJ(ENERGY, "energy_j", "J", 0, "sum over the workloads of one inference's energy")    \
	DSE_OBJ(AREA, "area_mm2", "mm2", 0, "chip area (hw_report)")                               \
	DSE_OBJ(EDP, "edp", "J*s", 0, "energy_j x latency_s")                                      \
	DSE_OBJ(POWER, "power_w", "W", 0, "chip peak power (hw_report)")                           \
	DSE_OBJ(ERROR, "output_error", "", 0,                                                      \
	        "max over workloads of max|hardware output - float reference| / max|float "        \
	        "reference| on one seeded input (numerical fidelity, not accuracy)")               \
	DSE_OBJ(ACCURACY, "accuracy", "", 1,                                                       \
	        "task accuracy: the lowest over the workloads with a dataset (eval:) of the "      \
	        "fraction of its samples classified right on the point's hardware (maximised)")

typedef enum DseObj {
#define DSE_OBJ(id, name, unit, maximise, help) DSE_O_##id,
	DSE_OBJECTIVES
#undef DSE_OBJ
	    DSE_NOBJ
} DseObj;

typedef struct DseObjInfo {
	const char *name, *unit;
	int maximise;
	const char *help;
} DseObjInfo;
extern const DseObjInfo dse_objs[DSE_NOBJ];
/* dse_obj_find: objective index of a name, or -1. */
int dse_obj_find(const char *name);

/* ---- the sweep file ---- */

typedef enum DseMethod { DSE_GRID, DSE_RANDOM, DSE_LHS } DseMethod;
extern const char *const dse_method_names[];

typedef enum DseParamKind {
	DSE_P_LIST,  /* explicit values */
	DSE_P_RANGE, /* from/to with step or times: enumerated levels */
	DSE_P_CONT,  /* from/to without step: continuous (random and lhs only) */
	DSE_P_GROUP  /* a named list of choices, each setting several keys together */
} DseParamKind;

/* One swept dimension. Its levels (LIST, RANGE, GROUP) are nlevels x nkeys value texts. */
typedef struct DseParam {
	char *name; /* key path, or the group's name */
	DseParamKind kind;
	int line, col; /* in the sweep file */
	int nkeys;     /* keys this dimension sets (1 except for groups) */
	int *keys;     /* schema rows (hw_params) */
	int nlevels;   /* 0 for DSE_P_CONT */
	char **levels; /* nlevels x nkeys texts */
	double lo, hi; /* DSE_P_CONT: the interval */
	int integer;   /* DSE_P_CONT on an integer or byte key: integer values */
} DseParam;

typedef struct DseWorkload {
	char *name;  /* column prefix, unique */
	char *path;  /* as resolved */
	char *shown; /* as written in the sweep: names the model in per-point reasons, so that
	                the outputs do not depend on where the sweep was run from */
	char *text;  /* the .kir text, read once; each evaluation parses its own graph */
	size_t len;
	char *base_dir; /* for relative safetensors paths */
	CcOptions opt;
	/* For the estimate: per layer name, the fraction of drive rows expected active under row
	 * gating (KAN: (1 + k + 1) / (1 + G + k); linear: 1). */
	int nlayers;
	char **layer_names;
	double *layer_active;
	int *layer_nb; /* basis values per input (G + k) for a KAN layer, else 0 */
	/* Task accuracy (`eval:` in the sweep): the dataset, read and checked once at load time
	 * and then only read by the workers; the samples used (0: all) and the simulator's device
	 * modes and seed (the workload's seed, as `kolmo eval --seed`). */
	int has_eval;
	EvalData data;
	uint32_t eval_samples;
	SimOptions eval_so;
} DseWorkload;

enum { DSE_MAX_PARETO = 16 };

typedef struct DseSweep {
	char *file; /* the sweep file */
	char *name;
	char *base_path;
	HwArch base;
	DseMethod method;
	uint32_t npoints_req; /* random, lhs */
	uint64_t seed;
	int auto_mesh; /* derive chip.mesh_rows/cols from a swept chip.tiles */
	DseParam *params;
	int nparams;
	/* Output columns: every key the sweep sets, in file order (auto-mesh keys last). */
	int ncols;
	int *cols;                        /* schema rows */
	int mesh_rows_col, mesh_cols_col; /* column of an auto-mesh key, or -1 */
	DseWorkload *wl;
	int nwl;
	int obj[DSE_NOBJ]; /* objectives asked for, in order */
	int nobj;
	int pareto[DSE_MAX_PARETO][2];
	int npareto;
	uint64_t hash; /* of everything that determines results (base, workloads, options) */
	int accuracy;  /* some workload has a dataset: the accuracy objective is measured */
} DseSweep;

/* dse_sweep_load: read, schema-check and prepare a sweep file: the base architecture is loaded,
 * every workload read and parsed once (a model that does not parse is an error here), every value
 * checked against the parameter's type and range. On error fills d (file:line:col: error: ...
 * with the source line and a caret) and returns -1; nothing else needs freeing. */
int dse_sweep_load(DseSweep *s, const char *path, Diag *d);
/* dse_sweep_load_mem: the same from memory; dir anchors relative paths (NULL: cwd). */
int dse_sweep_load_mem(DseSweep *s, const char *buf, size_t len, const char *fname, const char *dir,
                       Diag *d);
void dse_sweep_free(DseSweep *s);

/* ---- points ---- */

/* One design point: a value text per output column (NULL: not set, the base value). */
typedef struct DsePoint {
	uint32_t index;
	char **val;    /* ncols */
	uint64_t hash; /* of the sweep's hash, the mode and the assignments */
} DsePoint;

typedef struct DsePoints {
	uint32_t n;
	int ncols;
	DsePoint *p;
} DsePoints;

/* dse_points: all points of the sweep, in index order. Deterministic: the same sweep (and seed)
 * gives the same points on every machine. fast is part of each point's hash. Returns -1 with d
 * when the grid is too large. */
int dse_points(const DseSweep *s, int fast, DsePoints *out, Diag *d);
void dse_points_free(DsePoints *p);

/* ---- evaluation ---- */

typedef struct DseWlResult {
	uint64_t cycles;
	double latency_s, energy_j, output_error;
	double accuracy; /* NAN without a dataset */
} DseWlResult;

enum { DSE_MAX_WL = 32, DSE_REASON = 512 };

typedef struct DseResult {
	uint32_t index;
	uint64_t hash;
	int feasible;
	int estimate;            /* 1: --fast analytic estimate, 0: simulated */
	char reason[DSE_REASON]; /* why infeasible */
	double obj[DSE_NOBJ];    /* NAN where not available (accuracy without a dataset) */
	int nwl;
	DseWlResult wl[DSE_MAX_WL];
} DseResult;

/* dse_eval: evaluate one point: set its parameters on a copy of the base (all at once with
 * hw_arch_set_many; the validator's refusal makes the point infeasible), then for each workload
 * parse a private graph, compile (a model that does not fit is infeasible), and simulate with a
 * seeded input (or, when fast, estimate: dse_estimate); price energy (sim_energy) and area and
 * power (hw_report). A workload with a dataset also runs its samples on the point's program and
 * architecture (eval_sim with its device modes; when fast and the devices are ideal, the integer
 * reference, which gives the same predictions): its task accuracy. Touches no shared mutable state:
 * call it from any number of threads. */
void dse_eval(const DseSweep *s, const DsePoint *p, int fast, DseResult *r);

/* dse_estimate: the --fast analytic estimate of one compiled program: each core's code walked
 * once in order with the timing rules of docs/timing.md (MVMU busy-until, vector and SBU costs,
 * tile-memory transfers; messages assumed to arrive without waiting), latency = the slowest core;
 * action counts from the crossbar blocks (row activations scaled by the workload's expected
 * active-row fraction when row gating is on) and the instructions, priced with the ERT. */
void dse_estimate(const HwArch *a, const KProg *p, const DseWorkload *w, int row_gating,
                  uint64_t *cycles, double *latency_s, double *energy_j);

/* ---- journal ---- */

/* dse_result_json: one journal line (compact JSON + '\n', malloc'd). Doubles print with 17
 * significant digits, so dse_result_parse gives back the same bits. */
char *dse_result_json(const DseSweep *s, const DsePoint *p, const DseResult *r);
/* dse_result_parse: a journal line back into r. -1 if the line is not a complete record. */
int dse_result_parse(const char *line, size_t len, DseResult *r);

typedef struct DseJournal {
	int fd;
	char path[1024];
} DseJournal;

/* dse_journal_open: open (create) OUT/journal.jsonl, lock it against a concurrent run, read every
 * complete line into done[] (done[i] = 1 and res[i] filled for finished points; a point whose
 * hash differs from pts is an error: the journal belongs to another sweep), drop a torn last
 * line, and leave the file positioned for appending. */
int dse_journal_open(DseJournal *j, const char *out_dir, const DsePoints *pts, unsigned char *done,
                     DseResult *res, uint32_t *ndone, Diag *d);
/* dse_journal_append: write whole lines (one or several) with a single write(), then
 * fdatasync. */
int dse_journal_append(DseJournal *j, const char *lines, Diag *d);
void dse_journal_close(DseJournal *j);

/* The journal's writer thread: lines handed to it are appended in batches (every line waiting
 * goes into one write() and one fdatasync), so the caller never waits on the disk and a burst
 * of finished points costs one sync. A point counts as finished once its batch is synced. */
typedef struct DseJournalWriter {
	DseJournal *j;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *buf; /* lines waiting */
	size_t len, cap;
	uint32_t batches; /* write + fdatasync pairs so far */
	int closing, failed;
	Diag d; /* the failure */
} DseJournalWriter;

/* dse_jw_start: start the writer on an open journal. */
void dse_jw_start(DseJournalWriter *w, DseJournal *j);
/* dse_jw_push: queue one line (copied). Returns -1 with d once the writer has failed. */
int dse_jw_push(DseJournalWriter *w, const char *line, Diag *d);
/* dse_jw_finish: write what is waiting and stop the thread. 0, or -1 with d if a write or sync
 * failed at any time. */
int dse_jw_finish(DseJournalWriter *w, Diag *d);

/* ---- Pareto fronts ---- */

/* dse_dominates: 1 if (a0, a1) dominates (b0, b1) when minimising both: no worse in both and
 * better in one. */
int dse_dominates(double a0, double a1, double b0, double b1);
/* dse_pareto2: front[i] = 1 for the non-dominated points among those with ok[i] (ok may be NULL:
 * all); points with NAN are never on the front. Equal points are both on it. O(n log n).
 * Returns the front's size. */
uint32_t dse_pareto2(const double *x, const double *y, const unsigned char *ok, uint32_t n,
                     unsigned char *front);

/* ---- outputs ---- */

/* dse_write_outputs: points.csv, points.json, pareto_<a>_<b>.csv (and .dat, .gp, .svg, .png
 * plots through gnuplot when it is installed), summary.json, from res[0 .. n) in index order.
 * Every file is written atomically. Warnings (no gnuplot) go to warn. */
int dse_write_outputs(const DseSweep *s, const DsePoints *pts, const DseResult *res,
                      const char *out_dir, int fast, FILE *warn, Diag *d);
/* dse_summary: the human-readable summary (counts, best point per objective, fronts). */
void dse_summary(const DseSweep *s, const DsePoints *pts, const DseResult *res, int fast, FILE *f);
/* dse_summary_json: the same as a JSON object (malloc'd text). */
char *dse_summary_json(const DseSweep *s, const DsePoints *pts, const DseResult *res, int fast);

/* ---- the driver ---- */

typedef struct DseRunOpts {
	int threads; /* worker threads per process (>= 1) */
	const char *out_dir;
	int fast;
	int progress;      /* draw a progress bar on stderr */
	unsigned delay_ms; /* sleep after each point (demos, resume tests) */
	FILE *warn;        /* warnings; NULL: stderr */
} DseRunOpts;

typedef struct DseRunInfo {
	uint32_t npoints, skipped, evaluated;
	uint32_t by_others; /* rank 0: points evaluated by the other ranks */
	double seconds;     /* wall time of the evaluation phase (until the journal is synced) */
	int rank, nranks;   /* MPI (0, 1 without MPI) */
} DseRunInfo;

/* dse_mpi_init: if the process was started by mpirun (detected from the launcher's environment),
 * initialise MPI and return the world size; otherwise return 1 without touching MPI, so a binary
 * linked with MPI runs alone. *rank gets the rank. dse_mpi_finalize is a no-op without MPI. */
int dse_mpi_init(int *argc, char ***argv, int *rank);
void dse_mpi_finalize(void);
/* dse_mpi_agree: all ranks' ok flags combined (1 only if all are 1); ok without MPI. */
int dse_mpi_agree(int ok);
/* dse_mpi_bcast_int: rank 0's v on every rank (v without MPI). */
int dse_mpi_bcast_int(int v);

/* dse_run: evaluate every point not yet in OUT's journal, with opts->threads workers in this
 * process and, under MPI, the pending points shared among the ranks (rank 0 hands out chunks on
 * request, no duplicates; its own workers take from the same list; it receives the results and
 * owns the journal). Then rank 0 writes the outputs.
 * Returns 0 or -1 with d (on every rank). On success res (npoints) holds every point's result on
 * rank 0. */
int dse_run(const DseSweep *s, const DsePoints *pts, const DseRunOpts *o, DseResult *res,
            DseRunInfo *info, Diag *d);

#endif
