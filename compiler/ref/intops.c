/* intops.c: integer building blocks of the quantised lowerings (quant.c, attn_quant.c): i64
 * arithmetic with the instruction set's saturation and rounding (docs/isa.md), element loads
 * and stores, and structured ifs. */
#include "refint.h"

LLVMValueRef
ci_sel(Cg *c, LLVMValueRef cond, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildSelect(c->b, cond, a, b, "");
}

LLVMValueRef
ci_icmp(Cg *c, LLVMIntPredicate pr, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildICmp(c->b, pr, a, b, "");
}

LLVMValueRef
ci_sub(Cg *c, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildSub(c->b, a, b, "");
}

LLVMValueRef
ci_clamp(Cg *c, LLVMValueRef v, int64_t lo, int64_t hi)
{
	v = ci_sel(c, ci_icmp(c, LLVMIntSLT, v, cg_i64(c, lo)), cg_i64(c, lo), v);
	return ci_sel(c, ci_icmp(c, LLVMIntSGT, v, cg_i64(c, hi)), cg_i64(c, hi), v);
}

LLVMValueRef
ci_sat(Cg *c, LLVMValueRef v, unsigned ty)
{
	if (ty == TY_I8)
		return ci_clamp(c, v, INT8_MIN, INT8_MAX);
	if (ty == TY_I16)
		return ci_clamp(c, v, INT16_MIN, INT16_MAX);
	return ci_clamp(c, v, INT32_MIN, INT32_MAX);
}

LLVMValueRef
ci_sext(Cg *c, LLVMValueRef v)
{
	return LLVMBuildSExt(c->b, v, c->i64, "");
}

LLVMValueRef
ci_ld32(Cg *c, LLVMValueRef base, LLVMValueRef idx)
{
	return ci_sext(c, cg_ld(c, c->i32, base, idx));
}

void
ci_st32(Cg *c, LLVMValueRef base, LLVMValueRef idx, LLVMValueRef v)
{
	cg_st(c, c->i32, base, idx, LLVMBuildTrunc(c->b, v, c->i32, ""));
}

LLVMValueRef
ci_ld8(Cg *c, LLVMValueRef base, LLVMValueRef idx)
{
	return ci_sext(c, cg_ld(c, c->i8, base, idx));
}

LLVMBasicBlockRef
ci_if_begin(Cg *c, LLVMValueRef cond)
{
	LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "then");
	LLVMBasicBlockRef merge = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "endif");
	LLVMBuildCondBr(c->b, cond, then, merge);
	LLVMPositionBuilderAtEnd(c->b, then);
	return merge;
}

void
ci_if_end(Cg *c, LLVMBasicBlockRef merge)
{
	LLVMBuildBr(c->b, merge);
	LLVMPositionBuilderAtEnd(c->b, merge);
}

LLVMValueRef
ci_rshift_round(Cg *c, LLVMValueRef v, uint32_t s)
{
	LLVMValueRef neg, a, r;
	if (s == 0)
		return v;
	if (s > 62)
		return cg_i64(c, 0);
	neg = ci_icmp(c, LLVMIntSLT, v, cg_i64(c, 0));
	a = ci_sel(c, neg, LLVMBuildNeg(c->b, v, ""), v);
	r = LLVMBuildLShr(c->b, cg_add(c, a, cg_i64(c, (int64_t)1 << (s - 1))), cg_i64(c, s), "");
	return ci_sel(c, neg, LLVMBuildNeg(c->b, r, ""), r);
}
