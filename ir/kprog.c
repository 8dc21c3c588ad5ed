/* kprog.c: the in-memory program model: builders, invariants (kprog_validate), small facts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "isa.h"
#include "kelf.h"

static const char *const space_names[KSP_COUNT] = {"dram", "tilemem", "spad"};
static const char *const dir_names[KDIR_COUNT] = {"input", "output"};

const char *
kspace_name(unsigned space)
{
	return space < KSP_COUNT ? space_names[space] : "?";
}

const char *
kdir_name(unsigned dir)
{
	return dir < KDIR_COUNT ? dir_names[dir] : "?";
}

int64_t
kxbar_wmin(uint32_t wbits)
{
	KASSERT(wbits >= 1 && wbits <= 32);
	return -((int64_t)1 << (wbits - 1));
}

int64_t
kxbar_wmax(uint32_t wbits)
{
	KASSERT(wbits >= 1 && wbits <= 32);
	return ((int64_t)1 << (wbits - 1)) - 1;
}

uint64_t
ktensor_bytes(const KTensor *t)
{
	uint64_t n = t->type < TY_COUNT ? isa_type_size(t->type) : 1;
	unsigned i;
	for (i = 0; i < t->rank && i < KELF_MAX_RANK; i++) {
		if (t->dims[i] != 0 && n > UINT64_MAX / t->dims[i])
			return UINT64_MAX;
		n *= t->dims[i];
	}
	return n;
}

int
kprog_name_ok(const char *s, size_t n)
{
	size_t i;
	if (n == 0 || n > KELF_MAX_NAME)
		return 0;
	if ((s[0] >= '0' && s[0] <= '9') || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("_.$/:@-", c) != NULL) ||
		    c == 0)
			return 0;
	}
	return 1;
}

/* ---- builders ---- */

KProg *
kprog_new(void)
{
	KProg *p = xcalloc(1, sizeof *p);
	p->isa_version = ISA_VERSION;
	p->arch_name = xstrdup("generic");
	return p;
}

static void
segs_free(KSegs *s)
{
	uint32_t i;
	for (i = 0; i < s->n; i++)
		free(s->v[i].bytes);
	free(s->v);
}

void
kprog_free(KProg *p)
{
	uint32_t i, j;
	if (!p)
		return;
	for (i = 0; i < p->ncores; i++) {
		KCore *c = p->cores[i];
		free(c->code);
		segs_free(&c->spad);
		for (j = 0; j < c->nxbar; j++)
			free(c->xbar[j].w);
		free(c->xbar);
		free(c);
	}
	free(p->cores);
	for (i = 0; i < p->ntiles; i++) {
		segs_free(&p->tiles[i]->tmem);
		free(p->tiles[i]);
	}
	free(p->tiles);
	segs_free(&p->dram);
	for (i = 0; i < p->nio; i++)
		free(p->io[i].name);
	free(p->io);
	for (i = 0; i < p->nsyms; i++)
		free(p->syms[i].name);
	free(p->syms);
	free(p->arch_name);
	free(p);
}

void
kprog_set_arch(KProg *p, const char *name, uint64_t fingerprint)
{
	free(p->arch_name);
	p->arch_name = xstrdup(name);
	p->arch_fp = fingerprint;
}

static uint64_t
core_key(uint32_t tile, uint32_t core)
{
	return (uint64_t)tile << 32 | core;
}

/* core_pos: index of the first core whose key is >= key. */
static uint32_t
core_pos(const KProg *p, uint64_t key)
{
	uint32_t lo = 0, hi = p->ncores;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (core_key(p->cores[mid]->tile, p->cores[mid]->core) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

KCore *
kprog_find_core(const KProg *p, uint32_t tile, uint32_t core)
{
	uint32_t i = core_pos(p, core_key(tile, core));
	if (i < p->ncores && p->cores[i]->tile == tile && p->cores[i]->core == core)
		return p->cores[i];
	return NULL;
}

KCore *
kprog_core(KProg *p, uint32_t tile, uint32_t core)
{
	uint32_t i = core_pos(p, core_key(tile, core));
	KCore *c;
	KASSERT(tile < KELF_MAX_TILES && core < KELF_MAX_CORES);
	if (i < p->ncores && p->cores[i]->tile == tile && p->cores[i]->core == core)
		return p->cores[i];
	p->cores = xgrow(p->cores, &p->cores_cap, (size_t)p->ncores + 1, sizeof *p->cores);
	memmove(&p->cores[i + 1], &p->cores[i], (p->ncores - i) * sizeof *p->cores);
	c = xcalloc(1, sizeof *c);
	c->tile = tile;
	c->core = core;
	p->cores[i] = c;
	p->ncores++;
	return c;
}

static uint32_t
tile_pos(const KProg *p, uint32_t tile)
{
	uint32_t lo = 0, hi = p->ntiles;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (p->tiles[mid]->tile < tile)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

KTile *
kprog_find_tile(const KProg *p, uint32_t tile)
{
	uint32_t i = tile_pos(p, tile);
	return i < p->ntiles && p->tiles[i]->tile == tile ? p->tiles[i] : NULL;
}

KTile *
kprog_tile(KProg *p, uint32_t tile)
{
	uint32_t i = tile_pos(p, tile);
	KTile *t;
	KASSERT(tile < KELF_MAX_TILES);
	if (i < p->ntiles && p->tiles[i]->tile == tile)
		return p->tiles[i];
	p->tiles = xgrow(p->tiles, &p->tiles_cap, (size_t)p->ntiles + 1, sizeof *p->tiles);
	memmove(&p->tiles[i + 1], &p->tiles[i], (p->ntiles - i) * sizeof *p->tiles);
	t = xcalloc(1, sizeof *t);
	t->tile = tile;
	p->tiles[i] = t;
	p->ntiles++;
	return t;
}

uint32_t
kprog_add_code(KCore *c, const uint64_t *words, uint32_t n)
{
	uint32_t pc = c->ncode;
	KASSERT((uint64_t)c->ncode + n <= KELF_MAX_SECTION / 8);
	c->code = xgrow(c->code, &c->code_cap, (size_t)c->ncode + n, sizeof *c->code);
	if (n)
		memcpy(c->code + c->ncode, words, n * sizeof *words);
	c->ncode += n;
	return pc;
}

KSeg *
kprog_add_seg(KSegs *s, uint32_t addr, const void *bytes, uint32_t len)
{
	KSeg *g;
	KASSERT(len <= KELF_MAX_SECTION);
	s->v = xgrow(s->v, &s->cap, (size_t)s->n + 1, sizeof *s->v);
	g = &s->v[s->n++];
	g->addr = addr;
	g->len = len;
	g->bytes = xcalloc(len ? len : 1, 1);
	if (bytes && len)
		memcpy(g->bytes, bytes, len);
	return g;
}

KSeg *
kprog_add_spad(KCore *c, uint32_t addr, const void *bytes, uint32_t len)
{
	return kprog_add_seg(&c->spad, addr, bytes, len);
}

KSeg *
kprog_add_tmem(KProg *p, uint32_t tile, uint32_t addr, const void *bytes, uint32_t len)
{
	return kprog_add_seg(&kprog_tile(p, tile)->tmem, addr, bytes, len);
}

KSeg *
kprog_add_dram(KProg *p, uint32_t addr, const void *bytes, uint32_t len)
{
	return kprog_add_seg(&p->dram, addr, bytes, len);
}

KXbar *
kprog_find_xbar(const KCore *c, uint32_t unit)
{
	uint32_t i;
	for (i = 0; i < c->nxbar; i++)
		if (c->xbar[i].unit == unit)
			return &c->xbar[i];
	return NULL;
}

KXbar *
kprog_add_xbar(KCore *c, uint32_t unit, uint32_t rows, uint32_t cols, uint32_t wbits,
               const int32_t *w)
{
	uint32_t i;
	KXbar *x;
	size_t n = (size_t)rows * cols;
	KASSERT(rows <= KELF_MAX_XBAR_DIM && cols <= KELF_MAX_XBAR_DIM);
	if (kprog_find_xbar(c, unit))
		return NULL;
	c->xbar = xgrow(c->xbar, &c->xbar_cap, (size_t)c->nxbar + 1, sizeof *c->xbar);
	for (i = c->nxbar; i > 0 && c->xbar[i - 1].unit > unit; i--)
		c->xbar[i] = c->xbar[i - 1];
	x = &c->xbar[i];
	c->nxbar++;
	x->unit = unit;
	x->rows = rows;
	x->cols = cols;
	x->wbits = wbits;
	x->w = xcalloc(n ? n : 1, sizeof *x->w);
	if (w && n)
		memcpy(x->w, w, n * sizeof *w);
	return x;
}

KTensor *
kprog_add_io(KProg *p, const KTensor *t)
{
	KTensor *n;
	p->io = xgrow(p->io, &p->io_cap, (size_t)p->nio + 1, sizeof *p->io);
	n = &p->io[p->nio++];
	*n = *t;
	n->name = xstrdup(t->name ? t->name : "");
	return n;
}

static int
sym_before(const KSym *a, uint32_t tile, uint32_t core, uint32_t pc)
{
	if (a->tile != tile)
		return a->tile < tile;
	if (a->core != core)
		return a->core < core;
	return a->pc <= pc;
}

KSym *
kprog_add_sym(KProg *p, const char *name, uint32_t tile, uint32_t core, uint32_t pc, uint32_t len)
{
	uint32_t i;
	KSym *s;
	p->syms = xgrow(p->syms, &p->syms_cap, (size_t)p->nsyms + 1, sizeof *p->syms);
	for (i = p->nsyms; i > 0 && !sym_before(&p->syms[i - 1], tile, core, pc); i--)
		p->syms[i] = p->syms[i - 1];
	s = &p->syms[i];
	p->nsyms++;
	s->name = xstrdup(name);
	s->tile = tile;
	s->core = core;
	s->pc = pc;
	s->len = len;
	return s;
}

/* ---- validation ---- */

typedef struct Range {
	uint64_t lo, hi;
	uint32_t idx;
} Range;

static int
range_cmp(const void *a, const void *b)
{
	const Range *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* check_segs: every segment non-empty, inside the 32-bit space, no two overlapping. */
static int
check_segs(const KSegs *s, const char *what, const char *name, Diag *d)
{
	Range *r;
	uint32_t i;
	int rc = 0;
	if (s->n == 0)
		return 0;
	r = xmalloc(s->n * sizeof *r);
	for (i = 0; i < s->n; i++) {
		const KSeg *g = &s->v[i];
		if (g->len == 0) {
			rc = diag_err(d, name, "%s: segment %u at 0x%x is empty", what, i, g->addr);
			goto out;
		}
		if ((uint64_t)g->addr + g->len > ((uint64_t)1 << 32)) {
			rc = diag_err(d, name,
			              "%s: segment %u at 0x%x of %u bytes runs past the 4 GiB "
			              "address space",
			              what, i, g->addr, g->len);
			goto out;
		}
		r[i].lo = g->addr;
		r[i].hi = (uint64_t)g->addr + g->len;
		r[i].idx = i;
	}
	qsort(r, s->n, sizeof *r, range_cmp);
	for (i = 1; i < s->n; i++)
		if (r[i].lo < r[i - 1].hi) {
			rc = diag_err(
			    d, name,
			    "%s: segments at 0x%llx and 0x%llx overlap (bytes "
			    "0x%llx..0x%llx)",
			    what, (unsigned long long)r[i - 1].lo, (unsigned long long)r[i].lo,
			    (unsigned long long)r[i].lo,
			    (unsigned long long)(r[i - 1].hi < r[i].hi ? r[i - 1].hi : r[i].hi) -
			        1);
			goto out;
		}
out:
	free(r);
	return rc;
}

/* branch_target: for a pc-relative branch, 1 and its target in *t. */
static int
branch_target(const Insn *in, uint32_t pc, int64_t *t)
{
	const char *ops = isa_fmts[isa_info(in->op)->fmt].operands;
	if (!strchr(ops, 'l'))
		return 0;
	*t = (int64_t)pc + in->imm;
	return 1;
}

static int
check_core(const KCore *c, const char *name, Diag *d)
{
	char what[64];
	uint32_t i, j;
	if (c->tile >= KELF_MAX_TILES || c->core >= KELF_MAX_CORES)
		return diag_err(d, name, "core t%u.c%u: tile or core id out of range", c->tile,
		                c->core);
	snprintf(what, sizeof what, "section '.text.t%u.c%u'", c->tile, c->core);
	if ((uint64_t)c->ncode * 8 > KELF_MAX_SECTION)
		return diag_err(d, name, "%s: too much code (%u words)", what, c->ncode);
	for (i = 0; i < c->ncode; i++) {
		Insn in;
		int64_t t;
		if (isa_decode(c->code[i], &in) != 0)
			return diag_err(d, name,
			                "%s: word %u (0x%016llx) is not a valid instruction", what,
			                i, (unsigned long long)c->code[i]);
		if (branch_target(&in, i, &t) && (t < 0 || t >= c->ncode))
			return diag_err(d, name,
			                "%s: word %u: branch target %lld is outside the code "
			                "(0..%u)",
			                what, i, (long long)t, c->ncode ? c->ncode - 1 : 0);
	}
	if (c->entry != 0 && c->entry >= c->ncode)
		return diag_err(d, name, "core t%u.c%u: entry pc %u is outside the code (%u words)",
		                c->tile, c->core, c->entry, c->ncode);
	snprintf(what, sizeof what, "scratchpad of core t%u.c%u", c->tile, c->core);
	if (check_segs(&c->spad, what, name, d))
		return -1;
	for (i = 0; i < c->nxbar; i++) {
		const KXbar *x = &c->xbar[i];
		int64_t lo, hi;
		snprintf(what, sizeof what, "crossbar t%u.c%u.u%u", c->tile, c->core, x->unit);
		if (x->unit >= ISA_NMVMU)
			return diag_err(d, name, "%s: MVMU index must be 0..%d", what,
			                ISA_NMVMU - 1);
		if (i > 0 && c->xbar[i - 1].unit >= x->unit)
			return diag_err(d, name, "%s: duplicate or unsorted MVMU index", what);
		if (x->rows < 1 || x->rows > KELF_MAX_XBAR_DIM || x->cols < 1 ||
		    x->cols > KELF_MAX_XBAR_DIM)
			return diag_err(d, name, "%s: %u x %u: rows and cols must be 1..%d", what,
			                x->rows, x->cols, KELF_MAX_XBAR_DIM);
		if ((uint64_t)x->rows * x->cols * 4 > KELF_MAX_SECTION)
			return diag_err(d, name, "%s: %u x %u weights is too large", what, x->rows,
			                x->cols);
		if (x->wbits < 1 || x->wbits > 32)
			return diag_err(d, name, "%s: weight bits %u must be 1..32", what,
			                x->wbits);
		lo = kxbar_wmin(x->wbits);
		hi = kxbar_wmax(x->wbits);
		for (j = 0; j < x->rows * x->cols; j++)
			if (x->w[j] < lo || x->w[j] > hi)
				return diag_err(d, name,
				                "%s: weight [%u][%u] = %d does not fit in %u "
				                "signed bits (%lld..%lld)",
				                what, j / x->cols, j % x->cols, x->w[j], x->wbits,
				                (long long)lo, (long long)hi);
	}
	return 0;
}

static int
check_tensor(const KProg *p, const KTensor *t, uint32_t i, const char *name, Diag *d)
{
	uint64_t bytes;
	uint32_t j;
	const char *n = t->name ? t->name : "";
	if (!kprog_name_ok(n, strlen(n)))
		return diag_err(d, name, "I/O tensor %u: bad name '%.64s'", i, n);
	if (t->dir >= KDIR_COUNT || t->type >= TY_COUNT || t->space >= KSP_COUNT)
		return diag_err(d, name, "I/O tensor '%s': bad direction, type or memory space", n);
	if (t->rank > KELF_MAX_RANK)
		return diag_err(d, name, "I/O tensor '%s': rank %u exceeds %d", n, t->rank,
		                KELF_MAX_RANK);
	for (j = 0; j < t->rank; j++)
		if (t->dims[j] == 0)
			return diag_err(d, name, "I/O tensor '%s': dimension %u is 0", n, j);
	for (j = t->rank; j < KELF_MAX_RANK; j++)
		if (t->dims[j] != 0)
			return diag_err(d, name, "I/O tensor '%s': dimension %u beyond rank %u", n,
			                j, t->rank);
	bytes = ktensor_bytes(t);
	if (bytes > ((uint64_t)1 << 32) - t->addr)
		return diag_err(d, name,
		                "I/O tensor '%s': %llu bytes at 0x%x run past the 4 GiB address "
		                "space",
		                n, (unsigned long long)bytes, t->addr);
	if (!isfinite(t->scale) || !(t->scale > 0))
		return diag_err(d, name, "I/O tensor '%s': scale %g must be finite and > 0", n,
		                t->scale);
	if (t->addr % isa_type_size(t->type))
		return diag_err(d, name, "I/O tensor '%s': address 0x%x is not aligned to %s", n,
		                t->addr, isa_type_names[t->type]);
	switch (t->space) {
	case KSP_DRAM:
		if (t->tile || t->core)
			return diag_err(d, name, "I/O tensor '%s': a dram tensor has tile 0 core 0",
			                n);
		break;
	case KSP_TMEM:
		if (t->core)
			return diag_err(d, name, "I/O tensor '%s': a tilemem tensor has core 0", n);
		if (t->tile >= KELF_MAX_TILES)
			return diag_err(d, name, "I/O tensor '%s': tile %u out of range", n,
			                t->tile);
		break;
	default:
		if (!kprog_find_core(p, t->tile, t->core))
			return diag_err(d, name, "I/O tensor '%s': no core t%u.c%u in the program",
			                n, t->tile, t->core);
	}
	return 0;
}

/* Names that must be unique: tensor names (program-wide), symbol names (per core). Sorted
 * copies keep this O(n log n) for any input. */
typedef struct NameKey {
	uint64_t key;
	const char *name;
} NameKey;

static int
namekey_cmp(const void *a, const void *b)
{
	const NameKey *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
check_unique_names(const KProg *p, const char *name, Diag *d)
{
	uint32_t n = p->nio > p->nsyms ? p->nio : p->nsyms, i;
	NameKey *k;
	int rc = 0;
	if (n < 2)
		return 0;
	k = xmalloc(n * sizeof *k);
	for (i = 0; i < p->nio; i++)
		k[i] = (NameKey){0, p->io[i].name};
	qsort(k, p->nio, sizeof *k, namekey_cmp);
	for (i = 1; i < p->nio && !rc; i++)
		if (strcmp(k[i - 1].name, k[i].name) == 0)
			rc = diag_err(d, name, "I/O tensor '%s' declared twice", k[i].name);
	for (i = 0; i < p->nsyms && !rc; i++)
		k[i] = (NameKey){core_key(p->syms[i].tile, p->syms[i].core), p->syms[i].name};
	if (!rc)
		qsort(k, p->nsyms, sizeof *k, namekey_cmp);
	for (i = 1; i < p->nsyms && !rc; i++)
		if (k[i - 1].key == k[i].key && strcmp(k[i - 1].name, k[i].name) == 0)
			rc = diag_err(d, name, "symbol '%s' defined twice on core t%u.c%u",
			              k[i].name, (uint32_t)(k[i].key >> 32), (uint32_t)k[i].key);
	free(k);
	return rc;
}

int
kprog_validate(const KProg *p, const char *name, Diag *d)
{
	uint32_t i;
	if (p->isa_version != ISA_VERSION)
		return diag_err(d, name, "ISA version %u is not supported (this kolmo speaks %u)",
		                p->isa_version, ISA_VERSION);
	if (!p->arch_name || !kprog_name_ok(p->arch_name, strlen(p->arch_name)))
		return diag_err(d, name, "bad architecture name '%.64s'",
		                p->arch_name ? p->arch_name : "");
	if (p->ncores == 0)
		return diag_err(d, name, "the program has no cores");
	for (i = 0; i < p->ncores; i++) {
		if (i > 0 && core_key(p->cores[i - 1]->tile, p->cores[i - 1]->core) >=
		                 core_key(p->cores[i]->tile, p->cores[i]->core))
			return diag_err(d, name, "cores out of order or duplicated");
		if (check_core(p->cores[i], name, d))
			return -1;
	}
	for (i = 0; i < p->ntiles; i++) {
		char what[48];
		const KTile *t = p->tiles[i];
		if (t->tile >= KELF_MAX_TILES || (i > 0 && p->tiles[i - 1]->tile >= t->tile))
			return diag_err(d, name,
			                "tile %u: id out of range, out of order or duplicated",
			                t->tile);
		snprintf(what, sizeof what, "tile memory of tile %u", t->tile);
		if (check_segs(&t->tmem, what, name, d))
			return -1;
	}
	if (check_segs(&p->dram, "DRAM", name, d))
		return -1;
	for (i = 0; i < p->nio; i++)
		if (check_tensor(p, &p->io[i], i, name, d))
			return -1;
	for (i = 0; i < p->nsyms; i++) {
		const KSym *s = &p->syms[i];
		const KCore *c = kprog_find_core(p, s->tile, s->core);
		const char *n = s->name ? s->name : "";
		if (!kprog_name_ok(n, strlen(n)))
			return diag_err(d, name, "symbol %u: bad name '%.64s'", i, n);
		if (!c)
			return diag_err(d, name, "symbol '%s': no core t%u.c%u in the program", n,
			                s->tile, s->core);
		if (s->len == 0 || (uint64_t)s->pc + s->len > c->ncode)
			return diag_err(d, name,
			                "symbol '%s': instructions %u..%u are not inside the %u "
			                "words of core t%u.c%u",
			                n, s->pc, s->pc + s->len - 1, c->ncode, s->tile, s->core);
		if (i > 0) {
			const KSym *o = &p->syms[i - 1];
			if (!sym_before(o, s->tile, s->core, s->pc))
				return diag_err(d, name, "symbols out of order");
			if (o->tile == s->tile && o->core == s->core && s->pc < o->pc + o->len)
				return diag_err(d, name, "symbols '%s' and '%s' overlap", o->name,
				                n);
		}
	}
	return check_unique_names(p, name, d);
}
