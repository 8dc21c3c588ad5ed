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
	ATTN_LUT_ONE = 16384,     /* 2^14: the table's 1.0 */
	ATTN_LUT_SHIFT = 14,      /* p8 = p16 * 127 >> 14, O *= alpha >> 14 */
	ATTN_ZSH = 24,            /* z8 = z * zmult >> 24 */
	ATTN_RECIP_SHIFT = 30,    /* o = O * round(2^30 / l) >> 30 */
	ATTN_MASKED = -(1 << 30), /* a causally masked score */
	ATTN_MINIT = -(1 << 29),  /* the running max before the first block */
};

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
	IrTensorId tq, tk, tv, to;
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

/* Allowed key blocks of query block iq: all, or the causal prefix. */
uint32_t cc_attn_allowed(const CcAttn *a, uint32_t iq);

/* cc_attn_check: recognise and check the attention graph of m->g, fill m->attn (arena) and the
 * model's I/O. 0, or -1 with a located diagnostic. */
int cc_attn_check(CcModel *m, Diag *d);
/* cc_attn_dump: the model's shapes, blocks, mask and formats (cc_model_dump, -d). */
void cc_attn_dump(const CcModel *m, FILE *f);
/* cc_attn_codegen: the program of every core. */
int cc_attn_codegen(CcModel *m, KProg *p, Diag *d);
/* cc_attn_qref: the integer reference on quantised q | k | v (concatenated) -> o. */
int cc_attn_qref(const CcModel *m, const int32_t *in, int32_t *out, Diag *d);
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
