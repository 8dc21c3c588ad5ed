/* parse.c: the .kir reader: a hand-written lexer and recursive-descent parser that builds a Graph,
 * checking names, types, attributes, shape rules and weight sources as it goes. Every error is
 * `file:line:col: error: message` with the source line and a caret under the offending token. */
#include "irint.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_KIR_BYTES = 256 << 20, MAX_LIST = 1 << 16, MAX_ST_CACHE = 16 };

typedef enum TokKind { T_EOF, T_IDENT, T_VALUE, T_NUMBER, T_STRING, T_PUNCT } TokKind;

typedef struct Tok {
	TokKind kind;
	const char *s; /* text (T_VALUE: after the '%'; T_STRING: inside the quotes) */
	size_t len;
	int isint; /* T_NUMBER without '.', exponent or inf */
	uint32_t line, col;
} Tok;

typedef struct StCache {
	char *path;
	IrSafetensors *st;
} StCache;

typedef struct P {
	const char *src, *end, *cur;
	uint32_t line, col;
	Tok tok;
	const char *fname;
	Graph *g;
	Arena *arena;
	Diag *d;
	unsigned flags;
	IrNameMap names, outnames;
	StCache st[MAX_ST_CACHE];
	int nst;
} P;

static int perr(P *p, const Tok *t, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
perr(P *p, const Tok *t, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return diag_at(p->d, p->fname, (int)t->line, (int)t->col,
	               diag_src_line(p->src, (int)t->line), "%s", msg);
}

/* ---- lexer ---- */

static int
is_id0(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int
is_id(int c)
{
	return is_id0(c) || (c >= '0' && c <= '9') || c == '.';
}
static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static void
adv(P *p, size_t n)
{
	while (n-- && p->cur < p->end) {
		if (*p->cur == '\n')
			p->line++, p->col = 1;
		else
			p->col++;
		p->cur++;
	}
}

/* next: lex one token into p->tok. Returns -1 on a lexical error. */
static int
next(P *p)
{
	Tok *t = &p->tok;
	for (;;) {
		while (p->cur < p->end &&
		       (*p->cur == ' ' || *p->cur == '\t' || *p->cur == '\n' || *p->cur == '\r'))
			adv(p, 1);
		if (p->cur < p->end && (*p->cur == '#' || (*p->cur == '/' && p->cur + 1 < p->end &&
		                                           p->cur[1] == '/'))) {
			while (p->cur < p->end && *p->cur != '\n')
				adv(p, 1);
			continue;
		}
		break;
	}
	memset(t, 0, sizeof *t);
	t->line = p->line, t->col = p->col, t->s = p->cur;
	if (p->cur >= p->end) {
		t->kind = T_EOF;
		return 0;
	}
	{
		const char *c = p->cur;
		size_t n = 0;
		if (is_id0(*c)) {
			while (c + n < p->end && is_id(c[n]))
				n++;
			t->kind = T_IDENT;
			t->len = n;
			adv(p, n);
			return 0;
		}
		if (*c == '%') {
			n = 1;
			while (c + n < p->end && is_id(c[n]))
				n++;
			if (n == 1)
				return perr(p, t, "expected a value name after '%%'");
			t->kind = T_VALUE;
			t->s = c + 1;
			t->len = n - 1;
			adv(p, n);
			return 0;
		}
		if (is_digit(*c) || ((*c == '-' || *c == '+' || *c == '.') && c + 1 < p->end &&
		                     (is_digit(c[1]) || c[1] == '.' || c[1] == 'i'))) {
			t->kind = T_NUMBER;
			t->isint = 1;
			if (*c == '-' || *c == '+')
				n++;
			if (c + n + 2 < p->end && memcmp(c + n, "inf", 3) == 0 &&
			    !(c + n + 3 < p->end && is_id(c[n + 3]))) {
				t->isint = 0;
				t->len = n + 3;
				adv(p, t->len);
				return 0;
			}
			while (c + n < p->end && is_digit(c[n]))
				n++;
			if (c + n < p->end && c[n] == '.') {
				t->isint = 0;
				n++;
				while (c + n < p->end && is_digit(c[n]))
					n++;
			}
			if (c + n < p->end && (c[n] == 'e' || c[n] == 'E')) {
				size_t m = n + 1;
				if (c + m < p->end && (c[m] == '-' || c[m] == '+'))
					m++;
				if (c + m < p->end && is_digit(c[m])) {
					t->isint = 0;
					n = m;
					while (c + n < p->end && is_digit(c[n]))
						n++;
				}
			}
			if (c + n < p->end && is_id(c[n])) {
				t->len = n;
				return perr(p, t, "malformed number");
			}
			t->len = n;
			adv(p, n);
			return 0;
		}
		if (*c == '"') {
			n = 1;
			while (c + n < p->end && c[n] != '"') {
				if (c[n] == '\n' || c[n] == 0)
					return perr(p, t, "unterminated string");
				if (c[n] == '\\')
					return perr(p, t, "escapes are not supported in strings");
				n++;
			}
			if (c + n >= p->end)
				return perr(p, t, "unterminated string");
			t->kind = T_STRING;
			t->s = c + 1;
			t->len = n - 1;
			adv(p, n + 1);
			return 0;
		}
		if (strchr("{}()[],:=", *c) && *c) {
			t->kind = T_PUNCT;
			t->len = 1;
			adv(p, 1);
			return 0;
		}
		if ((unsigned char)*c >= 32 && (unsigned char)*c < 127)
			return perr(p, t, "unexpected character '%c'", *c);
		return perr(p, t, "unexpected byte 0x%02x", (unsigned char)*c);
	}
}

static int
is_punct(const Tok *t, char c)
{
	return t->kind == T_PUNCT && t->s[0] == c;
}
static int
is_kw(const Tok *t, const char *kw)
{
	return t->kind == T_IDENT && t->len == strlen(kw) && memcmp(t->s, kw, t->len) == 0;
}

static const char *
tokdesc(const Tok *t, char *buf, size_t n)
{
	switch (t->kind) {
	case T_EOF:
		return "end of file";
	case T_VALUE:
		snprintf(buf, n, "'%%%.*s'", (int)(t->len > 40 ? 40 : t->len), t->s);
		return buf;
	case T_STRING:
		snprintf(buf, n, "a string");
		return buf;
	default:
		snprintf(buf, n, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), t->s);
		return buf;
	}
}

static int
expect_punct(P *p, char c, const char *ctx)
{
	char b[64];
	if (!is_punct(&p->tok, c))
		return perr(p, &p->tok, "expected '%c' %s, got %s", c, ctx,
		            tokdesc(&p->tok, b, 64));
	return next(p);
}

static int
expect_kw(P *p, const char *kw, const char *ctx)
{
	char b[64];
	if (!is_kw(&p->tok, kw))
		return perr(p, &p->tok, "expected '%s' %s, got %s", kw, ctx,
		            tokdesc(&p->tok, b, 64));
	return next(p);
}

/* ---- numbers ---- */

static int
tok_int(P *p, const Tok *t, int64_t lo, int64_t hi, int64_t *out, const char *what)
{
	char buf[64], b[64];
	long long v;
	if (t->kind != T_NUMBER || !t->isint)
		return perr(p, t, "expected an integer %s, got %s", what, tokdesc(t, b, 64));
	if (t->len >= sizeof buf)
		return perr(p, t, "%s out of range", what);
	memcpy(buf, t->s, t->len);
	buf[t->len] = 0;
	errno = 0;
	v = strtoll(buf, NULL, 10);
	if (errno || v < lo || v > hi)
		return perr(p, t, "%s %s out of range %lld..%lld", what, buf, (long long)lo,
		            (long long)hi);
	*out = v;
	return 0;
}

static int
tok_float(P *p, const Tok *t, double *out, const char *what)
{
	char buf[512], b[64];
	if (t->kind == T_IDENT && t->len == 3 && memcmp(t->s, "inf", 3) == 0) {
		*out = INFINITY;
		return 0;
	}
	if (t->kind != T_NUMBER)
		return perr(p, t, "expected a number %s, got %s", what, tokdesc(t, b, 64));
	if (t->len >= sizeof buf)
		return perr(p, t, "number too long");
	memcpy(buf, t->s, t->len);
	buf[t->len] = 0;
	*out = strtod(buf, NULL);
	return 0;
}

/* ---- attribute values ---- */

static int
parse_list(P *p, const IrAttrSpec *spec, IrAttr *a)
{
	size_t cap = 0;
	uint32_t n = 0;
	int64_t *iv = NULL;
	double *fv = NULL;
	int isf = spec->type == IR_A_FLOATS;
	Tok open = p->tok;
	if (!is_punct(&p->tok, '['))
		return perr(p, &p->tok, "attribute '%s' expects a list [...]", spec->name);
	if (next(p))
		return -1;
	while (!is_punct(&p->tok, ']')) {
		if (n && (expect_punct(p, ',', "between list elements")))
			goto fail;
		if (n >= MAX_LIST) {
			perr(p, &open, "list longer than %d elements", MAX_LIST);
			goto fail;
		}
		if (isf) {
			fv = xgrow(fv, &cap, n + 1u, sizeof *fv);
			if (tok_float(p, &p->tok, &fv[n], "in the list"))
				goto fail;
		} else {
			iv = xgrow(iv, &cap, n + 1u, sizeof *iv);
			if (tok_int(p, &p->tok, INT64_MIN, INT64_MAX, &iv[n], "in the list"))
				goto fail;
		}
		n++;
		if (next(p))
			goto fail;
	}
	a->n = n;
	if (isf) {
		a->floats = arena_alloc(p->arena, (n ? n : 1) * sizeof(double));
		if (n)
			memcpy(a->floats, fv, n * sizeof(double));
	} else {
		a->ints = arena_alloc(p->arena, (n ? n : 1) * sizeof(int64_t));
		if (n)
			memcpy(a->ints, iv, n * sizeof(int64_t));
	}
	free(iv);
	free(fv);
	return next(p);
fail:
	free(iv);
	free(fv);
	return -1;
}

/* parse_attr_value: the value at p->tok for spec into a (set; location left to the caller). */
static int
parse_attr_value(P *p, const IrAttrSpec *spec, IrAttr *a)
{
	Tok t = p->tok;
	char b[64];
	a->type = spec->type;
	a->set = 1;
	switch (spec->type) {
	case IR_A_INT:
		if (t.kind != T_NUMBER || !t.isint)
			return perr(p, &t, "attribute '%s' expects an integer, got %s", spec->name,
			            tokdesc(&t, b, 64));
		if (tok_int(p, &t, INT64_MIN, INT64_MAX, &a->i, "value"))
			return -1;
		return next(p);
	case IR_A_FLOAT:
		if (t.kind != T_NUMBER && !is_kw(&t, "inf"))
			return perr(p, &t, "attribute '%s' expects a number, got %s", spec->name,
			            tokdesc(&t, b, 64));
		if (tok_float(p, &t, &a->f, "value"))
			return -1;
		return next(p);
	case IR_A_BOOL:
		if (!is_kw(&t, "true") && !is_kw(&t, "false"))
			return perr(p, &t, "attribute '%s' expects true or false, got %s",
			            spec->name, tokdesc(&t, b, 64));
		a->i = is_kw(&t, "true");
		return next(p);
	case IR_A_ENUM: {
		int e = t.kind == T_IDENT ? ir_enum_index(spec->enums, t.s, t.len) : -1;
		if (e < 0)
			return perr(p, &t, "attribute '%s' expects one of %s, got %s", spec->name,
			            spec->enums, tokdesc(&t, b, 64));
		a->i = e;
		return next(p);
	}
	default:
		return parse_list(p, spec, a);
	}
}

static void
p_init(P *p, const char *buf, size_t len, const char *fname, Arena *ar, Diag *d)
{
	memset(p, 0, sizeof *p);
	p->src = p->cur = buf;
	p->end = buf + len;
	p->line = p->col = 1;
	p->fname = fname;
	p->arena = ar;
	p->d = d;
}

int
ir_attr_parse_text(Arena *ar, const IrAttrSpec *spec, const char *text, IrAttr *a)
{
	P p;
	Diag d = {0};
	p_init(&p, text, strlen(text), "<default>", ar, &d);
	if (next(&p) || parse_attr_value(&p, spec, a) || p.tok.kind != T_EOF)
		return -1;
	return 0;
}

/* ---- types ---- */

static int
parse_type(P *p, IrType *ty, IrLoc *loc)
{
	Tok t = p->tok;
	char b[64];
	int dt = -1, i;
	int64_t elems = 1;
	memset(ty, 0, sizeof *ty);
	ty->q.axis = -1;
	if (loc)
		loc->line = t.line, loc->col = t.col;
	for (i = 0; t.kind == T_IDENT && i < IR_DTYPE_COUNT; i++)
		if (strlen(ir_dtype_names[i]) == t.len &&
		    memcmp(ir_dtype_names[i], t.s, t.len) == 0)
			dt = i;
	if (dt < 0)
		return perr(p, &t, "expected a type (f32, i8, i16 or i32), got %s",
		            tokdesc(&t, b, 64));
	ty->dtype = (uint8_t)dt;
	if (next(p) || expect_punct(p, '[', "after the element type"))
		return -1;
	while (!is_punct(&p->tok, ']')) {
		int64_t v;
		if (ty->rank && expect_punct(p, ',', "between dimensions"))
			return -1;
		if (ty->rank >= IR_MAXRANK)
			return perr(p, &p->tok, "rank greater than %d", IR_MAXRANK);
		if (tok_int(p, &p->tok, 1, IR_MAX_ELEMS, &v, "dimension"))
			return -1;
		if (elems > IR_MAX_ELEMS / v)
			return perr(p, &p->tok, "tensor has more than 2^31 elements");
		elems *= v;
		ty->dim[ty->rank++] = v;
		if (next(p))
			return -1;
	}
	if (next(p))
		return -1;
	if (is_kw(&p->tok, "quant")) {
		Tok q = p->tok;
		float *sc = NULL;
		size_t cap = 0;
		uint32_t n = 0;
		int64_t axis = -1, want = 1;
		if (dt == IR_F32)
			return perr(p, &q, "quant applies only to integer types (i8, i16, i32)");
		if (next(p) || expect_punct(p, '(', "after quant"))
			return -1;
		if (is_kw(&p->tok, "axis")) {
			if (next(p) || expect_punct(p, '=', "after axis"))
				return -1;
			if (tok_int(p, &p->tok, 0, ty->rank ? ty->rank - 1 : 0, &axis,
			            "quant axis"))
				return -1;
			if (!ty->rank)
				return perr(p, &p->tok, "per-axis quant on a scalar");
			want = ty->dim[axis];
			if (next(p) || expect_punct(p, ',', "after the quant axis"))
				return -1;
			if (!is_punct(&p->tok, '['))
				return perr(p, &p->tok,
				            "expected '[' and one scale per index of axis %lld",
				            (long long)axis);
			if (next(p))
				return -1;
		}
		while (axis < 0 ? n < 1 : !is_punct(&p->tok, ']')) {
			double v;
			if (n && expect_punct(p, ',', "between scales"))
				goto qfail;
			if (n >= want) {
				perr(p, &p->tok, "more than %lld scales for axis %lld",
				     (long long)want, (long long)axis);
				goto qfail;
			}
			if (tok_float(p, &p->tok, &v, "as a scale"))
				goto qfail;
			if (!(v > 0) || !isfinite(v) || !isfinite((float)v) || (float)v <= 0) {
				perr(p, &p->tok,
				     "a quantisation scale must be a finite positive number");
				goto qfail;
			}
			sc = xgrow(sc, &cap, n + 1u, sizeof *sc);
			sc[n++] = (float)v;
			if (next(p))
				goto qfail;
		}
		if (n != want) {
			perr(p, &p->tok, "%u scales for axis %lld of size %lld", n, (long long)axis,
			     (long long)want);
			goto qfail;
		}
		if (axis >= 0 && next(p))
			goto qfail;
		if (expect_punct(p, ')', "to close quant"))
			goto qfail;
		ty->q.axis = (int32_t)axis;
		ty->q.nscale = n;
		ty->q.scale = arena_alloc(p->arena, n * sizeof(float));
		memcpy(ty->q.scale, sc, n * sizeof(float));
		free(sc);
		return 0;
	qfail:
		free(sc);
		return -1;
	}
	return 0;
}

/* ---- names ---- */

static char *
tokstr(P *p, const Tok *t)
{
	return arena_strndup(p->arena, t->s, t->len);
}

static int
check_new_name(P *p, const Tok *t)
{
	char *name = tokstr(p, t);
	uint32_t prev = irmap_get(&p->names, name);
	if (t->len > 255)
		return perr(p, t, "name longer than 255 characters");
	if (prev != IR_NONE) {
		const IrTensor *x = &p->g->tensors[prev];
		return perr(p, t, "duplicate name '%s' (first defined at line %u as %s)", name,
		            x->loc.line, ir_kind_names[x->kind]);
	}
	return 0;
}

static IrLoc
tloc(const Tok *t)
{
	IrLoc l = {t->line, t->col};
	return l;
}

static void
set_tensor_loc(P *p, IrTensorId id, const Tok *t)
{
	p->g->tensors[id].loc = tloc(t);
	irmap_put(&p->names, p->g->tensors[id].name, id);
}

/* An operand reference: bare name (input/weight) or %value. IR_NONE with the error set. */
static IrTensorId
parse_ref(P *p)
{
	Tok t = p->tok;
	char *name;
	uint32_t id;
	char b[64];
	if (t.kind != T_IDENT && t.kind != T_VALUE) {
		perr(p, &t, "expected a tensor name, got %s", tokdesc(&t, b, 64));
		return IR_NONE;
	}
	name = tokstr(p, &t);
	id = irmap_get(&p->names, name);
	if (id == IR_NONE) {
		perr(p, &t,
		     t.kind == T_VALUE ? "use of undefined value '%%%s'"
		                       : "unknown tensor '%s' (inputs and weights are declared "
		                         "before use)",
		     name);
		return IR_NONE;
	}
	if (t.kind == T_VALUE && p->g->tensors[id].producer == IR_NONE) {
		perr(p, &t, "'%s' is an %s: write it without '%%'", name,
		     ir_kind_names[p->g->tensors[id].kind]);
		return IR_NONE;
	}
	if (t.kind == T_IDENT && p->g->tensors[id].producer != IR_NONE) {
		perr(p, &t, "'%s' is a node result: write %%%s", name, name);
		return IR_NONE;
	}
	if (next(p))
		return IR_NONE;
	return id;
}

/* ---- statements ---- */

static int
parse_input(P *p)
{
	Tok name;
	IrType ty;
	IrLoc tl;
	IrTensorId id;
	if (next(p))
		return -1;
	name = p->tok;
	if (name.kind != T_IDENT)
		return perr(p, &name, "expected an input name");
	if (check_new_name(p, &name) || next(p) || expect_punct(p, ':', "after the input name") ||
	    parse_type(p, &ty, &tl))
		return -1;
	if (ty.q.nscale == 0)
		ty.q.axis = -1;
	id = ir_add_input(p->g, tokstr(p, &name), &ty);
	set_tensor_loc(p, id, &name);
	p->g->tensors[id].type_loc = tl;
	return 0;
}

static IrSafetensors *
st_get(P *p, const char *path, const Tok *t)
{
	char full[4096], msg[1024];
	int i;
	IrSafetensors *st;
	ir_resolve_path(p->g, path, full, sizeof full);
	for (i = 0; i < p->nst; i++)
		if (strcmp(p->st[i].path, full) == 0)
			return p->st[i].st;
	st = ir_st_open_msg(full, msg, sizeof msg);
	if (!st) {
		perr(p, t, "safetensors file '%s': %s", path, msg);
		return NULL;
	}
	if (p->nst == MAX_ST_CACHE) {
		ir_st_close(p->st[0].st);
		free(p->st[0].path);
		memmove(p->st, p->st + 1, (MAX_ST_CACHE - 1) * sizeof p->st[0]);
		p->nst--;
	}
	p->st[p->nst].path = xstrdup(full);
	p->st[p->nst++].st = st;
	return st;
}

static int
parse_source(P *p, IrWeight *w, const IrType *ty)
{
	Tok s = p->tok;
	char b[64];
	memset(w, 0, sizeof *w);
	w->src_loc = tloc(&s);
	if (is_kw(&s, "safetensors")) {
		w->src = IR_W_SAFETENSORS;
		if (next(p) || expect_punct(p, '(', "after safetensors"))
			return -1;
		if (p->tok.kind != T_STRING)
			return perr(p, &p->tok, "expected the safetensors file name as a string");
		w->path = tokstr(p, &p->tok);
		w->path_loc = tloc(&p->tok);
		if (next(p) || expect_punct(p, ',', "after the file name"))
			return -1;
		if (p->tok.kind != T_STRING)
			return perr(p, &p->tok, "expected the tensor key as a string");
		w->key = tokstr(p, &p->tok);
		w->key_loc = tloc(&p->tok);
		if (next(p))
			return -1;
	} else if (is_kw(&s, "random")) {
		Tok dt;
		int64_t seed;
		w->src = IR_W_RANDOM;
		if (next(p) || expect_punct(p, '(', "after random"))
			return -1;
		dt = p->tok;
		if (is_kw(&dt, "uniform"))
			w->dist = IR_UNIFORM;
		else if (is_kw(&dt, "normal"))
			w->dist = IR_NORMAL;
		else
			return perr(p, &dt, "expected a distribution (uniform or normal), got %s",
			            tokdesc(&dt, b, 64));
		if (next(p) || expect_punct(p, ',', "after the distribution"))
			return -1;
		w->path_loc = tloc(&p->tok); /* the parameters, for range errors */
		if (tok_float(p, &p->tok, &w->a, "(the first parameter)") || next(p) ||
		    expect_punct(p, ',', "after the first parameter") ||
		    tok_float(p, &p->tok, &w->b, "(the second parameter)") || next(p) ||
		    expect_punct(p, ',', "after the second parameter") ||
		    expect_kw(p, "seed", "(random needs an explicit seed=N)") ||
		    expect_punct(p, '=', "after seed"))
			return -1;
		if (tok_int(p, &p->tok, 0, INT64_MAX, &seed, "seed") || next(p))
			return -1;
		w->seed = (uint64_t)seed;
	} else if (is_kw(&s, "fill")) {
		w->src = IR_W_FILL;
		if (next(p) || expect_punct(p, '(', "after fill"))
			return -1;
		w->path_loc = tloc(&p->tok);
		if (tok_float(p, &p->tok, &w->a, "to fill with") || next(p))
			return -1;
	} else if (is_kw(&s, "data")) {
		int64_t want = ir_type_elems(ty), n = 0;
		float *vals = NULL;
		size_t cap = 0;
		w->src = IR_W_DATA;
		if (next(p) || expect_punct(p, '(', "after data") ||
		    expect_punct(p, '[', "to start the values"))
			return -1;
		/* grown as values arrive, so a huge declared type costs nothing until written */
		while (!is_punct(&p->tok, ']')) {
			double v;
			if ((n && expect_punct(p, ',', "between values")))
				goto dfail;
			if (n >= want) {
				perr(p, &p->tok, "more values than the %lld elements of the type",
				     (long long)want);
				goto dfail;
			}
			if (tok_float(p, &p->tok, &v, "in data"))
				goto dfail;
			if (!isfinite((float)v)) {
				perr(p, &p->tok, "weight values must be finite as f32");
				goto dfail;
			}
			vals = xgrow(vals, &cap, (size_t)n + 1, sizeof *vals);
			vals[n++] = (float)v;
			if (next(p))
				goto dfail;
		}
		if (n != want) {
			perr(p, &p->tok, "%lld values for %lld elements", (long long)n,
			     (long long)want);
			goto dfail;
		}
		w->data = arena_alloc(p->arena, (size_t)want * sizeof(float));
		memcpy(w->data, vals, (size_t)want * sizeof(float));
		free(vals);
		if (next(p))
			return -1;
		goto close;
	dfail:
		free(vals);
		return -1;
	} else {
		return perr(p, &s,
		            "expected a weight source: safetensors(...), random(...), fill(...) or "
		            "data([...]), got %s",
		            tokdesc(&s, b, 64));
	}
close:
	return expect_punct(p, ')', "to close the weight source");
}

static int
parse_weight(P *p)
{
	Tok name;
	IrType ty;
	IrLoc tl;
	IrWeight w;
	IrTensorId id;
	if (next(p))
		return -1;
	name = p->tok;
	if (name.kind != T_IDENT)
		return perr(p, &name, "expected a weight name");
	if (check_new_name(p, &name) || next(p) || expect_punct(p, ':', "after the weight name") ||
	    parse_type(p, &ty, &tl) || expect_punct(p, '=', "and a source after the weight type") ||
	    parse_source(p, &w, &ty))
		return -1;
	id = ir_add_weight(p->g, tokstr(p, &name), &ty, &w);
	set_tensor_loc(p, id, &name);
	p->g->tensors[id].type_loc = tl;
	if (ir_weight_check(p->g, id, p->d))
		return -1;
	if (w.src == IR_W_SAFETENSORS && !(p->flags & IR_PARSE_NO_IO)) {
		IrSafetensors *st =
		    st_get(p, w.path, &(Tok){.line = w.path_loc.line, .col = w.path_loc.col});
		if (!st || ir_weight_check_st(p->g, id, st, p->d))
			return -1;
	}
	return 0;
}

static int
parse_attrs(P *p, IrNode *n)
{
	const IrOpInfo *oi = &ir_ops[n->op];
	int count = 0;
	char b[64];
	if (next(p))
		return -1;
	while (!is_punct(&p->tok, '}')) {
		Tok name;
		int k;
		if (count && expect_punct(p, ',', "between attributes"))
			return -1;
		name = p->tok;
		if (name.kind != T_IDENT)
			return perr(p, &name, "expected an attribute name, got %s",
			            tokdesc(&name, b, 64));
		k = ir_attr_index(n->op, name.s, name.len);
		if (k < 0) {
			char list[512] = "";
			uint32_t i;
			for (i = 0; i < oi->nattr; i++) {
				size_t l = strlen(list);
				snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "",
				         oi->attrs[i].name);
			}
			return perr(p, &name, "unknown attribute '%.*s' of %s (%s%s)",
			            (int)name.len, name.s, oi->name,
			            oi->nattr ? "expected one of: " : "it has none", list);
		}
		if (n->attr[k].given)
			return perr(p, &name, "attribute '%s' given twice", oi->attrs[k].name);
		if (next(p) || expect_punct(p, '=', "after the attribute name"))
			return -1;
		n->attr[k].n = 0;
		if (parse_attr_value(p, &oi->attrs[k], &n->attr[k]))
			return -1;
		n->attr[k].given = 1;
		n->attr[k].loc = tloc(&name);
		count++;
	}
	return next(p);
}

static int
parse_node(P *p)
{
	Tok res[IR_MAXOUT], opt;
	const char *names[IR_MAXOUT];
	unsigned nres = 0, i, nin = 0;
	IrTensorId in[IR_MAXIN];
	IrLoc inloc[IR_MAXIN];
	IrNodeId nid;
	IrNode *n;
	int op;
	char b[64];
	for (;;) {
		if (p->tok.kind != T_VALUE)
			return perr(p, &p->tok, "expected a result name (%%name), got %s",
			            tokdesc(&p->tok, b, 64));
		if (nres == IR_MAXOUT)
			return perr(p, &p->tok, "more than %d results", IR_MAXOUT);
		if (check_new_name(p, &p->tok))
			return -1;
		for (i = 0; i < nres; i++)
			if (res[i].len == p->tok.len && memcmp(res[i].s, p->tok.s, p->tok.len) == 0)
				return perr(p, &p->tok, "duplicate name '%.*s'", (int)p->tok.len,
				            p->tok.s);
		res[nres++] = p->tok;
		if (next(p))
			return -1;
		if (!is_punct(&p->tok, ','))
			break;
		if (next(p))
			return -1;
	}
	if (expect_punct(p, '=', "after the result name"))
		return -1;
	opt = p->tok;
	if (opt.kind != T_IDENT)
		return perr(p, &opt, "expected an op name, got %s", tokdesc(&opt, b, 64));
	op = ir_op_lookup(opt.s, opt.len);
	if (op < 0)
		return perr(p, &opt, "unknown op '%.*s'", (int)(opt.len > 64 ? 64 : opt.len),
		            opt.s);
	if (next(p) || expect_punct(p, '(', "after the op name"))
		return -1;
	while (!is_punct(&p->tok, ')')) {
		if (nin && expect_punct(p, ',', "between operands"))
			return -1;
		if (nin >= ir_ops[op].nin_max)
			return perr(p, &p->tok, "too many operands: %s takes at most %u (%s)",
			            ir_ops[op].name, ir_ops[op].nin_max, ir_ops[op].operands);
		inloc[nin] = tloc(&p->tok);
		if (is_kw(&p->tok, "_")) {
			char nb[32];
			if (nin < ir_ops[op].nin_min)
				return perr(p, &p->tok, "operand '%s' of %s is required",
				            ir_op_operand_name((unsigned)op, nin, nb, sizeof nb),
				            ir_ops[op].name);
			in[nin++] = IR_NONE;
			if (next(p))
				return -1;
			continue;
		}
		in[nin] = parse_ref(p);
		if (in[nin] == IR_NONE)
			return -1;
		nin++;
	}
	if (nin < ir_ops[op].nin_min)
		return perr(p, &p->tok, "too few operands: %s takes %s%u (%s)", ir_ops[op].name,
		            ir_ops[op].nin_min == ir_ops[op].nin_max ? "" : "at least ",
		            ir_ops[op].nin_min, ir_ops[op].operands);
	while (nin > ir_ops[op].nin_min && in[nin - 1] == IR_NONE)
		nin--; /* trailing '_' are the same as leaving the operands out */
	if (next(p))
		return -1;
	if (nres != ir_ops[op].nout)
		return perr(p, &res[0], "%s has %u result%s, %u named", ir_ops[op].name,
		            ir_ops[op].nout, ir_ops[op].nout == 1 ? "" : "s", nres);
	nid = ir_node_new(p->g, (IrOpcode)op, in, nin);
	n = &p->g->nodes[nid];
	n->loc = tloc(&opt);
	for (i = 0; i < nin; i++)
		n->inloc[i] = inloc[i];
	if (is_punct(&p->tok, '{') && parse_attrs(p, &p->g->nodes[nid]))
		return -1;
	for (i = 0; i < nres; i++)
		names[i] = tokstr(p, &res[i]);
	if (ir_node_finish(p->g, nid, names, p->d) == IR_NONE)
		return -1;
	for (i = 0; i < nres; i++)
		set_tensor_loc(p, p->g->nodes[nid].out[i], &res[i]);
	if (is_punct(&p->tok, ':')) {
		if (next(p))
			return -1;
		for (i = 0; i < nres; i++) {
			IrType ty;
			IrLoc tl;
			Tok tt;
			IrTensor *x;
			char w1[96], w2[96];
			if (i && expect_punct(p, ',', "between result types"))
				return -1;
			tt = p->tok;
			if (parse_type(p, &ty, &tl))
				return -1;
			x = &p->g->tensors[p->g->nodes[nid].out[i]];
			if (!ir_shape_equal(&ty, &x->type) ||
			    ((ty.dtype == IR_F32) != (x->type.dtype == IR_F32)))
				return perr(p, &tt, "result type %s does not match the inferred %s",
				            ir_type_str(&ty, w1, sizeof w1),
				            ir_type_str(&x->type, w2, sizeof w2));
			x->type = ty;
			x->type_loc = tl;
		}
	}
	return 0;
}

static int
parse_output(P *p)
{
	Tok name;
	char *s;
	uint32_t prev;
	IrTensorId t;
	if (next(p))
		return -1;
	name = p->tok;
	if (name.kind != T_IDENT)
		return perr(p, &name, "expected an output name");
	s = tokstr(p, &name);
	prev = irmap_get(&p->outnames, s);
	if (prev != IR_NONE)
		return perr(p, &name, "duplicate output name '%s'", s);
	prev = irmap_get(&p->names, s);
	if (prev != IR_NONE && p->g->tensors[prev].kind == IR_INPUT)
		return perr(p, &name, "output name '%s' is already an input", s);
	if (next(p) || expect_punct(p, '=', "after the output name"))
		return -1;
	t = parse_ref(p);
	if (t == IR_NONE)
		return -1;
	irmap_put(&p->outnames, s, p->g->noutputs);
	ir_add_output(p->g, s, t);
	p->g->outputs[p->g->noutputs - 1].loc = tloc(&name);
	return 0;
}

static int
parse_graph(P *p)
{
	Tok t;
	int64_t ver;
	char b[64];
	if (next(p))
		return -1;
	if (!is_kw(&p->tok, "kir"))
		return perr(p, &p->tok, "expected 'kir %d' at the start of a .kir file",
		            IR_KIR_VERSION);
	if (next(p))
		return -1;
	if (tok_int(p, &p->tok, 0, 1000000, &ver, "format version"))
		return -1;
	if (ver != IR_KIR_VERSION)
		return perr(p, &p->tok, "unsupported .kir version %lld (this is version %d)",
		            (long long)ver, IR_KIR_VERSION);
	if (next(p) || expect_kw(p, "graph", "after the version"))
		return -1;
	if (p->tok.kind != T_IDENT)
		return perr(p, &p->tok, "expected the graph name, got %s", tokdesc(&p->tok, b, 64));
	p->g->name = tokstr(p, &p->tok);
	if (next(p) || expect_punct(p, '{', "to open the graph"))
		return -1;
	for (;;) {
		t = p->tok;
		if (is_punct(&t, '}'))
			break;
		if (is_kw(&t, "input")) {
			if (parse_input(p))
				return -1;
		} else if (is_kw(&t, "weight")) {
			if (parse_weight(p))
				return -1;
		} else if (is_kw(&t, "output")) {
			if (parse_output(p))
				return -1;
		} else if (t.kind == T_VALUE) {
			if (parse_node(p))
				return -1;
		} else if (t.kind == T_EOF) {
			return perr(p, &t,
			            "unexpected end of file: missing '}' to close graph '%s'",
			            p->g->name);
		} else {
			return perr(
			    p, &t,
			    "expected a statement (input, weight, %%result = op(...), output) or "
			    "'}', got %s",
			    tokdesc(&t, b, 64));
		}
	}
	if (p->g->noutputs == 0)
		return perr(p, &t, "graph '%s' has no outputs", p->g->name);
	if (next(p))
		return -1;
	if (p->tok.kind != T_EOF)
		return perr(p, &p->tok, "unexpected %s after the graph", tokdesc(&p->tok, b, 64));
	return 0;
}

Graph *
ir_parse_mem(const char *buf, size_t len, const char *fname, const char *base_dir, unsigned flags,
             Diag *d)
{
	P p;
	Graph *g;
	int r, i;
	if (len > MAX_KIR_BYTES) {
		diag_err(d, fname, "file larger than %d bytes", MAX_KIR_BYTES);
		return NULL;
	}
	g = ir_new("g");
	g->file = arena_strdup(g->arena, fname ? fname : "<input>");
	g->base_dir = base_dir ? arena_strdup(g->arena, base_dir) : NULL;
	g->src = arena_strndup(g->arena, buf, len);
	p_init(&p, g->src, len, g->file, g->arena, d);
	p.g = g;
	p.flags = flags;
	r = parse_graph(&p);
	for (i = 0; i < p.nst; i++) {
		ir_st_close(p.st[i].st);
		free(p.st[i].path);
	}
	irmap_free(&p.names);
	irmap_free(&p.outnames);
	if (r == 0 && (flags & IR_PARSE_LOAD_WEIGHTS))
		r = ir_load_weights(g, d);
	if (r != 0) {
		ir_free(g);
		return NULL;
	}
	return g;
}

Graph *
ir_parse_file(const char *path, unsigned flags, Diag *d)
{
	size_t len;
	char *buf = read_file(path, MAX_KIR_BYTES, &len, d), *dir;
	const char *slash;
	Graph *g;
	if (!buf)
		return NULL;
	slash = strrchr(path, '/');
	dir = slash ? xstrdup(path) : NULL;
	if (dir)
		dir[slash - path] = 0;
	if (dir && !dir[0]) {
		free(dir);
		dir = xstrdup("/");
	}
	g = ir_parse_mem(buf, len, path, dir, flags, d);
	free(buf);
	free(dir);
	return g;
}
