/* attn_sim_gen.c: the code of the self-similarity test (simthresh >= 0; attn.h, attn_sim.c for
 * its fixed point and integer reference): the test's scratchpad buffers, a block's test on the
 * VFU, the key blocks' pass after the pre-pass, the rules in the block mask. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn_gen.h"

/* The self-similarity test's buffers (cc_attn_sim_spad_map): its scratch (the roots' vectors, a
 * smoothed key token, the key mean, a flag byte) and its key-block table (at most one entry per
 * pre-pass block) in the O buffer, which is free before an item's key blocks, when they fit;
 * the head's key flags in the K buffer, free during the mask. */
void
cc_attn_sim_spad_map(const CcAttn *a, uint32_t npool, Spad *s, uint32_t *at)
{
	uint32_t nmax = a->blkq > a->blkk ? a->blkq : a->blkk, o;
	uint64_t scratch = cc_attn_sim_scratch(a), ox = (uint64_t)a->blkq * (a->Dv + 1) * 4;
	o = scratch <= ox ? s->ox : take(at, scratch);
	s->sqv = o;
	s->sres = o + 4 * nmax;
	s->stmp = s->sres + 4 * nmax;
	s->sg8 = s->stmp + 4 * nmax;
	s->xs = s->sg8 + ((nmax + 15) & ~15u);
	s->mu = s->xs + ((2 * a->D + 15) & ~15u);
	s->sfl = s->mu + ((2 * a->D + 15) & ~15u);
	s->sacc = s->acc; /* free outside gen_mean */
	s->nsk = a->nk <= a->blkk * a->D ? s->kb : take(at, a->nk);
	if (scratch + (uint64_t)npool * PRE_BYTES <= ox)
		s->simtab = s->ox + (uint32_t)scratch;
	else
		s->simtab = take(at, (uint64_t)npool * PRE_BYTES);
}

/* ---- self-similarity (simthresh >= 0, attn.h) ---- */

/* One token of the test at R_QR: a query token is used in place; a key token is smoothed into
 * s->xs (i16, R_OR = s->xs). */
static void
gen_sim_token(Gen *g, const Spad *s, int isk)
{
	if (!isk)
		return;
	vx(g, OP_vmov, TY_I16, TY_I8, R_OR, R_QR, 0, 4, 0);
	li(g, 3, s->mu);
	vx(g, OP_vsub, TY_I16, TY_I16, R_OR, R_OR, 3, 4, 0);
}

/* The test of a block -> R_T1 = 1 if self-similar: the query block at s->qb (i8), or the key
 * block at s->kb smoothed by s->mu (i16). Per token, vdot for v = (|x|^2 << 6) + 1 into s->sqv;
 * the roots of all n values at once, digit by digit from the highest bit b a root can have:
 * res += 2^b where (res + 2^b)^2 < v (vadds, vmul, vsub, vrqs to i8, vrelu, vmin with the
 * block's ones: a 0/1 step, vmac by 2^b); vrecip (the inverse norms); a vmac per token (the sum
 * of normalised tokens); vrqs and vdot for |s|^2, compared with sim_thr. Uses r1-r4, R_T1-R_T4,
 * R_QR, R_MX, R_RN, R_OR and the test's scratch (s->sqv, sres, stmp, sg8). */
void
cc_attn_sim_test(Gen *g, const CcAttn *a, const Spad *s, int isk)
{
	uint32_t n = isk ? a->blkk : a->blkq, src = isk ? s->kb : s->qb;
	unsigned ty = isk ? TY_I16 : TY_I8, x = isk ? R_OR : R_QR;
	uint64_t top = ((uint64_t)a->D * (isk ? 255 * 255 : 128 * 128)) << (2 * ATTN_SIM_P);
	int64_t bit0 = 1;
	int l_tok = label(g), l_bit = label(g), l_mac = label(g);
	while ((uint64_t)(bit0 * 2) * (uint64_t)(bit0 * 2) <= top) /* roots are below 2 bit0 */
		bit0 *= 2;
	li(g, 4, a->D);
	li(g, R_OR, s->xs);
	li(g, R_QR, src);
	li(g, R_MX, s->sqv);
	li(g, R_RN, n);
	place(g, l_tok);
	gen_sim_token(g, s, isk);
	vx(g, OP_vdot, ty, ty, R_T1, x, x, 4, 0);
	ri(g, OP_slli, R_T1, R_T1, 2 * ATTN_SIM_P);
	ri(g, OP_addi, R_T1, R_T1, 1);
	ri(g, OP_sw, R_T1, R_MX, 0);
	ri(g, OP_addi, R_MX, R_MX, 4);
	ri(g, OP_addi, R_QR, R_QR, a->D);
	branch(g, OP_dbnz, R_RN, 0, l_tok);
	/* res = floor(sqrt(v - 1)) */
	li(g, 1, s->stmp);
	li(g, 2, s->sres);
	li(g, R_MX, s->sqv);
	li(g, R_T2, s->sg8);
	li(g, R_T4, isk ? s->onesk : s->onesq);
	li(g, 4, n);
	vx(g, OP_vfill, TY_I32, TY_I32, 2, 0, 0, 4, 0);
	li(g, R_T3, bit0);
	place(g, l_bit);
	vx(g, OP_vadds, TY_I32, TY_I32, 1, 2, R_T3, 4, 0);
	vx(g, OP_vmul, TY_I32, TY_I32, 1, 1, 1, 4, 0);
	vx(g, OP_vsub, TY_I32, TY_I32, 1, R_MX, 1, 4, 0);
	li(g, 3, 1);
	vx(g, OP_vrqs, TY_I8, TY_I32, R_T2, 1, 3, 4, 0);
	vx(g, OP_vrelu, TY_I8, TY_I8, R_T2, R_T2, 0, 4, 0);
	vx(g, OP_vmin, TY_I8, TY_I8, R_T2, R_T2, R_T4, 4, 0);
	vx(g, OP_vmac, TY_I8, TY_I8, 2, R_T2, R_T3, 4, 0);
	ri(g, OP_srli, R_T3, R_T3, 1);
	branch(g, OP_bne, R_T3, 0, l_bit);
	vx(g, OP_vrecip, TY_I32, TY_I32, R_MX, 2, 0, 4, ATTN_SIM_RS + ATTN_SIM_P);
	li(g, 1, s->sacc);
	li(g, 4, a->D);
	vx(g, OP_vfill, TY_I32, TY_I32, 1, 0, 0, 4, 0);
	li(g, R_QR, src);
	li(g, R_RN, n);
	place(g, l_mac);
	gen_sim_token(g, s, isk);
	ri(g, OP_lw, 3, R_MX, 0);
	vx(g, OP_vmac, ty, ty, 1, x, 3, 4, 0);
	ri(g, OP_addi, R_MX, R_MX, 4);
	ri(g, OP_addi, R_QR, R_QR, a->D);
	branch(g, OP_dbnz, R_RN, 0, l_mac);
	li(g, 3, 1);
	vx(g, OP_vrqs, TY_I32, TY_I32, 1, 1, 3, 4, ATTN_SIM_RS - (15 - attn_log2(n)));
	vx(g, OP_vdot, TY_I32, TY_I32, R_T1, 1, 1, 4, 0);
	li(g, R_T2, a->sim_thr);
	r3(g, OP_slt, R_T1, R_T2, R_T1);
}

/* Key flags, after the pre-pass has stored every block mean of the tile's heads. For each of
 * this core's key blocks (table: the block in tile memory, its DRAM address, the head's means,
 * the flag's place): on a new head the key mean mu from the head's block means (a vmac per
 * block, vrqs by sim_kmul); the block (again from DRAM unless the tile caches K); its test; the
 * flag byte (1: not self-similar) into the tile memory after the head's means. A tile barrier
 * ends the phase. */
void
cc_attn_sim_pass(Gen *g, const CcAttn *a, const Spad *s, int cached)
{
	int l_ent = label(g), l_mu = label(g), l_have = label(g);
	if (s->nsim) {
		li(g, R_ITEM, s->simtab);
		li(g, R_NITEM, s->nsim);
		li(g, R_R0, -1);
		place(g, l_ent);
		ri(g, OP_lw, R_T1, R_ITEM, 8);
		branch(g, OP_beq, R_T1, R_R0, l_have);
		ri(g, OP_addi, R_R0, R_T1, 0);
		li(g, 1, s->sacc);
		li(g, 4, a->D);
		vx(g, OP_vfill, TY_I32, TY_I32, 1, 0, 0, 4, 0);
		li(g, R_RN, a->nk);
		place(g, l_mu);
		li(g, 2, s->pm8);
		li(g, 3, a->D);
		r3(g, OP_tld, 2, R_T1, 3);
		li(g, 3, 1);
		vx(g, OP_vmac, TY_I8, TY_I8, 1, 2, 3, 4, 0);
		ri(g, OP_addi, R_T1, R_T1, a->D);
		branch(g, OP_dbnz, R_RN, 0, l_mu);
		li(g, 2, s->mu);
		li(g, 3, a->sim_kmul);
		vx(g, OP_vrqs, TY_I16, TY_I32, 2, 1, 3, 4, ATTN_SIM_ONE);
		place(g, l_have);
		ri(g, OP_lw, 2, R_ITEM, 0);
		li(g, 3, a->blkk * a->D);
		if (!(cached & CACHE_K)) {
			ri(g, OP_lw, R_T2, R_ITEM, 4);
			r3(g, OP_dld, 2, R_T2, 3);
			wait(g, ISA_WAIT_DMA);
		}
		li(g, 1, s->kb);
		r3(g, OP_tld, 1, 2, 3);
		cc_attn_sim_test(g, a, s, 1);
		ri(g, OP_xori, R_T1, R_T1, 1);
		ri(g, OP_sw, R_T1, 0, s->sfl);
		li(g, 1, s->sfl);
		ri(g, OP_lw, 2, R_ITEM, 12);
		li(g, 3, 1);
		r3(g, OP_tst, 1, 2, 3);
		ri(g, OP_addi, R_ITEM, R_ITEM, PRE_BYTES);
		branch(g, OP_dbnz, R_NITEM, 0, l_ent);
	}
	{
		Insn in = mk(OP_bar);
		put(g, &in);
	}
}

/* E (i16 at r1) times 1 - flag, the factor made in s->tz (free after vlut). */
void
cc_attn_sim_e(Gen *g, const Spad *s)
{
	li(g, 2, s->nsk);
	li(g, 3, s->tz);
	vx(g, OP_vmov, TY_I16, TY_I8, 3, 2, 0, R_A, 0);
	li(g, 4, -1);
	vx(g, OP_vmuls, TY_I16, TY_I16, 3, 3, 4, R_A, 0);
	li(g, 4, 1);
	vx(g, OP_vadds, TY_I16, TY_I16, 3, 3, 4, R_A, 0);
	vx(g, OP_vmul, TY_I16, TY_I16, 1, 1, 3, R_A, 0);
}

/* The head's key flags (in tile memory after its means) into s->nsk; the block scores of key
 * blocks that are not self-similar drop by 2^30: T += flag * ATTN_SIM_PEN. */
void
cc_attn_sim_scores(Gen *g, const CcAttn *a, const Spad *s)
{
	ri(g, OP_lw, R_T3, R_ITEM, 28);
	ri(g, OP_addi, 2, R_T3, (int64_t)a->nk * a->D);
	li(g, 1, s->nsk);
	li(g, 3, a->nk);
	r3(g, OP_tld, 1, 2, 3);
	li(g, 1, s->ts);
	li(g, 2, s->nsk);
	li(g, 3, ATTN_SIM_PEN);
	li(g, 4, a->nk);
	vx(g, OP_vmac, TY_I8, TY_I8, 1, 2, 3, 4, 0);
}

/* After the selection: key blocks that are not self-similar are kept (mask = max(mask, flag));
 * a query block that is not self-similar (branch to l_all) keeps every block. */
void
cc_attn_sim_rules(Gen *g, const CcAttn *a, const Spad *s, int l_all)
{
	int l_done = label(g);
	li(g, 1, s->mk);
	li(g, 2, s->nsk);
	li(g, 4, a->nk);
	vx(g, OP_vmax, TY_I8, TY_I8, 1, 1, 2, 4, 0);
	branch(g, OP_jmp, 0, 0, l_done);
	place(g, l_all);
	li(g, 1, s->mk);
	li(g, 3, 1);
	li(g, 4, a->nk);
	vx(g, OP_vfill, TY_I8, TY_I8, 1, 0, 3, 4, 0);
	place(g, l_done);
}

/* The key-block table of cc_attn_sim_pass from this core's pre-pass table: for each key block, its
 * place in tile memory, its DRAM address, its head's means and its flag. */
void
cc_attn_sim_table(const CcAttn *a, KCore *kc, Spad *s, const int32_t *pre, uint32_t npre,
                  uint64_t pool_tm, uint64_t pstride)
{
	int32_t *tab = xcalloc(npre + 1, PRE_BYTES);
	uint32_t i;
	s->nsim = 0;
	for (i = 0; i < npre; i++) {
		const int32_t *e = pre + (size_t)i * (PRE_BYTES / 4);
		int32_t *o = tab + (size_t)s->nsim * (PRE_BYTES / 4);
		uint64_t off, head;
		if (e[2] < 0)
			continue;
		off = (uint64_t)e[2] - pool_tm;
		head = pool_tm + off / pstride * pstride;
		o[0] = e[1], o[1] = e[0], o[2] = (int32_t)head;
		o[3] = (int32_t)(head + (uint64_t)a->nk * a->D + off % pstride / a->D);
		s->nsim++;
	}
	if (s->nsim)
		kprog_add_spad(kc, s->simtab, tab, s->nsim * PRE_BYTES);
	free(tab);
}
