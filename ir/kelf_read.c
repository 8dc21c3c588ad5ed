/* kelf_read.c: .kelf bytes -> validated KProg. Checks the ELF header by hand first (so the error
 * says what is wrong), then walks the sections with libelf over a private copy of the image,
 * bounds every size and offset, decodes the kolmo sections and notes, and finally runs
 * kprog_validate. Any input gives either a program or a diagnostic, never a crash. */
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "isa.h"
#include "kelf.h"
#include "kelf_fmt.h"

enum Kind { K_TEXT, K_SPAD, K_XBAR, K_TMEM, K_DRAM, K_NOTE, K_SYMTAB, K_STRTAB, K_SHSTRTAB };

/* A section of the file, classified by name. */
typedef struct RSec {
	enum Kind kind;
	uint32_t tile, core, unit;
	size_t idx;
	const char *name;
	GElf_Shdr sh;
} RSec;

typedef struct R {
	const char *file;
	Diag *d;
	Elf *e;
	const uint8_t *img;
	size_t len;
	RSec *sec; /* sorted by (kind, tile, core, unit) */
	size_t nsec;
	KCore **core_of; /* ELF section index -> core, for .text sections */
	size_t shnum;
	KProg *p;
} R;

static int rerr(R *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
rerr(R *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_verr(r->d, r->file, fmt, ap);
	va_end(ap);
	return -1;
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* ---- the ELF header, by hand ---- */

static int
check_header(R *r)
{
	const uint8_t *h = r->img;
	uint64_t shoff;
	uint32_t shnum, shstrndx, v;
	if (r->len < 4 || memcmp(h, ELFMAG, SELFMAG) != 0)
		return rerr(r, "not an ELF file");
	if (r->len < EI_NIDENT + 1 || h[EI_CLASS] != ELFCLASS64) {
		if (r->len >= EI_NIDENT + 1 && h[EI_CLASS] == ELFCLASS32)
			return rerr(r, "a 32-bit ELF file; kolmo binaries are ELF64");
		if (r->len > EI_CLASS)
			return rerr(r, "bad ELF class %u (expected ELF64)", h[EI_CLASS]);
		return rerr(r, "truncated ELF header (%zu bytes)", r->len);
	}
	if (r->len < sizeof(Elf64_Ehdr))
		return rerr(r, "truncated ELF header (%zu of %zu bytes)", r->len,
		            sizeof(Elf64_Ehdr));
	if (h[EI_DATA] != ELFDATA2LSB)
		return rerr(r, "not a little-endian ELF file (EI_DATA %u)", h[EI_DATA]);
	if (h[EI_VERSION] != EV_CURRENT || get_u32(h + 20) != EV_CURRENT)
		return rerr(r, "unsupported ELF version %u/%u", h[EI_VERSION], get_u32(h + 20));
	if (get_u16(h + 18) != KELF_MACHINE)
		return rerr(r, "not a kolmo binary (e_machine 0x%x, expected 0x%x)",
		            get_u16(h + 18), KELF_MACHINE);
	if (get_u16(h + 16) != ET_EXEC)
		return rerr(r, "not an executable (e_type %u)", get_u16(h + 16));
	v = get_u32(h + 48);
	if (v != ISA_VERSION)
		return rerr(r, "ISA version %u (e_flags) is not supported (this kolmo speaks %u)",
		            v, ISA_VERSION);
	if (get_u16(h + 52) != sizeof(Elf64_Ehdr) || get_u16(h + 58) != sizeof(Elf64_Shdr))
		return rerr(r, "bad ELF header or section header size");
	if (get_u16(h + 56) != 0)
		return rerr(r, "unexpected program headers (kolmo binaries have none)");
	shoff = get_u64(h + 40);
	shnum = get_u16(h + 60);
	shstrndx = get_u16(h + 62);
	if (shnum == 0 || shnum >= SHN_LORESERVE)
		return rerr(r, "bad section count %u", shnum);
	if (shoff < sizeof(Elf64_Ehdr) || shoff > r->len ||
	    (uint64_t)shnum * sizeof(Elf64_Shdr) > r->len - shoff)
		return rerr(r,
		            "section header table (%u entries at offset %llu) runs past the end "
		            "of the file (%zu bytes): truncated?",
		            shnum, (unsigned long long)shoff, r->len);
	if (shstrndx == 0 || shstrndx >= shnum)
		return rerr(r, "bad section name table index %u", shstrndx);
	return 0;
}

/* ---- sections: bounds, overlap, names ---- */

typedef struct Span {
	uint64_t lo, hi;
	size_t idx; /* section index; 0 = ELF header, SIZE_MAX = section header table */
} Span;

static int
span_cmp(const void *a, const void *b)
{
	const Span *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* span_name: what a span is, for messages; r->sec is still in section-index order. */
static void
span_name(R *r, size_t idx, char *buf, size_t n)
{
	if (idx == 0)
		snprintf(buf, n, "the ELF header");
	else if (idx == SIZE_MAX)
		snprintf(buf, n, "the section header table");
	else
		snprintf(buf, n, "section '%.40s'", r->sec[idx - 1].name);
}

/* parse_u32: a canonical decimal (no sign, no leading zero) below lim; advances *s. */
static int
parse_u32(const char **s, uint32_t lim, uint32_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return -1;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v >= lim)
			return -1;
		p++;
	}
	*out = (uint32_t)v;
	*s = p;
	return 0;
}

/* classify: the kind (and ids) of a section from its name; -1 for an unknown name. */
static int
classify(const char *n, RSec *s)
{
	static const struct {
		const char *name;
		enum Kind kind;
	} fixed[] = {{".dram", K_DRAM},
	             {".note.kolmo", K_NOTE},
	             {".symtab", K_SYMTAB},
	             {".strtab", K_STRTAB},
	             {".shstrtab", K_SHSTRTAB}};
	static const struct {
		const char *prefix;
		enum Kind kind;
		int core, unit;
	} ided[] = {{".text.t", K_TEXT, 1, 0},
	            {".spad.t", K_SPAD, 1, 0},
	            {".xbar.t", K_XBAR, 1, 1},
	            {".tmem.t", K_TMEM, 0, 0}};
	size_t i;
	s->tile = s->core = s->unit = 0;
	for (i = 0; i < NELEM(fixed); i++)
		if (strcmp(n, fixed[i].name) == 0) {
			s->kind = fixed[i].kind;
			return 0;
		}
	for (i = 0; i < NELEM(ided); i++) {
		size_t pl = strlen(ided[i].prefix);
		const char *p = n + pl;
		if (strncmp(n, ided[i].prefix, pl) != 0)
			continue;
		s->kind = ided[i].kind;
		if (parse_u32(&p, KELF_MAX_TILES, &s->tile))
			return -1;
		if (ided[i].core &&
		    (strncmp(p, ".c", 2) != 0 || (p += 2, parse_u32(&p, KELF_MAX_CORES, &s->core))))
			return -1;
		if (ided[i].unit &&
		    (strncmp(p, ".u", 2) != 0 || (p += 2, parse_u32(&p, ISA_NMVMU, &s->unit))))
			return -1;
		return *p ? -1 : 0;
	}
	return -1;
}

static int
rsec_cmp(const void *a, const void *b)
{
	const RSec *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->tile != y->tile)
		return x->tile < y->tile ? -1 : 1;
	if (x->core != y->core)
		return x->core < y->core ? -1 : 1;
	if (x->unit != y->unit)
		return x->unit < y->unit ? -1 : 1;
	return 0;
}

static const uint32_t kind_type[] = {
    [K_TEXT] = SHT_PROGBITS, [K_SPAD] = SHT_PROGBITS, [K_XBAR] = SHT_PROGBITS,
    [K_TMEM] = SHT_PROGBITS, [K_DRAM] = SHT_PROGBITS, [K_NOTE] = SHT_NOTE,
    [K_SYMTAB] = SHT_SYMTAB, [K_STRTAB] = SHT_STRTAB, [K_SHSTRTAB] = SHT_STRTAB,
};

static int
scan_sections(R *r)
{
	size_t shstrndx, i, n = 0;
	Span *sp;
	Elf_Scn *scn = NULL;
	int rc = -1;

	if (elf_getshdrnum(r->e, &r->shnum) != 0 || elf_getshdrstrndx(r->e, &shstrndx) != 0)
		return rerr(r, "libelf: %s", elf_errmsg(-1));
	sp = xmalloc((r->shnum + 2) * sizeof *sp);
	r->sec = xcalloc(r->shnum, sizeof *r->sec);
	r->core_of = xcalloc(r->shnum, sizeof *r->core_of);
	sp[n++] = (Span){0, sizeof(Elf64_Ehdr), 0};
	{
		uint64_t shoff = get_u64(r->img + 40);
		sp[n++] = (Span){shoff, shoff + r->shnum * sizeof(Elf64_Shdr), SIZE_MAX};
	}
	/* Bounds first: elf_strptr reads the name table, which must lie inside the file. */
	while ((scn = elf_nextscn(r->e, scn)) != NULL) {
		GElf_Shdr sh;
		size_t idx = elf_ndxscn(scn);
		if (!gelf_getshdr(scn, &sh)) {
			rerr(r, "section %zu: libelf: %s", idx, elf_errmsg(-1));
			goto out;
		}
		if (sh.sh_type == SHT_NOBITS || sh.sh_type == SHT_NULL) {
			rerr(r, "section %zu: unexpected section type %u", idx, sh.sh_type);
			goto out;
		}
		if (sh.sh_size > KELF_MAX_SECTION) {
			rerr(r, "section %zu: size %llu exceeds the 1 GiB limit", idx,
			     (unsigned long long)sh.sh_size);
			goto out;
		}
		if (sh.sh_offset > r->len || sh.sh_size > r->len - sh.sh_offset) {
			rerr(r,
			     "section %zu: bytes %llu..%llu lie outside the file (%zu bytes): "
			     "truncated?",
			     idx, (unsigned long long)sh.sh_offset,
			     (unsigned long long)(sh.sh_offset + sh.sh_size), r->len);
			goto out;
		}
		r->sec[r->nsec].idx = idx;
		r->sec[r->nsec].sh = sh;
		r->nsec++;
		if (sh.sh_size)
			sp[n++] = (Span){sh.sh_offset, sh.sh_offset + sh.sh_size, idx};
	}
	for (i = 0; i < r->nsec; i++) {
		RSec *s = &r->sec[i];
		KASSERT(s->idx == i + 1);
		s->name = elf_strptr(r->e, shstrndx, s->sh.sh_name);
		if (!s->name) {
			rerr(r, "section %zu: bad name (offset %u in the name table)", s->idx,
			     s->sh.sh_name);
			goto out;
		}
		if (classify(s->name, s) != 0) {
			rerr(r, "section %zu: unknown section '%.64s'", s->idx, s->name);
			goto out;
		}
		if (s->sh.sh_type != kind_type[s->kind]) {
			rerr(r, "section '%s': type %u, expected %u", s->name, s->sh.sh_type,
			     kind_type[s->kind]);
			goto out;
		}
		if ((s->kind == K_SHSTRTAB) != (s->idx == shstrndx)) {
			rerr(r, "section '%s': the section name table must be '.shstrtab'",
			     s->name);
			goto out;
		}
	}
	qsort(sp, n, sizeof *sp, span_cmp);
	for (i = 1; i < n; i++)
		if (sp[i].lo < sp[i - 1].hi) {
			char a[64], b[64];
			span_name(r, sp[i - 1].idx, a, sizeof a);
			span_name(r, sp[i].idx, b, sizeof b);
			rerr(r, "%s and %s overlap in the file (offsets %llu and %llu)", a, b,
			     (unsigned long long)sp[i - 1].lo, (unsigned long long)sp[i].lo);
			goto out;
		}
	qsort(r->sec, r->nsec, sizeof *r->sec, rsec_cmp);
	for (i = 1; i < r->nsec; i++)
		if (rsec_cmp(&r->sec[i - 1], &r->sec[i]) == 0) {
			rerr(r, "duplicate section '%s'", r->sec[i].name);
			goto out;
		}
	rc = 0;
out:
	free(sp);
	return rc;
}

/* sec_bytes: the raw contents of a section (inside the image; bounds already checked). */
static const uint8_t *
sec_bytes(R *r, const RSec *s)
{
	return r->img + s->sh.sh_offset;
}

static RSec *
find_kind(R *r, enum Kind k)
{
	size_t i;
	for (i = 0; i < r->nsec; i++)
		if (r->sec[i].kind == k)
			return &r->sec[i];
	return NULL;
}

/* ---- notes ---- */

typedef struct CoreNote {
	uint32_t tile, core, entry, ncode;
} CoreNote;

static int
corenote_cmp(const void *a, const void *b)
{
	const CoreNote *x = a, *y = b;
	if (x->tile != y->tile)
		return x->tile < y->tile ? -1 : 1;
	return x->core < y->core ? -1 : x->core > y->core;
}

/* desc_name: the NUL-terminated name at the end of a desc: exactly desc[off .. sz-1) + NUL. */
static int
desc_name(R *r, const uint8_t *desc, size_t sz, size_t off, const char *what, const char **out)
{
	size_t n;
	if (sz <= off || desc[sz - 1] != 0)
		return rerr(r, "note: %s name is missing or not NUL-terminated", what);
	n = sz - off - 1;
	if (memchr(desc + off, 0, n) || !kprog_name_ok((const char *)desc + off, n))
		return rerr(r, "note: bad %s name", what);
	*out = (const char *)desc + off;
	return 0;
}

static int
read_notes(R *r, CoreNote **cores, size_t *ncores)
{
	RSec *s = find_kind(r, K_NOTE);
	Elf_Data *data;
	size_t off = 0, next, name_off, desc_off, cap = 0;
	GElf_Nhdr nh;
	int have_ver = 0, have_arch = 0;
	if (!s)
		return rerr(r, "no '.note.kolmo' section");
	if (s->sh.sh_addralign != 4 || s->sh.sh_size % 4 || s->sh.sh_offset % 4)
		return rerr(r, "section '.note.kolmo': must be 4-aligned with a size that is a "
		               "multiple of 4");
	data = elf_getdata(elf_getscn(r->e, s->idx), NULL);
	if (!data || data->d_size != s->sh.sh_size)
		return rerr(r, "section '.note.kolmo': libelf: %s", elf_errmsg(-1));
	while (off < data->d_size) {
		const uint8_t *desc;
		const char *nm;
		next = gelf_getnote(data, off, &nh, &name_off, &desc_off);
		if (next == 0 || next <= off || next > data->d_size)
			return rerr(r, "section '.note.kolmo': malformed note at offset %zu", off);
		off = next;
		nm = (const char *)data->d_buf + name_off;
		if (nh.n_namesz != sizeof KNOTE_OWNER || memcmp(nm, KNOTE_OWNER, nh.n_namesz))
			return rerr(r, "section '.note.kolmo': a note whose owner is not KOLMO");
		desc = (const uint8_t *)data->d_buf + desc_off;
		switch (nh.n_type) {
		case KNOTE_VERSION:
			if (nh.n_descsz != 4 || have_ver++)
				return rerr(r, "note: bad or repeated ISA version note");
			r->p->isa_version = get_u32(desc);
			if (r->p->isa_version != ISA_VERSION)
				return rerr(r,
				            "note: ISA version %u is not supported (this kolmo "
				            "speaks %u)",
				            r->p->isa_version, ISA_VERSION);
			break;
		case KNOTE_ARCH:
			if (have_arch++)
				return rerr(r, "note: repeated architecture note");
			if (desc_name(r, desc, nh.n_descsz, 8, "architecture", &nm))
				return -1;
			kprog_set_arch(r->p, nm, get_u64(desc));
			break;
		case KNOTE_CORE: {
			CoreNote *c;
			if (nh.n_descsz != KCORE_DESC)
				return rerr(r, "note: core note of %u bytes, expected %d",
				            nh.n_descsz, KCORE_DESC);
			*cores = xgrow(*cores, &cap, *ncores + 1, sizeof **cores);
			c = &(*cores)[(*ncores)++];
			c->tile = get_u32(desc);
			c->core = get_u32(desc + 4);
			c->entry = get_u32(desc + 8);
			c->ncode = get_u32(desc + 12);
			break;
		}
		case KNOTE_TENSOR: {
			KTensor t;
			uint64_t bits;
			unsigned k;
			memset(&t, 0, sizeof t);
			if (nh.n_descsz < KTENSOR_HDR + 2)
				return rerr(r, "note: I/O tensor note of %u bytes is too short",
				            nh.n_descsz);
			if (desc_name(r, desc, nh.n_descsz, KTENSOR_HDR, "I/O tensor", &nm))
				return -1;
			t.dir = desc[0];
			t.type = desc[1];
			t.space = desc[2];
			t.rank = desc[3];
			if (t.dir >= KDIR_COUNT || t.type >= TY_COUNT || t.space >= KSP_COUNT ||
			    t.rank > KELF_MAX_RANK)
				return rerr(r,
				            "note: I/O tensor '%s': bad direction %u, type %u, "
				            "space %u or rank %u",
				            nm, t.dir, t.type, t.space, t.rank);
			t.tile = get_u32(desc + 4);
			t.core = get_u32(desc + 8);
			t.addr = get_u32(desc + 12);
			bits = get_u64(desc + 16);
			memcpy(&t.scale, &bits, 8);
			for (k = 0; k < KELF_MAX_RANK; k++)
				t.dims[k] = get_u32(desc + 24 + 4 * k);
			t.name = (char *)(uintptr_t)nm;
			if (r->p->nio >= (1u << 20))
				return rerr(r, "note: too many I/O tensors");
			kprog_add_io(r->p, &t);
			break;
		}
		default:
			return rerr(r, "note: unknown KOLMO note type %u", nh.n_type);
		}
	}
	if (!have_ver)
		return rerr(r, "note: the ISA version note is missing");
	if (!have_arch)
		return rerr(r, "note: the architecture note is missing");
	if (*ncores > 1) /* qsort's base must not be NULL, even for no element */
		qsort(*cores, *ncores, sizeof **cores, corenote_cmp);
	return 0;
}

/* ---- kolmo sections ---- */

static int
read_segs(R *r, const RSec *s, KSegs *out)
{
	const uint8_t *b = sec_bytes(r, s);
	size_t off = 0, n = s->sh.sh_size, i;
	if (n == 0)
		return rerr(r, "section '%s': empty", s->name);
	while (off < n) {
		uint32_t addr, len;
		if (n - off < KSEG_HDR)
			return rerr(r, "section '%s': truncated segment header at offset %zu",
			            s->name, off);
		addr = get_u32(b + off);
		len = get_u32(b + off + 4);
		off += KSEG_HDR;
		if (len == 0 || len > n - off)
			return rerr(
			    r, "section '%s': segment at offset %zu claims %u bytes, %zu remain",
			    s->name, off - KSEG_HDR, len, n - off);
		kprog_add_seg(out, addr, b + off, len);
		off += len;
		for (i = 0; i < (8 - len % 8) % 8; i++, off++)
			if (off >= n || b[off] != 0)
				return rerr(r,
				            "section '%s': bad padding after the segment at 0x%x",
				            s->name, addr);
	}
	return 0;
}

static int
read_text(R *r, const RSec *s, const CoreNote *cn)
{
	const uint8_t *b = sec_bytes(r, s);
	KCore *c;
	uint32_t i, n;
	if (s->sh.sh_size % 8)
		return rerr(r, "section '%s': size %llu is not a whole number of 8-byte words",
		            s->name, (unsigned long long)s->sh.sh_size);
	n = (uint32_t)(s->sh.sh_size / 8);
	if (!cn)
		return rerr(r, "section '%s': no core note for this core", s->name);
	if (cn->ncode != n)
		return rerr(r, "section '%s': %u words, but the core note says %u", s->name, n,
		            cn->ncode);
	c = kprog_core(r->p, s->tile, s->core);
	c->entry = cn->entry;
	c->code = xmalloc((n ? n : 1) * sizeof *c->code);
	c->code_cap = n;
	for (i = 0; i < n; i++) {
		Insn in;
		c->code[i] = get_u64(b + 8 * (size_t)i);
		if (isa_decode(c->code[i], &in) != 0)
			return rerr(r,
			            "section '%s': word %u (0x%016llx) is not a valid instruction",
			            s->name, i, (unsigned long long)c->code[i]);
	}
	c->ncode = n;
	r->core_of[s->idx] = c;
	return 0;
}

static int
read_xbar(R *r, const RSec *s, KCore *c)
{
	const uint8_t *b = sec_bytes(r, s);
	uint32_t rows, cols, wbits, es, i, k;
	uint64_t need;
	KXbar *x;
	if (s->sh.sh_size < KXBAR_HDR)
		return rerr(r, "section '%s': shorter than its %d-byte header", s->name, KXBAR_HDR);
	rows = get_u32(b);
	cols = get_u32(b + 4);
	wbits = get_u32(b + 8);
	if (rows < 1 || rows > KELF_MAX_XBAR_DIM || cols < 1 || cols > KELF_MAX_XBAR_DIM ||
	    wbits < 1 || wbits > 32 || get_u32(b + 12) != 0)
		return rerr(r, "section '%s': bad header (%u x %u, %u-bit weights)", s->name, rows,
		            cols, wbits);
	es = kxbar_esize(wbits);
	need = KXBAR_HDR + (uint64_t)rows * cols * es;
	if (s->sh.sh_size != need)
		return rerr(r,
		            "section '%s': size %llu does not match a %u x %u image of %u-bit "
		            "weights (%llu bytes)",
		            s->name, (unsigned long long)s->sh.sh_size, rows, cols, wbits,
		            (unsigned long long)need);
	x = kprog_add_xbar(c, s->unit, rows, cols, wbits, NULL);
	KASSERT(x); /* sections are unique */
	b += KXBAR_HDR;
	for (i = 0; i < rows * cols; i++) {
		uint32_t v = 0;
		int64_t sv;
		for (k = 0; k < es; k++)
			v |= (uint32_t)b[(size_t)i * es + k] << (8 * k);
		/* sign-extend from es bytes */
		sv = es == 4 ? (int32_t)v : es == 2 ? (int16_t)(uint16_t)v : (int8_t)(uint8_t)v;
		if (sv < kxbar_wmin(wbits) || sv > kxbar_wmax(wbits))
			return rerr(r,
			            "section '%s': weight [%u][%u] = %lld does not fit in %u "
			            "signed bits",
			            s->name, i / cols, i % cols, (long long)sv, wbits);
		x->w[i] = (int32_t)sv;
	}
	return 0;
}

static int
read_symbols(R *r)
{
	RSec *s = find_kind(r, K_SYMTAB), *st = find_kind(r, K_STRTAB);
	Elf_Data *data;
	size_t n, i;
	if (!s)
		return st ? rerr(r, "'.strtab' without '.symtab'") : 0;
	if (!st || s->sh.sh_link != st->idx)
		return rerr(r, "section '.symtab': sh_link must name '.strtab'");
	if (s->sh.sh_entsize != sizeof(Elf64_Sym) || s->sh.sh_size % sizeof(Elf64_Sym) ||
	    s->sh.sh_size == 0)
		return rerr(r, "section '.symtab': bad entry size or section size");
	n = s->sh.sh_size / sizeof(Elf64_Sym);
	if (s->sh.sh_info < 1 || s->sh.sh_info > n)
		return rerr(r, "section '.symtab': bad first-global index %u", s->sh.sh_info);
	data = elf_getdata(elf_getscn(r->e, s->idx), NULL);
	if (!data)
		return rerr(r, "section '.symtab': libelf: %s", elf_errmsg(-1));
	for (i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *nm;
		KCore *c;
		if (!gelf_getsym(data, (int)i, &sym))
			return rerr(r, "symbol %zu: libelf: %s", i, elf_errmsg(-1));
		if (i == 0) {
			if (sym.st_name || sym.st_value || sym.st_size || sym.st_info ||
			    sym.st_shndx)
				return rerr(r, "symbol 0 must be all zeros");
			continue;
		}
		nm = elf_strptr(r->e, st->idx, sym.st_name);
		if (!nm || !kprog_name_ok(nm, strnlen(nm, KELF_MAX_NAME + 1)))
			return rerr(r, "symbol %zu: bad name", i);
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    GELF_ST_BIND(sym.st_info) != STB_GLOBAL)
			return rerr(r, "symbol '%s': must be a global FUNC symbol", nm);
		if (sym.st_shndx >= r->shnum || !(c = r->core_of[sym.st_shndx]))
			return rerr(r, "symbol '%s': section %u is not a '.text' section", nm,
			            sym.st_shndx);
		if (sym.st_size == 0 || sym.st_value >= c->ncode ||
		    sym.st_size > c->ncode - sym.st_value)
			return rerr(r,
			            "symbol '%s': instructions %llu..%llu are outside the %u "
			            "words of '.text.t%u.c%u'",
			            nm, (unsigned long long)sym.st_value,
			            (unsigned long long)(sym.st_value + sym.st_size - 1), c->ncode,
			            c->tile, c->core);
		if (r->p->nsyms) {
			const KSym *o = &r->p->syms[r->p->nsyms - 1];
			uint64_t ko = (uint64_t)o->tile << 32 | o->core;
			uint64_t kn = (uint64_t)c->tile << 32 | c->core;
			if (ko > kn || (ko == kn && o->pc > sym.st_value))
				return rerr(r,
				            "symbol '%s': symbols must be in (tile, core, pc) "
				            "order",
				            nm);
		}
		kprog_add_sym(r->p, nm, c->tile, c->core, (uint32_t)sym.st_value,
		              (uint32_t)sym.st_size);
	}
	return 0;
}

static int
read_all(R *r)
{
	CoreNote *cn = NULL;
	size_t ncn = 0, i, j = 0;
	int rc = -1;
	if (check_header(r) || (elf_version(EV_CURRENT) == EV_NONE))
		return -1;
	{
		/* libelf gets its own aligned, writable copy of the image. */
		uint8_t *copy = xmalloc(r->len);
		memcpy(copy, r->img, r->len);
		r->img = copy;
	}
	r->e = elf_memory((char *)(uintptr_t)r->img, r->len);
	if (!r->e || elf_kind(r->e) != ELF_K_ELF)
		return rerr(r, "libelf: %s", elf_errmsg(-1));
	if (scan_sections(r) || read_notes(r, &cn, &ncn))
		goto out;
	for (i = 1; i < ncn; i++)
		if (corenote_cmp(&cn[i - 1], &cn[i]) == 0) {
			rerr(r, "note: two core notes for core t%u.c%u", cn[i].tile, cn[i].core);
			goto out;
		}
	/* .text sections come first in sorted order, as do the core notes: merge them. */
	for (i = 0; i < r->nsec && r->sec[i].kind == K_TEXT; i++) {
		RSec *s = &r->sec[i];
		const CoreNote *c = NULL;
		while (j < ncn &&
		       (cn[j].tile < s->tile || (cn[j].tile == s->tile && cn[j].core < s->core))) {
			rerr(r, "note: core t%u.c%u has no '.text' section", cn[j].tile,
			     cn[j].core);
			goto out;
		}
		if (j < ncn && cn[j].tile == s->tile && cn[j].core == s->core)
			c = &cn[j++];
		if (read_text(r, s, c))
			goto out;
	}
	if (j < ncn) {
		rerr(r, "note: core t%u.c%u has no '.text' section", cn[j].tile, cn[j].core);
		goto out;
	}
	for (; i < r->nsec; i++) {
		RSec *s = &r->sec[i];
		KCore *c = NULL;
		if (s->kind == K_SPAD || s->kind == K_XBAR) {
			c = kprog_find_core(r->p, s->tile, s->core);
			if (!c) {
				rerr(r, "section '%s': core t%u.c%u has no '.text' section",
				     s->name, s->tile, s->core);
				goto out;
			}
		}
		if (s->kind == K_SPAD && read_segs(r, s, &c->spad))
			goto out;
		if (s->kind == K_XBAR && read_xbar(r, s, c))
			goto out;
		if (s->kind == K_TMEM && read_segs(r, s, &kprog_tile(r->p, s->tile)->tmem))
			goto out;
		if (s->kind == K_DRAM && read_segs(r, s, &r->p->dram))
			goto out;
	}
	if (read_symbols(r))
		goto out;
	rc = kprog_validate(r->p, r->file, r->d);
out:
	free(cn);
	return rc;
}

int
kelf_read_mem(const void *buf, size_t len, const char *name, KProg **out, Diag *d)
{
	R r;
	int rc;
	memset(&r, 0, sizeof r);
	r.file = name ? name : "<memory>";
	r.d = d;
	r.img = buf;
	r.len = len;
	r.p = kprog_new();
	*out = NULL;
	if (len > KELF_MAX_FILE) {
		kprog_free(r.p);
		return diag_err(d, r.file, "file larger than %d bytes", KELF_MAX_FILE);
	}
	rc = read_all(&r);
	if (r.e)
		elf_end(r.e);
	if (r.img != buf)
		free((void *)(uintptr_t)r.img);
	free(r.sec);
	free(r.core_of);
	if (rc) {
		kprog_free(r.p);
		return -1;
	}
	*out = r.p;
	return 0;
}

int
kelf_read_file(const char *path, KProg **out, Diag *d)
{
	size_t len;
	char *buf = read_file(path, KELF_MAX_FILE, &len, d);
	int rc;
	*out = NULL;
	if (!buf)
		return -1;
	rc = kelf_read_mem(buf, len, path, out, d);
	free(buf);
	return rc;
}

int
kelf_sections(const void *buf, size_t len, KelfSection **out, size_t *n, Diag *d)
{
	KProg *p;
	uint8_t *copy;
	Elf *e;
	Elf_Scn *scn = NULL;
	size_t shstrndx, cap = 0;
	*out = NULL;
	*n = 0;
	if (kelf_read_mem(buf, len, NULL, &p, d))
		return -1;
	kprog_free(p);
	copy = xmalloc(len);
	memcpy(copy, buf, len);
	e = elf_memory((char *)copy, len);
	if (!e || elf_getshdrstrndx(e, &shstrndx) != 0) {
		diag_err(d, NULL, "libelf: %s", elf_errmsg(-1));
		if (e)
			elf_end(e);
		free(copy);
		return -1;
	}
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		const char *nm;
		KelfSection *k;
		if (!gelf_getshdr(scn, &sh))
			continue;
		nm = elf_strptr(e, shstrndx, sh.sh_name);
		*out = xgrow(*out, &cap, *n + 1, sizeof **out);
		k = &(*out)[(*n)++];
		snprintf(k->name, sizeof k->name, "%s", nm ? nm : "?");
		k->type = sh.sh_type;
		k->offset = sh.sh_offset;
		k->size = sh.sh_size;
	}
	elf_end(e);
	free(copy);
	return 0;
}
