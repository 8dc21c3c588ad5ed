/* roofline.h: kolmo's roofline: per-op work and traffic from the graph IR and an architecture,
 * the ceilings of the architecture (compute roofs, bandwidth roofs per memory level, the CIM
 * roofs: array capacity, ADC conversion rate, array writes), lower bounds on latency and energy
 * per op and per model, comparison with the simulator's statistics, gnuplot plots, and on-device
 * scaling laws for families of decoder models.
 *
 * The one public header of roofline/. Files: ceilings.c (roofs from the arch), opcost.c (op
 * descriptors -> demands and actions), graph.c (graph IR -> op descriptors), bounds.c (bounds,
 * binding resource, model totals), stats.c (simulator JSON), report.c (table, JSON), plot.c
 * (gnuplot), family.c (family YAML), scaling.c (decoder sweeps, T_x, capacity cliff), fit.c
 * (power-law fits), scaling_report.c (scaling table, JSON, plots).
 *
 * The model (docs/roofline.md): every op places a demand on each resource of resources.def (MVMU
 * cycles, ADC conversions, VFU lane ops, ..., bytes per memory level); resource r serves
 * rate_r units per second; the op takes at least t_r = demand_r / rate_r (+ the DRAM latency
 * when it touches DRAM) on each, and its latency bound is max_r t_r (resources overlap
 * perfectly within an op). The model's bound is the sum over ops (ops run one after another)
 * and, weaker, max_r sum_ops t_r (ops overlap perfectly too). Energy is the price of the op's
 * compulsory actions in the hwmodels energy reference table plus leakage x latency bound.
 * Units are in every name (_s, _j, _pj, _bytes, _ops). Library code never exits. */
#ifndef KOLMO_ROOFLINE_H
#define KOLMO_ROOFLINE_H

#include <stdint.h>
#include <stdio.h>

#include "hw.h"
#include "ir.h"
#include "util.h"

/* ---- resources (resources.def) ---- */

typedef enum RfResKind { RF_COMPUTE, RF_MEMORY, RF_FLOOR } RfResKind;

typedef enum RfRes {
#define RF_RES(name, kind, unit, label) RF_R_##name,
#include "resources.def"
	RF_NRES
} RfRes;

typedef struct RfResInfo {
	const char *name, *unit, *label;
	RfResKind kind;
} RfResInfo;
extern const RfResInfo rf_res[RF_NRES];

/* ---- ceilings of an architecture (ceilings.c) ---- */

typedef struct RfCeilings {
	HwArch arch; /* a copy: the timing rule (hw_mvm_cycles) is evaluated on it */
	double clock_hz;
	/* rate of each resource in its demand units per second (0: absent, e.g. adc on digital
	 * arrays); floor has rate 1. */
	double rate[RF_NRES];
	/* compute roofs in ops/s (2 ops per MAC) for the plot: mvm = 2 R C x MVMUs / L_mvm (the
	 * timing rule at input_bits), adc = 2 x ADCs x f_adc x R / (S x Cin) (full rows active),
	 * vfu/sbu/sel = lanes x cores x f; bandwidths of the memory levels in bytes/s. */
	double roof_ops_per_s[RF_NRES];
	double bw_bytes_per_s[RF_NRES];
	double dram_latency_s;
	/* the MVMU */
	int rows, cols, slices, input_cycles, weight_bits, input_bits;
	int64_t mvm_cycles;  /* L_mvm of a full rows x cols MVM */
	int mvm_adc_limited; /* 1: an input cycle is set by the ADCs, not the array read */
	int64_t mvmus, mvmus_per_tile, cores, tiles;
	double act_bytes; /* bytes per activation element: input_bits / 8 */
	/* capacity roof: weights resident in the arrays */
	int64_t capacity_bytes;   /* MVMUs x R x C x weight_bits / 8 */
	double capacity_weights;  /* MVMUs x R x C */
	int64_t tmem_total_bytes; /* tiles x tile.mem_bytes */
	int digital;              /* SRAM-CIM: dynamic operands (K, V) go into the arrays */
	HwErt ert;
	double leak_w; /* whole-chip leakage */
} RfCeilings;

/* rf_ceilings: the roofs of a validated architecture (builds its ERT). */
void rf_ceilings(const HwArch *a, RfCeilings *c);

/* ---- ops: descriptors and costs (opcost.c) ---- */

/* What an op asks of the hardware, independent of how its graph spelled it. Products with a
 * static weight matrix (rows x cols, weights stationary in the arrays) are "mvm"; products of two
 * activations (attention's Q K^T and P V) are "dyn": on digital (SRAM-CIM) arrays the dynamic
 * operand is written into the arrays, on analog ones the products run on the VFU. */
typedef struct RfOpDesc {
	char name[64]; /* the node's first result tensor (matches simulator layer names) */
	char op[24];   /* IR op name, or a synthetic name in scaling ("qkv", "ffn0" ...) */
	/* static-weight matrix product */
	double m;           /* input vectors */
	int64_t rows, cols; /* weight matrix: rows = inputs (KAN: in x (G+k+1)), cols = outputs */
	double gate;        /* fraction of rows driven per vector: 1, or KAN (k+2)/(G+k+1) */
	double gate_min;    /* fraction certainly driven (energy bound): 0 under row gating */
	double drive_bytes; /* bytes of the drive written to the scratchpad first (KAN SBU) */
	/* dynamic-operand products */
	double dyn_macs;  /* multiply-accumulates */
	double dyn_elems; /* elements of the dynamic operands (K and V) placed in the arrays */
	/* vector units, in lane operations */
	double vfu_ops, sbu_values, sel_ops;
	/* activations */
	double in_bytes, out_bytes; /* read from / written to tile memory */
	double dram_bytes;          /* compulsory DRAM traffic (graph I/O, KV cache, spills) */
	double noc_bytes;           /* activations moved between tiles, beyond the weight spread */
} RfOpDesc;

/* The cost of one op and its bounds. */
typedef struct RfOpCost {
	RfOpDesc d;
	/* work in ops (2 per MAC; 1 per vector lane op) */
	double work_ops;       /* useful: gated MVM MACs x 2 + dyn MACs x 2 + vector lane ops */
	double work_dense_ops; /* the same with every MVM row driven (KAN dense) */
	double macs_dense, macs_gated;
	/* weights */
	double weight_bytes; /* rows x cols x weight_bits / 8 */
	int64_t mvmus;       /* MVMUs its matrix needs: ceil(rows/R) x ceil(cols/C) */
	double resident;     /* fraction of its MVMU blocks resident (the rest streamed) */
	int tiles_spanned;
	/* demand on each resource (units of resources.def) and estimated compulsory actions */
	double demand[RF_NRES];
	double actions[HW_NACTIONS];
	/* bounds (rf_op_bound) */
	double t_s[RF_NRES];          /* time on each resource */
	double latency_s;             /* max_r t_s[r] */
	int binding;                  /* argmax (RfRes) */
	double energy_res_j[RF_NRES]; /* dynamic energy by resource */
	double energy_dyn_j, energy_leak_j, energy_j;
	/* from the simulator (rf_stats_apply); sim_matched 0 when no layer has this name */
	int sim_matched;
	double sim_energy_j;  /* dynamic */
	double sim_latency_s; /* first issue to last completion of its code (0: not in the stats) */
	double sim_bytes[RF_NRES];
} RfOpCost;

/* rf_op_cost: demands, work and actions of op descriptor d with `resident` (0..1) of its
 * weight blocks resident in the arrays, then its bounds (rf_op_bound). */
void rf_op_cost(const RfCeilings *c, const RfOpDesc *d, double resident, RfOpCost *o);
/* rf_op_bound: times per resource, latency bound, binding resource and energy of o from its
 * demands and actions (leakage over its latency bound). */
void rf_op_bound(const RfCeilings *c, RfOpCost *o);
/* rf_res_time: demand / rate (+ the DRAM latency for a nonzero DRAM demand). */
double rf_res_time(const RfCeilings *c, int r, double demand);
/* rf_op_mvmus: MVMU blocks a rows x cols matrix needs. */
int64_t rf_op_mvmus(const RfCeilings *c, int64_t rows, int64_t cols);

/* ---- a whole model (graph.c, bounds.c) ---- */

typedef struct RfModel {
	RfCeilings c;
	char name[64];
	RfOpCost *ops; /* node order; ops without work or traffic are included (all zero) */
	uint32_t nops;
	RfOpCost total;           /* sums of demands, work, actions, energies (latency: below) */
	double latency_s;         /* sum over ops of the per-op bounds (ops in sequence) */
	double latency_overlap_s; /* max_r sum_ops t_r (ops overlap perfectly) */
	int binding_overlap;      /* the r of that max */
	double energy_j;          /* dynamic + leakage x latency_s */
	double weight_bytes;
	int64_t mvmus_needed;
	int fits; /* every weight block resident */
	/* simulator run (rf_stats_apply) */
	int have_sim;
	double sim_latency_s, sim_energy_j, sim_energy_dyn_j;
	uint32_t sim_layers, sim_matched;
	char sim_unmatched[8][64]; /* first unmatched layer names */
} RfModel;

/* rf_graph_descs: one op descriptor per node of g (verified), in node order. *out is malloc'd
 * (free with free()). Returns 0, or -1 with d set (an op the roofline cannot cost). */
int rf_graph_descs(const Graph *g, const RfCeilings *c, RfOpDesc **out, uint32_t *n, Diag *d);
/* rf_model_build: cost descriptors ops[0..n) on c: weights mapped greedily in op order until the
 * MVMUs run out (the rest streamed from DRAM each inference), bounds per op and totals. */
void rf_model_build(RfModel *m, const RfCeilings *c, const char *name, const RfOpDesc *ops,
                    uint32_t n);
/* rf_analyze: rf_ceilings + rf_graph_descs + rf_model_build for a graph. */
int rf_analyze(const Graph *g, const HwArch *a, RfModel *m, Diag *d);
void rf_model_free(RfModel *m);

/* ---- simulator statistics (stats.c) ---- */

/* rf_stats_apply: read `kolmo sim --stats` JSON and attach it: model latency and energy, and per
 * layer (layers[].name == op name, i.e. the node's first result tensor) the dynamic energy and
 * the traffic per level from its action counts. Returns 0, or -1 with d (unreadable file, not
 * JSON, missing keys). */
int rf_stats_apply(RfModel *m, const char *path, Diag *d);

/* ---- reports (report.c) ---- */

/* rf_model_print: the per-op and whole-model table. */
void rf_model_print(const RfModel *m, FILE *f);
/* rf_model_json: the JSON report (keys in docs/roofline.md), malloc'd text. */
char *rf_model_json(const RfModel *m);

/* ---- plots (plot.c): gnuplot run as a program ---- */

typedef enum RfStyle { RF_POINTS, RF_LINES, RF_LABELS } RfStyle;

typedef struct RfSeries {
	const char *title; /* legend entry (NULL: none) */
	const double *x, *y;
	int n;
	int style;                 /* RfStyle: points, lines with points, or text labels */
	const char *const *labels; /* RF_LABELS: the text at each point */
} RfSeries;

typedef struct RfPlot {
	const char *title, *xlabel, *ylabel;
	int logx, logy;
	const RfSeries *series;
	int nseries;
	/* roofs: y = min(slope x, cap) for slope > 0 (a bandwidth line stopping at cap; cap 0:
	 * unbounded), or y = cap for slope == 0 (a compute roof) */
	const double *roof_slope, *roof_cap;
	const char *const *roof_title;
	int nroofs;
	double xmin, xmax, ymin, ymax; /* 0, 0: autoscale */
} RfPlot;

/* rf_gnuplot_find: the gnuplot executable ($KOLMO_GNUPLOT, else gnuplot on PATH) into buf.
 * Returns 0, or -1 when there is none. */
int rf_gnuplot_find(char *buf, size_t n);
/* rf_plot_write: draw p into path (.svg or .png by extension) with gnuplot, atomically: the
 * picture goes to a temporary file renamed onto path only when gnuplot succeeded and wrote a
 * non-empty file. Returns 0, or -1 with d (gnuplot missing or failing, bad extension). */
int rf_plot_write(const RfPlot *p, const char *path, Diag *d);
/* rf_model_plot: the hierarchical roofline of m: roofs per compute unit and memory level, one
 * point per op and level at (W / Q_level, W / latency bound), the simulated model point. */
int rf_model_plot(const RfModel *m, const char *path, Diag *d);

/* ---- power laws (fit.c) ---- */

typedef struct RfFit {
	double a, b; /* y = a x^b */
	double r2;   /* coefficient of determination in log space */
	int n;
} RfFit;

/* rf_powerlaw_fit: least squares of log y = log a + b log x over the points with x, y > 0.
 * Returns 0, or -1 when fewer than 2 usable points or all x equal. */
int rf_powerlaw_fit(const double *x, const double *y, int n, RfFit *f);

/* ---- decoder families and scaling (family.c, scaling.c, scaling_report.c) ---- */

enum { RF_MAXCTX = 32, RF_MAXPOINTS = 200 };
typedef enum RfFfn { RF_FFN_MLP, RF_FFN_KAN } RfFfn;
typedef enum RfAttn { RF_ATTN_DENSE, RF_ATTN_SPARSE } RfAttn;

/* A family of decoder-only models (examples/scaling/family.yaml, docs/roofline.md). */
typedef struct RfFamily {
	char name[64];
	double params_min, params_max; /* non-embedding parameter range */
	int points;                    /* log-spaced sizes */
	double aspect;                 /* d_model / layers */
	int head_dim, kv_group;        /* d_h; n_heads / n_kv_heads */
	double ffn_mult;               /* d_ff / d_model */
	int ffn;                       /* RfFfn */
	int grid_size, spline_order;   /* KAN G, k */
	int attn;                      /* RfAttn */
	double keep;                   /* kappa: kept fraction of key blocks (sparse) */
	int block;                     /* key block size of the mask prediction */
	int64_t context[RF_MAXCTX];    /* context lengths T */
	int ncontext;
	int64_t fit_context; /* T of the fits versus N */
	double fit_params;   /* N of the fits versus T (0: the middle size) */
	int batch;
	int weight_bits, act_bits, kv_bits; /* 0: the architecture's */
} RfFamily;

/* rf_family_load: read and check a family YAML file (libyaml). Errors: file:line:col: error
 * with the source line and a caret (unknown key with a suggestion, wrong type, out of range,
 * missing key, inconsistent values). Returns 0 or -1 with d. */
int rf_family_load(RfFamily *f, const char *path, Diag *d);
int rf_family_load_mem(RfFamily *f, const char *buf, size_t len, const char *fname, Diag *d);

/* One generated decoder. */
typedef struct RfDecoder {
	double target_params;
	int layers;
	int64_t d_model, d_ff, n_heads, n_kv_heads, head_dim;
	double params; /* non-embedding parameters as stored (KAN: base + spline) */
	double params_attn, params_ffn;
	double weight_bytes;
	int64_t mvmus_needed;
} RfDecoder;

/* rf_decoder_shape: widths and depth for about `target` parameters: layers from
 * d_model = aspect x layers, then d_model rounded to a multiple of head_dim x kv_group. */
void rf_decoder_shape(const RfFamily *f, const RfCeilings *c, double target, RfDecoder *m);

/* The cost of one decode step (one new token per sequence, batch B, context T) or of a prefill
 * of T tokens, as a model of per-layer ops. */
typedef struct RfTokenCost {
	double latency_s, energy_j; /* per decode step, or per prefill token */
	double latency_overlap_s;
	int binding;                /* resource with the largest total time */
	double resident;            /* fraction of weight blocks resident */
	int kv_in_dram;             /* the KV cache exceeds the tile memories */
	double weight_stream_bytes; /* weight bytes from DRAM per step */
	double kv_read_bytes;       /* KV bytes read per step */
	double time_res_s[RF_NRES]; /* summed per-op times per resource */
} RfTokenCost;

/* rf_decoder_ops: the op descriptors of one decode step (prefill 0) or a prefill of T tokens
 * (prefill 1) of m at context T (double, so that T_x can be solved continuously); *ops malloc'd.
 * force_dram: keep the KV cache in DRAM whatever its size. */
int rf_decoder_ops(const RfFamily *f, const RfCeilings *c, const RfDecoder *m, double T,
                   int prefill, int force_dram, RfOpDesc **ops, uint32_t *n);
/* rf_decoder_cost: decode step or prefill (per token) bounds. */
void rf_decoder_cost(const RfFamily *f, const RfCeilings *c, const RfDecoder *m, double T,
                     int prefill, RfTokenCost *out);

/* KV/weight crossover for a streamed decoder: T_x = N b_w / (2 L kappa d_kv b_kv) (closed form,
 * roofline.md 8.3 with the keep ratio) and the T where the model's KV read bytes per step equal
 * its weight bytes per step (bisection on rf_decoder_ops' traffic, B = 1). */
double rf_tx_closed(const RfFamily *f, const RfCeilings *c, const RfDecoder *m);
double rf_tx_numeric(const RfFamily *f, const RfCeilings *c, const RfDecoder *m);

typedef struct RfScalePoint {
	RfDecoder m;
	double tx_closed, tx_numeric;
	RfTokenCost decode[RF_MAXCTX], prefill[RF_MAXCTX];
} RfScalePoint;

enum { RF_MAXFITS = 16 };
typedef struct RfNamedFit {
	char name[48];   /* e.g. "decode_latency_vs_N" */
	char regime[16]; /* "all", "resident", "streamed" */
	double at;       /* the fixed T (versus N) or N (versus T) */
	RfFit fit;
} RfNamedFit;

typedef struct RfScaling {
	RfCeilings c;
	RfFamily f;
	RfScalePoint *pts;
	int npts;
	int ref_point; /* index of the N of the fits versus T */
	int fit_ctx;   /* index of the T of the fits versus N */
	RfNamedFit fits[RF_MAXFITS];
	int nfits;
	double cliff_params_closed; /* capacity_bytes x 8 / b_w */
	double cliff_params;        /* smallest generated N that no longer fits (bisection) */
	double last_resident_params;
} RfScaling;

/* rf_scaling_run: sweep the family on the architecture (the family's bits applied to a copy of
 * a with hw_arch_set_many), fits, crossovers and the capacity cliff. Returns 0 or -1 with d. */
int rf_scaling_run(const HwArch *a, const RfFamily *f, RfScaling *s, Diag *d);
void rf_scaling_free(RfScaling *s);
void rf_scaling_print(const RfScaling *s, FILE *f);
char *rf_scaling_json(const RfScaling *s);
/* rf_scaling_plots: decode latency and energy per token versus N (one line per T), decode
 * latency versus T (one line per N), prefill latency per token versus N, into dir/scaling_*.svg.
 * Returns 0 or -1 with d. */
int rf_scaling_plots(const RfScaling *s, const char *dir, Diag *d);

#endif
