/* timing.c: the latency rules of docs/timing.md, as functions of the architecture parameters.
 * The RTL core implements the same rules; co-simulation checks them cycle for cycle. */
#include "simint.h"

uint64_t
ceil_div_u64(uint64_t a, uint64_t b)
{
	return b ? (a + b - 1) / b : a;
}

uint32_t
ceil_log2(uint64_t n)
{
	uint32_t k = 0;
	while (k < 64 && (1ull << k) < n)
		k++;
	return k;
}

uint64_t
t_vfu(const SimParams *p, uint32_t n)
{
	return VFU_STARTUP + ceil_div_u64(n, p->vfu_lanes);
}

uint64_t
t_vfu_reduce(const SimParams *p, uint32_t n)
{
	return VFU_STARTUP + ceil_div_u64(n, p->vfu_lanes) + ceil_log2(p->vfu_lanes);
}

uint64_t
t_recip(const SimParams *p, uint32_t n)
{
	return VFU_STARTUP + RECIP_CYCLES * ceil_div_u64(n, p->vfu_lanes);
}

uint64_t
t_sbu(const SimParams *p, uint32_t n, uint32_t nb)
{
	return SBU_STARTUP + (uint64_t)n * ceil_div_u64(nb, p->vfu_lanes);
}

uint64_t
t_sel(const SimParams *p, uint32_t n)
{
	uint32_t lg = ceil_log2(n);
	return SEL_STARTUP + ceil_div_u64(n, p->vfu_lanes) * (lg > 1 ? lg : 1);
}

uint32_t
mvm_input_cycles(const SimParams *p, uint32_t nbits)
{
	if (nbits <= 1)
		return 1;
	return 1 + (uint32_t)ceil_div_u64(nbits - 1, p->dac_bits);
}

uint64_t
t_mvm(const SimParams *p, uint32_t rows, uint32_t cols, uint32_t nbits)
{
	uint64_t cin = mvm_input_cycles(p, nbits), tc;
	if (p->digital)
		return cin + ceil_log2(rows) + SA_CYCLES;
	tc = ceil_div_u64(cols, p->adcs_per_xbar) * p->adc_cycles;
	if (tc < p->read_cycles)
		tc = p->read_cycles;
	return cin * tc + SA_CYCLES;
}

uint64_t
t_xbw(const SimParams *p, uint32_t rows)
{
	return (uint64_t)rows * p->write_row_cycles;
}
