/* attn_ffn.c: a transformer block's feed-forward after its attention layer (docs/attention.md,
 * "Transformer blocks"):
 *
 *   r = x + attention layer (attn_proj.c)  ->  h = layernorm(r)  ->  linear / kan_linear layers
 *   (relu / silu fused)  ->  f  ->  y = r + f
 *
 * The layers take the chain compiler's formats (ccint.h: KAN input scales on the knot grid, drive
 * rows folded into per-channel weights). Each layer is spread over the tiles by output columns:
 * tile t holds the rows x [c0, c1) slice of the weights in its tile memory, read from DRAM once;
 * its cores split all N tokens and, chunk by chunk, write the slice's blocks into their MVMUs
 * (columns with the bitline-transpose write, so a slice narrower than a block needs no padding)
 * and run the chunk through them, each block's drive rows computed next to its MVM (the SiLU
 * table or the SBU segments of the inputs it covers). A barrier of every core separates the
 * layers, whose outputs go to DRAM token by token. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attn_emit.h"

enum { MAX_FF = 8 };

/* The only node reading t, or IR_NONE (none, or several). */
static IrNodeId
only_reader(const Graph *g, IrTensorId t, uint32_t *count)
{
	IrNodeId found = IR_NONE;
	uint32_t i, k, n = 0;
	for (i = 0; i < g->nnodes; i++)
		for (k = 0; k < g->nodes[i].nin; k++)
			if (g->nodes[i].in[k] == t) {
				if (found != i)
					n++;
				found = i;
				break;
			}
	if (count)
		*count = n;
	return n == 1 ? found : IR_NONE;
}

/* t is [1, N, F] with 0 < F < 2^20 */
static int
rows_of(const Graph *g, IrTensorId t, uint32_t N)
{
	const IrType *ty = &g->tensors[t].type;
	return ty->rank == 3 && ty->dim[0] == 1 && ty->dim[1] == (int64_t)N && ty->dim[2] > 0 &&
	       ty->dim[2] < (1 << 20);
}

static double
scale_of(const double *am, IrTensorId t)
{
	return (am[t] > 0 ? am[t] : 1.0) / 127.0;
}

int
cc_attn_ffn_check(CcModel *m, CcAttn *a, const double *am, Diag *d)
{
	Graph *g = m->g;
	IrTensorId r = a->ty, cur;
	IrNodeId nn = IR_NONE, na = IR_NONE, n;
	uint32_t i, k, W = a->pj[3].dout, cnt;
	/* r feeds a layer norm and the final add */
	for (i = 0; i < g->nnodes; i++)
		for (k = 0; k < g->nodes[i].nin; k++)
			if (g->nodes[i].in[k] == r) {
				if (g->nodes[i].op == IR_OP_layernorm && k == 0 && nn == IR_NONE)
					nn = i;
				else if (g->nodes[i].op == IR_OP_add && na == IR_NONE)
					na = i;
				else
					return cc_attn_error(
					    m, g->nodes[i].loc, d,
					    "op '%s' after the attention layer: a transformer "
					    "block "
					    "continues with layernorm -> feed-forward -> + the "
					    "attention layer's output",
					    ir_ops[g->nodes[i].op].name);
				break;
			}
	if (nn == IR_NONE || na == IR_NONE)
		return cc_attn_error(m, g->nodes[a->add.node].loc, d,
		                     "the attention layer's output must feed a layernorm (the "
		                     "feed-forward's input) and the block's final residual add");
	if (!rows_of(g, g->nodes[nn].out[0], a->N) || !rows_of(g, g->nodes[na].out[0], a->N))
		return cc_attn_error(m, g->nodes[nn].loc, d,
		                     "the block's feed-forward works on [1, %u, F] rows", a->N);
	a->has_ffn = 1;
	a->norm2.node = nn, a->add2.node = na;
	a->ff = arena_alloc(m->arena, sizeof(CcLayer) * MAX_FF);
	memset(a->ff, 0, sizeof(CcLayer) * MAX_FF);
	a->nff = 0;
	cur = g->nodes[nn].out[0];
	while ((n = only_reader(g, cur, &cnt)) != na) {
		const IrNode *nd = n == IR_NONE ? NULL : &g->nodes[n];
		CcLayer *l = &a->ff[a->nff];
		if (!nd || (nd->op != IR_OP_linear && nd->op != IR_OP_kan_linear) ||
		    nd->in[0] != cur)
			return cc_attn_error(
			    m, nd ? nd->loc : g->nodes[nn].loc, d,
			    "the feed-forward must be a chain of linear / kan_linear "
			    "layers (relu or silu after a layer) from the layernorm to "
			    "the final add%s",
			    cnt > 1 ? " (a tensor is read twice)" : "");
		if (a->nff == MAX_FF)
			return cc_attn_error(m, nd->loc, d, "a feed-forward of more than %d layers",
			                     MAX_FF);
		if (!rows_of(g, cur, a->N) || !rows_of(g, nd->out[0], a->N))
			return cc_attn_error(m, nd->loc, d,
			                     "feed-forward layers map [1, %u, F] to [1, %u, F']",
			                     a->N, a->N);
		l->node = n;
		l->loc = nd->loc;
		l->name = g->tensors[nd->out[0]].name;
		l->in_len = (uint32_t)g->tensors[cur].type.dim[2];
		l->out_len = (uint32_t)g->tensors[nd->out[0]].type.dim[2];
		if (cc_layer_build(m, n, l, d))
			return -1;
		if (l->rows > 65536)
			return cc_attn_error(
			    m, nd->loc, d, "a feed-forward layer of %u drive rows (at most 65536)",
			    l->rows);
		l->amax_in = am[cur];
		cur = nd->out[0];
		n = only_reader(g, cur, NULL);
		if (n != IR_NONE &&
		    (g->nodes[n].op == IR_OP_relu || g->nodes[n].op == IR_OP_silu)) {
			l->act = g->nodes[n].op == IR_OP_relu ? CC_ACT_RELU : CC_ACT_SILU;
			l->amax_pre = am[cur];
			cur = g->nodes[n].out[0];
			l->name = g->tensors[cur].name;
		} else
			l->amax_pre = am[cur];
		l->amax_out = am[cur];
		a->nff++;
	}
	if (!a->nff || a->ff[a->nff - 1].out_len != W ||
	    ((g->nodes[na].in[0] == r && g->nodes[na].in[1] == cur) +
	     (g->nodes[na].in[1] == r && g->nodes[na].in[0] == cur)) != 1)
		return cc_attn_error(
		    m, g->nodes[na].loc, d,
		    "the block's final add must sum the attention layer's output and "
		    "the feed-forward's (of width %u)",
		    W);
	a->ty = g->nodes[na].out[0];
	if (g->noutputs != 1 || g->outputs[0].t != a->ty)
		return cc_attn_error(m, g->nodes[na].loc, d,
		                     "the graph's one output must be the block's final add");
	/* formats: the norm's output at the first layer's input scale; the layers as the chain
	 * compiler makes them (8-bit outputs); the final add */
	for (i = 0; i < a->nff; i++)
		if (a->ff[i].kind == CC_KAN && cc_kan_input_scale(m, &a->ff[i], d))
			return -1;
	a->norm2.W = W;
	a->norm2.s_in = a->add.s_out;
	if (a->ff[0].kind == CC_KAN)
		a->norm2.s_out = a->ff[0].sx;
	else
		a->norm2.s_out = a->ff[0].sx = scale_of(am, g->nodes[nn].out[0]);
	if (cc_attn_norm_quant(m, &a->norm2, d))
		return -1;
	for (i = 0; i < a->nff; i++) {
		CcLayer *l = &a->ff[i];
		if (i > 0 && l->kind != CC_KAN)
			l->sx = a->ff[i - 1].sy;
		if (cc_layer_quant(m, l, i + 1 < a->nff ? l + 1 : NULL, 0, d))
			return -1;
	}
	a->add2.s_out = scale_of(am, a->ty);
	a->add2.ma = (int32_t)floor(a->add.s_out / a->add2.s_out * 65536.0 + 0.5);
	a->add2.mb = (int32_t)floor(a->ff[a->nff - 1].sy / a->add2.s_out * 65536.0 + 0.5);
	return 0;
}

void
cc_attn_ffn_qref(const CcModel *m, const int32_t *r, int32_t *y)
{
	const CcAttn *a = m->attn;
	uint32_t W = a->norm2.W, maxw = W, maxrows = 0, i, t;
	int32_t *h = xmalloc(sizeof(int32_t) * (size_t)a->N * W), *f, *xv, *yv, *drive;
	for (i = 0; i < a->nff; i++) {
		maxw = a->ff[i].out_len > maxw ? a->ff[i].out_len : maxw;
		maxrows = a->ff[i].rows > maxrows ? a->ff[i].rows : maxrows;
	}
	f = xmalloc(sizeof(int32_t) * (size_t)a->N * W);
	xv = xmalloc(sizeof(int32_t) * maxw);
	yv = xmalloc(sizeof(int32_t) * maxw);
	drive = xmalloc(sizeof(int32_t) * maxrows);
	cc_attn_norm_qref(&a->norm2, r, a->N, h);
	for (t = 0; t < a->N; t++) {
		memcpy(xv, h + (size_t)t * W, sizeof(int32_t) * W);
		for (i = 0; i < a->nff; i++) {
			const CcLayer *l = &a->ff[i];
			unsigned prety = l->act == CC_ACT_SILU ? TY_I8 : l->yty;
			uint32_t o, k;
			cc_drive_q(m, l, xv, drive);
			for (o = 0; o < l->out_len; o++) {
				int64_t acc = 0;
				for (k = 0; k < l->rows; k++)
					acc +=
					    (int64_t)l->wq[(size_t)k * l->out_len + o] * drive[k];
				acc = cc_sat(acc, TY_I32);
				if (l->bq)
					acc = cc_sat(acc + l->bq[o], TY_I32);
				acc = cc_sat(cc_rshift_round(acc * l->mult[o], l->shift), prety);
				if (l->act == CC_ACT_RELU)
					acc = acc > 0 ? acc : 0;
				else if (l->act == CC_ACT_SILU)
					acc = l->act_lut[acc + 128];
				yv[o] = (int32_t)acc;
			}
			memcpy(xv, yv, sizeof(int32_t) * l->out_len);
		}
		memcpy(f + (size_t)t * W, xv, sizeof(int32_t) * W);
	}
	cc_attn_add_qref(&a->add2, r, f, (uint64_t)a->N * W, y);
	free(h), free(f), free(xv), free(yv), free(drive);
}

/* ---- code ---- */

/* Where layer li lives: its tile's columns, blocks and blob, and the scratchpad of its phase. */
typedef struct FfnLay {
	uint32_t cwmax, cbn, bcw, nrb, stride; /* columns per tile (max), blocks, block stride */
	uint32_t blocks, blob;                 /* bytes: the blocks, the whole blob */
	uint32_t U;                            /* basis table rows */
	/* scratchpad */
	uint32_t sp_bias, sp_mult, sp_base, sp_act, sp_desc, sp_basis, sp_st, sp_x, sp_drv, drv,
	    sp_acc, sp_out, T;
} FfnLay;

static uint32_t
al16(uint64_t v)
{
	return (uint32_t)((v + 15) & ~(uint64_t)15);
}

static void
tile_cols(const CcLayer *l, const AttnPhases *ph, uint32_t t, uint32_t *c0, uint32_t *c1)
{
	*c0 = (uint32_t)((uint64_t)t * l->out_len / ph->ntiles);
	*c1 = (uint32_t)((uint64_t)(t + 1) * l->out_len / ph->ntiles);
}

static int
layout(const CcModel *m, const AttnPhases *ph, uint32_t lx, FfnLay *f)
{
	const CcAttn *a = m->attn;
	const CcLayer *l = &a->ff[lx];
	uint32_t at, T, toks = (a->N + ph->cpt - 1) / ph->cpt;
	memset(f, 0, sizeof *f);
	f->cwmax = (l->out_len + ph->ntiles - 1) / ph->ntiles;
	f->cbn = (f->cwmax + ph->bc - 1) / ph->bc;
	f->bcw = f->cwmax < ph->bc ? f->cwmax : ph->bc;
	f->nrb = l->rows / ph->br;
	f->stride = ph->br * f->bcw;
	f->U = l->kind == CC_KAN ? (1u << l->sbu_sh) * (l->k + 1) : 0;
	f->blocks = f->nrb * f->cbn * f->stride;
	f->blob = f->blocks + 8 * f->cbn * ph->bc + 512 + 16 + al16(f->U);
	at = ph->sp_bm;
	f->sp_bias = at, at += 4 * f->cbn * ph->bc;
	f->sp_mult = at, at += 4 * f->cbn * ph->bc;
	f->sp_base = at, at += 256;
	f->sp_act = at, at += 256;
	f->sp_desc = at, at += 16;
	f->sp_basis = at, at = al16((uint64_t)at + f->U);
	f->sp_st = at, at += ph->br * ph->bc;
	/* per drive piece: the segments of the inputs a block covers */
	f->drv = al16(ph->br + (l->kind == CC_KAN ? 2 * l->nb : 0));
	f->sp_drv = at, at += 2 * ph->nu * f->drv;
	/* the most tokens per chunk (each chunk writes every block again), then chunks of even
	 * size */
	for (T = toks < 64 ? toks : 64; T >= 1; T--) {
		uint64_t end = (uint64_t)at + al16((uint64_t)T * l->in_len) +
		               (uint64_t)T * f->cbn * ph->nu * ph->bc * 4 +
		               (uint64_t)T * f->cbn * ph->bc;
		if (end <= ph->sp_lim)
			break;
	}
	if (T == 0)
		return -1;
	T = (toks + (toks + T - 1) / T - 1) / ((toks + T - 1) / T);
	f->T = T;
	f->sp_x = at, at += al16((uint64_t)T * l->in_len);
	f->sp_acc = at, at += T * f->cbn * ph->nu * ph->bc * 4;
	f->sp_out = at;
	return 0;
}

uint32_t
cc_attn_ffn_blob(const CcModel *m, const AttnPhases *ph, uint32_t lx)
{
	FfnLay f;
	return layout(m, ph, lx, &f) ? 0 : f.blob;
}

void
cc_attn_ffn_dram(const CcModel *m, const AttnPhases *ph, KProg *p)
{
	const CcAttn *a = m->attn;
	uint32_t lx, t, rb, cb, r, j;
	for (lx = 0; lx < a->nff; lx++) {
		const CcLayer *l = &a->ff[lx];
		FfnLay f;
		if (layout(m, ph, lx, &f))
			continue;
		for (t = 0; t < ph->ntiles; t++) {
			uint8_t *blob = xcalloc(f.blob, 1), *at;
			int32_t *bias = (int32_t *)(void *)(blob + f.blocks), *mult;
			uint32_t c0, c1, desc[4];
			tile_cols(l, ph, t, &c0, &c1);
			/* blocks (rb, cb), rb-major; each column-major, its own columns only */
			for (rb = 0; rb < f.nrb; rb++)
				for (cb = 0; cb < f.cbn; cb++) {
					at = blob + (size_t)(rb * f.cbn + cb) * f.stride;
					for (j = 0; j < ph->bc && c0 + cb * ph->bc + j < c1; j++)
						for (r = 0; r < ph->br; r++)
							*at++ =
							    (uint8_t)
							        l->wq[(size_t)(rb * ph->br + r) *
							                  l->out_len +
							              c0 + cb * ph->bc + j];
				}
			mult = bias + f.cbn * ph->bc;
			for (j = c0; j < c1; j++) {
				bias[j - c0] = l->bq ? l->bq[j] : 0;
				mult[j - c0] = l->mult[j];
			}
			at = (uint8_t *)(mult + f.cbn * ph->bc);
			memcpy(at, l->base_lut, 256);
			memcpy(at + 256, l->act_lut, 256);
			/* SBU descriptor: t0, sh, k, nb, the basis table's scratchpad address */
			memcpy(&desc[0], &l->sbu_t0, 4);
			desc[1] = (uint32_t)(l->sbu_sh | (l->k << 8) | (l->nb << 16));
			desc[2] = f.sp_basis, desc[3] = 0;
			memcpy(at + 512, desc, 16);
			if (f.U)
				memcpy(at + 528, l->basis_lut, f.U);
			kprog_add_dram(p, (uint32_t)(ph->fw[lx] + (uint64_t)t * f.blob), blob,
			               f.blob);
			free(blob);
		}
	}
}

enum {
	F_TOK = 5,
	F_I = 7,
	F_XP = 8,
	F_AP = 9,
	F_DB = 10,
	F_T1 = 11,
	F_T2 = 12,
	F_TC = 13, /* tokens in this chunk */
	F_LEFT = 14,
	F_TMAX = 15,
};

/* One chunk of F_TC tokens (the first in F_TOK) through layer li's slice [c0, c1); one copy of
 * the code serves every chunk size (the instruction memory is the limit). */
static void
ffn_chunk(Gen *g, const CcAttn *a, const AttnPhases *ph, const FfnLay *f, uint32_t lx, uint32_t c0,
          uint32_t c1, uint32_t tm_x)
{
	const CcLayer *l = &a->ff[lx];
	uint64_t in0 = lx ? ph->f0[lx - 1] : ph->h20;
	uint32_t nblk = f->nrb * f->cbn, b0, k, cb, all = 0, accrow = f->cbn * ph->nu * ph->bc * 4;
	uint32_t cw = c1 - c0, tm_o = tm_x + ph->T * l->in_len;
	int lt;
	for (k = 0; k < ph->nu; k++)
		all |= 1u << ph->units[k];
	if (lx == 0) { /* the layer norm's rows */
		li(g, 1, tm_x);
		ri(g, OP_muli, 2, F_TOK, l->in_len);
		ri(g, OP_addi, 2, 2, (int64_t)in0);
		ri(g, OP_muli, 3, F_TC, l->in_len);
		r3(g, OP_dld, 1, 2, 3);
		wait(g, ISA_WAIT_DMA);
		li(g, 4, f->sp_x);
		r3(g, OP_tld, 4, 1, 3);
	} else /* the previous layer's column planes */
	{
		cc_attn_planes_load(g, in0, l->in_len, a->N, ph->ntiles, f->T, tm_x, F_TOK, F_TC);
		cc_attn_planes_rows(g, l->in_len, ph->ntiles, f->T, tm_x, f->sp_x, F_TC, 0);
	}
	li(g, 1, f->sp_acc);
	ri(g, OP_muli, 4, F_TC, accrow / 4);
	vx(g, OP_vfill, TY_I32, TY_I32, 1, 0, 0, 4, 0);
	for (b0 = 0; b0 < nblk; b0 += ph->nu) {
		uint32_t nb = nblk - b0 < ph->nu ? nblk - b0 : ph->nu;
		for (k = 0; k < nb; k++) {
			uint32_t b = b0 + k, wcb;
			cb = b % f->cbn;
			wcb = cw - cb * ph->bc < ph->bc ? cw - cb * ph->bc : ph->bc;
			li(g, 1, f->sp_st);
			li(g, 2, (int64_t)(ph->tm_w + (uint64_t)b * f->stride));
			xfer(g, OP_tld, 1, 2, ph->br * wcb);
			li(g, 4, 0);
			li(g, 3, wcb);
			xw(g, OP_xbwt, 4, 1, 3, ph->units[k]); /* reads the buffer at issue */
		}
		ri(g, OP_addi, F_I, F_TC, 0);
		li(g, F_XP, f->sp_x);
		li(g, F_AP, f->sp_acc);
		li(g, F_DB, f->sp_drv);
		lt = label(g);
		place(g, lt);
		for (k = 0; k < nb; k++) {
			uint32_t b = b0 + k, rb = b / f->cbn, r0 = rb * ph->br;
			unsigned in = 2;
			cb = b % f->cbn;
			if (l->kind == CC_LINEAR) {
				ri(g, OP_addi, 2, F_XP, r0); /* the drive is the input */
			} else if (r0 < l->in_len) {
				ri(g, OP_addi, 2, F_DB, (int64_t)k * f->drv);
				ri(g, OP_addi, 1, F_XP, r0);
				li(g, 4, ph->br);
				if (l->base_identity)
					vx(g, OP_vmov, TY_I8, TY_I8, 2, 1, 0, 4, 0);
				else {
					li(g, 3, f->sp_base);
					vx(g, OP_vlut, TY_I8, TY_I8, 2, 1, 3, 4, 0);
				}
			} else {
				uint32_t s0 = r0 - l->in_len, i0 = s0 / l->nb;
				uint32_t i1 = (s0 + ph->br + l->nb - 1) / l->nb;
				ri(g, OP_addi, 2, F_DB, (int64_t)k * f->drv);
				ri(g, OP_addi, 1, F_XP, i0);
				li(g, 3, f->sp_desc);
				li(g, 4, i1 - i0);
				vx(g, OP_sbu, TY_I8, TY_I8, 2, 1, 3, 4, 0);
				ri(g, OP_addi, 2, 2, s0 - i0 * l->nb);
			}
			ri(g, OP_addi, 1, F_AP, (int64_t)(cb * ph->nu + k) * ph->bc * 4);
			mvm(g, 1, in, ph->units[k], 1);
		}
		/* the other drive buffer for the next token */
		ri(g, OP_xori, F_DB, F_DB, (int64_t)(f->sp_drv ^ (f->sp_drv + ph->nu * f->drv)));
		ri(g, OP_addi, F_XP, F_XP, l->in_len);
		ri(g, OP_addi, F_AP, F_AP, accrow);
		branch(g, OP_dbnz, F_I, 0, lt);
		wait(g, all);
	}
	/* per token: the units' sums, bias, requantisation, activation */
	ri(g, OP_addi, F_I, F_TC, 0);
	li(g, F_AP, f->sp_acc);
	li(g, F_T1, f->sp_out);
	lt = label(g);
	place(g, lt);
	for (cb = 0; cb < f->cbn; cb++) {
		uint32_t wcb = cw - cb * ph->bc < ph->bc ? cw - cb * ph->bc : ph->bc;
		if (cw <= cb * ph->bc)
			break;
		ri(g, OP_addi, 1, F_AP, (int64_t)cb * ph->nu * ph->bc * 4);
		li(g, 4, wcb);
		for (k = 1; k < ph->nu; k++) {
			ri(g, OP_addi, 2, 1, (int64_t)k * ph->bc * 4);
			vx(g, OP_vadd, TY_I32, TY_I32, 1, 1, 2, 4, 0);
		}
		li(g, 3, f->sp_bias + cb * ph->bc * 4);
		vx(g, OP_vadd, TY_I32, TY_I32, 1, 1, 3, 4, 0);
		li(g, 3, f->sp_mult + cb * ph->bc * 4);
		ri(g, OP_addi, 2, F_T1, (int64_t)cb * ph->bc);
		vx(g, OP_vrq, TY_I8, TY_I32, 2, 1, 3, 4, l->shift);
		if (l->act == CC_ACT_RELU)
			vx(g, OP_vrelu, TY_I8, TY_I8, 2, 2, 0, 4, 0);
		else if (l->act == CC_ACT_SILU) {
			li(g, 3, f->sp_act);
			vx(g, OP_vlut, TY_I8, TY_I8, 2, 2, 3, 4, 0);
		}
	}
	ri(g, OP_addi, F_AP, F_AP, accrow);
	ri(g, OP_addi, F_T1, F_T1, cw);
	branch(g, OP_dbnz, F_I, 0, lt);
	/* the rows' columns [c0, c1) to the tile's plane of the output (N x cw at N c0): one
	 * transfer, not one per token */
	li(g, 1, f->sp_out);
	li(g, 2, tm_o);
	ri(g, OP_muli, 3, F_TC, cw);
	r3(g, OP_tst, 1, 2, 3);
	ri(g, OP_muli, F_T2, F_TOK, cw);
	ri(g, OP_addi, F_T2, F_T2, (int64_t)(ph->f0[lx] + (uint64_t)a->N * c0));
	r3(g, OP_dst, 2, F_T2, 3);
	wait(g, ISA_WAIT_DMA);
}

void
cc_attn_gen_ffn(KProg *p, KCore *kc, const CcModel *m, const AttnPhases *ph, uint32_t lx,
                uint32_t tile, uint32_t core)
{
	const CcAttn *a = m->attn;
	const CcLayer *l = &a->ff[lx];
	uint32_t pc = kc->ncode, c0, c1, k, all = 0;
	uint32_t t0 = (uint32_t)((uint64_t)core * a->N / ph->cpt);
	uint32_t t1 = (uint32_t)((uint64_t)(core + 1) * a->N / ph->cpt);
	uint32_t tm_x;
	FfnLay f;
	Gen g;
	memset(&g, 0, sizeof g);
	g.kc = kc;
	if (layout(m, ph, lx, &f))
		return; /* refused by cc_attn_ffn_plan */
	tile_cols(l, ph, tile, &c0, &c1);
	tm_x = al16(ph->tm_w + (uint64_t)f.blob) + core * f.T * (l->in_len + f.cbn * ph->bc);
	for (k = 0; k < ph->nu; k++)
		all |= 1u << ph->units[k];
	/* the tile's slice into the tile memory, its constants into the scratchpad */
	if (core == 0) {
		li(&g, 1, ph->tm_w);
		li(&g, 2, (int64_t)(ph->fw[lx] + (uint64_t)tile * f.blob));
		xfer(&g, OP_dld, 1, 2, f.blob);
		wait(&g, ISA_WAIT_DMA);
	}
	gen_bar(&g, 1);
	li(&g, 1, f.sp_bias);
	li(&g, 2, ph->tm_w + f.blocks);
	xfer(&g, OP_tld, 1, 2, f.blob - f.blocks);
	/* columns a narrow slice leaves unwritten hold zeros */
	li(&g, 1, f.sp_st);
	li(&g, 4, ph->br * ph->bc);
	vx(&g, OP_vfill, TY_I8, TY_I8, 1, 0, 0, 4, 0);
	li(&g, 4, 0);
	li(&g, 3, ph->bc);
	for (k = 0; k < ph->nu; k++)
		xw(&g, OP_xbwt, 4, 1, 3, ph->units[k]);
	wait(&g, all);
	if (t1 > t0) {
		int lc = label(&g);
		li(&g, F_TOK, t0);
		li(&g, F_LEFT, t1 - t0);
		li(&g, F_TMAX, f.T);
		place(&g, lc);
		r3(&g, OP_min, F_TC, F_LEFT, F_TMAX);
		ffn_chunk(&g, a, ph, &f, lx, c0, c1, tm_x);
		r3(&g, OP_add, F_TOK, F_TOK, F_TC);
		r3(&g, OP_sub, F_LEFT, F_LEFT, F_TC);
		branch(&g, OP_blt, 0, F_LEFT, lc);
	}
	resolve(&g);
	kprog_add_sym(p, l->name, tile, core, pc, kc->ncode - pc);
}

void
cc_attn_planes_load(Gen *g, uint64_t base, uint32_t W, uint32_t N, uint32_t nplanes, uint32_t T,
                    uint32_t tm, unsigned tok, unsigned tc)
{
	uint32_t p;
	/* plane p (columns [c0, c1) of every token, N x (c1 - c0) at base + N c0): the rows of
	 * each into the tile memory at tm + T c0 */
	for (p = 0; p < nplanes; p++) {
		uint32_t c0 = (uint32_t)((uint64_t)p * W / nplanes);
		uint32_t c1 = (uint32_t)((uint64_t)(p + 1) * W / nplanes);
		if (c1 == c0)
			continue;
		li(g, 1, (int64_t)(tm + (uint64_t)T * c0));
		ri(g, OP_muli, 2, tok, c1 - c0);
		ri(g, OP_addi, 2, 2, (int64_t)(base + (uint64_t)N * c0));
		ri(g, OP_muli, 3, tc, c1 - c0);
		r3(g, OP_dld, 1, 2, 3);
	}
	wait(g, ISA_WAIT_DMA);
}

void
cc_attn_planes_rows(Gen *g, uint32_t W, uint32_t nplanes, uint32_t T, uint32_t tm, uint32_t sp,
                    unsigned tc, unsigned first)
{
	uint32_t p;
	int l = label(g);
	ri(g, OP_addi, 22, tc, 0);
	li(g, 23, sp);
	ri(g, OP_addi, 24, first, 0);
	place(g, l);
	for (p = 0; p < nplanes; p++) {
		uint32_t c0 = (uint32_t)((uint64_t)p * W / nplanes);
		uint32_t c1 = (uint32_t)((uint64_t)(p + 1) * W / nplanes);
		if (c1 == c0)
			continue;
		ri(g, OP_addi, 1, 23, c0);
		ri(g, OP_muli, 2, 24, c1 - c0);
		ri(g, OP_addi, 2, 2, (int64_t)(tm + (uint64_t)T * c0));
		li(g, 3, c1 - c0);
		r3(g, OP_tld, 1, 2, 3);
	}
	ri(g, OP_addi, 23, 23, W);
	ri(g, OP_addi, 24, 24, 1);
	branch(g, OP_dbnz, 22, 0, l);
}

/* cc_attn_ffn_plan: the feed-forward's memory checks (after cc_attn_phases_plan). */
int
cc_attn_ffn_plan(const CcModel *m, const AttnPhases *ph, uint64_t tmem, Diag *d)
{
	const CcAttn *a = m->attn;
	uint32_t lx;
	for (lx = 0; lx < a->nff; lx++) {
		const CcLayer *l = &a->ff[lx];
		FfnLay f;
		if (l->rows % ph->br || (l->kind == CC_KAN && l->in_len % ph->br))
			return cc_attn_error(
			    m, l->loc, d,
			    "feed-forward layer '%s': %u drive rows (%u inputs) are not "
			    "a multiple of the %u-row blocks",
			    l->name, l->rows, l->in_len, ph->br);
		if (layout(m, ph, lx, &f))
			return cc_attn_error(
			    m, l->loc, d,
			    "feed-forward layer '%s': its tables (a %u-byte basis table) "
			    "and one token's rows do not fit the scratchpad beside the "
			    "attention kernel",
			    l->name, l->kind == CC_KAN ? (1u << l->sbu_sh) * (l->k + 1) : 0);
		if ((uint64_t)al16(f.blob) +
		        (uint64_t)ph->cpt * f.T * (l->in_len + f.cbn * ph->bc) >
		    tmem - 64)
			return cc_attn_error(
			    m, l->loc, d,
			    "feed-forward layer '%s': a tile's slice of %u bytes and its "
			    "staging do not fit the %llu bytes of tile memory",
			    l->name, f.blob, (unsigned long long)tmem);
	}
	return 0;
}
