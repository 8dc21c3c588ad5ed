/* randprog.c: constrained-random single-core programs for co-simulation, driven by the ISA table.
 *
 * A program is a list of blocks; each block sets the address and count registers it needs with
 * addi right before its instruction, so every operand is legal by construction whatever ran
 * before. The scratchpad is laid out in regions (docs/rtl.md):
 *   VA   vector area: random data; every vector, scalar, tld/tst, SBU and SEL result goes here
 *   IN   MVM inputs (read only): a narrow i8 copy (values fit min(4, input_bits) bits with zeros
 * for row gating), and i16 / i32 copies whose values fit input_bits XS   xbw sources (read only):
 * weights that fit weight_bits SL   topp inputs (read only): non-negative values with ties, as i8,
 * i16 and i32 SB   SBU descriptor and its table (read only) OUT  one i32 output vector per MVMU,
 * written only by mvm (read by mvm ... acc) Hazards the ISA leaves to the program are avoided:
 * results of mvm are never read by other instructions; DMA uses its own half of the tile memory,
 * which tld reads only after a wait; at most 8 DMA transfers are in flight. Loops are dbnz loops
 * with a constant trip count over blocks that do not touch the counter; other branches jump forward
 * over whole blocks. */
#include <stdlib.h>
#include <string.h>

#include "rtl.h"

enum { REG_A1 = 1, REG_A2 = 2, REG_A3 = 3, REG_N = 4, REG_D0 = 16, REG_DN = 12, REG_LOOP = 28 };
enum { REG_LINK = 29, REG_JR = 30, MAXR = 16, MAXC = 16, XBW_ROWS = 4 };

typedef struct Fix {
	uint32_t pc;    /* instruction to patch */
	uint32_t block; /* target block */
	int absolute;   /* 1: imm = the block's pc (addi for jr); 0: pc-relative branch */
} Fix;

typedef struct Gen {
	const HwArch *a;
	uint64_t rng;
	uint64_t *code;
	uint32_t n, cap;
	uint32_t *block_pc;
	uint32_t nblocks, block_cap;
	Fix *fix;
	uint32_t nfix, fix_cap;
	/* layout */
	uint32_t va, va_size, in8, in16, in32, xs, sl8, sl16, sl32, sbd, sblut, out;
	uint32_t spad;
	int xs_ty;
	uint32_t urows[16], ucols[16];
	int units;
	int dma_inflight;
	uint32_t tm_half, dram_span;
	int in_loop;
	int skip_left; /* top-level blocks that a forward branch may skip */
} Gen;

static uint64_t
rnd(Gen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* uniform in [lo, hi] */
static int64_t
range(Gen *g, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd(g) % (uint64_t)(hi - lo + 1));
}

static int
chance(Gen *g, unsigned pct)
{
	return rnd(g) % 100 < pct;
}

static void
emit(Gen *g, const Insn *in)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 256;
		g->code = xrealloc(g->code, g->cap * sizeof *g->code);
	}
	g->code[g->n++] = isa_encode(in);
}

static Insn
mk(int op)
{
	Insn in;
	memset(&in, 0, sizeof in);
	in.op = (uint8_t)op;
	return in;
}

static void
li(Gen *g, int rd, int64_t v)
{
	Insn in = mk(OP_addi);
	in.a = (uint8_t)rd;
	in.imm = (int32_t)v;
	emit(g, &in);
}

static void
begin_block(Gen *g)
{
	if (g->nblocks == g->block_cap) {
		g->block_cap = g->block_cap ? 2 * g->block_cap : 64;
		g->block_pc = xrealloc(g->block_pc, g->block_cap * sizeof *g->block_pc);
	}
	g->block_pc[g->nblocks++] = g->n;
}

static void
add_fix(Gen *g, uint32_t block, int absolute)
{
	if (g->nfix == g->fix_cap) {
		g->fix_cap = g->fix_cap ? 2 * g->fix_cap : 32;
		g->fix = xrealloc(g->fix, g->fix_cap * sizeof *g->fix);
	}
	g->fix[g->nfix].pc = g->n;
	g->fix[g->nfix].block = block;
	g->fix[g->nfix].absolute = absolute;
	g->nfix++;
}

static int
dreg(Gen *g)
{
	return REG_D0 + (int)(rnd(g) % REG_DN);
}

static int
dreg0(Gen *g)
{
	return chance(g, 10) ? 0 : dreg(g);
}

static unsigned
rty(Gen *g)
{
	return (unsigned)(rnd(g) % TY_COUNT);
}

/* A random vector of n elements of size sz inside the vector area: its address. */
static uint32_t
vaddr(Gen *g, uint32_t n, unsigned sz)
{
	uint32_t span = n * sz, slots;
	if (span >= g->va_size)
		return g->va;
	slots = (g->va_size - span) / sz + 1;
	return g->va + (uint32_t)(rnd(g) % slots) * sz;
}

static uint32_t
vcount(Gen *g)
{
	uint32_t m = g->va_size / 8 < 48 ? g->va_size / 8 : 48;
	return chance(g, 5) ? 0 : (uint32_t)range(g, 1, m);
}

/* ---- blocks ---- */

static void
blk_scalar(Gen *g)
{
	static const int ops[] = {OP_add, OP_sub,  OP_mul,  OP_and,  OP_or,   OP_xor,  OP_sll,
	                          OP_srl, OP_sra,  OP_slt,  OP_min,  OP_max,  OP_addi, OP_andi,
	                          OP_ori, OP_xori, OP_slli, OP_srli, OP_srai, OP_slti, OP_muli};
	Insn in = mk(ops[rnd(g) % (sizeof ops / sizeof *ops)]);
	in.a = (uint8_t)dreg(g);
	in.b = (uint8_t)dreg0(g);
	if (isa_info(in.op)->fmt == FMT_RI)
		in.imm = chance(g, 50) ? (int32_t)range(g, -64, 64) : (int32_t)(uint32_t)rnd(g);
	else
		in.c = (uint8_t)dreg0(g);
	emit(g, &in);
}

static void
blk_loadstore(Gen *g)
{
	static const int ops[] = {OP_lw, OP_lh, OP_lb, OP_sw, OP_sh, OP_sb};
	int op = ops[rnd(g) % 6];
	unsigned sz = op == OP_lw || op == OP_sw ? 4 : op == OP_lh || op == OP_sh ? 2 : 1;
	uint32_t addr = vaddr(g, 1, sz), base = addr & ~63u;
	Insn in = mk(op);
	if (base < g->va)
		base = g->va;
	li(g, REG_A1, base);
	in.a = (uint8_t)dreg(g);
	in.b = REG_A1;
	in.imm = (int32_t)(addr - base);
	emit(g, &in);
}

static void
blk_vector(Gen *g)
{
	static const int ops[] = {OP_vadd,  OP_vsub,   OP_vmul,    OP_vmax,    OP_vmin, OP_vadds,
	                          OP_vmuls, OP_vrelu,  OP_vmov,    OP_vlut,    OP_vrq,  OP_vrqs,
	                          OP_vfill, OP_vrecip, OP_vredsum, OP_vredmax, OP_vdot, OP_vmac};
	int op = ops[rnd(g) % (sizeof ops / sizeof *ops)];
	unsigned fmt = isa_info((unsigned)op)->fmt;
	uint32_t n = vcount(g);
	Insn in = mk(op);
	const char *pat = isa_fmts[fmt].operands;
	in.tin = (uint8_t)rty(g);
	in.tout = strchr(pat, 'T') ? (uint8_t)rty(g) : in.tin;
	if (op == OP_vlut)
		in.tin = TY_I8;
	in.shift =
	    strchr(pat, 's') ? (uint8_t)(chance(g, 70) ? range(g, 0, 16) : range(g, 0, 63)) : 0;
	li(g, REG_N, n);
	in.d = REG_N;
	in.a = REG_A1;
	in.b = REG_A2;
	in.c = REG_A3;
	switch (op) {
	case OP_vredsum:
	case OP_vredmax:
	case OP_vdot:
		in.a = (uint8_t)dreg(g);
		li(g, REG_A2, vaddr(g, n, isa_type_size(in.tin)));
		if (op == OP_vdot)
			li(g, REG_A3, vaddr(g, n, isa_type_size(in.tin)));
		break;
	case OP_vmac:
		li(g, REG_A1, vaddr(g, n, 4));
		li(g, REG_A2, vaddr(g, n, isa_type_size(in.tin)));
		in.c = (uint8_t)dreg0(g);
		break;
	case OP_vadds:
	case OP_vmuls:
	case OP_vrqs:
	case OP_vfill:
		li(g, REG_A1, vaddr(g, n, isa_type_size(in.tout)));
		li(g, REG_A2, vaddr(g, n, isa_type_size(in.tin)));
		in.c = (uint8_t)dreg0(g);
		if (op == OP_vfill)
			in.b = 0;
		break;
	default:
		li(g, REG_A1, vaddr(g, n, isa_type_size(in.tout)));
		li(g, REG_A2, vaddr(g, n, isa_type_size(in.tin)));
		if (op == OP_vlut)
			li(g, REG_A3, vaddr(g, 256, isa_type_size(in.tout)));
		else if (op == OP_vrq)
			li(g, REG_A3, vaddr(g, n, 4));
		else if (strchr(pat, 'c'))
			li(g, REG_A3, vaddr(g, n, isa_type_size(in.tin)));
		else
			in.c = 0;
		break;
	}
	/* operands the format does not have stay zero */
	if (!strchr(pat, 'b'))
		in.b = 0;
	if (!strchr(pat, 'c'))
		in.c = 0;
	emit(g, &in);
}

static void
blk_sel(Gen *g)
{
	int topp = chance(g, 50);
	Insn in = mk(topp ? OP_topp : OP_topk);
	uint32_t n = (uint32_t)range(g, 0, 24);
	in.tin = in.tout = (uint8_t)rty(g);
	if (topp)
		li(g, REG_A2, in.tin == TY_I8 ? g->sl8 : in.tin == TY_I16 ? g->sl16 : g->sl32);
	else
		li(g, REG_A2, vaddr(g, n, isa_type_size(in.tin)));
	li(g, REG_A1, vaddr(g, n, 4));
	li(g, REG_A3, topp ? range(g, 0, 70000) : range(g, 0, 30));
	li(g, REG_N, n);
	in.a = REG_A1;
	in.b = REG_A2;
	in.c = REG_A3;
	in.d = REG_N;
	in.e = (uint8_t)dreg0(g);
	emit(g, &in);
}

static void
blk_sbu(Gen *g)
{
	Insn in = mk(OP_sbu);
	uint32_t n = (uint32_t)range(g, 0, 6), nb = 9; /* the descriptor's G + k */
	in.tin = (uint8_t)rty(g);
	in.tout = (uint8_t)g->xs_ty; /* the descriptor's table is of this type */
	li(g, REG_A1, vaddr(g, n * nb, isa_type_size(in.tout)));
	li(g, REG_A2, vaddr(g, n, isa_type_size(in.tin)));
	li(g, REG_A3, g->sbd);
	li(g, REG_N, n);
	in.a = REG_A1;
	in.b = REG_A2;
	in.c = REG_A3;
	in.d = REG_N;
	emit(g, &in);
}

static void
blk_mvm(Gen *g)
{
	int u = (int)(rnd(g) % (unsigned)g->units);
	int ib = g->a->mvmu.input_bits, narrow = chance(g, 40);
	Insn in = mk(OP_mvm);
	if (narrow) {
		in.tin = TY_I8;
		in.nbits = (uint8_t)range(g, ib < 4 ? ib : 4, ib);
		li(g, REG_A2, g->in8);
	} else {
		in.tin = chance(g, 50) ? TY_I16 : TY_I32;
		in.nbits = (uint8_t)ib;
		li(g, REG_A2, in.tin == TY_I16 ? g->in16 : g->in32);
	}
	in.tout = in.tin;
	li(g, REG_A1, g->out + (uint32_t)u * MAXC * 4);
	in.a = REG_A1;
	in.b = REG_A2;
	in.unit = (uint8_t)u;
	in.acc = (uint8_t)chance(g, 30);
	in.gate = (uint8_t)chance(g, 50);
	emit(g, &in);
}

static void
blk_xbw(Gen *g)
{
	int u = (int)(rnd(g) % (unsigned)g->units);
	int tr = chance(g, 50); /* xbwt writes columns, xbw rows */
	uint32_t lim = tr ? g->ucols[u] : g->urows[u];
	uint32_t n = (uint32_t)range(g, 0, lim < XBW_ROWS ? lim : XBW_ROWS);
	Insn in = mk(tr ? OP_xbwt : OP_xbw);
	in.tin = in.tout = (uint8_t)g->xs_ty;
	li(g, REG_A1, range(g, 0, lim - n));
	li(g, REG_A2, g->xs);
	li(g, REG_A3, n);
	in.a = REG_A1;
	in.b = REG_A2;
	in.c = REG_A3;
	in.unit = (uint8_t)u;
	emit(g, &in);
}

static void
blk_wait(Gen *g, uint32_t mask)
{
	Insn in = mk(OP_wait);
	in.mask = mask;
	emit(g, &in);
	if ((mask & ISA_WAIT_DMA) && g->skip_left == 0)
		g->dma_inflight = 0;
}

static void
blk_tmem(Gen *g)
{
	int tst = chance(g, 50), from_dma = !tst && chance(g, 30);
	uint32_t n = (uint32_t)range(g, 0, 128), span = g->tm_half - n;
	uint32_t ta = (uint32_t)range(g, 0, span) + (from_dma ? g->tm_half : 0);
	Insn in = mk(tst ? OP_tst : OP_tld);
	if (from_dma)
		blk_wait(g, ISA_WAIT_DMA);
	li(g, REG_A1, vaddr(g, n, 1));
	li(g, REG_A2, ta);
	li(g, REG_A3, n);
	in.a = REG_A1;
	in.b = REG_A2;
	in.c = REG_A3;
	emit(g, &in);
}

static void
blk_dma(Gen *g)
{
	Insn in = mk(chance(g, 50) ? OP_dld : OP_dst);
	uint32_t n = (uint32_t)range(g, 0, 256 < g->tm_half ? 256 : g->tm_half);
	if (g->dma_inflight >= 8)
		blk_wait(g, ISA_WAIT_DMA);
	li(g, REG_A1, g->tm_half + (uint32_t)range(g, 0, g->tm_half - n));
	li(g, REG_A2, range(g, 0, g->dram_span - n));
	li(g, REG_A3, n);
	in.a = REG_A1;
	in.b = REG_A2;
	in.c = REG_A3;
	emit(g, &in);
	g->dma_inflight += g->in_loop ? 4 : 1; /* a loop runs its body up to 4 times */
}

static void blk_any(Gen *g, int depth);

/* A dbnz loop over a few blocks. */
static void
blk_loop(Gen *g, int depth)
{
	uint32_t top, i, nb = (uint32_t)range(g, 1, 3);
	Insn in = mk(OP_dbnz);
	li(g, REG_LOOP, range(g, 1, 4));
	top = g->n;
	g->in_loop = 1;
	for (i = 0; i < nb; i++)
		blk_any(g, depth + 1);
	g->in_loop = 0;
	in.a = REG_LOOP;
	in.imm = (int32_t)top - (int32_t)g->n;
	emit(g, &in);
}

/* A forward branch over the next 1..2 blocks (fixed up once they exist). */
static void
blk_branch(Gen *g)
{
	static const int ops[] = {OP_beq, OP_bne, OP_blt, OP_bge, OP_jmp, OP_jal, OP_jr};
	int op = ops[rnd(g) % 7];
	uint32_t target = g->nblocks + (uint32_t)range(g, 1, 2);
	Insn in = mk(op);
	if (op == OP_jr) {
		add_fix(g, target, 1);
		li(g, REG_JR, 0);
		in.b = REG_JR;
		emit(g, &in);
		g->skip_left = 3;
		return;
	}
	in.a = (uint8_t)(op == OP_jal ? REG_LINK : dreg0(g));
	in.b = (uint8_t)dreg0(g);
	if (op == OP_jmp)
		in.a = in.b = 0;
	if (op == OP_jal)
		in.b = 0;
	add_fix(g, target, 0);
	emit(g, &in);
	g->skip_left = 3;
}

static void
blk_any(Gen *g, int depth)
{
	unsigned k = (unsigned)(rnd(g) % 100);
	if (depth == 0) { /* branch targets: top-level blocks only (never inside a loop) */
		begin_block(g);
		if (g->skip_left)
			g->skip_left--;
	}
	if (k < 22)
		blk_scalar(g);
	else if (k < 30)
		blk_loadstore(g);
	else if (k < 52)
		blk_vector(g);
	else if (k < 60 && g->units)
		blk_mvm(g);
	else if (k < 63 && g->units)
		blk_xbw(g);
	else if (k < 68)
		blk_wait(g, (uint32_t)(rnd(g) & (((1u << g->a->core.mvmus) - 1) | ISA_WAIT_DMA)));
	else if (k < 73 && g->a->core.has_sel)
		blk_sel(g);
	else if (k < 77 && g->a->core.has_sbu)
		blk_sbu(g);
	else if (k < 82)
		blk_tmem(g);
	else if (k < 86)
		blk_dma(g);
	else if (k < 91 && depth == 0 && !g->in_loop)
		blk_loop(g, depth);
	else if (k < 96 && depth == 0 && !g->in_loop)
		blk_branch(g);
	else {
		Insn in = mk(chance(g, 50) ? OP_nop : OP_bar);
		emit(g, &in);
	}
}

/* ---- data ---- */

static void
put(uint8_t *img, uint32_t addr, unsigned ty, int64_t v)
{
	int16_t h = (int16_t)v;
	int32_t w = (int32_t)v;
	if (ty == TY_I8)
		img[addr] = (uint8_t)(int8_t)v;
	else if (ty == TY_I16)
		memcpy(img + addr, &h, 2);
	else
		memcpy(img + addr, &w, 4);
}

static int
layout(Gen *g)
{
	uint32_t at = 0, u;
	g->spad = (uint32_t)g->a->core.spad_bytes;
#define TAKE(field, bytes)                                                                         \
	do {                                                                                       \
		g->field = at;                                                                     \
		at += ((uint32_t)(bytes) + 15u) & ~15u;                                            \
	} while (0)
	TAKE(in8, MAXR);
	TAKE(in16, MAXR * 2);
	TAKE(in32, MAXR * 4);
	TAKE(xs, XBW_ROWS * MAXC * 2);
	TAKE(sl8, 24);
	TAKE(sl16, 48);
	TAKE(sl32, 96);
	TAKE(sbd, 16);
	TAKE(sblut, 16 * 4 * 4);
	TAKE(out, (uint32_t)g->units * MAXC * 4);
#undef TAKE
	if (at + 1024 > g->spad)
		return -1;
	g->va = at;
	g->va_size = g->spad - at < 4096 ? g->spad - at : 4096;
	for (u = 0; u < (uint32_t)g->units; u++) {
		g->urows[u] =
		    (uint32_t)range(g, 1, g->a->mvmu.rows < MAXR ? g->a->mvmu.rows : MAXR);
		g->ucols[u] =
		    (uint32_t)range(g, 1, g->a->mvmu.cols < MAXC ? g->a->mvmu.cols : MAXC);
	}
	g->tm_half = (uint32_t)(g->a->tile.mem_bytes < 8192 ? g->a->tile.mem_bytes : 8192) / 2;
	g->dram_span = (uint32_t)(g->a->dram.size_bytes < 16384 ? g->a->dram.size_bytes : 16384);
	return 0;
}

static void
fill_data(Gen *g, KProg *p, KCore *kc)
{
	uint8_t *img = xcalloc(g->va + g->va_size, 1);
	uint32_t i, u, r, j, k = 3, sh = 2;
	int ib = g->a->mvmu.input_bits, wb = g->a->mvmu.weight_bits, nib = ib < 4 ? ib : 4;
	int64_t wlo = -(1ll << (wb - 1)), whi = (1ll << (wb - 1)) - 1;
	uint8_t *tm;
	for (i = g->va; i < g->va + g->va_size; i++)
		img[i] = (uint8_t)rnd(g);
	for (i = 0; i < MAXR; i++) {
		int64_t vn =
		    chance(g, 30) ? 0 : range(g, -(1ll << (nib - 1)), (1ll << (nib - 1)) - 1);
		int64_t vf =
		    chance(g, 30) ? 0 : range(g, -(1ll << (ib - 1)), (1ll << (ib - 1)) - 1);
		put(img, g->in8 + i, TY_I8, vn);
		put(img, g->in16 + 2 * i, TY_I16, vf);
		put(img, g->in32 + 4 * i, TY_I32, vf);
	}
	g->xs_ty = wb <= 8 ? TY_I8 : TY_I16;
	for (i = 0; i < XBW_ROWS * MAXC; i++)
		put(img, g->xs + i * isa_type_size((unsigned)g->xs_ty), (unsigned)g->xs_ty,
		    range(g, wlo, whi));
	for (i = 0; i < 24; i++) {
		int64_t v = range(g, 0, 20) * (chance(g, 20) ? 0 : 1);
		put(img, g->sl8 + i, TY_I8, v);
		put(img, g->sl16 + 2 * i, TY_I16, v * 300);
		put(img, g->sl32 + 4 * i, TY_I32, v * 100000);
	}
	/* SBU descriptor: t0, sh, k, nb = G + k = 9, lut */
	{
		int32_t t0 = (int32_t)range(g, -40, 0);
		uint16_t nb = 9;
		uint32_t lut = g->sblut, zero = 0;
		memcpy(img + g->sbd, &t0, 4);
		img[g->sbd + 4] = (uint8_t)sh;
		img[g->sbd + 5] = (uint8_t)k;
		memcpy(img + g->sbd + 6, &nb, 2);
		memcpy(img + g->sbd + 8, &lut, 4);
		memcpy(img + g->sbd + 12, &zero, 4);
		for (i = 0; i < (1u << sh) * (k + 1); i++)
			put(img, g->sblut + i * isa_type_size((unsigned)g->xs_ty),
			    (unsigned)g->xs_ty, range(g, -100, 100));
	}
	kprog_add_spad(kc, 0, img, g->va + g->va_size);
	free(img);
	for (u = 0; u < (uint32_t)g->units; u++) {
		int32_t *w = xmalloc(g->urows[u] * g->ucols[u] * sizeof *w);
		for (r = 0; r < g->urows[u]; r++)
			for (j = 0; j < g->ucols[u]; j++)
				w[r * g->ucols[u] + j] = (int32_t)range(g, wlo, whi);
		kprog_add_xbar(kc, u, g->urows[u], g->ucols[u], (uint32_t)wb, w);
		free(w);
	}
	tm = xmalloc(2 * g->tm_half);
	for (i = 0; i < 2 * g->tm_half; i++)
		tm[i] = (uint8_t)rnd(g);
	kprog_add_tmem(p, 0, 0, tm, 2 * g->tm_half);
	free(tm);
	tm = xmalloc(g->dram_span);
	for (i = 0; i < g->dram_span; i++)
		tm[i] = (uint8_t)rnd(g);
	kprog_add_dram(p, 0, tm, g->dram_span);
	free(tm);
}

KProg *
rtl_randprog(const HwArch *arch, uint64_t seed, unsigned ninsns)
{
	Gen g;
	KProg *p;
	KCore *kc;
	uint32_t i, r;
	Insn halt = mk(OP_halt);
	memset(&g, 0, sizeof g);
	g.a = arch;
	g.rng = seed * 0x2545f4914f6cdd1dull + 1;
	g.units = arch->core.mvmus < 16 ? arch->core.mvmus : 16;
	if (layout(&g))
		return NULL;
	p = kprog_new();
	kc = kprog_core(p, 0, 0);
	fill_data(&g, p, kc);
	/* scalar registers start with random values */
	begin_block(&g);
	for (r = 0; r < REG_DN; r++)
		li(&g, REG_D0 + (int)r, (int64_t)(int32_t)(uint32_t)rnd(&g));
	while (g.n < ninsns && g.n + 64 < (uint32_t)arch->core.imem_words)
		blk_any(&g, 0);
	/* targets beyond the last block land on the final halt */
	begin_block(&g);
	begin_block(&g);
	begin_block(&g);
	emit(&g, &halt);
	for (i = 0; i < g.nfix; i++) {
		uint32_t t = g.fix[i].block < g.nblocks ? g.block_pc[g.fix[i].block] : g.n - 1;
		Insn in;
		isa_decode(g.code[g.fix[i].pc], &in);
		in.imm = g.fix[i].absolute ? (int32_t)t : (int32_t)t - (int32_t)g.fix[i].pc;
		g.code[g.fix[i].pc] = isa_encode(&in);
	}
	kprog_add_code(kc, g.code, g.n);
	free(g.code);
	free(g.block_pc);
	free(g.fix);
	return p;
}
