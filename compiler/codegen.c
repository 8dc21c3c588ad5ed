/* codegen.c: instructions for every core, layer after layer (docs/compiler.md, "Execution").
 * Requires: tiled, placed and allocated model. Produces: the KProg's code, scratchpad constants,
 * layer symbols and I/O map.
 *
 * Per layer: the leader (tile 0 core 0) holds the layer's input. It stages the input in its tile
 * memory and sends it to every other core holding blocks of the layer; each such core computes
 * the drive (KAN: base branch through a table, spline basis through the SBU), runs its MVMs on all
 * its MVMUs at once, waits, sums its blocks into partial sums and sends them back. The leader adds
 * the partial sums, the bias, requantises per channel and applies the activation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccint.h"

typedef struct Em {
	CcModel *m;
	KProg *p;
	KCore *kc;
	int opt;
	int known[ISA_NREGS];
	int64_t val[ISA_NREGS];
} Em;

enum { RA = 1, RB = 2, RC = 3, RD = 4 };

static void
emit(Em *e, const Insn *in)
{
	uint64_t w = isa_encode(in);
	kprog_add_code(e->kc, &w, 1);
}

/* li: register r = v, skipped at -O2 when r already holds v. */
static unsigned
li(Em *e, unsigned r, int64_t v)
{
	Insn in;
	if (e->opt >= 2 && e->known[r] && e->val[r] == v)
		return r;
	memset(&in, 0, sizeof in);
	in.op = OP_addi;
	in.a = (uint8_t)r;
	in.imm = (int32_t)v;
	emit(e, &in);
	e->known[r] = 1;
	e->val[r] = v;
	return r;
}

static void
begin_core(Em *e, uint32_t tile, uint32_t core)
{
	e->kc = kprog_core(e->p, tile, core);
	memset(e->known, 0, sizeof e->known);
}

/* vector op with up to three address operands and a length */
static void
vop(Em *e, unsigned op, unsigned tout, unsigned tin, int64_t a, int64_t b, int64_t c, int64_t n,
    unsigned shift)
{
	Insn in;
	memset(&in, 0, sizeof in);
	in.op = (uint8_t)op;
	in.tout = (uint8_t)tout;
	in.tin = (uint8_t)tin;
	in.a = (uint8_t)li(e, RA, a);
	if (b >= 0)
		in.b = (uint8_t)li(e, RB, b);
	if (c >= 0)
		in.c = (uint8_t)li(e, RC, c);
	in.d = (uint8_t)li(e, RD, n);
	in.shift = (uint8_t)shift;
	emit(e, &in);
}

static void
xfer(Em *e, unsigned op, int64_t a, int64_t b, int64_t n)
{
	Insn in;
	memset(&in, 0, sizeof in);
	in.op = (uint8_t)op;
	in.a = (uint8_t)li(e, RA, a);
	in.b = (uint8_t)li(e, RB, b);
	in.c = (uint8_t)li(e, RC, n);
	emit(e, &in);
}

static void
send(Em *e, int64_t src, int64_t dst, int64_t n, uint32_t tile, uint32_t chan)
{
	Insn in;
	memset(&in, 0, sizeof in);
	in.op = OP_send;
	in.a = (uint8_t)li(e, RA, src);
	in.b = (uint8_t)li(e, RB, dst);
	in.c = (uint8_t)li(e, RC, n);
	in.tile = (uint16_t)tile;
	in.chan = (uint8_t)chan;
	emit(e, &in);
}

static void
recv(Em *e, uint32_t tile, uint32_t chan)
{
	Insn in;
	memset(&in, 0, sizeof in);
	in.op = OP_recv;
	in.tile = (uint16_t)tile;
	in.chan = (uint8_t)chan;
	emit(e, &in);
}

/* Message channel from core id `src` to core id `dst` (ids within their tiles); kind 0 layer
 * inputs, 1 partial sums, 2 a layer output for the next layer's leader. */
static uint32_t
chan(uint32_t src, uint32_t dst, uint32_t kind)
{
	return 24 * src + 3 * dst + kind;
}

static void
put_const(Em *e, int first, uint32_t addr, const void *bytes, uint32_t len)
{
	if (first)
		kprog_add_spad(e->kc, addr, bytes, len);
}

/* The KAN drive of the rows the share's blocks read: the base branch of the inputs whose base
 * rows they cover and the spline basis of the inputs whose spline rows they cover (at -O0, of all
 * inputs). Row ranges of the blocks are merged into at most a few intervals. */
static void
drive_ranges(Em *e, const CcLayer *l, const CcShare *sh, uint32_t x, uint32_t drive)
{
	const CcModel *m = e->m;
	unsigned aty = m->aty, asz = cc_type_size(aty);
	uint32_t lo[64], hi[64], n = 0, b, k, I = l->in_len, nb = l->nb;
	if (e->opt < 2 || sh->n > 64) {
		lo[0] = 0, hi[0] = l->rows, n = 1;
	} else {
		for (b = sh->first; b < sh->first + sh->n; b++) {
			uint32_t r0 = m->blocks[b].r0, r1 = r0 + m->blocks[b].rows;
			for (k = 0; k < n; k++)
				if (r0 <= hi[k] && r1 >= lo[k]) {
					lo[k] = r0 < lo[k] ? r0 : lo[k];
					hi[k] = r1 > hi[k] ? r1 : hi[k];
					break;
				}
			if (k == n)
				lo[n] = r0, hi[n] = r1, n++;
		}
	}
	for (k = 0; k < n; k++) {
		/* base rows [lo, min(hi, I)) */
		if (lo[k] < I) {
			uint32_t a0 = lo[k], a1 = hi[k] < I ? hi[k] : I;
			if (l->base_identity)
				vop(e, OP_vmov, aty, aty, drive + a0 * asz, x + a0 * asz, -1,
				    a1 - a0, 0);
			else
				vop(e, OP_vlut, TY_I8, TY_I8, drive + a0 * asz, x + a0 * asz,
				    sh->const_addr, a1 - a0, 0);
		}
		/* spline rows: inputs whose segments intersect [max(lo, I), hi) */
		if (hi[k] > I) {
			uint32_t s0 = (lo[k] > I ? lo[k] : I) - I, s1 = hi[k] - I;
			uint32_t i0 = s0 / nb, i1 = (s1 + nb - 1) / nb;
			vop(e, OP_sbu, aty, aty, drive + (I + i0 * nb) * asz, x + i0 * asz,
			    sh->const_addr + 256, i1 - i0, 0);
		}
	}
}

/* The core's share of layer li on the input at x: drive, MVMs, partial sums at sh->part_addr.
 * first: the first sample (constants are emitted once). */
static void
compute_share(Em *e, uint32_t li_, CcShare *sh, uint32_t x, int first)
{
	CcModel *m = e->m;
	CcLayer *l = &m->layers[li_];
	unsigned aty = m->aty, asz = cc_type_size(aty);
	uint32_t b, mask = 0, drive = l->kind == CC_KAN ? sh->drive_addr : x;
	if (l->kind == CC_KAN) {
		uint8_t desc[16];
		int32_t t0 = l->sbu_t0;
		uint16_t nb = (uint16_t)l->nb;
		uint32_t lut = sh->const_addr + 272, zero = 0;
		memcpy(desc, &t0, 4);
		desc[4] = (uint8_t)l->sbu_sh;
		desc[5] = (uint8_t)l->k;
		memcpy(desc + 6, &nb, 2);
		memcpy(desc + 8, &lut, 4);
		memcpy(desc + 12, &zero, 4);
		put_const(e, first, sh->const_addr + 256, desc, 16);
		put_const(e, first, lut, l->basis_lut, (1u << l->sbu_sh) * (l->k + 1));
		if (!l->base_identity)
			put_const(e, first, sh->const_addr, l->base_lut, 256);
		drive_ranges(e, l, sh, x, drive);
	}
	for (b = sh->first; b < sh->first + sh->n; b++) {
		const CcBlock *bl = &m->blocks[b];
		Insn in;
		memset(&in, 0, sizeof in);
		in.op = OP_mvm;
		in.tin = in.tout = (uint8_t)aty;
		in.a = (uint8_t)li(e, RA, bl->out_addr);
		in.b = (uint8_t)li(e, RB, drive + bl->r0 * asz);
		in.unit = (uint8_t)bl->unit;
		in.nbits = (uint8_t)m->arch->mvmu.input_bits;
		in.gate = (uint8_t)(m->opt.row_gating != 0);
		emit(e, &in);
		mask |= 1u << bl->unit;
	}
	{
		Insn in;
		memset(&in, 0, sizeof in);
		in.op = OP_wait;
		in.mask = mask;
		emit(e, &in);
	}
	for (b = sh->first; b < sh->first + sh->n; b++) {
		const CcBlock *bl = &m->blocks[b];
		int firstcb = b == sh->first || m->blocks[b - 1].c0 != bl->c0;
		uint32_t dst = sh->part_addr + (bl->c0 - sh->c_lo) * 4;
		if (firstcb)
			vop(e, OP_vmov, TY_I32, TY_I32, dst, bl->out_addr, -1, bl->cols, 0);
		else
			vop(e, OP_vadd, TY_I32, TY_I32, dst, dst, bl->out_addr, bl->cols, 0);
	}
}

static void
leader_layer(Em *e, uint32_t i, uint32_t smp)
{
	CcModel *m = e->m;
	CcLayer *l = &m->layers[i];
	CcLead *ld = &m->lead[i];
	unsigned asz = cc_type_size(m->aty), ysz = cc_type_size(l->yty);
	uint32_t c, lc = ld->core, me = m->cores[lc].core, nothers = 0, total = ld->total_addr;
	uint32_t x = ld->x_addr + (i == 0 ? smp * l->in_len * asz : 0);
	uint32_t y = ld->y_addr + (i + 1 == m->nlayers ? smp * l->out_len * ysz : 0);
	CcShare *own = &m->shares[i * m->ncores + lc];
	int first = smp == 0;
	put_const(e, first, ld->mult_addr, l->mult, l->out_len * 4);
	if (l->bq)
		put_const(e, first, ld->bias_addr, l->bq, l->out_len * 4);
	if (l->act == CC_ACT_SILU)
		put_const(e, first, ld->lut_addr, l->act_lut, 256);
	if (i > 0 && m->lead[i - 1].core != lc) {
		uint32_t pc = m->lead[i - 1].core;
		recv(e, m->cores[pc].tile, chan(m->cores[pc].core, me, 2));
		xfer(e, OP_tld, x, ld->tm_in, l->in_len * asz);
	}
	for (c = 0; c < m->ncores; c++)
		nothers += c != lc && m->shares[i * m->ncores + c].n > 0;
	if (nothers) {
		xfer(e, OP_tst, x, ld->tm_stage, l->in_len * asz);
		for (c = 0; c < m->ncores; c++) {
			CcShare *sh = &m->shares[i * m->ncores + c];
			if (c != lc && sh->n)
				send(e, ld->tm_stage, sh->tm_x, l->in_len * asz, m->cores[c].tile,
				     chan(me, m->cores[c].core, 0));
		}
	}
	if (own->n)
		compute_share(e, i, own, x, first);
	if (own->n && !nothers && own->c_lo == 0 && own->c_hi == l->out_len) {
		total = own->part_addr;
	} else {
		vop(e, OP_vfill, TY_I32, TY_I32, total, -1, 0, l->out_len, 0);
		if (own->n)
			vop(e, OP_vadd, TY_I32, TY_I32, total + own->c_lo * 4,
			    total + own->c_lo * 4, own->part_addr, own->c_hi - own->c_lo, 0);
		for (c = 0; c < m->ncores; c++) {
			CcShare *sh = &m->shares[i * m->ncores + c];
			uint32_t n = sh->c_hi - sh->c_lo;
			if (c == lc || !sh->n)
				continue;
			recv(e, m->cores[c].tile, chan(m->cores[c].core, me, 1));
			xfer(e, OP_tld, ld->recv_addr, sh->tm_recv, n * 4);
			vop(e, OP_vadd, TY_I32, TY_I32, total + sh->c_lo * 4, total + sh->c_lo * 4,
			    ld->recv_addr, n, 0);
		}
	}
	if (l->bq)
		vop(e, OP_vadd, TY_I32, TY_I32, total, total, ld->bias_addr, l->out_len, 0);
	if (l->act == CC_ACT_SILU) {
		vop(e, OP_vrq, TY_I8, TY_I32, y, total, ld->mult_addr, l->out_len, l->shift);
		vop(e, OP_vlut, l->yty, TY_I8, y, y, ld->lut_addr, l->out_len, 0);
	} else {
		vop(e, OP_vrq, l->yty, TY_I32, y, total, ld->mult_addr, l->out_len, l->shift);
		if (l->act == CC_ACT_RELU)
			vop(e, OP_vrelu, l->yty, l->yty, y, y, -1, l->out_len, 0);
	}
	if (i + 1 < m->nlayers && m->lead[i + 1].core != lc) {
		uint32_t nc = m->lead[i + 1].core;
		xfer(e, OP_tst, y, ld->tm_out, l->out_len * ysz);
		send(e, ld->tm_out, m->lead[i + 1].tm_in, l->out_len * ysz, m->cores[nc].tile,
		     chan(me, m->cores[nc].core, 2));
	}
}

static void
worker_layer(Em *e, uint32_t i, uint32_t c, uint32_t smp)
{
	CcModel *m = e->m;
	CcLayer *l = &m->layers[i];
	CcShare *sh = &m->shares[i * m->ncores + c];
	unsigned asz = cc_type_size(m->aty);
	uint32_t lc = m->lead[i].core, n = sh->c_hi - sh->c_lo;
	uint32_t lead_tile = m->cores[lc].tile, lead_core = m->cores[lc].core,
	         me = m->cores[c].core;
	recv(e, lead_tile, chan(lead_core, me, 0));
	xfer(e, OP_tld, sh->x_addr, sh->tm_x, l->in_len * asz);
	compute_share(e, i, sh, sh->x_addr, smp == 0);
	xfer(e, OP_tst, sh->part_addr, sh->tm_part, n * 4);
	send(e, sh->tm_part, sh->tm_recv, n * 4, lead_tile, chan(me, lead_core, 1));
}

/* The crossbar images of every block on core c. */
static void
add_images(Em *e, uint32_t c)
{
	CcModel *m = e->m;
	uint32_t b, r, j;
	for (b = 0; b < m->nblocks; b++) {
		const CcBlock *bl = &m->blocks[b];
		const CcLayer *l = &m->layers[bl->layer];
		int32_t *w;
		if (bl->tile != m->cores[c].tile || bl->core != m->cores[c].core)
			continue;
		w = xmalloc(sizeof(int32_t) * bl->rows * bl->cols);
		for (r = 0; r < bl->rows; r++)
			for (j = 0; j < bl->cols; j++)
				w[(size_t)r * bl->cols + j] =
				    l->wq[(size_t)(bl->r0 + r) * l->out_len + bl->c0 + j];
		kprog_add_xbar(e->kc, bl->unit, bl->rows, bl->cols,
		               (uint32_t)m->arch->mvmu.weight_bits, w);
		free(w);
	}
}

int
cc_pass_codegen(CcModel *m, KProg *p, Diag *d)
{
	Em e;
	uint32_t c, i, smp;
	Insn halt;
	(void)d;
	memset(&e, 0, sizeof e);
	e.m = m;
	e.p = p;
	e.opt = m->opt.opt_level;
	memset(&halt, 0, sizeof halt);
	halt.op = OP_halt;
	for (c = 0; c < m->ncores; c++) {
		int any = 0;
		for (i = 0; i < m->nlayers && !any; i++)
			any = m->shares[i * m->ncores + c].n > 0 || m->lead[i].core == c;
		if (!any)
			continue;
		begin_core(&e, m->cores[c].tile, m->cores[c].core);
		add_images(&e, c);
		for (smp = 0; smp < m->batch; smp++)
			for (i = 0; i < m->nlayers; i++) {
				uint32_t pc0 = e.kc->ncode;
				if (m->lead[i].core == c)
					leader_layer(&e, i, smp);
				else if (m->shares[i * m->ncores + c].n)
					worker_layer(&e, i, c, smp);
				if (e.kc->ncode > pc0) {
					/* A layer's later code ranges on the same core (later
					 * samples) are NAME@2, NAME@3, ...: one layer in the
					 * statistics. */
					char nm[300];
					if (smp == 0)
						snprintf(nm, sizeof nm, "%s", m->layers[i].name);
					else
						snprintf(nm, sizeof nm, "%s@%u", m->layers[i].name,
						         smp + 1);
					kprog_add_sym(p, nm, m->cores[c].tile, m->cores[c].core,
					              pc0, e.kc->ncode - pc0);
				}
			}
		emit(&e, &halt);
	}
	return 0;
}
