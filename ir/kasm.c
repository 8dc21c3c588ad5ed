/* kasm.c: the file-level assembler: .s text -> validated KProg (syntax in docs/binary.md).
 *
 * Two passes over the same line handler. Pass 1 builds a scratch program, collects the labels
 * of every core and reports every error except undefined labels, in source order; pass 2
 * assembles for real with the labels known and checks branch targets against the code sizes of
 * pass 1. Every error is file:line:col with the source line and a caret. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "isa.h"
#include "kasm_int.h"

/* ---- labels: (core, name) -> pc, open addressing ---- */

static uint64_t
label_hash(uint64_t core, const char *name, size_t len)
{
	return fnv1a64(name, len, FNV1A64_INIT ^ core * 0x9e3779b97f4a7c15ull);
}

static Label *
label_slot(Labels *t, uint64_t core, const char *name, size_t len)
{
	size_t i = (size_t)label_hash(core, name, len) & (t->cap - 1);
	for (;; i = (i + 1) & (t->cap - 1)) {
		Label *l = &t->v[i];
		if (!l->core || (l->core == core && l->len == len && !memcmp(l->name, name, len)))
			return l;
	}
}

/* label_put: 0, or -1 if (core, name) is already defined. */
static int
label_put(Labels *t, uint64_t core, const char *name, size_t len, uint32_t pc)
{
	Label *l;
	if (2 * (t->n + 1) > t->cap) {
		Labels old = *t;
		size_t i;
		t->cap = old.cap ? 2 * old.cap : 64;
		t->v = xcalloc(t->cap, sizeof *t->v);
		t->n = 0;
		for (i = 0; i < old.cap; i++)
			if (old.v[i].core) {
				*label_slot(t, old.v[i].core, old.v[i].name, old.v[i].len) =
				    old.v[i];
				t->n++;
			}
		free(old.v);
	}
	l = label_slot(t, core, name, len);
	if (l->core)
		return -1;
	*l = (Label){core, name, len, pc};
	t->n++;
	return 0;
}

Label *
kasm_label_get(Labels *t, uint64_t core, const char *name, size_t len)
{
	Label *l;
	if (!t->cap)
		return NULL;
	l = label_slot(t, core, name, len);
	return l->core ? l : NULL;
}

/* kasm_err: see kasm_int.h. */
int
kasm_err(KAsm *a, const char *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return diag_at(a->d, a->file, a->line, (int)(at - a->buf) + 1, a->src, "%s", msg);
}

uint64_t
kasm_core_key(const KAsm *a)
{
	return ((uint64_t)a->core->tile << 32 | a->core->core) + 1;
}

void
kasm_skip_sep(KAsm *a)
{
	while (*a->q == ' ' || *a->q == '\t')
		a->q++;
	if (*a->q == ',') {
		a->q++;
		while (*a->q == ' ' || *a->q == '\t')
			a->q++;
	}
}

int
kasm_at_end(KAsm *a)
{
	while (*a->q == ' ' || *a->q == '\t')
		a->q++;
	return *a->q == 0;
}

/* word: the next run of non-separator characters. */
size_t
kasm_word(KAsm *a, const char **start)
{
	kasm_skip_sep(a);
	*start = a->q;
	while (*a->q && !strchr(" \t,[]", *a->q))
		a->q++;
	return (size_t)(a->q - *start);
}

/* num: an integer in [lo, hi] (decimal or 0x hex, optional '-'). */
int
kasm_num(KAsm *a, int64_t lo, int64_t hi, int64_t *out, const char *what)
{
	const char *s;
	size_t n = kasm_word(a, &s);
	char tmp[64], *end;
	long long v;
	unsigned long long u;
	if (n == 0)
		return kasm_err(a, s, "expected %s", what);
	if (n >= sizeof tmp)
		return kasm_err(a, s, "malformed number for %s", what);
	memcpy(tmp, s, n);
	tmp[n] = 0;
	errno = 0;
	if (tmp[0] == '-') {
		v = strtoll(tmp, &end, 0);
	} else {
		u = strtoull(tmp, &end, 0);
		v = u > INT64_MAX ? INT64_MAX : (long long)u;
	}
	if (errno || *end || !(isdigit((unsigned char)tmp[0]) || tmp[0] == '-'))
		return kasm_err(a, s, "malformed number for %s", what);
	if (v < lo || v > hi)
		return kasm_err(a, s, "%s out of range [%lld, %lld]", what, (long long)lo,
		                (long long)hi);
	*out = v;
	return 0;
}

int
kasm_num_u32(KAsm *a, uint32_t lo, uint32_t hi, uint32_t *out, const char *what)
{
	int64_t v;
	if (kasm_num(a, lo, hi, &v, what))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* name: a name token (kprog_name_ok); returns its start and length. */
int
kasm_name(KAsm *a, const char **s, size_t *n, const char *what)
{
	*n = kasm_word(a, s);
	if (*n == 0)
		return kasm_err(a, *s, "expected %s", what);
	if (!kprog_name_ok(*s, *n))
		return kasm_err(a, *s,
		                "bad %s '%.*s' (1..%d characters of A-Z a-z 0-9 _ . $ / : @ -, not "
		                "starting with a digit or '-')",
		                what, (int)*n, *s, KELF_MAX_NAME);
	return 0;
}

int
kasm_expect_end(KAsm *a, const char *what)
{
	if (!kasm_at_end(a))
		return kasm_err(a, a->q, "unexpected text after %s", what);
	return 0;
}

int
kasm_need_core(KAsm *a, const char *at, const char *what)
{
	if (!a->core)
		return kasm_err(a, at, "%s before any .core directive", what);
	return 0;
}

uint32_t
kasm_p1_ncode(KAsm *a)
{
	const KCore *c;
	if (a->pass == 1)
		return UINT32_MAX;
	c = kprog_find_core(a->p1, a->core->tile, a->core->core);
	return c ? c->ncode : 0;
}

/* ---- lines ---- */

static int
label_cb(void *ctx, const char *nm, size_t len, int64_t *index)
{
	KAsm *a = ctx;
	Label *l;
	if (a->pass == 1) {
		*index = a->core->ncode; /* any value: labels are resolved in pass 2 */
		return 0;
	}
	l = kasm_label_get(a->labels, kasm_core_key(a), nm, len);
	if (!l)
		return -1;
	*index = l->pc;
	return 0;
}

static int
instruction(KAsm *a)
{
	const char *at = a->q;
	char err[256];
	int col = 0;
	Insn in;
	uint32_t pc;
	uint64_t w;
	if (kasm_need_core(a, at, "instruction") || kasm_xbar_pending(a, at))
		return -1;
	pc = a->core->ncode;
	if (pc >= KELF_MAX_SECTION / 8)
		return kasm_err(a, at, "too many instructions on core t%u.c%u", a->core->tile,
		                a->core->core);
	if (isa_parse(at, pc, label_cb, a, &in, err, sizeof err, &col) != 0)
		return kasm_err(a, at + col, "%s", err);
	if (a->pass == 2 && strchr(isa_fmts[isa_info(in.op)->fmt].operands, 'l')) {
		int64_t t = (int64_t)pc + in.imm;
		uint32_t n = kasm_p1_ncode(a);
		if (t < 0 || t >= n)
			return kasm_err(a, at,
			                "branch target pc %lld is outside the code of core t%u.c%u "
			                "(0..%u)",
			                (long long)t, a->core->tile, a->core->core, n ? n - 1 : 0);
	}
	w = isa_encode(&in);
	kprog_add_code(a->core, &w, 1);
	return 0;
}

static int
one_line(KAsm *a)
{
	const char *s;
	a->q = a->buf;
	if (kasm_at_end(a))
		return 0;
	/* a label definition "name:" */
	s = a->q;
	while (isalnum((unsigned char)*a->q) || *a->q == '_' || *a->q == '.' || *a->q == '$')
		a->q++;
	if (a->q > s && *a->q == ':' && !isdigit((unsigned char)*s)) {
		if (kasm_need_core(a, s, "label"))
			return -1;
		if (a->pass == 1 && label_put(a->labels, kasm_core_key(a), a->src + (s - a->buf),
		                              (size_t)(a->q - s), a->core->ncode) != 0)
			return kasm_err(a, s, "label '%.*s' defined twice on core t%u.c%u",
			                (int)(a->q - s), s, a->core->tile, a->core->core);
		a->q++;
		if (kasm_at_end(a))
			return 0;
	} else {
		a->q = s;
	}
	if (*a->q == '.')
		return kasm_directive(a);
	return instruction(a);
}

/* run_pass: every line of src through one_line, then the end-of-file checks. */
static int
run_pass(KAsm *a, const char *src)
{
	const char *p = src;
	a->line = 0;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p), i;
		a->line++;
		a->src = p;
		a->buf = xgrow(a->buf, &a->bufcap, n + 1, 1);
		for (i = 0; i < n && p[i] != '#' && p[i] != ';' && p[i] != '\r'; i++)
			a->buf[i] = p[i] == 0 ? ' ' : p[i];
		a->buf[i] = 0;
		if (one_line(a))
			return -1;
		p = nl ? nl + 1 : p + n;
	}
	if (a->xb_open) {
		a->src = NULL;
		return diag_at(a->d, a->file, a->xb_line, 1, diag_src_line(src, a->xb_line),
		               "crossbar image of MVMU %u has %u of its %u rows at the end of the "
		               "file",
		               a->xb_unit, a->xb_got, a->xb_rows);
	}
	if (a->ly_open)
		return diag_at(a->d, a->file, a->ly_line, a->ly_col, a->ly_src,
		               "layer '%s' is not closed (missing .endlayer)", a->ly_name);
	if (kasm_end_seg(a))
		return -1;
	if (a->p->ncores == 0)
		return diag_err(a->d, a->file, "no code: the file has no .core directive");
	return 0;
}

static void
a_reset(KAsm *a, int pass, KProg *p)
{
	free(a->xb_w);
	free(a->seg_data.p);
	a->pass = pass;
	a->p = p;
	a->core = NULL;
	a->arch_seen = 0;
	a->seg = SEG_NONE;
	memset(&a->seg_data, 0, sizeof a->seg_data);
	a->xb_open = 0;
	a->xb_w = NULL;
	a->ly_open = 0;
}

int
kasm_parse(const char *src, const char *file, KProg **out, Diag *d)
{
	KAsm a;
	Labels labels = {0};
	KProg *p1 = kprog_new(), *p2 = NULL;
	int rc = -1;
	memset(&a, 0, sizeof a);
	a.file = file ? file : "<input>";
	a.d = d;
	a.labels = &labels;
	*out = NULL;
	a_reset(&a, 1, p1);
	if (run_pass(&a, src))
		goto out;
	p2 = kprog_new();
	a.p1 = p1;
	a_reset(&a, 2, p2);
	if (run_pass(&a, src) || kprog_validate(p2, a.file, d))
		goto out;
	*out = p2;
	p2 = NULL;
	rc = 0;
out:
	a_reset(&a, 0, NULL);
	free(a.buf);
	free(labels.v);
	kprog_free(p1);
	kprog_free(p2);
	return rc;
}

int
kasm_file(const char *path, KProg **out, Diag *d)
{
	char *src = read_file(path, KELF_MAX_ASM, NULL, d);
	int rc;
	*out = NULL;
	if (!src)
		return -1;
	rc = kasm_parse(src, path, out, d);
	free(src);
	return rc;
}
