/* ir.h: the kolmo graph IR, whole: tensors, nodes, the op table, weights, the .kir text format,
 * the verifier and Graphviz rendering.
 *
 * A Graph owns everything through one arena (freed by ir_free). Tensors and nodes are referred to
 * by 32-bit handles (indices into g->tensors / g->nodes), never by pointers, so passes may append
 * to the arrays freely. IR_NONE is the null handle (an absent optional operand).
 *
 * Tensors are values: graph inputs, weights (constants with a data source), and the results of
 * nodes. A graph output is a named binding (g->outputs) of some tensor; a node result bound as an
 * output has kind IR_OUTPUT, otherwise IR_VALUE.
 *
 * Every op is a row of ops.def: name, operand arity and names, attribute schema, shape rule. The
 * parser, printer, verifier, docs test and Graphviz labels are driven by that table.
 *
 * Errors from user input are diagnostics (Diag, file:line:col with a caret when there is a source
 * text); library code never exits. See docs/ir.md for the model and the .kir grammar. */
#ifndef KOLMO_IR_H
#define KOLMO_IR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

typedef uint32_t IrTensorId;
typedef uint32_t IrNodeId;
#define IR_NONE UINT32_MAX

enum {
	IR_MAXRANK = 8,
	IR_MAXIN = 8,  /* operands per node (concat is variadic up to this) */
	IR_MAXOUT = 4, /* results per node */
	IR_KIR_VERSION = 1,
};
/* A tensor may hold at most this many elements; larger sizes from user input are errors. */
#define IR_MAX_ELEMS ((int64_t)1 << 31)
/* Default bound on one weight's elements when its data is loaded (2^28 floats = 1 GiB); a larger
 * weight is refused with a diagnostic instead of being allocated. Graph.max_weight_elems overrides
 * it. */
#define IR_WEIGHT_ELEMS_DEFAULT ((int64_t)1 << 28)

/* ---- types ---- */

typedef enum IrDtype { IR_F32, IR_I8, IR_I16, IR_I32, IR_DTYPE_COUNT } IrDtype;
extern const char *const ir_dtype_names[IR_DTYPE_COUNT]; /* "f32", "i8", "i16", "i32" */

/* Quantisation of an integer tensor (symmetric): real = scale * integer. nscale == 0: none.
 * axis == -1: one scale for the whole tensor (nscale == 1). axis >= 0: one scale per index along
 * that axis (per output channel for weights), nscale == dim[axis]. Text: quant(0.5) or
 * quant(axis=0, [0.5, 0.25]). */
typedef struct IrQuant {
	int32_t axis;
	uint32_t nscale;
	float *scale; /* arena-owned */
} IrQuant;

typedef struct IrType {
	uint8_t dtype; /* IrDtype */
	uint8_t rank;  /* 0..IR_MAXRANK; rank 0 is a scalar */
	int64_t dim[IR_MAXRANK];
	IrQuant q;
} IrType;

/* ir_type: a convenience constructor (no quantisation). */
IrType ir_type(IrDtype dt, unsigned rank, const int64_t *dims);
/* ir_type_elems: number of elements (product of dims; 1 for a scalar). */
int64_t ir_type_elems(const IrType *t);
/* ir_type_equal: same dtype, shape and quantisation. ir_shape_equal: same rank and dims. */
int ir_type_equal(const IrType *a, const IrType *b);
int ir_shape_equal(const IrType *a, const IrType *b);
/* ir_type_str: "f32[1, 64]" (without quantisation) into buf; returns buf. */
char *ir_type_str(const IrType *t, char *buf, size_t n);

/* ---- source locations (0 = none: the graph was built in memory) ---- */

typedef struct IrLoc {
	uint32_t line, col;
} IrLoc;

/* ---- weights ---- */

typedef enum IrWeightSrc {
	IR_W_SAFETENSORS, /* safetensors("file", "key"); file relative to the .kir file */
	IR_W_RANDOM,      /* random(uniform|normal, a, b, seed=N) */
	IR_W_FILL,        /* fill(v): every element v */
	IR_W_DATA,        /* data([v, ...]): inline values (small constants; compiler folding) */
} IrWeightSrc;

typedef enum IrDist { IR_UNIFORM, IR_NORMAL } IrDist;

typedef struct IrWeight {
	uint8_t src;  /* IrWeightSrc */
	uint8_t dist; /* IrDist, for IR_W_RANDOM */
	char *path;   /* safetensors file as written */
	char *key;    /* safetensors tensor name */
	double a, b;  /* uniform: [a, b); normal: mean a, stddev b. fill: a */
	uint64_t seed;
	float *data; /* the values (elems of them), loaded lazily by ir_weight_data; arena-owned */
	IrLoc src_loc, path_loc, key_loc;
} IrWeight;

/* ---- tensors ---- */

typedef enum IrKind { IR_INPUT, IR_WEIGHT, IR_VALUE, IR_OUTPUT, IR_KIND_COUNT } IrKind;
extern const char *const ir_kind_names[IR_KIND_COUNT];

typedef struct IrTensor {
	char *name; /* without the '%' sigil */
	uint8_t kind;
	IrType type;
	IrNodeId producer;  /* IR_NONE for inputs and weights */
	uint32_t prod_slot; /* which result of the producer */
	IrWeight w;         /* kind == IR_WEIGHT only */
	IrLoc loc;          /* the name at its definition */
	IrLoc type_loc;     /* the written type, if any */
} IrTensor;

/* ---- ops and attributes ---- */

typedef enum IrOpcode {
#define IR_OP(name, nin_min, nin_max, nout, operands, summary, attrs) IR_OP_##name,
#include "ops.def"
	IR_OP_COUNT
} IrOpcode;

typedef enum IrAttrType {
	IR_A_INT,    /* 64-bit integer */
	IR_A_FLOAT,  /* double; "inf" and "-inf" allowed */
	IR_A_BOOL,   /* true / false */
	IR_A_ENUM,   /* one identifier of the spec's enum list; stored as its index in i */
	IR_A_INTS,   /* [1, 2, 3] */
	IR_A_FLOATS, /* [0.5, 1] */
} IrAttrType;

enum { IR_AF_REQUIRED = 1, IR_AF_OPTIONAL = 2 /* no default: may be unset */ };

typedef struct IrAttrSpec {
	const char *name;
	uint8_t type;      /* IrAttrType */
	uint8_t flags;     /* IR_AF_* */
	const char *dflt;  /* default as .kir text, NULL if required or optional */
	const char *enums; /* IR_A_ENUM: "topk|topp|hybrid" */
	const char *doc;
} IrAttrSpec;

typedef struct IrOpInfo {
	const char *name;
	uint8_t nin_min, nin_max, nout;
	const char *operands; /* e.g. "x base_weight spline_weight ?spline_scaler ?knots"; "x..." */
	const char *summary;
	const IrAttrSpec *attrs;
	uint32_t nattr;
} IrOpInfo;

extern const IrOpInfo ir_ops[IR_OP_COUNT];
/* ir_op_lookup: opcode by name, or -1. */
int ir_op_lookup(const char *name, size_t len);
/* ir_op_operand_name: the name of operand i of op (from the operands column) into buf. */
const char *ir_op_operand_name(unsigned op, unsigned i, char *buf, size_t n);
/* ir_attr_index: schema slot of attribute `name` of op, or -1. */
int ir_attr_index(unsigned op, const char *name, size_t len);

typedef struct IrAttr {
	uint8_t type;   /* IrAttrType, as in the schema */
	uint8_t set;    /* has a value (explicit or default) */
	uint8_t given;  /* written by the user / set by a pass: printed */
	uint32_t n;     /* list length */
	int64_t i;      /* INT, BOOL, ENUM */
	double f;       /* FLOAT */
	int64_t *ints;  /* INTS (arena) */
	double *floats; /* FLOATS (arena) */
	IrLoc loc;      /* of the value */
} IrAttr;

/* ---- nodes ---- */

typedef struct IrNode {
	uint16_t op; /* IrOpcode */
	uint8_t nin, nout;
	IrTensorId in[IR_MAXIN]; /* IR_NONE: absent optional operand */
	IrTensorId out[IR_MAXOUT];
	IrAttr *attr; /* ir_ops[op].nattr slots in schema order (arena) */
	IrLoc loc;    /* the op name */
	IrLoc inloc[IR_MAXIN];
} IrNode;

typedef struct IrOutput {
	char *name;
	IrTensorId t;
	IrLoc loc;
} IrOutput;

/* ---- the graph ---- */

typedef struct Graph {
	Arena *arena;
	char *name;
	IrTensor *tensors;
	uint32_t ntensors;
	IrNode *nodes;
	uint32_t nnodes;
	IrOutput *outputs;
	uint32_t noutputs;
	char *file;     /* source file name for diagnostics, or NULL */
	char *base_dir; /* directory that safetensors paths are relative to, or NULL (cwd) */
	char *src;      /* source text (for carets in verifier errors), or NULL */
	size_t cap_t, cap_n, cap_o;
	int64_t max_weight_elems; /* per-weight load budget; 0: IR_WEIGHT_ELEMS_DEFAULT */
} Graph;

/* ---- building (the compiler's passes use these too) ---- */

Graph *ir_new(const char *name);
void ir_free(Graph *g);

/* ir_add_input / ir_add_weight: a new named tensor. The name must be unique in the graph (checked
 * by the verifier, not here). Returns the handle. */
IrTensorId ir_add_input(Graph *g, const char *name, const IrType *t);
IrTensorId ir_add_weight(Graph *g, const char *name, const IrType *t, const IrWeight *w);

/* ir_node_new: a node of op with the given operands (IR_NONE for absent optional ones), all its
 * attributes at their defaults, and no results yet. Set attributes with ir_attr_set_*, then
 * create the results with ir_node_finish. */
IrNodeId ir_node_new(Graph *g, IrOpcode op, const IrTensorId *in, unsigned nin);
int ir_attr_set_int(Graph *g, IrNodeId n, const char *name, int64_t v);
int ir_attr_set_float(Graph *g, IrNodeId n, const char *name, double v);
int ir_attr_set_enum(Graph *g, IrNodeId n, const char *name, const char *v);
int ir_attr_set_ints(Graph *g, IrNodeId n, const char *name, const int64_t *v, uint32_t count);
int ir_attr_set_floats(Graph *g, IrNodeId n, const char *name, const double *v, uint32_t count);
/* ir_node_finish: run the op's shape rule and create the results, named names[0..nout-1]
 * (NULL: "t<handle>"). Returns the first result, or IR_NONE with the error in d. */
IrTensorId ir_node_finish(Graph *g, IrNodeId n, const char *const *names, Diag *d);
/* ir_add_output: bind tensor t as graph output `name`. */
void ir_add_output(Graph *g, const char *name, IrTensorId t);

/* Attribute reads by name (asserts that the op has that attribute). */
const IrAttr *ir_attr(const Graph *g, IrNodeId n, const char *name);
int64_t ir_attr_int(const Graph *g, IrNodeId n, const char *name);
double ir_attr_float(const Graph *g, IrNodeId n, const char *name);

/* ---- shape rules ---- */

/* ir_infer: apply node n's shape rule to the current operand types, writing the result types to
 * out[0..nout-1]. Returns 0, or -1 with an error located at the offending operand or attribute
 * (or the op). */
int ir_infer(const Graph *g, IrNodeId n, IrType *out, Diag *d);

/* ---- weights ---- */

/* ir_weight_data: the values of weight tensor t as elems floats, loading them on first use
 * (safetensors read and converted; random generated; cached in the graph). NULL with d on error.
 */
const float *ir_weight_data(Graph *g, IrTensorId t, Diag *d);
/* ir_load_weights: ir_weight_data for every weight (what IR_PARSE_LOAD_WEIGHTS does), e.g. after
 * setting g->max_weight_elems. Returns 0, or -1 with the first weight's diagnostic. */
int ir_load_weights(Graph *g, Diag *d);
/* ir_random_fill: the deterministic generator behind random(...): splitmix64 seeded with seed;
 * u = (next >> 11) * 2^-53 in [0, 1). f32: uniform a + (b - a) * u; normal (Box-Muller, one value
 * per pair of draws) a + b * sqrt(-2 ln(1 - u1)) * cos(2 pi u2); computed in double, rounded to
 * float. Integer dtypes: uniform floor(a + (b - a + 1) * u), an integer in [a, b]; normal rounded
 * to nearest; both clamped to the dtype's range. */
void ir_random_fill(float *dst, int64_t n, IrDist dist, double a, double b, uint64_t seed,
                    IrDtype dt);

/* safetensors files: 8-byte little-endian header size, a JSON header, then the data. */
typedef enum IrStDtype {
	IR_ST_F64,
	IR_ST_F32,
	IR_ST_F16,
	IR_ST_BF16,
	IR_ST_I64,
	IR_ST_I32,
	IR_ST_I16,
	IR_ST_I8,
	IR_ST_U8,
	IR_ST_BOOL,
	IR_ST_COUNT
} IrStDtype;
extern const char *const ir_st_dtype_names[IR_ST_COUNT];

typedef struct IrStTensor {
	char *name;
	uint8_t dtype; /* IrStDtype */
	uint8_t rank;
	int64_t dim[IR_MAXRANK];
	uint64_t begin, end; /* byte offsets into the data section */
} IrStTensor;

typedef struct IrSafetensors IrSafetensors;
/* ir_st_open: read and validate the header (JSON syntax, dtypes, shapes, offsets within the file,
 * sizes consistent with dtype x shape, no overlaps). NULL with d on error. */
IrSafetensors *ir_st_open(const char *path, Diag *d);
/* ir_st_open_mem: the same from len bytes at buf (which must outlive the result); name names the
 * buffer in diagnostics. */
IrSafetensors *ir_st_open_mem(const void *buf, size_t len, const char *name, Diag *d);
void ir_st_close(IrSafetensors *st);
uint32_t ir_st_count(const IrSafetensors *st);
const IrStTensor *ir_st_at(const IrSafetensors *st, uint32_t i);
const IrStTensor *ir_st_find(const IrSafetensors *st, const char *name);
/* ir_st_read_f32: the tensor's values converted to float into dst (elems of them). */
int ir_st_read_f32(IrSafetensors *st, const IrStTensor *t, float *dst, Diag *d);

/* ---- the .kir text format ---- */

enum {
	IR_PARSE_NO_IO = 1,        /* do not open safetensors files (fuzzing; checked at load) */
	IR_PARSE_LOAD_WEIGHTS = 2, /* load every weight's data now */
};

/* ir_parse_file / ir_parse_mem: parse .kir text into a new graph, checking names, types, shape
 * rules and weight sources as it goes. fname is used in diagnostics; base_dir (may be NULL)
 * anchors relative safetensors paths (ir_parse_file uses the file's directory). Returns NULL with
 * a `file:line:col: error: ...` diagnostic in d. */
Graph *ir_parse_file(const char *path, unsigned flags, Diag *d);
Graph *ir_parse_mem(const char *buf, size_t len, const char *fname, const char *base_dir,
                    unsigned flags, Diag *d);

/* ir_print: the canonical .kir text of g (malloc'd, NUL-terminated; free with free()).
 * print(parse(print(g))) == print(g) byte for byte. */
char *ir_print(const Graph *g);
/* ir_graph_equal: same name, tensors, nodes, attributes, weight sources and outputs, handle for
 * handle (source locations are ignored). */
int ir_graph_equal(const Graph *a, const Graph *b);
/* ir_fmt_double / ir_fmt_float: shortest decimal text that reads back as exactly v. */
void ir_fmt_double(char *buf, size_t n, double v);
void ir_fmt_float(char *buf, size_t n, float v);

/* ---- verifier ---- */

/* ir_verify: every handle valid, names unique, dtypes/quantisation legal, shapes within limits,
 * attributes well-typed and required ones set, every node's result types equal to its shape
 * rule's, weight sources well-formed, the graph acyclic, at least one output and every output
 * defined. Returns 0, or -1 with the first problem in d. Run after every pass. */
int ir_verify(const Graph *g, Diag *d);

/* ---- Graphviz ---- */

/* ir_dot_render: lay g out with Graphviz dot and render it in format ("svg", "png", "dot", ...)
 * into a malloc'd buffer (*out, *len). Ops are boxes labelled with their result and key
 * attributes; inputs, weights and outputs are distinct shapes and colours; edges are tensors
 * labelled with their types. */
int ir_dot_render(const Graph *g, const char *format, char **out, size_t *len, Diag *d);
/* ir_dot_write: render to path in the format named by its extension (.svg, .png, .dot, .gv, .pdf),
 * atomically: on error no file is left. */
int ir_dot_write(const Graph *g, const char *path, Diag *d);

#endif
