/* attn_emit.h: the instruction emitter of the attention lowering (attn_codegen.c, attn_proj.c):
 * one Gen per stretch of code on a core, with forward labels patched by resolve. Static
 * inline: short names, no symbols exported from the library. */
#ifndef KOLMO_ATTN_EMIT_H
#define KOLMO_ATTN_EMIT_H

#include "attn.h"
#include "kelf.h"

#include <string.h>

enum { MAXLABEL = 64 };

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

static inline void
gen_bar(Gen *g, unsigned chan)
{
	Insn in = mk(OP_bar);
	in.chan = (uint8_t)chan;
	put(g, &in);
}

static inline void
gen_send(Gen *g, unsigned ra, unsigned rb, unsigned rc, unsigned tile, unsigned chan)
{
	Insn in = mk(OP_send);
	in.a = (uint8_t)ra, in.b = (uint8_t)rb, in.c = (uint8_t)rc;
	in.tile = (uint16_t)tile, in.chan = (uint8_t)chan;
	put(g, &in);
}

static inline void
gen_recv(Gen *g, unsigned tile, unsigned chan)
{
	Insn in = mk(OP_recv);
	in.tile = (uint16_t)tile, in.chan = (uint8_t)chan;
	put(g, &in);
}

/* ---- the phases of an attention layer (attn_phase.c) ---- */

/* Where the projections of an attention layer run: every core of the chip takes a contiguous run
 * of tokens; a projection's matrix is cut into br x bc blocks, held nu at a time by the MVMUs
 * units[] (which the attention kernel does not need, or whose shape is that block's). */
typedef struct AttnPhases {
	uint32_t ntiles, cpt, ncall; /* tiles, cores per tile, cores of the chip */
	uint32_t br, bc, nu, units[4];
	uint32_t T;                      /* tokens per chunk */
	uint64_t x0, y0, q0, k0, v0, o0; /* DRAM: x, y, and the attention tensors */
	uint64_t h0, p0;      /* DRAM: the layer norm's output, the output projection's */
	uint64_t xin0, yout0; /* DRAM: the projections' input and output */
	uint64_t w0[4], wn;   /* DRAM: each projection's blocks, bias, multipliers; gamma, beta */
	uint64_t r0;          /* DRAM: the attention layer's output (a block: before the FFN) */
	uint64_t h20, wn2;    /* DRAM: the feed-forward's layer norm: output, gamma and beta */
	uint64_t f0[8];       /* DRAM: each feed-forward layer's output */
	uint64_t fw[8];       /* DRAM: each feed-forward layer's per-tile parameter blobs */
	uint32_t sp_lim;      /* scratchpad: end of the phases' space */
	uint32_t tm_w, tm_stage, tm_sync;            /* tile memory */
	uint32_t sp_bm, sp_st, sp_x, sp_acc, sp_out; /* scratchpad */
} AttnPhases;

/* cc_attn_phases_plan: blocks, units, chunk and memory of the phases; the scratchpad between
 * sp0 and sp1 is free during them, the tile memory below tmem. 0 or -1 with d. */
int cc_attn_phases_plan(const CcModel *m, AttnPhases *ph, uint32_t sp0, uint32_t sp1, uint64_t tmem,
                        Diag *d);
/* cc_attn_phases_dram: the projections' blocks, biases and multipliers as DRAM data of p */
void cc_attn_phases_dram(const CcModel *m, const AttnPhases *ph, KProg *p);
/* cc_attn_gen_in / cc_attn_gen_out: core (tile, core)'s code of the q, k, v projections and the
 * barrier after them; of the barrier before the output projection and that projection */
void cc_attn_gen_in(KProg *p, KCore *kc, const CcModel *m, const AttnPhases *ph, uint32_t tile,
                    uint32_t core);
void cc_attn_gen_out(KProg *p, KCore *kc, const CcModel *m, const AttnPhases *ph, uint32_t tile,
                     uint32_t core);
/* cc_attn_load_rows: rows [r5, r5 + Tc) of width w at DRAM base into the scratchpad at sp,
 * through the tile memory at tm (r1-r4 clobbered; r3 = the bytes after) */
void cc_attn_load_rows(Gen *g, uint64_t base, uint32_t w, uint32_t tm, uint32_t sp, uint32_t Tc);
/* A W-wide tensor of N rows kept as nplanes column planes (plane p: columns
 * [p W / nplanes, (p + 1) W / nplanes) of every row, at base + N c0).
 * cc_attn_planes_load: rows [r_tok, r_tok + r_tc) of every plane into the tile memory, plane p's
 * at tm + T c0 (T rows of room); cc_attn_planes_rows: r_tc rows from there, the first at
 * local index r_first, joined into whole rows at sp. r1-r4 and r22-r24 clobbered. */
void cc_attn_planes_load(Gen *g, uint64_t base, uint32_t W, uint32_t N, uint32_t nplanes,
                         uint32_t T, uint32_t tm, unsigned tok, unsigned tc);
void cc_attn_planes_rows(Gen *g, uint32_t W, uint32_t nplanes, uint32_t T, uint32_t tm, uint32_t sp,
                         unsigned tc, unsigned first);
/* cc_attn_gbar: a barrier of every core of the chip */
void cc_attn_gbar(Gen *g, const AttnPhases *ph, uint32_t tile, uint32_t core);
/* attn_ffn.c: cc_attn_ffn_blob: bytes of feed-forward layer li's per-tile parameter blob;
 * cc_attn_ffn_dram: the blobs as DRAM data, tile t's at ph->fw[li] + t x blob;
 * cc_attn_gen_ffn: feed-forward layer li on (tile, core) */
uint32_t cc_attn_ffn_blob(const CcModel *m, const AttnPhases *ph, uint32_t li);
int cc_attn_ffn_plan(const CcModel *m, const AttnPhases *ph, uint64_t tmem, Diag *d);
void cc_attn_ffn_dram(const CcModel *m, const AttnPhases *ph, KProg *p);
void cc_attn_gen_ffn(KProg *p, KCore *kc, const CcModel *m, const AttnPhases *ph, uint32_t li,
                     uint32_t tile, uint32_t core);
/* cc_attn_phase_xbars: the crossbar shapes the phases need on a core the attention kernel does
 * not program */
void cc_attn_phase_xbars(KCore *kc, const AttnPhases *ph);

#endif
