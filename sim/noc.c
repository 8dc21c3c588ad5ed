/* noc.c: the 2-D mesh network-on-chip: XY routing with per-link occupancy (docs/timing.md). */
#include "simint.h"

enum { LINK_E, LINK_W, LINK_N, LINK_S };

/* noc_route: reserve the links from tile src to tile dst for a message of `bytes` injected at
 * cycle `inject`; returns the delivery cycle and the number of link traversals in *hops. */
uint64_t
noc_route(Sim *s, uint32_t src, uint32_t dst, uint32_t bytes, uint64_t inject, uint64_t *hops)
{
	const SimParams *p = &s->p;
	uint64_t flits = 1 + ceil_div_u64((uint64_t)bytes * 8, p->noc_link_bits);
	uint32_t r = src / p->mesh_cols, c = src % p->mesh_cols;
	uint32_t dr = dst / p->mesh_cols, dc = dst % p->mesh_cols;
	uint64_t t = inject;
	*hops = 0;
	if (src == dst)
		return inject + ceil_div_u64(bytes, p->tmem_bytes_per_cycle);
	while (r != dr || c != dc) {
		uint32_t here = r * p->mesh_cols + c, dir;
		uint64_t *lf, start;
		if (c != dc) {
			dir = c < dc ? LINK_E : LINK_W;
			c = c < dc ? c + 1 : c - 1;
		} else {
			dir = r < dr ? LINK_S : LINK_N;
			r = r < dr ? r + 1 : r - 1;
		}
		lf = &s->link_free[here * 4 + dir];
		start = t > *lf ? t : *lf;
		*lf = start + flits;
		t = start + p->noc_hop_cycles;
		++*hops;
	}
	return t + flits;
}
