/* jit.c: the LLVM side of the golden reference: IR-building helpers, optimisation and ORC LLJIT
 * compilation (reference/toolchain.md section 2), and the RefModel life cycle. */
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Error.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "refint.h"

void
cg_init(Cg *c, const char *name)
{
	memset(c, 0, sizeof *c);
	c->tsc = LLVMOrcCreateNewThreadSafeContext();
	c->ctx = LLVMOrcThreadSafeContextGetContext(c->tsc);
	c->mod = LLVMModuleCreateWithNameInContext(name, c->ctx);
	c->b = LLVMCreateBuilderInContext(c->ctx);
	c->vd = LLVMVoidTypeInContext(c->ctx);
	c->i1 = LLVMInt1TypeInContext(c->ctx);
	c->i8 = LLVMInt8TypeInContext(c->ctx);
	c->i32 = LLVMInt32TypeInContext(c->ctx);
	c->i64 = LLVMInt64TypeInContext(c->ctx);
	c->f32 = LLVMFloatTypeInContext(c->ctx);
	c->p8 = LLVMPointerType(c->i8, 0);
	c->p32 = LLVMPointerType(c->i32, 0);
	c->p64 = LLVMPointerType(c->i64, 0);
	c->pf32 = LLVMPointerType(c->f32, 0);
	c->pp8 = LLVMPointerType(c->p8, 0);
	c->ppf32 = LLVMPointerType(c->pf32, 0);
}

LLVMValueRef
cg_func(Cg *c, const char *name, LLVMTypeRef ret, LLVMTypeRef *params, unsigned nparams,
        int internal)
{
	LLVMTypeRef ft = LLVMFunctionType(ret, params, nparams, 0);
	LLVMValueRef f = LLVMAddFunction(c->mod, name, ft);
	unsigned i;
	if (internal)
		LLVMSetLinkage(f, LLVMInternalLinkage);
	for (i = 0; i < nparams; i++)
		if (LLVMGetTypeKind(params[i]) == LLVMPointerTypeKind) {
			unsigned kind = LLVMGetEnumAttributeKindForName("noalias", 7);
			LLVMAddAttributeAtIndex(f, i + 1, LLVMCreateEnumAttribute(c->ctx, kind, 0));
		}
	c->fn = f;
	LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, f, "entry"));
	return f;
}

LLVMValueRef
cg_i64(Cg *c, int64_t v)
{
	return LLVMConstInt(c->i64, (unsigned long long)v, 1);
}

LLVMValueRef
cg_i32(Cg *c, int32_t v)
{
	return LLVMConstInt(c->i32, (unsigned long long)(int64_t)v, 1);
}

LLVMValueRef
cg_f32(Cg *c, double v)
{
	return LLVMConstReal(c->f32, (double)(float)v);
}

LLVMValueRef
cg_array(Cg *c, LLVMTypeRef elem, uint32_t n, const char *name)
{
	LLVMBasicBlockRef cur = LLVMGetInsertBlock(c->b), entry = LLVMGetEntryBasicBlock(c->fn);
	LLVMValueRef first = LLVMGetFirstInstruction(entry), v;
	if (first)
		LLVMPositionBuilderBefore(c->b, first);
	else
		LLVMPositionBuilderAtEnd(c->b, entry);
	if (n == 1)
		v = LLVMBuildAlloca(c->b, elem, name);
	else
		v = LLVMBuildArrayAlloca(c->b, elem, cg_i64(c, n), name);
	LLVMPositionBuilderAtEnd(c->b, cur);
	return v;
}

LLVMValueRef
cg_var(Cg *c, LLVMTypeRef ty, const char *name)
{
	return cg_array(c, ty, 1, name);
}

LLVMValueRef
cg_load(Cg *c, LLVMTypeRef ty, LLVMValueRef ptr)
{
	return LLVMBuildLoad2(c->b, ty, ptr, "");
}

LLVMValueRef
cg_at(Cg *c, LLVMTypeRef elem, LLVMValueRef base, LLVMValueRef idx)
{
	return LLVMBuildInBoundsGEP2(c->b, elem, base, &idx, 1, "");
}

LLVMValueRef
cg_ld(Cg *c, LLVMTypeRef elem, LLVMValueRef base, LLVMValueRef idx)
{
	return cg_load(c, elem, cg_at(c, elem, base, idx));
}

void
cg_st(Cg *c, LLVMTypeRef elem, LLVMValueRef base, LLVMValueRef idx, LLVMValueRef v)
{
	LLVMBuildStore(c->b, v, cg_at(c, elem, base, idx));
}

LLVMValueRef
cg_add(Cg *c, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildAdd(c->b, a, b, "");
}

LLVMValueRef
cg_mul(Cg *c, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildMul(c->b, a, b, "");
}

LLVMValueRef
cg_loop_begin(Cg *c, CgLoop *l, LLVMValueRef lo, LLVMValueRef hi)
{
	LLVMBasicBlockRef pre = LLVMGetInsertBlock(c->b), body;
	l->head = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "loop");
	body = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "body");
	l->exit = LLVMAppendBasicBlockInContext(c->ctx, c->fn, "done");
	LLVMBuildBr(c->b, l->head);
	LLVMPositionBuilderAtEnd(c->b, l->head);
	l->iv = LLVMBuildPhi(c->b, c->i64, "i");
	LLVMAddIncoming(l->iv, &lo, &pre, 1);
	LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntSLT, l->iv, hi, ""), body, l->exit);
	LLVMPositionBuilderAtEnd(c->b, body);
	return l->iv;
}

void
cg_loop_end(Cg *c, CgLoop *l)
{
	LLVMBasicBlockRef cur = LLVMGetInsertBlock(c->b);
	LLVMValueRef next = LLVMBuildNSWAdd(c->b, l->iv, cg_i64(c, 1), "");
	LLVMAddIncoming(l->iv, &next, &cur, 1);
	LLVMBuildBr(c->b, l->head);
	LLVMPositionBuilderAtEnd(c->b, l->exit);
}

LLVMValueRef
cg_param(Cg *c, LLVMValueRef arr, uint32_t i, LLVMTypeRef ty)
{
	LLVMValueRef p = cg_ld(c, c->p8, arr, cg_i64(c, i));
	return LLVMBuildBitCast(c->b, p, ty, "");
}

/* LLVM errors are consumed into d. */
static int
llvm_fail(Diag *d, const char *what, LLVMErrorRef e)
{
	char *msg = LLVMGetErrorMessage(e);
	diag_err(d, "kolmo ref", "%s: %s", what, msg);
	LLVMDisposeErrorMessage(msg);
	return -1;
}

static void
init_native(void)
{
	/* Idempotent; LLVM guards target registration itself. */
	LLVMInitializeNativeTarget();
	LLVMInitializeNativeAsmPrinter();
	LLVMInitializeNativeAsmParser();
}

void
cg_abort(Cg *c)
{
	if (c->b)
		LLVMDisposeBuilder(c->b);
	if (c->mod)
		LLVMDisposeModule(c->mod);
	if (c->tsc)
		LLVMOrcDisposeThreadSafeContext(c->tsc);
	memset(c, 0, sizeof *c);
}

int
cg_finish(Cg *c, RefModel *r, const char *sym, uint64_t *addr, Diag *d)
{
	char *msg = NULL, *triple, *cpu, *feat;
	LLVMErrorRef e;
	LLVMTargetRef target;
	LLVMTargetMachineRef tm;
	LLVMPassBuilderOptionsRef po;
	LLVMOrcThreadSafeModuleRef tsm;
	LLVMOrcDefinitionGeneratorRef gen;
	LLVMOrcExecutorAddress a = 0;

	init_native();
	LLVMDisposeBuilder(c->b);
	c->b = NULL;
	if (LLVMVerifyModule(c->mod, LLVMReturnStatusAction, &msg)) {
		/* A lowering bug, not a user error: say so plainly. */
		diag_err(d, "kolmo ref", "internal error: invalid LLVM IR: %s", msg);
		LLVMDisposeMessage(msg);
		cg_abort(c);
		return -1;
	}
	LLVMDisposeMessage(msg);
	r->ir_text = LLVMPrintModuleToString(c->mod);

	if ((e = LLVMOrcCreateLLJIT(&r->jit, NULL))) {
		cg_abort(c);
		return llvm_fail(d, "cannot create the JIT", e);
	}
	LLVMSetTarget(c->mod, LLVMOrcLLJITGetTripleString(r->jit));
	LLVMSetDataLayout(c->mod, LLVMOrcLLJITGetDataLayoutStr(r->jit));
	/* Optimise for the host. No fast-math flags are set, so float results do not depend on the
	 * CPU: sums stay in program order and nothing is contracted into FMAs. */
	triple = LLVMGetDefaultTargetTriple();
	if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
		diag_err(d, "kolmo ref", "no LLVM target for %s: %s", triple, msg);
		LLVMDisposeMessage(msg);
		LLVMDisposeMessage(triple);
		cg_abort(c);
		return -1;
	}
	cpu = LLVMGetHostCPUName();
	feat = LLVMGetHostCPUFeatures();
	tm = LLVMCreateTargetMachine(target, triple, cpu, feat, LLVMCodeGenLevelDefault,
	                             LLVMRelocDefault, LLVMCodeModelJITDefault);
	po = LLVMCreatePassBuilderOptions();
	e = LLVMRunPasses(c->mod, "default<O2>", tm, po);
	LLVMDisposePassBuilderOptions(po);
	LLVMDisposeTargetMachine(tm);
	LLVMDisposeMessage(triple);
	LLVMDisposeMessage(cpu);
	LLVMDisposeMessage(feat);
	if (e) {
		cg_abort(c);
		return llvm_fail(d, "optimisation failed", e);
	}

	/* expf and friends come from the process (LLJIT does not resolve host symbols itself). */
	if ((e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
	         &gen, LLVMOrcLLJITGetGlobalPrefix(r->jit), NULL, NULL))) {
		cg_abort(c);
		return llvm_fail(d, "cannot resolve host symbols", e);
	}
	LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(r->jit), gen);
	tsm = LLVMOrcCreateNewThreadSafeModule(c->mod, c->tsc);
	c->mod = NULL;
	LLVMOrcDisposeThreadSafeContext(c->tsc);
	c->tsc = NULL;
	if ((e = LLVMOrcLLJITAddLLVMIRModule(r->jit, LLVMOrcLLJITGetMainJITDylib(r->jit), tsm))) {
		LLVMOrcDisposeThreadSafeModule(tsm);
		return llvm_fail(d, "cannot add the module to the JIT", e);
	}
	if ((e = LLVMOrcLLJITLookup(r->jit, &a, sym)))
		return llvm_fail(d, "JIT compilation failed", e);
	*addr = a;
	return 0;
}

static RefModel *
model_new(void)
{
	return xcalloc(1, sizeof(RefModel));
}

int
ref_build_float(Graph *g, RefModel **out, Diag *d)
{
	RefModel *r = model_new();
	Cg c;
	*out = NULL;
	r->g = g;
	cg_init(&c, g->name ? g->name : "model");
	if (ref_lower_float(&c, r, d)) {
		cg_abort(&c);
		ref_free(r);
		return -1;
	}
	{
		uint64_t addr;
		if (cg_finish(&c, r, "kolmo_ref_float", &addr, d)) {
			ref_free(r);
			return -1;
		}
		r->ffn = (void (*)(float **))(uintptr_t)addr;
	}
	*out = r;
	return 0;
}

int
ref_build_quant(const CcModel *m, RefModel **out, Diag *d)
{
	RefModel *r = model_new();
	Cg c;
	uint64_t addr;
	*out = NULL;
	r->quantized = 1;
	r->m = m;
	cg_init(&c, "quantized");
	if (ref_lower_quant(&c, r, d)) {
		cg_abort(&c);
		ref_free(r);
		return -1;
	}
	if (cg_finish(&c, r, "kolmo_ref_quant", &addr, d)) {
		ref_free(r);
		return -1;
	}
	r->qfn = (void (*)(const int32_t *, int32_t *, void **))(uintptr_t)addr;
	*out = r;
	return 0;
}

uint32_t
ref_ninputs(const RefModel *r)
{
	return r->nin;
}

uint32_t
ref_noutputs(const RefModel *r)
{
	return r->nout;
}

const RefIo *
ref_input(const RefModel *r, uint32_t i)
{
	KASSERT(i < r->nin);
	return &r->in[i];
}

const RefIo *
ref_output(const RefModel *r, uint32_t i)
{
	KASSERT(i < r->nout);
	return &r->out[i];
}

const char *
ref_llvm_ir(const RefModel *r)
{
	return r->ir_text ? r->ir_text : "";
}

void
ref_free(RefModel *r)
{
	uint32_t i;
	if (!r)
		return;
	if (r->jit) {
		LLVMErrorRef e = LLVMOrcDisposeLLJIT(r->jit);
		if (e)
			LLVMConsumeError(e);
	}
	if (r->ir_text)
		LLVMDisposeMessage(r->ir_text);
	for (i = 0; i < r->nowned; i++)
		free(r->owned[i]);
	for (i = 0; i < r->nqowned; i++)
		free(r->qowned[i]);
	free(r->owned);
	free(r->qowned);
	free(r->bufs);
	free(r->params);
	free(r->in);
	free(r->out);
	free(r->in_tid);
	free(r->out_tid);
	free(r);
}
