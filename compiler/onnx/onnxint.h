/* onnxint.h: internals of the ONNX importer (compiler/onnx/): the import context, values (graph
 * tensors or constants still held by the importer), attribute readers and the op table. Only
 * compiler/onnx/ includes this header. */
#ifndef KOLMO_ONNXINT_H
#define KOLMO_ONNXINT_H

#include "onnx.h"
#include "onnx.pb-c.h"

/* An ONNX value: a graph tensor, or a constant (initializer, Constant node, bound input, folded
 * result) that becomes a weight only when an IR op takes it as an operand. */
typedef struct OxVal {
	const char *name; /* the ONNX name */
	int is_const;
	OnnxTensor c; /* constant data (is_const) */
	IrTensorId t; /* the graph tensor (IR_NONE for a constant not yet materialised) */
	int consumed; /* Sigmoid fused into silu: its output needs no tensor */
	const char *unsupported; /* an output kolmo does not compute: why (using it is an error) */
} OxVal;

/* The import of one model. */
typedef struct Ox {
	Graph *g;
	const char *file;
	Diag *d;
	OxVal *v;
	uint32_t nv;
	size_t capv;
	const Onnx__NodeProto *node; /* the node being imported (for diagnostics) */
	uint32_t node_idx;
	int64_t opset; /* default-domain version */
	uint8_t *silu; /* per node: 1 = a Sigmoid folded into silu, 2 = the Mul that becomes silu */
} Ox;

/* ox_err: an error about the current node ("node N 'name' (Op): ...") or the model. */
int ox_err(Ox *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Values by ONNX name; ox_find returns NULL if unknown. ox_input: the node's input i (NULL for an
 * absent optional one; an error if a required one is missing or unknown). */
OxVal *ox_find(Ox *x, const char *name);
OxVal *ox_input(Ox *x, unsigned i, int required);
/* ox_def_tensor / ox_def_const: define the node's output slot `out` (0-based). The constant's
 * buffers are taken over by the importer. */
int ox_def_tensor(Ox *x, unsigned out, IrTensorId t);
int ox_def_const(Ox *x, unsigned out, OnnxTensor *c);
/* ox_tensor: the graph tensor of a value, materialising a constant as a float weight. */
IrTensorId ox_tensor(Ox *x, OxVal *v);
/* ox_out_name: an IR name (sanitised, unique) for the node's output `out`, into buf. */
const char *ox_out_name(Ox *x, unsigned out, char *buf, size_t n);
/* ox_unique_name: s made a valid, unused IR tensor name, into buf. */
const char *ox_unique_name(Ox *x, const char *s, char *buf, size_t n);

/* ox_emit: a node of op with operands in[0..nin-1] and attributes set by the caller between
 * ir_node_new and this call; name NULL for an intermediate. Returns the result or IR_NONE with a
 * diagnostic naming the ONNX node. */
IrTensorId ox_finish(Ox *x, IrNodeId n, const char *name);
IrTensorId ox_emit(Ox *x, IrOpcode op, const IrTensorId *in, unsigned nin, const char *name);

/* Attributes of the current node. ox_attr: by name, or NULL. The typed readers check the type
 * (an error if it differs) and return dflt when absent. */
const Onnx__AttributeProto *ox_attr(Ox *x, const char *name);
int ox_attr_int(Ox *x, const char *name, int64_t dflt, int64_t *v);
int ox_attr_float(Ox *x, const char *name, double dflt, double *v);
/* ox_attr_ints: a list (NULL, 0 when absent). */
int ox_attr_ints(Ox *x, const char *name, const int64_t **v, size_t *n);
/* ox_check_attrs: every attribute of the node is one of the names (NULL-terminated list). */
int ox_check_attrs(Ox *x, const char *const *names);

/* onnx_tensor.c: a TensorProto to an OnnxTensor (what names it in diagnostics). */
int ox_tensor_from_proto(const Onnx__TensorProto *p, const char *file, const char *what,
                         OnnxTensor *t, Diag *d);
/* ox_dtype_name: "float", "int64", ... for an ONNX TensorProto.DataType. */
const char *ox_dtype_name(int32_t t);
/* ox_tensor_alloc: t with rank/dims set gets zeroed f (and i if integer) buffers for t->n. */
void ox_tensor_alloc(OnnxTensor *t, int integer);

/* onnx_ops.c: helpers of the op handlers. ox_in_t: the graph tensor of input i (IR_NONE when
 * absent or on error: check x->d->set); ox_tty: a tensor's type; ox_emit1: op on in[0..nin-1]
 * as the node's output 0; ox_no_attrs: the node has no attributes; ox_reshape_to: t reshaped
 * to dims, named name (NULL: a fresh name). */
IrTensorId ox_in_t(Ox *x, unsigned i, int required);
const IrType *ox_tty(Ox *x, IrTensorId t);
int ox_emit1(Ox *x, IrOpcode op, const IrTensorId *in, unsigned nin);
int ox_no_attrs(Ox *x);
IrTensorId ox_reshape_to(Ox *x, IrTensorId t, unsigned rank, const int64_t *dims, const char *name);

/* onnx_layout.c: the data-movement and folding ops. */
int ox_op_reshape(Ox *x);
int ox_op_transpose(Ox *x);
int ox_op_concat(Ox *x);
int ox_op_gather(Ox *x);
int ox_op_constant(Ox *x);
int ox_op_shape(Ox *x);
int ox_op_identity(Ox *x);

/* onnx_ops.c: the op table. ox_import_node: the current node, by domain and op_type. */
int ox_import_node(Ox *x);
/* ox_mark_silu: find Mul(x, Sigmoid(x)) pairs (x->silu). */
void ox_mark_silu(Ox *x, const Onnx__GraphProto *gp);

#endif
