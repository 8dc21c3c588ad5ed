/* attn_linear_gen.c: code for the SLA / SLA2 linear branch (attn.h, docs/attention.md): the
 * per-key-block sums in the pre-pass and, per query block, the sums of the region into MVMU 2,
 * the rows phi(q_r) through it, the division and the combine with the softmax branch.
 *
 * MVMU use: the pre-pass borrows MVMU 0 (phi(K_j)^T), MVMU 1 (V'_j) and, for sla, MVMU 2's
 * initial weights (W8^T); per query block MVMU 2 takes the requantised sums after the block mask
 * has used its pooled means (so the means are reloaded for every item); LIN_RECOMP's query
 * blocks borrow MVMUs 0 and 1 again to recompute the selected blocks' sums.
 *
 * Memory (LinMem, attn_gen.h): LIN_DIRECT keeps every block's sums in tile memory; LIN_TOTALS
 * and LIN_RECOMP keep each core's partial sums of each head (tile memory or DRAM) and, after a
 * totals pass behind a second barrier, the heads' totals in tile memory. */
#include <stdlib.h>
#include <string.h>

#include "attn_gen.h"

_Static_assert(ITEM_BYTES == 32, "the alpha row index shifts the item offset by 5");

static void
mvm_g(Gen *g, unsigned out, unsigned inp, unsigned unit, unsigned tin, int acc, int gate)
{
	Insn in = mk(OP_mvm);
	in.tout = TY_I8;
	in.tin = (uint8_t)tin;
	in.a = (uint8_t)out, in.b = (uint8_t)inp, in.unit = (uint8_t)unit, in.nbits = 8;
	in.acc = (uint8_t)acc, in.gate = (uint8_t)gate;
	put(g, &in);
}

/* S_j of the key block in MVMUs 0 (phi(K_j)^T) and 1 (V'_j), row e at a time: a one-hot e
 * (from the table at onehot) through MVMU 0 reads column e of phi(K_j) (i32, gated to one row), as
 * i8 it drives MVMU 1, whose output goes to row e at `out` (s->ox onwards; added when add); the
 * column's sum times 128 is the row's last element (stored, or added). sum is scratch. */
static void
gen_sums(Gen *g, const CcAttn *a, const Spad *s, uint32_t onehot, unsigned out, unsigned sum,
         int add)
{
	uint32_t D = a->D, Dv = a->Dv, W4 = (Dv + 1) * 4;
	int l_e = label(g);
	li(g, R_T1, onehot + D - 1);
	li(g, R_T2, D);
	li(g, out, s->ox);
	li(g, R_P8, s->p8a);
	place(g, l_e);
	li(g, 1, s->sb);
	mvm_g(g, 1, R_T1, 0, TY_I8, 0, 1);
	wait(g, 1u << 0);
	vx(g, OP_vmov, TY_I8, TY_I32, R_P8, 1, 0, R_NB, 0);
	mvm_g(g, out, R_P8, 1, TY_I8, add, 0);
	vx(g, OP_vredsum, TY_I8, TY_I8, sum, R_P8, 0, R_NB, 0);
	ri(g, OP_slli, sum, sum, 7);
	if (add) {
		ri(g, OP_lw, R_QR, out, 4 * (int64_t)Dv);
		r3(g, OP_add, sum, R_QR, sum);
	}
	ri(g, OP_sw, sum, out, 4 * (int64_t)Dv);
	ri(g, OP_addi, R_T1, R_T1, -1);
	ri(g, OP_addi, out, out, W4);
	ri(g, OP_xori, R_P8, R_P8, (int64_t)(s->p8a ^ s->p8b));
	branch(g, OP_dbnz, R_T2, 0, l_e);
	wait(g, 1u << 1);
}

void
cc_attn_lin_spad_map(const CcAttn *a, uint32_t nitems, uint32_t *at, Spad *s)
{
	if (!a->lin)
		return;
	s->philut = take(at, 256);
	s->onehot = take(at, 2 * (uint64_t)a->D);
	s->onehotn = take(at, 2 * (uint64_t)a->D);
	if (a->lin->combine == 1) {
		s->b32 = take(at, ((uint64_t)a->Dv + 1) * 4);
		s->b8 = take(at, a->Dv);
	}
	s->lintab = take(at, (uint64_t)nitems * cc_attn_lin_item_words(a) * 4);
}

uint64_t
cc_attn_lin_kb_bytes(const CcAttn *a)
{
	uint64_t b = (uint64_t)a->blkk * a->D, s8 = (uint64_t)a->D * (a->Dv + 1),
	         pq = (uint64_t)a->blkq * a->D;
	if (!a->lin)
		return b;
	/* per query block the K buffer holds the requantised sums S8, then phi(Q) */
	b = b > s8 ? b : s8;
	return b > pq ? b : pq;
}

/* Sum slots per head: a block's (LIN_DIRECT) or a core's partial sum. */
static uint32_t
nslots(const CcAttn *a, int mode, uint32_t ncores)
{
	return mode == LIN_DIRECT ? a->nk : ncores;
}

/* Bytes of a block's phi(K_j) and V'_j (LIN_RECOMP). */
static uint64_t
kv_bytes(const CcAttn *a)
{
	return (uint64_t)a->blkk * (a->D + a->Dv);
}

void
cc_attn_lin_mem(const CcAttn *a, uint32_t maxh, uint32_t cpt, uint64_t room, LinMem *lm)
{
	uint64_t SB = cc_attn_lin_block_bytes(a), tot = (uint64_t)maxh * SB, blk;
	memset(lm, 0, sizeof *lm);
	lm->mode = a->lin->region == 0 ? LIN_TOTALS : LIN_DIRECT;
	if (lm->mode == LIN_DIRECT && tot * a->nk > room)
		lm->mode = LIN_RECOMP;
	blk = tot * nslots(a, lm->mode, cpt);
	if (lm->mode == LIN_DIRECT)
		tot = 0; /* no totals */
	lm->dram = tot + blk > room;
	lm->tile_bytes = tot + (lm->dram ? 0 : blk);
	lm->dram_slots = lm->dram ? blk : 0;
	lm->dram_per_tile =
	    lm->dram_slots + (lm->mode == LIN_RECOMP ? maxh * a->nk * kv_bytes(a) : 0);
}

void
cc_attn_lin_core(Gen *g, const CcAttn *a, const LinMem *lm, uint64_t lin_tm, uint64_t lin_d0,
                 uint32_t t, uint32_t maxh, uint32_t stage, uint32_t nheads, uint32_t core,
                 uint32_t n)
{
	uint64_t d = lin_d0 + (uint64_t)t * lm->dram_per_tile;
	uint64_t tot = lm->mode == LIN_DIRECT ? 0 : (uint64_t)maxh * cc_attn_lin_block_bytes(a);
	g->lin.mode = lm->mode, g->lin.dram = lm->dram, g->lin.stage = stage;
	g->lin.nheads = nheads, g->lin.core = core, g->lin.n = n;
	g->lin.tot = (uint32_t)lin_tm;
	g->lin.blk = (uint32_t)(lm->dram ? d : lin_tm + tot);
	g->lin.kv = (uint32_t)(d + lm->dram_slots);
}

/* The sum slot k of head slot hs. */
static uint64_t
slot(const CcAttn *a, const Gen *g, uint32_t hs, uint32_t k)
{
	return g->lin.blk +
	       ((uint64_t)hs * nslots(a, g->lin.mode, g->lin.n) + k) * cc_attn_lin_block_bytes(a);
}

void
cc_attn_lin_pre(const CcAttn *a, const Gen *g, uint32_t hs, uint32_t j, int32_t *e)
{
	e[5] = (int32_t)slot(a, g, hs, g->lin.mode == LIN_DIRECT ? j : g->lin.core);
	e[7] = (int32_t)(g->lin.kv + ((uint64_t)hs * a->nk + j) * kv_bytes(a));
}

uint32_t
cc_attn_lin_item_words(const CcAttn *a)
{
	return 2 + (a->lin->combine == 2 ? a->blkq : 0);
}

void
cc_attn_lin_item(const CcAttn *a, const Gen *g, uint32_t hs, uint32_t bh, uint32_t iq, int32_t *dst)
{
	dst[0] = (int32_t)(g->lin.tot + (uint64_t)hs * cc_attn_lin_block_bytes(a));
	dst[1] =
	    (int32_t)(g->lin.mode == LIN_RECOMP ? g->lin.kv + (uint64_t)hs * a->nk * kv_bytes(a)
	                                        : slot(a, g, hs, 0));
	if (a->lin->combine == 2)
		memcpy(dst + 2, a->lin->a14 + (size_t)bh * a->N + (size_t)iq * a->blkq,
		       sizeof(int32_t) * a->blkq);
}

void
cc_attn_lin_core_data(KCore *kc, const CcAttn *a, const Spad *s, const int32_t *items,
                      uint32_t nitems)
{
	const CcAttnLin *l = a->lin;
	uint8_t *oh = xcalloc(2 * a->D, 1);
	oh[a->D - 1] = 1;
	kprog_add_spad(kc, s->onehot, oh, 2 * a->D);
	oh[a->D - 1] = 0xff; /* -1 */
	kprog_add_spad(kc, s->onehotn, oh, 2 * a->D);
	free(oh);
	kprog_add_spad(kc, s->philut, l->phi, 256);
	if (l->combine == 1) {
		kprog_add_spad(kc, s->b32, l->b32, (a->Dv + 1) * 4);
		kprog_add_spad(kc, s->b8, l->b8, a->Dv);
	}
	if (nitems)
		kprog_add_spad(kc, s->lintab, items, nitems * cc_attn_lin_item_words(a) * 4);
}

/* Bytes of a chunk of sums: whole rows that fit the K / V buffers and the tile staging. */
static uint32_t
chunk_bytes(const CcAttn *a)
{
	uint32_t W4 = (a->Dv + 1) * 4;
	return a->blkk * (a->D + a->Dv) / W4 * W4;
}

/* spad dst = n bytes of sums at address (register) src + off: tld from tile memory, or from
 * DRAM through the core's tile staging buffer. Uses r1-r3. */
static void
load_chunk(Gen *g, uint32_t dst, unsigned src, uint32_t off, uint32_t n)
{
	li(g, 1, dst);
	ri(g, OP_addi, 2, src, off);
	li(g, 3, n);
	if (g->lin.dram) {
		li(g, 1, g->lin.stage);
		r3(g, OP_dld, 1, 2, 3);
		wait(g, ISA_WAIT_DMA);
		li(g, 2, dst);
		r3(g, OP_tld, 2, 1, 3);
	} else
		r3(g, OP_tld, 1, 2, 3);
}

/* phi of n rows of D i8 values at spad addr, in place: one table lookup (elu1, relu), or the
 * softmax over each row (key rows normalised, query rows not), its temporaries in s->ox. */
static void
gen_phi(Gen *g, const CcAttn *a, const Spad *s, uint32_t addr, uint32_t n, int key)
{
	const CcAttnLin *l = a->lin;
	uint32_t D = a->D, t32 = s->ox, z8 = s->ox + 4 * D, p16 = s->ox + 6 * D;
	int l_row = label(g);
	if (l->fmap != 0) {
		li(g, 1, addr);
		li(g, 2, s->philut);
		li(g, 4, n * D);
		vx(g, OP_vlut, TY_I8, TY_I8, 1, 1, 2, 4, 0);
		return;
	}
	li(g, R_T1, addr);
	li(g, R_T2, n);
	li(g, R_T3, t32);
	place(g, l_row);
	li(g, 4, D);
	vx(g, OP_vredmax, TY_I8, TY_I8, R_A, R_T1, 0, 4, 0);
	r3(g, OP_sub, R_A, 0, R_A);
	vx(g, OP_vmov, TY_I32, TY_I8, R_T3, R_T1, 0, 4, 0);
	vx(g, OP_vadds, TY_I32, TY_I32, R_T3, R_T3, R_A, 4, 0);
	li(g, 1, z8);
	li(g, 3, l->zphi);
	vx(g, OP_vrqs, TY_I8, TY_I32, 1, R_T3, 3, 4, ATTN_ZSH);
	li(g, 2, p16);
	vx(g, OP_vlut, TY_I16, TY_I8, 2, 1, R_LUT, 4, 0);
	if (key) {
		vx(g, OP_vredsum, TY_I16, TY_I16, R_A, 2, 0, 4, 0);
		ri(g, OP_sw, R_A, 0, s->rt);
		li(g, 1, s->rt);
		li(g, 4, 1);
		vx(g, OP_vrecip, TY_I32, TY_I32, 1, 1, 0, 4, 30);
		ri(g, OP_lw, R_A, 0, s->rt);
		ri(g, OP_muli, R_A, R_A, l->gk);
		li(g, 4, D);
		vx(g, OP_vrqs, TY_I8, TY_I16, R_T1, 2, R_A, 4, 30);
	} else {
		li(g, 3, 127);
		vx(g, OP_vrqs, TY_I8, TY_I16, R_T1, 2, 3, 4, ATTN_LUT_SHIFT);
	}
	ri(g, OP_addi, R_T1, R_T1, D);
	branch(g, OP_dbnz, R_T2, 0, l_row);
}

/* n bytes of sums at spad src to address (register) dst + off: tst to tile memory, or to DRAM
 * through the core's tile staging buffer. Uses r1-r4. */
static void
store_chunk(Gen *g, uint32_t src, unsigned dst, uint32_t off, uint32_t n)
{
	li(g, 1, src);
	ri(g, OP_addi, 4, dst, off);
	li(g, 3, n);
	if (g->lin.dram) {
		li(g, 2, g->lin.stage);
		r3(g, OP_tst, 1, 2, 3);
		r3(g, OP_dst, 2, 4, 3);
		wait(g, ISA_WAIT_DMA);
	} else
		r3(g, OP_tst, 1, 4, 3);
}

void
cc_attn_lin_gen_init(Gen *g, const CcAttn *a, const Spad *s)
{
	uint32_t SB = (uint32_t)cc_attn_lin_block_bytes(a), chunk = chunk_bytes(a), h, c;
	if (g->lin.mode == LIN_DIRECT || !g->lin.nheads)
		return;
	li(g, 1, s->ox);
	li(g, 4, SB / 4);
	vx(g, OP_vfill, TY_I32, TY_I32, 1, 0, 0, 4, 0);
	for (h = 0; h < g->lin.nheads; h++) {
		li(g, R_T1, (int64_t)slot(a, g, h, g->lin.core));
		for (c = 0; c < SB; c += chunk)
			store_chunk(g, s->ox + c, R_T1, c, SB - c < chunk ? SB - c : chunk);
	}
}

/* Pre-pass, after the pooled mean of K_j (in s->kb): the entry at R_ITEM holds V_j's DRAM
 * address (16), the sums' tile-memory destination (20) and the V staging buffer (24). */
void
cc_attn_lin_gen_prepass(Gen *g, const CcAttn *a, const Spad *s)
{
	const CcAttnLin *l = a->lin;
	uint32_t D = a->D, Dv = a->Dv, W4 = (Dv + 1) * 4, bk = a->blkk, chunk = chunk_bytes(a), c;
	int l_tok = label(g);
	/* phi(K_j) in place, into MVMU 0 as columns (token t -> column t) */
	gen_phi(g, a, s, s->kb, bk, 1);
	li(g, 1, s->kb);
	xw(g, OP_xbwt, 0, 1, R_NB, 0);
	/* V_j: DRAM -> tile staging -> s->vb */
	ri(g, OP_lw, 2, R_ITEM, 16);
	ri(g, OP_lw, 1, R_ITEM, 24);
	li(g, 3, bk * Dv);
	r3(g, OP_dld, 1, 2, 3);
	wait(g, ISA_WAIT_DMA);
	li(g, 2, s->vb);
	r3(g, OP_tld, 2, 1, 3);
	if (l->combine == 1) {
		/* V'_t = sat8(round((W8 v_t + b32) * mw >> 24)) in place, MVMU 2 holding W8^T */
		li(g, R_T1, s->vb);
		li(g, R_T2, bk);
		li(g, R_T3, s->ox);
		li(g, R_T4, s->b32);
		li(g, R_A, Dv);
		li(g, 4, Dv + 1);
		li(g, 3, l->mw);
		place(g, l_tok);
		vx(g, OP_vmov, TY_I32, TY_I32, R_T3, R_T4, 0, 4, 0);
		mvm_g(g, R_T3, R_T1, 2, TY_I8, 1, 0);
		wait(g, 1u << 2);
		vx(g, OP_vrqs, TY_I8, TY_I32, R_T1, R_T3, 3, R_A, 24);
		ri(g, OP_addi, R_T1, R_T1, Dv);
		branch(g, OP_dbnz, R_T2, 0, l_tok);
	}
	li(g, 1, s->vb);
	xw(g, OP_xbw, 0, 1, R_NB, 1);
	gen_sums(g, a, s, s->onehot, R_T3, R_T4, 0);
	if (g->lin.mode == LIN_RECOMP) {
		/* phi(K_j) and V'_j to DRAM, for the query blocks that select block j */
		li(g, 1, s->kb);
		li(g, 2, g->lin.stage);
		li(g, 3, bk * D);
		r3(g, OP_tst, 1, 2, 3);
		li(g, 1, s->vb);
		ri(g, OP_addi, 4, 2, bk * D);
		li(g, 3, bk * Dv);
		r3(g, OP_tst, 1, 4, 3);
		ri(g, OP_lw, 4, R_ITEM, 28);
		li(g, 3, bk * (D + Dv));
		r3(g, OP_dst, 2, 4, 3);
		wait(g, ISA_WAIT_DMA);
	}
	/* store the block's sums, or add them to this core's partial sum of the head */
	ri(g, OP_lw, R_T1, R_ITEM, 20);
	for (c = 0; c < D * W4; c += chunk) {
		uint32_t n = D * W4 - c < chunk ? D * W4 - c : chunk;
		if (g->lin.mode != LIN_DIRECT) {
			load_chunk(g, s->kb, R_T1, c, n);
			li(g, 1, s->kb);
			li(g, 2, s->ox + c);
			li(g, 4, n / 4);
			vx(g, OP_vadd, TY_I32, TY_I32, 2, 2, 1, 4, 0);
		}
		store_chunk(g, s->ox + c, R_T1, c, n);
	}
}

void
cc_attn_lin_gen_totals(Gen *g, const CcAttn *a, const Spad *s)
{
	uint32_t W4 = (a->Dv + 1) * 4, SB = a->D * W4, chunk = chunk_bytes(a);
	uint32_t r0 = g->lin.core * a->D / g->lin.n, r1 = (g->lin.core + 1) * a->D / g->lin.n, c;
	uint32_t lo = r0 * W4, hi = r1 * W4;
	int l_h = label(g), l_j = label(g);
	if (g->lin.mode == LIN_DIRECT)
		return;
	if (r1 > r0 && g->lin.nheads) {
		li(g, R_T3, g->lin.blk);
		li(g, R_T4, g->lin.tot);
		li(g, R_A, g->lin.nheads);
		place(g, l_h);
		for (c = lo; c < hi; c += chunk) {
			uint32_t n = hi - c < chunk ? hi - c : chunk;
			li(g, 1, s->ox);
			li(g, 4, n / 4);
			vx(g, OP_vfill, TY_I32, TY_I32, 1, 0, 0, 4, 0);
			ri(g, OP_addi, R_T1, R_T3, 0);
			li(g, R_T2, nslots(a, g->lin.mode, g->lin.n));
			place(g, l_j);
			load_chunk(g, s->kb, R_T1, c, n);
			li(g, 1, s->kb);
			li(g, 2, s->ox);
			li(g, 4, n / 4);
			vx(g, OP_vadd, TY_I32, TY_I32, 2, 2, 1, 4, 0);
			ri(g, OP_addi, R_T1, R_T1, SB);
			branch(g, OP_dbnz, R_T2, 0, l_j);
			l_j = label(g);
			li(g, 1, s->ox);
			ri(g, OP_addi, 2, R_T4, c);
			li(g, 3, n);
			r3(g, OP_tst, 1, 2, 3);
		}
		ri(g, OP_addi, R_T3, R_T3, (int64_t)SB * nslots(a, g->lin.mode, g->lin.n));
		ri(g, OP_addi, R_T4, R_T4, SB);
		branch(g, OP_dbnz, R_A, 0, l_h);
	}
	{
		Insn in = mk(OP_bar);
		put(g, &in);
	}
}

/* LIN_RECOMP: subtract the sums of the block whose phi(K_j) and V'_j are at DRAM address R_T3
 * from S (s->ox), as the pre-pass made them but with a -1 one-hot: MVMU 0 gives -phi(K_j)'s
 * column e, which MVMU 1 adds (acc) to S's row e. */
static void
gen_recompute(Gen *g, const CcAttn *a, const Spad *s)
{
	uint32_t D = a->D, Dv = a->Dv, bk = a->blkk;
	li(g, 1, g->lin.stage);
	ri(g, OP_addi, 2, R_T3, 0);
	li(g, 3, (int64_t)kv_bytes(a));
	r3(g, OP_dld, 1, 2, 3);
	wait(g, ISA_WAIT_DMA);
	li(g, 2, s->kb);
	li(g, 3, bk * D);
	r3(g, OP_tld, 2, 1, 3);
	li(g, 2, s->vb);
	ri(g, OP_addi, 1, 1, bk * D);
	li(g, 3, bk * Dv);
	r3(g, OP_tld, 2, 1, 3);
	li(g, 1, s->kb);
	xw(g, OP_xbwt, 0, 1, R_NB, 0);
	li(g, 1, s->vb);
	xw(g, OP_xbw, 0, 1, R_NB, 1);
	gen_sums(g, a, s, s->onehotn, R_OR, R_A, 1);
}

/* After the softmax branch's normalise (o_s in s->qb, the Q block still at tm_q in tile
 * memory): the linear branch of the item's query block, combined into s->qb. */
void
cc_attn_lin_gen_qblock(Gen *g, const CcAttn *a, const Spad *s, uint32_t tm_q)
{
	const CcAttnLin *l = a->lin;
	uint32_t D = a->D, Dv = a->Dv, W = Dv + 1, W4 = W * 4, SB = D * W4, c;
	uint32_t chunk = chunk_bytes(a);
	int l_blk = label(g), l_skip = label(g), l_mv = label(g), l_row = label(g);
	int l_den = label(g);
	/* the item's linear table entry: totals, block sums, a14 rows */
	ri(g, OP_addi, R_T4, R_ITEM, -(int64_t)s->items);
	ri(g, OP_srli, R_T4, R_T4, 5); /* ITEM_BYTES = 32 */
	ri(g, OP_muli, R_T4, R_T4, (int64_t)cc_attn_lin_item_words(a) * 4);
	ri(g, OP_addi, R_T4, R_T4, s->lintab);
	if (g->lin.mode == LIN_DIRECT) {
		/* S = the sum of the unselected blocks' sums, all in tile memory */
		li(g, 1, s->ox);
		li(g, 4, SB / 4);
		vx(g, OP_vfill, TY_I32, TY_I32, 1, 0, 0, 4, 0);
	} else {
		/* S = the head's totals, minus the selected blocks' sums for region = complement */
		ri(g, OP_lw, 2, R_T4, 0);
		li(g, 1, s->ox);
		li(g, 3, SB);
		r3(g, OP_tld, 1, 2, 3);
	}
	if (l->region == 1) {
		ri(g, OP_lw, R_T3, R_T4, 4);
		li(g, R_J, 0);
		li(g, R_JN, a->nk);
		place(g, l_blk);
		ri(g, OP_lb, R_T2, R_J, s->mk);
		branch(g, g->lin.mode == LIN_DIRECT ? OP_bne : OP_beq, R_T2, 0, l_skip);
		if (g->lin.mode == LIN_RECOMP)
			gen_recompute(g, a, s);
		for (c = 0; g->lin.mode != LIN_RECOMP && c < SB; c += chunk) {
			uint32_t n = SB - c < chunk ? SB - c : chunk;
			load_chunk(g, s->kb, R_T3, c, n);
			li(g, 1, s->kb);
			li(g, 2, s->ox + c);
			li(g, 4, n / 4);
			vx(g, g->lin.mode == LIN_DIRECT ? OP_vadd : OP_vsub, TY_I32, TY_I32, 2, 2,
			   1, 4, 0);
		}
		place(g, l_skip);
		ri(g, OP_addi, R_J, R_J, 1);
		ri(g, OP_addi, R_T3, R_T3,
		   g->lin.mode == LIN_RECOMP ? (int64_t)kv_bytes(a) : (int64_t)SB);
		branch(g, OP_dbnz, R_JN, 0, l_blk);
	}
	/* S8 = sat8(round(S * c >> 30)), c = round(2^30 / max(128, max S)) * 127, into MVMU 2 */
	li(g, 1, s->ox);
	li(g, 4, D * W);
	vx(g, OP_vredmax, TY_I32, TY_I32, R_T1, 1, 0, 4, 0);
	li(g, R_T2, 128);
	r3(g, OP_max, R_T1, R_T1, R_T2);
	ri(g, OP_sw, R_T1, 0, s->rt);
	li(g, 1, s->rt);
	li(g, 4, 1);
	vx(g, OP_vrecip, TY_I32, TY_I32, 1, 1, 0, 4, 30);
	ri(g, OP_lw, R_T1, 0, s->rt);
	ri(g, OP_muli, R_T1, R_T1, 127);
	li(g, 1, s->kb);
	li(g, 2, s->ox);
	li(g, 4, D * W);
	vx(g, OP_vrqs, TY_I8, TY_I32, 1, 2, R_T1, 4, 30);
	li(g, 3, D);
	xw(g, OP_xbw, 0, 1, 3, 2);
	wait(g, 1u << 2);
	/* phi(Q) from the Q block still in tile memory; n_r = mvm(S8, phi(q_r)) into s->ox rows */
	li(g, 2, tm_q);
	li(g, 3, a->blkq * D);
	r3(g, OP_tld, 1, 2, 3);
	gen_phi(g, a, s, s->kb, a->blkq, 0);
	li(g, R_QR, s->kb);
	li(g, R_OR, s->ox);
	li(g, R_RN, a->blkq);
	place(g, l_mv);
	mvm_g(g, R_OR, R_QR, 2, TY_I8, 0, 0);
	ri(g, OP_addi, R_QR, R_QR, D);
	ri(g, OP_addi, R_OR, R_OR, W4);
	branch(g, OP_dbnz, R_RN, 0, l_mv);
	wait(g, 1u << 2);
	/* per row: o_l = sat8(round(n * round(2^30 / n[Dv]) >> 23)), combined into o_s */
	li(g, R_OR, s->ox);
	li(g, R_QR, s->qb);
	li(g, R_RN, a->blkq);
	ri(g, OP_addi, R_T4, R_T4, 8); /* sla2: the item's a14 rows */
	place(g, l_row);
	li(g, 1, s->rt);
	ri(g, OP_addi, 2, R_OR, 4 * (int64_t)Dv);
	li(g, 4, 1);
	vx(g, OP_vrecip, TY_I32, TY_I32, 1, 2, 0, 4, 30);
	ri(g, OP_lw, R_T1, 0, s->rt);
	li(g, 1, s->sb);
	li(g, 4, Dv);
	vx(g, OP_vrqs, TY_I8, TY_I32, 1, R_OR, R_T1, 4, 23);
	if (l->combine == 1) {
		ri(g, OP_lw, R_T2, R_OR, 4 * (int64_t)Dv);
		branch(g, OP_bne, R_T2, 0, l_den);
		li(g, 2, s->b8);
		vx(g, OP_vmov, TY_I8, TY_I8, 1, 2, 0, 4, 0);
		place(g, l_den);
		vx(g, OP_vadd, TY_I8, TY_I8, R_QR, R_QR, 1, 4, 0);
	} else {
		vx(g, OP_vmov, TY_I32, TY_I8, R_OR, R_QR, 0, 4, 0);
		ri(g, OP_lw, R_T2, R_T4, 0);
		vx(g, OP_vmuls, TY_I32, TY_I32, R_OR, R_OR, R_T2, 4, 0);
		li(g, R_T3, 16384);
		r3(g, OP_sub, R_T3, R_T3, R_T2);
		vx(g, OP_vmac, TY_I8, TY_I8, R_OR, 1, R_T3, 4, 0);
		li(g, 3, 1);
		vx(g, OP_vrqs, TY_I8, TY_I32, R_QR, R_OR, 3, 4, 14);
		ri(g, OP_addi, R_T4, R_T4, 4);
	}
	ri(g, OP_addi, R_OR, R_OR, W4);
	ri(g, OP_addi, R_QR, R_QR, Dv);
	branch(g, OP_dbnz, R_RN, 0, l_row);
}
