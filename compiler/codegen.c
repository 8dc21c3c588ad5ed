/* codegen.c: instructions for every core, layer after layer (docs/compiler.md, "Execution").
 * Requires: tiled, placed and allocated model. Produces: the KProg's code, scratchpad constants,
 * layer symbols and I/O map.
 *
 * Per layer: the leader (tile 0 core 0) holds the layer's input. It stages the input in its tile
 * memory and sends it to every other core holding blocks of the layer; each such core computes
 * the drive (KAN: base branch through a table, spline basis through the SBU), runs its MVMs on all
 * its MVMUs at once, waits, sums its blocks into partial sums and sends them back. The leader adds
 * the partial sums, the bias, requantises per channel and applies the activation. */
#include <assert.h>
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
	int anyreg;        /* li may use any register (wide layers) */
	unsigned next_reg; /* the register li loads next when anyreg */
} Em;

enum { RA = 1, RB = 2, RC = 3, RD = 4 };

static void
emit(Em *e, const Insn *in)
{
	uint64_t w = isa_encode(in);
	kprog_add_code(e->kc, &w, 1);
}

/* li: a register holding v: register r, loaded unless it holds v already (-O2). In wide layers
 * at -O2 (anyreg): any register that holds v, else the next one in turn (r1 .. the last), loaded;
 * an instruction has at most 4 operands, so the turn never takes one of the same instruction's. */
static unsigned
li(Em *e, unsigned r, int64_t v)
{
	Insn in;
	if (e->opt >= 2 && e->anyreg) {
		unsigned k, nregs = (unsigned)e->m->arch->core.regs;
		if (nregs > ISA_NREGS)
			nregs = ISA_NREGS;
		for (k = 1; k < nregs; k++)
			if (e->known[k] && e->val[k] == v)
				return k;
		if (nregs > 8) {
			r = e->next_reg;
			e->next_reg = e->next_reg + 1 < nregs ? e->next_reg + 1 : 1;
		}
	} else if (e->opt >= 2 && e->known[r] && e->val[r] == v) {
		return r;
	}
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
	e->next_reg = 1;
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
 * inputs, 1 partial sums, 2 a layer output for the next layer's leader, 3 a wide layer's output
 * columns for its leader. */
static uint32_t
chan(uint32_t src, uint32_t dst, uint32_t kind)
{
	return 32 * src + 4 * dst + kind;
}

static void
bar(Em *e, uint32_t id)
{
	Insn in;
	memset(&in, 0, sizeof in);
	in.op = OP_bar;
	in.chan = (uint8_t)id;
	emit(e, &in);
}

static void
put_const(Em *e, int first, uint32_t addr, const void *bytes, uint32_t len)
{
	if (first)
		kprog_add_spad(e->kc, addr, bytes, len);
}

/* The KAN drive of rows [lo, hi) (whole input segments): the base branch through a table, the
 * spline basis through the SBU. */
static void
drive_rows(Em *e, const CcLayer *l, const CcShare *sh, uint32_t x, uint32_t drive, uint32_t lo,
           uint32_t hi)
{
	unsigned aty = e->m->aty, asz = cc_type_size(aty);
	uint32_t I = l->in_len, nb = l->nb;
	/* base rows [lo, min(hi, I)) */
	if (lo < I) {
		uint32_t a0 = lo, a1 = hi < I ? hi : I;
		if (l->base_identity)
			vop(e, OP_vmov, aty, aty, drive + a0 * asz, x + a0 * asz, -1, a1 - a0, 0);
		else
			vop(e, OP_vlut, TY_I8, TY_I8, drive + a0 * asz, x + a0 * asz,
			    sh->const_addr, a1 - a0, 0);
	}
	/* spline rows: inputs whose segments intersect [max(lo, I), hi) */
	if (hi > I) {
		uint32_t s0 = (lo > I ? lo : I) - I, s1 = hi - I;
		uint32_t i0 = s0 / nb, i1 = (s1 + nb - 1) / nb;
		vop(e, OP_sbu, aty, aty, drive + (I + i0 * nb) * asz, x + i0 * asz,
		    sh->const_addr + 256, i1 - i0, 0);
	}
}

/* The KAN drive of the rows the share's blocks read: the base branch of the inputs whose base
 * rows they cover and the spline basis of the inputs whose spline rows they cover (at -O0, of all
 * inputs). Row ranges of the blocks are merged into at most a few intervals. */
static void
drive_ranges(Em *e, const CcLayer *l, const CcShare *sh, uint32_t x, uint32_t drive)
{
	const CcModel *m = e->m;
	uint32_t lo[64], hi[64], n = 0, b, k;
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
	for (k = 0; k < n; k++)
		drive_rows(e, l, sh, x, drive, lo[k], hi[k]);
}

/* The KAN constants of a share: SBU descriptor, basis LUT, base-branch LUT. */
static void
kan_consts(Em *e, const CcLayer *l, const CcShare *sh, int first)
{
	{
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
	}
}

static void
mvm(Em *e, const CcBlock *bl, uint32_t drive)
{
	CcModel *m = e->m;
	unsigned aty = m->aty;
	Insn in;
	memset(&in, 0, sizeof in);
	in.op = OP_mvm;
	in.tin = in.tout = (uint8_t)aty;
	in.a = (uint8_t)li(e, RA, bl->out_addr);
	in.b = (uint8_t)li(e, RB, drive + bl->r0 * cc_type_size(aty));
	in.unit = (uint8_t)bl->unit;
	in.nbits = (uint8_t)m->arch->mvmu.input_bits;
	in.gate = (uint8_t)(m->opt.row_gating != 0);
	emit(e, &in);
}

static void
wait_units(Em *e, uint32_t mask)
{
	Insn in;
	memset(&in, 0, sizeof in);
	in.op = OP_wait;
	in.mask = mask;
	emit(e, &in);
}

static void
compute_share(Em *e, uint32_t li_, CcShare *sh, uint32_t x, int first)
{
	CcModel *m = e->m;
	CcLayer *l = &m->layers[li_];
	uint32_t b, mask = 0, drive = l->kind == CC_KAN ? sh->drive_addr : x;
	if (l->kind == CC_KAN) {
		kan_consts(e, l, sh, first);
		drive_ranges(e, l, sh, x, drive);
	}
	for (b = sh->first; b < sh->first + sh->n; b++) {
		const CcBlock *bl = &m->blocks[b];
		mvm(e, bl, drive);
		mask |= 1u << bl->unit;
	}
	wait_units(e, mask);
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

/* The leader of layer i receives its input at x from the previous layer's leader, if that is
 * another core. */
static void
layer_input(Em *e, uint32_t i, uint32_t x)
{
	CcModel *m = e->m;
	const CcLead *ld = &m->lead[i];
	uint32_t lc = ld->core, pc;
	if (i == 0 || m->lead[i - 1].core == lc)
		return;
	pc = m->lead[i - 1].core;
	recv(e, m->cores[pc].tile, chan(m->cores[pc].core, m->cores[lc].core, 2));
	xfer(e, OP_tld, x, ld->tm_in, m->layers[i].in_len * cc_type_size(m->aty));
}

/* The leader of layer i sends its output at y to the next layer's leader, if that is another
 * core. */
static void
layer_output(Em *e, uint32_t i, uint32_t y)
{
	CcModel *m = e->m;
	const CcLead *ld = &m->lead[i];
	uint32_t lc = ld->core, nc, len = m->layers[i].out_len * cc_type_size(m->layers[i].yty);
	if (i + 1 == m->nlayers || m->lead[i + 1].core == lc)
		return;
	nc = m->lead[i + 1].core;
	xfer(e, OP_tst, y, ld->tm_out, len);
	send(e, ld->tm_out, m->lead[i + 1].tm_in, len, m->cores[nc].tile,
	     chan(m->cores[lc].core, m->cores[nc].core, 2));
}

/* Requantises the i32 sums at tot (n columns from column c0 of layer l) into y: bias, per-channel
 * multipliers, activation. mult, bias, lut: the scratchpad constants of those columns. */
static void
requant(Em *e, const CcLayer *l, uint32_t tot, uint32_t y, uint32_t n, uint32_t mult, uint32_t bias,
        uint32_t lut)
{
	if (l->bq)
		vop(e, OP_vadd, TY_I32, TY_I32, tot, tot, bias, n, 0);
	if (l->act == CC_ACT_SILU) {
		vop(e, OP_vrq, TY_I8, TY_I32, y, tot, mult, n, l->shift);
		vop(e, OP_vlut, l->yty, TY_I8, y, y, lut, n, 0);
	} else {
		vop(e, OP_vrq, l->yty, TY_I32, y, tot, mult, n, l->shift);
		if (l->act == CC_ACT_RELU)
			vop(e, OP_vrelu, l->yty, l->yty, y, y, -1, n, 0);
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
	layer_input(e, i, x);
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
	requant(e, l, total, y, l->out_len, ld->mult_addr, ld->bias_addr, ld->lut_addr);
	layer_output(e, i, y);
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

/* Hops between tiles a and b on the mesh (XY routing). */
static uint32_t
hops(const HwArch *a, uint32_t ta, uint32_t tb)
{
	uint32_t mc = (uint32_t)a->chip.mesh_cols, ra = ta / mc, ca = ta % mc, rb = tb / mc,
	         cb = tb % mc;
	return (ra > rb ? ra - rb : rb - ra) + (ca > cb ? ca - cb : cb - ca);
}

/* The u-th (1 .. T-1) tile that the layer's tile `tile` sends reduce-scatter slices to, as a
 * position among the layer's tiles: the farthest first, so that the messages that hold two or
 * more links start first. */
static uint32_t
rs_order(const CcModel *m, const CcLead *ld, uint32_t tile, uint32_t u)
{
	uint32_t T = ld->wide, h, v, k = 0;
	for (h = 2 * (uint32_t)(m->arch->chip.mesh_rows + m->arch->chip.mesh_cols); h-- > 0;)
		for (v = 0; v < T; v++)
			if (ld->tile0 + v != tile && hops(m->arch, tile, ld->tile0 + v) == h &&
			    ++k == u)
				return v;
	return 0;
}

/* Adds into the share's partial sums, over columns [lo, hi), the blocks of its own drive part
 * (own) or of the other parts (!own), except the blocks that wrote the sums directly. */
static void
add_blocks(Em *e, const CcShare *sh, int shared, int own, uint32_t lo, uint32_t hi)
{
	const CcModel *m = e->m;
	uint32_t b;
	for (b = sh->first; b < sh->first + sh->n; b++) {
		const CcBlock *bl = &m->blocks[b];
		uint32_t dst = sh->part_addr + (bl->c0 - sh->c_lo) * 4;
		uint32_t a = lo > bl->c0 ? lo : bl->c0,
		         z = hi < bl->c0 + bl->cols ? hi : bl->c0 + bl->cols;
		int mine = !shared || (bl->r0 >= sh->d_lo && bl->r0 < sh->d_hi);
		if (mine != own || bl->out_addr == dst || a >= z)
			continue;
		vop(e, OP_vadd, TY_I32, TY_I32, dst + (a - bl->c0) * 4, dst + (a - bl->c0) * 4,
		    bl->out_addr + (a - bl->c0) * 4, z - a, 0);
	}
}

/* Wide layer i (pass_tile.c) on core c, sample smp. The leader sends every core the inputs of
 * its drive part (farthest cores first); the cores of a tile compute their parts of the tile's
 * drive, run the MVMs of their own part, swap parts through tile memory (a barrier between the
 * stores and the loads) and run the rest; each core sums its blocks per column, the tiles
 * reduce-scatter the sums (core k of every tile covers the same columns; each owns one slice),
 * each owner requantises its slice and sends it to the leader, which assembles the output. */
static void
wide_layer(Em *e, uint32_t i, uint32_t c, uint32_t smp)
{
	CcModel *m = e->m;
	const CcLayer *l = &m->layers[i];
	const CcLead *ld = &m->lead[i];
	const CcShare *sh = &m->shares[i * m->ncores + c];
	unsigned aty = m->aty, asz = cc_type_size(aty), ysz = cc_type_size(l->yty);
	uint32_t lc = ld->core, T = ld->wide, n = (uint32_t)m->arch->tile.cores;
	uint32_t me = m->cores[c].core, tile = m->cores[c].tile, ltile = m->cores[lc].tile,
	         lcore = m->cores[lc].core;
	int lead = c == lc, first = smp == 0, shared = l->kind == CC_KAN && n > 1;
	uint32_t x = lead ? ld->x_addr + (i == 0 ? smp * l->in_len * asz : 0) : sh->x_addr;
	uint32_t y = ld->y_addr + (i + 1 == m->nlayers ? smp * l->out_len * ysz : 0);
	uint32_t drive = l->kind == CC_KAN ? sh->drive_addr : x;
	uint32_t sl = (sh->c_hi - sh->c_lo + T - 1) / T, w = sh->s_hi - sh->s_lo;
	uint32_t b, u, cc, h, own_mask = 0, rest_mask = 0;
	uint32_t tot = sh->part_addr + (sh->s_lo - sh->c_lo) * 4,
	         ys = lead ? y + sh->s_lo * ysz : sh->y_addr;
	/* the inputs */
	if (lead) {
		layer_input(e, i, x);
		xfer(e, OP_tst, x, ld->tm_stage, l->in_len * asz);
		for (h = 2 * (uint32_t)(m->arch->chip.mesh_rows + m->arch->chip.mesh_cols);
		     h-- > 0;)
			for (cc = 0; cc < m->ncores; cc++) {
				const CcShare *o = &m->shares[i * m->ncores + cc];
				if (cc == lc || !o->n ||
				    hops(m->arch, ltile, m->cores[cc].tile) != h)
					continue;
				send(e, ld->tm_stage + o->x_lo * asz, o->tm_x + o->x_lo * asz,
				     (o->x_hi - o->x_lo) * asz, m->cores[cc].tile,
				     chan(lcore, m->cores[cc].core, 0));
			}
	} else {
		recv(e, ltile, chan(lcore, me, 0));
		xfer(e, OP_tld, x + sh->x_lo * asz, sh->tm_x + sh->x_lo * asz,
		     (sh->x_hi - sh->x_lo) * asz);
	}
	/* the drive: this core's part, its MVMs, then the parts of the tile's other cores */
	if (l->kind == CC_KAN) {
		kan_consts(e, l, sh, first);
		drive_rows(e, l, sh, x, drive, sh->d_lo, sh->d_hi);
		if (shared)
			xfer(e, OP_tst, drive + sh->d_lo * asz,
			     sh->tm_drive + (sh->d_lo - sh->t_lo) * asz,
			     (sh->d_hi - sh->d_lo) * asz);
	}
	for (b = sh->first; b < sh->first + sh->n; b++) {
		const CcBlock *bl = &m->blocks[b];
		if (shared && (bl->r0 < sh->d_lo || bl->r0 >= sh->d_hi))
			continue;
		mvm(e, bl, drive);
		own_mask |= 1u << bl->unit;
	}
	if (shared) {
		bar(e, i & 255);
		if (sh->d_lo > sh->t_lo)
			xfer(e, OP_tld, drive + sh->t_lo * asz, sh->tm_drive,
			     (sh->d_lo - sh->t_lo) * asz);
		if (sh->t_hi > sh->d_hi)
			xfer(e, OP_tld, drive + sh->d_hi * asz,
			     sh->tm_drive + (sh->d_hi - sh->t_lo) * asz,
			     (sh->t_hi - sh->d_hi) * asz);
		for (b = sh->first; b < sh->first + sh->n; b++) {
			const CcBlock *bl = &m->blocks[b];
			if (bl->r0 >= sh->d_lo && bl->r0 < sh->d_hi)
				continue;
			mvm(e, bl, drive);
			rest_mask |= 1u << bl->unit;
		}
	}
	/* per-column sums of the blocks: the first own block of each column block wrote them; the
	 * own blocks are added while the others still run */
	wait_units(e, own_mask);
	add_blocks(e, sh, shared, 1, sh->c_lo, sh->c_hi);
	if (rest_mask)
		wait_units(e, rest_mask);
	/* reduce-scatter: slice v of the sums to core `me` of the layer's tile v, each slice sent
	 * as soon as its last blocks are added */
	for (u = 1; u < T; u++) {
		uint32_t v = rs_order(m, ld, tile, u), pt = ld->tile0 + v,
		         slot = sh->tpos < v ? sh->tpos : sh->tpos - 1;
		const CcShare *o = NULL;
		for (cc = 0; cc < m->ncores; cc++)
			if (m->cores[cc].tile == pt && m->cores[cc].core == me)
				o = &m->shares[i * m->ncores + cc];
		assert(o != NULL); /* pass_tile puts core `me` of every tile of the layer to work */
		add_blocks(e, sh, shared, 0, o->s_lo, o->s_hi);
		xfer(e, OP_tst, sh->part_addr + (o->s_lo - sh->c_lo) * 4,
		     sh->tm_part + (o->s_lo - sh->c_lo) * 4, (o->s_hi - o->s_lo) * 4);
		send(e, sh->tm_part + (o->s_lo - sh->c_lo) * 4, o->tm_rs + slot * sl * 4,
		     (o->s_hi - o->s_lo) * 4, pt, chan(me, me, 1));
	}
	add_blocks(e, sh, shared, 0, sh->s_lo, sh->s_hi);
	for (u = 1; u < T; u++) {
		uint32_t v = rs_order(m, ld, tile, u), slot = v < sh->tpos ? v : v - 1;
		recv(e, ld->tile0 + v, chan(me, me, 1));
		xfer(e, OP_tld, sh->rs_addr + slot * sl * 4, sh->tm_rs + slot * sl * 4, w * 4);
		vop(e, OP_vadd, TY_I32, TY_I32, tot, tot, sh->rs_addr + slot * sl * 4, w, 0);
	}
	/* this core's columns: requantise, send to the leader */
	put_const(e, first, sh->q_addr, l->mult + sh->s_lo, w * 4);
	if (l->bq)
		put_const(e, first, sh->q_addr + 4 * sl, l->bq + sh->s_lo, w * 4);
	if (l->act == CC_ACT_SILU)
		put_const(e, first, sh->q_addr + 8 * sl, l->act_lut, 256);
	requant(e, l, tot, ys, w, sh->q_addr, sh->q_addr + 4 * sl, sh->q_addr + 8 * sl);
	if (!lead) {
		xfer(e, OP_tst, ys, sh->tm_y, w * ysz);
		send(e, sh->tm_y,
		     ld->tm_y + ((i + 1 == m->nlayers ? smp * l->out_len : 0) + sh->s_lo) * ysz,
		     w * ysz, ltile, chan(me, lcore, 3));
		return;
	}
	if (i + 1 == m->nlayers) /* the output tensor lives in tile memory */
		xfer(e, OP_tst, ys, ld->tm_y + (smp * l->out_len + sh->s_lo) * ysz, w * ysz);
	for (cc = 0; cc < m->ncores; cc++)
		if (cc != lc && m->shares[i * m->ncores + cc].n)
			recv(e, m->cores[cc].tile, chan(m->cores[cc].core, lcore, 3));
	if (i + 1 == m->nlayers)
		return;
	if (sh->s_lo > 0)
		xfer(e, OP_tld, y, ld->tm_y, sh->s_lo * ysz);
	if (sh->s_hi < l->out_len)
		xfer(e, OP_tld, y + sh->s_hi * ysz, ld->tm_y + sh->s_hi * ysz,
		     (l->out_len - sh->s_hi) * ysz);
	layer_output(e, i, y);
	(void)tile;
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
				if (m->lead[i].wide) {
					e.anyreg = 1;
					if (m->shares[i * m->ncores + c].n)
						wide_layer(&e, i, c, smp);
					e.anyreg = 0;
				} else if (m->lead[i].core == c)
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
