/* ref.h: the golden reference of kolmo models through the LLVM JIT. Public API of compiler/ref/.
 *
 * A model is lowered to LLVM IR with the LLVM C API (loops over tensors), optimised, compiled by
 * ORC LLJIT and run in process. Two lowerings:
 *
 *   float      the graph itself in float32: linear (+bias), kan_linear (Cox-de Boor recursion,
 *              0/0 := 0, efficient-kan layout with spline_scaler, uniform or explicit knots),
 *              relu, silu, exp, sigmoid, tanh, add, mul, sub, div (numpy broadcasting),
 *              reshape; matmul, softmax, layernorm, transpose, concat (tensor.c); attention,
 *              block_mask, sparse_attention (SLA / SLA2 combines), linear_attention.
 *   quantized  the compiler's quantised model (CcModel from cc_compile): integer drive (SiLU
 *              table, the SBU's definition), per-crossbar-block dot products with the bit-level
 *              ADC of docs/isa.md when the ADC is not lossless, 32-bit saturating sums in the
 *              hardware's order, requantisation rounding half away from zero, activations. The
 *              simulator's ideal-mode output equals it bit for bit. Attention models: the
 *              lowering's integer algorithm (docs/attention.md).
 *
 * This is an implementation independent of the C references (compiler/eval.c, compiler/qref.c)
 * and of the simulator: the tests compare all three. */
#ifndef KOLMO_REF_H
#define KOLMO_REF_H

#include <stdint.h>

#include "cc.h"
#include "ir.h"

typedef struct RefModel RefModel;

/* One input or output of a RefModel. */
typedef struct RefIo {
	const char *name; /* graph input name, or output binding name */
	uint32_t rank;
	int64_t dims[IR_MAXRANK];
	uint64_t elems;
	/* quantised models: the integer type (IsaType) and scale (real = scale x integer) */
	unsigned qtype;
	double scale;
} RefIo;

/* ref_build_float: lower graph g (verified; its weights are loaded on demand) to float32 IR and
 * JIT-compile it. The model borrows g: keep it alive until ref_free. Unsupported ops are errors
 * located at the op. Returns 0 or -1 with d. */
int ref_build_float(Graph *g, RefModel **out, Diag *d);

/* ref_build_quant: lower the quantised model m (from cc_compile, with its graph alive) to integer
 * IR and JIT-compile it. The model borrows m. */
int ref_build_quant(const CcModel *m, RefModel **out, Diag *d);

uint32_t ref_ninputs(const RefModel *r);
uint32_t ref_noutputs(const RefModel *r);
const RefIo *ref_input(const RefModel *r, uint32_t i);
const RefIo *ref_output(const RefModel *r, uint32_t i);

/* ref_run_float: in[i] holds input i (ref_input(r, i)->elems floats), out[i] receives output i.
 * Deterministic; the model may run any number of times. */
void ref_run_float(RefModel *r, const float *const *in, float *const *out);

/* ref_run_quant: one quantised input vector (the input integers, already saturated to its type)
 * to the output integers. */
void ref_run_quant(RefModel *r, const int32_t *in, int32_t *out);

/* ref_llvm_ir: the module's LLVM IR before optimisation (owned by r). */
const char *ref_llvm_ir(const RefModel *r);

void ref_free(RefModel *r);

#endif
