/* fuzz_onnx.c: fuzz target for the ONNX importer: import from memory; on success the graph
 * verifies, prints as .kir and reparses to an equal graph. Any crash, sanitizer report or failed
 * invariant is a bug; a refusal must be a diagnostic. Built by tests/fuzz/CMakeLists.txt (seeds:
 * the committed .onnx examples and test cases). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Diag d = {0};
	Graph *g = onnx_import_mem(data, size, "fuzz.onnx", NULL, &d), *g2;
	char *s;
	if (!g) {
		KASSERT(d.set && strstr(d.msg, "fuzz.onnx: error:") == d.msg);
		return 0;
	}
	KASSERT(ir_verify(g, &d) == 0);
	s = ir_print(g);
	g2 = ir_parse_mem(s, strlen(s), "printed.kir", NULL, IR_PARSE_NO_IO, &d);
	KASSERT(g2 != NULL);
	KASSERT(ir_graph_equal(g, g2));
	free(s);
	ir_free(g2);
	ir_free(g);
	return 0;
}
