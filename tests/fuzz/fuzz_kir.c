/* fuzz_kir.c: fuzz target for the .kir reader: parse from memory (no file access); on success,
 * print, reparse and compare, and verify. Any crash, sanitizer report or failed invariant is a
 * bug. Built by tests/fuzz/CMakeLists.txt: with libFuzzer under clang and -DKOLMO_FUZZ=ON,
 * otherwise with replay.c as a ctest over tests/fuzz/corpus/fuzz_kir (docs/hardening.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Diag d = {0};
	Graph *g = ir_parse_mem((const char *)data, size, "fuzz.kir", NULL, IR_PARSE_NO_IO, &d);
	char *s1, *s2;
	Graph *g2;
	if (!g) {
		KASSERT(d.set && strstr(d.msg, "error:"));
		return 0;
	}
	KASSERT(ir_verify(g, &d) == 0);
	s1 = ir_print(g);
	g2 = ir_parse_mem(s1, strlen(s1), "printed.kir", NULL, IR_PARSE_NO_IO, &d);
	KASSERT(g2 != NULL);
	KASSERT(ir_graph_equal(g, g2));
	s2 = ir_print(g2);
	KASSERT(strcmp(s1, s2) == 0);
	free(s1);
	free(s2);
	ir_free(g2);
	ir_free(g);
	return 0;
}
