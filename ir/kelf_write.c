/* kelf_write.c: KProg -> ELF64 .kelf with libelf. The section contents are built in memory first
 * (kelf_fmt.h layouts), then handed to libelf, which lays the file out and writes it to a
 * temporary file that is renamed into place only when complete. */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isa.h"
#include "kelf.h"
#include "kelf_fmt.h"

/* One section to write. */
typedef struct WSec {
	char name[48];
	uint32_t type;
	uint64_t flags, align, entsize;
	uint32_t link, info; /* indices into the WSec list (link) / as-is (info) */
	Elf_Type dtype;
	Bytes data;
	size_t index; /* ELF section index, set when created */
} WSec;

typedef struct W {
	WSec *s;
	size_t n, cap;
	Bytes shstr, str;
} W;

static WSec *wsec(W *w, uint32_t type, uint64_t flags, uint64_t align, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static WSec *
wsec(W *w, uint32_t type, uint64_t flags, uint64_t align, const char *fmt, ...)
{
	WSec *s;
	va_list ap;
	w->s = xgrow(w->s, &w->cap, w->n + 1, sizeof *w->s);
	s = &w->s[w->n++];
	memset(s, 0, sizeof *s);
	va_start(ap, fmt);
	vsnprintf(s->name, sizeof s->name, fmt, ap);
	va_end(ap);
	s->type = type;
	s->flags = flags;
	s->align = align;
	s->dtype = ELF_T_BYTE;
	return s;
}

static uint32_t
strtab_add(Bytes *b, const char *s)
{
	size_t n = strlen(s) + 1;
	uint32_t off;
	if (b->n == 0)
		bytes_add(b, 1); /* string tables start with "" */
	off = (uint32_t)b->n;
	memcpy(bytes_add(b, n), s, n);
	return off;
}

static void
put_segs(Bytes *b, const KSegs *s)
{
	uint32_t i;
	for (i = 0; i < s->n; i++) {
		const KSeg *g = &s->v[i];
		uint8_t *h = bytes_add(b, KSEG_HDR);
		put_u32(h, g->addr);
		put_u32(h + 4, g->len);
		memcpy(bytes_add(b, g->len), g->bytes, g->len);
		bytes_add(b, (8 - g->len % 8) % 8);
	}
}

static void
put_xbar(Bytes *b, const KXbar *x)
{
	uint32_t es = kxbar_esize(x->wbits), i, k;
	size_t n = (size_t)x->rows * x->cols;
	uint8_t *h = bytes_add(b, KXBAR_HDR + n * es), *p;
	put_u32(h, x->rows);
	put_u32(h + 4, x->cols);
	put_u32(h + 8, x->wbits);
	p = h + KXBAR_HDR;
	for (i = 0; i < n; i++)
		for (k = 0; k < es; k++)
			*p++ = (uint8_t)((uint32_t)x->w[i] >> (8 * k));
}

/* put_note: one note record; the header words are native (libelf's ELF_T_NHDR translates
 * them), name and desc are bytes. */
static void
put_note(Bytes *b, uint32_t type, const uint8_t *desc, uint32_t descsz)
{
	uint32_t hdr[3] = {sizeof KNOTE_OWNER, descsz, type};
	memcpy(bytes_add(b, sizeof hdr), hdr, sizeof hdr);
	memcpy(bytes_add(b, 8), KNOTE_OWNER, sizeof KNOTE_OWNER); /* 6 bytes padded to 8 */
	memcpy(bytes_add(b, descsz), desc, descsz);
	bytes_add(b, (4 - descsz % 4) % 4);
}

static void
build_note(Bytes *b, const KProg *p)
{
	uint8_t buf[KTENSOR_HDR + KELF_MAX_NAME + 1];
	uint32_t i, k;
	size_t n;
	put_u32(buf, p->isa_version);
	put_note(b, KNOTE_VERSION, buf, 4);
	n = strlen(p->arch_name);
	put_u64(buf, p->arch_fp);
	memcpy(buf + 8, p->arch_name, n + 1);
	put_note(b, KNOTE_ARCH, buf, (uint32_t)(8 + n + 1));
	for (i = 0; i < p->ncores; i++) {
		const KCore *c = p->cores[i];
		put_u32(buf, c->tile);
		put_u32(buf + 4, c->core);
		put_u32(buf + 8, c->entry);
		put_u32(buf + 12, c->ncode);
		put_note(b, KNOTE_CORE, buf, KCORE_DESC);
	}
	for (i = 0; i < p->nio; i++) {
		const KTensor *t = &p->io[i];
		uint64_t bits;
		memset(buf, 0, KTENSOR_HDR);
		buf[0] = t->dir;
		buf[1] = t->type;
		buf[2] = t->space;
		buf[3] = t->rank;
		put_u32(buf + 4, t->tile);
		put_u32(buf + 8, t->core);
		put_u32(buf + 12, t->addr);
		memcpy(&bits, &t->scale, 8);
		put_u64(buf + 16, bits);
		for (k = 0; k < t->rank; k++)
			put_u32(buf + 24 + 4 * k, t->dims[k]);
		n = strlen(t->name);
		memcpy(buf + KTENSOR_HDR, t->name, n + 1);
		put_note(b, KNOTE_TENSOR, buf, (uint32_t)(KTENSOR_HDR + n + 1));
	}
}

/* build: every section's contents, in file order. */
static void
build(W *w, const KProg *p)
{
	size_t *text_of = xcalloc(p->ncores ? p->ncores : 1, sizeof *text_of);
	size_t symtab, strtab;
	uint32_t i, j, k;
	WSec *s;
	Elf64_Sym *sym;

	for (i = 0; i < p->ncores; i++) {
		const KCore *c = p->cores[i];
		text_of[i] = w->n;
		s = wsec(w, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, 8, ".text.t%u.c%u", c->tile,
		         c->core);
		for (j = 0; j < c->ncode; j++)
			put_u64(bytes_add(&s->data, 8), c->code[j]);
		if (c->spad.n) {
			s = wsec(w, SHT_PROGBITS, 0, 8, ".spad.t%u.c%u", c->tile, c->core);
			put_segs(&s->data, &c->spad);
		}
		for (j = 0; j < c->nxbar; j++) {
			s = wsec(w, SHT_PROGBITS, 0, 8, ".xbar.t%u.c%u.u%u", c->tile, c->core,
			         c->xbar[j].unit);
			put_xbar(&s->data, &c->xbar[j]);
		}
	}
	for (i = 0; i < p->ntiles; i++) {
		if (!p->tiles[i]->tmem.n)
			continue;
		s = wsec(w, SHT_PROGBITS, 0, 8, ".tmem.t%u", p->tiles[i]->tile);
		put_segs(&s->data, &p->tiles[i]->tmem);
	}
	if (p->dram.n) {
		s = wsec(w, SHT_PROGBITS, 0, 8, ".dram");
		put_segs(&s->data, &p->dram);
	}
	s = wsec(w, SHT_NOTE, 0, 4, ".note.kolmo");
	s->dtype = ELF_T_NHDR;
	build_note(&s->data, p);

	symtab = w->n;
	strtab = w->n + 1;
	s = wsec(w, SHT_SYMTAB, 0, 8, ".symtab");
	s->dtype = ELF_T_SYM;
	s->entsize = sizeof(Elf64_Sym);
	s->link = (uint32_t)strtab;
	s->info = 1; /* every symbol after the null one is global */
	sym = (Elf64_Sym *)bytes_add(&s->data, sizeof *sym * (p->nsyms + 1));
	for (k = 0; k < p->nsyms; k++) {
		const KSym *y = &p->syms[k];
		Elf64_Sym *e = &sym[k + 1];
		for (i = 0; i < p->ncores; i++)
			if (p->cores[i]->tile == y->tile && p->cores[i]->core == y->core)
				break;
		KASSERT(i < p->ncores);
		e->st_name = strtab_add(&w->str, y->name);
		e->st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
		e->st_other = STV_DEFAULT;
		e->st_shndx = (Elf64_Section)text_of[i]; /* WSec index; fixed up in emit */
		e->st_value = y->pc;
		e->st_size = y->len;
	}
	if (w->str.n == 0)
		bytes_add(&w->str, 1);
	s = wsec(w, SHT_STRTAB, 0, 1, ".strtab");
	s->data = w->str;
	memset(&w->str, 0, sizeof w->str);
	(void)symtab;
	(void)wsec(w, SHT_STRTAB, 0, 1, ".shstrtab");
	free(text_of);
}

/* emit: hand the sections to libelf and write the file on fd. */
static int
emit(W *w, int fd, const char *path, Diag *d)
{
	Elf *e;
	GElf_Ehdr eh;
	size_t i, shstr = w->n - 1;
	int rc = -1;

	/* Section names; .shstrtab (the last section) holds them all, itself included. */
	for (i = 0; i < w->n; i++)
		strtab_add(&w->shstr, w->s[i].name);
	w->s[shstr].data = w->shstr;
	memset(&w->shstr, 0, sizeof w->shstr);

	if (elf_version(EV_CURRENT) == EV_NONE)
		return diag_err(d, path, "libelf: %s", elf_errmsg(-1));
	e = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!e)
		return diag_err(d, path, "libelf: %s", elf_errmsg(-1));
	if (!gelf_newehdr(e, ELFCLASS64) || !gelf_getehdr(e, &eh))
		goto fail;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_EXEC;
	eh.e_machine = KELF_MACHINE;
	eh.e_version = EV_CURRENT;
	eh.e_entry = 0;
	eh.e_flags = ISA_VERSION;

	{
		uint32_t name_off = 1;
		for (i = 0; i < w->n; i++) {
			WSec *s = &w->s[i];
			Elf_Scn *scn = elf_newscn(e);
			Elf_Data *data;
			GElf_Shdr sh;
			if (!scn)
				goto fail;
			s->index = elf_ndxscn(scn);
			data = elf_newdata(scn);
			if (!data)
				goto fail;
			data->d_buf = s->data.p;
			data->d_size = s->data.n;
			data->d_type = s->dtype;
			data->d_align = s->align;
			data->d_off = 0;
			data->d_version = EV_CURRENT;
			if (!gelf_getshdr(scn, &sh))
				goto fail;
			sh.sh_name = name_off;
			name_off += (uint32_t)strlen(s->name) + 1;
			sh.sh_type = s->type;
			sh.sh_flags = s->flags;
			sh.sh_addralign = s->align;
			sh.sh_entsize = s->entsize;
			sh.sh_info = s->info;
			if (!gelf_update_shdr(scn, &sh))
				goto fail;
		}
	}
	/* Links and symbol section indices now that ELF indices are known. */
	for (i = 0; i < w->n; i++) {
		WSec *s = &w->s[i];
		if (s->type == SHT_SYMTAB) {
			Elf_Scn *scn = elf_getscn(e, s->index);
			GElf_Shdr sh;
			Elf64_Sym *sym = (Elf64_Sym *)s->data.p;
			size_t k, n = s->data.n / sizeof *sym;
			if (!scn || !gelf_getshdr(scn, &sh))
				goto fail;
			sh.sh_link = (uint32_t)w->s[s->link].index;
			if (!gelf_update_shdr(scn, &sh))
				goto fail;
			for (k = 1; k < n; k++)
				sym[k].st_shndx = (Elf64_Section)w->s[sym[k].st_shndx].index;
		}
	}
	eh.e_shstrndx = (Elf64_Half)w->s[shstr].index;
	if (!gelf_update_ehdr(e, &eh))
		goto fail;
	if (elf_update(e, ELF_C_WRITE) < 0)
		goto fail;
	rc = 0;
fail:
	if (rc)
		diag_err(d, path, "libelf: %s", elf_errmsg(-1));
	elf_end(e);
	return rc;
}

static void
w_free(W *w)
{
	size_t i;
	for (i = 0; i < w->n; i++)
		free(w->s[i].data.p);
	free(w->s);
	free(w->shstr.p);
	free(w->str.p);
}

static int
write_fd(const KProg *p, int fd, const char *path, Diag *d)
{
	W w = {0};
	int rc;
	if (kprog_validate(p, path, d))
		return -1;
	build(&w, p);
	if (w.n + 1 >= SHN_LORESERVE) {
		w_free(&w);
		return diag_err(d, path,
		                "%zu sections: more than an ELF file holds without extended "
		                "numbering (%d)",
		                w.n + 1, SHN_LORESERVE - 1);
	}
	rc = emit(&w, fd, path, d);
	w_free(&w);
	return rc;
}

int
kelf_write_file(const KProg *p, const char *path, Diag *d)
{
	OutFile o;
	if (kprog_validate(p, path, d))
		return -1;
	if (outfile_open(&o, path, d))
		return -1;
	if (write_fd(p, o.fd, path, d)) {
		outfile_abort(&o);
		return -1;
	}
	return outfile_commit(&o, d);
}

int
kelf_write_mem(const KProg *p, uint8_t **buf, size_t *len, Diag *d)
{
	FILE *f = tmpfile();
	long n;
	int rc = -1;
	*buf = NULL;
	*len = 0;
	if (!f)
		return diag_err(d, "<memory>", "cannot create a temporary file: %s",
		                strerror(errno));
	if (write_fd(p, fileno(f), "<memory>", d))
		goto out;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		diag_err(d, "<memory>", "cannot read back the temporary file: %s", strerror(errno));
		goto out;
	}
	*buf = xmalloc((size_t)n ? (size_t)n : 1);
	if (fread(*buf, 1, (size_t)n, f) != (size_t)n) {
		diag_err(d, "<memory>", "cannot read back the temporary file");
		free(*buf);
		*buf = NULL;
		goto out;
	}
	*len = (size_t)n;
	rc = 0;
out:
	fclose(f);
	return rc;
}
