/* cmd_objdump.c: `kolmo objdump M.kelf`: header facts, sections, I/O map, symbols and the
 * disassembly of every core. The whole listing is valid assembly (facts are comments), so
 * `kolmo objdump M.kelf > M.s && kolmo asm M.s` gives back the same binary. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "isa.h"
#include "kelf.h"

static const char *
type_name(uint32_t t)
{
	switch (t) {
	case SHT_PROGBITS:
		return "PROGBITS";
	case SHT_NOTE:
		return "NOTE";
	case SHT_SYMTAB:
		return "SYMTAB";
	case SHT_STRTAB:
		return "STRTAB";
	default:
		return "?";
	}
}

static void
print_header(const char *path, const KProg *p, const KelfSection *sec, size_t nsec)
{
	uint32_t i, nin = 0, nxbar = 0;
	size_t k;
	for (i = 0; i < p->nio; i++)
		nin += p->io[i].dir == KDIR_IN;
	for (i = 0; i < p->ncores; i++)
		nxbar += p->cores[i]->nxbar;
	printf("# %s: kolmo ELF64 binary, machine 0x%x, ISA version %u\n", path, KELF_MACHINE,
	       p->isa_version);
	printf("# arch %s, fingerprint 0x%016llx\n", p->arch_name, (unsigned long long)p->arch_fp);
	printf("# %u cores, %u crossbar images, %u layer symbols, %u inputs, %u outputs\n",
	       p->ncores, nxbar, p->nsyms, nin, p->nio - nin);
	printf("#\n# sections:\n#  %3s %-22s %-8s %10s %10s\n", "idx", "name", "type", "offset",
	       "size");
	for (k = 0; k < nsec; k++)
		printf("#  %3zu %-22s %-8s %#10llx %10llu\n", k + 1, sec[k].name,
		       type_name(sec[k].type), (unsigned long long)sec[k].offset,
		       (unsigned long long)sec[k].size);
	if (p->nio) {
		printf("#\n# I/O tensors:\n");
		for (i = 0; i < p->nio; i++) {
			const KTensor *t = &p->io[i];
			char shape[160];
			size_t n = 0;
			unsigned j;
			shape[n++] = '[';
			for (j = 0; j < t->rank && n < sizeof shape - 16; j++)
				n += (size_t)snprintf(shape + n, sizeof shape - n, "%s%u",
				                      j ? "," : "", t->dims[j]);
			snprintf(shape + n, sizeof shape - n, "]");
			printf("#   %-6s %-16s %-3s %-14s %-7s t%u.c%u 0x%08x %8llu bytes  scale "
			       "%g\n",
			       kdir_name(t->dir), t->name, isa_type_names[t->type], shape,
			       kspace_name(t->space), t->tile, t->core, t->addr,
			       (unsigned long long)ktensor_bytes(t), t->scale);
		}
	}
	if (p->nsyms) {
		printf("#\n# symbols:\n");
		for (i = 0; i < p->nsyms; i++) {
			const KSym *s = &p->syms[i];
			printf("#   %-24s t%u.c%u  pc 0x%04x..0x%04x  %u instructions\n", s->name,
			       s->tile, s->core, s->pc, s->pc + s->len - 1, s->len);
		}
	}
	printf("#\n");
}

static int
run(const CliCmd *cmd, CliArgs *a)
{
	const char *path = a->pos[0];
	size_t len, nsec = 0;
	char *buf;
	KProg *p;
	KelfSection *sec = NULL;
	Diag d = {0};
	int quiet = cli_opt(cmd, a, "no-addr") != NULL;
	buf = read_file(path, KELF_MAX_FILE, &len, &d);
	if (!buf)
		return cli_fail(&d);
	if (kelf_read_mem(buf, len, path, &p, &d) || kelf_sections(buf, len, &sec, &nsec, &d)) {
		free(buf);
		return cli_fail(&d);
	}
	free(buf);
	if (!quiet)
		print_header(path, p, sec, nsec);
	kprog_disasm(p, stdout, quiet ? 0 : KDIS_ADDR);
	free(sec);
	kprog_free(p);
	return 0;
}

const CliCmd cmd_objdump = {
    .name = "objdump",
    .summary = "describe and disassemble a kolmo binary (.kelf)",
    .usage = "M.kelf [--no-addr]",
    .details = "Prints the header facts, the section table, the I/O tensor map and the layer\n"
               "symbols as '#' comments, then every core's data, crossbar images and code with\n"
               "pc and instruction words. The listing is valid assembly: 'kolmo asm' turns it\n"
               "back into the same binary.",
    .opts = (const CliOpt[]){{"no-addr", 0, NULL,
                              "plain assembly: no header comments, pcs or instruction words"},
                             {NULL, 0, NULL, NULL}},
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
