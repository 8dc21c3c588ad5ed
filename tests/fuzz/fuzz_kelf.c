/* fuzz_kelf.c: fuzz target for the .kelf reader: any bytes must give a program or a diagnostic,
 * never a crash, a leak or undefined behaviour; a kept program is also disassembled and written
 * back. Built by tests/fuzz/CMakeLists.txt: with libFuzzer under clang and -DKOLMO_FUZZ=ON,
 * otherwise with replay.c as a ctest over tests/fuzz/corpus/fuzz_kelf (docs/hardening.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kelf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	KProg *p;
	Diag d = {0};
	if (kelf_read_mem(data, size, "fuzz", &p, &d) == 0) {
		uint8_t *buf;
		size_t n;
		FILE *f = fopen("/dev/null", "w");
		if (f) {
			kprog_disasm(p, f, KDIS_ADDR);
			fclose(f);
		}
		/* a program the reader accepts must be writable */
		if (kelf_write_mem(p, &buf, &n, &d) != 0)
			abort();
		free(buf);
		kprog_free(p);
	} else if (!d.set || strncmp(d.msg, "fuzz: error: ", 13) != 0) {
		abort(); /* every refusal says why */
	}
	return 0;
}
