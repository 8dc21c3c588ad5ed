/* test_isa.c: the ISA table itself (no overlapping encodings, every bit owned, fields in range)
 * and round trips encode -> decode -> encode and disassemble -> assemble for every instruction. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "isa.h"

/* Count the rows of the table independently of isa.c's array, to catch a duplicate opcode (which
 * would silently overwrite a designated initializer). */
static const struct {
	const char *name;
	unsigned opcode;
} rows[] = {
#define ISA_INSN(mn, opc, fmt, unit, flags, sem) {#mn, opc},
#include "isa.def"
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

START_TEST(opcodes_unique_and_named)
{
	size_t i, j, assigned = 0;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const IsaInfo *in = isa_info(rows[i].opcode);
		ck_assert_uint_lt(rows[i].opcode, 256);
		ck_assert_ptr_nonnull(in->name);
		ck_assert_str_eq(in->name, rows[i].name);
		ck_assert_int_eq(isa_lookup(rows[i].name, strlen(rows[i].name)),
		                 (int)rows[i].opcode);
		for (j = 0; j < i; j++) {
			ck_assert_uint_ne(rows[i].opcode, rows[j].opcode);
			ck_assert_str_ne(rows[i].name, rows[j].name);
		}
	}
	for (i = 0; i < 256; i++)
		assigned += isa_info((unsigned)i)->name != NULL;
	ck_assert_uint_eq(assigned, sizeof rows / sizeof rows[0]);
}
END_TEST

START_TEST(fields_partition_each_format)
{
	unsigned f, g, fmt;
	for (f = 0; f < FLD_COUNT; f++) {
		ck_assert_uint_gt(isa_fields[f].width, 0);
		ck_assert_uint_le(isa_fields[f].lo + isa_fields[f].width, 64);
	}
	/* The primary fields tile the word exactly: every bit owned by one of them. */
	{
		const unsigned prim[] = {FLD_OP, FLD_A, FLD_B, FLD_C, FLD_D, FLD_T, FLD_IMM};
		uint64_t all = 0;
		for (g = 0; g < sizeof prim / sizeof prim[0]; g++) {
			uint64_t m = ((1ull << isa_fields[prim[g]].width) - 1)
			             << isa_fields[prim[g]].lo;
			ck_assert_uint_eq(all & m, 0);
			all |= m;
		}
		ck_assert_uint_eq(all, UINT64_MAX);
	}
	/* Within a format, owned fields do not overlap: their widths add up to the owned bits. */
	for (fmt = 0; fmt < FMT_COUNT; fmt++) {
		uint64_t owned = isa_fmt_owned(fmt);
		ck_assert_uint_ne(owned & (0xffull << 56), 0);
		/* A word with every owned bit set and the rest clear decodes only if legal; a bit
		 * outside is always rejected. */
		for (g = 0; g < 64; g++) {
			Insn in;
			uint64_t bit = 1ull << g;
			unsigned opc;
			if (owned & bit)
				continue;
			for (opc = 0; opc < 256; opc++) {
				const IsaInfo *info = isa_info(opc);
				if (info->name && info->fmt == fmt) {
					uint64_t w = (uint64_t)opc << 56 | bit;
					ck_assert_msg(isa_decode(w, &in) != 0,
					              "%s accepted stray bit %u", info->name, g);
					break;
				}
			}
		}
	}
}
END_TEST

/* random_insn: a random encodable instruction of opcode op. */
static void
random_insn(unsigned op, Insn *in)
{
	const IsaInfo *info = isa_info(op);
	const char *p;
	memset(in, 0, sizeof *in);
	in->op = (uint8_t)op;
	for (p = isa_fmts[info->fmt].operands; *p; p++) {
		switch (*p) {
		case 'a':
			in->a = (uint8_t)(rnd() % 32);
			break;
		case 'b':
			in->b = (uint8_t)(rnd() % 32);
			break;
		case 'c':
			in->c = (uint8_t)(rnd() % 32);
			break;
		case 'd':
			in->d = (uint8_t)(rnd() % 32);
			break;
		case 'e':
			in->e = (uint8_t)(rnd() % 32);
			break;
		case 't':
			in->tin = in->tout = (uint8_t)(rnd() % TY_COUNT);
			break;
		case 'T':
			in->tin = (uint8_t)(rnd() % TY_COUNT);
			in->tout = (uint8_t)(rnd() % TY_COUNT);
			break;
		case 'i':
		case 'l':
			in->imm = (int32_t)(uint32_t)rnd();
			break;
		case 'm':
			in->imm = (int32_t)(uint32_t)rnd();
			in->b = (uint8_t)(rnd() % 32);
			break;
		case 's':
			in->shift = (uint8_t)(rnd() % 64);
			break;
		case 'u':
			in->unit = (uint8_t)(rnd() % 16);
			break;
		case 'n':
			in->nbits = (uint8_t)(1 + rnd() % 16);
			break;
		case 'f':
			in->acc = (uint8_t)(rnd() & 1);
			in->gate = (uint8_t)(rnd() & 1);
			break;
		case 'k':
			in->mask = (uint32_t)(rnd() & 0x1ffff);
			break;
		case 'x':
			in->tile = (uint16_t)rnd();
			in->chan = (uint8_t)rnd();
			break;
		case 'z':
			in->chan = (uint8_t)rnd();
			break;
		default:
			break;
		}
	}
}

START_TEST(round_trip_every_instruction)
{
	size_t i;
	int k;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		for (k = 0; k < 200; k++) {
			Insn in, out, back;
			uint64_t w, w2;
			char text[128], err[128];
			int col = -1;
			random_insn(rows[i].opcode, &in);
			ck_assert_int_eq(isa_check(&in, NULL), 0);
			w = isa_encode(&in);
			ck_assert_uint_eq(w >> 56, rows[i].opcode);
			ck_assert_int_eq(isa_decode(w, &out), 0);
			ck_assert_mem_eq(&in, &out, sizeof in);
			w2 = isa_encode(&out);
			ck_assert_uint_eq(w, w2);
			isa_disasm(&out, text, sizeof text);
			ck_assert_msg(
			    isa_parse(text, 0, NULL, NULL, &back, err, sizeof err, &col) == 0,
			    "'%s' does not assemble: %s at %d", text, err, col);
			ck_assert_uint_eq(isa_encode(&back), w);
		}
	}
}
END_TEST

START_TEST(decode_rejects_illegal_words)
{
	Insn in;
	unsigned op;
	/* Unassigned opcodes. */
	for (op = 0; op < 256; op++)
		if (!isa_info(op)->name)
			ck_assert_int_ne(isa_decode((uint64_t)op << 56, &in), 0);
	/* Element type 3 is illegal. */
	ck_assert_int_ne(isa_decode((uint64_t)OP_vadd << 56 | 0xfull << 32, &in), 0);
	/* A one-type instruction with different in and out types. */
	ck_assert_int_ne(isa_decode((uint64_t)OP_vadd << 56 | 0x4ull << 32, &in), 0);
	/* mvm with zero input bits. */
	ck_assert_int_ne(isa_decode((uint64_t)OP_mvm << 56, &in), 0);
	/* halt is all zero below the opcode. */
	ck_assert_int_eq(isa_decode((uint64_t)OP_halt << 56, &in), 0);
	ck_assert_int_ne(isa_decode((uint64_t)OP_halt << 56 | 1, &in), 0);
}
END_TEST

START_TEST(assembler_text_forms)
{
	Insn in;
	char err[128];
	int col;
	ck_assert_int_eq(isa_parse("addi r1, r0, -5", 0, NULL, NULL, &in, err, sizeof err, &col),
	                 0);
	ck_assert_int_eq(in.op, OP_addi);
	ck_assert_int_eq(in.a, 1);
	ck_assert_int_eq(in.imm, -5);
	ck_assert_int_eq(isa_parse("lw r3, 16(r2)", 0, NULL, NULL, &in, err, sizeof err, &col), 0);
	ck_assert_int_eq(in.b, 2);
	ck_assert_int_eq(in.imm, 16);
	ck_assert_int_eq(
	    isa_parse("mvm.i8 r4, r5, 3, 8, gate, acc", 0, NULL, NULL, &in, err, sizeof err, &col),
	    0);
	ck_assert_int_eq(in.unit, 3);
	ck_assert_int_eq(in.nbits, 8);
	ck_assert_int_eq(in.acc, 1);
	ck_assert_int_eq(in.gate, 1);
	ck_assert_int_eq(
	    isa_parse("vrq.i8.i32 r1, r2, r3, r4, 12", 0, NULL, NULL, &in, err, sizeof err, &col),
	    0);
	ck_assert_int_eq(in.tout, TY_I8);
	ck_assert_int_eq(in.tin, TY_I32);
	ck_assert_int_eq(in.shift, 12);
	ck_assert_int_eq(
	    isa_parse("send r1, r2, r3, 7, 9", 0, NULL, NULL, &in, err, sizeof err, &col), 0);
	ck_assert_int_eq(in.tile, 7);
	ck_assert_int_eq(in.chan, 9);

	/* Errors name the column of the offending text. */
	ck_assert_int_ne(isa_parse("frob r1", 0, NULL, NULL, &in, err, sizeof err, &col), 0);
	ck_assert_int_eq(col, 0);
	ck_assert_ptr_nonnull(strstr(err, "unknown instruction"));
	ck_assert_int_ne(isa_parse("add r1, r2, r32", 0, NULL, NULL, &in, err, sizeof err, &col),
	                 0);
	ck_assert_int_eq(col, 12);
	ck_assert_int_ne(
	    isa_parse("vadd r1, r2, r3, r4", 0, NULL, NULL, &in, err, sizeof err, &col), 0);
	ck_assert_int_eq(col, 4);
	ck_assert_int_ne(
	    isa_parse("mvm.i8 r1, r2, 16, 8", 0, NULL, NULL, &in, err, sizeof err, &col), 0);
	ck_assert_int_eq(col, 15);
	ck_assert_int_ne(
	    isa_parse("beq r1, r2, nowhere", 0, NULL, NULL, &in, err, sizeof err, &col), 0);
	ck_assert_ptr_nonnull(strstr(err, "undefined label"));
	ck_assert_int_ne(isa_parse("halt r1", 0, NULL, NULL, &in, err, sizeof err, &col), 0);
	ck_assert_int_ne(
	    isa_parse("mvm.i8 r1, r2, 0, 8, acc, acc", 0, NULL, NULL, &in, err, sizeof err, &col),
	    0);
}
END_TEST

static int
label_fn(void *ctx, const char *name, size_t len, int64_t *idx)
{
	(void)ctx;
	if (len == 4 && memcmp(name, "loop", 4) == 0) {
		*idx = 2;
		return 0;
	}
	return -1;
}

START_TEST(labels_are_relative)
{
	Insn in;
	char err[128];
	int col;
	ck_assert_int_eq(isa_parse("dbnz r7, loop", 10, label_fn, NULL, &in, err, sizeof err, &col),
	                 0);
	ck_assert_int_eq(in.imm, -8);
	ck_assert_int_eq(isa_parse("jmp loop", 0, label_fn, NULL, &in, err, sizeof err, &col), 0);
	ck_assert_int_eq(in.imm, 2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("isa");
	TCase *tc = tcase_create("table");
	SRunner *sr;
	int nf;
	tcase_add_test(tc, opcodes_unique_and_named);
	tcase_add_test(tc, fields_partition_each_format);
	tcase_add_test(tc, round_trip_every_instruction);
	tcase_add_test(tc, decode_rejects_illegal_words);
	tcase_add_test(tc, assembler_text_forms);
	tcase_add_test(tc, labels_are_relative);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
