/* exec.c: what each instruction does: functional semantics, timing (timing.c) and the actions it
 * counts. The dispatch table is generated from isa.def, so every instruction has a handler. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "simint.h"

typedef struct X {
	Sim *s;
	Core *c;
	const Insn *in;
	SimCounts *cnt;
	uint64_t L;    /* cycles the core is occupied */
	uint32_t next; /* next pc */
} X;

typedef int (*ExecFn)(X *x);

#define R(n)        ((uint32_t)x->c->r[n])
#define RS(n)       (x->c->r[n])
#define COUNT(a, n) (x->cnt->act[a] += (uint64_t)(n))

static void
setr(X *x, unsigned rd, int32_t v)
{
	if (rd)
		x->c->r[rd] = v;
}

/* busy: account cycles a background unit works, for utilisation. */
static void
busy(X *x, unsigned unit, uint64_t cycles)
{
	x->s->stats.cores[x->c->tile * x->s->p.cores_per_tile + x->c->idx].unit_busy[unit] +=
	    cycles;
}

/* ---- memory access ---- */

static int
spad_check(X *x, uint32_t addr, uint64_t len, unsigned align, const char *what)
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

static int64_t
ld_elem(const uint8_t *p, unsigned ty)
{
	switch (ty) {
	case TY_I8:
		return (int8_t)p[0];
	case TY_I16: {
		int16_t v;
		memcpy(&v, p, 2);
		return v;
	}
	default: {
		int32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	}
}

static const int64_t ty_min[TY_COUNT] = {INT8_MIN, INT16_MIN, INT32_MIN};
static const int64_t ty_max[TY_COUNT] = {INT8_MAX, INT16_MAX, INT32_MAX};

static void
st_elem(uint8_t *p, unsigned ty, int64_t v)
{
	v = sat_i64(v, ty_min[ty], ty_max[ty]);
	switch (ty) {
	case TY_I8:
		p[0] = (uint8_t)(int8_t)v;
		break;
	case TY_I16: {
		int16_t h = (int16_t)v;
		memcpy(p, &h, 2);
		break;
	}
	default: {
		int32_t w = (int32_t)v;
		memcpy(p, &w, 4);
		break;
	}
	}
}

/* Round-half-away-from-zero right shift of an exact product (fits in int64 for 32x32 bits). */
static int64_t
rshift_round(int64_t v, unsigned s)
{
	uint64_t m, h;
	if (s == 0)
		return v;
	if (s > 62)
		return 0;
	h = 1ull << (s - 1);
	if (v >= 0) {
		m = ((uint64_t)v + h) >> s;
		return (int64_t)m;
	}
	m = ((uint64_t)(-(v + 1)) + 1 + h) >> s;
	return -(int64_t)m;
}

/* A vector operand: n elements of type ty at byte address addr. */
static int
vec(X *x, uint32_t addr, uint32_t n, unsigned ty, const char *what, uint8_t **p)
{
	unsigned sz = isa_type_size(ty);
	if (spad_check(x, addr, (uint64_t)n * sz, sz, what))
		return -1;
	*p = x->c->spad + addr;
	return 0;
}

static uint32_t
vlen(X *x)
{
	return R(x->in->d);
}

/* ---- scalar ---- */

static int
ex_nop(X *x)
{
	COUNT(HW_ACT_scalar_op, 1);
	return 0;
}

static int
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
	static int ex_##name(X *x)                                                                 \
	{                                                                                          \
		int32_t b = RS(x->in->b), c = RS(x->in->c);                                        \
		(void)b;                                                                           \
		(void)c;                                                                           \
		setr(x, x->in->a, (int32_t)(expr));                                                \
		COUNT(HW_ACT_scalar_op, 1);                                                        \
		COUNT(HW_ACT_regfile_access, 3);                                                   \
		return 0;                                                                          \
	}
#define ALUI(name, expr)                                                                           \
	static int ex_##name(X *x)                                                                 \
	{                                                                                          \
		int32_t b = RS(x->in->b), c = x->in->imm;                                          \
		(void)b;                                                                           \
		(void)c;                                                                           \
		setr(x, x->in->a, (int32_t)(expr));                                                \
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
	if (spad_check(x, addr, sz, sz, "load"))
		return -1;
	setr(x, x->in->a, (int32_t)ld_elem(x->c->spad + addr, ty));
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
	if (spad_check(x, addr, sz, sz, "store"))
		return -1;
	memcpy(x->c->spad + addr, &v, sz); /* little-endian host: low bytes first */
	COUNT(HW_ACT_scalar_op, 1);
	COUNT(HW_ACT_regfile_access, 2);
	COUNT(HW_ACT_spad_write_byte, sz);
	return 0;
}

static int
ex_lw(X *x)
{
	return load(x, TY_I32);
}
static int
ex_lh(X *x)
{
	return load(x, TY_I16);
}
static int
ex_lb(X *x)
{
	return load(x, TY_I8);
}
static int
ex_sw(X *x)
{
	return store(x, TY_I32);
}
static int
ex_sh(X *x)
{
	return store(x, TY_I16);
}
static int
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

static int
ex_beq(X *x)
{
	return branch(x, RS(x->in->a) == RS(x->in->b));
}
static int
ex_bne(X *x)
{
	return branch(x, RS(x->in->a) != RS(x->in->b));
}
static int
ex_blt(X *x)
{
	return branch(x, RS(x->in->a) < RS(x->in->b));
}
static int
ex_bge(X *x)
{
	return branch(x, RS(x->in->a) >= RS(x->in->b));
}
static int
ex_jmp(X *x)
{
	return branch(x, 1);
}

static int
ex_jal(X *x)
{
	setr(x, x->in->a, (int32_t)(x->c->pc + 1));
	return branch(x, 1);
}

static int
ex_jr(X *x)
{
	COUNT(HW_ACT_scalar_op, 1);
	x->next = R(x->in->b);
	x->L = 1 + BRANCH_PENALTY;
	return 0;
}

static int
ex_dbnz(X *x)
{
	int32_t v = (int32_t)(R(x->in->a) - 1u);
	setr(x, x->in->a, v);
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
	if (spad_check(x, sa, n, 1, to_spad ? "tld" : "tst") ||
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

static int
ex_tld(X *x)
{
	return tmem_xfer(x, 1);
}
static int
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
	busy(x, U_DMA, xfer + s->p.dram_latency);
	return 0;
}

static int
ex_dld(X *x)
{
	return dma(x, 1);
}
static int
ex_dst(X *x)
{
	return dma(x, 0);
}

static int
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

static int
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
	COUNT(HW_ACT_tilemem_write_byte, m->len);
	COUNT(HW_ACT_netbuf_byte, m->len);
	if (m->deliver > x->c->now)
		x->L = m->deliver - x->c->now + 1;
	free(m->data);
	free(m);
	return 0;
}

static int
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

static int
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

/* ---- vector unit ---- */

typedef int64_t (*BinOp)(int64_t a, int64_t b, unsigned s);

static int64_t
op_add(int64_t a, int64_t b, unsigned s)
{
	(void)s;
	return a + b;
}
static int64_t
op_sub(int64_t a, int64_t b, unsigned s)
{
	(void)s;
	return a - b;
}
static int64_t
op_mul(int64_t a, int64_t b, unsigned s)
{
	return rshift_round(a * b, s);
}
static int64_t
op_max(int64_t a, int64_t b, unsigned s)
{
	(void)s;
	return a > b ? a : b;
}
static int64_t
op_min(int64_t a, int64_t b, unsigned s)
{
	(void)s;
	return a < b ? a : b;
}

/* vbin: vA = op(vB, vC or rC) over n elements; same type everywhere except where noted. */
static int
vbin(X *x, BinOp op, int scalar)
{
	const Insn *in = x->in;
	uint32_t n = vlen(x), i;
	unsigned ty = in->tin, sz = isa_type_size(ty);
	uint8_t *a, *b, *c = NULL;
	if (vec(x, R(in->a), n, in->tout, "vector destination", &a) ||
	    vec(x, R(in->b), n, ty, "vector source", &b) ||
	    (!scalar && vec(x, R(in->c), n, ty, "vector source", &c)))
		return -1;
	for (i = 0; i < n; i++) {
		int64_t bv = ld_elem(b + i * sz, ty);
		int64_t cv = scalar ? RS(in->c) : ld_elem(c + i * sz, ty);
		st_elem(a + i * sz, in->tout, op(bv, cv, in->shift));
	}
	COUNT(HW_ACT_vfu_op, n);
	COUNT(HW_ACT_spad_read_byte, (uint64_t)n * sz * (scalar ? 1 : 2));
	COUNT(HW_ACT_spad_write_byte, (uint64_t)n * sz);
	x->L = t_vfu(&x->s->p, n);
	return 0;
}

static int
ex_vadd(X *x)
{
	return vbin(x, op_add, 0);
}
static int
ex_vsub(X *x)
{
	return vbin(x, op_sub, 0);
}
static int
ex_vmul(X *x)
{
	return vbin(x, op_mul, 0);
}
static int
ex_vmax(X *x)
{
	return vbin(x, op_max, 0);
}
static int
ex_vmin(X *x)
{
	return vbin(x, op_min, 0);
}
static int
ex_vadds(X *x)
{
	return vbin(x, op_add, 1);
}
static int
ex_vmuls(X *x)
{
	return vbin(x, op_mul, 1);
}

/* vmap: vA[i] = f(vB[i]) with a conversion from IN to OUT. */
static int
vmap(X *x, int kind)
{
	const Insn *in = x->in;
	uint32_t n = vlen(x), i;
	unsigned si = isa_type_size(in->tin), so = isa_type_size(in->tout);
	uint8_t *a, *b, *m = NULL;
	if (vec(x, R(in->a), n, in->tout, "vector destination", &a) ||
	    vec(x, R(in->b), n, in->tin, "vector source", &b))
		return -1;
	if (kind == OP_vlut) {
		if (in->tin != TY_I8)
			return sim_fault(x->s, x->c, "vlut needs an i8 input");
		if (vec(x, R(in->c), 256, in->tout, "lookup table", &m))
			return -1;
	}
	if (kind == OP_vrq && vec(x, R(in->c), n, TY_I32, "requantisation multipliers", &m))
		return -1;
	for (i = 0; i < n; i++) {
		int64_t v = ld_elem(b + i * si, in->tin), r;
		switch (kind) {
		case OP_vrelu:
			r = v > 0 ? v : 0;
			break;
		case OP_vmov:
			r = v;
			break;
		case OP_vlut:
			r = ld_elem(m + (size_t)(v + 128) * so, in->tout);
			break;
		case OP_vrq:
			r = rshift_round(v * ld_elem(m + i * 4, TY_I32), in->shift);
			break;
		case OP_vrqs:
			r = rshift_round(v * (int64_t)RS(in->c), in->shift);
			break;
		default: {
			/* vrecip: round(2^shift / v), half away from zero; 0 gives the maximum. */
			uint64_t num = 1ull << in->shift, den, q;
			if (v == 0) {
				r = ty_max[in->tout];
				break;
			}
			den = (uint64_t)(v < 0 ? -v : v);
			q = num / den;
			if ((num % den) * 2 >= den)
				q++;
			r = q > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)q;
			if (v < 0)
				r = -r;
			break;
		}
		}
		st_elem(a + i * so, in->tout, r);
	}
	COUNT(HW_ACT_vfu_op, n);
	COUNT(HW_ACT_spad_read_byte,
	      (uint64_t)n * si + (m ? (uint64_t)n * (kind == OP_vrq ? 4 : so) : 0));
	COUNT(HW_ACT_spad_write_byte, (uint64_t)n * so);
	x->L = kind == 0 ? t_recip(&x->s->p, n) : t_vfu(&x->s->p, n);
	return 0;
}

static int
ex_vrelu(X *x)
{
	return vmap(x, OP_vrelu);
}
static int
ex_vmov(X *x)
{
	return vmap(x, OP_vmov);
}
static int
ex_vlut(X *x)
{
	return vmap(x, OP_vlut);
}
static int
ex_vrq(X *x)
{
	return vmap(x, OP_vrq);
}
static int
ex_vrqs(X *x)
{
	return vmap(x, OP_vrqs);
}
static int
ex_vrecip(X *x)
{
	return vmap(x, 0);
}

static int
ex_vfill(X *x)
{
	const Insn *in = x->in;
	uint32_t n = vlen(x), i;
	unsigned sz = isa_type_size(in->tout);
	uint8_t *a;
	if (vec(x, R(in->a), n, in->tout, "vector destination", &a))
		return -1;
	for (i = 0; i < n; i++)
		st_elem(a + i * sz, in->tout, RS(in->c));
	COUNT(HW_ACT_vfu_op, n);
	COUNT(HW_ACT_spad_write_byte, (uint64_t)n * sz);
	x->L = t_vfu(&x->s->p, n);
	return 0;
}

static int
vreduce(X *x, int kind)
{
	const Insn *in = x->in;
	uint32_t n = vlen(x), i;
	unsigned sz = isa_type_size(in->tin);
	uint8_t *b, *c = NULL;
	__int128 acc = 0;
	int64_t mx = INT32_MIN;
	if (vec(x, R(in->b), n, in->tin, "vector source", &b) ||
	    (kind == OP_vdot && vec(x, R(in->c), n, in->tin, "vector source", &c)))
		return -1;
	for (i = 0; i < n; i++) {
		int64_t v = ld_elem(b + i * sz, in->tin);
		if (kind == OP_vredmax)
			mx = v > mx ? v : mx;
		else if (kind == OP_vdot)
			acc += (__int128)v * ld_elem(c + i * sz, in->tin);
		else
			acc += v;
	}
	if (kind == OP_vredmax)
		setr(x, in->a, (int32_t)mx);
	else
		setr(x, in->a,
		     (int32_t)(acc > INT32_MAX   ? INT32_MAX
		               : acc < INT32_MIN ? INT32_MIN
		                                 : acc));
	COUNT(HW_ACT_vfu_op, n);
	COUNT(HW_ACT_spad_read_byte, (uint64_t)n * sz * (c ? 2 : 1));
	x->L = t_vfu_reduce(&x->s->p, n);
	return 0;
}

static int
ex_vredsum(X *x)
{
	return vreduce(x, OP_vredsum);
}
static int
ex_vredmax(X *x)
{
	return vreduce(x, OP_vredmax);
}
static int
ex_vdot(X *x)
{
	return vreduce(x, OP_vdot);
}

static int
ex_vmac(X *x)
{
	const Insn *in = x->in;
	uint32_t n = vlen(x), i;
	unsigned sz = isa_type_size(in->tin);
	uint8_t *a, *b;
	if (vec(x, R(in->a), n, TY_I32, "accumulator", &a) ||
	    vec(x, R(in->b), n, in->tin, "vector source", &b))
		return -1;
	for (i = 0; i < n; i++)
		st_elem(a + i * 4, TY_I32,
		        ld_elem(a + i * 4, TY_I32) + ld_elem(b + i * sz, in->tin) * RS(in->c));
	COUNT(HW_ACT_vfu_op, n);
	COUNT(HW_ACT_spad_read_byte, (uint64_t)n * (sz + 4));
	COUNT(HW_ACT_spad_write_byte, (uint64_t)n * 4);
	x->L = t_vfu(&x->s->p, n);
	return 0;
}

/* ---- spline basis unit ---- */

static int
ex_sbu(X *x)
{
	const Insn *in = x->in;
	uint32_t n = vlen(x), i, d = R(in->c), lut_addr;
	unsigned si = isa_type_size(in->tin), so = isa_type_size(in->tout), sh, k, r;
	uint16_t nb;
	int32_t t0;
	uint32_t reserved;
	uint8_t *a, *b, *lut;
	if (!x->s->p.has_sbu)
		return sim_fault(x->s, x->c, "this architecture's cores have no spline basis unit");
	if (spad_check(x, d, 16, 4, "sbu descriptor"))
		return -1;
	memcpy(&t0, x->c->spad + d, 4);
	sh = x->c->spad[d + 4];
	k = x->c->spad[d + 5];
	memcpy(&nb, x->c->spad + d + 6, 2);
	memcpy(&lut_addr, x->c->spad + d + 8, 4);
	memcpy(&reserved, x->c->spad + d + 12, 4);
	if (reserved != 0 || sh > 16 || k > 15 || nb == 0)
		return sim_fault(
		    x->s, x->c,
		    "sbu descriptor at 0x%x is malformed (sh %u, k %u, nb %u, reserved 0x%x)", d,
		    sh, k, nb, reserved);
	if (vec(x, R(in->a), n * (uint32_t)nb, in->tout, "sbu drive", &a) ||
	    vec(x, R(in->b), n, in->tin, "sbu inputs", &b) ||
	    vec(x, lut_addr, (1u << sh) * (k + 1), in->tout, "sbu table", &lut))
		return -1;
	if ((uint64_t)n * nb > x->s->p.spad_bytes)
		return sim_fault(x->s, x->c, "sbu drive larger than the scratchpad");
	for (i = 0; i < n; i++) {
		int64_t dx = ld_elem(b + i * si, in->tin) - (int64_t)t0;
		uint8_t *seg = a + (size_t)i * nb * so;
		memset(seg, 0, (size_t)nb * so);
		if (dx < 0)
			continue;
		{
			int64_t m = dx >> sh, u = dx & ((1 << sh) - 1);
			for (r = 0; r <= k; r++) {
				int64_t row = m - (int64_t)k + r;
				if (row >= 0 && row < nb)
					memcpy(seg + row * so, lut + ((size_t)u * (k + 1) + r) * so,
					       so);
			}
		}
	}
	COUNT(HW_ACT_sbu_op, (uint64_t)n * (k + 1));
	COUNT(HW_ACT_spad_read_byte, (uint64_t)n * (si + (k + 1) * so) + 16);
	COUNT(HW_ACT_spad_write_byte, (uint64_t)n * nb * so);
	x->L = t_sbu(&x->s->p, n, nb);
	return 0;
}

/* ---- selection unit ---- */

typedef struct Scored {
	int64_t v;
	uint32_t i;
} Scored;

static int
cmp_scored(const void *pa, const void *pb)
{
	const Scored *a = pa, *b = pb;
	if (a->v != b->v)
		return a->v > b->v ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

static int
select_common(X *x, int topp)
{
	const Insn *in = x->in;
	uint32_t n = vlen(x), i, count;
	unsigned sz = isa_type_size(in->tin);
	uint8_t *a, *b;
	Scored *v;
	if (!x->s->p.has_sel)
		return sim_fault(x->s, x->c, "this architecture's cores have no selection unit");
	if (vec(x, R(in->a), n, TY_I32, "selection output", &a) ||
	    vec(x, R(in->b), n, in->tin, "selection input", &b))
		return -1;
	v = xmalloc((size_t)n * sizeof *v + 1);
	for (i = 0; i < n; i++) {
		v[i].v = ld_elem(b + i * sz, in->tin);
		v[i].i = i;
		if (topp && v[i].v < 0) {
			free(v);
			return sim_fault(x->s, x->c, "topp input %u is negative", i);
		}
	}
	qsort(v, n, sizeof *v, cmp_scored);
	if (!topp) {
		int32_t k = RS(in->c);
		if (k < 0) {
			free(v);
			return sim_fault(x->s, x->c, "topk with negative k %d", k);
		}
		count = (uint32_t)k < n ? (uint32_t)k : n;
	} else {
		__int128 total = 0, cdf = 0, tau = RS(in->c);
		for (i = 0; i < n; i++)
			total += v[i].v;
		for (count = 0; count < n; count++) {
			cdf += v[count].v;
			if (cdf * 65536 > tau * total)
				break;
		}
		if (count == 0 && n > 0)
			count = 1;
	}
	for (i = 0; i < count; i++) {
		int32_t idx = (int32_t)v[i].i;
		memcpy(a + i * 4, &idx, 4);
	}
	free(v);
	setr(x, in->e, (int32_t)count);
	COUNT(HW_ACT_sel_op, (uint64_t)n * (ceil_log2(n) > 1 ? ceil_log2(n) : 1));
	COUNT(HW_ACT_spad_read_byte, (uint64_t)n * sz);
	COUNT(HW_ACT_spad_write_byte, (uint64_t)count * 4);
	x->L = t_sel(&x->s->p, n);
	return 0;
}

static int
ex_topk(X *x)
{
	return select_common(x, 0);
}
static int
ex_topp(X *x)
{
	return select_common(x, 1);
}

/* ---- matrix-vector unit ---- */

static Mvmu *
unit(X *x)
{
	if (x->in->unit >= x->s->p.mvmus_per_core) {
		sim_fault(x->s, x->c, "MVMU %u does not exist (a core has %u)", x->in->unit,
		          x->s->p.mvmus_per_core);
		return NULL;
	}
	return &x->c->mvmu[x->in->unit];
}

/* Structural hazard: an instruction for a busy MVMU stalls the core until the unit is free. */
static uint64_t
unit_start(X *x, Mvmu *u)
{
	uint64_t start = x->c->now > u->busy_until ? x->c->now : u->busy_until;
	x->L = start - x->c->now + 1;
	return start;
}

static int
ex_mvm(X *x)
{
	const Insn *in = x->in;
	Mvmu *u = unit(x);
	uint8_t *xin, *out;
	uint64_t start;
	if (!u)
		return -1;
	if (!u->programmed)
		return sim_fault(x->s, x->c, "mvm on MVMU %u, which holds no weights", in->unit);
	if (in->nbits > x->s->p.input_bits)
		return sim_fault(x->s, x->c, "mvm with %u input bits; the MVMU takes at most %u",
		                 in->nbits, x->s->p.input_bits);
	if (vec(x, R(in->b), u->rows, in->tin, "mvm input", &xin) ||
	    vec(x, R(in->a), u->cols, TY_I32, "mvm output", &out))
		return -1;
	start = unit_start(x, u);
	if (sim_mvm(x->s, x->c, in, u, xin, (int32_t *)(void *)out, x->cnt))
		return -1;
	u->busy_until = start + t_mvm(&x->s->p, u->rows, u->cols, in->nbits);
	busy(x, U_MVMU, u->busy_until - start);
	return 0;
}

static int
ex_xbw(X *x)
{
	const Insn *in = x->in;
	Mvmu *u = unit(x);
	uint32_t row = R(in->a), n = R(in->c), r, j;
	unsigned sz = isa_type_size(in->tin);
	int64_t lo = -(1ll << (x->s->p.weight_bits - 1)),
	        hi = (1ll << (x->s->p.weight_bits - 1)) - 1;
	uint8_t *src;
	uint64_t start;
	if (!u)
		return -1;
	if (!u->programmed)
		return sim_fault(x->s, x->c, "xbw on MVMU %u, which has no programmed shape",
		                 in->unit);
	if ((uint64_t)row + n > u->rows)
		return sim_fault(x->s, x->c, "xbw rows [%u, %llu) beyond the %u programmed rows",
		                 row, (unsigned long long)row + n, u->rows);
	if (vec(x, R(in->b), n * u->cols, in->tin, "xbw source", &src))
		return -1;
	for (r = 0; r < n; r++)
		for (j = 0; j < u->cols; j++) {
			int64_t v = ld_elem(src + ((size_t)r * u->cols + j) * sz, in->tin);
			if (v < lo || v > hi)
				return sim_fault(x->s, x->c,
				                 "xbw weight %lld does not fit in %u bits",
				                 (long long)v, x->s->p.weight_bits);
			u->w[(size_t)(row + r) * u->cols + j] = (int32_t)v;
		}
	start = unit_start(x, u);
	u->busy_until = start + t_xbw(&x->s->p, n);
	busy(x, U_MVMU, u->busy_until - start);
	COUNT(HW_ACT_xbar_write_row, (uint64_t)n * x->s->p.slices);
	COUNT(HW_ACT_spad_read_byte, (uint64_t)n * u->cols * sz);
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
	if (c->pc >= c->ncode)
		return sim_fault(s, c, "pc %u is outside the program (%u instructions)", c->pc,
		                 c->ncode);
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
	c->now += x.L;
	if (c->state != CORE_HALTED)
		c->pc = x.next;
	return 0;
}
