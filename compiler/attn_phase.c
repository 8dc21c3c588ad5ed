/* attn_phase.c: code for the phases of an attention layer or KAN-former block around the
 * attention kernel (attn_proj.c, docs/attention.md "Attention layers and KAN-former blocks").
 *
 *   layer norm  (pre-norm) every core of the chip takes a run of tokens: rows of x in, h out
 *   q, k, v     per projection the tile's core 0 reads the matrix from DRAM into the tile
 *               memory, and per chunk of T tokens each core writes its blocks into its MVMUs
 *               nu at a time, runs the chunk's tokens through them (i32 partial sums accumulate
 *               in the MVMU outputs), adds the bias, requantises per channel and stores each
 *               head's rows into its DRAM plane
 *   barrier     every core of the chip (tile barrier, then the tiles' core 0 report to tile 0
 *               and wait for its release)
 *   attention   the kernel (attn_codegen.c)
 *   barrier
 *   output      the output projection the same way, its input gathered from the heads' planes;
 *               the residual add (+ x)
 *   block       layer norm, then per feed-forward layer a barrier and the layer (attn_ffn.c),
 *               a barrier, the final add (+ r) reading the feed-forward's column planes
 *
 * Registers: r1-r4 operands, r5 first token of the chunk, r6 chunks left, r7 tokens left,
 * r8 input row, r9 accumulator row, r10 output row, r11 bias, r12 multipliers, r13 dout,
 * r14-r21 the layer norm's and the add's scalars. */
#include <string.h>

#include "attn_emit.h"

enum {
	R_TOK = 5,
	R_CN = 6,
	R_I = 7,
	R_XP = 8,
	R_AP = 9,
	R_OP = 10,
	R_BIAS = 11,
	R_MULT = 12,
	R_DOUT = 13,
	R_T1 = 20,
	R_T2 = 21,
};

enum { CH_BAR = 1, CH_UP = 200, CH_DOWN = 201, MAX_T = 64 };

/* A step's arguments: projection s, or a layer norm / residual add from in0 (and in1) to out */
typedef struct StepArg {
	uint32_t s;
	const CcNorm *norm;
	const CcAdd *add;
	uint64_t in0, in1, out, wn;
	uint32_t W;
	int planes;         /* in1 is kept as column planes (attn_ffn.c) */
	uint32_t ta, trows; /* planes: the tile's rows [ta, ta + trows), read before the chunks */
	IrNodeId node;
} StepArg;

static uint32_t
gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b, b = t;
	}
	return a;
}

static uint32_t
align16(uint64_t v)
{
	return (uint32_t)((v + 15) & ~(uint64_t)15);
}

/* Bytes of projection s in DRAM and in the tile memory: blocks, then bias and multipliers. */
static uint64_t
proj_bytes(const CcProj *p)
{
	return (uint64_t)p->din * p->dout + 8ull * p->dout;
}

/* Bytes of tile-memory staging per token and core: the widest step's rows in and out. */
static uint32_t
stage_width(const CcAttn *a)
{
	uint32_t w = 0, k;
	for (k = 0; k < 4; k++)
		if (a->pj[k].din + a->pj[k].dout > w)
			w = a->pj[k].din + a->pj[k].dout;
	if (a->has_add && 3 * a->pj[3].dout > w)
		w = 3 * a->pj[3].dout;
	if (a->has_norm && 2 * a->norm.W > w)
		w = 2 * a->norm.W;
	if (a->has_ffn && 3 * a->norm2.W > w)
		w = 3 * a->norm2.W;
	return w;
}

int
cc_attn_phases_plan(const CcModel *m, AttnPhases *ph, uint32_t sp0, uint32_t sp1, uint64_t tmem,
                    Diag *d)
{
	const CcAttn *a = m->attn;
	const HwArch *arch = m->arch;
	uint32_t s, u;
	uint32_t gin = 0, gout = 0, maxin = 0, maxout = 0, prows;
	uint64_t wmax = 0, need;
	ph->ntiles = (uint32_t)arch->chip.tiles;
	ph->cpt = (uint32_t)arch->tile.cores;
	ph->ncall = ph->ntiles * ph->cpt;
	for (s = 0; s < 4; s++) {
		gin = gcd(gin, a->pj[s].din), gout = gcd(gout, a->pj[s].dout);
		maxin = a->pj[s].din > maxin ? a->pj[s].din : maxin;
		maxout = a->pj[s].dout > maxout ? a->pj[s].dout : maxout;
		wmax = proj_bytes(&a->pj[s]) > wmax ? proj_bytes(&a->pj[s]) : wmax;
	}
	prows = a->blkq > a->blkk ? a->blkq : a->blkk;
	{
		/* the kernel's MVMUs, at the shape most of them share among those dividing every
		 * matrix (dense attention leaves MVMUs 2 and 3 free: they take MVMU 0's shape).
		 * Many small blocks beat few large ones: the MVMUs work in parallel, and an MVM's
		 * time grows with its columns. */
		uint32_t shp[4][2] = {
		    {a->D, a->blkk}, {a->blkk, a->Dv}, {a->D, a->nk}, {prows, a->D}};
		uint32_t nunits = arch->core.mvmus < 4 ? (uint32_t)arch->core.mvmus : 4, best = 0,
		         bu;
		if (!a->sparse) {
			memcpy(shp[2], shp[0], sizeof shp[0]);
			memcpy(shp[3], shp[0], sizeof shp[0]);
		}
		if (a->lin) /* the linear branch gives MVMU 2 its own shape */
			shp[2][0] = shp[2][1] = 0;
		for (bu = 0; bu < nunits; bu++) {
			uint32_t r = shp[bu][0], c = shp[bu][1], n = 0;
			if (!r || !c || gin % r || gout % c)
				continue;
			for (u = 0; u < nunits; u++)
				n += shp[u][0] == r && shp[u][1] == c;
			if (n > best) {
				best = n;
				ph->br = r, ph->bc = c, ph->nu = 0;
				for (u = 0; u < nunits; u++)
					if (shp[u][0] == r && shp[u][1] == c)
						ph->units[ph->nu++] = u;
			}
		}
		if (!best)
			return diag_err(d, m->g->file,
			                "attention layer: no MVMU shape of the attention kernel "
			                "(D x blkk, blkk x Dv, ...) divides the projections' "
			                "dimensions (%u and %u)",
			                gin, gout);
	}
	/* tile memory: the largest matrix, each core's staging, the barrier's word at the top */
	ph->tm_sync = (uint32_t)(tmem - 64);
	ph->tm_w = 0;
	ph->tm_stage = align16(wmax);
	/* scratchpad between sp0 and sp1: bias and multipliers, a block, then per token of the
	 * chunk an input row, an i32 accumulator row and an output row */
	ph->sp_bm = align16(sp0);
	if (a->has_norm && a->norm.W > maxout)
		maxout = a->norm.W; /* gamma, beta; the norm's i32 row */
	if (a->has_add && 2 * a->pj[3].dout > maxout)
		maxout = 2 * a->pj[3].dout; /* the add's two i32 rows */
	if (a->has_add && a->pj[3].dout > maxin)
		maxin = a->pj[3].dout;
	if (a->has_ffn && 2 * a->norm2.W > maxout)
		maxout = 2 * a->norm2.W; /* the second norm and add */
	if (a->has_ffn && a->norm2.W > maxin)
		maxin = a->norm2.W;
	ph->sp_st = align16((uint64_t)ph->sp_bm + 8ull * maxout);
	ph->sp_x = align16((uint64_t)ph->sp_st + (uint64_t)ph->br * ph->bc);
	for (ph->T = MAX_T; ph->T >= 1; ph->T /= 2) {
		uint64_t end = (uint64_t)ph->sp_x + align16((uint64_t)ph->T * maxin) +
		               align16((uint64_t)ph->T * maxout * 4 + 16) +
		               (uint64_t)ph->T * maxout;
		need = (uint64_t)ph->tm_stage + (uint64_t)ph->cpt * ph->T * stage_width(a);
		if (end <= sp1 && need <= ph->tm_sync &&
		    ph->T <= (a->N + ph->ncall - 1) / ph->ncall)
			break;
		if (ph->T == 1)
			return diag_err(
			    d, m->g->file,
			    "attention layer: one token's projection rows (%u in, %u out) do not "
			    "fit beside the attention kernel in the scratchpad (%u bytes free) and "
			    "the tile memory",
			    maxin, maxout, sp1 > sp0 ? sp1 - sp0 : 0);
	}
	ph->sp_acc = align16((uint64_t)ph->sp_x + (uint64_t)ph->T * maxin);
	ph->sp_out = align16((uint64_t)ph->sp_acc + (uint64_t)ph->T * maxout * 4 + 16);
	ph->sp_lim = sp1;
	return 0;
}

void
cc_attn_phases_dram(const CcModel *m, const AttnPhases *ph, KProg *p)
{
	const CcAttn *a = m->attn;
	uint32_t s;
	for (s = 0; s < 4; s++) {
		const CcProj *pj = &a->pj[s];
		uint32_t nrb = pj->din / ph->br, ncb = pj->dout / ph->bc, b, r, j;
		uint8_t *buf = xcalloc(proj_bytes(pj), 1), *at = buf;
		/* blocks in row-block-major order, each br x bc row-major (row = input) */
		for (b = 0; b < nrb * ncb; b++) {
			uint32_t rb = b / ncb, cb = b % ncb;
			for (r = 0; r < ph->br; r++)
				for (j = 0; j < ph->bc; j++)
					*at++ = (uint8_t)pj->w[(size_t)(cb * ph->bc + j) * pj->din +
					                       rb * ph->br + r];
		}
		memcpy(at, pj->bias, 4ull * pj->dout);
		memcpy(at + 4ull * pj->dout, pj->mult, 4ull * pj->dout);
		kprog_add_dram(p, (uint32_t)ph->w0[s], buf, (uint32_t)proj_bytes(pj));
		free(buf);
	}
	if (a->has_norm) {
		kprog_add_dram(p, (uint32_t)ph->wn, a->norm.g, 4 * a->norm.W);
		kprog_add_dram(p, (uint32_t)ph->wn + 4 * a->norm.W, a->norm.b, 4 * a->norm.W);
	}
	if (a->has_ffn) {
		kprog_add_dram(p, (uint32_t)ph->wn2, a->norm2.g, 4 * a->norm2.W);
		kprog_add_dram(p, (uint32_t)ph->wn2 + 4 * a->norm2.W, a->norm2.b, 4 * a->norm2.W);
		cc_attn_ffn_dram(m, ph, p);
	}
}

void
cc_attn_phase_xbars(KCore *kc, const AttnPhases *ph)
{
	uint32_t u;
	for (u = 0; u < ph->nu; u++)
		if (!kprog_find_xbar(kc, ph->units[u]))
			kprog_add_xbar(kc, ph->units[u], ph->br, ph->bc, 8, NULL);
}

/* Every core of the chip: the tile's cores meet, the tiles' core 0 report to tile 0 (a 4-byte
 * message) and wait for its release, the tile's cores meet again. */
void
cc_attn_gbar(Gen *g, const AttnPhases *ph, uint32_t tile, uint32_t core)
{
	uint32_t t;
	gen_bar(g, CH_BAR);
	if (core == 0 && ph->ntiles > 1) {
		li(g, 1, ph->tm_sync);
		li(g, 3, 4);
		if (tile) {
			gen_send(g, 1, 1, 3, 0, CH_UP);
			gen_recv(g, 0, CH_DOWN);
		} else {
			for (t = 1; t < ph->ntiles; t++)
				gen_recv(g, t, CH_UP);
			for (t = 1; t < ph->ntiles; t++)
				gen_send(g, 1, 1, 3, t, CH_DOWN);
		}
	}
	gen_bar(g, CH_BAR);
}

/* One chunk of Tc tokens (the first in R_TOK) through projection s. */
static void
gen_chunk(Gen *g, const CcAttn *a, const AttnPhases *ph, const StepArg *st, uint32_t tm_x,
          uint32_t Tc)
{
	uint32_t s = st->s;
	const CcProj *pj = &a->pj[s];
	uint32_t nrb = pj->din / ph->br, ncb = pj->dout / ph->bc, nblk = nrb * ncb, b0, k, h;
	uint32_t heads = s == 0 ? a->H : a->Hk, dh = s == 2 ? a->Dv : a->D, all = 0;
	uint32_t tm_o = tm_x + ph->T * pj->din;
	uint64_t plane = s == 0 ? ph->q0 : s == 1 ? ph->k0 : ph->v0;
	uint64_t plen = (uint64_t)a->N * dh;
	int l;
	for (k = 0; k < ph->nu; k++)
		all |= 1u << ph->units[k];
	/* the input rows into the scratchpad */
	if (s < 3) {
		li(g, 1, tm_x);
		ri(g, OP_muli, 2, R_TOK, pj->din);
		ri(g, OP_addi, 2, 2, (int64_t)ph->xin0);
		xfer(g, OP_dld, 1, 2, Tc * pj->din);
		wait(g, ISA_WAIT_DMA);
		li(g, 4, ph->sp_x);
		r3(g, OP_tld, 4, 1, 3);
	} else {
		/* the rows of each head's plane, then token by token into whole rows */
		for (h = 0; h < a->H; h++) {
			li(g, 1, tm_x + h * Tc * a->Dv);
			ri(g, OP_muli, 2, R_TOK, a->Dv);
			ri(g, OP_addi, 2, 2, (int64_t)(ph->o0 + (uint64_t)h * a->N * a->Dv));
			xfer(g, OP_dld, 1, 2, Tc * a->Dv);
		}
		wait(g, ISA_WAIT_DMA);
		li(g, R_T1, ph->sp_x);
		li(g, R_T2, tm_x);
		li(g, R_I, Tc);
		l = label(g);
		place(g, l);
		for (h = 0; h < a->H; h++) {
			ri(g, OP_addi, 1, R_T1, (int64_t)h * a->Dv);
			ri(g, OP_addi, 2, R_T2, (int64_t)h * Tc * a->Dv);
			xfer(g, OP_tld, 1, 2, a->Dv);
		}
		ri(g, OP_addi, R_T1, R_T1, pj->din);
		ri(g, OP_addi, R_T2, R_T2, a->Dv);
		branch(g, OP_dbnz, R_I, 0, l);
	}
	/* the blocks, nu at a time: write them, run every token of the chunk through them */
	for (b0 = 0; b0 < nblk; b0 += ph->nu) {
		uint32_t nb = nblk - b0 < ph->nu ? nblk - b0 : ph->nu;
		for (k = 0; k < nb; k++) {
			li(g, 1, ph->sp_st);
			li(g, 2, (int64_t)(ph->tm_w + (uint64_t)(b0 + k) * ph->br * ph->bc));
			xfer(g, OP_tld, 1, 2, ph->br * ph->bc);
			li(g, 4, 0);
			li(g, 3, ph->br);
			xw(g, OP_xbw, 4, 1, 3, ph->units[k]); /* reads the buffer at issue */
		}
		li(g, R_I, Tc);
		li(g, R_XP, ph->sp_x);
		li(g, R_AP, ph->sp_acc);
		l = label(g);
		place(g, l);
		for (k = 0; k < nb; k++) {
			uint32_t b = b0 + k, rb = b / ncb, cb = b % ncb, e;
			for (e = 0; e < k;
			     e++) /* an earlier block of the pass adds to the same sums */
				if ((b0 + e) % ncb == cb)
					wait(g, 1u << ph->units[e]);
			ri(g, OP_addi, 1, R_AP, (int64_t)cb * ph->bc * 4);
			ri(g, OP_addi, 2, R_XP, (int64_t)rb * ph->br);
			mvm(g, 1, 2, ph->units[k], rb > 0);
		}
		ri(g, OP_addi, R_XP, R_XP, pj->din);
		ri(g, OP_addi, R_AP, R_AP, 4 * (int64_t)pj->dout);
		branch(g, OP_dbnz, R_I, 0, l);
		wait(g, all);
	}
	/* bias, requantisation, each row into its place */
	li(g, R_I, Tc);
	li(g, R_AP, ph->sp_acc);
	li(g, R_OP, ph->sp_out);
	l = label(g);
	place(g, l);
	vx(g, OP_vadd, TY_I32, TY_I32, R_AP, R_AP, R_BIAS, R_DOUT, 0);
	if (s < 3) {
		/* head-major: head h of token i at out + (h * Tc + i) * dh */
		li(g, 4, dh);
		for (h = 0; h < heads; h++) {
			ri(g, OP_addi, 1, R_OP, (int64_t)h * Tc * dh);
			ri(g, OP_addi, 2, R_AP, (int64_t)h * dh * 4);
			ri(g, OP_addi, 3, R_MULT, (int64_t)h * dh * 4);
			vx(g, OP_vrq, TY_I8, TY_I32, 1, 2, 3, 4, pj->shift);
		}
		ri(g, OP_addi, R_OP, R_OP, dh);
	} else {
		vx(g, OP_vrq, TY_I8, TY_I32, R_OP, R_AP, R_MULT, R_DOUT, pj->shift);
		ri(g, OP_addi, R_OP, R_OP, pj->dout);
	}
	ri(g, OP_addi, R_AP, R_AP, 4 * (int64_t)pj->dout);
	branch(g, OP_dbnz, R_I, 0, l);
	/* out to DRAM through the tile memory */
	li(g, 1, ph->sp_out);
	li(g, 2, tm_o);
	xfer(g, OP_tst, 1, 2, Tc * pj->dout);
	if (s < 3) {
		for (h = 0; h < heads; h++) {
			li(g, 1, tm_o + h * Tc * dh);
			ri(g, OP_muli, 2, R_TOK, dh);
			ri(g, OP_addi, 2, 2, (int64_t)(plane + h * plen));
			xfer(g, OP_dst, 1, 2, Tc * dh);
		}
	} else {
		ri(g, OP_muli, 1, R_TOK, pj->dout);
		ri(g, OP_addi, 1, 1, (int64_t)ph->yout0);
		xfer(g, OP_dst, 2, 1, Tc * pj->dout);
	}
	wait(g, ISA_WAIT_DMA);
}

/* The tile memory staging of core `core`. */
static uint32_t
stage_of(const CcAttn *a, const AttnPhases *ph, uint32_t core)
{
	return ph->tm_stage + core * ph->T * stage_width(a);
}

typedef void ChunkFn(Gen *g, const CcAttn *a, const AttnPhases *ph, const StepArg *st,
                     uint32_t tm_x, uint32_t Tc);

/* Core (tile, core)'s tokens [t0, t1) in chunks of T (R_TOK the first token of each). */
static void
gen_tokens(Gen *g, const CcAttn *a, const AttnPhases *ph, uint32_t tile, uint32_t core,
           const StepArg *st, uint32_t tm_x, ChunkFn *chunk)
{
	uint32_t c = tile * ph->cpt + core;
	uint32_t t0 = (uint32_t)((uint64_t)c * a->N / ph->ncall);
	uint32_t t1 = (uint32_t)((uint64_t)(c + 1) * a->N / ph->ncall);
	uint32_t nfull = (t1 - t0) / ph->T, rem = (t1 - t0) % ph->T;
	li(g, R_TOK, t0);
	if (nfull) {
		int l = label(g);
		li(g, R_CN, nfull);
		place(g, l);
		chunk(g, a, ph, st, tm_x, ph->T);
		ri(g, OP_addi, R_TOK, R_TOK, ph->T);
		branch(g, OP_dbnz, R_CN, 0, l);
	}
	if (rem)
		chunk(g, a, ph, st, tm_x, rem);
}

/* Rows [R_TOK, R_TOK + Tc) of width w at DRAM base into the scratchpad at sp, through the tile
 * memory at tm. */
void
cc_attn_load_rows(Gen *g, uint64_t base, uint32_t w, uint32_t tm, uint32_t sp, uint32_t Tc)
{
	li(g, 1, tm);
	ri(g, OP_muli, 2, R_TOK, w);
	ri(g, OP_addi, 2, 2, (int64_t)base);
	xfer(g, OP_dld, 1, 2, Tc * w);
	wait(g, ISA_WAIT_DMA);
	li(g, 4, sp);
	r3(g, OP_tld, 4, 1, 3);
}

/* And back: Tc rows at sp to DRAM base. */
static void
store_rows(Gen *g, uint64_t base, uint32_t w, uint32_t tm, uint32_t sp, uint32_t Tc)
{
	li(g, 1, sp);
	li(g, 2, tm);
	xfer(g, OP_tst, 1, 2, Tc * w);
	ri(g, OP_muli, 1, R_TOK, w);
	ri(g, OP_addi, 1, 1, (int64_t)base);
	r3(g, OP_dst, 2, 1, 3);
	wait(g, ISA_WAIT_DMA);
}

enum { R_SUM = 14, R_V = 15, R_RES = 16, R_BIT = 17, R_K = 18, R_TT = 19 };

/* Layer norm of Tc rows of x into h (attn.h, CcNorm); the scratchpad word after the i32 row
 * takes the reciprocal. */
static void
chunk_norm(Gen *g, const CcAttn *a, const AttnPhases *ph, const StepArg *st, uint32_t tm_x,
           uint32_t Tc)
{
	const CcNorm *n = st->norm;
	uint32_t W = n->W, xc = ph->sp_acc, word = ph->sp_acc + 4 * W;
	int l = label(g), lsq = label(g), lelse = label(g), lnext = label(g);
	(void)a;
	cc_attn_load_rows(g, st->in0, W, tm_x, ph->sp_x, Tc);
	li(g, R_I, Tc);
	li(g, R_XP, ph->sp_x);
	li(g, R_OP, ph->sp_out);
	place(g, l);
	li(g, 4, W);
	vx(g, OP_vredsum, TY_I8, TY_I8, R_SUM, R_XP, 0, 4, 0);
	li(g, 2, n->recip);
	r3(g, OP_mul, R_SUM, R_SUM, 2);
	ri(g, OP_addi, R_SUM, R_SUM, 1 << (n->rsh - 1));
	ri(g, OP_srai, R_SUM, R_SUM, n->rsh);
	r3(g, OP_sub, R_SUM, 0, R_SUM); /* -mean */
	li(g, 1, xc);
	vx(g, OP_vmov, TY_I32, TY_I8, 1, R_XP, 0, 4, 0);
	vx(g, OP_vadds, TY_I32, TY_I32, 1, 1, R_SUM, 4, 0);
	vx(g, OP_vdot, TY_I32, TY_I32, R_V, 1, 1, 4, 0);
	ri(g, OP_addi, R_V, R_V, n->eps);
	ri(g, OP_slli, R_V, R_V, n->p);
	/* S = isqrt(v), bit by bit */
	li(g, R_RES, 0);
	li(g, R_BIT, 1 << 30);
	li(g, R_K, 16);
	place(g, lsq);
	r3(g, OP_add, R_TT, R_RES, R_BIT);
	branch(g, OP_blt, R_V, R_TT, lelse);
	r3(g, OP_sub, R_V, R_V, R_TT);
	ri(g, OP_srli, R_RES, R_RES, 1);
	r3(g, OP_add, R_RES, R_RES, R_BIT);
	branch(g, OP_jmp, 0, 0, lnext);
	place(g, lelse);
	ri(g, OP_srli, R_RES, R_RES, 1);
	place(g, lnext);
	ri(g, OP_srli, R_BIT, R_BIT, 2);
	branch(g, OP_dbnz, R_K, 0, lsq);
	/* R = round(2^30 / S) */
	ri(g, OP_sw, R_RES, 0, word);
	li(g, 2, word);
	li(g, 3, 1);
	vx(g, OP_vrecip, TY_I32, TY_I32, 2, 2, 0, 3, 30);
	ri(g, OP_lw, R_RES, 0, word);
	/* y = sat8(round(round(xc R >> ta) g >> gsh) + b) */
	li(g, 2, ph->sp_bm);
	li(g, 3, ph->sp_bm + 4 * W);
	vx(g, OP_vmuls, TY_I32, TY_I32, 1, 1, R_RES, 4, n->ta);
	vx(g, OP_vmul, TY_I32, TY_I32, 1, 1, 2, 4, n->gsh);
	vx(g, OP_vadd, TY_I32, TY_I32, 1, 1, 3, 4, 0);
	vx(g, OP_vmov, TY_I8, TY_I32, R_OP, 1, 0, 4, 0);
	ri(g, OP_addi, R_XP, R_XP, W);
	ri(g, OP_addi, R_OP, R_OP, W);
	branch(g, OP_dbnz, R_I, 0, l);
	store_rows(g, st->out, W, tm_x + ph->T * W, ph->sp_out, Tc);
}

/* The residual add of Tc rows: y = x + p, requantised (attn.h, CcAdd). */
static void
chunk_add(Gen *g, const CcAttn *a, const AttnPhases *ph, const StepArg *st, uint32_t tm_x,
          uint32_t Tc)
{
	uint32_t W = st->W, ra = ph->sp_acc, rb = ph->sp_acc + 4 * W;
	int l = label(g);
	cc_attn_load_rows(g, st->in0, W, tm_x, ph->sp_x, Tc);
	if (st->planes == 1) { /* the tile's rows of the feed-forward's planes, read already */
		li(g, R_TT, Tc);
		ri(g, OP_addi, R_T1, R_TOK, -(int64_t)st->ta);
		cc_attn_planes_rows(g, W, ph->ntiles, st->trows, ph->tm_w, ph->sp_out, R_TT, R_T1);
	} else if (st->planes) { /* the chunk's rows of the planes */
		li(g, R_TT, Tc);
		cc_attn_planes_load(g, st->in1, W, a->N, ph->ntiles, ph->T, tm_x + ph->T * W, R_TOK,
		                    R_TT);
		cc_attn_planes_rows(g, W, ph->ntiles, ph->T, tm_x + ph->T * W, ph->sp_out, R_TT, 0);
	} else
		cc_attn_load_rows(g, st->in1, W, tm_x + ph->T * W, ph->sp_out, Tc);
	li(g, R_I, Tc);
	li(g, R_XP, ph->sp_x);
	li(g, R_OP, ph->sp_out);
	li(g, 1, ra);
	li(g, 2, rb);
	li(g, 4, W);
	li(g, R_SUM, st->add->ma);
	li(g, R_V, st->add->mb);
	li(g, R_K, 1);
	place(g, l);
	vx(g, OP_vmov, TY_I32, TY_I8, 1, R_XP, 0, 4, 0);
	vx(g, OP_vmuls, TY_I32, TY_I32, 1, 1, R_SUM, 4, 0);
	vx(g, OP_vmov, TY_I32, TY_I8, 2, R_OP, 0, 4, 0);
	vx(g, OP_vmuls, TY_I32, TY_I32, 2, 2, R_V, 4, 0);
	vx(g, OP_vadd, TY_I32, TY_I32, 1, 1, 2, 4, 0);
	vx(g, OP_vrqs, TY_I8, TY_I32, R_XP, 1, R_K, 4, ATTN_ADD_SHIFT);
	ri(g, OP_addi, R_XP, R_XP, W);
	ri(g, OP_addi, R_OP, R_OP, W);
	branch(g, OP_dbnz, R_I, 0, l);
	store_rows(g, st->out, W, tm_x + 2 * ph->T * W, ph->sp_x, Tc);
}

/* A token-wise step without weights of its own (layer norm, residual add) on (tile, core),
 * the norm's gamma and beta read into the scratchpad first. */
static void
gen_step(KProg *p, KCore *kc, const CcModel *m, const AttnPhases *ph, uint32_t tile, uint32_t core,
         StepArg *st)
{
	const CcAttn *a = m->attn;
	const Graph *gr = m->g;
	uint32_t pc = kc->ncode;
	Gen g;
	memset(&g, 0, sizeof g);
	g.kc = kc;
	if (st->norm) {
		if (core == 0) {
			li(&g, 1, ph->tm_w);
			li(&g, 2, (int64_t)st->wn);
			xfer(&g, OP_dld, 1, 2, 8 * st->norm->W);
			wait(&g, ISA_WAIT_DMA);
		}
		gen_bar(&g, CH_BAR);
		li(&g, 1, ph->sp_bm);
		li(&g, 2, ph->tm_w);
		xfer(&g, OP_tld, 1, 2, 8 * st->norm->W);
		gen_bar(&g, CH_BAR); /* the tile memory is reused next */
	}
	if (st->planes) {
		/* the tile's rows of every plane at once, a transfer per plane (not per core and
		 * chunk), when they fit where the weights go */
		uint32_t c0 = tile * ph->cpt, c1 = c0 + ph->cpt;
		st->ta = (uint32_t)((uint64_t)c0 * a->N / ph->ncall);
		st->trows = (uint32_t)((uint64_t)c1 * a->N / ph->ncall) - st->ta;
		if ((uint64_t)st->trows * st->W <= ph->tm_stage - ph->tm_w) {
			if (core == 0) {
				li(&g, R_T1, st->ta);
				li(&g, R_T2, st->trows);
				cc_attn_planes_load(&g, st->in1, st->W, a->N, ph->ntiles, st->trows,
				                    ph->tm_w, R_T1, R_T2);
			}
			gen_bar(&g, CH_BAR);
		} else
			st->planes = 2; /* per chunk */
	}
	gen_tokens(&g, a, ph, tile, core, st, stage_of(a, ph, core),
	           st->norm ? chunk_norm : chunk_add);
	resolve(&g);
	kprog_add_sym(p, gr->tensors[gr->nodes[st->node].out[0]].name, tile, core, pc,
	              kc->ncode - pc);
}

/* Projection s on core (tile, core): its tokens [t0, t1) in chunks. */
static void
gen_proj(KCore *kc, const CcAttn *a, const AttnPhases *ph, uint32_t s, uint32_t tile, uint32_t core)
{
	const CcProj *pj = &a->pj[s];
	Gen g;
	memset(&g, 0, sizeof g);
	g.kc = kc;
	if (core == 0) {
		li(&g, 1, ph->tm_w);
		li(&g, 2, (int64_t)ph->w0[s]);
		xfer(&g, OP_dld, 1, 2, (uint32_t)proj_bytes(pj));
		wait(&g, ISA_WAIT_DMA);
	}
	gen_bar(&g, CH_BAR);
	li(&g, R_BIAS, ph->sp_bm);
	li(&g, R_MULT, ph->sp_bm + 4 * pj->dout);
	li(&g, 2, (int64_t)(ph->tm_w + (uint64_t)pj->din * pj->dout));
	xfer(&g, OP_tld, R_BIAS, 2, 8 * pj->dout);
	li(&g, R_DOUT, pj->dout);
	{
		StepArg st;
		memset(&st, 0, sizeof st);
		st.s = s;
		gen_tokens(&g, a, ph, tile, core, &st, stage_of(a, ph, core), gen_chunk);
	}
	gen_bar(&g, CH_BAR); /* the tile's matrix is replaced next */
	resolve(&g);
}

/* Projection s on (tile, core) under the symbol of its result. */
static void
gen_proj_sym(KProg *p, KCore *kc, const CcModel *m, const AttnPhases *ph, uint32_t s, uint32_t tile,
             uint32_t core)
{
	const Graph *gr = m->g;
	uint32_t pc = kc->ncode;
	gen_proj(kc, m->attn, ph, s, tile, core);
	kprog_add_sym(p, gr->tensors[gr->nodes[m->attn->pj[s].node].out[0]].name, tile, core, pc,
	              kc->ncode - pc);
}

void
cc_attn_gen_in(KProg *p, KCore *kc, const CcModel *m, const AttnPhases *ph, uint32_t tile,
               uint32_t core)
{
	uint32_t s;
	Gen g;
	if (m->attn->has_norm) {
		StepArg st;
		memset(&st, 0, sizeof st);
		st.norm = &m->attn->norm, st.in0 = ph->x0, st.out = ph->h0, st.wn = ph->wn;
		st.node = m->attn->norm.node;
		gen_step(p, kc, m, ph, tile, core, &st);
	}
	for (s = 0; s < 3; s++)
		gen_proj_sym(p, kc, m, ph, s, tile, core);
	memset(&g, 0, sizeof g);
	g.kc = kc;
	cc_attn_gbar(&g, ph, tile, core);
}

void
cc_attn_gen_out(KProg *p, KCore *kc, const CcModel *m, const AttnPhases *ph, uint32_t tile,
                uint32_t core)
{
	Gen g;
	memset(&g, 0, sizeof g);
	g.kc = kc;
	const CcAttn *a = m->attn;
	StepArg st;
	uint32_t i;
	cc_attn_gbar(&g, ph, tile, core);
	gen_proj_sym(p, kc, m, ph, 3, tile, core);
	memset(&st, 0, sizeof st);
	if (a->has_add) {
		st.add = &a->add, st.in0 = ph->x0, st.in1 = ph->p0, st.out = ph->r0;
		st.W = a->pj[3].dout, st.node = a->add.node;
		gen_step(p, kc, m, ph, tile, core, &st);
	}
	if (!a->has_ffn)
		return;
	/* a transformer block's feed-forward: r -> norm -> layers (by columns over the tiles)
	 * -> + r */
	memset(&st, 0, sizeof st);
	st.norm = &a->norm2, st.in0 = ph->r0, st.out = ph->h20, st.wn = ph->wn2;
	st.node = a->norm2.node;
	gen_step(p, kc, m, ph, tile, core, &st);
	for (i = 0; i < a->nff; i++) {
		cc_attn_gbar(&g, ph, tile, core);
		cc_attn_gen_ffn(p, kc, m, ph, i, tile, core);
	}
	cc_attn_gbar(&g, ph, tile, core);
	memset(&st, 0, sizeof st);
	st.add = &a->add2, st.in0 = ph->r0, st.in1 = ph->f0[a->nff - 1], st.out = ph->y0;
	st.planes = 1;
	st.W = a->norm2.W, st.node = a->add2.node;
	gen_step(p, kc, m, ph, tile, core, &st);
}
