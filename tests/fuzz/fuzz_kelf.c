/* fuzz_kelf.c: fuzz target for the .kelf reader: any bytes must give a program or a diagnostic,
 * never a crash, a leak or undefined behaviour.
 *
 * libFuzzer build (not part of CI):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DKOLMO_LIBFUZZER -Iir \
 *     tests/fuzz/fuzz_kelf.c ir/kprog.c ir/kelf_read.c ir/kelf_write.c ir/kasm.c \
 *     ir/kdisasm.c ir/isa.c ir/util.c -lelf -lm -o fuzz_kelf
 *   ./fuzz_kelf corpus/        (seed corpus: the .kelf files `kolmo asm` makes from examples/asm)
 *
 * Without KOLMO_LIBFUZZER this file builds a smoke driver for ctest: each argument is a .s file
 * (assembled in memory) or a .kelf file; the driver runs the target on it, on every prefix and
 * on deterministic byte mutations. A kept program is also disassembled and written back. */
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

#ifndef KOLMO_LIBFUZZER
int
main(int argc, char **argv)
{
	int i;
	for (i = 1; i < argc; i++) {
		size_t len = strlen(argv[i]), n, k;
		uint8_t *img, *b;
		Diag d = {0};
		uint64_t s = 0x9e3779b97f4a7c15ull;
		if (len > 2 && strcmp(argv[i] + len - 2, ".s") == 0) {
			KProg *p;
			if (kasm_file(argv[i], &p, &d) || kelf_write_mem(p, &img, &n, &d)) {
				fprintf(stderr, "%s\n", d.msg);
				return 1;
			}
			kprog_free(p);
		} else {
			img = (uint8_t *)read_file(argv[i], KELF_MAX_FILE, &n, &d);
			if (!img) {
				fprintf(stderr, "%s\n", d.msg);
				return 1;
			}
		}
		for (k = 0; k <= n; k++)
			LLVMFuzzerTestOneInput(img, k);
		b = malloc(n);
		for (k = 0; k < 20000; k++) {
			int j;
			memcpy(b, img, n);
			for (j = 0; j < 1 + (int)(k % 8); j++) {
				s ^= s << 13;
				s ^= s >> 7;
				s ^= s << 17;
				if (k % 3 == 0)
					b[(s >> 8) % n] = (uint8_t)s; /* a random byte */
				else
					b[(s >> 8) % n] ^=
					    (uint8_t)(1u << (s & 7)); /* a flipped bit */
			}
			LLVMFuzzerTestOneInput(b, n);
		}
		free(b);
		free(img);
		printf("%s: %zu bytes, %zu prefixes and 20000 mutations survived\n", argv[i], n,
		       n + 1);
	}
	return 0;
}
#endif
