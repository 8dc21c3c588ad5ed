/* npy.h: NumPy .npy files (format versions 1.0 and 2.0, little-endian, C order): the exchange
 * format for model inputs and outputs (`kolmo sim --input X.npy --out DIR`, `kolmo ref`). */
#ifndef KOLMO_NPY_H
#define KOLMO_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum NpyType { NPY_F32, NPY_F64, NPY_I8, NPY_U8, NPY_I16, NPY_I32, NPY_I64, NPY_NTYPES };
enum { NPY_MAX_RANK = 8 };

typedef struct Npy {
	int type; /* enum NpyType */
	uint32_t rank;
	uint64_t dims[NPY_MAX_RANK];
	uint64_t count; /* product of dims (1 for rank 0) */
	void *data;     /* count elements of type, little-endian, C order; free with npy_free */
} Npy;

extern const char *const npy_type_names[NPY_NTYPES]; /* "float32", ... */
size_t npy_type_size(int type);

/* npy_read_mem / npy_read_file: parse and validate (magic, version, header dict, dtype, C order,
 * shape, data size against the file). max_elems bounds the element count accepted. */
int npy_read_mem(const void *buf, size_t len, const char *name, uint64_t max_elems, Npy *out,
                 Diag *d);
int npy_read_file(const char *path, uint64_t max_elems, Npy *out, Diag *d);
/* npy_write_file: write atomically (no partial file on failure). */
int npy_write_file(const char *path, int type, uint32_t rank, const uint64_t *dims,
                   const void *data, Diag *d);
/* npy_get_f64: element i converted to double. */
double npy_get_f64(const Npy *a, uint64_t i);
void npy_free(Npy *a);

#endif
