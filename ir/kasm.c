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
#include "kelf.h"
#include "kelf_fmt.h"

/* ---- labels: (core, name) -> pc, open addressing ---- */

typedef struct Label {
	uint64_t core; /* (tile << 32 | core) + 1; 0 marks an empty slot */
	const char *name;
	size_t len;
	uint32_t pc;
} Label;

typedef struct Labels {
	Label *v;
	size_t cap, n;
} Labels;

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

static Label *
label_get(Labels *t, uint64_t core, const char *name, size_t len)
{
	Label *l;
	if (!t->cap)
		return NULL;
	l = label_slot(t, core, name, len);
	return l->core ? l : NULL;
}

/* ---- assembler state ---- */

enum SegKind { SEG_NONE, SEG_SPAD, SEG_TMEM, SEG_DRAM };

typedef struct A {
	const char *file;
	Diag *d;
	int pass;
	KProg *p;        /* the program being built */
	const KProg *p1; /* pass 2: the pass-1 program, for code sizes */
	Labels *labels;
	/* the current line */
	int line;
	const char *src; /* its text in the source (for the caret) */
	char *buf;       /* NUL-terminated copy without the comment */
	size_t bufcap;
	const char *q; /* parse position in buf */
	/* directives in progress */
	KCore *core;
	int arch_seen;
	enum SegKind seg;
	uint32_t seg_tile, seg_addr;
	int seg_line, seg_col;
	const char *seg_src;
	Bytes seg_data;
	int xb_open, xb_line;
	uint32_t xb_unit, xb_rows, xb_cols, xb_wbits, xb_got;
	int32_t *xb_w;
	int ly_open, ly_line, ly_col;
	const char *ly_src;
	char ly_name[KELF_MAX_NAME + 1];
	uint32_t ly_pc;
} A;

static int aerr(A *a, const char *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* aerr: an error at `at` (a pointer into a->buf) on the current line. */
static int
aerr(A *a, const char *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return diag_at(a->d, a->file, a->line, (int)(at - a->buf) + 1, a->src, "%s", msg);
}

static uint64_t
cur_core_key(const A *a)
{
	return ((uint64_t)a->core->tile << 32 | a->core->core) + 1;
}

static void
skip_sep(A *a)
{
	while (*a->q == ' ' || *a->q == '\t')
		a->q++;
	if (*a->q == ',') {
		a->q++;
		while (*a->q == ' ' || *a->q == '\t')
			a->q++;
	}
}

static int
at_end(A *a)
{
	while (*a->q == ' ' || *a->q == '\t')
		a->q++;
	return *a->q == 0;
}

static int
is_name_char(int c)
{
	return isalnum(c) || (c && strchr("_.$/:@-", c));
}

/* word: the next run of non-separator characters. */
static size_t
word(A *a, const char **start)
{
	skip_sep(a);
	*start = a->q;
	while (*a->q && !strchr(" \t,[]", *a->q))
		a->q++;
	return (size_t)(a->q - *start);
}

/* num: an integer in [lo, hi] (decimal or 0x hex, optional '-'). */
static int
num(A *a, int64_t lo, int64_t hi, int64_t *out, const char *what)
{
	const char *s;
	size_t n = word(a, &s);
	char tmp[64], *end;
	long long v;
	unsigned long long u;
	if (n == 0)
		return aerr(a, s, "expected %s", what);
	if (n >= sizeof tmp)
		return aerr(a, s, "malformed number for %s", what);
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
		return aerr(a, s, "malformed number for %s", what);
	if (v < lo || v > hi)
		return aerr(a, s, "%s out of range [%lld, %lld]", what, (long long)lo,
		            (long long)hi);
	*out = v;
	return 0;
}

static int
num_u32(A *a, uint32_t lo, uint32_t hi, uint32_t *out, const char *what)
{
	int64_t v;
	if (num(a, lo, hi, &v, what))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* fingerprint: a 64-bit unsigned number. */
static int
fingerprint(A *a, uint64_t *out)
{
	const char *s;
	size_t n = word(a, &s);
	char tmp[32], *end;
	if (n == 0 || n >= sizeof tmp || !isdigit((unsigned char)*s))
		return aerr(a, s, "expected an architecture fingerprint (64-bit number)");
	memcpy(tmp, s, n);
	tmp[n] = 0;
	errno = 0;
	*out = strtoull(tmp, &end, 0);
	if (errno || *end)
		return aerr(a, s, "malformed architecture fingerprint");
	return 0;
}

/* name: a name token (kprog_name_ok); returns its start and length. */
static int
name(A *a, const char **s, size_t *n, const char *what)
{
	*n = word(a, s);
	if (*n == 0)
		return aerr(a, *s, "expected %s", what);
	if (!kprog_name_ok(*s, *n))
		return aerr(a, *s,
		            "bad %s '%.*s' (1..%d characters of A-Z a-z 0-9 _ . $ / : @ -, not "
		            "starting with a digit or '-')",
		            what, (int)*n, *s, KELF_MAX_NAME);
	return 0;
}

static int
expect_end(A *a, const char *what)
{
	if (!at_end(a))
		return aerr(a, a->q, "unexpected text after %s", what);
	return 0;
}

static int
need_core(A *a, const char *at, const char *what)
{
	if (!a->core)
		return aerr(a, at, "%s before any .core directive", what);
	return 0;
}

/* ---- closing open directives ---- */

static int
seg_overlap(A *a, const KSegs *s, uint32_t addr, uint32_t len)
{
	uint32_t i;
	for (i = 0; i < s->n; i++)
		if (addr < (uint64_t)s->v[i].addr + s->v[i].len &&
		    s->v[i].addr < (uint64_t)addr + len)
			return diag_at(a->d, a->file, a->seg_line, a->seg_col, a->seg_src,
			               "data at 0x%x..0x%x overlaps the segment at 0x%x", addr,
			               (uint32_t)(addr + len - 1), s->v[i].addr);
	return 0;
}

/* end_seg: turn the open data segment into a KSeg. */
static int
end_seg(A *a)
{
	KSegs *s;
	uint32_t len = (uint32_t)a->seg_data.n;
	if (a->seg == SEG_NONE)
		return 0;
	if (len == 0)
		return diag_at(a->d, a->file, a->seg_line, a->seg_col, a->seg_src,
		               "empty data segment (no .byte/.half/.word/.zero follows)");
	if ((uint64_t)a->seg_addr + len > ((uint64_t)1 << 32))
		return diag_at(a->d, a->file, a->seg_line, a->seg_col, a->seg_src,
		               "data segment of %u bytes at 0x%x runs past the 4 GiB address space",
		               len, a->seg_addr);
	s = a->seg == SEG_SPAD   ? &a->core->spad
	    : a->seg == SEG_TMEM ? &kprog_tile(a->p, a->seg_tile)->tmem
	                         : &a->p->dram;
	if (seg_overlap(a, s, a->seg_addr, len))
		return -1;
	kprog_add_seg(s, a->seg_addr, a->seg_data.p, len);
	a->seg_data.n = 0;
	a->seg = SEG_NONE;
	return 0;
}

/* xbar_pending: an error if a crossbar image still wants rows. */
static int
xbar_pending(A *a, const char *at)
{
	if (a->xb_open)
		return aerr(a, at,
		            "expected .row (the crossbar image of MVMU %u needs %u rows, has %u)",
		            a->xb_unit, a->xb_rows, a->xb_got);
	return 0;
}

/* ---- directives ---- */

static int
d_arch(A *a, const char *at)
{
	const char *s;
	size_t n;
	uint64_t fp = 0;
	char nm[KELF_MAX_NAME + 1];
	if (a->arch_seen)
		return aerr(a, at, ".arch given twice");
	if (name(a, &s, &n, "architecture name") || fingerprint(a, &fp) ||
	    expect_end(a, ".arch NAME FINGERPRINT"))
		return -1;
	memcpy(nm, s, n);
	nm[n] = 0;
	kprog_set_arch(a->p, nm, fp);
	a->arch_seen = 1;
	return 0;
}

static int
d_core(A *a, const char *at)
{
	uint32_t t, c;
	if (a->ly_open)
		return aerr(a, at, "layer '%s' is still open (missing .endlayer)", a->ly_name);
	if (num_u32(a, 0, KELF_MAX_TILES - 1, &t, "a tile id") ||
	    num_u32(a, 0, KELF_MAX_CORES - 1, &c, "a core id") || expect_end(a, ".core TILE CORE"))
		return -1;
	a->core = kprog_core(a->p, t, c);
	return 0;
}

/* label_or_pc: a label of the current core (pass 2) or a number. */
static int
label_or_pc(A *a, uint32_t *pc)
{
	const char *s;
	size_t n;
	skip_sep(a);
	if (isdigit((unsigned char)*a->q))
		return num_u32(a, 0, UINT32_MAX, pc, "a pc");
	n = word(a, &s);
	if (n == 0)
		return aerr(a, s, "expected a label or a pc");
	if (a->pass == 1) {
		*pc = 0;
		return 0;
	}
	{
		Label *l = label_get(a->labels, cur_core_key(a), s, n);
		if (!l)
			return aerr(a, s, "undefined label '%.*s'", (int)n, s);
		*pc = l->pc;
	}
	return 0;
}

static uint32_t
p1_ncode(A *a)
{
	const KCore *c;
	if (a->pass == 1)
		return UINT32_MAX;
	c = kprog_find_core(a->p1, a->core->tile, a->core->core);
	return c ? c->ncode : 0;
}

static int
d_entry(A *a, const char *at)
{
	uint32_t pc = 0;
	const char *arg;
	if (need_core(a, at, ".entry"))
		return -1;
	skip_sep(a);
	arg = a->q;
	if (label_or_pc(a, &pc) || expect_end(a, ".entry LABEL"))
		return -1;
	if (pc != 0 && pc >= p1_ncode(a))
		return aerr(a, arg, "entry pc %u is outside the code of core t%u.c%u (%u words)",
		            pc, a->core->tile, a->core->core, p1_ncode(a));
	a->core->entry = pc;
	return 0;
}

static int
d_seg(A *a, const char *at, enum SegKind k)
{
	uint32_t tile = 0, addr;
	if (k == SEG_SPAD && need_core(a, at, ".spad"))
		return -1;
	if (k == SEG_TMEM && num_u32(a, 0, KELF_MAX_TILES - 1, &tile, "a tile id"))
		return -1;
	if (num_u32(a, 0, UINT32_MAX, &addr, "an address") || expect_end(a, "the address"))
		return -1;
	a->seg = k;
	a->seg_tile = tile;
	a->seg_addr = addr;
	a->seg_line = a->line;
	a->seg_col = (int)(at - a->buf) + 1;
	a->seg_src = a->src;
	return 0;
}

static int
d_data(A *a, const char *at, unsigned size)
{
	static const int64_t lo[] = {0, -128, -32768, 0, INT32_MIN};
	static const int64_t hi[] = {0, 255, 65535, 0, UINT32_MAX};
	static const char *const what[] = {"", "a byte", "a half-word", "", "a word"};
	int n = 0;
	if (a->seg == SEG_NONE)
		return aerr(a, at, "data outside a .spad, .tmem or .dram segment");
	while (!at_end(a)) {
		int64_t v;
		unsigned k;
		uint8_t *p;
		if (num(a, lo[size], hi[size], &v, what[size]))
			return -1;
		if (a->seg_data.n + size > KELF_MAX_SECTION)
			return aerr(a, at, "data segment larger than 1 GiB");
		p = bytes_add(&a->seg_data, size);
		for (k = 0; k < size; k++)
			p[k] = (uint8_t)((uint64_t)v >> (8 * k));
		n++;
	}
	if (n == 0)
		return aerr(a, a->q, "expected %s", what[size]);
	return 0;
}

static int
d_zero(A *a, const char *at)
{
	uint32_t n;
	if (a->seg == SEG_NONE)
		return aerr(a, at, "data outside a .spad, .tmem or .dram segment");
	if (num_u32(a, 1, KELF_MAX_SECTION, &n, "a byte count") || expect_end(a, ".zero N"))
		return -1;
	if (a->seg_data.n + n > KELF_MAX_SECTION)
		return aerr(a, at, "data segment larger than 1 GiB");
	bytes_add(&a->seg_data, n);
	return 0;
}

static int
d_xbar(A *a, const char *at)
{
	uint32_t u, r, c, w;
	const char *ustart;
	if (need_core(a, at, ".xbar"))
		return -1;
	skip_sep(a);
	ustart = a->q;
	if (num_u32(a, 0, ISA_NMVMU - 1, &u, "an MVMU index") ||
	    num_u32(a, 1, KELF_MAX_XBAR_DIM, &r, "a row count") ||
	    num_u32(a, 1, KELF_MAX_XBAR_DIM, &c, "a column count") ||
	    num_u32(a, 1, 32, &w, "a weight bit width") ||
	    expect_end(a, ".xbar UNIT ROWS COLS WBITS"))
		return -1;
	if ((uint64_t)r * c * 4 > KELF_MAX_SECTION)
		return aerr(a, at, "crossbar image of %u x %u weights is too large", r, c);
	if (kprog_find_xbar(a->core, u))
		return aerr(a, ustart, "core t%u.c%u already has a crossbar image for MVMU %u",
		            a->core->tile, a->core->core, u);
	a->xb_open = 1;
	a->xb_line = a->line;
	a->xb_unit = u;
	a->xb_rows = r;
	a->xb_cols = c;
	a->xb_wbits = w;
	a->xb_got = 0;
	free(a->xb_w);
	a->xb_w = xcalloc((size_t)r * c, sizeof *a->xb_w);
	return 0;
}

static int
d_row(A *a, const char *at)
{
	uint32_t j;
	int64_t v;
	if (!a->xb_open)
		return aerr(a, at, ".row outside a crossbar image (.xbar UNIT ROWS COLS WBITS)");
	for (j = 0; j < a->xb_cols; j++) {
		char what[64];
		snprintf(what, sizeof what, "weight %u of %u (%u-bit signed)", j + 1, a->xb_cols,
		         a->xb_wbits);
		if (num(a, kxbar_wmin(a->xb_wbits), kxbar_wmax(a->xb_wbits), &v, what))
			return -1;
		a->xb_w[(size_t)a->xb_got * a->xb_cols + j] = (int32_t)v;
	}
	if (!at_end(a))
		return aerr(a, a->q, "more than %u weights in a row", a->xb_cols);
	if (++a->xb_got == a->xb_rows) {
		kprog_add_xbar(a->core, a->xb_unit, a->xb_rows, a->xb_cols, a->xb_wbits, a->xb_w);
		a->xb_open = 0;
	}
	return 0;
}

static int
d_layer(A *a, const char *at)
{
	const char *s;
	size_t n;
	if (need_core(a, at, ".layer"))
		return -1;
	if (a->ly_open)
		return aerr(a, at, "layer '%s' is still open (missing .endlayer)", a->ly_name);
	if (name(a, &s, &n, "layer name") || expect_end(a, ".layer NAME"))
		return -1;
	memcpy(a->ly_name, s, n);
	a->ly_name[n] = 0;
	a->ly_open = 1;
	a->ly_pc = a->core->ncode;
	a->ly_line = a->line;
	a->ly_col = (int)(s - a->buf) + 1;
	a->ly_src = a->src;
	return 0;
}

static int
d_endlayer(A *a, const char *at)
{
	uint32_t i;
	if (!a->ly_open)
		return aerr(a, at, ".endlayer without .layer");
	if (expect_end(a, ".endlayer"))
		return -1;
	a->ly_open = 0;
	if (a->core->ncode == a->ly_pc)
		return diag_at(a->d, a->file, a->ly_line, a->ly_col, a->ly_src,
		               "layer '%s' has no instructions", a->ly_name);
	for (i = 0; i < a->p->nsyms; i++)
		if (a->p->syms[i].tile == a->core->tile && a->p->syms[i].core == a->core->core &&
		    strcmp(a->p->syms[i].name, a->ly_name) == 0)
			return diag_at(a->d, a->file, a->ly_line, a->ly_col, a->ly_src,
			               "layer '%s' defined twice on core t%u.c%u", a->ly_name,
			               a->core->tile, a->core->core);
	kprog_add_sym(a->p, a->ly_name, a->core->tile, a->core->core, a->ly_pc,
	              a->core->ncode - a->ly_pc);
	return 0;
}

static int
shape(A *a, KTensor *t)
{
	skip_sep(a);
	if (*a->q != '[')
		return aerr(a, a->q, "expected a shape such as [1,64] (or [] for a scalar)");
	a->q++;
	for (;;) {
		while (*a->q == ' ' || *a->q == '\t')
			a->q++;
		if (*a->q == ']') {
			a->q++;
			return 0;
		}
		if (t->rank == KELF_MAX_RANK)
			return aerr(a, a->q, "rank exceeds %d", KELF_MAX_RANK);
		if (num_u32(a, 1, UINT32_MAX, &t->dims[t->rank], "a dimension"))
			return -1;
		t->rank++;
		while (*a->q == ' ' || *a->q == '\t')
			a->q++;
		if (*a->q != ',' && *a->q != ']')
			return aerr(a, a->q, "expected ',' or ']' in the shape");
	}
}

static int
d_io(A *a, const char *at, unsigned dir)
{
	KTensor t;
	const char *s, *sp, *tilep, *addrp;
	size_t n;
	unsigned k;
	char nm[KELF_MAX_NAME + 1];
	uint64_t bytes;
	memset(&t, 0, sizeof t);
	t.dir = (uint8_t)dir;
	if (name(a, &s, &n, "tensor name"))
		return -1;
	memcpy(nm, s, n);
	nm[n] = 0;
	for (k = 0; k < a->p->nio; k++)
		if (strcmp(a->p->io[k].name, nm) == 0)
			return aerr(a, s, "I/O tensor '%s' declared twice", nm);
	n = word(a, &s);
	for (k = 0; k < TY_COUNT; k++)
		if (strlen(isa_type_names[k]) == n && !strncmp(s, isa_type_names[k], n))
			break;
	if (k == TY_COUNT)
		return aerr(a, s, "expected an element type (i8, i16, i32)");
	t.type = (uint8_t)k;
	if (shape(a, &t))
		return -1;
	n = word(a, &sp);
	for (k = 0; k < KSP_COUNT; k++)
		if (strlen(kspace_name(k)) == n && !strncmp(sp, kspace_name(k), n))
			break;
	if (k == KSP_COUNT)
		return aerr(a, sp, "expected a memory space (dram, tilemem, spad)");
	t.space = (uint8_t)k;
	skip_sep(a);
	tilep = a->q;
	if (num_u32(a, 0, KELF_MAX_TILES - 1, &t.tile, "a tile id") ||
	    num_u32(a, 0, KELF_MAX_CORES - 1, &t.core, "a core id"))
		return -1;
	skip_sep(a);
	addrp = a->q;
	if (num_u32(a, 0, UINT32_MAX, &t.addr, "an address"))
		return -1;
	n = word(a, &s);
	{
		char tmp[64], *end;
		if (n == 0 || n >= sizeof tmp)
			return aerr(a, s, "expected a quantisation scale");
		memcpy(tmp, s, n);
		tmp[n] = 0;
		errno = 0;
		t.scale = strtod(tmp, &end);
		if (*end || errno || !isfinite(t.scale) || !(t.scale > 0))
			return aerr(a, s, "the scale must be a finite number > 0");
	}
	if (expect_end(a, dir == KDIR_IN ? ".input" : ".output"))
		return -1;
	if ((t.space == KSP_DRAM && (t.tile || t.core)) || (t.space == KSP_TMEM && t.core))
		return aerr(a, tilep, "a %s tensor takes tile 0 core 0 (tilemem: core 0)",
		            kspace_name(t.space));
	bytes = ktensor_bytes(&t);
	if (bytes > ((uint64_t)1 << 32) - t.addr)
		return aerr(a, addrp, "%llu bytes at 0x%x run past the 4 GiB address space",
		            (unsigned long long)bytes, t.addr);
	if (t.addr % isa_type_size(t.type))
		return aerr(a, addrp, "address 0x%x is not aligned to %s", t.addr,
		            isa_type_names[t.type]);
	t.name = nm;
	kprog_add_io(a->p, &t);
	(void)at;
	return 0;
}

/* ---- lines ---- */

static int
directive(A *a)
{
	const char *at = a->q, *s = a->q;
	size_t n;
	while (is_name_char((unsigned char)*a->q))
		a->q++;
	n = (size_t)(a->q - s);
#define IS(lit) (n == sizeof(lit) - 1 && !memcmp(s, lit, n))
	if (!IS(".row") && xbar_pending(a, at))
		return -1;
	if (IS(".byte"))
		return d_data(a, at, 1);
	if (IS(".half"))
		return d_data(a, at, 2);
	if (IS(".word"))
		return d_data(a, at, 4);
	if (IS(".zero"))
		return d_zero(a, at);
	if (IS(".row"))
		return d_row(a, at);
	/* every other directive ends an open data segment */
	if (end_seg(a))
		return -1;
	if (IS(".arch"))
		return d_arch(a, at);
	if (IS(".core"))
		return d_core(a, at);
	if (IS(".entry"))
		return d_entry(a, at);
	if (IS(".spad"))
		return d_seg(a, at, SEG_SPAD);
	if (IS(".tmem"))
		return d_seg(a, at, SEG_TMEM);
	if (IS(".dram"))
		return d_seg(a, at, SEG_DRAM);
	if (IS(".xbar"))
		return d_xbar(a, at);
	if (IS(".layer"))
		return d_layer(a, at);
	if (IS(".endlayer"))
		return d_endlayer(a, at);
	if (IS(".input"))
		return d_io(a, at, KDIR_IN);
	if (IS(".output"))
		return d_io(a, at, KDIR_OUT);
#undef IS
	return aerr(a, at, "unknown directive '%.*s'", (int)n, s);
}

static int
label_cb(void *ctx, const char *nm, size_t len, int64_t *index)
{
	A *a = ctx;
	Label *l;
	if (a->pass == 1) {
		*index = a->core->ncode; /* any value: labels are resolved in pass 2 */
		return 0;
	}
	l = label_get(a->labels, cur_core_key(a), nm, len);
	if (!l)
		return -1;
	*index = l->pc;
	return 0;
}

static int
instruction(A *a)
{
	const char *at = a->q;
	char err[256];
	int col = 0;
	Insn in;
	uint32_t pc;
	uint64_t w;
	if (need_core(a, at, "instruction") || xbar_pending(a, at))
		return -1;
	pc = a->core->ncode;
	if (pc >= KELF_MAX_SECTION / 8)
		return aerr(a, at, "too many instructions on core t%u.c%u", a->core->tile,
		            a->core->core);
	if (isa_parse(at, pc, label_cb, a, &in, err, sizeof err, &col) != 0)
		return aerr(a, at + col, "%s", err);
	if (a->pass == 2 && strchr(isa_fmts[isa_info(in.op)->fmt].operands, 'l')) {
		int64_t t = (int64_t)pc + in.imm;
		uint32_t n = p1_ncode(a);
		if (t < 0 || t >= n)
			return aerr(a, at,
			            "branch target pc %lld is outside the code of core t%u.c%u "
			            "(0..%u)",
			            (long long)t, a->core->tile, a->core->core, n ? n - 1 : 0);
	}
	w = isa_encode(&in);
	kprog_add_code(a->core, &w, 1);
	return 0;
}

static int
one_line(A *a)
{
	const char *s;
	a->q = a->buf;
	if (at_end(a))
		return 0;
	/* a label definition "name:" */
	s = a->q;
	while (isalnum((unsigned char)*a->q) || *a->q == '_' || *a->q == '.' || *a->q == '$')
		a->q++;
	if (a->q > s && *a->q == ':' && !isdigit((unsigned char)*s)) {
		if (need_core(a, s, "label"))
			return -1;
		if (a->pass == 1 && label_put(a->labels, cur_core_key(a), a->src + (s - a->buf),
		                              (size_t)(a->q - s), a->core->ncode) != 0)
			return aerr(a, s, "label '%.*s' defined twice on core t%u.c%u",
			            (int)(a->q - s), s, a->core->tile, a->core->core);
		a->q++;
		if (at_end(a))
			return 0;
	} else {
		a->q = s;
	}
	if (*a->q == '.')
		return directive(a);
	return instruction(a);
}

/* run_pass: every line of src through one_line, then the end-of-file checks. */
static int
run_pass(A *a, const char *src)
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
	if (end_seg(a))
		return -1;
	if (a->p->ncores == 0)
		return diag_err(a->d, a->file, "no code: the file has no .core directive");
	return 0;
}

static void
a_reset(A *a, int pass, KProg *p)
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
	A a;
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
