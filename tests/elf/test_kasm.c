/* test_kasm.c: the file assembler and disassembler: every directive, disassemble -> reassemble
 * gives the same program and bytes (the sample model and the bundled examples), and a table of
 * bad files, each with its expected file:line:col, message and caret. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "kelf_sample.h"
#include "testutil.h"

static char *
disasm_text(const KProg *p, unsigned flags)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	ck_assert_ptr_nonnull(f);
	kprog_disasm(p, f, flags);
	fclose(f);
	return buf;
}

static void
image(const KProg *p, uint8_t **b, size_t *n)
{
	Diag d = {0};
	ck_assert_msg(kelf_write_mem(p, b, n, &d) == 0, "%s", d.msg);
}

/* reassemble p's disassembly (both listing styles) and compare the .kelf bytes. */
static void
assert_disasm_round_trip(const KProg *p)
{
	unsigned flags[] = {0, KDIS_ADDR};
	uint8_t *a, *b;
	size_t an, bn, i;
	image(p, &a, &an);
	for (i = 0; i < NELEM(flags); i++) {
		char *text = disasm_text(p, flags[i]);
		KProg *q;
		Diag d = {0};
		ck_assert_msg(kasm_parse(text, "dis.s", &q, &d) == 0, "%s\n%s", d.msg, text);
		image(q, &b, &bn);
		ck_assert_uint_eq(an, bn);
		ck_assert_mem_eq(a, b, an);
		free(b);
		kprog_free(q);
		free(text);
	}
	free(a);
}

START_TEST(sample_model_round_trips_through_text)
{
	KProg *p = sample_prog();
	assert_disasm_round_trip(p);
	kprog_free(p);
}
END_TEST

START_TEST(examples_round_trip)
{
	static const char *const files[] = {SRC("examples/asm/basic.s"),
	                                    SRC("examples/asm/two_tiles.s")};
	size_t i;
	for (i = 0; i < NELEM(files); i++) {
		KProg *p;
		Diag d = {0};
		ck_assert_msg(kasm_file(files[i], &p, &d) == 0, "%s", d.msg);
		ck_assert_uint_ge(p->nsyms, 2);
		assert_disasm_round_trip(p);
		kprog_free(p);
	}
}
END_TEST

/* The example in docs/binary.md assembles (and round-trips). */
START_TEST(docs_example_assembles)
{
	Diag d = {0};
	size_t n;
	char *doc = read_file(SRC("docs/binary.md"), 1 << 20, &n, &d), *start, *end;
	KProg *p;
	ck_assert_msg(doc != NULL, "%s", d.msg);
	start = strstr(doc, "### Example\n\n```\n");
	ck_assert_ptr_nonnull(start);
	start += strlen("### Example\n\n```\n");
	end = strstr(start, "```");
	ck_assert_ptr_nonnull(end);
	*end = 0;
	ck_assert_msg(kasm_parse(start, "binary.md", &p, &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(p->nsyms, 1);
	ck_assert_uint_eq(p->cores[0]->xbar[0].rows, 4);
	assert_disasm_round_trip(p);
	kprog_free(p);
	free(doc);
}
END_TEST

START_TEST(every_directive)
{
	static const char src[] = "# header comment\n"
	                          ".arch my-chip 0x1122334455667788   ; trailing comment\n"
	                          ".input in0 i16 [2, 3] dram 0 0 0x10 0.5\n"
	                          ".output out0 i32 [] tilemem 1 0 0x20 2.5e-3\n"
	                          ".dram 0x100\n"
	                          ".byte 1, -1, 255\n"
	                          ".half -2 0x1234\n"
	                          ".word 0xdeadbeef, -1\n"
	                          ".zero 3\n"
	                          ".tmem 1 0x40\n"
	                          ".byte 7\n"
	                          ".core 1 0\n"
	                          ".entry start\n"
	                          ".spad 0x8\n"
	                          ".word 42\n"
	                          ".xbar 3 2 3 2\n"
	                          ".row -2 1 0\n"
	                          ".row 1, 1, -1\n"
	                          "\tnop\n"
	                          "start:\n"
	                          ".layer body\n"
	                          "loop:\taddi r1, r1, -1   # count down\n"
	                          "\tbne r1, r0, loop\n"
	                          ".endlayer\n"
	                          "\tjmp start\n"
	                          "\thalt\n";
	static const uint8_t dram[] = {1,    0xff, 0xff, 0xfe, 0xff, 0x34, 0x12, 0xef, 0xbe,
	                               0xad, 0xde, 0xff, 0xff, 0xff, 0xff, 0,    0,    0};
	KProg *p;
	Diag d = {0};
	KCore *c;
	Insn in;
	ck_assert_msg(kasm_parse(src, "all.s", &p, &d) == 0, "%s", d.msg);
	ck_assert_str_eq(p->arch_name, "my-chip");
	ck_assert(p->arch_fp == 0x1122334455667788ull);
	ck_assert_uint_eq(p->nio, 2);
	ck_assert_str_eq(p->io[0].name, "in0");
	ck_assert_uint_eq(p->io[0].type, TY_I16);
	ck_assert_uint_eq(p->io[0].rank, 2);
	ck_assert_uint_eq(p->io[0].dims[1], 3);
	ck_assert_uint_eq(p->io[0].space, KSP_DRAM);
	ck_assert(p->io[0].scale == 0.5);
	ck_assert_uint_eq(p->io[1].dir, KDIR_OUT);
	ck_assert_uint_eq(p->io[1].rank, 0);
	ck_assert_uint_eq(p->io[1].tile, 1);
	ck_assert(p->io[1].scale == 2.5e-3);
	ck_assert_uint_eq(p->dram.n, 1);
	ck_assert_uint_eq(p->dram.v[0].addr, 0x100);
	ck_assert_uint_eq(p->dram.v[0].len, sizeof dram);
	ck_assert_mem_eq(p->dram.v[0].bytes, dram, sizeof dram);
	ck_assert_uint_eq(p->ntiles, 1);
	ck_assert_uint_eq(p->tiles[0]->tmem.v[0].bytes[0], 7);
	c = kprog_find_core(p, 1, 0);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->ncode, 5);
	ck_assert_uint_eq(c->entry, 1);
	ck_assert_uint_eq(c->spad.v[0].addr, 8);
	ck_assert_uint_eq(c->spad.v[0].bytes[0], 42);
	ck_assert_uint_eq(c->nxbar, 1);
	ck_assert_uint_eq(c->xbar[0].unit, 3);
	ck_assert_int_eq(c->xbar[0].w[0], -2);
	ck_assert_int_eq(c->xbar[0].w[5], -1);
	ck_assert_uint_eq(p->nsyms, 1);
	ck_assert_str_eq(p->syms[0].name, "body");
	ck_assert_uint_eq(p->syms[0].pc, 1);
	ck_assert_uint_eq(p->syms[0].len, 2);
	ck_assert_int_eq(isa_decode(c->code[2], &in), 0);
	ck_assert_uint_eq(in.op, OP_bne);
	ck_assert_int_eq(in.imm, -1); /* back to loop */
	ck_assert_int_eq(isa_decode(c->code[3], &in), 0);
	ck_assert_int_eq(in.imm, -2); /* jmp start */
	assert_disasm_round_trip(p);
	kprog_free(p);
}
END_TEST

START_TEST(labels_are_per_core)
{
	static const char src[] = ".core 0 0\n"
	                          "top: nop\n"
	                          "\tjmp top\n"
	                          ".core 0 1\n"
	                          "\tnop\n"
	                          "top: jmp top\n"
	                          ".core 0 0\n" /* back to the first core: its labels again */
	                          "\tjmp top\n";
	KProg *p;
	Diag d = {0};
	Insn in;
	ck_assert_msg(kasm_parse(src, "l.s", &p, &d) == 0, "%s", d.msg);
	ck_assert_uint_eq(p->cores[0]->ncode, 3);
	ck_assert_int_eq(isa_decode(p->cores[0]->code[2], &in), 0);
	ck_assert_int_eq(in.imm, -2);
	ck_assert_int_eq(isa_decode(p->cores[1]->code[1], &in), 0);
	ck_assert_int_eq(in.imm, 0);
	kprog_free(p);
}
END_TEST

/* ---- bad files ---- */

static const struct {
	const char *what, *src;
	int line;
	const char *at; /* the text the caret must point at (first occurrence on that line) */
	const char *msg;
} bad[] = {
    {"unknown directive", ".core 0 0\n  .frob 1\n", 2, ".frob", "unknown directive '.frob'"},
    {"bad register", ".core 0 0\n\taddi r1, r99, 4\n", 2, "r99", "expected a register"},
    {"bad mnemonic", ".core 0 0\n  fly r1\n", 2, "fly", "unknown instruction 'fly'"},
    {"bad immediate", ".core 0 0\n  addi r1, r2, 12x\n", 2, "12x", "malformed number"},
    {"undefined label", ".core 0 0\n  nop\n  jmp nowhere\n", 3, "nowhere",
     "undefined label 'nowhere'"},
    {"label of another core", ".core 0 0\nhere: nop\n.core 0 1\n  jmp here\n", 4, "here",
     "undefined label 'here'"},
    {"duplicate label", ".core 0 0\nx: nop\n  nop\nx: halt\n", 4, "x:", "label 'x' defined twice"},
    {"missing .core", "# no core yet\n  addi r1, r0, 1\n", 2, "addi",
     "instruction before any .core directive"},
    {"label before .core", "start:\n", 1, "start", "label before any .core"},
    {".spad before .core", ".spad 0x10\n", 1, ".spad", ".spad before any .core"},
    {"no .core at all", ".arch a 1\n", 0, NULL, "no .core directive"},
    {"branch outside code", ".core 0 0\n  nop\n  jmp 5\n  halt\n", 3, "jmp",
     "branch target pc 6 is outside the code of core t0.c0 (0..2)"},
    {"byte out of range", ".core 0 0\n.spad 0\n.byte 1, 256\n", 3, "256", "a byte out of range"},
    {"data outside a segment", ".core 0 0\n.word 5\n", 2, ".word", "data outside a .spad"},
    {"empty segment", ".core 0 0\n.spad 0x40\n.core 0 1\n", 2, ".spad", "empty data segment"},
    {"overlapping segments", ".dram 0\n.word 1\n.dram 2\n.byte 9\n.core 0 0\n", 3, ".dram",
     "overlaps the segment at 0x0"},
    {"weight out of range", ".core 0 0\n.xbar 0 1 2 4\n.row 7 8\n", 3, "8",
     "weight 2 of 2 (4-bit signed) out of range [-8, 7]"},
    {"short row", ".core 0 0\n.xbar 0 1 3 8\n.row 1 2\n", 3, "\0", "expected weight 3 of 3"},
    {"long row", ".core 0 0\n.xbar 0 1 2 8\n.row 1 2 3\n", 3, "3", "more than 2 weights"},
    {"missing rows", ".core 0 0\n.xbar 1 2 2 8\n.row 1 2\n  halt\n", 4, "halt",
     "expected .row (the crossbar image of MVMU 1 needs 2 rows, has 1)"},
    {"rows at end of file", ".core 0 0\n  halt\n.xbar 1 2 2 8\n", 3, ".xbar",
     "has 0 of its 2 rows at the end of the file"},
    {"duplicate xbar", ".core 0 0\n.xbar 1 1 1 8\n.row 0\n.xbar 1 1 1 8\n.row 0\n", 4, "1",
     "already has a crossbar image for MVMU 1"},
    {"bad unit", ".core 0 0\n.xbar 16 1 1 8\n", 2, "16", "an MVMU index out of range"},
    {"stray .row", ".core 0 0\n.row 1\n", 2, ".row", ".row outside a crossbar image"},
    {"unclosed layer", ".core 0 0\n.layer l1\n  halt\n", 2, "l1", "layer 'l1' is not closed"},
    {"empty layer", ".core 0 0\n.layer l1\n.endlayer\n", 2, "l1", "layer 'l1' has no instructions"},
    {"duplicate layer", ".core 0 0\n.layer a\nnop\n.endlayer\n.layer a\nhalt\n.endlayer\n", 5,
     "a\n", "layer 'a' defined twice"},
    {"endlayer alone", ".core 0 0\n  halt\n.endlayer\n", 3, ".endlayer",
     ".endlayer without .layer"},
    {"core switch in layer", ".core 0 0\n.layer a\nnop\n.core 0 1\n", 4, ".core",
     "layer 'a' is still open"},
    {"bad tensor type", ".input x f32 [4] dram 0 0 0 1.0\n.core 0 0\n", 1, "f32",
     "expected an element type"},
    {"bad shape", ".input x i8 [4;2] dram 0 0 0 1.0\n", 1, ";", "expected ',' or ']'"},
    {"zero dimension", ".input x i8 [4,0] dram 0 0 0 1.0\n", 1, "0]", "a dimension out of range"},
    {"bad space", ".input x i8 [4] sram 0 0 0 1.0\n", 1, "sram", "expected a memory space"},
    {"bad scale", ".output y i8 [4] dram 0 0 0 -1\n", 1, "-1", "finite number > 0"},
    {"misaligned tensor", ".output y i32 [4] dram 0 0 0x2 1\n", 1, "0x2", "not aligned to i32"},
    {"tensor past 4 GiB", ".output y i32 [4] dram 0 0 0xfffffffc 1\n", 1, "0xfffffffc",
     "run past the 4 GiB"},
    {"dram tensor on a tile", ".output y i8 [4] dram 1 0 0 1\n", 1, "1 0 0 1",
     "takes tile 0 core 0"},
    {"duplicate tensor", ".input x i8 [4] dram 0 0 0 1\n.output x i8 [4] dram 0 0 8 1\n", 2, "x",
     "declared twice"},
    {"spad tensor without its core", ".input x i8 [4] spad 0 3 0 1\n.core 0 0\n  halt\n", 0, NULL,
     "no core t0.c3"},
    {"bad name", ".core 0 0\n.layer 9lives\n", 2, "9lives", "bad layer name '9lives'"},
    {"arch twice", ".arch a 1\n.arch b 2\n", 2, ".arch", ".arch given twice"},
    {"bad fingerprint", ".arch a zz\n", 1, "zz", "fingerprint"},
    {"tile out of range", ".core 65536 0\n", 1, "65536", "a tile id out of range"},
    {"entry outside", ".core 0 0\n.entry 4\n  halt\n", 2, "4", "entry pc 4 is outside"},
    {"entry label", ".core 0 0\n.entry nope\n  halt\n", 2, "nope", "undefined label 'nope'"},
    {"trailing text", ".core 0 0 7\n", 1, "7", "unexpected text after .core"},
    {"flag twice", ".core 0 0\n  mvm.i8 r1, r2, 0, 8, acc, acc\n", 2, "acc\n", "expected flag"},
};

START_TEST(bad_files)
{
	size_t i;
	for (i = 0; i < NELEM(bad); i++) {
		KProg *p = (KProg *)1;
		Diag d = {0};
		char prefix[64];
		ck_assert_msg(kasm_parse(bad[i].src, "bad.s", &p, &d) == -1, "%s: accepted",
		              bad[i].what);
		ck_assert_ptr_null(p);
		ck_assert_msg(strstr(d.msg, bad[i].msg) != NULL, "%s: expected '%s' in '%s'",
		              bad[i].what, bad[i].msg, d.msg);
		if (bad[i].line == 0) {
			ck_assert_msg(strncmp(d.msg, "bad.s: error: ", 14) == 0, "%s: %s",
			              bad[i].what, d.msg);
			continue;
		}
		{
			/* expected column: where `at` occurs on the line (or the line's end) */
			const char *line = diag_src_line(bad[i].src, bad[i].line);
			const char *nl = strchr(line, '\n');
			const char *hit = bad[i].at[0] ? strstr(line, bad[i].at) : nl;
			int col;
			ck_assert_msg(hit && hit <= nl, "%s: bad test", bad[i].what);
			col = (int)(hit - line) + 1;
			snprintf(prefix, sizeof prefix, "bad.s:%d:%d: error: ", bad[i].line, col);
			ck_assert_msg(strncmp(d.msg, prefix, strlen(prefix)) == 0,
			              "%s: expected '%s...' got '%s'", bad[i].what, prefix, d.msg);
			/* the source line and a caret under the column */
			{
				char want[256];
				int k, n = 0;
				n += snprintf(want + n, sizeof want - (size_t)n, "\n  %.*s\n  ",
				              (int)(nl - line), line);
				for (k = 1; k < col; k++)
					want[n++] = line[k - 1] == '\t' ? '\t' : ' ';
				want[n++] = '^';
				want[n] = 0;
				ck_assert_msg(strstr(d.msg, want) != NULL, "%s: no caret in '%s'",
				              bad[i].what, d.msg);
			}
		}
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kasm");
	TCase *tc = tcase_create("assembler");
	SRunner *sr;
	int nf;
	tcase_add_test(tc, sample_model_round_trips_through_text);
	tcase_add_test(tc, examples_round_trip);
	tcase_add_test(tc, docs_example_assembles);
	tcase_add_test(tc, every_directive);
	tcase_add_test(tc, labels_are_per_core);
	tcase_add_test(tc, bad_files);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
