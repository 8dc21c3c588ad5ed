/* attn_gen.h: the attention kernel's registers and scratchpad map, shared by attn_codegen.c
 * (softmax branch) and attn_linear_gen.c (SLA / SLA2 linear branch); the emitter is attn_emit.h. */
#ifndef KOLMO_ATTN_GEN_H
#define KOLMO_ATTN_GEN_H

#include <string.h>

#include "attn_emit.h"

enum {
	R_ITEM = 5,
	R_NITEM = 6,
	R_Q = 7,
	R_K = 8,
	R_V = 9,
	R_O = 10,
	R_A = 11,
	R_R0 = 12,
	R_J = 13,
	R_JN = 14,
	R_RN = 15,
	R_QR = 16,
	R_MX = 17,
	R_OR = 18,
	R_T1 = 19,
	R_T2 = 20,
	R_T3 = 21,
	R_ROW = 22,
	R_T0 = 23,
	R_P8 = 24,
	R_T4 = 25,
	R_S = 26,
	R_Z8 = 27,
	R_P16 = 28,
	R_LUT = 29,
	R_NB1 = 30,
	R_NB = 31,
};

enum { ITEM_BYTES = 32, PRE_BYTES = 16 };
enum { CACHE_K = 1, CACHE_V = 2 }; /* the head's K / V blocks are read once into tile memory */

typedef struct Spad {
	uint32_t lut, onesq, onesk, items, qb, kb, vb, ox, mx, sb, sb2, z8, p16, p8a, p8b, rt;
	uint32_t acc, pm8, ts, tz, tz8, te, sel, mk, pooltab, end;
	uint32_t philut, onehot, onehotn, b32, b8, lintab; /* the linear branch */
	/* self-similarity (simk) */
	uint32_t xs, sqv, sres, stmp, sg8, sacc, mu, nsk, sfl, simtab, nsim;
} Spad;

/* The next 16-byte aligned buffer; the map saturates at UINT32_MAX (then the scratchpad check
 * refuses it). */
static inline uint32_t
take(uint32_t *at, uint64_t bytes)
{
	uint32_t a = *at;
	uint64_t next = (uint64_t)*at + ((bytes + 15) & ~(uint64_t)15);
	*at = next > UINT32_MAX ? UINT32_MAX : (uint32_t)next;
	return a;
}

/* ---- the linear branch (attn_linear_gen.c) ---- */

/* Entry bytes of the pre-pass table: DRAM address, tile-memory destination, pooled-mean
 * destination, bytes; with the linear branch also V's DRAM address, the sums' destination and
 * the V staging buffer. */
static inline uint32_t
pre_bytes(const CcAttn *a)
{
	return a->lin ? 32 : PRE_BYTES;
}

/* cc_attn_lin_kb_bytes: the K block buffer, large enough for the linear branch's S8 and phi(Q). */
uint64_t cc_attn_lin_kb_bytes(const CcAttn *a);
/* cc_attn_lin_spad_map: the linear branch's scratchpad buffers (after the kernel's). */
void cc_attn_lin_spad_map(const CcAttn *a, uint32_t nitems, uint32_t *at, Spad *s);
/* The linear branch's memory modes: */
enum {
	LIN_DIRECT, /* complement, every block's sums in tile memory: a query block adds the
	             * unselected ones */
	LIN_TOTALS, /* all: the cores' partial sums of each head, then the head's totals */
	LIN_RECOMP, /* complement, the blocks' sums too large: partials and totals as for all, and
	             * each block's phi(K_j) and V'_j in DRAM, from which a query block recomputes
	             * and subtracts the selected blocks' sums */
};
/* The memory: per tile, in tile memory the totals of its head slots and the sum slots (blocks
 * or partials) when they fit, else the slots in a DRAM region per tile; LIN_RECOMP's phi(K_j)
 * and V'_j blocks follow the slots in the DRAM region. */
typedef struct LinMem {
	int mode, dram;         /* dram: the sum slots are in DRAM */
	uint64_t tile_bytes;    /* tile memory: totals and (unless dram) slots */
	uint64_t dram_slots;    /* DRAM bytes per tile of slots */
	uint64_t dram_per_tile; /* all DRAM bytes per tile */
} LinMem;
/* cc_attn_lin_mem: the layout for maxh head slots and cpt cores per tile and room bytes of free
 * tile memory. */
void cc_attn_lin_mem(const CcAttn *a, uint32_t maxh, uint32_t cpt, uint64_t room, LinMem *lm);
/* cc_attn_lin_core: g->lin of core (of n active) in tile t of the layout: lin_tm its tile-memory
 * base, lin_d0 the DRAM base, stage the core's tile staging buffer, nheads the tile's head
 * slots, maxh the most of any tile. */
void cc_attn_lin_core(Gen *g, const CcAttn *a, const LinMem *lm, uint64_t lin_tm, uint64_t lin_d0,
                      uint32_t t, uint32_t maxh, uint32_t stage, uint32_t nheads, uint32_t core,
                      uint32_t n);
/* cc_attn_lin_pre: the linear fields (e[5], e[7]) of the pre-pass entry of block j of head slot
 * hs. */
void cc_attn_lin_pre(const CcAttn *a, const Gen *g, uint32_t hs, uint32_t j, int32_t *e);
/* cc_attn_lin_gen_init: before the pre-pass (partial sums): zero this core's partial sums. */
void cc_attn_lin_gen_init(Gen *g, const CcAttn *a, const Spad *s);
/* cc_attn_lin_item_words: i32 words per item of the linear table; cc_attn_lin_item fills one
 * for head slot hs: the head's totals, its blocks (sums, or LIN_RECOMP's phi(K) / V'), sla2's
 * a14 per row. */
uint32_t cc_attn_lin_item_words(const CcAttn *a);
void cc_attn_lin_item(const CcAttn *a, const Gen *g, uint32_t hs, uint32_t bh, uint32_t iq,
                      int32_t *dst);
/* cc_attn_lin_core_data: a core's initial scratchpad data (tables, one-hot, bias, items). */
void cc_attn_lin_core_data(KCore *kc, const CcAttn *a, const Spad *s, const int32_t *items,
                           uint32_t nitems);
/* cc_attn_lin_gen_totals: after the pre-pass barrier, this core's rows of the totals of the
 * tile's head slots, then a second barrier. */
void cc_attn_lin_gen_totals(Gen *g, const CcAttn *a, const Spad *s);
/* cc_attn_lin_gen_prepass: a pre-pass key block's sums (after its pooled mean). */
void cc_attn_lin_gen_prepass(Gen *g, const CcAttn *a, const Spad *s);
/* cc_attn_lin_gen_qblock: the item's linear branch and combine, after the normalise. */
void cc_attn_lin_gen_qblock(Gen *g, const CcAttn *a, const Spad *s, uint32_t tm_q);

/* ---- the self-similarity test (attn_sim_gen.c) ----
 * spad_map: its buffers (in the O and K buffers when they fit); test: the test of the query
 * block at s->qb or (isk) the smoothed key block at s->kb, R_T1 = 1 if self-similar; pass: the
 * key blocks' phase after the pre-pass; e / scores / rules: its hooks in the block mask; table:
 * the pass's entries. */
void cc_attn_sim_spad_map(const CcAttn *a, uint32_t npool, Spad *s, uint32_t *at);
void cc_attn_sim_test(Gen *g, const CcAttn *a, const Spad *s, int isk);
void cc_attn_sim_pass(Gen *g, const CcAttn *a, const Spad *s, int cached);
void cc_attn_sim_e(Gen *g, const Spad *s);
void cc_attn_sim_scores(Gen *g, const CcAttn *a, const Spad *s);
void cc_attn_sim_rules(Gen *g, const CcAttn *a, const Spad *s, int l_all);
void cc_attn_sim_table(const CcAttn *a, KCore *kc, Spad *s, const int32_t *pre, uint32_t npre,
                       uint64_t pool_tm, uint64_t pstride);

#endif
