/* fuzz_kelf.c: fuzz target for the .kelf reader: any bytes must give a program or a diagnostic,
 * never a crash, a leak or undefined behaviour; a kept program is also disassembled, written back,
 * validated against the edge-kan architecture (sim_new) and, when valid, simulated under a cycle
 * and instruction limit: a run ends in a result or a fault diagnostic, never a crash. Built by
 * tests/fuzz/CMakeLists.txt: with libFuzzer under clang and -DKOLMO_FUZZ=ON, otherwise with
 * replay.c as a ctest over tests/fuzz/corpus/fuzz_kelf (docs/hardening.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kelf.h"
#include "sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Limits that keep one input in the millisecond range: fuzzed loops end as faults. */
enum { FUZZ_MAX_CYCLES = 1000000, FUZZ_MAX_INSNS = 20000 };

/* the architecture the seeds were compiled for, loaded once (the fuzzer's only state) */
static const HwArch *
fuzz_arch(void)
{
	static HwArch arch;
	static int loaded;
	if (!loaded) {
		Diag d = {0};
		if (hw_arch_load(&arch, KOLMO_SOURCE_DIR "/hwmodels/configs/edge-kan.yaml", &d) !=
		    0)
			kolmo_die(__FILE__, __LINE__, "%s", d.msg);
		loaded = 1;
	}
	return &arch;
}

/* simulate: validate p against the architecture and run it; both may refuse, with a reason. */
static void
simulate(const KProg *p)
{
	SimOptions o;
	Sim *s;
	Diag d = {0};
	sim_options_default(&o);
	o.max_cycles = FUZZ_MAX_CYCLES;
	o.max_insns = FUZZ_MAX_INSNS;
	if (sim_new(fuzz_arch(), p, &o, &s, &d) != 0) {
		KASSERT(d.set && s == NULL);
		return;
	}
	if (sim_run(s, &d) != 0)
		KASSERT(d.set && strstr(d.msg, "error:"));
	else
		KASSERT(sim_stats(s)->instructions <= FUZZ_MAX_INSNS);
	sim_free(s);
}

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
		simulate(p);
		kprog_free(p);
	} else if (!d.set || strncmp(d.msg, "fuzz: error: ", 13) != 0) {
		abort(); /* every refusal says why */
	}
	return 0;
}
