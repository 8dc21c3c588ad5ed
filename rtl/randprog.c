/* randprog.c: constrained-random single-core programs (placeholder). */
#include "rtl.h"

KProg *
rtl_randprog(const HwArch *arch, uint64_t seed, unsigned ninsns)
{
	(void)arch;
	(void)seed;
	(void)ninsns;
	return NULL;
}
