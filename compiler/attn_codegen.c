/* attn_codegen.c: code for the attention lowering (attn.h, docs/attention.md).
 *
 * q, k, v and the output live in DRAM. The (head, query block) items are split into contiguous
 * runs, one per core (cores taken tile by tile round-robin, so the tiles' DMA engines share the
 * work). Every core runs the same kernel over a table of its items in the scratchpad:
 *
 *   item loop      (per item: Q block -> scratchpad through the tile memory)
 *     pool         sparse, new head: each K block's token sum (xbw + mvm with ones on MVMU 3),
 *                  its mean as column j of MVMU 2 (xbwt)
 *     mask         sparse: pooled Q block through MVMU 2 -> block scores; SEL; a byte per block
 *     block loop   over the allowed key blocks, skipping unselected ones (data-dependent):
 *                  K_j^T -> MVMU 0 (xbwt), V_j -> MVMU 1 (xbw)
 *       row loop   s = mvm 0, online-softmax update on the VFU, O += p V (mvm 1, acc)
 *     normalise    o = O / l, back to DRAM
 *
 * Registers: r1-r4 operands, r5 item pointer, r6 items left, r7 Q block address, r8/r9 K/V
 * block addresses, r11 allowed blocks, r12 first row, r13 block index, r14 blocks left, r15 rows
 * left, r16 q row, r17 running max, r18 O row, r19-r21 and r25 scratch, r22 row, r23 first key
 * of the block, r24 p8 buffer (alternating), r26 s, r27 z8, r28 p16, r29 table, r30 blkk + 1,
 * r31 blkk. */
#include <stdlib.h>
#include <string.h>

#include "attn_gen.h"

static void
spad_map(const CcAttn *a, uint32_t nitems, uint32_t npool, Spad *s)
{
	uint32_t at = 0, prows = a->blkq > a->blkk ? a->blkq : a->blkk;
	uint32_t dq = a->D > a->Dv ? a->D : a->Dv;
	memset(s, 0, sizeof *s);
	s->lut = take(&at, 512);
	s->items = take(&at, (uint64_t)nitems * ITEM_BYTES);
	s->qb = take(&at, (uint64_t)a->blkq * dq);
	s->kb = take(&at, cc_attn_lin_kb_bytes(a)); /* K block; more for the linear branch */
	s->vb = take(&at, (uint64_t)a->blkk * a->Dv);
	s->ox = take(&at, (uint64_t)(a->lin && a->D > a->blkq ? a->D : a->blkq) * (a->Dv + 1) * 4);
	s->mx = take(&at, (uint64_t)a->blkq * 4);
	s->sb = take(&at, (uint64_t)(a->blkk + 1) * 4);
	s->sb2 = take(&at, (uint64_t)(a->blkk + 1) * 4);
	s->z8 = take(&at, a->blkk + 1);
	s->p16 = take(&at, (uint64_t)(a->blkk + 1) * 2);
	s->p8a = take(&at, a->blkk);
	s->p8b = take(&at, a->blkk);
	s->rt = take(&at, 4);
	if (a->sparse) {
		s->onesq = take(&at, prows);
		s->onesk = take(&at, prows);
		s->acc = take(&at, (uint64_t)a->D * 4);
		s->pm8 = take(&at, a->D);
		s->ts =
		    take(&at, (uint64_t)(a->lin ? a->Dv + 1 : a->nk) * 4); /* MVMU 2's columns */
		s->tz = take(&at, (uint64_t)a->nk * 4);
		s->tz8 = take(&at, a->nk);
		s->te = take(&at, (uint64_t)a->nk * 2);
		s->sel = take(&at, (uint64_t)a->nk * 4);
		s->mk = take(&at, a->nk);
	}
	cc_attn_lin_spad_map(a, nitems, &at, s);
	s->pooltab = take(&at, (uint64_t)npool * pre_bytes(a));
	if (a->simk)
		cc_attn_sim_spad_map(a, npool, s, &at);
	s->end = at;
}

/* The 8-bit mean of the n token rows at spad src (D wide) into s->pm8 (r2 = pm8, r4 = D after):
 * the rows go into MVMU 3, an all-ones input sums them, vrqs shifts by log2 n. */
static void
gen_mean(Gen *g, const CcAttn *a, const Spad *s, uint32_t src, uint32_t n, uint32_t ones)
{
	li(g, 1, src);
	li(g, 3, n);
	xw(g, OP_xbw, 0, 1, 3, 3);
	li(g, 1, s->acc);
	li(g, 2, ones);
	mvm(g, 1, 2, 3, 0);
	wait(g, 1u << 3);
	li(g, 2, s->pm8);
	li(g, 3, 1);
	li(g, 4, a->D);
	vx(g, OP_vrqs, TY_I8, TY_I32, 2, 1, 3, 4, attn_log2(n));
}

/* Pre-pass: this core's share of the tile's key and value blocks. Table entries: DRAM address,
 * tile-memory destination, pooled-mean destination (-1: none), bytes. Each block is copied from
 * DRAM into the tile memory (the tile's K/V cache, or the staging buffer when the heads do not
 * fit); a key block of sparse attention is also summed (xbw + mvm with ones on MVMU 3) and its
 * 8-bit mean stored for the block scores. A tile barrier ends the phase. */
static void
gen_prepass(Gen *g, const CcAttn *a, const Spad *s, uint32_t npre)
{
	int l_pre = label(g), l_nopool = label(g);
	if (npre) {
		li(g, R_ITEM, s->pooltab);
		li(g, R_NITEM, npre);
		place(g, l_pre);
		ri(g, OP_lw, R_K, R_ITEM, 0);
		ri(g, OP_lw, R_V, R_ITEM, 4);
		ri(g, OP_lw, R_O, R_ITEM, 8);
		ri(g, OP_lw, 3, R_ITEM, 12);
		r3(g, OP_dld, R_V, R_K, 3);
		wait(g, ISA_WAIT_DMA);
		if (a->sparse) {
			branch(g, OP_blt, R_O, 0, l_nopool);
			li(g, 2, s->kb);
			r3(g, OP_tld, 2, R_V, 3);
			gen_mean(g, a, s, s->kb, a->blkk, s->onesk);
			r3(g, OP_tst, 2, R_O, 4);
			if (a->lin)
				cc_attn_lin_gen_prepass(g, a, s);
			place(g, l_nopool);
		}
		ri(g, OP_addi, R_ITEM, R_ITEM, pre_bytes(a));
		branch(g, OP_dbnz, R_NITEM, 0, l_pre);
	}
	{
		Insn in = mk(OP_bar);
		put(g, &in);
	}
}

/* On a new head (sparse): the head's pooled key means from the tile memory into the columns of
 * MVMU 2, through the K and V buffers in chunks. */
static void
gen_head(Gen *g, const CcAttn *a, const Spad *s)
{
	int l_skip = label(g);
	uint32_t chunk = a->blkk * (a->D + a->Dv) / a->D, c;
	ri(g, OP_lw, R_T2, R_ITEM, 24);
	branch(g, OP_beq, R_T2, 0, l_skip);
	ri(g, OP_lw, R_T3, R_ITEM, 28);
	for (c = 0; c < a->nk; c += chunk) {
		uint32_t n = a->nk - c < chunk ? a->nk - c : chunk;
		li(g, 1, s->kb);
		ri(g, OP_addi, 2, R_T3, (int64_t)c * a->D);
		xfer(g, OP_tld, 1, 2, n * a->D);
		li(g, 4, c);
		li(g, 3, n);
		xw(g, OP_xbwt, 4, 1, 3, 2);
	}
	place(g, l_skip);
}

/* The block mask of the current query block (sparse): a byte per key block at s->mk. */
static void
gen_mask(Gen *g, const CcAttn *a, const Spad *s)
{
	int l_set = label(g), l_all = label(g);
	if (a->simk) /* R_T1: the query block's test (gen_kernel) */
		branch(g, OP_beq, R_T1, 0, l_all);
	gen_mean(g, a, s, s->qb, a->blkq, s->onesq);
	li(g, 1, s->ts);
	mvm(g, 1, 2, 2, 0);
	wait(g, 1u << 2);
	if (a->simk)
		cc_attn_sim_scores(g, a, s);
	li(g, 1, s->mk);
	li(g, 4, a->nk);
	vx(g, OP_vfill, TY_I8, TY_I8, 1, 0, 0, 4, 0);
	li(g, 1, s->sel);
	li(g, 2, s->ts);
	if (a->mode == 0) {
		li(g, 3, a->nsel_k);
		sel(g, OP_topk, TY_I32, 1, 2, 3, R_A, R_T2);
	} else {
		vx(g, OP_vredmax, TY_I32, TY_I32, R_T1, 2, 0, R_A, 0);
		r3(g, OP_sub, R_T1, 0, R_T1);
		li(g, 1, s->tz);
		vx(g, OP_vadds, TY_I32, TY_I32, 1, 2, R_T1, R_A, 0);
		li(g, 2, s->tz8);
		li(g, 3, a->zmult);
		vx(g, OP_vrqs, TY_I8, TY_I32, 2, 1, 3, R_A, ATTN_ZSH);
		li(g, 1, s->te);
		vx(g, OP_vlut, TY_I16, TY_I8, 1, 2, R_LUT, R_A, 0);
		if (a->simk) /* E = 0 for a key block that is not self-similar */
			cc_attn_sim_e(g, s);
		li(g, 2, s->sel);
		li(g, 3, a->tau16);
		sel(g, OP_topp, TY_I16, 2, 1, 3, R_A, R_T2);
		if (a->mode == 2) {
			li(g, 3, a->nsel_k);
			r3(g, OP_max, 3, 3, R_T2);
			sel(g, OP_topk, TY_I16, 2, 1, 3, R_A, R_T2);
		}
	}
	/* mark the selected blocks (the count is at least 1) */
	li(g, R_T3, s->sel);
	li(g, R_T1, 1);
	place(g, l_set);
	ri(g, OP_lw, R_T4, R_T3, 0);
	ri(g, OP_sb, R_T1, R_T4, s->mk);
	ri(g, OP_addi, R_T3, R_T3, 4);
	branch(g, OP_dbnz, R_T2, 0, l_set);
	if (a->sink)
		ri(g, OP_sb, R_T1, 0, s->mk);
	if (a->simk)
		cc_attn_sim_rules(g, a, s, l_all);
}

/* One query row against the key block in MVMU 0 / 1: the online-softmax update. The row's
 * scores were started by the previous row (or before the loop) into R_S; this row starts the next
 * row's into the other score buffer, so the MVM runs under this row's vector work. */
static void
gen_row(Gen *g, const CcAttn *a, const Spad *s)
{
	int l_nomask = label(g), l_last = label(g);
	wait(g, 1u << 0);
	branch(g, OP_beq, R_RN, R_T4, l_last); /* R_T4 = 1: no next row */
	ri(g, OP_xori, 1, R_S, (int64_t)(s->sb ^ s->sb2));
	ri(g, OP_addi, 2, R_QR, a->D);
	mvm(g, 1, 2, 0, 0);
	place(g, l_last);
	if (a->causal) {
		/* keep = row + 1 - t0 tokens; mask the rest of the block */
		r3(g, OP_sub, R_T2, R_ROW, R_T0);
		ri(g, OP_addi, R_T2, R_T2, 1);
		branch(g, OP_bge, R_T2, R_NB, l_nomask);
		r3(g, OP_max, R_T2, R_T2, 0);
		ri(g, OP_slli, R_T3, R_T2, 2);
		r3(g, OP_add, 1, R_S, R_T3);
		r3(g, OP_sub, 4, R_NB, R_T2);
		li(g, 3, ATTN_MASKED);
		vx(g, OP_vfill, TY_I32, TY_I32, 1, 0, 3, 4, 0);
		place(g, l_nomask);
	}
	ri(g, OP_lw, R_T1, R_MX, 0);
	ri(g, OP_sw, R_T1, R_S, 4 * (int64_t)a->blkk);
	vx(g, OP_vredmax, TY_I32, TY_I32, R_T1, R_S, 0, R_NB1, 0);
	ri(g, OP_sw, R_T1, R_MX, 0);
	r3(g, OP_sub, R_T1, 0, R_T1);
	vx(g, OP_vadds, TY_I32, TY_I32, R_S, R_S, R_T1, R_NB1, 0);
	li(g, 3, a->zmult);
	vx(g, OP_vrqs, TY_I8, TY_I32, R_Z8, R_S, 3, R_NB1, ATTN_ZSH);
	vx(g, OP_vlut, TY_I16, TY_I8, R_P16, R_Z8, R_LUT, R_NB1, 0);
	li(g, 3, 127);
	vx(g, OP_vrqs, TY_I8, TY_I16, R_P8, R_P16, 3, R_NB, ATTN_LUT_SHIFT);
	ri(g, OP_lh, R_T3, R_P16, 2 * (int64_t)a->blkk);
	li(g, 4, a->Dv + 1);
	vx(g, OP_vmuls, TY_I32, TY_I32, R_OR, R_OR, R_T3, 4, ATTN_LUT_SHIFT);
	mvm(g, R_OR, R_P8, 1, 1);
	vx(g, OP_vredsum, TY_I8, TY_I8, R_T2, R_P8, 0, R_NB, 0);
	ri(g, OP_lw, R_T1, R_OR, 4 * (int64_t)a->Dv);
	r3(g, OP_add, R_T1, R_T1, R_T2);
	ri(g, OP_sw, R_T1, R_OR, 4 * (int64_t)a->Dv);
	ri(g, OP_xori, R_P8, R_P8, (int64_t)(s->p8a ^ s->p8b));
	ri(g, OP_xori, R_S, R_S, (int64_t)(s->sb ^ s->sb2));
}

static void
gen_kernel(Gen *g, const CcAttn *a, const Spad *s, uint32_t nitems, uint32_t npre, int prepass,
           int cached, uint32_t tm)
{
	uint32_t dq = a->D > a->Dv ? a->D : a->Dv;
	uint32_t tm_q = tm, tm_k = tm + a->blkq * dq, tm_v = tm_k + a->blkk * a->D;
	int l_item = label(g), l_blk = label(g), l_row = label(g), l_next = label(g);
	int l_norm = label(g);
	li(g, R_LUT, s->lut);
	li(g, R_S, s->sb);
	li(g, R_Z8, s->z8);
	li(g, R_P16, s->p16);
	li(g, R_NB1, a->blkk + 1);
	li(g, R_NB, a->blkk);
	if (a->lin)
		cc_attn_lin_gen_init(g, a, s);
	if (prepass)
		gen_prepass(g, a, s, npre);
	if (a->simk)
		cc_attn_sim_pass(g, a, s, cached);
	if (a->lin)
		cc_attn_lin_gen_totals(g, a, s);
	li(g, R_ITEM, s->items);
	li(g, R_NITEM, nitems);
	place(g, l_item);
	ri(g, OP_lw, R_Q, R_ITEM, 0);
	ri(g, OP_lw, R_K, R_ITEM, 4);
	ri(g, OP_lw, R_V, R_ITEM, 8);
	ri(g, OP_lw, R_A, R_ITEM, 16);
	ri(g, OP_lw, R_R0, R_ITEM, 20);
	if (a->sparse)
		gen_head(g, a, s);
	/* the Q block */
	li(g, 1, tm_q);
	xfer(g, OP_dld, 1, R_Q, a->blkq * a->D);
	wait(g, ISA_WAIT_DMA);
	li(g, 2, s->qb);
	r3(g, OP_tld, 2, 1, 3);
	if (a->simk) /* R_T1 until gen_mask; uses the O buffer before it is cleared */
		cc_attn_sim_test(g, a, s, 0);
	li(g, 1, s->ox);
	li(g, 4, a->blkq * (a->Dv + 1));
	vx(g, OP_vfill, TY_I32, TY_I32, 1, 0, 0, 4, 0);
	li(g, 1, s->mx);
	li(g, 3, ATTN_MINIT);
	li(g, 4, a->blkq);
	vx(g, OP_vfill, TY_I32, TY_I32, 1, 0, 3, 4, 0);
	if (a->sparse)
		gen_mask(g, a, s);
	/* the key blocks */
	li(g, R_J, 0);
	ri(g, OP_addi, R_JN, R_A, 0);
	li(g, R_T0, 0);
	place(g, l_blk);
	if (a->sparse) {
		ri(g, OP_lb, R_T2, R_J, s->mk);
		branch(g, OP_beq, R_T2, 0, l_next);
	}
	/* K_j and V_j: from the tile's cache (R_K / R_V point at the block in tile memory), or
	 * from DRAM through the core's staging buffers */
	if (!(cached & CACHE_K)) {
		li(g, 1, tm_k);
		xfer(g, OP_dld, 1, R_K, a->blkk * a->D);
	}
	if (!(cached & CACHE_V)) {
		li(g, 2, tm_v);
		xfer(g, OP_dld, 2, R_V, a->blkk * a->Dv);
	}
	if (cached != (CACHE_K | CACHE_V))
		wait(g, ISA_WAIT_DMA);
	li(g, 4, s->kb);
	xfer(g, OP_tld, 4, cached & CACHE_K ? R_K : 1, a->blkk * a->D);
	xw(g, OP_xbwt, 0, 4, R_NB, 0);
	li(g, 4, s->vb);
	xfer(g, OP_tld, 4, cached & CACHE_V ? R_V : 2, a->blkk * a->Dv);
	xw(g, OP_xbw, 0, 4, R_NB, 1);
	li(g, R_QR, s->qb);
	li(g, R_MX, s->mx);
	li(g, R_OR, s->ox);
	ri(g, OP_addi, R_ROW, R_R0, 0);
	li(g, R_RN, a->blkq);
	li(g, R_P8, s->p8a);
	li(g, R_S, s->sb);
	li(g, R_T4, 1);
	mvm(g, R_S, R_QR, 0, 0); /* the first row's scores */
	place(g, l_row);
	gen_row(g, a, s);
	ri(g, OP_addi, R_QR, R_QR, a->D);
	ri(g, OP_addi, R_MX, R_MX, 4);
	ri(g, OP_addi, R_OR, R_OR, 4 * ((int64_t)a->Dv + 1));
	ri(g, OP_addi, R_ROW, R_ROW, 1);
	branch(g, OP_dbnz, R_RN, 0, l_row);
	place(g, l_next);
	ri(g, OP_addi, R_J, R_J, 1);
	ri(g, OP_addi, R_K, R_K, (int64_t)a->blkk * a->D);
	ri(g, OP_addi, R_V, R_V, (int64_t)a->blkk * a->Dv);
	ri(g, OP_addi, R_T0, R_T0, a->blkk);
	branch(g, OP_dbnz, R_JN, 0, l_blk);
	/* o = O / l into the Q buffer, then to DRAM */
	wait(g, 1u << 1);
	li(g, R_OR, s->ox);
	li(g, R_QR, s->qb);
	li(g, R_RN, a->blkq);
	place(g, l_norm);
	li(g, 1, s->rt);
	ri(g, OP_addi, 2, R_OR, 4 * (int64_t)a->Dv);
	li(g, 4, 1);
	vx(g, OP_vrecip, TY_I32, TY_I32, 1, 2, 0, 4, ATTN_RECIP_SHIFT);
	ri(g, OP_lw, R_T1, 0, s->rt);
	li(g, 4, a->Dv);
	vx(g, OP_vrqs, TY_I8, TY_I32, R_QR, R_OR, R_T1, 4, ATTN_RECIP_SHIFT);
	ri(g, OP_addi, R_OR, R_OR, 4 * ((int64_t)a->Dv + 1));
	ri(g, OP_addi, R_QR, R_QR, a->Dv);
	branch(g, OP_dbnz, R_RN, 0, l_norm);
	if (a->lin)
		cc_attn_lin_gen_qblock(g, a, s, tm_q);
	li(g, 1, s->qb);
	li(g, 2, tm_q);
	xfer(g, OP_tst, 1, 2, a->blkq * a->Dv);
	ri(g, OP_lw, R_O, R_ITEM, 12);
	r3(g, OP_dst, 2, R_O, 3);
	wait(g, ISA_WAIT_DMA);
	ri(g, OP_addi, R_ITEM, R_ITEM, ITEM_BYTES);
	branch(g, OP_dbnz, R_NITEM, 0, l_item);
	resolve(g);
}

static void
add_io(KProg *p, const Graph *gr, IrTensorId t, int dir, uint32_t addr, double scale)
{
	KTensor k;
	const IrType *it = &gr->tensors[t].type;
	uint32_t i;
	memset(&k, 0, sizeof k);
	k.name = dir == KDIR_OUT ? gr->outputs[0].name : gr->tensors[t].name;
	k.dir = (uint8_t)dir;
	k.type = TY_I8;
	k.space = KSP_DRAM;
	k.rank = it->rank;
	for (i = 0; i < it->rank; i++)
		k.dims[i] = (uint32_t)it->dim[i];
	k.addr = addr;
	k.scale = scale;
	kprog_add_io(p, &k);
}

static uint32_t
align64(uint64_t v)
{
	return (uint32_t)((v + 63) & ~(uint64_t)63);
}

/* The key-head index of item i. */
static uint32_t
item_head(const CcAttn *a, uint32_t i)
{
	uint32_t bh = i / a->nq, b = bh / a->H, h = bh % a->H;
	return b * a->Hk + h % a->Hk;
}

/* The query block of item i. Causal rows grow with the block index, so each head's blocks are
 * taken in the order 0, nq-1, 1, nq-2, ...: a core's contiguous run of items gets a balanced mix
 * of short and long rows. */
static uint32_t
item_qblock(const CcAttn *a, uint32_t i)
{
	uint32_t pos = i % a->nq;
	if (!a->causal)
		return pos;
	return pos % 2 == 0 ? pos / 2 : a->nq - 1 - pos / 2;
}

/* The key heads the items of tile t's cores touch, in order, into heads; their count. */
static uint32_t
tile_heads(const CcAttn *a, uint32_t t, uint32_t cpt, uint32_t ncores, uint32_t nitems,
           uint32_t *heads)
{
	uint32_t c0 = t * cpt, c1 = c0 + cpt < ncores ? c0 + cpt : ncores, n = 0, i;
	uint32_t i0 = (uint32_t)((uint64_t)c0 * nitems / ncores);
	uint32_t i1 = (uint32_t)((uint64_t)c1 * nitems / ncores), prev = UINT32_MAX;
	for (i = i0; i < i1; i++)
		if (item_head(a, i) != prev)
			heads[n++] = prev = item_head(a, i);
	return n;
}

int
cc_attn_codegen(CcModel *m, KProg *p, Diag *d)
{
	const CcAttn *a = m->attn;
	const HwArch *arch = m->arch;
	uint32_t ntiles = (uint32_t)arch->chip.tiles, cpt = (uint32_t)arch->tile.cores;
	uint32_t nitems = a->B * a->H * a->nq, ncores = ntiles * cpt, c, dq, t, *heads, kbars = 0,
	         b;
	uint64_t qe = (uint64_t)a->N * a->D, ke = (uint64_t)a->M * a->D,
	         ve = (uint64_t)a->M * a->Dv,
	         tmem = (uint64_t)arch->tile.mem_bytes - (a->proj ? 64 : 0); /* barrier word */
	/* DRAM: [x,] q, k, v, the output [, y and the projections' matrices] */
	uint64_t q0 = a->proj ? align64((uint64_t)a->N * a->pj[0].din) : 0,
	         k0 = align64(q0 + a->B * a->H * qe), v0 = align64(k0 + a->B * a->Hk * ke);
	uint64_t o0 = align64(v0 + a->B * a->Hk * ve),
	         end = o0 + (uint64_t)a->B * a->H * a->N * a->Dv;
	uint64_t pool_tm, lin_tm, lin_d0, cache_tm, headkv, pstride;
	LinMem lm;
	uint32_t prows = a->blkq > a->blkk ? a->blkq : a->blkk, stage, maxh = 0;
	int cached, prepass;
	AttnPhases ph;
	memset(&ph, 0, sizeof ph);
	if (a->proj) {
		uint32_t s2;
		uint64_t rowsz = (uint64_t)a->N * a->pj[3].dout;
		ph.y0 = align64(end);
		end = ph.y0 + rowsz;
		for (s2 = 0; s2 < 4; s2++) {
			ph.w0[s2] = align64(end);
			end = ph.w0[s2] + (uint64_t)a->pj[s2].din * a->pj[s2].dout +
			      8ull * a->pj[s2].dout;
		}
		if (a->has_norm) {
			ph.wn = align64(end);
			ph.h0 = align64(ph.wn + 8ull * a->norm.W);
			end = ph.h0 + (uint64_t)a->N * a->norm.W;
		}
		if (a->has_add) {
			ph.p0 = align64(end);
			end = ph.p0 + rowsz;
		}
		ph.r0 = ph.y0; /* the layer's output, unless a feed-forward follows */
		if (a->has_ffn) {
			uint32_t i2;
			ph.r0 = align64(end);
			ph.h20 = align64(ph.r0 + rowsz);
			ph.wn2 = align64(ph.h20 + rowsz);
			end = ph.wn2 + 8ull * a->norm2.W;
			for (i2 = 0; i2 < a->nff; i2++) {
				ph.f0[i2] = align64(end);
				end = ph.f0[i2] + (uint64_t)a->N * a->ff[i2].out_len;
			}
		}
		ph.q0 = q0, ph.k0 = k0, ph.v0 = v0, ph.o0 = o0;
		ph.xin0 = a->has_norm ? ph.h0 : ph.x0;
		ph.yout0 = a->has_add ? ph.p0 : ph.y0;
	}
	dq = a->D > a->Dv ? a->D : a->Dv;
	stage = a->blkq * dq + a->blkk * a->D + a->blkk * a->Dv;
	if (ncores > nitems)
		ncores = nitems;
	if (end > (uint64_t)arch->dram.size_bytes || end > UINT32_MAX)
		return diag_err(
		    d, m->g->file, "the attention tensors need %llu bytes of DRAM; '%s' has %lld",
		    (unsigned long long)end, arch->name, (long long)arch->dram.size_bytes);
	/* Tile memory: the cores' staging buffers, the pooled key means of the tile's heads
	 * (sparse), and when every tile's heads fit, their K and V (read once from DRAM). */
	heads = xcalloc(nitems + 1, sizeof *heads);
	for (t = 0; t * cpt < ncores; t++) {
		uint32_t n = tile_heads(a, t, cpt, ncores, nitems, heads);
		maxh = n > maxh ? n : maxh;
	}
	pool_tm = (uint64_t)stage * cpt;
	pstride = (uint64_t)a->nk * a->D + (a->simk ? a->nk : 0); /* means, then key flags */
	lin_tm = align64(pool_tm + (a->sparse ? (uint64_t)maxh * pstride : 0));
	memset(&lm, 0, sizeof lm);
	if (a->lin)
		cc_attn_lin_mem(a, maxh, cpt, tmem > lin_tm ? tmem - lin_tm : 0, &lm);
	cache_tm = align64(lin_tm + lm.tile_bytes);
	lin_d0 = align64(end);
	if (lin_d0 + (uint64_t)ntiles * lm.dram_per_tile > (uint64_t)arch->dram.size_bytes ||
	    lin_d0 + (uint64_t)ntiles * lm.dram_per_tile > UINT32_MAX) {
		free(heads);
		return diag_err(d, m->g->file,
		                "the linear branch's block sums need %llu bytes of DRAM; '%s' "
		                "has %lld",
		                (unsigned long long)(ntiles * lm.dram_per_tile), arch->name,
		                (long long)arch->dram.size_bytes);
	}
	if (cache_tm > tmem) {
		free(heads);
		return diag_err(
		    d, m->g->file,
		    "staging blocks%s of a tile need %llu bytes of tile memory; '%s' has "
		    "%lld",
		    a->lin      ? ", pooled keys and linear-branch sums"
		    : a->sparse ? " and pooled keys"
		                : "",
		    (unsigned long long)cache_tm, arch->name, (long long)arch->tile.mem_bytes);
	}
	/* Cache K when the tile's heads fit (sparse attention reads every K block anyway, for the
	 * pooled means), V too when most blocks will be used (dense, or top-k keeping half). */
	cached = 0;
	if (cache_tm + (uint64_t)maxh * align64(ke) <= tmem)
		cached |= CACHE_K;
	if ((cached & CACHE_K) && cache_tm + (uint64_t)maxh * align64(ke + ve) <= tmem &&
	    (!a->sparse || (a->mode == 0 && 2 * a->nsel_k >= a->nk)))
		cached |= CACHE_V;
	headkv = align64(ke + (cached & CACHE_V ? ve : 0));
	prepass = a->sparse || cached;
	if (a->proj) {
		/* the phases use the kernel's working buffers: between the Q block and the
		 * constants after them, on every core */
		Spad lo, hi;
		spad_map(a, (nitems + ncores - 1) / ncores, 0, &hi);
		spad_map(a, nitems / ncores, 0, &lo);
		if (cc_attn_phases_plan(m, &ph, hi.qb, a->sparse ? lo.onesq : lo.pooltab, tmem + 64,
		                        d) ||
		    (a->has_ffn && cc_attn_ffn_plan(m, &ph, tmem + 64, d))) {
			free(heads);
			return -1;
		}
		if (a->has_ffn) {
			/* the feed-forward layers' per-tile blobs (their size depends on the
			 * blocks the plan chose) */
			uint32_t i2;
			for (i2 = 0; i2 < a->nff; i2++) {
				ph.fw[i2] = align64(end);
				end =
				    ph.fw[i2] + (uint64_t)ph.ntiles * cc_attn_ffn_blob(m, &ph, i2);
			}
			if (end > (uint64_t)arch->dram.size_bytes || end > UINT32_MAX) {
				free(heads);
				return diag_err(
				    d, m->g->file,
				    "the block's tensors and weights need %llu bytes of "
				    "DRAM; '%s' has %lld",
				    (unsigned long long)end, arch->name,
				    (long long)arch->dram.size_bytes);
			}
		}
		cc_attn_phases_dram(m, &ph, p);
	}
	/* Cores tile by tile; core c takes items [c * nitems / ncores, ...). A tile's cores split
	 * its pre-pass blocks round-robin. */
	for (t = 0; t * cpt < ncores; t++) {
		uint32_t c0 = t * cpt, c1 = c0 + cpt < ncores ? c0 + cpt : ncores, nact = c1 - c0;
		uint32_t nheads = tile_heads(a, t, cpt, ncores, nitems, heads), i, prev;
		uint32_t per = (cached & CACHE_V) ? 2 : (cached || a->sparse ? 1 : 0);
		uint32_t npre_tile = nheads * a->nk * per;
		for (c = c0; c < c1; c++) {
			uint32_t first = (uint32_t)((uint64_t)c * nitems / ncores);
			uint32_t last = (uint32_t)((uint64_t)(c + 1) * nitems / ncores), hs = 0;
			uint32_t npre = 0, pp, core = c - c0, n = 0;
			int32_t *tab, *pre, *lintab = NULL;
			Spad s;
			Gen g;
			memset(&g, 0, sizeof g);
			if (a->lin)
				cc_attn_lin_core(&g, a, &lm, lin_tm, lin_d0, t, maxh,
				                 core * stage + a->blkq * dq, nheads, core, nact);
			for (pp = core; pp < npre_tile; pp += nact)
				npre++;
			spad_map(a, last - first, npre, &s);
			if (s.end > (uint64_t)arch->core.spad_bytes) {
				free(heads);
				return diag_err(
				    d, m->g->file,
				    "attention needs %u bytes of scratchpad per core; '%s' has "
				    "%lld",
				    s.end, arch->name, (long long)arch->core.spad_bytes);
			}
			g.kc = kprog_core(p, t, core);
			if (a->proj)
				cc_attn_gen_in(p, g.kc, m, &ph, t, core);
			tab = xcalloc(last - first, ITEM_BYTES);
			if (a->lin)
				lintab =
				    xcalloc((size_t)(last - first) * cc_attn_lin_item_words(a) + 1,
				            sizeof *lintab);
			prev = UINT32_MAX;
			for (i = first; i < last; i++) {
				uint32_t bh = i / a->nq, iq = item_qblock(a, i),
				         kh = item_head(a, i);
				int32_t *e = tab + (size_t)(i - first) * (ITEM_BYTES / 4);
				while (heads[hs] != kh)
					hs++;
				e[0] = (int32_t)(q0 + bh * qe + (uint64_t)iq * a->blkq * a->D);
				e[1] = (int32_t)(cached & CACHE_K ? cache_tm + hs * headkv
				                                  : k0 + kh * ke);
				e[2] = (int32_t)(cached & CACHE_V ? cache_tm + hs * headkv + ke
				                                  : v0 + kh * ve);
				e[3] =
				    (int32_t)(o0 + ((uint64_t)bh * a->N + (uint64_t)iq * a->blkq) *
				                       a->Dv);
				e[4] = (int32_t)cc_attn_allowed(a, iq);
				e[5] = (int32_t)(iq * a->blkq);
				e[6] =
				    kh != prev || a->lin; /* the linear branch overwrites MVMU 2 */
				e[7] = (int32_t)(pool_tm + (uint64_t)hs * pstride);
				prev = kh;
				if (lintab)
					cc_attn_lin_item(a, &g, hs, bh, iq,
					                 lintab + (size_t)(i - first) *
					                              cc_attn_lin_item_words(a));
			}
			kprog_add_spad(g.kc, s.items, tab, (last - first) * ITEM_BYTES);
			free(tab);
			/* pre-pass entries: block pp is (head slot, key block, K or V) */
			pre = xcalloc(npre + 1, pre_bytes(a));
			for (pp = core; pp < npre_tile; pp += nact, n++) {
				uint32_t hsl = pp / (a->nk * per), j = pp / per % a->nk;
				int isv = (int)(pp % per) == 1;
				uint64_t h = heads[hsl];
				int32_t *e = pre + (size_t)n * (pre_bytes(a) / 4);
				uint64_t off = (uint64_t)j * a->blkk * (isv ? a->Dv : a->D);
				e[0] = (int32_t)((isv ? v0 + h * ve : k0 + h * ke) + off);
				e[1] = (int32_t)(cached ? cache_tm + hsl * headkv + (isv ? ke : 0) +
				                              off
				                        : (uint64_t)core * stage + a->blkq * dq);
				e[2] = a->sparse && !isv
				           ? (int32_t)(pool_tm + hsl * pstride + (uint64_t)j * a->D)
				           : -1;
				e[3] = (int32_t)(a->blkk * (isv ? a->Dv : a->D));
				if (a->lin && !isv) { /* V_j, its sums, the V staging buffer */
					e[4] =
					    (int32_t)(v0 + h * ve + (uint64_t)j * a->blkk * a->Dv);
					cc_attn_lin_pre(a, &g, hsl, j, e);
					e[6] = (int32_t)((uint64_t)core * stage + a->blkq * dq +
					                 a->blkk * a->D);
				}
			}
			if (npre)
				kprog_add_spad(g.kc, s.pooltab, pre, npre * pre_bytes(a));
			if (a->simk)
				cc_attn_sim_table(a, g.kc, &s, pre, npre, pool_tm, pstride);
			free(pre);
			kprog_add_spad(g.kc, s.lut, a->lut, sizeof a->lut);
			if (a->lin)
				cc_attn_lin_core_data(g.kc, a, &s, lintab, last - first);
			free(lintab);
			if (a->sparse) {
				uint8_t *ones = xcalloc(prows, 1);
				memset(ones, 1, a->blkq);
				kprog_add_spad(g.kc, s.onesq, ones, prows);
				memset(ones, 0, prows);
				memset(ones, 1, a->blkk);
				kprog_add_spad(g.kc, s.onesk, ones, prows);
				free(ones);
			}
			kprog_add_xbar(g.kc, 0, a->D, a->blkk, 8, NULL);
			kprog_add_xbar(g.kc, 1, a->blkk, a->Dv, 8, NULL);
			if (a->sparse) {
				kprog_add_xbar(g.kc, 2, a->D, a->lin ? a->Dv + 1 : a->nk, 8,
				               a->lin ? a->lin->wt : NULL);
				kprog_add_xbar(g.kc, 3, prows, a->D, 8, NULL);
			}
			{
				uint32_t pc = g.kc->ncode, w;
				gen_kernel(&g, a, &s, last - first, npre, prepass, cached,
				           core * stage);
				kprog_add_sym(p, m->g->tensors[a->to].name, t, core, pc,
				              g.kc->ncode - pc);
				/* the kernel's tile barriers, which a core of the tile
				 * without items must meet too */
				for (kbars = 0, w = pc; w < g.kc->ncode; w++) {
					Insn in;
					isa_decode(g.kc->code[w], &in);
					kbars += in.op == OP_bar;
				}
			}
			if (a->proj) {
				cc_attn_phase_xbars(g.kc, &ph);
				cc_attn_gen_out(p, g.kc, m, &ph, t, core);
			}
			put(&g, &(Insn){.op = OP_halt});
		}
	}
	free(heads);
	if (a->proj) {
		/* the cores without attention items: the projections; a pre-pass barrier where
		 * their tile's other cores run the kernel */
		for (c = ncores; c < ph.ncall; c++) {
			Gen g;
			memset(&g, 0, sizeof g);
			g.kc = kprog_core(p, c / cpt, c % cpt);
			cc_attn_gen_in(p, g.kc, m, &ph, c / cpt, c % cpt);
			if (c / cpt * cpt < ncores)
				for (b = 0; b < kbars; b++)
					put(&g, &(Insn){.op = OP_bar});
			cc_attn_phase_xbars(g.kc, &ph);
			cc_attn_gen_out(p, g.kc, m, &ph, c / cpt, c % cpt);
			put(&g, &(Insn){.op = OP_halt});
		}
		add_io(p, m->g, a->tx, KDIR_IN, 0, a->s_x);
		add_io(p, m->g, a->ty, KDIR_OUT, (uint32_t)ph.y0, m->out_scale);
		return 0;
	}
	add_io(p, m->g, a->tq, KDIR_IN, (uint32_t)q0, a->s_in);
	add_io(p, m->g, a->tk, KDIR_IN, (uint32_t)k0, a->s_in);
	add_io(p, m->g, a->tv, KDIR_IN, (uint32_t)v0, a->s_in);
	add_io(p, m->g, a->to, KDIR_OUT, (uint32_t)o0, a->s_in);
	return 0;
}
