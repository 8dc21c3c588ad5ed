/* exec.h: what the instruction handlers share (sim/ only): the per-instruction context, operand
 * access, memory helpers, and one handler per instruction of isa.def (exec.c: scalar, load/store,
 * DMA, messages, synchronisation; exec_vec.c: vector, spline basis, selection, MVMU). */
#ifndef KOLMO_EXEC_H
#define KOLMO_EXEC_H

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
void x_setr(X *x, unsigned rd, int32_t v);
void x_busy(X *x, unsigned unit, uint64_t cycles);
int x_spad_check(X *x, uint32_t addr, uint64_t len, unsigned align, const char *what);
int64_t x_ld(const uint8_t *p, unsigned ty);
void x_st(uint8_t *p, unsigned ty, int64_t v);
int64_t x_rshift_round(int64_t v, unsigned s);
int x_vec(X *x, uint32_t addr, uint32_t n, unsigned ty, const char *what, uint8_t **p);
uint32_t x_vlen(X *x);

#define ISA_INSN(mn, opc, fmt, unit, flags, sem) int ex_##mn(X *x);
#include "isa.def"

#endif
