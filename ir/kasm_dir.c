/* kasm_dir.c: the assembler's directives (.arch .core .entry .spad .tmem .dram .byte .half .word
 * .zero .xbar .row .layer .endlayer .input .output); syntax in docs/binary.md. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "isa.h"
#include "kasm_int.h"

static int
is_name_char(int c)
{
	return isalnum(c) || (c && strchr("_.$/:@-", c));
}

/* fingerprint: a 64-bit unsigned number. */
static int
fingerprint(KAsm *a, uint64_t *out)
{
	const char *s;
	size_t n = kasm_word(a, &s);
	char tmp[32], *end;
	if (n == 0 || n >= sizeof tmp || !isdigit((unsigned char)*s))
		return kasm_err(a, s, "expected an architecture fingerprint (64-bit number)");
	memcpy(tmp, s, n);
	tmp[n] = 0;
	errno = 0;
	*out = strtoull(tmp, &end, 0);
	if (errno || *end)
		return kasm_err(a, s, "malformed architecture fingerprint");
	return 0;
}

/* ---- closing open directives ---- */

static int
seg_overlap(KAsm *a, const KSegs *s, uint32_t addr, uint32_t len)
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
int
kasm_end_seg(KAsm *a)
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
int
kasm_xbar_pending(KAsm *a, const char *at)
{
	if (a->xb_open)
		return kasm_err(
		    a, at, "expected .row (the crossbar image of MVMU %u needs %u rows, has %u)",
		    a->xb_unit, a->xb_rows, a->xb_got);
	return 0;
}

/* ---- directives ---- */

static int
d_arch(KAsm *a, const char *at)
{
	const char *s;
	size_t n;
	uint64_t fp = 0;
	char nm[KELF_MAX_NAME + 1];
	if (a->arch_seen)
		return kasm_err(a, at, ".arch given twice");
	if (kasm_name(a, &s, &n, "architecture name") || fingerprint(a, &fp) ||
	    kasm_expect_end(a, ".arch NAME FINGERPRINT"))
		return -1;
	memcpy(nm, s, n);
	nm[n] = 0;
	kprog_set_arch(a->p, nm, fp);
	a->arch_seen = 1;
	return 0;
}

static int
d_core(KAsm *a, const char *at)
{
	uint32_t t, c;
	if (a->ly_open)
		return kasm_err(a, at, "layer '%s' is still open (missing .endlayer)", a->ly_name);
	if (kasm_num_u32(a, 0, KELF_MAX_TILES - 1, &t, "a tile id") ||
	    kasm_num_u32(a, 0, KELF_MAX_CORES - 1, &c, "a core id") ||
	    kasm_expect_end(a, ".core TILE CORE"))
		return -1;
	a->core = kprog_core(a->p, t, c);
	return 0;
}

/* label_or_pc: a label of the current core (pass 2) or a number. */
static int
label_or_pc(KAsm *a, uint32_t *pc)
{
	const char *s;
	size_t n;
	kasm_skip_sep(a);
	if (isdigit((unsigned char)*a->q))
		return kasm_num_u32(a, 0, UINT32_MAX, pc, "a pc");
	n = kasm_word(a, &s);
	if (n == 0)
		return kasm_err(a, s, "expected a label or a pc");
	if (a->pass == 1) {
		*pc = 0;
		return 0;
	}
	{
		Label *l = kasm_label_get(a->labels, kasm_core_key(a), s, n);
		if (!l)
			return kasm_err(a, s, "undefined label '%.*s'", (int)n, s);
		*pc = l->pc;
	}
	return 0;
}

static int
d_entry(KAsm *a, const char *at)
{
	uint32_t pc = 0;
	const char *arg;
	if (kasm_need_core(a, at, ".entry"))
		return -1;
	kasm_skip_sep(a);
	arg = a->q;
	if (label_or_pc(a, &pc) || kasm_expect_end(a, ".entry LABEL"))
		return -1;
	if (pc != 0 && pc >= kasm_p1_ncode(a))
		return kasm_err(a, arg,
		                "entry pc %u is outside the code of core t%u.c%u (%u words)", pc,
		                a->core->tile, a->core->core, kasm_p1_ncode(a));
	a->core->entry = pc;
	return 0;
}

static int
d_seg(KAsm *a, const char *at, enum SegKind k)
{
	uint32_t tile = 0, addr;
	if (k == SEG_SPAD && kasm_need_core(a, at, ".spad"))
		return -1;
	if (k == SEG_TMEM && kasm_num_u32(a, 0, KELF_MAX_TILES - 1, &tile, "a tile id"))
		return -1;
	if (kasm_num_u32(a, 0, UINT32_MAX, &addr, "an address") ||
	    kasm_expect_end(a, "the address"))
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
d_data(KAsm *a, const char *at, unsigned size)
{
	static const int64_t lo[] = {0, -128, -32768, 0, INT32_MIN};
	static const int64_t hi[] = {0, 255, 65535, 0, UINT32_MAX};
	static const char *const what[] = {"", "a byte", "a half-word", "", "a word"};
	int n = 0;
	if (a->seg == SEG_NONE)
		return kasm_err(a, at, "data outside a .spad, .tmem or .dram segment");
	while (!kasm_at_end(a)) {
		int64_t v;
		unsigned k;
		uint8_t *p;
		if (kasm_num(a, lo[size], hi[size], &v, what[size]))
			return -1;
		if (a->seg_data.n + size > KELF_MAX_SECTION)
			return kasm_err(a, at, "data segment larger than 1 GiB");
		p = bytes_add(&a->seg_data, size);
		for (k = 0; k < size; k++)
			p[k] = (uint8_t)((uint64_t)v >> (8 * k));
		n++;
	}
	if (n == 0)
		return kasm_err(a, a->q, "expected %s", what[size]);
	return 0;
}

static int
d_zero(KAsm *a, const char *at)
{
	uint32_t n;
	if (a->seg == SEG_NONE)
		return kasm_err(a, at, "data outside a .spad, .tmem or .dram segment");
	if (kasm_num_u32(a, 1, KELF_MAX_SECTION, &n, "a byte count") ||
	    kasm_expect_end(a, ".zero N"))
		return -1;
	if (a->seg_data.n + n > KELF_MAX_SECTION)
		return kasm_err(a, at, "data segment larger than 1 GiB");
	bytes_add(&a->seg_data, n);
	return 0;
}

static int
d_xbar(KAsm *a, const char *at)
{
	uint32_t u, r, c, w;
	const char *ustart;
	if (kasm_need_core(a, at, ".xbar"))
		return -1;
	kasm_skip_sep(a);
	ustart = a->q;
	if (kasm_num_u32(a, 0, ISA_NMVMU - 1, &u, "an MVMU index") ||
	    kasm_num_u32(a, 1, KELF_MAX_XBAR_DIM, &r, "a row count") ||
	    kasm_num_u32(a, 1, KELF_MAX_XBAR_DIM, &c, "a column count") ||
	    kasm_num_u32(a, 1, 32, &w, "a weight bit width") ||
	    kasm_expect_end(a, ".xbar UNIT ROWS COLS WBITS"))
		return -1;
	if ((uint64_t)r * c * 4 > KELF_MAX_SECTION)
		return kasm_err(a, at, "crossbar image of %u x %u weights is too large", r, c);
	if (kprog_find_xbar(a->core, u))
		return kasm_err(a, ustart, "core t%u.c%u already has a crossbar image for MVMU %u",
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
d_row(KAsm *a, const char *at)
{
	uint32_t j;
	int64_t v;
	if (!a->xb_open)
		return kasm_err(a, at,
		                ".row outside a crossbar image (.xbar UNIT ROWS COLS WBITS)");
	for (j = 0; j < a->xb_cols; j++) {
		char what[64];
		snprintf(what, sizeof what, "weight %u of %u (%u-bit signed)", j + 1, a->xb_cols,
		         a->xb_wbits);
		if (kasm_num(a, kxbar_wmin(a->xb_wbits), kxbar_wmax(a->xb_wbits), &v, what))
			return -1;
		a->xb_w[(size_t)a->xb_got * a->xb_cols + j] = (int32_t)v;
	}
	if (!kasm_at_end(a))
		return kasm_err(a, a->q, "more than %u weights in a row", a->xb_cols);
	if (++a->xb_got == a->xb_rows) {
		kprog_add_xbar(a->core, a->xb_unit, a->xb_rows, a->xb_cols, a->xb_wbits, a->xb_w);
		a->xb_open = 0;
	}
	return 0;
}

static int
d_layer(KAsm *a, const char *at)
{
	const char *s;
	size_t n;
	if (kasm_need_core(a, at, ".layer"))
		return -1;
	if (a->ly_open)
		return kasm_err(a, at, "layer '%s' is still open (missing .endlayer)", a->ly_name);
	if (kasm_name(a, &s, &n, "layer name") || kasm_expect_end(a, ".layer NAME"))
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
d_endlayer(KAsm *a, const char *at)
{
	uint32_t i;
	if (!a->ly_open)
		return kasm_err(a, at, ".endlayer without .layer");
	if (kasm_expect_end(a, ".endlayer"))
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
shape(KAsm *a, KTensor *t)
{
	kasm_skip_sep(a);
	if (*a->q != '[')
		return kasm_err(a, a->q, "expected a shape such as [1,64] (or [] for a scalar)");
	a->q++;
	for (;;) {
		while (*a->q == ' ' || *a->q == '\t')
			a->q++;
		if (*a->q == ']') {
			a->q++;
			return 0;
		}
		if (t->rank == KELF_MAX_RANK)
			return kasm_err(a, a->q, "rank exceeds %d", KELF_MAX_RANK);
		if (kasm_num_u32(a, 1, UINT32_MAX, &t->dims[t->rank], "a dimension"))
			return -1;
		t->rank++;
		while (*a->q == ' ' || *a->q == '\t')
			a->q++;
		if (*a->q != ',' && *a->q != ']')
			return kasm_err(a, a->q, "expected ',' or ']' in the shape");
	}
}

static int
d_io(KAsm *a, const char *at, unsigned dir)
{
	KTensor t;
	const char *s, *sp, *tilep, *addrp;
	size_t n;
	unsigned k;
	char nm[KELF_MAX_NAME + 1];
	uint64_t bytes;
	memset(&t, 0, sizeof t);
	t.dir = (uint8_t)dir;
	if (kasm_name(a, &s, &n, "tensor name"))
		return -1;
	memcpy(nm, s, n);
	nm[n] = 0;
	for (k = 0; k < a->p->nio; k++)
		if (strcmp(a->p->io[k].name, nm) == 0)
			return kasm_err(a, s, "I/O tensor '%s' declared twice", nm);
	n = kasm_word(a, &s);
	for (k = 0; k < TY_COUNT; k++)
		if (strlen(isa_type_names[k]) == n && !strncmp(s, isa_type_names[k], n))
			break;
	if (k == TY_COUNT)
		return kasm_err(a, s, "expected an element type (i8, i16, i32)");
	t.type = (uint8_t)k;
	if (shape(a, &t))
		return -1;
	n = kasm_word(a, &sp);
	for (k = 0; k < KSP_COUNT; k++)
		if (strlen(kspace_name(k)) == n && !strncmp(sp, kspace_name(k), n))
			break;
	if (k == KSP_COUNT)
		return kasm_err(a, sp, "expected a memory space (dram, tilemem, spad)");
	t.space = (uint8_t)k;
	kasm_skip_sep(a);
	tilep = a->q;
	if (kasm_num_u32(a, 0, KELF_MAX_TILES - 1, &t.tile, "a tile id") ||
	    kasm_num_u32(a, 0, KELF_MAX_CORES - 1, &t.core, "a core id"))
		return -1;
	kasm_skip_sep(a);
	addrp = a->q;
	if (kasm_num_u32(a, 0, UINT32_MAX, &t.addr, "an address"))
		return -1;
	n = kasm_word(a, &s);
	{
		char tmp[64], *end;
		if (n == 0 || n >= sizeof tmp)
			return kasm_err(a, s, "expected a quantisation scale");
		memcpy(tmp, s, n);
		tmp[n] = 0;
		errno = 0;
		t.scale = strtod(tmp, &end);
		if (*end || errno || !isfinite(t.scale) || !(t.scale > 0))
			return kasm_err(a, s, "the scale must be a finite number > 0");
	}
	if (kasm_expect_end(a, dir == KDIR_IN ? ".input" : ".output"))
		return -1;
	if ((t.space == KSP_DRAM && (t.tile || t.core)) || (t.space == KSP_TMEM && t.core))
		return kasm_err(a, tilep, "a %s tensor takes tile 0 core 0 (tilemem: core 0)",
		                kspace_name(t.space));
	bytes = ktensor_bytes(&t);
	if (bytes > ((uint64_t)1 << 32) - t.addr)
		return kasm_err(a, addrp, "%llu bytes at 0x%x run past the 4 GiB address space",
		                (unsigned long long)bytes, t.addr);
	if (t.addr % isa_type_size(t.type))
		return kasm_err(a, addrp, "address 0x%x is not aligned to %s", t.addr,
		                isa_type_names[t.type]);
	t.name = nm;
	kprog_add_io(a->p, &t);
	(void)at;
	return 0;
}

int
kasm_directive(KAsm *a)
{
	const char *at = a->q, *s = a->q;
	size_t n;
	while (is_name_char((unsigned char)*a->q))
		a->q++;
	n = (size_t)(a->q - s);
#define IS(lit) (n == sizeof(lit) - 1 && !memcmp(s, lit, n))
	if (!IS(".row") && kasm_xbar_pending(a, at))
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
	if (kasm_end_seg(a))
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
	return kasm_err(a, at, "unknown directive '%.*s'", (int)n, s);
}
