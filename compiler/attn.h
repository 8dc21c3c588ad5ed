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
 *   output: o_r = O_r * round(2^30 / l_r) >> 30, i8 at the scale of v. */
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

#endif
