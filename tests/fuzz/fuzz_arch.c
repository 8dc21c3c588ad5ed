/* fuzz_arch.c: fuzz target for the architecture config loader: any bytes must give either a
 * valid architecture or a diagnostic, never a crash or a leak. Built by tests/fuzz/CMakeLists.txt:
 * with libFuzzer under clang and -DKOLMO_FUZZ=ON, otherwise with replay.c as a ctest over
 * tests/fuzz/corpus/fuzz_arch (docs/hardening.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	HwArch a;
	Diag d = {0};
	if (hw_arch_load_mem(&a, (const char *)data, size, "fuzz.yaml", &d) == 0) {
		HwReport r;
		HwErt e;
		hw_report(&a, &r);
		hw_ert_build(&a, &e);
	}
	return 0;
}
