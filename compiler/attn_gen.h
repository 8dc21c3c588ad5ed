/* attn_gen.h: the attention code generator's emit helpers, registers and scratchpad map, shared
 * by attn_codegen.c (softmax branch) and attn_linear_gen.c (SLA / SLA2 linear branch). */
#ifndef KOLMO_ATTN_GEN_H
#define KOLMO_ATTN_GEN_H

#include <string.h>

#include "attn.h"

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

enum { ITEM_BYTES = 32, PRE_BYTES = 16, MAXLABEL = 32 };
enum { CACHE_K = 1, CACHE_V = 2 }; /* the head's K / V blocks are read once into tile memory */

typedef struct Spad {
	uint32_t lut, onesq, onesk, items, qb, kb, vb, ox, mx, sb, sb2, z8, p16, p8a, p8b, rt;
	uint32_t acc, pm8, ts, tz, tz8, te, sel, mk, pooltab, end;
	uint32_t philut, onehot, onehotn, b32, b8, lintab; /* the linear branch */
} Spad;

typedef struct Gen {
	KCore *kc;
	uint32_t label[MAXLABEL];
	struct {
		uint32_t pc;
		int label;
	} fix[MAXLABEL * 2];
	int nfix, nlabel;
	struct {                  /* the linear branch (attn_linear_gen.c) */
		int dram;         /* the sum slots are in DRAM (else in tile memory) */
		uint32_t stage;   /* this core's tile-memory staging buffer for chunks */
		uint32_t nheads;  /* head slots of the tile */
		uint32_t core, n; /* this core's index among the tile's n active cores */
		int mode;         /* LIN_DIRECT, LIN_TOTALS, LIN_RECOMP */
		uint32_t blk; /* the tile's sum slots: head slot h, slot k at blk + (h ns + k) SB */
		uint32_t kv;  /* LIN_RECOMP: head slot h, block j at kv + (h nk + j) blkk 2D */
		uint32_t tot; /* the tile's totals: head slot h at tot + h SB (tile memory) */
	} lin;
} Gen;

static inline void
put(Gen *g, const Insn *in)
{
	uint64_t w = isa_encode(in);
	kprog_add_code(g->kc, &w, 1);
}

static inline Insn
mk(unsigned op)
{
	Insn in;
	memset(&in, 0, sizeof in);
	in.op = (uint8_t)op;
	return in;
}

/* scalar: rA = rB op rC, or rA = rB op imm; loads and stores: rA, imm(rB) */
static inline void
r3(Gen *g, unsigned op, unsigned a, unsigned b, unsigned c)
{
	Insn in = mk(op);
	in.a = (uint8_t)a, in.b = (uint8_t)b, in.c = (uint8_t)c;
	put(g, &in);
}

static inline void
ri(Gen *g, unsigned op, unsigned a, unsigned b, int64_t imm)
{
	Insn in = mk(op);
	in.a = (uint8_t)a, in.b = (uint8_t)b, in.imm = (int32_t)imm;
	put(g, &in);
}

static inline void
li(Gen *g, unsigned r, int64_t v)
{
	ri(g, OP_addi, r, 0, v);
}

/* vector op: types, registers a b c d, shift */
static inline void
vx(Gen *g, unsigned op, unsigned tout, unsigned tin, unsigned a, unsigned b, unsigned c,
   unsigned dreg, unsigned shift)
{
	Insn in = mk(op);
	in.tout = (uint8_t)tout, in.tin = (uint8_t)tin;
	in.a = (uint8_t)a, in.b = (uint8_t)b, in.c = (uint8_t)c, in.d = (uint8_t)dreg;
	in.shift = (uint8_t)shift;
	put(g, &in);
}

static inline void
sel(Gen *g, unsigned op, unsigned ty, unsigned a, unsigned b, unsigned c, unsigned dreg, unsigned e)
{
	Insn in = mk(op);
	in.tout = in.tin = (uint8_t)ty;
	in.a = (uint8_t)a, in.b = (uint8_t)b, in.c = (uint8_t)c, in.d = (uint8_t)dreg;
	in.e = (uint8_t)e;
	put(g, &in);
}

static inline void
mvm(Gen *g, unsigned out, unsigned inp, unsigned unit, int acc)
{
	Insn in = mk(OP_mvm);
	in.tout = in.tin = TY_I8;
	in.a = (uint8_t)out, in.b = (uint8_t)inp, in.unit = (uint8_t)unit, in.nbits = 8;
	in.acc = (uint8_t)acc;
	put(g, &in);
}

static inline void
xw(Gen *g, unsigned op, unsigned first, unsigned src, unsigned n, unsigned unit)
{
	Insn in = mk(op);
	in.tout = in.tin = TY_I8;
	in.a = (uint8_t)first, in.b = (uint8_t)src, in.c = (uint8_t)n, in.unit = (uint8_t)unit;
	put(g, &in);
}

static inline void
wait(Gen *g, uint32_t mask)
{
	Insn in = mk(OP_wait);
	in.mask = mask;
	put(g, &in);
}

/* memory transfer op rA, rB, rC with the three values loaded into r1, r2, r3 */
static inline void
xfer(Gen *g, unsigned op, unsigned ra, unsigned rb, uint32_t n)
{
	li(g, 3, n);
	r3(g, op, ra, rb, 3);
}

static inline int
label(Gen *g)
{
	return g->nlabel++;
}

static inline void
place(Gen *g, int l)
{
	g->label[l] = g->kc->ncode;
}

static inline void
branch(Gen *g, unsigned op, unsigned a, unsigned b, int l)
{
	Insn in = mk(op);
	in.a = (uint8_t)a, in.b = (uint8_t)b;
	g->fix[g->nfix].pc = g->kc->ncode;
	g->fix[g->nfix++].label = l;
	put(g, &in);
}

static inline void
resolve(Gen *g)
{
	int i;
	for (i = 0; i < g->nfix; i++) {
		uint32_t pc = g->fix[i].pc;
		Insn in;
		isa_decode(g->kc->code[pc], &in);
		in.imm = (int32_t)((int64_t)g->label[g->fix[i].label] - (int64_t)pc);
		g->kc->code[pc] = isa_encode(&in);
	}
}

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

#endif
