/* ir.c: the op table, types, graph construction, attributes, equality and number formatting. */
#include "irint.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *const ir_dtype_names[IR_DTYPE_COUNT] = {"f32", "i8", "i16", "i32"};
const char *const ir_kind_names[IR_KIND_COUNT] = {"input", "weight", "value", "output"};

/* ---- the op table, from ops.def ---- */

#define REQ                   IR_AF_REQUIRED
#define OPT                   IR_AF_OPTIONAL
#define A(n, t, f, d, e, doc) {#n, IR_A_##t, f, d, e, doc},
#define IR_OP(name, nmin, nmax, nout, operands, summary, attrs)                                    \
	static const IrAttrSpec attrs_##name[] = {attrs{NULL, 0, 0, NULL, NULL, NULL}};
#include "ops.def"
#define IR_OP(name, nmin, nmax, nout, operands, summary, attrs)                                    \
	[IR_OP_##name] = {#name,    nmin,    nmax,         nout,                                   \
	                  operands, summary, attrs_##name, (uint32_t)(NELEM(attrs_##name) - 1)},
const IrOpInfo ir_ops[IR_OP_COUNT] = {
#include "ops.def"
};
#undef A
#undef REQ
#undef OPT

int
ir_op_lookup(const char *name, size_t len)
{
	int i;
	for (i = 0; i < IR_OP_COUNT; i++)
		if (strlen(ir_ops[i].name) == len && memcmp(ir_ops[i].name, name, len) == 0)
			return i;
	return -1;
}

const char *
ir_op_operand_name(unsigned op, unsigned i, char *buf, size_t n)
{
	const char *s = ir_ops[op].operands;
	unsigned k = 0;
	KASSERT(op < IR_OP_COUNT && n > 0);
	for (;;) {
		size_t w;
		while (*s == ' ')
			s++;
		if (*s == '?')
			s++;
		w = strcspn(s, " ");
		if (w > 3 && strncmp(s + w - 3, "...", 3) == 0) { /* variadic: name with index */
			snprintf(buf, n, "%.*s%u", (int)(w - 3), s, i);
			return buf;
		}
		if (k == i || s[w] == 0) {
			snprintf(buf, n, "%.*s", (int)w, s);
			return buf;
		}
		s += w;
		k++;
	}
}

int
ir_attr_index(unsigned op, const char *name, size_t len)
{
	uint32_t i;
	KASSERT(op < IR_OP_COUNT);
	for (i = 0; i < ir_ops[op].nattr; i++)
		if (strlen(ir_ops[op].attrs[i].name) == len &&
		    memcmp(ir_ops[op].attrs[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

int
ir_enum_index(const char *enums, const char *s, size_t len)
{
	int i = 0;
	while (enums && *enums) {
		size_t w = strcspn(enums, "|");
		if (w == len && memcmp(enums, s, len) == 0)
			return i;
		enums += w;
		if (*enums == '|')
			enums++;
		i++;
	}
	return -1;
}

const char *
ir_enum_name(const char *enums, int64_t i, char *buf, size_t n)
{
	int64_t k = 0;
	buf[0] = 0;
	while (enums && *enums) {
		size_t w = strcspn(enums, "|");
		if (k == i) {
			snprintf(buf, n, "%.*s", (int)w, enums);
			return buf;
		}
		enums += w;
		if (*enums == '|')
			enums++;
		k++;
	}
	snprintf(buf, n, "?");
	return buf;
}

/* ---- text buffers and name maps ---- */

void
irbuf_puts(IrBuf *b, const char *s)
{
	size_t n = strlen(s);
	b->p = xgrow(b->p, &b->cap, b->len + n + 1, 1);
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

void
irbuf_printf(IrBuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	KASSERT(n >= 0);
	b->p = xgrow(b->p, &b->cap, b->len + (size_t)n + 1, 1);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static size_t
map_slot(const IrNameMap *m, const char *key)
{
	size_t h = (size_t)fnv1a64(key, strlen(key), FNV1A64_INIT) & (m->cap - 1);
	while (m->key[h] && strcmp(m->key[h], key) != 0)
		h = (h + 1) & (m->cap - 1);
	return h;
}

uint32_t
irmap_get(const IrNameMap *m, const char *key)
{
	size_t h;
	if (!m->cap)
		return IR_NONE;
	h = map_slot(m, key);
	return m->key[h] ? m->val[h] : IR_NONE;
}

void
irmap_put(IrNameMap *m, const char *key, uint32_t val)
{
	size_t h;
	if ((m->n + 1) * 2 > m->cap) {
		IrNameMap nm = {0};
		size_t i;
		nm.cap = m->cap ? m->cap * 2 : 64;
		nm.key = xcalloc(nm.cap, sizeof *nm.key);
		nm.val = xcalloc(nm.cap, sizeof *nm.val);
		for (i = 0; i < m->cap; i++)
			if (m->key[i]) {
				h = map_slot(&nm, m->key[i]);
				nm.key[h] = m->key[i];
				nm.val[h] = m->val[i];
				nm.n++;
			}
		irmap_free(m);
		*m = nm;
	}
	h = map_slot(m, key);
	if (!m->key[h])
		m->n++;
	m->key[h] = key;
	m->val[h] = val;
}

void
irmap_free(IrNameMap *m)
{
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof *m);
}

/* ---- types ---- */

IrType
ir_type(IrDtype dt, unsigned rank, const int64_t *dims)
{
	IrType t;
	unsigned i;
	memset(&t, 0, sizeof t);
	KASSERT(rank <= IR_MAXRANK);
	t.dtype = (uint8_t)dt;
	t.rank = (uint8_t)rank;
	t.q.axis = -1;
	for (i = 0; i < rank; i++)
		t.dim[i] = dims[i];
	return t;
}

int64_t
ir_type_elems(const IrType *t)
{
	int64_t n = 1;
	unsigned i;
	for (i = 0; i < t->rank; i++) {
		if (t->dim[i] <= 0 || n > IR_MAX_ELEMS / t->dim[i])
			return t->dim[i] <= 0 ? 0 : IR_MAX_ELEMS + 1;
		n *= t->dim[i];
	}
	return n;
}

int
ir_shape_equal(const IrType *a, const IrType *b)
{
	unsigned i;
	if (a->rank != b->rank)
		return 0;
	for (i = 0; i < a->rank; i++)
		if (a->dim[i] != b->dim[i])
			return 0;
	return 1;
}

int
ir_type_equal(const IrType *a, const IrType *b)
{
	if (a->dtype != b->dtype || !ir_shape_equal(a, b) || a->q.nscale != b->q.nscale)
		return 0;
	if (a->q.nscale && (a->q.axis != b->q.axis ||
	                    memcmp(a->q.scale, b->q.scale, a->q.nscale * sizeof(float)) != 0))
		return 0;
	return 1;
}

char *
ir_type_str(const IrType *t, char *buf, size_t n)
{
	size_t len;
	unsigned i;
	snprintf(buf, n, "%s[", t->dtype < IR_DTYPE_COUNT ? ir_dtype_names[t->dtype] : "?");
	for (i = 0; i < t->rank && i < IR_MAXRANK; i++) {
		len = strlen(buf);
		snprintf(buf + len, n - len, "%s%lld", i ? ", " : "", (long long)t->dim[i]);
	}
	len = strlen(buf);
	snprintf(buf + len, n - len, "]");
	return buf;
}

/* ---- graphs ---- */

Graph *
ir_new(const char *name)
{
	Graph *g = xcalloc(1, sizeof *g);
	g->arena = arena_new();
	g->name = arena_strdup(g->arena, name ? name : "g");
	return g;
}

void
ir_free(Graph *g)
{
	if (!g)
		return;
	free(g->tensors);
	free(g->nodes);
	free(g->outputs);
	arena_free(g->arena);
	free(g);
}

static IrTensorId
new_tensor(Graph *g, const char *name, IrKind kind, const IrType *t)
{
	IrTensor *x;
	KASSERT(g->ntensors < IR_NONE - 1);
	g->tensors = xgrow(g->tensors, &g->cap_t, (size_t)g->ntensors + 1, sizeof *g->tensors);
	x = &g->tensors[g->ntensors];
	memset(x, 0, sizeof *x);
	x->kind = (uint8_t)kind;
	x->type = *t;
	if (t->q.nscale) {
		x->type.q.scale = arena_alloc(g->arena, t->q.nscale * sizeof(float));
		memcpy(x->type.q.scale, t->q.scale, t->q.nscale * sizeof(float));
	}
	x->producer = IR_NONE;
	if (name)
		x->name = arena_strdup(g->arena, name);
	else {
		char buf[32];
		snprintf(buf, sizeof buf, "t%u", g->ntensors);
		x->name = arena_strdup(g->arena, buf);
	}
	return g->ntensors++;
}

IrTensorId
ir_add_input(Graph *g, const char *name, const IrType *t)
{
	return new_tensor(g, name, IR_INPUT, t);
}

IrTensorId
ir_add_weight(Graph *g, const char *name, const IrType *t, const IrWeight *w)
{
	IrTensorId id = new_tensor(g, name, IR_WEIGHT, t);
	IrTensor *x = &g->tensors[id];
	x->w = *w;
	if (w->path)
		x->w.path = arena_strdup(g->arena, w->path);
	if (w->key)
		x->w.key = arena_strdup(g->arena, w->key);
	x->w.data = NULL;
	if (w->data && w->src == IR_W_DATA) {
		int64_t n = ir_type_elems(t);
		KASSERT(n <= IR_MAX_ELEMS);
		x->w.data = arena_alloc(g->arena, (size_t)n * sizeof(float));
		memcpy(x->w.data, w->data, (size_t)n * sizeof(float));
	}
	return id;
}

void
ir_add_output(Graph *g, const char *name, IrTensorId t)
{
	IrOutput *o;
	g->outputs = xgrow(g->outputs, &g->cap_o, (size_t)g->noutputs + 1, sizeof *g->outputs);
	o = &g->outputs[g->noutputs++];
	memset(o, 0, sizeof *o);
	o->name = arena_strdup(g->arena, name);
	o->t = t;
	if (t < g->ntensors && g->tensors[t].kind == IR_VALUE)
		g->tensors[t].kind = IR_OUTPUT;
}

IrNodeId
ir_node_new(Graph *g, IrOpcode op, const IrTensorId *in, unsigned nin)
{
	IrNode *n;
	const IrOpInfo *oi;
	uint32_t i;
	KASSERT((unsigned)op < IR_OP_COUNT && nin <= IR_MAXIN);
	oi = &ir_ops[op];
	g->nodes = xgrow(g->nodes, &g->cap_n, (size_t)g->nnodes + 1, sizeof *g->nodes);
	n = &g->nodes[g->nnodes];
	memset(n, 0, sizeof *n);
	n->op = (uint16_t)op;
	n->nin = (uint8_t)nin;
	for (i = 0; i < IR_MAXIN; i++)
		n->in[i] = i < nin ? in[i] : IR_NONE;
	for (i = 0; i < IR_MAXOUT; i++)
		n->out[i] = IR_NONE;
	n->attr = arena_alloc(g->arena, (oi->nattr ? oi->nattr : 1) * sizeof(IrAttr));
	for (i = 0; i < oi->nattr; i++) {
		n->attr[i].type = oi->attrs[i].type;
		if (oi->attrs[i].dflt) {
			int r = ir_attr_parse_text(g->arena, &oi->attrs[i], oi->attrs[i].dflt,
			                           &n->attr[i]);
			KASSERT(r == 0); /* a bad default in ops.def */
		}
	}
	return g->nnodes++;
}

static IrAttr *
attr_slot(Graph *g, IrNodeId n, const char *name, IrAttrType type)
{
	int k;
	IrAttr *a;
	KASSERT(n < g->nnodes);
	k = ir_attr_index(g->nodes[n].op, name, strlen(name));
	KASSERT(k >= 0);
	a = &g->nodes[n].attr[k];
	KASSERT(a->type == type);
	a->set = a->given = 1;
	return a;
}

int
ir_attr_set_int(Graph *g, IrNodeId n, const char *name, int64_t v)
{
	int k = ir_attr_index(g->nodes[n].op, name, strlen(name));
	KASSERT(k >= 0);
	attr_slot(g, n, name, (IrAttrType)g->nodes[n].attr[k].type)->i = v;
	KASSERT(g->nodes[n].attr[k].type == IR_A_INT || g->nodes[n].attr[k].type == IR_A_BOOL);
	return 0;
}

int
ir_attr_set_float(Graph *g, IrNodeId n, const char *name, double v)
{
	attr_slot(g, n, name, IR_A_FLOAT)->f = v;
	return 0;
}

int
ir_attr_set_enum(Graph *g, IrNodeId n, const char *name, const char *v)
{
	int k = ir_attr_index(g->nodes[n].op, name, strlen(name));
	int e;
	KASSERT(k >= 0);
	e = ir_enum_index(ir_ops[g->nodes[n].op].attrs[k].enums, v, strlen(v));
	KASSERT(e >= 0);
	attr_slot(g, n, name, IR_A_ENUM)->i = e;
	return 0;
}

int
ir_attr_set_ints(Graph *g, IrNodeId n, const char *name, const int64_t *v, uint32_t count)
{
	IrAttr *a = attr_slot(g, n, name, IR_A_INTS);
	a->n = count;
	a->ints = arena_alloc(g->arena, (count ? count : 1) * sizeof *a->ints);
	if (count)
		memcpy(a->ints, v, count * sizeof *v);
	return 0;
}

int
ir_attr_set_floats(Graph *g, IrNodeId n, const char *name, const double *v, uint32_t count)
{
	IrAttr *a = attr_slot(g, n, name, IR_A_FLOATS);
	a->n = count;
	a->floats = arena_alloc(g->arena, (count ? count : 1) * sizeof *a->floats);
	if (count)
		memcpy(a->floats, v, count * sizeof *v);
	return 0;
}

const IrAttr *
ir_attr(const Graph *g, IrNodeId n, const char *name)
{
	int k;
	KASSERT(n < g->nnodes);
	k = ir_attr_index(g->nodes[n].op, name, strlen(name));
	KASSERT(k >= 0);
	return &g->nodes[n].attr[k];
}

int64_t
ir_attr_int(const Graph *g, IrNodeId n, const char *name)
{
	return ir_attr(g, n, name)->i;
}

double
ir_attr_float(const Graph *g, IrNodeId n, const char *name)
{
	return ir_attr(g, n, name)->f;
}

int
ir_diag_loc(const Graph *g, IrLoc loc, Diag *d, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (loc.line && g->src)
		return diag_at(d, g->file, (int)loc.line, (int)loc.col,
		               diag_src_line(g->src, (int)loc.line), "%s", msg);
	return diag_err(d, g->file, "%s", msg);
}

int
ir_infer(const Graph *g, IrNodeId id, IrType *out, Diag *d)
{
	IrShapeCtx c;
	const IrNode *n = &g->nodes[id];
	unsigned i;
	memset(&c, 0, sizeof c);
	c.g = g;
	c.n = n;
	c.where = IR_WHERE_OP;
	for (i = 0; i < n->nin; i++)
		c.in[i] = n->in[i] < g->ntensors ? &g->tensors[n->in[i]].type : NULL;
	for (i = 0; i < IR_MAXOUT; i++)
		c.out[i].q.axis = -1;
	if (ir_shape_rule(&c) != 0) {
		IrLoc loc = n->loc;
		if (c.where >= IR_WHERE_ATTR && n->attr[c.where - IR_WHERE_ATTR].loc.line)
			loc = n->attr[c.where - IR_WHERE_ATTR].loc;
		else if (c.where >= 0 && c.where < IR_MAXIN && n->inloc[c.where].line)
			loc = n->inloc[c.where];
		return ir_diag_loc(g, loc, d, "%s: %s", ir_ops[n->op].name, c.msg);
	}
	for (i = 0; i < n->nout; i++)
		out[i] = c.out[i];
	return 0;
}

IrTensorId
ir_node_finish(Graph *g, IrNodeId id, const char *const *names, Diag *d)
{
	IrType out[IR_MAXOUT];
	unsigned i, nout = ir_ops[g->nodes[id].op].nout;
	g->nodes[id].nout = (uint8_t)nout;
	if (ir_infer(g, id, out, d) != 0)
		return IR_NONE;
	for (i = 0; i < nout; i++) {
		IrTensorId t = new_tensor(g, names ? names[i] : NULL, IR_VALUE, &out[i]);
		g->tensors[t].producer = id;
		g->tensors[t].prod_slot = i;
		g->nodes[id].out[i] = t;
	}
	return g->nodes[id].out[0];
}

/* ---- equality ---- */

static int
streq0(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int
attr_equal(const IrAttr *a, const IrAttr *b)
{
	if (a->type != b->type || a->set != b->set || a->given != b->given)
		return 0;
	if (!a->set)
		return 1;
	switch (a->type) {
	case IR_A_FLOAT:
		return memcmp(&a->f, &b->f, sizeof a->f) == 0;
	case IR_A_INTS:
		return a->n == b->n && (!a->n || memcmp(a->ints, b->ints, a->n * 8) == 0);
	case IR_A_FLOATS:
		return a->n == b->n && (!a->n || memcmp(a->floats, b->floats, a->n * 8) == 0);
	default:
		return a->i == b->i;
	}
}

static int
weight_equal(const IrTensor *x, const IrTensor *y)
{
	const IrWeight *a = &x->w, *b = &y->w;
	if (a->src != b->src)
		return 0;
	switch (a->src) {
	case IR_W_SAFETENSORS:
		return streq0(a->path, b->path) && streq0(a->key, b->key);
	case IR_W_RANDOM:
		return a->dist == b->dist && a->a == b->a && a->b == b->b && a->seed == b->seed;
	case IR_W_FILL:
		return memcmp(&a->a, &b->a, sizeof a->a) == 0;
	default: {
		int64_t n = ir_type_elems(&x->type);
		return a->data && b->data && memcmp(a->data, b->data, (size_t)n * 4) == 0;
	}
	}
}

int
ir_graph_equal(const Graph *a, const Graph *b)
{
	uint32_t i, k;
	if (!streq0(a->name, b->name) || a->ntensors != b->ntensors || a->nnodes != b->nnodes ||
	    a->noutputs != b->noutputs)
		return 0;
	for (i = 0; i < a->ntensors; i++) {
		const IrTensor *x = &a->tensors[i], *y = &b->tensors[i];
		if (!streq0(x->name, y->name) || x->kind != y->kind ||
		    !ir_type_equal(&x->type, &y->type) || x->producer != y->producer ||
		    x->prod_slot != y->prod_slot)
			return 0;
		if (x->kind == IR_WEIGHT && !weight_equal(x, y))
			return 0;
	}
	for (i = 0; i < a->nnodes; i++) {
		const IrNode *x = &a->nodes[i], *y = &b->nodes[i];
		if (x->op != y->op || x->nin != y->nin || x->nout != y->nout ||
		    memcmp(x->in, y->in, sizeof x->in) != 0 ||
		    memcmp(x->out, y->out, sizeof x->out) != 0)
			return 0;
		for (k = 0; k < ir_ops[x->op].nattr; k++)
			if (!attr_equal(&x->attr[k], &y->attr[k]))
				return 0;
	}
	for (i = 0; i < a->noutputs; i++)
		if (!streq0(a->outputs[i].name, b->outputs[i].name) ||
		    a->outputs[i].t != b->outputs[i].t)
			return 0;
	return 1;
}

/* ---- numbers ---- */

void
ir_fmt_double(char *buf, size_t n, double v)
{
	int p;
	if (isinf(v)) {
		snprintf(buf, n, "%s", v < 0 ? "-inf" : "inf");
		return;
	}
	for (p = 1; p <= 17; p++) {
		snprintf(buf, n, "%.*g", p, v);
		/* plain digits for moderate magnitudes: "50", not "5e+01" */
		if (strtod(buf, NULL) == v && !(strchr(buf, 'e') && fabs(v) >= 1 && fabs(v) < 1e15))
			return;
	}
	snprintf(buf, n, "%.17g", v);
}

void
ir_fmt_float(char *buf, size_t n, float v)
{
	int p;
	if (isinf(v)) {
		snprintf(buf, n, "%s", v < 0 ? "-inf" : "inf");
		return;
	}
	for (p = 1; p <= 9; p++) {
		snprintf(buf, n, "%.*g", p, (double)v);
		if (strtof(buf, NULL) == v &&
		    !(strchr(buf, 'e') && fabsf(v) >= 1 && fabsf(v) < 1e9f))
			return;
	}
	snprintf(buf, n, "%.9g", (double)v);
}
