/* isa.h: the kolmo CIM core instruction set: encoding, decoding, assembly text of one instruction.
 *
 * Every instruction is one 64-bit little-endian word. Fields (positions from ir/isa.def):
 *
 *  63      56 55   51 50   46 45   41 40   36 35  32 31                                   0
 * +----------+-------+-------+-------+-------+------+--------------------------------------+
 * |    OP    |   A   |   B   |   C   |   D   |  T   |                 IMM                  |
 * +----------+-------+-------+-------+-------+------+--------------------------------------+
 *                                                   |31    24 23   16 15        0          |
 *                            send / recv / bar:     | zero   | CHAN  |    TILE    |          |
 *                                                   |      16 15  11 10 9 8     4 3    0   |
 *                            mvm / xbw / topk:      | zero  |  E   |G |A| NBITS  | UNIT |   |
 *                            vmul / vrq / ...:      |         zero               | SHIFT(6)  |
 *                            wait:                  |   zero        |   MASK (17 bits)     |
 *
 * T holds two 2-bit element types: T[3:2] = output type, T[1:0] = input type
 * (0 = i8, 1 = i16, 2 = i32; 3 is illegal). Formats with one type ('t') need OUT == IN.
 *
 * A format owns the fields its operand pattern names (plus OP and T where typed); every bit it
 * does not own must be zero, so each valid word has exactly one meaning. isa_decode enforces it. */
#ifndef KOLMO_ISA_H
#define KOLMO_ISA_H

#include <stddef.h>
#include <stdint.h>

#define ISA_VERSION 1u

enum IsaField {
#define ISA_FIELD(name, lo, width) FLD_##name,
#include "isa.def"
	FLD_COUNT
};

enum IsaFmt {
#define ISA_FMT(name, ops) FMT_##name,
#include "isa.def"
	FMT_COUNT
};

enum IsaOp {
#define ISA_INSN(mn, opc, fmt, unit, flags, sem) OP_##mn = opc,
#include "isa.def"
	OP_LIMIT = 256
};

enum IsaUnit { U_SCALAR, U_LSU, U_DMA, U_NOC, U_SYNC, U_VFU, U_SBU, U_SEL, U_MVMU, U_COUNT };

enum IsaFlag {
	F_BRANCH = 1 << 0,
	F_LOAD = 1 << 1,
	F_STORE = 1 << 2,
	F_ASYNC = 1 << 3,
	F_BLOCK = 1 << 4,
	F_END = 1 << 5,
};

enum IsaType { TY_I8, TY_I16, TY_I32, TY_COUNT };

enum { ISA_NREGS = 32, ISA_NMVMU = 16, ISA_WAIT_DMA = 1 << 16 };

/* A decoded instruction. Only the fields owned by the instruction's format are meaningful; the
 * others are zero. */
typedef struct Insn {
	uint8_t op;
	uint8_t a, b, c, d, e; /* register numbers */
	uint8_t tout, tin;     /* enum IsaType */
	uint8_t unit, nbits, acc, gate, shift, chan;
	uint16_t tile;
	uint32_t mask;
	int32_t imm;
} Insn;

typedef struct IsaInfo {
	const char *name; /* NULL for an unassigned opcode */
	uint8_t opcode;
	uint8_t fmt;  /* enum IsaFmt */
	uint8_t unit; /* enum IsaUnit */
	uint8_t flags;
	const char *semantics;
} IsaInfo;

typedef struct IsaFieldInfo {
	const char *name;
	uint8_t lo, width;
} IsaFieldInfo;

typedef struct IsaFmtInfo {
	const char *name;
	const char *operands; /* pattern, see isa.def */
	uint64_t owned;       /* bits owned: OP plus the fields the pattern names */
} IsaFmtInfo;

extern const IsaFieldInfo isa_fields[FLD_COUNT];
extern const IsaFmtInfo isa_fmts[FMT_COUNT];
extern const char *const isa_unit_names[U_COUNT];
extern const char *const isa_type_names[TY_COUNT];

/* isa_info: the table row for an opcode (name NULL when the opcode is unassigned). */
const IsaInfo *isa_info(unsigned opcode);
/* isa_fmt_owned: the bits of a word that a format owns (OP plus its operand fields). */
uint64_t isa_fmt_owned(unsigned fmt);
/* isa_lookup: opcode for a mnemonic, or -1. */
int isa_lookup(const char *mnemonic, size_t len);
/* isa_type_size: bytes of one element of an IsaType. */
static inline unsigned
isa_type_size(unsigned ty)
{
	return 1u << ty;
}

/* isa_field_get / isa_field_put: raw access to a field of a word. */
static inline uint64_t
isa_field_get(uint64_t w, enum IsaField f)
{
	const IsaFieldInfo *fi = &isa_fields[f];
	return (w >> fi->lo) & ((1ull << fi->width) - 1);
}

/* isa_encode: the word for an instruction. The fields must fit and the opcode must be assigned
 * (asserted: a bad Insn is a bug of the caller). */
uint64_t isa_encode(const Insn *in);
/* isa_decode: fills *out from w. Returns 0, or -1 for an illegal word (unassigned opcode, a bit
 * set outside the format's fields, an illegal element type). */
int isa_decode(uint64_t w, Insn *out);
/* isa_check: 0 if the Insn is encodable (fields in range), else -1 with a reason in why. */
int isa_check(const Insn *in, const char **why);

/* isa_disasm: one line of assembly for in (no newline), e.g. "vadd.i8 r1, r2, r3, r4".
 * Branch targets print as relative word offsets, so the text assembles back to the same word.
 * Returns the length written (truncated to n-1). */
int isa_disasm(const Insn *in, char *buf, size_t n);

/* Label resolution for isa_parse: returns 0 and the label's instruction index in *index, or -1 if
 * the label is unknown. */
typedef int (*IsaLabelFn)(void *ctx, const char *name, size_t len, int64_t *index);

/* isa_parse: assemble one instruction from text (no label definition, no comment). pc is the
 * instruction's index, used for label operands. On error returns -1 with a message in err and the
 * 0-based column of the offending text in *errcol. */
int isa_parse(const char *text, uint32_t pc, IsaLabelFn labels, void *ctx, Insn *out, char *err,
              size_t errn, int *errcol);

#endif
