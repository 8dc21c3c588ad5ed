/* exec.h: what the instruction handlers share (sim/ only): the per-instruction context, operand
 * access, memory helpers, and one handler per instruction of isa.def (exec.c: scalar, load/store,
 * DMA, messages, synchronisation; exec_vec.c: vector, spline basis, selection, MVMU). */
#ifndef KOLMO_EXEC_H
#define KOLMO_EXEC_H

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

extern const int64_t x_ty_min[TY_COUNT], x_ty_max[TY_COUNT];

/* x_setr: write register rd (r0 ignores writes). x_busy: account a background unit's busy
 * cycles. x_spad_check: fault unless [addr, addr+len) is in the scratchpad and aligned.
 * x_vec: the n elements of type ty at addr (faults like x_spad_check). x_vlen: rD. x_ld/x_st:
 * one element (x_st saturates). x_rshift_round: shift right rounding half away from zero. */
void x_busy(X *x, unsigned unit, uint64_t cycles);
int x_spad_check(X *x, uint32_t addr, uint64_t len, unsigned align, const char *what);
int x_vec(X *x, uint32_t addr, uint32_t n, unsigned ty, const char *what, uint8_t **p);

/* Small hot helpers, inlined in both files. */
static inline void
x_setr(X *x, unsigned rd, int32_t v)
{
	if (rd)
		x->c->r[rd] = v;
}

static inline int64_t
x_ld(const uint8_t *p, unsigned ty)
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

static inline void
x_st(uint8_t *p, unsigned ty, int64_t v)
{
	v = sat_i64(v, x_ty_min[ty], x_ty_max[ty]);
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

static inline int64_t
x_rshift_round(int64_t v, unsigned s)
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

static inline uint32_t
x_vlen(X *x)
{
	return R(x->in->d);
}

#define ISA_INSN(mn, opc, fmt, unit, flags, sem) int ex_##mn(X *x);
#include "isa.def"

#endif
