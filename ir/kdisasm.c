/* kdisasm.c: KProg -> assembly text in the syntax kasm.c reads, so that disassembling and
 * reassembling gives the same program (and the same .kelf bytes). */
#include <string.h>

#include "isa.h"
#include "kelf.h"

static void
print_bytes(FILE *f, const KSeg *g)
{
	uint32_t i;
	for (i = 0; i < g->len; i++) {
		if (i % 16 == 0)
			fputs(i ? "\n.byte " : ".byte ", f);
		else
			fputs(", ", f);
		fprintf(f, "0x%02x", g->bytes[i]);
	}
	fputc('\n', f);
}

static void
print_tensor(FILE *f, const KTensor *t)
{
	unsigned k;
	fprintf(f, ".%s %s %s [", t->dir == KDIR_IN ? "input" : "output", t->name,
	        isa_type_names[t->type]);
	for (k = 0; k < t->rank; k++)
		fprintf(f, "%s%u", k ? "," : "", t->dims[k]);
	fprintf(f, "] %s %u %u 0x%x %.17g\n", kspace_name(t->space), t->tile, t->core, t->addr,
	        t->scale);
}

static void
print_xbar(FILE *f, const KXbar *x)
{
	uint32_t r, c;
	fprintf(f, ".xbar %u %u %u %u\n", x->unit, x->rows, x->cols, x->wbits);
	for (r = 0; r < x->rows; r++) {
		fputs(".row", f);
		for (c = 0; c < x->cols; c++)
			fprintf(f, " %d", x->w[(size_t)r * x->cols + c]);
		fputc('\n', f);
	}
}

static void
print_code(FILE *f, const KProg *p, const KCore *c, uint32_t *si, unsigned flags)
{
	uint32_t pc;
	const KSym *open = NULL;
	for (pc = 0; pc < c->ncode; pc++) {
		char text[128];
		Insn in;
		const KSym *s = *si < p->nsyms ? &p->syms[*si] : NULL;
		if (s && s->tile == c->tile && s->core == c->core && s->pc == pc) {
			fprintf(f, ".layer %s", s->name);
			if (flags & KDIS_ADDR)
				fprintf(f, "  # <%s>: pc %u..%u", s->name, s->pc,
				        s->pc + s->len - 1);
			fputc('\n', f);
			open = s;
			(*si)++;
		}
		if (isa_decode(c->code[pc], &in) == 0)
			isa_disasm(&in, text, sizeof text);
		else /* not reached for a validated program */
			snprintf(text, sizeof text, ".illegal 0x%016llx",
			         (unsigned long long)c->code[pc]);
		if (flags & KDIS_ADDR) {
			int n = fprintf(f, "\t%s", text);
			fprintf(f, "%*s# %04x: %016llx", n < 40 ? 40 - n : 1, "", pc,
			        (unsigned long long)c->code[pc]);
			if (strchr(isa_fmts[isa_info(in.op)->fmt].operands, 'l'))
				fprintf(f, "  -> %04x", (unsigned)((int64_t)pc + in.imm));
			fputc('\n', f);
		} else {
			fprintf(f, "\t%s\n", text);
		}
		if (open && pc + 1 == open->pc + open->len) {
			fputs(".endlayer\n", f);
			open = NULL;
		}
	}
}

void
kprog_disasm(const KProg *p, FILE *f, unsigned flags)
{
	uint32_t i, j, si = 0;
	fprintf(f, "# kolmo assembly, ISA version %u\n", p->isa_version);
	fprintf(f, ".arch %s 0x%016llx\n", p->arch_name, (unsigned long long)p->arch_fp);
	for (i = 0; i < p->nio; i++)
		print_tensor(f, &p->io[i]);
	for (i = 0; i < p->dram.n; i++) {
		fprintf(f, ".dram 0x%x\n", p->dram.v[i].addr);
		print_bytes(f, &p->dram.v[i]);
	}
	for (i = 0; i < p->ntiles; i++)
		for (j = 0; j < p->tiles[i]->tmem.n; j++) {
			const KSeg *g = &p->tiles[i]->tmem.v[j];
			fprintf(f, ".tmem %u 0x%x\n", p->tiles[i]->tile, g->addr);
			print_bytes(f, g);
		}
	for (i = 0; i < p->ncores; i++) {
		const KCore *c = p->cores[i];
		fprintf(f, "\n.core %u %u", c->tile, c->core);
		if (flags & KDIS_ADDR)
			fprintf(f, "  # %u instructions", c->ncode);
		fputc('\n', f);
		if (c->entry)
			fprintf(f, ".entry %u\n", c->entry);
		for (j = 0; j < c->spad.n; j++) {
			fprintf(f, ".spad 0x%x\n", c->spad.v[j].addr);
			print_bytes(f, &c->spad.v[j]);
		}
		for (j = 0; j < c->nxbar; j++)
			print_xbar(f, &c->xbar[j]);
		/* skip symbols of cores before this one (not reached for a validated program) */
		while (si < p->nsyms && ((uint64_t)p->syms[si].tile << 32 | p->syms[si].core) <
		                            ((uint64_t)c->tile << 32 | c->core))
			si++;
		print_code(f, p, c, &si, flags);
	}
}
