/* kelf.h: the kolmo program model (KProg), its ELF64 container (.kelf, written and read with
 * libelf) and its assembly text form (.s): assembler and disassembler.
 *
 * A KProg is everything a simulator needs to run a program on a chip of tiles x cores:
 *
 *   KProg ── arch name + fingerprint, ISA version
 *     ├── cores[]   (tile, core) sorted: code words, entry pc, scratchpad init segments,
 *     │             crossbar images per MVMU (signed weights, row-major)
 *     ├── tiles[]   tile sorted: tile-memory init segments
 *     ├── dram      DRAM init segments
 *     ├── io[]      I/O tensor map (declaration order is meaningful: input 0, input 1, ...)
 *     └── syms[]    per-layer symbols (tile, core, first pc, length), sorted by (tile, core, pc)
 *
 * Every reader result and every program written has passed kprog_validate, so users of a KProg
 * (the simulator, objdump) may rely on its invariants: code words decode, branch targets stay in
 * the code, segments fit in 32-bit address spaces and do not overlap, weights fit their bit
 * width, symbols lie inside their core's code. docs/binary.md describes the file format and the
 * assembly syntax. */
#ifndef KOLMO_KELF_H
#define KOLMO_KELF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

enum {
	KELF_MACHINE = 0x4B4D,       /* e_machine: "KM", private value below 0x8000 */
	KELF_MAX_TILES = 65536,      /* tile ids 0..65535 (the ISA's TILE field) */
	KELF_MAX_CORES = 1024,       /* core ids per tile 0..1023 */
	KELF_MAX_RANK = 8,           /* tensor rank */
	KELF_MAX_NAME = 255,         /* bytes of a name (layer, tensor, arch) */
	KELF_MAX_XBAR_DIM = 65536,   /* crossbar rows and cols */
	KELF_MAX_SECTION = 1u << 30, /* bytes of any section */
	KELF_MAX_FILE = 0x7fffffff,  /* bytes of a .kelf file */
	KELF_MAX_ASM = 256u << 20,   /* bytes of an assembly file */
};

enum KSpace { KSP_DRAM, KSP_TMEM, KSP_SPAD, KSP_COUNT };
enum KDir { KDIR_IN, KDIR_OUT, KDIR_COUNT };

/* One initialised range of a memory: bytes [addr, addr + len). */
typedef struct KSeg {
	uint32_t addr, len;
	uint8_t *bytes;
} KSeg;

typedef struct KSegs {
	KSeg *v;
	uint32_t n;
	size_t cap;
} KSegs;

/* A crossbar image for MVMU `unit`: rows x cols signed weights of wbits bits, row-major. */
typedef struct KXbar {
	uint32_t unit, rows, cols, wbits;
	int32_t *w;
} KXbar;

typedef struct KCore {
	uint32_t tile, core;
	uint32_t entry; /* pc where the core starts (0 unless set) */
	uint64_t *code; /* instruction words */
	uint32_t ncode;
	size_t code_cap;
	KSegs spad;  /* scratchpad init data */
	KXbar *xbar; /* sorted by unit, units distinct */
	uint32_t nxbar;
	size_t xbar_cap;
} KCore;

typedef struct KTile {
	uint32_t tile;
	KSegs tmem;
} KTile;

/* An input or output tensor: where it lives and how its integers map to reals. */
typedef struct KTensor {
	char *name;
	uint8_t dir;   /* enum KDir */
	uint8_t type;  /* enum IsaType */
	uint8_t space; /* enum KSpace */
	uint8_t rank;  /* 0..KELF_MAX_RANK */
	uint32_t dims[KELF_MAX_RANK];
	uint32_t tile, core; /* 0 where the space does not need them (dram: both, tmem: core) */
	uint32_t addr;       /* byte address in the space */
	double scale;        /* real = scale x integer; finite and > 0 */
} KTensor;

/* A layer symbol: instructions [pc, pc + len) of core (tile, core). */
typedef struct KSym {
	char *name;
	uint32_t tile, core, pc, len;
} KSym;

typedef struct KProg {
	uint32_t isa_version; /* ISA_VERSION */
	uint64_t arch_fp;     /* architecture-config fingerprint */
	char *arch_name;
	KCore **cores; /* sorted by (tile, core) */
	uint32_t ncores;
	size_t cores_cap;
	KTile **tiles; /* sorted by tile */
	uint32_t ntiles;
	size_t tiles_cap;
	KSegs dram;
	KTensor *io;
	uint32_t nio;
	size_t io_cap;
	KSym *syms; /* sorted by (tile, core, pc) */
	uint32_t nsyms;
	size_t syms_cap;
} KProg;

/* ---- building a program (the assembler and the compiler use these) ----
 * Builders copy their inputs and never fail on user data: they assert only what a correct caller
 * guarantees (ids in range, sizes bounded). kprog_validate checks everything else. */

/* kprog_new: an empty program for ISA_VERSION, arch "generic" with fingerprint 0. */
KProg *kprog_new(void);
void kprog_free(KProg *p);
void kprog_set_arch(KProg *p, const char *name, uint64_t fingerprint);
/* kprog_core: core (tile, core), created empty when absent (tile < KELF_MAX_TILES,
 * core < KELF_MAX_CORES). The pointer stays valid until kprog_free. */
KCore *kprog_core(KProg *p, uint32_t tile, uint32_t core);
/* kprog_find_core / kprog_find_tile: NULL when absent. */
KCore *kprog_find_core(const KProg *p, uint32_t tile, uint32_t core);
KTile *kprog_find_tile(const KProg *p, uint32_t tile);
/* kprog_tile: tile created on demand (for tile-memory data). */
KTile *kprog_tile(KProg *p, uint32_t tile);
/* kprog_add_code: append n words; returns the pc of the first. */
uint32_t kprog_add_code(KCore *c, const uint64_t *words, uint32_t n);
/* kprog_add_seg: append a segment (bytes copied; bytes NULL means zeros). Returns it. */
KSeg *kprog_add_seg(KSegs *s, uint32_t addr, const void *bytes, uint32_t len);
KSeg *kprog_add_spad(KCore *c, uint32_t addr, const void *bytes, uint32_t len);
KSeg *kprog_add_tmem(KProg *p, uint32_t tile, uint32_t addr, const void *bytes, uint32_t len);
KSeg *kprog_add_dram(KProg *p, uint32_t addr, const void *bytes, uint32_t len);
/* kprog_add_xbar: the image of MVMU `unit` (weights copied from w, or zeros when w is NULL).
 * Returns NULL if the core already has an image for that unit. */
KXbar *kprog_add_xbar(KCore *c, uint32_t unit, uint32_t rows, uint32_t cols, uint32_t wbits,
                      const int32_t *w);
KXbar *kprog_find_xbar(const KCore *c, uint32_t unit);
/* kprog_add_io: append a copy of t (its name is copied). */
KTensor *kprog_add_io(KProg *p, const KTensor *t);
/* kprog_add_sym: insert a layer symbol in (tile, core, pc) order. */
KSym *kprog_add_sym(KProg *p, const char *name, uint32_t tile, uint32_t core, uint32_t pc,
                    uint32_t len);

/* ---- checks and small facts ---- */

/* kprog_validate: 0 if p satisfies every invariant listed at the top of this file, else -1 with
 * "name: error: <what>" in d. */
int kprog_validate(const KProg *p, const char *name, Diag *d);
/* kprog_name_ok: names of layers, tensors and the arch: 1..KELF_MAX_NAME bytes of
 * [A-Za-z0-9_.$/:@-], not starting with a digit or '-'. */
int kprog_name_ok(const char *s, size_t n);
/* ktensor_bytes: bytes of a tensor (product of dims x element size); UINT64_MAX on overflow. */
uint64_t ktensor_bytes(const KTensor *t);
const char *kspace_name(unsigned space);
const char *kdir_name(unsigned dir);
/* kxbar_wmin / kxbar_wmax: the range of a signed wbits-bit weight. */
int64_t kxbar_wmin(uint32_t wbits);
int64_t kxbar_wmax(uint32_t wbits);

/* ---- the ELF container ---- */

/* kelf_write_file: validate p and write it to path through a temporary file renamed into place
 * (nothing is left behind on error). */
int kelf_write_file(const KProg *p, const char *path, Diag *d);
/* kelf_write_mem: the file image in a malloc'd buffer (*buf, *len). */
int kelf_write_mem(const KProg *p, uint8_t **buf, size_t *len, Diag *d);
/* kelf_read_mem: parse and validate the image in buf (not modified, any alignment); name labels
 * diagnostics. On success *out is a new program (kprog_free it); on error *out is NULL and d says
 * "name: error: <what>". Never crashes on any input. */
int kelf_read_mem(const void *buf, size_t len, const char *name, KProg **out, Diag *d);
int kelf_read_file(const char *path, KProg **out, Diag *d);

/* One row of a file's section table, for inspection tools. */
typedef struct KelfSection {
	char name[48];
	uint32_t type;
	uint64_t offset, size;
} KelfSection;
/* kelf_sections: the section table of an image that kelf_read_mem accepted (index order, the
 * null section left out). *out is malloc'd (free it). */
int kelf_sections(const void *buf, size_t len, KelfSection **out, size_t *n, Diag *d);

/* ---- the assembly text form ---- */

/* kasm_parse: assemble the NUL-terminated text src (file names diagnostics). On success *out is
 * a new, validated program; on error *out is NULL and d holds "file:line:col: error: ..." with
 * the source line and a caret. */
int kasm_parse(const char *src, const char *file, KProg **out, Diag *d);
int kasm_file(const char *path, KProg **out, Diag *d);

enum {
	KDIS_ADDR = 1 << 0, /* annotate each instruction with "# pc: hex word" */
};
/* kprog_disasm: print p as assembly text that kasm_parse turns back into the same program (and
 * so the same .kelf bytes). flags: KDIS_*. */
void kprog_disasm(const KProg *p, FILE *f, unsigned flags);

#endif
