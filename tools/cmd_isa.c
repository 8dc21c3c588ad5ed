/* cmd_isa.c: `kolmo isa [MNEMONIC]`: the instruction reference, printed from ir/isa.def. */
#include <string.h>

#include "cli.h"
#include "isa.h"

static void
print_one(const IsaInfo *in)
{
	printf("%-8s 0x%02x  %-6s %-14s %s\n", in->name, in->opcode, isa_unit_names[in->unit],
	       isa_fmts[in->fmt].operands[0] ? isa_fmts[in->fmt].operands : "-", in->semantics);
}

static int
run(const CliCmd *cmd, CliArgs *a)
{
	unsigned op;
	(void)cmd;
	if (a->npos == 1) {
		int k = isa_lookup(a->pos[0], strlen(a->pos[0]));
		Diag d = {0};
		if (k < 0) {
			diag_err(&d, "kolmo", "isa: unknown instruction '%s'", a->pos[0]);
			return cli_fail(&d);
		}
		print_one(isa_info((unsigned)k));
		return 0;
	}
	printf("kolmo ISA version %u: 64-bit instructions (see docs/isa.md)\n", ISA_VERSION);
	printf("%-8s %-5s %-6s %-14s %s\n", "mnemonic", "op", "unit", "operands", "semantics");
	for (op = 0; op < OP_LIMIT; op++)
		if (isa_info(op)->name)
			print_one(isa_info(op));
	return 0;
}

const CliCmd cmd_isa = {
    .name = "isa",
    .summary = "print the instruction set reference (all, or one mnemonic)",
    .usage = "[MNEMONIC]",
    .details = "Operand letters: a b c d e registers, t/T element types (.i8 .i16 .i32),\n"
               "i immediate, l label, m imm(reg), s shift, u MVMU index, n input bits,\n"
               "f flags acc/gate, k unit mask, x tile and channel, z barrier id.",
    .opts = (const CliOpt[]){{NULL, 0, NULL, NULL}},
    .min_pos = 0,
    .max_pos = 1,
    .run = run,
};
