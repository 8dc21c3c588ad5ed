/* exec_vec.c: the vector unit, spline basis unit, selection unit and matrix-vector units:
 * functional semantics (docs/isa.md), timing (timing.c) and counted actions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"

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
	return x_rshift_round(a * b, s);
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
	uint32_t n = x_vlen(x), i;
	unsigned ty = in->tin, sz = isa_type_size(ty);
	uint8_t *a, *b, *c = NULL;
	if (x_vec(x, R(in->a), n, in->tout, "vector destination", &a) ||
	    x_vec(x, R(in->b), n, ty, "vector source", &b) ||
	    (!scalar && x_vec(x, R(in->c), n, ty, "vector source", &c)))
		return -1;
	for (i = 0; i < n; i++) {
		int64_t bv = x_ld(b + i * sz, ty);
		int64_t cv = scalar ? RS(in->c) : x_ld(c + i * sz, ty);
		x_st(a + i * sz, in->tout, op(bv, cv, in->shift));
	}
	COUNT(HW_ACT_vfu_op, n);
	COUNT(HW_ACT_spad_read_byte, (uint64_t)n * sz * (scalar ? 1 : 2));
	COUNT(HW_ACT_spad_write_byte, (uint64_t)n * sz);
	x->L = t_vfu(&x->s->p, n);
	return 0;
}

int
ex_vadd(X *x)
{
	return vbin(x, op_add, 0);
}
int
ex_vsub(X *x)
{
	return vbin(x, op_sub, 0);
}
int
ex_vmul(X *x)
{
	return vbin(x, op_mul, 0);
}
int
ex_vmax(X *x)
{
	return vbin(x, op_max, 0);
}
int
ex_vmin(X *x)
{
	return vbin(x, op_min, 0);
}
int
ex_vadds(X *x)
{
	return vbin(x, op_add, 1);
}
int
ex_vmuls(X *x)
{
	return vbin(x, op_mul, 1);
}

/* vmap: vA[i] = f(vB[i]) with a conversion from IN to OUT. */
static int
vmap(X *x, int kind)
{
	const Insn *in = x->in;
	uint32_t n = x_vlen(x), i;
	unsigned si = isa_type_size(in->tin), so = isa_type_size(in->tout);
	uint8_t *a, *b, *m = NULL;
	if (x_vec(x, R(in->a), n, in->tout, "vector destination", &a) ||
	    x_vec(x, R(in->b), n, in->tin, "vector source", &b))
		return -1;
	if (kind == OP_vlut) {
		if (in->tin != TY_I8)
			return sim_fault(x->s, x->c, "vlut needs an i8 input");
		if (x_vec(x, R(in->c), 256, in->tout, "lookup table", &m))
			return -1;
	}
	if (kind == OP_vrq && x_vec(x, R(in->c), n, TY_I32, "requantisation multipliers", &m))
		return -1;
	for (i = 0; i < n; i++) {
		int64_t v = x_ld(b + i * si, in->tin), r;
		switch (kind) {
		case OP_vrelu:
			r = v > 0 ? v : 0;
			break;
		case OP_vmov:
			r = v;
			break;
		case OP_vlut:
			r = x_ld(m + (size_t)(v + 128) * so, in->tout);
			break;
		case OP_vrq:
			r = x_rshift_round(v * x_ld(m + i * 4, TY_I32), in->shift);
			break;
		case OP_vrqs:
			r = x_rshift_round(v * (int64_t)RS(in->c), in->shift);
			break;
		default: {
			/* vrecip: round(2^shift / v), half away from zero; 0 gives the maximum. */
			uint64_t num = 1ull << in->shift, den, q;
			if (v == 0) {
				r = x_ty_max[in->tout];
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
		x_st(a + i * so, in->tout, r);
	}
	COUNT(HW_ACT_vfu_op, n);
	COUNT(HW_ACT_spad_read_byte,
	      (uint64_t)n * si + (m ? (uint64_t)n * (kind == OP_vrq ? 4 : so) : 0));
	COUNT(HW_ACT_spad_write_byte, (uint64_t)n * so);
	x->L = kind == 0 ? t_recip(&x->s->p, n) : t_vfu(&x->s->p, n);
	return 0;
}

int
ex_vrelu(X *x)
{
	return vmap(x, OP_vrelu);
}
int
ex_vmov(X *x)
{
	return vmap(x, OP_vmov);
}
int
ex_vlut(X *x)
{
	return vmap(x, OP_vlut);
}
int
ex_vrq(X *x)
{
	return vmap(x, OP_vrq);
}
int
ex_vrqs(X *x)
{
	return vmap(x, OP_vrqs);
}
int
ex_vrecip(X *x)
{
	return vmap(x, 0);
}

int
ex_vfill(X *x)
{
	const Insn *in = x->in;
	uint32_t n = x_vlen(x), i;
	unsigned sz = isa_type_size(in->tout);
	uint8_t *a;
	if (x_vec(x, R(in->a), n, in->tout, "vector destination", &a))
		return -1;
	for (i = 0; i < n; i++)
		x_st(a + i * sz, in->tout, RS(in->c));
	COUNT(HW_ACT_vfu_op, n);
	COUNT(HW_ACT_spad_write_byte, (uint64_t)n * sz);
	x->L = t_vfu(&x->s->p, n);
	return 0;
}

static int
vreduce(X *x, int kind)
{
	const Insn *in = x->in;
	uint32_t n = x_vlen(x), i;
	unsigned sz = isa_type_size(in->tin);
	uint8_t *b, *c = NULL;
	__int128 acc = 0;
	int64_t mx = INT32_MIN;
	if (x_vec(x, R(in->b), n, in->tin, "vector source", &b) ||
	    (kind == OP_vdot && x_vec(x, R(in->c), n, in->tin, "vector source", &c)))
		return -1;
	for (i = 0; i < n; i++) {
		int64_t v = x_ld(b + i * sz, in->tin);
		if (kind == OP_vredmax)
			mx = v > mx ? v : mx;
		else if (kind == OP_vdot)
			acc += (__int128)v * x_ld(c + i * sz, in->tin);
		else
			acc += v;
	}
	if (kind == OP_vredmax)
		x_setr(x, in->a, (int32_t)mx);
	else
		x_setr(x, in->a,
		       (int32_t)(acc > INT32_MAX   ? INT32_MAX
		                 : acc < INT32_MIN ? INT32_MIN
		                                   : acc));
	COUNT(HW_ACT_vfu_op, n);
	COUNT(HW_ACT_spad_read_byte, (uint64_t)n * sz * (c ? 2 : 1));
	x->L = t_vfu_reduce(&x->s->p, n);
	return 0;
}

int
ex_vredsum(X *x)
{
	return vreduce(x, OP_vredsum);
}
int
ex_vredmax(X *x)
{
	return vreduce(x, OP_vredmax);
}
int
ex_vdot(X *x)
{
	return vreduce(x, OP_vdot);
}

int
ex_vmac(X *x)
{
	const Insn *in = x->in;
	uint32_t n = x_vlen(x), i;
	unsigned sz = isa_type_size(in->tin);
	uint8_t *a, *b;
	if (x_vec(x, R(in->a), n, TY_I32, "accumulator", &a) ||
	    x_vec(x, R(in->b), n, in->tin, "vector source", &b))
		return -1;
	for (i = 0; i < n; i++)
		x_st(a + i * 4, TY_I32,
		     x_ld(a + i * 4, TY_I32) + x_ld(b + i * sz, in->tin) * RS(in->c));
	COUNT(HW_ACT_vfu_op, n);
	COUNT(HW_ACT_spad_read_byte, (uint64_t)n * (sz + 4));
	COUNT(HW_ACT_spad_write_byte, (uint64_t)n * 4);
	x->L = t_vfu(&x->s->p, n);
	return 0;
}

/* ---- spline basis unit ---- */

int
ex_sbu(X *x)
{
	const Insn *in = x->in;
	uint32_t n = x_vlen(x), i, d = R(in->c), lut_addr;
	unsigned si = isa_type_size(in->tin), so = isa_type_size(in->tout), sh, k, r;
	uint16_t nb;
	int32_t t0;
	uint32_t reserved;
	uint8_t *a, *b, *lut;
	if (!x->s->p.has_sbu)
		return sim_fault(x->s, x->c, "this architecture's cores have no spline basis unit");
	if (x_spad_check(x, d, 16, 4, "sbu descriptor"))
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
	if (x_vec(x, R(in->a), n * (uint32_t)nb, in->tout, "sbu drive", &a) ||
	    x_vec(x, R(in->b), n, in->tin, "sbu inputs", &b) ||
	    x_vec(x, lut_addr, (1u << sh) * (k + 1), in->tout, "sbu table", &lut))
		return -1;
	if ((uint64_t)n * nb > x->s->p.spad_bytes)
		return sim_fault(x->s, x->c, "sbu drive larger than the scratchpad");
	for (i = 0; i < n; i++) {
		int64_t dx = x_ld(b + i * si, in->tin) - (int64_t)t0;
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
	uint32_t n = x_vlen(x), i, count;
	unsigned sz = isa_type_size(in->tin);
	uint8_t *a, *b;
	Scored *v;
	if (!x->s->p.has_sel)
		return sim_fault(x->s, x->c, "this architecture's cores have no selection unit");
	if (x_vec(x, R(in->a), n, TY_I32, "selection output", &a) ||
	    x_vec(x, R(in->b), n, in->tin, "selection input", &b))
		return -1;
	v = xmalloc((size_t)n * sizeof *v + 1);
	for (i = 0; i < n; i++) {
		v[i].v = x_ld(b + i * sz, in->tin);
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
	x_setr(x, in->e, (int32_t)count);
	COUNT(HW_ACT_sel_op, (uint64_t)n * (ceil_log2(n) > 1 ? ceil_log2(n) : 1));
	COUNT(HW_ACT_spad_read_byte, (uint64_t)n * sz);
	COUNT(HW_ACT_spad_write_byte, (uint64_t)count * 4);
	x->L = t_sel(&x->s->p, n);
	return 0;
}

int
ex_topk(X *x)
{
	return select_common(x, 0);
}
int
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

int
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
	if (x_vec(x, R(in->b), u->rows, in->tin, "mvm input", &xin) ||
	    x_vec(x, R(in->a), u->cols, TY_I32, "mvm output", &out))
		return -1;
	start = unit_start(x, u);
	if (sim_mvm(x->s, x->c, in, u, xin, (int32_t *)(void *)out, x->cnt))
		return -1;
	u->busy_until = start + t_mvm(&x->s->p, u->rows, u->cols, in->nbits);
	x_busy(x, U_MVMU, u->busy_until - start);
	return 0;
}

/* xbw and xbwt: rC vectors from spad rB written as rows (xbw) or columns (xbwt) rA.. of the
 * unit's programmed matrix; one write cycle per vector. */
static int
x_write(X *x, int transpose)
{
	const Insn *in = x->in;
	Mvmu *u = unit(x);
	uint32_t first = R(in->a), n = R(in->c), len, lim, i, j;
	unsigned sz = isa_type_size(in->tin);
	const char *what = transpose ? "columns" : "rows";
	int64_t lo = -(1ll << (x->s->p.weight_bits - 1)),
	        hi = (1ll << (x->s->p.weight_bits - 1)) - 1;
	uint8_t *src;
	uint64_t start;
	if (!u)
		return -1;
	if (!u->programmed)
		return sim_fault(x->s, x->c, "%s on MVMU %u, which has no programmed shape",
		                 isa_info(in->op)->name, in->unit);
	len = transpose ? u->rows : u->cols;
	lim = transpose ? u->cols : u->rows;
	if ((uint64_t)first + n > lim)
		return sim_fault(x->s, x->c, "%s %s [%u, %llu) beyond the %u programmed %s",
		                 isa_info(in->op)->name, what, first, (unsigned long long)first + n,
		                 lim, what);
	if (x_vec(x, R(in->b), n * len, in->tin, "crossbar write source", &src))
		return -1;
	for (i = 0; i < n; i++)
		for (j = 0; j < len; j++) {
			int64_t v = x_ld(src + ((size_t)i * len + j) * sz, in->tin);
			size_t at = transpose ? (size_t)j * u->cols + first + i
			                      : (size_t)(first + i) * u->cols + j;
			if (v < lo || v > hi)
				return sim_fault(
				    x->s, x->c, "%s weight %lld does not fit in %u bits",
				    isa_info(in->op)->name, (long long)v, x->s->p.weight_bits);
			u->w[at] = (int32_t)v;
		}
	start = unit_start(x, u);
	u->busy_until = start + t_xbw(&x->s->p, n);
	x_busy(x, U_MVMU, u->busy_until - start);
	COUNT(transpose ? HW_ACT_xbar_write_col : HW_ACT_xbar_write_row,
	      (uint64_t)n * x->s->p.slices);
	COUNT(HW_ACT_spad_read_byte, (uint64_t)n * len * sz);
	return 0;
}

int
ex_xbw(X *x)
{
	return x_write(x, 0);
}

int
ex_xbwt(X *x)
{
	return x_write(x, 1);
}
