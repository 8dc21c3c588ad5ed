/* irint.h: internals shared by the graph-IR sources (not a public header). */
#ifndef KOLMO_IRINT_H
#define KOLMO_IRINT_H

#include "ir.h"

/* A growable text buffer (heap). */
typedef struct IrBuf {
	char *p;
	size_t len, cap;
} IrBuf;
void irbuf_puts(IrBuf *b, const char *s);
void irbuf_printf(IrBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ir_diag_loc: an error at loc in g's source (with a caret) when there is one, else a plain
 * error naming the graph's file. Returns -1. */
int ir_diag_loc(const Graph *g, IrLoc loc, Diag *d, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The shape-rule context: operand types in, result types out; on failure msg and where (-1: the
 * op; 0..nin-1: that operand; IR_WHERE_ATTR + slot: that attribute). */
enum { IR_WHERE_OP = -1, IR_WHERE_ATTR = 1000 };
typedef struct IrShapeCtx {
	const Graph *g;
	const IrNode *n;
	const IrType *in[IR_MAXIN]; /* NULL: absent */
	IrType out[IR_MAXOUT];
	int where;
	char msg[512];
	char tbuf[4][96]; /* scratch for type strings in messages */
	int tk;
} IrShapeCtx;
int ir_shape_rule(IrShapeCtx *c);

/* ir_attr_parse_text: parse .kir attribute-value text (e.g. a default) for spec into *a. */
int ir_attr_parse_text(Arena *ar, const IrAttrSpec *spec, const char *text, IrAttr *a);
/* ir_attr_enum_index: index of the identifier s[0..len) in the '|'-separated list, or -1. */
int ir_enum_index(const char *enums, const char *s, size_t len);
/* ir_enum_name: the i-th name of an enum list into buf. */
const char *ir_enum_name(const char *enums, int64_t i, char *buf, size_t n);

/* A string -> uint32 hash map for names (heap). */
typedef struct IrNameMap {
	const char **key;
	uint32_t *val;
	size_t cap, n;
} IrNameMap;
/* irmap_get: the value, or IR_NONE. irmap_put: insert (key must outlive the map). */
uint32_t irmap_get(const IrNameMap *m, const char *key);
void irmap_put(IrNameMap *m, const char *key, uint32_t val);
void irmap_free(IrNameMap *m);

/* ir_weight_check: a weight's source is well-formed for its type (random bounds, fill value,
 * inline data length and range, non-empty path and key); no file access. */
int ir_weight_check(const Graph *g, IrTensorId t, Diag *d);
/* ir_weight_check_st: the weight's safetensors entry exists in st with the same shape and a
 * convertible dtype. */
int ir_weight_check_st(const Graph *g, IrTensorId t, const IrSafetensors *st, Diag *d);
/* ir_st_open_msg: ir_st_open with the reason as a plain message (no file prefix) in msg. */
IrSafetensors *ir_st_open_msg(const char *path, char *msg, size_t n);
/* ir_resolve_path: base_dir/path unless path is absolute or base_dir NULL, into buf. */
const char *ir_resolve_path(const Graph *g, const char *path, char *buf, size_t n);

#endif
