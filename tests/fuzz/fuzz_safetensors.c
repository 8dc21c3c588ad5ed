/* fuzz_safetensors.c: fuzz target for the safetensors loader (ir_st_open_mem): any bytes must give
 * a validated tensor table or an `error:` diagnostic, never a crash, a leak or undefined behaviour.
 * A table the loader accepts must keep its promises: every tensor's span is dtype size x shape
 * within the data section, no two spans overlap, names find their tensor, and every tensor reads
 * and converts (F32 bit-exactly). Built by tests/fuzz/CMakeLists.txt (docs/hardening.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* bytes per element of each IrStDtype, from the safetensors format (not the loader's table) */
static const unsigned elem_bytes[IR_ST_COUNT] = {8, 4, 2, 2, 8, 4, 2, 1, 1, 1};

static void
check_tensor(IrSafetensors *st, const IrStTensor *t, const uint8_t *data, size_t size)
{
	uint64_t hlen = 0, elems = 1, start;
	float *v;
	Diag d = {0};
	unsigned k;
	for (k = 8; k-- > 0;)
		hlen = hlen << 8 | data[k];
	start = 8 + hlen;
	KASSERT(t->dtype < IR_ST_COUNT && t->rank <= IR_MAXRANK);
	KASSERT(t->begin <= t->end && start + t->end <= size);
	for (k = 0; k < t->rank; k++)
		KASSERT(t->dim[k] >= 0);
	for (k = 0; k < t->rank; k++)
		if (t->dim[k] == 0)
			elems = 0;
	for (k = 0; k < t->rank && elems; k++)
		elems *= (uint64_t)t->dim[k]; /* no overflow: the span bounds it */
	KASSERT(elems * elem_bytes[t->dtype] == t->end - t->begin);
	KASSERT(ir_st_find(st, t->name) == t);
	v = malloc(elems ? elems * sizeof *v : 1);
	KASSERT(ir_st_read_f32(st, t, v, &d) == 0);
	if (t->dtype == IR_ST_F32 && elems) {
		/* F32 is read bit for bit (little-endian) */
		uint32_t first = (uint32_t)data[start + t->begin] |
		                 (uint32_t)data[start + t->begin + 1] << 8 |
		                 (uint32_t)data[start + t->begin + 2] << 16 |
		                 (uint32_t)data[start + t->begin + 3] << 24,
		         got;
		memcpy(&got, v, 4);
		KASSERT(got == first);
	}
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Diag d = {0};
	IrSafetensors *st = ir_st_open_mem(data, size, "fuzz.safetensors", &d);
	uint32_t i, j;
	if (!st) {
		KASSERT(d.set && strncmp(d.msg, "fuzz.safetensors: error: ", 25) == 0);
		return 0;
	}
	for (i = 0; i < ir_st_count(st); i++) {
		const IrStTensor *t = ir_st_at(st, i);
		check_tensor(st, t, data, size);
		for (j = 0; j < i; j++) { /* spans of non-empty tensors are disjoint */
			const IrStTensor *u = ir_st_at(st, j);
			KASSERT(t->begin == t->end || u->begin == u->end || t->end <= u->begin ||
			        u->end <= t->begin);
		}
	}
	KASSERT(ir_st_at(st, ir_st_count(st)) == NULL);
	ir_st_close(st);
	return 0;
}
