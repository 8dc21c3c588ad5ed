/* fuzz_kir.c: libFuzzer entry point for the .kir reader: parse from memory (no file access); on
 * success, print, reparse and compare, and verify. Any crash, sanitizer report or failed
 * invariant is a bug. Not run in CI; see docs/ir.md section 8. Without libFuzzer (KOLMO_FUZZ_MAIN)
 * a main() replays the files given on the command line. */
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

#ifdef KOLMO_FUZZ_MAIN
int
main(int argc, char **argv)
{
	int i;
	for (i = 1; i < argc; i++) {
		Diag d = {0};
		size_t len;
		char *buf = read_file(argv[i], (size_t)1 << 28, &len, &d);
		if (!buf) {
			fprintf(stderr, "%s\n", d.msg);
			return 1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
		free(buf);
		printf("%s: ok\n", argv[i]);
	}
	return 0;
}
#endif
