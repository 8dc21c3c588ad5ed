/* test_kelf_cli.c: `kolmo asm` and `kolmo objdump` end to end: the bundled examples assemble,
 * objdump's listing reassembles to the identical binary, readelf accepts the files, and bad
 * input gives a diagnostic, a non-zero exit and no output file. */
#include <check.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util.h"

static char dir[64];

static char *
slurp(const char *path, size_t *n)
{
	Diag d = {0};
	char *b = read_file(path, 1 << 26, n, &d);
	ck_assert_msg(b != NULL, "%s", d.msg);
	return b;
}

/* count_entries: files in the temporary directory. */
static int
count_entries(void)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	int n = 0;
	ck_assert_ptr_nonnull(dp);
	while ((e = readdir(dp)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dp);
	return n;
}

static void
clean_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -f %s/*", dir);
	ck_assert_int_eq(run(cmd, NULL), 0);
}

static void
setup(void)
{
	make_tmpdir(dir, sizeof dir);
	ck_assert(dir[0]);
}

static void
teardown(void)
{
	clean_dir();
	rmdir(dir);
}

static void
asm_objdump_asm(const char *example, const char *marker)
{
	char cmd[1024], *out;
	char *a, *b;
	size_t an, bn;
	snprintf(cmd, sizeof cmd, "%s asm %s -o %s/a.kelf", KOLMO_BIN, example, dir);
	ck_assert_msg(run(cmd, &out) == 0, "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s objdump %s/a.kelf > %s/a.dis.s", KOLMO_BIN, dir, dir);
	ck_assert_int_eq(run(cmd, NULL), 0);
	snprintf(cmd, sizeof cmd, "%s asm %s/a.dis.s -o %s/b.kelf", KOLMO_BIN, dir, dir);
	ck_assert_msg(run(cmd, &out) == 0, "%s", out);
	free(out);
	snprintf(cmd, sizeof cmd, "%s/a.kelf", dir);
	a = slurp(cmd, &an);
	snprintf(cmd, sizeof cmd, "%s/b.kelf", dir);
	b = slurp(cmd, &bn);
	ck_assert_uint_eq(an, bn);
	ck_assert_mem_eq(a, b, an);
	free(a);
	free(b);
	/* the listing has the facts a reader wants */
	snprintf(cmd, sizeof cmd, "%s objdump %s/a.kelf", KOLMO_BIN, dir);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "ISA version 1"));
	ck_assert_ptr_nonnull(strstr(out, "# sections:"));
	ck_assert_ptr_nonnull(strstr(out, ".note.kolmo"));
	ck_assert_ptr_nonnull(strstr(out, "# I/O tensors:"));
	ck_assert_ptr_nonnull(strstr(out, "# symbols:"));
	ck_assert_ptr_nonnull(strstr(out, marker));
	ck_assert_ptr_nonnull(strstr(out, "# 0000: "));
	free(out);
	/* readelf accepts it and sees the note and the layer symbols */
	snprintf(cmd, sizeof cmd, "readelf -a -W %s/a.kelf", dir);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "KOLMO"));
	ck_assert_ptr_nonnull(strstr(out, ".text.t0.c0"));
	ck_assert_ptr_nonnull(strstr(out, "FUNC    GLOBAL"));
	ck_assert_ptr_nonnull(strstr(out, "0x4b4d"));
	free(out);
	clean_dir();
}

START_TEST(basic_example)
{
	asm_objdump_asm(SRC("examples/asm/basic.s"), "<kan1>");
}
END_TEST

START_TEST(two_tiles_example)
{
	char cmd[512], *out;
	asm_objdump_asm(SRC("examples/asm/two_tiles.s"), "<fc_part1>");
	snprintf(cmd, sizeof cmd, "%s asm %s -o %s/t.kelf && readelf -s -W %s/t.kelf", KOLMO_BIN,
	         SRC("examples/asm/two_tiles.s"), dir, dir);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "fc_part0"));
	ck_assert_ptr_nonnull(strstr(out, "fc_part1"));
	free(out);
}
END_TEST

START_TEST(bad_assembly_leaves_nothing)
{
	char src[128], cmd[512], *out;
	snprintf(src, sizeof src, "%s/bad.s", dir);
	ck_assert_int_eq(write_text(src, ".core 0 0\n  nop\n  jmp nowhere\n"), 0);
	snprintf(cmd, sizeof cmd, "%s asm %s -o %s/bad.kelf", KOLMO_BIN, src, dir);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "bad.s:3:7: error: undefined label 'nowhere'"));
	ck_assert_ptr_nonnull(strstr(out, "^"));
	free(out);
	ck_assert_int_eq(count_entries(), 1); /* only bad.s: no output, no temporary */
	/* the default output name is F.kelf; nothing there either */
	snprintf(cmd, sizeof cmd, "%s asm %s", KOLMO_BIN, src);
	ck_assert_int_ne(run(cmd, NULL), 0);
	ck_assert_int_eq(count_entries(), 1);
	/* a validation error after parsing (no line): still nothing written */
	ck_assert_int_eq(write_text(src, ".input x i8 [4] spad 0 3 0 1\n.core 0 0\n  halt\n"), 0);
	snprintf(cmd, sizeof cmd, "%s asm %s -o %s/bad.kelf", KOLMO_BIN, src, dir);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "error: I/O tensor 'x': no core t0.c3"));
	free(out);
	ck_assert_int_eq(count_entries(), 1);
	/* an unwritable destination */
	ck_assert_int_eq(write_text(src, ".core 0 0\n  halt\n"), 0);
	snprintf(cmd, sizeof cmd, "%s asm %s -o %s/no/such/dir/x.kelf", KOLMO_BIN, src, dir);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "error: cannot create"));
	free(out);
	/* a missing input */
	snprintf(cmd, sizeof cmd, "%s asm %s/missing.s -o %s/m.kelf", KOLMO_BIN, dir, dir);
	ck_assert_int_ne(run(cmd, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "missing.s: error: cannot open"));
	free(out);
	ck_assert_int_eq(count_entries(), 1);
}
END_TEST

START_TEST(objdump_rejects_bad_binaries)
{
	char path[128], cmd[512], *out, *img;
	size_t n;
	FILE *f;
	/* a good binary, then the same bytes cut short and with e_machine changed */
	snprintf(cmd, sizeof cmd, "%s asm %s -o %s/g.kelf", KOLMO_BIN, SRC("examples/asm/basic.s"),
	         dir);
	ck_assert_int_eq(run(cmd, NULL), 0);
	snprintf(path, sizeof path, "%s/g.kelf", dir);
	img = slurp(path, &n);
	snprintf(path, sizeof path, "%s/cut.kelf", dir);
	f = fopen(path, "wb");
	fwrite(img, 1, n / 2, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s objdump %s", KOLMO_BIN, path);
	ck_assert_int_eq(run(cmd, &out), 1);
	ck_assert_ptr_nonnull(strstr(out, "cut.kelf: error: "));
	ck_assert_ptr_nonnull(strstr(out, "truncated?"));
	free(out);
	img[18] = 0x3e;
	snprintf(path, sizeof path, "%s/x86.kelf", dir);
	f = fopen(path, "wb");
	fwrite(img, 1, n, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s objdump %s", KOLMO_BIN, path);
	ck_assert_int_eq(run(cmd, &out), 1);
	ck_assert_ptr_nonnull(strstr(out, "x86.kelf: error: not a kolmo binary"));
	free(out);
	snprintf(cmd, sizeof cmd, "%s objdump %s", KOLMO_BIN, SRC("examples/asm/basic.s"));
	ck_assert_int_eq(run(cmd, &out), 1);
	ck_assert_ptr_nonnull(strstr(out, "basic.s: error: not an ELF file"));
	free(out);
	free(img);
}
END_TEST

START_TEST(help_lists_commands)
{
	char cmd[256], *out;
	snprintf(cmd, sizeof cmd, "%s help", KOLMO_BIN);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "asm"));
	ck_assert_ptr_nonnull(strstr(out, "objdump"));
	free(out);
	snprintf(cmd, sizeof cmd, "%s asm --help", KOLMO_BIN);
	ck_assert_int_eq(run(cmd, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "-o, --output F.kelf"));
	free(out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kelf_cli");
	TCase *tc = tcase_create("cli");
	SRunner *sr;
	int nf;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, basic_example);
	tcase_add_test(tc, two_tiles_example);
	tcase_add_test(tc, bad_assembly_leaves_nothing);
	tcase_add_test(tc, objdump_rejects_bad_binaries);
	tcase_add_test(tc, help_lists_commands);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
