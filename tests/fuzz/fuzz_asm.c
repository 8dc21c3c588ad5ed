/* fuzz_asm.c: fuzz target for the assembler (kasm_parse): any text must give a validated program
 * or a "file:line:col: error:" diagnostic, never a crash, a leak or undefined behaviour. A kept
 * program must write as .kelf, and its disassembly must assemble back to the same image. Built by
 * tests/fuzz/CMakeLists.txt: with libFuzzer under clang and -DKOLMO_FUZZ=ON, otherwise with
 * replay.c as a ctest over tests/fuzz/corpus/fuzz_asm (docs/hardening.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kelf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	KProg *p, *p2;
	Diag d = {0};
	uint8_t *img, *img2;
	size_t n, n2;
	char *src = xmalloc(size + 1), *text = NULL;
	size_t tlen = 0;
	FILE *f;
	memcpy(src, data, size);
	src[size] = 0;
	if (kasm_parse(src, "fuzz.s", &p, &d) != 0) {
		KASSERT(p == NULL && d.set && strstr(d.msg, "error:"));
		free(src);
		return 0;
	}
	free(src);
	KASSERT(kelf_write_mem(p, &img, &n, &d) == 0);
	f = open_memstream(&text, &tlen);
	KASSERT(f != NULL);
	kprog_disasm(p, f, 0);
	fclose(f);
	if (kasm_parse(text, "disasm.s", &p2, &d) != 0) {
		fprintf(stderr, "disassembly does not assemble:\n%s\n%s\n", d.msg, text);
		abort();
	}
	KASSERT(kelf_write_mem(p2, &img2, &n2, &d) == 0);
	KASSERT(n == n2 && memcmp(img, img2, n) == 0);
	free(text);
	free(img);
	free(img2);
	kprog_free(p);
	kprog_free(p2);
	return 0;
}
