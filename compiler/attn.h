/* attn.h: the attention lowering's model (docs/attention.md): one attention or sparse_attention
 * node over the graph inputs q, k, v, compiled for SRAM-CIM crossbars that take run-time writes.
 *
 * The integer algorithm, shared by the integer reference (attn_qref.c) and the code generator
 * (attn_codegen.c), works on (head, query block) items spread over the cores:
 *
 *   mask (sparse only): pooled means of each key block as the columns of a crossbar (xbwt),
 *     pooled query block times it gives block scores T; top-k on T, or top-p / hybrid on
 *     E = exp2 table of (T - max T) on the SEL; sink and causal rules; a 0/1 byte per key block.
 *   attention: for every allowed and selected key block j, K_j^T (xbwt) and V_j (xbw) go into two
 *     crossbars; per query row r: s = q_r K_j^T (i32), the old running max m_r appended, new max,
 *     z = s - max requantised to i8 steps of 1/16 in log2 units, p16 = table 2^(z/16) (scale
 *     2^14), p8 = p16 * 127 >> 14, alpha = p16 of the old max, O_r = O_r * alpha >> 14 (the
 *     running sum l_r rides in O_r[Dv]), O_r += p8 V_j (mvm acc), l_r += sum p8.
 *   output: o_r = O_r * round(2^30 / l_r) >> 30, i8 at the scale of v.
 *
 * Self-similarity (sparse, simthresh theta >= 0; a negative theta passes every block and is not
 * lowered), for a block of n tokens x_t (D wide), attn_sim.c:
 *   n2_t = sum x_t^2 (vdot); sq_t = floor(sqrt(n2_t << 2 ATTN_SIM_P)), the norm with 3 fraction
 *     bits (the code takes a block's roots together, digit by digit on the VFU);
 *   r_t = round(2^(ATTN_SIM_RS + ATTN_SIM_P) / sq_t) (vrecip), the inverse norm at 2^22;
 *   acc = sum_t x_t r_t (vmac, i32), the normalised tokens at 2^22;
 *   s = round(acc >> (ATTN_SIM_RS - F)) with F = 15 - log2 n, so |s|^2 <= n^2 2^2F = 2^30;
 *   self-similar iff |s|^2 (vdot) > sim_thr = floor(theta 2^30): the mean pairwise cosine
 *     |s|^2 / (n^2 2^2F) exceeds theta.
 *   Key blocks are smoothed first: mu = round(sum_j mean_j x sim_kmul >> 30) (i16; the mean of
 *   the head's 8-bit block means, sim_kmul = round(2^30 / nk)), x_t = k_t - mu; query blocks are
 *   not. The code tests key blocks in a second pre-pass phase (a flag byte per block in tile
 *   memory after the head's means) and each query block after loading it. A key block that is
 *   not self-similar gets score T - 2^30 (below every real score) and E = 0, so it ranks after
 *   every other block, and its mask byte is then set; a query block that is not self-similar
 *   keeps every allowed key block.
 *
 * The SLA / SLA2 linear branch (attn_linear.c: check, formats, integer reference;
 * attn_linear_gen.c: code), for combine = sla | sla2 with D = Dv:
 *   phi: elu1 | relu: a 256-entry i8 table, phi8 = phi[x8 + 128] (relu: max(x8, 0); elu1 at the
 *     scale (127 s_in + 1) / 127); softmax over the head dim: z8 = sat8(round((x8 - max x8) *
 *     zphi >> 24)), p16 = the exp2 table at z8; a query row phi8 = sat8(round(p16 * 127 >> 14))
 *     (its scale cancels in o_l), a key phi8 = sat8(round(p16 * round(2^30 / sum p16) * gk
 *     >> 30)), gk = round(127 (1 + (D - 1) e^(-2 amax))) so that the largest possible value fits.
 *     phi's scale cancels in o_l, so it is chosen for resolution only.
 *   pre-pass, per key block j: the values V'_t = v_t (sla2), or for sla the projection folded
 *     into them, V'_t = sat8(round((W8 v_t + b32) * mw >> 24)) at the scale of v (MVMU 2 holds
 *     W8^T; o_l W^T + b = phi(q) S(V W^T + 1 b^T) / den as long as den > 0);
 *     S_j[e][f] = sum_t phi(k_t)[e] V'_t[f] (MVMU 0 holds phi(K_j)^T by xbwt, a one-hot input
 *     reads its row e = column e of phi(K_j), which drives MVMU 1 holding V'_j) and
 *     S_j[e][Dv] = 128 sum_t phi(k_t)[e]: i32 [D][Dv + 1] per block in tile memory
 *     (complement), or added to the core's partial sum of the head (all; and complement when
 *     the blocks do not fit, keeping phi(K_j) and V'_j in DRAM to recompute S_j), the partials
 *     in tile memory or DRAM; after a barrier the head's totals in tile memory.
 *   per query block: S = sum of S_j over the region (every block, or the blocks not selected:
 *     the totals, minus the selected blocks; exact integers, so any order gives the same S);
 *     c = round(2^30 / max(128, max S)) * 127; S8 = sat8(round(S * c >> 30)) into MVMU 2 (xbw;
 *     |S_j[e][f]| <= S_j[e][Dv], so the column of sums bounds every entry);
 *     per row: n = mvm(S8, phi(q_r)), n[Dv] the denominator; rl = round(2^30 / n[Dv]) (vrecip;
 *     n[Dv] = 0 gives n = 0); o_l = sat8(round(n * rl >> 23)) = 128 n / n[Dv], i8 at the scale
 *     of v (eps, far below one step of n[Dv], is dropped);
 *     sla:  o = sat8(o_s + o_l), o_l = b8 = sat8(round(b32 * mw >> 24)) when n[Dv] = 0;
 *     sla2: o = sat8(round(sat32(sat32(o_s * a14) + o_l * (2^14 - a14)) >> 14)),
 *           a14 = round(2^14 alpha) of the row. */
#ifndef KOLMO_ATTN_H
#define KOLMO_ATTN_H

#include "ccint.h"

enum {
	ATTN_LUT_ONE = 16384,      /* 2^14: the table's 1.0 */
	ATTN_LUT_SHIFT = 14,       /* p8 = p16 * 127 >> 14, O *= alpha >> 14 */
	ATTN_ZSH = 24,             /* z8 = z * zmult >> 24 */
	ATTN_RECIP_SHIFT = 30,     /* o = O * round(2^30 / l) >> 30 */
	ATTN_MASKED = -(1 << 30),  /* a causally masked score */
	ATTN_MINIT = -(1 << 29),   /* the running max before the first block */
	ATTN_SIM_RS = 22,          /* the inverse norm r_t at 2^22 */
	ATTN_SIM_P = 3,            /* fraction bits of the integer norm */
	ATTN_SIM_ONE = 30,         /* sim_thr = floor(theta 2^30); the key mean's sim_kmul shift */
	ATTN_SIM_PEN = -(1 << 30), /* score offset of a key block that is not self-similar */
};

/* A projection of an attention layer (attn_proj.c): y = sat8(round((x . W^T + b) * mult >> shift))
 * on crossbars, weights i8 per output channel. */
typedef struct CcProj {
	IrNodeId node;
	uint32_t din, dout;
	int8_t *w;     /* dout x din, w[o * din + i] */
	int32_t *bias; /* dout, at the accumulator's scale */
	int32_t *mult; /* dout requantisation multipliers */
	uint32_t shift;
	double s_in, s_out;
} CcProj;

/* The layer norm before the projections (pre-norm; attn_proj.c, attn_norm.c), per token of W:
 *   mean = (sum x * recip + 2^(rsh-1)) >> rsh;  xc = x - mean;  v = sum xc^2 + eps
 *   S = isqrt(v << p);  R = round(2^30 / S);  t = round(xc * R >> ta)
 *   y = sat8(round(t * g[i] >> gsh) + b[i])                                        */
typedef struct CcNorm {
	IrNodeId node;
	uint32_t W, rsh, p, ta, gsh;
	int32_t recip, eps;
	int32_t *g, *b; /* W each */
	double s_in, s_out;
} CcNorm;

/* The residual add after the output projection: y = sat8(round((a ma + b mb) >> 16)), a the
 * layer's input x, b the projection's output. */
typedef struct CcAdd {
	IrNodeId node;
	int32_t ma, mb;
	double s_out;
} CcAdd;

enum { ATTN_ADD_SHIFT = 16 };
/* The linear branch's formats (attn_linear.c); CcAttn.lin is NULL for combine = none. */
typedef struct CcAttnLin {
	int combine;  /* 1 sla, 2 sla2 */
	int region;   /* 0 all, 1 complement (the blocks the mask does not select) */
	int fmap;     /* 0 softmax, 1 elu1, 2 relu */
	int32_t zphi; /* softmax: z8 = sat8(round((x8 - max x8) * zphi >> 24)) */
	int32_t
	    gk; /* softmax of a key: phi8 = sat8(round(p16 * round(2^30 / sum p16) * gk >> 30)) */
	double s_phi;    /* scale of phi8 */
	int8_t phi[256]; /* phi8 = phi[x8 + 128] */
	/* sla: W8^T as MVMU 2's [D][Dv + 1] weights (wt[f * (Dv + 1) + g] = W8[g][f], column Dv 0),
	 * the bias b32 [Dv + 1] (last 0) at the scale s_in * s_w, b8 [Dv] and the multiplier mw */
	int32_t *wt, *b32;
	int8_t *b8;
	int32_t mw;
	double s_w;
	int32_t *a14; /* sla2: round(2^14 alpha) per row, [B * H * N] */
} CcAttnLin;

typedef struct CcAttn {
	IrNodeId node;
	IrLoc loc;
	int sparse; /* sparse_attention (else dense attention) */
	uint32_t B, H, Hk, N, M, D, Dv;
	uint32_t blkq, blkk, nq, nk;
	int causal, sink, mode; /* mode: 0 top-k, 1 top-p, 2 hybrid */
	uint32_t nsel_k;        /* top-k count: max(1, floor(rho * nk)) */
	int32_t tau16;          /* top-p threshold x 65536 */
	double scale;           /* score scale (default D^-0.5) */
	double s_in;            /* scale of q, k, v and of the output */
	int32_t zmult;          /* z8 = sat8(round(z * zmult >> ATTN_ZSH)) */
	int16_t lut[256];       /* p16 = lut[z8 + 128] = round(2^14 * 2^(z8 / 16)) */
	int simk;               /* sparse and simthresh >= 0: the self-similarity test runs */
	int32_t sim_thr;        /* floor(simthresh * 2^30) */
	int32_t sim_kmul;       /* round(2^30 / nk): the key mean from the block means */
	IrTensorId tq, tk, tv, to;
	/* An attention layer (attn_proj.c): x [1, N, Dm] -> q, k, v projections -> attention ->
	 * output projection -> y; q, k, v and o live in DRAM between the phases. */
	int proj;
	CcProj pj[4]; /* q, k, v, o */
	IrTensorId tx, ty;
	double s_x;
	int has_norm, has_add; /* y = x + proj(attention(proj(norm(x)))) */
	CcNorm norm;
	CcAdd add;
	/* A transformer block's feed-forward after that (attn_ffn.c): h = norm2(r), f = the
	 * layers (the chain compiler's formats, ccint.h) on h, y = r + f, r the layer's output */
	int has_ffn;
	CcNorm norm2;
	CcAdd add2;
	uint32_t nff;
	struct CcLayer *ff;
	CcAttnLin *lin; /* the SLA / SLA2 linear branch, or NULL */
} CcAttn;

/* ceil(log2 v): the shift of a block mean (block sizes are powers of two) */
static inline unsigned
attn_log2(uint32_t v)
{
	unsigned s = 0;
	while ((1u << s) < v)
		s++;
	return s;
}

static inline int32_t
sat8(int64_t v)
{
	return cc_sat(v, TY_I8);
}

static inline int32_t
sat32(int64_t v)
{
	return cc_sat(v, TY_I32);
}

/* cc_attn_error: a diagnostic at loc (the file alone when loc has no line); returns -1 */
int cc_attn_error(const CcModel *m, IrLoc loc, Diag *d, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Allowed key blocks of query block iq: all, or the causal prefix. */
uint32_t cc_attn_allowed(const CcAttn *a, uint32_t iq);

/* cc_attn_check: recognise and check the attention graph of m->g, fill m->attn (arena) and the
 * model's I/O. 0, or -1 with a located diagnostic. */
int cc_attn_check(CcModel *m, Diag *d);
/* cc_attn_proj_check: the projections around attention node a->node (q, k, v not graph inputs):
 * the pattern x -> linear -> reshape -> transpose -> attention -> transpose -> reshape -> linear,
 * with formats (a->s_in becomes the calibrated scale of q, k, v). 0, or -1 with a diagnostic. */
int cc_attn_proj_check(CcModel *m, CcAttn *a, Diag *d);
/* cc_attn_proj_qref: projection p of the integer reference: x (rows x din) -> y (rows x dout) */
void cc_attn_proj_qref(const CcProj *p, const int32_t *x, uint32_t rows, int32_t *y);
/* cc_attn_ffn_check: the feed-forward after the residual add (a->ty): its pattern and formats,
 * am the calibrated max |value| of every tensor. 0, or -1 with d. */
int cc_attn_ffn_check(CcModel *m, CcAttn *a, const double *am, Diag *d);
/* cc_attn_ffn_qref: the integer feed-forward on rows x W values of r -> y */
void cc_attn_ffn_qref(const CcModel *m, const int32_t *r, int32_t *y);
/* cc_attn_norm_quant: the formats of a->norm (node, W, s_in, s_out set) from the layer norm's
 * gamma, beta and eps. 0 or -1 with d. */
int cc_attn_norm_quant(CcModel *m, CcNorm *n, Diag *d);
/* cc_attn_norm_qref / cc_attn_add_qref: the integer layer norm of rows x W values; the residual
 * add of rows x W values */
void cc_attn_norm_qref(const CcNorm *n, const int32_t *x, uint32_t rows, int32_t *y);
void cc_attn_add_qref(const CcAdd *ad, const int32_t *a, const int32_t *b, uint64_t n, int32_t *y);
/* cc_isqrt: floor(sqrt(v)) by the bit-by-bit method the program runs (v >= 0) */
int64_t cc_isqrt(int64_t v);
/* cc_attn_dump: the model's shapes, blocks, mask and formats (cc_model_dump, -d). */
void cc_attn_dump(const CcModel *m, FILE *f);
/* cc_attn_codegen: the program of every core. */
int cc_attn_codegen(CcModel *m, KProg *p, Diag *d);
/* cc_attn_qref: the integer reference on quantised q | k | v (concatenated) -> o. */
int cc_attn_qref(const CcModel *m, const int32_t *in, int32_t *out, Diag *d);
/* attn_sim.c: the self-similarity test (above). cc_attn_sim_setup: sim_* of a from theta
 * (checked by the shape rule); -1 for blocks too large for its fixed point (2^8 tokens). */
int cc_attn_sim_setup(CcAttn *a, double theta);
/* cc_attn_sim_spad: scratchpad bytes of the test's buffers (attn_codegen.c's map);
 * cc_attn_sim_scratch: those of its scratch (the roots' three i32 and one i8 vector per token,
 * a smoothed key token, the key mean, a flag), in the O buffer when it fits. */
uint64_t cc_attn_sim_spad(const CcAttn *a);
uint64_t cc_attn_sim_scratch(const CcAttn *a);
/* cc_attn_isqrt: floor(sqrt(v)), v >= 0. */
int64_t cc_attn_isqrt(int64_t v);
/* cc_attn_selfsim: 1 if the n tokens x [n, D] (minus mu [D] when mu) are self-similar. */
int cc_attn_selfsim(const CcAttn *a, const int32_t *x, uint32_t n, const int32_t *mu);
/* cc_attn_sim_keys: the key flags of one head from its keys k [M, D] and 8-bit block means pk
 * [nk, D]: nsk[j] = 1 if key block j is not self-similar. */
void cc_attn_sim_keys(const CcAttn *a, const int32_t *k, const int32_t *pk, uint8_t *nsk);
/* cc_attn_mask_q: the integer block mask of head bh (nq x nk bytes), as the program computes it. */
void cc_attn_mask_q(const CcAttn *a, const int32_t *q, const int32_t *k, uint8_t *mask);

/* ---- the linear branch (attn_linear.c) ---- */

/* cc_attn_lin_check: the combine attributes and operands of sparse node n; fills a->lin (NULL for
 * combine = none). Needs a's shapes, blocks and s_in. 0, or -1 with a located diagnostic. */
int cc_attn_lin_check(CcModel *m, CcAttn *a, Diag *d);
/* cc_attn_lin_phi: phi8 of the D i8 values x (a key when key, else a query row) into out. */
void cc_attn_lin_phi(const CcAttn *a, const int32_t *x, int key, int32_t *out);
/* Bytes per key block of the stored sums S_j (i32 [D][Dv + 1]). */
uint64_t cc_attn_lin_block_bytes(const CcAttn *a);
/* cc_attn_lin_sums: the sums S_j of every key block of one key head (k [M][D], v [M][Dv]) into
 * sums [nk][D][Dv + 1]. */
void cc_attn_lin_sums(const CcAttn *a, const int32_t *k, const int32_t *v, int32_t *sums);
/* cc_attn_lin_qblock: the linear branch of query block iq of head bh (q [N][D] of the head, mask
 * row of iq or NULL) combined into the softmax output o [N][Dv] of the head, in place. */
void cc_attn_lin_qblock(const CcAttn *a, uint32_t bh, uint32_t iq, const uint8_t *mrow,
                        const int32_t *q, const int32_t *sums, int32_t *o);
/* cc_attn_lin_dump: the linear branch's formats (cc_attn_dump). */
void cc_attn_lin_dump(const CcAttn *a, FILE *f);

#endif
