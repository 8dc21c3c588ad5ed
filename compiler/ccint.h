/* ccint.h: the compiler's internal model: the layers of a compiled chain, their fixed-point
 * formats, the crossbar blocks and their placement, and the memory map. Only compiler/ includes
 * this header. */
#ifndef KOLMO_CCINT_H
#define KOLMO_CCINT_H

#include "cc.h"
#include "interp.h"
#include "isa.h"

enum CcLayerKind { CC_LINEAR, CC_KAN };
enum CcAct { CC_ACT_NONE, CC_ACT_RELU, CC_ACT_SILU };

/* One layer: y = act(W . drive(x) + b). For a linear layer the drive is x itself; for a KAN layer
 * it is [base(x) (I values) | the I segments of nb B-spline basis values] (docs/compiler.md). */
typedef struct CcLayer {
	int kind;
	IrNodeId node;
	const char *name; /* the layer's symbol: its result tensor's name */
	IrLoc loc;
	uint32_t in_len, out_len, rows; /* rows = drive length */
	int act;                        /* fused activation */
	/* float parameters after folding: w[o * rows + r] in drive order, bias[o] or NULL */
	float *w, *bias;
	/* KAN: uniform grid */
	uint32_t G, k, nb;
	double lo, hi, h;
	int base_identity;
	/* fixed point */
	double sx;      /* input scale (real = sx * q) */
	double s_base;  /* scale of the base-branch drive (silu LUT output) */
	double s_basis; /* scale of the basis drive values */
	double spre;    /* scale of the requantised output before the activation */
	double sy;      /* output scale (after the activation) */
	unsigned yty;   /* IsaType of the output */
	int32_t *wq;    /* rows x out_len, crossbar order: wq[r * out_len + o] */
	double *sw;     /* per output channel */
	int32_t *bq;    /* out_len, or NULL */
	int32_t *mult;  /* out_len requantisation multipliers */
	uint32_t shift;
	int8_t base_lut[256]; /* KAN silu base branch: x -> drive */
	int8_t act_lut[256];  /* fused silu epilogue: pre-activation -> y */
	uint32_t sbu_sh;      /* knot spacing = 2^sbu_sh input units */
	int32_t sbu_t0;       /* first knot in input units */
	int8_t *basis_lut;    /* 2^sbu_sh x (k+1) */
	/* float calibration: max |.| seen */
	double amax_in, amax_pre, amax_out;
} CcLayer;

/* A crossbar block: rows [r0, r0+rows) x columns [c0, c0+cols) of a layer's matrix, placed on
 * MVMU `unit` of core (tile, core). */
typedef struct CcBlock {
	uint32_t layer, r0, rows, c0, cols;
	uint32_t tile, core, unit;
	uint32_t out_addr; /* scratchpad address of its i32 partial sums */
} CcBlock;

/* A core's share of a layer: its blocks (a contiguous run in block order) and the column range
 * they cover. */
typedef struct CcShare {
	uint32_t first, n;   /* blocks[first .. first+n) */
	uint32_t c_lo, c_hi; /* columns covered */
	uint32_t x_addr;     /* scratchpad: the layer input */
	uint32_t drive_addr; /* scratchpad: the drive vector (KAN), else x_addr */
	uint32_t part_addr;  /* scratchpad: i32 partial sums over [c_lo, c_hi) */
	uint32_t tm_x;       /* tile memory: where the input arrives (non-leader) */
	uint32_t tm_part;    /* tile memory: staging of the partial sums (non-leader) */
	uint32_t tm_recv;    /* leader's tile memory: where this core's partial sums arrive */
	uint32_t const_addr; /* scratchpad: LUTs, descriptor */
	/* Wide layers only (CcLead.wide): the tile's drive rows [t_lo, t_hi), the part this core
	 * computes [d_lo, d_hi), the inputs it needs [x_lo, x_hi), its position among the layer's
	 * tiles, and the buffers of the drive exchange, the reduce-scatter and the gather. */
	uint32_t t_lo, t_hi, d_lo, d_hi, x_lo, x_hi, tpos;
	uint32_t s_lo, s_hi; /* the output columns it owns (reduces, requantises) */
	uint32_t tm_drive;   /* tile memory: the tile's drive rows (shared by its cores) */
	uint32_t tm_rs;      /* tile memory: the slices other tiles send it, T - 1 slots */
	uint32_t rs_addr;    /* scratchpad: the same slices */
	uint32_t q_addr;     /* scratchpad: multipliers, bias, LUT of its columns */
	uint32_t y_addr;     /* scratchpad: its requantised columns (not the leader) */
	uint32_t tm_y;       /* tile memory: staging of those columns */
} CcShare;

typedef struct CcCoreRef {
	uint32_t tile, core;
} CcCoreRef;

/* Where each layer's leader keeps its data: the leader is the core of the layer's first block;
 * it receives the layer input, broadcasts it, reduces the partial sums and produces the output. */
typedef struct CcLead {
	uint32_t core;       /* index into cores */
	uint32_t x_addr;     /* scratchpad: layer input (layer 0: all batch samples) */
	uint32_t y_addr;     /* scratchpad: layer output (last layer: all batch samples) */
	uint32_t total_addr; /* scratchpad: i32 totals */
	uint32_t recv_addr;  /* scratchpad: received partial sums */
	uint32_t mult_addr, bias_addr, lut_addr; /* scratchpad constants */
	uint32_t tm_stage;                       /* tile memory: staging of the broadcast input */
	uint32_t tm_in;  /* tile memory: where the previous leader's output arrives */
	uint32_t tm_out; /* tile memory: staging of the output for the next leader */
	/* Wide layer: spread over `wide` whole tiles from tile `tile0`; each tile holds a range of
	 * the drive rows for all columns and its cores split the columns (pass_tile.c). 0: the
	 * leader reduces everything. */
	uint32_t wide, tile0;
	uint32_t *cut; /* its drive parts: part p (tile p / cores, core p % cores) is [cut[p],
	                  cut[p+1]) */
	uint32_t tm_y; /* leader's tile memory: the gathered output */
} CcLead;

struct CcModel {
	Arena *arena; /* everything the model owns */
	const HwArch *arch;
	Graph *g;
	CcOptions opt;
	uint32_t nlayers;
	CcLayer *layers;
	unsigned aty;             /* activation (and drive) type: TY_I8 or TY_I16 */
	int32_t qmax;             /* largest activation integer */
	uint32_t batch;           /* samples per run (the input's leading dimension) */
	uint32_t in_len, out_len; /* per sample */
	double in_scale, out_scale;
	const char *in_name, *out_name;
	IrLoc in_loc;
	CcBlock *blocks;
	uint32_t nblocks;
	/* cores in use, in first-use order; cores[0] is tile 0 core 0 */
	CcCoreRef *cores;
	uint32_t ncores;
	CcShare *shares;     /* nlayers x ncores; n == 0 where the core has no block of the layer */
	CcLead *lead;        /* per layer */
	uint32_t *spad_used; /* per core in use (cores[]): scratchpad bytes allocated */
	uint32_t *tmem_used; /* per tile of the chip: tile-memory bytes allocated */
	struct CcAttn *attn; /* attention graphs (attn.h), else NULL */
	int lossless;        /* the ADC returns exact partial sums */
	uint32_t rows_per_block;
};

/* passes (each returns 0 or -1 with d) */
int cc_pass_check(CcModel *m, Diag *d);
int cc_pass_calib(CcModel *m, Diag *d);
int cc_pass_quant(CcModel *m, Diag *d);
int cc_pass_tile(CcModel *m, Diag *d);
int cc_pass_alloc(CcModel *m, Diag *d);
int cc_pass_codegen(CcModel *m, KProg *p, Diag *d);
int cc_check_memory(const CcModel *m, Diag *d);
uint32_t cc_bump(uint32_t *used, uint32_t bytes);

/* the chain passes' pieces the attention lowering reuses for a feed-forward (attn_proj.c):
 * cc_layer_build: float parameters of linear / kan_linear node id into l (in_len, out_len set);
 * cc_kan_input_scale: a KAN layer's input scale and SBU grid from l->amax_in;
 * cc_layer_quant: l's formats (the next layer's input scale when it is a KAN layer; a 16-bit
 * output when last); cc_drive_q: the integer drive of one input vector */
int cc_layer_build(CcModel *m, IrNodeId id, CcLayer *l, Diag *d);
int cc_kan_input_scale(CcModel *m, CcLayer *l, Diag *d);
int cc_layer_quant(CcModel *m, CcLayer *l, const CcLayer *next, int last, Diag *d);
void cc_drive_q(const CcModel *m, const CcLayer *l, const int32_t *x, int32_t *drive);

/* layer float forward on one vector (eval.c): used by calibration and cc_eval_float */
void cc_layer_float(const CcLayer *l, const float *x, float *y, float *pre);
double cc_bspline_basis(const double *knots, uint32_t nknots, uint32_t k, double x,
                        double *out /* nknots - k - 1 */);
int cc_layer_error(const CcModel *m, const CcLayer *l, Diag *d, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int32_t cc_sat(int64_t v, unsigned ty);
int64_t cc_rshift_round(int64_t v, unsigned s);
uint32_t cc_type_size(unsigned ty);

#endif
