/* onnx.h: the ONNX front end. Public API of compiler/onnx/: ONNX models to the graph IR, ONNX
 * tensor files, and the one model loader the tools use (.kir or .onnx by suffix).
 *
 * Supported: default-domain opsets 13..17 with MatMul, Gemm, Add, Sub, Mul, Div, Relu, Sigmoid,
 * Tanh, Softmax, LayerNormalization, Reshape, Transpose, Concat, Gather (of constants), plus
 * Constant, Shape (static), Identity; Mul(x, Sigmoid(x)) becomes silu; the custom domain
 * `ai.kolmo` (version 1) carries KANLinear, PyKANLinear, SparseAttention, BlockMask, Attention
 * and LinearAttention with the IR's attribute names (docs/onnx.md). Initializers become weights
 * with inline data; float32 only for values that reach the IR (double initializers are
 * converted), int64/int32 constants for shapes, axes and indices. Every shape must be static.
 *
 * Errors (unsupported op naming the node, opset, dynamic shape, corrupt or truncated protobuf)
 * are diagnostics "file: error: ..." in d; nothing here exits or aborts on user input. */
#ifndef KOLMO_ONNX_H
#define KOLMO_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "ir.h"

enum {
	ONNX_OPSET_MIN = 13,
	ONNX_OPSET_MAX = 17,
	ONNX_KOLMO_DOMAIN_VERSION = 1,
};
#define ONNX_KOLMO_DOMAIN "ai.kolmo"
/* Largest .onnx file read (weights inline). */
#define ONNX_MAX_FILE_BYTES ((size_t)1 << 31)

/* A dense tensor read from an ONNX TensorProto (tensor files, constants). Values are held both as
 * float (f) and, for integer element types, as int64 (i; NULL otherwise). */
typedef struct OnnxTensor {
	char name[256];
	int32_t elem_type; /* ONNX TensorProto.DataType */
	uint32_t rank;
	int64_t dim[IR_MAXRANK];
	int64_t n; /* elements */
	float *f;
	int64_t *i;
} OnnxTensor;

/* Import options. consts: graph inputs with these names are bound to the given values and
 * become constants (weights, or shape/index tensors) instead of inputs. */
typedef struct OnnxOptions {
	const OnnxTensor *consts;
	uint32_t nconsts;
	/* outputs: import only the graph outputs of these names (all when noutputs is 0) */
	const char *const *outputs;
	uint32_t noutputs;
} OnnxOptions;

/* onnx_import_mem / onnx_import_file: an ONNX ModelProto to a new verified graph (weights loaded,
 * inline). fname names the model in diagnostics; opt may be NULL. NULL with d on error. */
Graph *onnx_import_mem(const uint8_t *buf, size_t len, const char *fname, const OnnxOptions *opt,
                       Diag *d);
Graph *onnx_import_file(const char *path, const OnnxOptions *opt, Diag *d);

/* onnx_tensor_read_mem / _file: a serialised TensorProto (test_data_set_N/input_0.pb) into t.
 * Supported element types: float, double, int32, int64. Free with onnx_tensor_free. */
int onnx_tensor_read_mem(const uint8_t *buf, size_t len, const char *fname, OnnxTensor *t, Diag *d);
int onnx_tensor_read_file(const char *path, OnnxTensor *t, Diag *d);
void onnx_tensor_free(OnnxTensor *t);

/* onnx_is_model_path: whether path names an ONNX model (suffix .onnx, any case). */
int onnx_is_model_path(const char *path);

/* onnx_model_load: the model at path, ONNX when onnx_is_model_path, else .kir through
 * ir_parse_file with flags (IR_PARSE_*; ONNX weights are always inline and loaded).
 * onnx_model_load_mem: the same from a buffer already read (fname decides the format;
 * base_dir anchors .kir safetensors paths). NULL with d on error. */
Graph *onnx_model_load(const char *path, unsigned flags, Diag *d);
Graph *onnx_model_load_mem(const char *buf, size_t len, const char *fname, const char *base_dir,
                           unsigned flags, Diag *d);

#endif
