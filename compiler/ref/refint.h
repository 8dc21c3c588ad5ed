/* refint.h: internals of the LLVM golden reference (compiler/ref/): the IR-building context,
 * loop helpers and the JIT. Only compiler/ref/ includes this header. */
#ifndef KOLMO_REFINT_H
#define KOLMO_REFINT_H

#include <llvm-c/Core.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>

#include "isa.h"
#include "ref.h"

/* The IR-building context: one module in one thread-safe context, one builder. */
typedef struct Cg {
	LLVMOrcThreadSafeContextRef tsc;
	LLVMContextRef ctx;
	LLVMModuleRef mod;
	LLVMBuilderRef b;
	LLVMValueRef fn; /* the function being built */
	LLVMTypeRef vd, i1, i8, i32, i64, f32;
	LLVMTypeRef p8, p32, p64, pf32, pp8, ppf32; /* pointers to those */
} Cg;

/* A counted loop `for (iv = lo; iv < hi; iv++)` over i64. */
typedef struct CgLoop {
	LLVMValueRef iv;
	LLVMBasicBlockRef head, exit;
} CgLoop;

struct RefModel {
	int quantized;
	LLVMOrcLLJITRef jit;
	char *ir_text; /* the module before optimisation */
	uint32_t nin, nout;
	RefIo *in, *out;
	uint32_t *in_tid, *out_tid; /* float: the graph tensors of the inputs and outputs */
	/* float: one pointer per graph tensor plus the extra buffers (knots, scratch) */
	Graph *g;
	float **bufs;
	uint32_t nbufs;
	float **owned; /* buffers this model allocated (values, knots, scratch) */
	uint32_t nowned;
	void (*ffn)(float **);
	/* quantised: parameter pointers (tables, weights, scratch) */
	const CcModel *m;
	void **params;
	uint32_t nparams;
	void **qowned;
	uint32_t nqowned;
	void (*qfn)(const int32_t *, int32_t *, void **);
};

void cg_init(Cg *c, const char *name);
/* cg_func: add a function with the given signature and position the builder in its entry. */
LLVMValueRef cg_func(Cg *c, const char *name, LLVMTypeRef ret, LLVMTypeRef *params,
                     unsigned nparams, int internal);
LLVMValueRef cg_i64(Cg *c, int64_t v);
LLVMValueRef cg_i32(Cg *c, int32_t v);
LLVMValueRef cg_f32(Cg *c, double v);
/* cg_var: a stack slot in the entry block of the current function (promoted to a register). */
LLVMValueRef cg_var(Cg *c, LLVMTypeRef ty, const char *name);
LLVMValueRef cg_array(Cg *c, LLVMTypeRef elem, uint32_t n, const char *name);
LLVMValueRef cg_load(Cg *c, LLVMTypeRef ty, LLVMValueRef ptr);
LLVMValueRef cg_at(Cg *c, LLVMTypeRef elem, LLVMValueRef base, LLVMValueRef idx);
LLVMValueRef cg_ld(Cg *c, LLVMTypeRef elem, LLVMValueRef base, LLVMValueRef idx);
void cg_st(Cg *c, LLVMTypeRef elem, LLVMValueRef base, LLVMValueRef idx, LLVMValueRef v);
LLVMValueRef cg_add(Cg *c, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_mul(Cg *c, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_loop_begin(Cg *c, CgLoop *l, LLVMValueRef lo, LLVMValueRef hi);
void cg_loop_end(Cg *c, CgLoop *l);
/* cg_param: pointer parameter i of the array `arr` (void **), cast to type ty. */
LLVMValueRef cg_param(Cg *c, LLVMValueRef arr, uint32_t i, LLVMTypeRef ty);

/* cg_finish: verify, optimise (O2), JIT-compile the module and look `sym` up. The context is
 * consumed. Returns 0 or -1 with d. */
int cg_finish(Cg *c, RefModel *r, const char *sym, uint64_t *addr, Diag *d);
void cg_abort(Cg *c);

/* ---- integer building blocks (intops.c): i64 values ---- */
LLVMValueRef ci_sel(Cg *c, LLVMValueRef cond, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef ci_icmp(Cg *c, LLVMIntPredicate pr, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef ci_sub(Cg *c, LLVMValueRef a, LLVMValueRef b);
/* ci_clamp / ci_sat: saturate to [lo, hi] / to an IsaType's range */
LLVMValueRef ci_clamp(Cg *c, LLVMValueRef v, int64_t lo, int64_t hi);
LLVMValueRef ci_sat(Cg *c, LLVMValueRef v, unsigned ty);
LLVMValueRef ci_sext(Cg *c, LLVMValueRef v);
/* element idx of an i32 / i8 vector as i64; an i64 stored as i32 */
LLVMValueRef ci_ld32(Cg *c, LLVMValueRef base, LLVMValueRef idx);
void ci_st32(Cg *c, LLVMValueRef base, LLVMValueRef idx, LLVMValueRef v);
LLVMValueRef ci_ld8(Cg *c, LLVMValueRef base, LLVMValueRef idx);
/* if (cond) { ...builder in the then-block... } ci_if_end(merge) */
LLVMBasicBlockRef ci_if_begin(Cg *c, LLVMValueRef cond);
void ci_if_end(Cg *c, LLVMBasicBlockRef merge);
/* v >> s rounding half away from zero (s a constant, |v| < 2^63) */
LLVMValueRef ci_rshift_round(Cg *c, LLVMValueRef v, uint32_t s);

int ref_lower_float(Cg *c, RefModel *r, Diag *d);
/* ref_bcast_index: the offset into an operand of rank ra, dims da, of element e of a result of
 * rank ro, dims od, with numpy broadcasting (axes aligned on the right, size-1 axes repeat). */
LLVMValueRef ref_bcast_index(Cg *c, LLVMValueRef e, const int64_t *od, unsigned ro,
                             const int64_t *da, unsigned ra);
/* tensor.c: the non-elementwise float ops (matmul, softmax, layernorm, transpose, concat).
 * ref_tensor_op_ok: whether op is one of them; ref_lower_tensor_op: emit node id's loop nest. */
int ref_tensor_op_ok(unsigned op);
void ref_lower_tensor_op(Cg *c, RefModel *r, LLVMValueRef t, IrNodeId id);
/* ref_own_buf: a zeroed float buffer of n elements the model owns; its index in r->bufs (the
 * generated code reads it as t[index]). */
uint32_t ref_own_buf(RefModel *r, size_t n);
/* attn_float.c: the attention ops (attention, block_mask, sparse_attention, linear_attention) */
int ref_is_attention_op(unsigned op);
void ref_emit_attention(Cg *c, RefModel *r, LLVMValueRef t, IrNodeId id, const IrNode *n);
int ref_lower_quant(Cg *c, RefModel *r, Diag *d);
/* ref_qown: a zeroed buffer of bytes (at least 1) the quantised model owns (freed with it) */
void *ref_qown(RefModel *r, size_t bytes);
/* ref_lower_attn_quant: ref_lower_quant for attention models (CcModel.attn). */
int ref_lower_attn_quant(Cg *c, RefModel *r, Diag *d);
/* attn_quant.c: the integer layer norm (rows of n->W) and residual add (attn.h) */
struct CcNorm;
struct CcAdd;
void ref_emit_norm(Cg *c, const struct CcNorm *n, uint32_t N, LLVMValueRef pg, LLVMValueRef pb,
                   LLVMValueRef x, LLVMValueRef h);
void ref_emit_add(Cg *c, const struct CcAdd *ad, LLVMValueRef a, LLVMValueRef b, LLVMValueRef y,
                  uint64_t n);
/* attn_ffn_quant.c: a block's feed-forward, r -> y, from parameters base.. of the array p
 * (REF_FFN_PARAMS of them, filled by ref_attn_ffn_params) */
enum { REF_FFN_PARAMS = 8 + 6 * 8 };
void ref_attn_ffn_params(RefModel *r, const struct CcModel *m, uint32_t base);
void ref_emit_attn_ffn(Cg *c, const struct CcModel *m, LLVMValueRef p, uint32_t base,
                       LLVMValueRef r, LLVMValueRef y);
struct CcAttn;
/* attn_quant_lin.c: the SLA / SLA2 linear branch of ref_lower_attn_quant. ref_attn_lin_params
 * fills the branch's parameters at r->params[base ..] and returns their count; the emitters read
 * them from the parameter array params: the sums of one key head (kh, vh: i32 vectors), and one
 * query block's branch combined into oh in place (mask: the head's i8 block mask). */
uint32_t ref_attn_lin_params(RefModel *r, const struct CcAttn *a, uint32_t base);
void ref_attn_lin_sums(Cg *c, const struct CcAttn *a, LLVMValueRef params, uint32_t base,
                       LLVMValueRef kh, LLVMValueRef vh);
void ref_attn_lin_qblock(Cg *c, const struct CcAttn *a, LLVMValueRef params, uint32_t base,
                         LLVMValueRef bh, LLVMValueRef iq, LLVMValueRef mask, LLVMValueRef qh,
                         LLVMValueRef oh);

#endif
