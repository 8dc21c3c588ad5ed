/* test_kelf.c: the .kelf container: write -> read round trip field by field, deterministic
 * bytes, writer refusals, and a table of malformed files made by corrupting a good image in
 * memory (each must give a clear "name: error: ..." and no crash), plus random mutations. */
#include <check.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "kelf_sample.h"
#include "testutil.h"

static void
put_u32_le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint8_t *good;
static size_t good_len;

static void
make_good(void)
{
	KProg *p = sample_prog();
	Diag d = {0};
	if (kelf_write_mem(p, &good, &good_len, &d) != 0) {
		fprintf(stderr, "%s\n", d.msg);
		abort();
	}
	kprog_free(p);
}

static void
free_good(void)
{
	free(good);
	good = NULL;
}

static void
assert_segs_eq(const KSegs *a, const KSegs *b)
{
	uint32_t i;
	ck_assert_uint_eq(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		ck_assert_uint_eq(a->v[i].addr, b->v[i].addr);
		ck_assert_uint_eq(a->v[i].len, b->v[i].len);
		ck_assert_mem_eq(a->v[i].bytes, b->v[i].bytes, a->v[i].len);
	}
}

static void
assert_prog_eq(const KProg *a, const KProg *b)
{
	uint32_t i, j;
	ck_assert_uint_eq(a->isa_version, b->isa_version);
	ck_assert_str_eq(a->arch_name, b->arch_name);
	ck_assert(a->arch_fp == b->arch_fp);
	ck_assert_uint_eq(a->ncores, b->ncores);
	for (i = 0; i < a->ncores; i++) {
		const KCore *x = a->cores[i], *y = b->cores[i];
		ck_assert_uint_eq(x->tile, y->tile);
		ck_assert_uint_eq(x->core, y->core);
		ck_assert_uint_eq(x->entry, y->entry);
		ck_assert_uint_eq(x->ncode, y->ncode);
		ck_assert_mem_eq(x->code, y->code, x->ncode * sizeof *x->code);
		assert_segs_eq(&x->spad, &y->spad);
		ck_assert_uint_eq(x->nxbar, y->nxbar);
		for (j = 0; j < x->nxbar; j++) {
			const KXbar *u = &x->xbar[j], *v = &y->xbar[j];
			ck_assert_uint_eq(u->unit, v->unit);
			ck_assert_uint_eq(u->rows, v->rows);
			ck_assert_uint_eq(u->cols, v->cols);
			ck_assert_uint_eq(u->wbits, v->wbits);
			ck_assert_mem_eq(u->w, v->w, (size_t)u->rows * u->cols * sizeof *u->w);
		}
	}
	ck_assert_uint_eq(a->ntiles, b->ntiles);
	for (i = 0; i < a->ntiles; i++) {
		ck_assert_uint_eq(a->tiles[i]->tile, b->tiles[i]->tile);
		assert_segs_eq(&a->tiles[i]->tmem, &b->tiles[i]->tmem);
	}
	assert_segs_eq(&a->dram, &b->dram);
	ck_assert_uint_eq(a->nio, b->nio);
	for (i = 0; i < a->nio; i++) {
		const KTensor *x = &a->io[i], *y = &b->io[i];
		ck_assert_str_eq(x->name, y->name);
		ck_assert_uint_eq(x->dir, y->dir);
		ck_assert_uint_eq(x->type, y->type);
		ck_assert_uint_eq(x->space, y->space);
		ck_assert_uint_eq(x->rank, y->rank);
		ck_assert_mem_eq(x->dims, y->dims, sizeof x->dims);
		ck_assert_uint_eq(x->tile, y->tile);
		ck_assert_uint_eq(x->core, y->core);
		ck_assert_uint_eq(x->addr, y->addr);
		ck_assert(x->scale == y->scale);
	}
	ck_assert_uint_eq(a->nsyms, b->nsyms);
	for (i = 0; i < a->nsyms; i++) {
		ck_assert_str_eq(a->syms[i].name, b->syms[i].name);
		ck_assert_uint_eq(a->syms[i].tile, b->syms[i].tile);
		ck_assert_uint_eq(a->syms[i].core, b->syms[i].core);
		ck_assert_uint_eq(a->syms[i].pc, b->syms[i].pc);
		ck_assert_uint_eq(a->syms[i].len, b->syms[i].len);
	}
}

START_TEST(round_trip_every_field)
{
	KProg *p = sample_prog(), *q;
	Diag d = {0};
	uint8_t *again;
	size_t again_len;
	ck_assert_int_eq(kprog_validate(p, "sample", &d), 0);
	ck_assert_int_eq(kelf_read_mem(good, good_len, "sample.kelf", &q, &d), 0);
	ck_assert_ptr_nonnull(q);
	assert_prog_eq(p, q);
	/* model order is canonical: cores, xbars and symbols sorted; io in declaration order */
	ck_assert_uint_eq(q->cores[1]->core, 1);
	ck_assert_uint_eq(q->cores[0]->xbar[0].unit, 2);
	ck_assert_str_eq(q->syms[0].name, "init");
	ck_assert_str_eq(q->io[0].name, "input_x");
	/* read -> write gives the same bytes (the writer is deterministic) */
	ck_assert_int_eq(kelf_write_mem(q, &again, &again_len, &d), 0);
	ck_assert_uint_eq(again_len, good_len);
	ck_assert_mem_eq(again, good, good_len);
	free(again);
	kprog_free(p);
	kprog_free(q);
}
END_TEST

START_TEST(write_file_is_atomic)
{
	char dir[64], path[128], listing[256];
	KProg *p = sample_prog(), *q;
	Diag d = {0};
	make_tmpdir(dir, sizeof dir);
	ck_assert(dir[0]);
	snprintf(path, sizeof path, "%s/ok.kelf", dir);
	ck_assert_int_eq(kelf_write_file(p, path, &d), 0);
	ck_assert_int_eq(kelf_read_file(path, &q, &d), 0);
	assert_prog_eq(p, q);
	kprog_free(q);
	unlink(path);
	/* an invalid program is refused and nothing is left behind */
	p->cores[0]->xbar[1].w[3] = 100; /* unit 5: does not fit in 4 bits */
	snprintf(path, sizeof path, "%s/bad.kelf", dir);
	ck_assert_int_eq(kelf_write_file(p, path, &d), -1);
	ck_assert_ptr_nonnull(strstr(d.msg, "does not fit in 4 signed bits"));
	snprintf(listing, sizeof listing, "ls -A %s", dir);
	{
		char *out;
		ck_assert_int_eq(run(listing, &out), 0);
		ck_assert_str_eq(out, "");
		free(out);
	}
	rmdir(dir);
	kprog_free(p);
}
END_TEST

START_TEST(validate_refuses_bad_models)
{
	KProg *p;
	Diag d;
	p = sample_prog();
	p->cores[0]->code[0] = 0xff00000000000000ull;
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(kprog_validate(p, "m", &d), -1);
	ck_assert_str_eq(d.msg, "m: error: section '.text.t0.c0': word 0 (0xff00000000000000) is "
	                        "not a valid instruction");
	kprog_free(p);

	p = sample_prog();
	kprog_add_spad(p->cores[0], 0x105, NULL, 4);
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(kprog_validate(p, "m", &d), -1);
	ck_assert_ptr_nonnull(strstr(d.msg, "overlap"));
	kprog_free(p);

	p = sample_prog();
	kprog_add_sym(p, "tail", 0, 1, 2, 2);
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(kprog_validate(p, "m", &d), -1);
	ck_assert_ptr_nonnull(strstr(d.msg, "symbol 'tail'"));
	kprog_free(p);

	p = sample_prog();
	p->io[1].dims[3] = 0;
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(kprog_validate(p, "m", &d), -1);
	ck_assert_ptr_nonnull(strstr(d.msg, "dimension 3 is 0"));
	kprog_free(p);

	p = sample_prog();
	p->io[0].scale = -1;
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(kprog_validate(p, "m", &d), -1);
	ck_assert_ptr_nonnull(strstr(d.msg, "scale"));
	kprog_free(p);

	p = sample_prog();
	p->cores[1]->code[2] = sample_insn("jmp 1", 0); /* pc 2 + 1 = 3: past the end */
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(kprog_validate(p, "m", &d), -1);
	ck_assert_ptr_nonnull(strstr(d.msg, "branch target 3 is outside"));
	kprog_free(p);

	p = sample_prog();
	kprog_add_sym(p, "loop", 0, 0, 5, 1);
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(kprog_validate(p, "m", &d), -1);
	ck_assert_ptr_nonnull(strstr(d.msg, "symbol 'loop' defined twice"));
	kprog_free(p);
}
END_TEST

/* ---- malformed files ---- */

static Elf64_Ehdr
ehdr_of(const uint8_t *img)
{
	Elf64_Ehdr h;
	memcpy(&h, img, sizeof h);
	return h;
}

static Elf64_Shdr
shdr_of(const uint8_t *img, size_t i)
{
	Elf64_Ehdr h = ehdr_of(img);
	Elf64_Shdr s;
	memcpy(&s, img + h.e_shoff + i * sizeof s, sizeof s);
	return s;
}

static void
put_shdr(uint8_t *img, size_t i, const Elf64_Shdr *s)
{
	Elf64_Ehdr h = ehdr_of(img);
	memcpy(img + h.e_shoff + i * sizeof *s, s, sizeof *s);
}

/* sec_index: the index of the section called name in the good image. */
static size_t
sec_index(const uint8_t *img, const char *name)
{
	Elf64_Ehdr h = ehdr_of(img);
	Elf64_Shdr str = shdr_of(img, h.e_shstrndx);
	size_t i;
	for (i = 1; i < h.e_shnum; i++) {
		Elf64_Shdr s = shdr_of(img, i);
		if (strcmp((const char *)img + str.sh_offset + s.sh_name, name) == 0)
			return i;
	}
	ck_abort_msg("no section %s", name);
	return 0;
}

static uint8_t *
sec_data(uint8_t *img, const char *name)
{
	return img + shdr_of(img, sec_index(img, name)).sh_offset;
}

static void
m_magic(uint8_t *b, size_t *n)
{
	(void)n;
	b[1] = 'X';
}
static void
m_class(uint8_t *b, size_t *n)
{
	(void)n;
	b[EI_CLASS] = ELFCLASS32;
}
static void
m_data(uint8_t *b, size_t *n)
{
	(void)n;
	b[EI_DATA] = ELFDATA2MSB;
}
static void
m_identver(uint8_t *b, size_t *n)
{
	(void)n;
	b[EI_VERSION] = 0;
}
static void
m_machine(uint8_t *b, size_t *n)
{
	(void)n;
	b[18] = 0x3e; /* EM_X86_64 */
	b[19] = 0;
}
static void
m_isaver(uint8_t *b, size_t *n)
{
	(void)n;
	b[48] = 2; /* e_flags */
}
static void
m_shnum(uint8_t *b, size_t *n)
{
	(void)n;
	b[60] = 0xf0; /* e_shnum = 0xf0: the table runs past the end */
}
static void
m_shstrndx(uint8_t *b, size_t *n)
{
	(void)n;
	b[62] = 0x99;
}
static void
m_phnum(uint8_t *b, size_t *n)
{
	(void)n;
	b[56] = 1;
}
static void
m_off_beyond(uint8_t *b, size_t *n)
{
	Elf64_Shdr s = shdr_of(b, 1);
	s.sh_offset = *n + 100;
	put_shdr(b, 1, &s);
}
static void
m_size_huge(uint8_t *b, size_t *n)
{
	Elf64_Shdr s = shdr_of(b, 2);
	(void)n;
	s.sh_size = 1ull << 40;
	put_shdr(b, 2, &s);
}
static void
m_size_wrap(uint8_t *b, size_t *n)
{
	Elf64_Shdr s = shdr_of(b, 2);
	(void)n;
	s.sh_offset = UINT64_MAX - 4;
	s.sh_size = 16;
	put_shdr(b, 2, &s);
}
static void
m_overlap(uint8_t *b, size_t *n)
{
	Elf64_Shdr s1 = shdr_of(b, 1), s2 = shdr_of(b, 2);
	(void)n;
	s2.sh_offset = s1.sh_offset + 8;
	put_shdr(b, 2, &s2);
}
static void
m_overlap_header(uint8_t *b, size_t *n)
{
	Elf64_Shdr s = shdr_of(b, 1);
	(void)n;
	s.sh_offset = 8;
	put_shdr(b, 1, &s);
}
static void
m_note_descsz(uint8_t *b, size_t *n)
{
	(void)n;
	put_u32_le(sec_data(b, ".note.kolmo") + 4, 0x10000);
}
static void
m_note_owner(uint8_t *b, size_t *n)
{
	(void)n;
	sec_data(b, ".note.kolmo")[12] = 'X';
}
static void
m_note_type(uint8_t *b, size_t *n)
{
	(void)n;
	put_u32_le(sec_data(b, ".note.kolmo") + 8, 77);
}
static void
m_note_version(uint8_t *b, size_t *n)
{
	(void)n;
	sec_data(b, ".note.kolmo")[20] = 9; /* desc of the first note (version) */
}
static void
m_note_missing_version(uint8_t *b, size_t *n)
{
	/* turn the version note into a second arch note: 'repeated' */
	(void)n;
	put_u32_le(sec_data(b, ".note.kolmo") + 8, 2);
}
static void
m_note_align(uint8_t *b, size_t *n)
{
	size_t i = sec_index(b, ".note.kolmo");
	Elf64_Shdr s = shdr_of(b, i);
	(void)n;
	s.sh_addralign = 8;
	put_shdr(b, i, &s);
}
/* tensor note of "input_x": its desc starts KTENSOR_HDR (56) bytes before the name */
static uint8_t *
tensor_desc(uint8_t *b, size_t n, const char *name)
{
	size_t k = strlen(name) + 1, i;
	for (i = 56; i + k <= n; i++)
		if (memcmp(b + i, name, k) == 0)
			return b + i - 56;
	ck_abort_msg("tensor %s not found", name);
	return NULL;
}
static void
m_tensor_type(uint8_t *b, size_t *n)
{
	tensor_desc(b, *n, "input_x")[1] = 3;
}
static void
m_tensor_rank(uint8_t *b, size_t *n)
{
	tensor_desc(b, *n, "input_x")[3] = 9;
}
static void
m_tensor_overflow(uint8_t *b, size_t *n)
{
	uint8_t *d = tensor_desc(b, *n, "input_x");
	int i;
	d[3] = 8;
	for (i = 0; i < 8; i++)
		put_u32_le(d + 24 + 4 * i, 0xffffffffu);
}
static void
m_tensor_name(uint8_t *b, size_t *n)
{
	tensor_desc(b, *n, "input_x")[56] = ' ';
}
static void
m_insn(uint8_t *b, size_t *n)
{
	(void)n;
	memset(sec_data(b, ".text.t0.c1") + 8, 0xff, 8);
}
static void
m_text_size(uint8_t *b, size_t *n)
{
	size_t i = sec_index(b, ".text.t0.c1");
	Elf64_Shdr s = shdr_of(b, i);
	(void)n;
	s.sh_size -= 3;
	put_shdr(b, i, &s);
}
static void
m_text_words(uint8_t *b, size_t *n)
{
	size_t i = sec_index(b, ".text.t0.c1");
	Elf64_Shdr s = shdr_of(b, i);
	(void)n;
	s.sh_size -= 8; /* the core note still says 3 words */
	put_shdr(b, i, &s);
}
static void
m_xbar_size(uint8_t *b, size_t *n)
{
	(void)n;
	put_u32_le(sec_data(b, ".xbar.t0.c0.u5"), 4); /* 4 rows, the section holds 3 */
}
static void
m_xbar_weight(uint8_t *b, size_t *n)
{
	(void)n;
	sec_data(b, ".xbar.t0.c0.u5")[16] = 100; /* 4-bit weights */
}
static void
m_xbar_reserved(uint8_t *b, size_t *n)
{
	(void)n;
	sec_data(b, ".xbar.t0.c0.u5")[12] = 1;
}
static void
m_seg_len(uint8_t *b, size_t *n)
{
	(void)n;
	put_u32_le(sec_data(b, ".spad.t0.c0") + 4, 1000);
}
static void
m_seg_pad(uint8_t *b, size_t *n)
{
	(void)n;
	sec_data(b, ".spad.t0.c0")[8 + 13] = 1; /* padding after the 13-byte segment */
}
static void
m_seg_wrap(uint8_t *b, size_t *n)
{
	(void)n;
	put_u32_le(sec_data(b, ".spad.t0.c0"), 0xfffffffc); /* 13 bytes past 4 GiB */
}
static void
m_sym_size(uint8_t *b, size_t *n)
{
	Elf64_Sym s;
	uint8_t *p = sec_data(b, ".symtab") + sizeof s;
	(void)n;
	memcpy(&s, p, sizeof s);
	s.st_size = 1000;
	memcpy(p, &s, sizeof s);
}
static void
m_sym_shndx(uint8_t *b, size_t *n)
{
	Elf64_Sym s;
	uint8_t *p = sec_data(b, ".symtab") + sizeof s;
	(void)n;
	memcpy(&s, p, sizeof s);
	s.st_shndx = (Elf64_Section)sec_index(b, ".dram");
	memcpy(p, &s, sizeof s);
}
static void
m_sym_name(uint8_t *b, size_t *n)
{
	Elf64_Sym s;
	uint8_t *p = sec_data(b, ".symtab") + sizeof s;
	(void)n;
	memcpy(&s, p, sizeof s);
	s.st_name = 0x7fffffff;
	memcpy(p, &s, sizeof s);
}
static void
m_sym_link(uint8_t *b, size_t *n)
{
	size_t i = sec_index(b, ".symtab");
	Elf64_Shdr s = shdr_of(b, i);
	(void)n;
	s.sh_link = 1;
	put_shdr(b, i, &s);
}
/* rename a section by editing .shstrtab in place (same length) */
static void
rename_sec(uint8_t *b, const char *from, const char *to)
{
	Elf64_Ehdr h = ehdr_of(b);
	Elf64_Shdr str = shdr_of(b, h.e_shstrndx);
	Elf64_Shdr s = shdr_of(b, sec_index(b, from));
	memcpy(b + str.sh_offset + s.sh_name, to, strlen(to));
}
static void
m_unknown_sec(uint8_t *b, size_t *n)
{
	(void)n;
	rename_sec(b, ".dram", ".drax");
}
static void
m_dup_sec(uint8_t *b, size_t *n)
{
	(void)n;
	rename_sec(b, ".text.t0.c1", ".text.t0.c0");
}
static void
m_noncanonical(uint8_t *b, size_t *n)
{
	(void)n;
	rename_sec(b, ".text.t1.c0", ".text.t01.c"); /* same length, bad id */
}
static void
m_orphan_xbar(uint8_t *b, size_t *n)
{
	(void)n;
	rename_sec(b, ".xbar.t1.c0.u15", ".xbar.t1.c9.u15");
}
static void
m_sec_type(uint8_t *b, size_t *n)
{
	size_t i = sec_index(b, ".note.kolmo");
	Elf64_Shdr s = shdr_of(b, i);
	(void)n;
	s.sh_type = SHT_PROGBITS;
	put_shdr(b, i, &s);
}
static void
m_nobits(uint8_t *b, size_t *n)
{
	Elf64_Shdr s = shdr_of(b, 1);
	(void)n;
	s.sh_type = SHT_NOBITS;
	put_shdr(b, 1, &s);
}
static void
m_empty(uint8_t *b, size_t *n)
{
	(void)b;
	*n = 0;
}

START_TEST(malformed_files)
{
	static const struct {
		const char *what;
		void (*mutate)(uint8_t *, size_t *);
		const char *msg;
	} cases[] = {
	    {"empty file", m_empty, "not an ELF file"},
	    {"bad magic", m_magic, "not an ELF file"},
	    {"ELF32", m_class, "32-bit ELF file"},
	    {"big-endian", m_data, "not a little-endian ELF file"},
	    {"EI_VERSION", m_identver, "unsupported ELF version"},
	    {"e_machine", m_machine, "not a kolmo binary (e_machine 0x3e, expected 0x4b4d)"},
	    {"ISA version", m_isaver, "ISA version 2 (e_flags) is not supported"},
	    {"e_shnum", m_shnum, "section header table"},
	    {"e_shstrndx", m_shstrndx, "bad section name table index"},
	    {"program headers", m_phnum, "unexpected program headers"},
	    {"offset beyond file", m_off_beyond, "lie outside the file"},
	    {"huge size", m_size_huge, "exceeds the 1 GiB limit"},
	    {"offset wraps", m_size_wrap, "lie outside the file"},
	    {"overlapping sections", m_overlap, "overlap in the file"},
	    {"section over the header", m_overlap_header, "the ELF header and section"},
	    {"note descsz", m_note_descsz, "malformed note"},
	    {"note owner", m_note_owner, "owner is not KOLMO"},
	    {"note type", m_note_type, "unknown KOLMO note type 77"},
	    {"note ISA version", m_note_version, "note: ISA version 9"},
	    {"note repeated", m_note_missing_version, "note: architecture name is missing"},
	    {"note alignment", m_note_align, "must be 4-aligned"},
	    {"tensor type", m_tensor_type, "I/O tensor 'input_x': bad direction"},
	    {"tensor rank", m_tensor_rank, "rank 9"},
	    {"tensor shape overflow", m_tensor_overflow, "run past the 4 GiB"},
	    {"tensor name", m_tensor_name, "bad I/O tensor name"},
	    {"bad instruction", m_insn,
	     "section '.text.t0.c1': word 1 (0xffffffffffffffff) is not a valid instruction"},
	    {"text size", m_text_size, "not a whole number of 8-byte words"},
	    {"text vs core note", m_text_words, "2 words, but the core note says 3"},
	    {"xbar size", m_xbar_size, "does not match a 4 x 5 image of 4-bit weights"},
	    {"xbar weight", m_xbar_weight, "weight [0][0] = 100 does not fit in 4 signed bits"},
	    {"xbar reserved", m_xbar_reserved, "bad header"},
	    {"segment length", m_seg_len, "claims 1000 bytes"},
	    {"segment padding", m_seg_pad, "bad padding"},
	    {"segment past 4 GiB", m_seg_wrap, "runs past the 4 GiB"},
	    {"symbol size", m_sym_size, "are outside the 7 words"},
	    {"symbol section", m_sym_shndx, "is not a '.text' section"},
	    {"symbol name", m_sym_name, "bad name"},
	    {"symtab link", m_sym_link, "sh_link must name '.strtab'"},
	    {"unknown section", m_unknown_sec, "unknown section '.drax'"},
	    {"duplicate section", m_dup_sec, "duplicate section '.text.t0.c0'"},
	    {"non-canonical name", m_noncanonical, "unknown section '.text.t01.c'"},
	    {"orphan xbar", m_orphan_xbar, "core t1.c9 has no '.text' section"},
	    {"section type", m_sec_type, "section '.note.kolmo': type 1, expected 7"},
	    {"NOBITS", m_nobits, "unexpected section type 8"},
	};
	size_t i;
	for (i = 0; i < NELEM(cases); i++) {
		uint8_t *b = malloc(good_len);
		size_t n = good_len;
		KProg *p = (KProg *)1;
		Diag d = {0};
		memcpy(b, good, good_len);
		cases[i].mutate(b, &n);
		ck_assert_msg(kelf_read_mem(b, n, "bad.kelf", &p, &d) == -1, "%s: accepted",
		              cases[i].what);
		ck_assert_ptr_null(p);
		ck_assert_msg(strncmp(d.msg, "bad.kelf: error: ", 17) == 0, "%s: '%s'",
		              cases[i].what, d.msg);
		ck_assert_msg(strstr(d.msg, cases[i].msg) != NULL, "%s: expected '%s' in '%s'",
		              cases[i].what, cases[i].msg, d.msg);
		free(b);
	}
}
END_TEST

START_TEST(every_truncation_fails_cleanly)
{
	size_t n;
	for (n = 0; n < good_len; n++) {
		/* a fresh, exact-size allocation so that ASan sees any overread */
		uint8_t *b = malloc(n ? n : 1);
		KProg *p;
		Diag d = {0};
		memcpy(b, good, n);
		ck_assert_msg(kelf_read_mem(b, n, "t.kelf", &p, &d) == -1, "accepted at %zu", n);
		ck_assert_msg(strncmp(d.msg, "t.kelf: error: ", 15) == 0, "at %zu: %s", n, d.msg);
		free(b);
	}
}
END_TEST

START_TEST(random_mutations_never_crash)
{
	uint64_t s = 0x243f6a8885a308d3ull;
	int iter, accepted = 0;
	for (iter = 0; iter < 3000; iter++) {
		uint8_t *b = malloc(good_len);
		KProg *p;
		Diag d = {0};
		int k, flips = 1 + iter % 4;
		memcpy(b, good, good_len);
		for (k = 0; k < flips; k++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			b[(s >> 8) % good_len] ^= (uint8_t)(1u << (s & 7));
		}
		if (kelf_read_mem(b, good_len, "r.kelf", &p, &d) == 0) {
			accepted++; /* a flip in a don't-care byte (e.g. alignment padding) */
			kprog_free(p);
		} else {
			ck_assert_msg(strncmp(d.msg, "r.kelf: error: ", 15) == 0, "%s", d.msg);
		}
		free(b);
	}
	ck_assert_int_lt(accepted, 3000);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kelf");
	TCase *tc = tcase_create("container");
	SRunner *sr;
	int nf;
	make_good();
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, round_trip_every_field);
	tcase_add_test(tc, write_file_is_atomic);
	tcase_add_test(tc, validate_refuses_bad_models);
	tcase_add_test(tc, malformed_files);
	tcase_add_test(tc, every_truncation_fails_cleanly);
	tcase_add_test(tc, random_mutations_never_crash);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	free_good();
	return nf ? 1 : 0;
}
