/* fuzz_arch.c: libFuzzer entry point for the architecture config loader: any bytes must give
 * either a valid architecture or a diagnostic, never a crash or a leak.
 *   clang -fsanitize=fuzzer,address,undefined -Ihwmodels -Iir tests/fuzz/fuzz_arch.c \
 *         hwmodels/arch.c hwmodels/models.c hwmodels/ert.c ir/util.c -lyaml -ljansson -lm
 * Built without libFuzzer (KOLMO_FUZZ_MAIN), it runs the files named on its command line. */
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

#ifdef KOLMO_FUZZ_MAIN
int
main(int argc, char **argv)
{
	int i;
	for (i = 1; i < argc; i++) {
		Diag d = {0};
		size_t len;
		char *buf = read_file(argv[i], 1 << 20, &len, &d);
		if (!buf) {
			fprintf(stderr, "%s\n", d.msg);
			continue;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
		free(buf);
	}
	return 0;
}
#endif
