/* exec.c: what each instruction does (scalar unit, load/store, DMA, messages, synchronisation;
 * the vector, spline, selection and matrix units are in exec_vec.c): functional semantics, timing
 * (timing.c) and the actions it counts. The dispatch table is generated from isa.def, so every
 * instruction has a handler. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"

/* busy: account cycles a background unit works, for utilisation. */
void
x_busy(X *x, unsigned unit, uint64_t cycles)
{
	x->s->stats.cores[x->c->tile * x->s->p.cores_per_tile + x->c->idx].unit_busy[unit] +=
	    cycles;
}

/* ---- memory access ---- */

int
x_spad_check(X *x, uint32_t addr, uint64_t len, unsigned align, const char *what)
{
	if ((uint64_t)addr + len > x->s->p.spad_bytes)
		return sim_fault(
		    x->s, x->c, "%s: scratchpad access [0x%x, 0x%llx) out of range (size 0x%x)",
		    what, addr, (unsigned long long)((uint64_t)addr + len), x->s->p.spad_bytes);
	if (align > 1 && addr % align)
		return sim_fault(x->s, x->c, "%s: unaligned %u-byte access at 0x%x", what, align,
		                 addr);
	return 0;
}

const int64_t x_ty_min[TY_COUNT] = {INT8_MIN, INT16_MIN, INT32_MIN};
const int64_t x_ty_max[TY_COUNT] = {INT8_MAX, INT16_MAX, INT32_MAX};

/* Round-half-away-from-zero right shift of an exact product (fits in int64 for 32x32 bits). */
/* A vector operand: n elements of type ty at byte address addr. */
int
x_vec(X *x, uint32_t addr, uint32_t n, unsigned ty, const char *what, uint8_t **p)
{
	unsigned sz = isa_type_size(ty);
	if (x_spad_check(x, addr, (uint64_t)n * sz, sz, what))
		return -1;
	*p = x->c->spad + addr;
	return 0;
}

/* ---- scalar ---- */

int
ex_nop(X *x)
{
	COUNT(HW_ACT_scalar_op, 1);
	return 0;
}

int
ex_halt(X *x)
{
	Core *c = x->c;
	uint64_t t = c->now, u;
	unsigned i;
	for (i = 0; i < x->s->p.mvmus_per_core; i++)
		if (c->mvmu[i].busy_until > t)
			t = c->mvmu[i].busy_until;
	u = x->s->tiles[c->tile].dma_free;
	if (u > t)
		t = u;
	x->L = t - c->now + 1;
	c->state = CORE_HALTED;
	x->next = c->pc;
	return 0;
}

#define ALU3(name, expr)                                                                           \
	int ex_##name(X *x)                                                                        \
	{                                                                                          \
		int32_t b = RS(x->in->b), c = RS(x->in->c);                                        \
		(void)b;                                                                           \
		(void)c;                                                                           \
		x_setr(x, x->in->a, (int32_t)(expr));                                              \
		COUNT(HW_ACT_scalar_op, 1);                                                        \
		COUNT(HW_ACT_regfile_access, 3);                                                   \
		return 0;                                                                          \
	}
#define ALUI(name, expr)                                                                           \
	int ex_##name(X *x)                                                                        \
	{                                                                                          \
		int32_t b = RS(x->in->b), c = x->in->imm;                                          \
		(void)b;                                                                           \
		(void)c;                                                                           \
		x_setr(x, x->in->a, (int32_t)(expr));                                              \
		COUNT(HW_ACT_scalar_op, 1);                                                        \
		COUNT(HW_ACT_regfile_access, 3);                                                   \
		return 0;                                                                          \
	}

ALU3(add, (uint32_t)b + (uint32_t)c)
ALU3(sub, (uint32_t)b - (uint32_t)c)
ALU3(mul, (uint32_t)b *(uint32_t)c)
ALU3(and, b &c)
ALU3(or, b | c)
ALU3(xor, b ^ c)
ALU3(sll, (uint32_t)b << (c & 31))
ALU3(srl, (uint32_t)b >> (c & 31))
ALU3(sra, b >> (c & 31))
ALU3(slt, b < c)
ALU3(min, b < c ? b : c)
ALU3(max, b > c ? b : c)
ALUI(addi, (uint32_t)b + (uint32_t)c)
ALUI(andi, b &c)
ALUI(ori, b | c)
ALUI(xori, b ^ c)
ALUI(slli, (uint32_t)b << (c & 31))
ALUI(srli, (uint32_t)b >> (c & 31))
ALUI(srai, b >> (c & 31))
ALUI(slti, b < c)
ALUI(muli, (uint32_t)b *(uint32_t)c)

static int
load(X *x, unsigned ty)
{
	uint32_t addr = R(x->in->b) + (uint32_t)x->in->imm;
	unsigned sz = isa_type_size(ty);
	if (x_spad_check(x, addr, sz, sz, "load"))
		return -1;
	x_setr(x, x->in->a, (int32_t)x_ld(x->c->spad + addr, ty));
	COUNT(HW_ACT_scalar_op, 1);
	COUNT(HW_ACT_regfile_access, 2);
	COUNT(HW_ACT_spad_read_byte, sz);
	return 0;
}

static int
store(X *x, unsigned ty)
{
	uint32_t addr = R(x->in->b) + (uint32_t)x->in->imm;
	unsigned sz = isa_type_size(ty);
	uint32_t v = R(x->in->a);
	if (x_spad_check(x, addr, sz, sz, "store"))
		return -1;
	memcpy(x->c->spad + addr, &v, sz); /* little-endian host: low bytes first */
	COUNT(HW_ACT_scalar_op, 1);
	COUNT(HW_ACT_regfile_access, 2);
	COUNT(HW_ACT_spad_write_byte, sz);
	return 0;
}

int
ex_lw(X *x)
{
	return load(x, TY_I32);
}
int
ex_lh(X *x)
{
	return load(x, TY_I16);
}
int
ex_lb(X *x)
{
	return load(x, TY_I8);
}
int
ex_sw(X *x)
{
	return store(x, TY_I32);
}
int
ex_sh(X *x)
{
	return store(x, TY_I16);
}
int
ex_sb(X *x)
{
	return store(x, TY_I8);
}

static int
branch(X *x, int taken)
{
	COUNT(HW_ACT_scalar_op, 1);
	COUNT(HW_ACT_regfile_access, 2);
	if (taken) {
		x->next = x->c->pc + (uint32_t)x->in->imm;
		x->L = 1 + BRANCH_PENALTY;
	}
	return 0;
}

int
ex_beq(X *x)
{
	return branch(x, RS(x->in->a) == RS(x->in->b));
}
int
ex_bne(X *x)
{
	return branch(x, RS(x->in->a) != RS(x->in->b));
}
int
ex_blt(X *x)
{
	return branch(x, RS(x->in->a) < RS(x->in->b));
}
int
ex_bge(X *x)
{
	return branch(x, RS(x->in->a) >= RS(x->in->b));
}
int
ex_jmp(X *x)
{
	return branch(x, 1);
}

int
ex_jal(X *x)
{
	x_setr(x, x->in->a, (int32_t)(x->c->pc + 1));
	return branch(x, 1);
}

int
ex_jr(X *x)
{
	COUNT(HW_ACT_scalar_op, 1);
	x->next = R(x->in->b);
	x->L = 1 + BRANCH_PENALTY;
	return 0;
}

int
ex_dbnz(X *x)
{
	int32_t v = (int32_t)(R(x->in->a) - 1u);
	x_setr(x, x->in->a, v);
	return branch(x, v != 0);
}

/* ---- load/store unit, DMA, NoC, sync ---- */

static int
tmem_check(X *x, uint32_t addr, uint64_t len, const char *what)
{
	if ((uint64_t)addr + len > x->s->p.tmem_bytes)
		return sim_fault(
		    x->s, x->c, "%s: tile-memory access [0x%x, 0x%llx) out of range (size 0x%x)",
		    what, addr, (unsigned long long)((uint64_t)addr + len), x->s->p.tmem_bytes);
	return 0;
}

static int
tmem_xfer(X *x, int to_spad)
{
	Sim *s = x->s;
	Tile *t = &s->tiles[x->c->tile];
	uint32_t sa = R(x->in->a), ta = R(x->in->b), n = R(x->in->c);
	uint64_t start, busy;
	if (x_spad_check(x, sa, n, 1, to_spad ? "tld" : "tst") ||
	    tmem_check(x, ta, n, to_spad ? "tld" : "tst"))
		return -1;
	if (to_spad) {
		memcpy(x->c->spad + sa, t->tmem + ta, n);
		COUNT(HW_ACT_tilemem_read_byte, n);
		COUNT(HW_ACT_spad_write_byte, n);
	} else {
		memcpy(t->tmem + ta, x->c->spad + sa, n);
		COUNT(HW_ACT_tilemem_write_byte, n);
		COUNT(HW_ACT_spad_read_byte, n);
	}
	COUNT(HW_ACT_tile_bus_byte, n);
	start = x->c->now > t->port_free ? x->c->now : t->port_free;
	busy = ceil_div_u64(n, s->p.tmem_bytes_per_cycle);
	t->port_free = start + busy;
	x->L = start - x->c->now + s->p.tmem_latency + busy;
	return 0;
}

int
ex_tld(X *x)
{
	return tmem_xfer(x, 1);
}
int
ex_tst(X *x)
{
	return tmem_xfer(x, 0);
}

static int
dram_check(X *x, uint32_t addr, uint64_t len, const char *what)
{
	if ((uint64_t)addr + len > x->s->p.dram_bytes)
		return sim_fault(x->s, x->c,
		                 "%s: DRAM access [0x%x, 0x%llx) out of range (size 0x%llx)", what,
		                 addr, (unsigned long long)((uint64_t)addr + len),
		                 (unsigned long long)x->s->p.dram_bytes);
	return 0;
}

static int
dma(X *x, int load_tile)
{
	Sim *s = x->s;
	Tile *t = &s->tiles[x->c->tile];
	uint32_t ta = R(x->in->a), da = R(x->in->b), n = R(x->in->c);
	uint64_t start, xfer;
	const char *what = load_tile ? "dld" : "dst";
	if (tmem_check(x, ta, n, what) || dram_check(x, da, n, what))
		return -1;
	sim_dram(s, (uint64_t)da + n);
	if (load_tile) {
		memcpy(t->tmem + ta, s->dram + da, n);
		COUNT(HW_ACT_tilemem_write_byte, n);
	} else {
		memcpy(s->dram + da, t->tmem + ta, n);
		COUNT(HW_ACT_tilemem_read_byte, n);
	}
	COUNT(HW_ACT_dram_byte, n);
	start = x->c->now;
	if (t->dma_free > start)
		start = t->dma_free;
	if (s->dram_free > start)
		start = s->dram_free;
	xfer = (uint64_t)ceil((double)n / s->p.dram_bytes_per_cycle);
	s->dram_free = start + xfer;
	t->dma_free = start + xfer + s->p.dram_latency;
	x_busy(x, U_DMA, xfer + s->p.dram_latency);
	return 0;
}

int
ex_dld(X *x)
{
	return dma(x, 1);
}
int
ex_dst(X *x)
{
	return dma(x, 0);
}

int
ex_send(X *x)
{
	Sim *s = x->s;
	Tile *t = &s->tiles[x->c->tile];
	uint32_t src = R(x->in->a), dst = R(x->in->b), n = R(x->in->c);
	uint64_t hops;
	Msg *m, **pp;
	if (x->in->tile >= s->p.tiles)
		return sim_fault(s, x->c, "send to tile %u, but the chip has %u tiles", x->in->tile,
		                 s->p.tiles);
	if (tmem_check(x, src, n, "send"))
		return -1;
	if ((uint64_t)dst + n > s->p.tmem_bytes)
		return sim_fault(
		    s, x->c,
		    "send: destination [0x%x, 0x%llx) outside tile %u's memory (size 0x%x)", dst,
		    (unsigned long long)((uint64_t)dst + n), x->in->tile, s->p.tmem_bytes);
	m = xcalloc(1, sizeof *m);
	m->src_tile = x->c->tile;
	m->dst_tile = x->in->tile;
	m->chan = x->in->chan;
	m->dst_addr = dst;
	m->len = n;
	m->data = xmalloc(n ? n : 1);
	memcpy(m->data, t->tmem + src, n);
	m->deliver = noc_route(s, m->src_tile, m->dst_tile, n, x->c->now + 1, &hops);
	for (pp = &s->tiles[m->dst_tile].inbox; *pp; pp = &(*pp)->next)
		;
	*pp = m;
	COUNT(HW_ACT_tilemem_read_byte, n);
	COUNT(HW_ACT_netbuf_byte, n);
	COUNT(HW_ACT_noc_flit_hop, hops * (1 + ceil_div_u64((uint64_t)n * 8, s->p.noc_link_bits)));
	s->stats.noc_messages++;
	s->stats.noc_flit_hops += hops * (1 + ceil_div_u64((uint64_t)n * 8, s->p.noc_link_bits));
	/* Wake the receivers of that tile: they look at their inbox again. */
	{
		Tile *d = &s->tiles[m->dst_tile];
		uint32_t i;
		for (i = 0; i < s->p.cores_per_tile; i++)
			if (d->cores[i].state == CORE_BLOCKED && d->cores[i].wait_kind == OP_recv)
				sim_wake(s, &d->cores[i]);
	}
	return 0;
}

int
ex_recv(X *x)
{
	Sim *s = x->s;
	Tile *t = &s->tiles[x->c->tile];
	Msg **pp, *m;
	for (pp = &t->inbox; *pp; pp = &(*pp)->next)
		if ((*pp)->src_tile == x->in->tile && (*pp)->chan == x->in->chan)
			break;
	m = *pp;
	if (!m) {
		x->c->state = CORE_BLOCKED;
		x->c->wait_kind = OP_recv;
		x->next = x->c->pc;
		x->L = 0;
		return 0;
	}
	*pp = m->next;
	memcpy(t->tmem + m->dst_addr, m->data, m->len);
	x->c->rx_addr = m->dst_addr;
	x->c->rx_len = m->len;
	COUNT(HW_ACT_tilemem_write_byte, m->len);
	COUNT(HW_ACT_netbuf_byte, m->len);
	if (m->deliver > x->c->now)
		x->L = m->deliver - x->c->now + 1;
	free(m->data);
	free(m);
	return 0;
}

int
ex_bar(X *x)
{
	Sim *s = x->s;
	Tile *t = &s->tiles[x->c->tile];
	uint32_t i, active = 0;
	for (i = 0; i < s->p.cores_per_tile; i++)
		active += t->cores[i].ncode > 0;
	if (t->bar_count == 0)
		t->bar_time = 0;
	if (x->c->now > t->bar_time)
		t->bar_time = x->c->now;
	t->bar_count++;
	if (t->bar_count < active) {
		x->c->state = CORE_BLOCKED;
		x->c->wait_kind = OP_bar;
		x->L = 0; /* the last arrival sets everyone's resume cycle */
		return 0;
	}
	/* Last arrival: release everyone at the latest arrival + 1. */
	for (i = 0; i < s->p.cores_per_tile; i++) {
		Core *o = &t->cores[i];
		if (o->state == CORE_BLOCKED && o->wait_kind == OP_bar) {
			o->now = t->bar_time + 1;
			o->pc++;
			o->icount++;
			o->counts[o->pc_layer[o->pc - 1]].act[HW_ACT_imem_fetch]++;
			s->stats.cores[o->tile * s->p.cores_per_tile + o->idx].by_opcode[OP_bar]++;
			sim_wake(s, o);
		}
	}
	t->bar_count = 0;
	x->L = t->bar_time + 1 - x->c->now;
	return 0;
}

int
ex_wait(X *x)
{
	uint64_t t = x->c->now;
	unsigned i;
	for (i = 0; i < ISA_NMVMU; i++)
		if ((x->in->mask >> i) & 1) {
			if (i >= x->s->p.mvmus_per_core)
				return sim_fault(x->s, x->c,
				                 "wait names MVMU %u, but a core has %u", i,
				                 x->s->p.mvmus_per_core);
			if (x->c->mvmu[i].busy_until > t)
				t = x->c->mvmu[i].busy_until;
		}
	if ((x->in->mask & ISA_WAIT_DMA) && x->s->tiles[x->c->tile].dma_free > t)
		t = x->s->tiles[x->c->tile].dma_free;
	x->L = t - x->c->now + 1;
	return 0;
}

static const ExecFn exec_table[OP_LIMIT] = {
#define ISA_INSN(mn, opc, fmt, unit, flags, sem) [opc] = ex_##mn,
#include "isa.def"
};

int
sim_exec(Sim *s, Core *c)
{
	X x;
	int r;
	uint64_t *span;
	if (c->pc >= c->ncode)
		return sim_fault(s, c, "pc %u is outside the program (%u instructions)", c->pc,
		                 c->ncode);
	span = &c->lspan[2 * (size_t)c->pc_layer[c->pc]];
	x.s = s;
	x.c = c;
	x.in = &c->code[c->pc];
	x.cnt = &c->counts[c->pc_layer[c->pc]];
	x.L = 1;
	x.next = c->pc + 1;
	r = exec_table[x.in->op](&x);
	if (r)
		return r;
	if (c->state == CORE_BLOCKED)
		return 0;
	x.cnt->act[HW_ACT_imem_fetch]++;
	c->icount++;
	s->stats.cores[c->tile * s->p.cores_per_tile + c->idx].by_opcode[x.in->op]++;
	if (!(isa_info(x.in->op)->flags & F_ASYNC))
		s->stats.cores[c->tile * s->p.cores_per_tile + c->idx]
		    .unit_busy[isa_info(x.in->op)->unit] += x.L;
	if (s->trace)
		sim_trace_insn(s, c, x.in, c->now, x.L);
	if (c->now < span[0])
		span[0] = c->now;
	if (c->now + x.L > span[1])
		span[1] = c->now + x.L;
	c->now += x.L;
	if (c->state != CORE_HALTED)
		c->pc = x.next;
	return 0;
}
