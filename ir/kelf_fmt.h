/* kelf_fmt.h: private to kelf_write.c / kelf_read.c: the byte layout of the kolmo sections and
 * note records (docs/binary.md is the description for humans) and little-endian byte helpers. */
#ifndef KOLMO_KELF_FMT_H
#define KOLMO_KELF_FMT_H

#include <stdint.h>
#include <string.h>

#include "util.h"

#define KNOTE_OWNER "KOLMO"

/* Note types in .note.kolmo (owner "KOLMO"). */
enum {
	KNOTE_VERSION = 1,     /* desc: u32 ISA version (readelf: NT_VERSION) */
	KNOTE_ARCH = 2,        /* desc: u64 fingerprint, arch name, NUL (readelf: NT_ARCH) */
	KNOTE_CORE = 0x4b43,   /* "KC"; desc: u32 tile, core, entry pc, code words */
	KNOTE_TENSOR = 0x4b54, /* "KT"; desc: KTENSOR_HDR bytes (below), tensor name, NUL */
};

/* KNOTE_TENSOR desc: u8 dir, u8 type, u8 space, u8 rank, u32 tile, u32 core, u32 addr,
 * f64 scale (IEEE-754 bits, little-endian), u32 dims[8] (0 beyond rank), then the name. */
enum { KTENSOR_HDR = 56, KCORE_DESC = 16, KXBAR_HDR = 16, KSEG_HDR = 8 };

/* .xbar header: u32 rows, u32 cols, u32 wbits, u32 reserved (0); then rows x cols weights,
 * row-major, little-endian two's complement of kxbar_esize(wbits) bytes each. */
static inline uint32_t
kxbar_esize(uint32_t wbits)
{
	return wbits <= 8 ? 1 : wbits <= 16 ? 2 : 4;
}

static inline uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t
get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static inline void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void
put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)v);
	put_u32(p + 4, (uint32_t)(v >> 32));
}

/* A growable byte buffer. */
typedef struct Bytes {
	uint8_t *p;
	size_t n, cap;
} Bytes;

static inline uint8_t *
bytes_add(Bytes *b, size_t n)
{
	uint8_t *r;
	b->p = xgrow(b->p, &b->cap, b->n + n, 1);
	r = b->p + b->n;
	memset(r, 0, n);
	b->n += n;
	return r;
}

#endif
