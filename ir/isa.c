/* isa.c: ISA tables, encoder, decoder, one-instruction assembler and disassembler, all driven by
 * isa.def. */
#include "isa.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const IsaFieldInfo isa_fields[FLD_COUNT] = {
#define ISA_FIELD(name, lo, width) {#name, lo, width},
#include "isa.def"
};

const IsaFmtInfo isa_fmts[FMT_COUNT] = {
#define ISA_FMT(name, ops) {#name, ops, 0},
#include "isa.def"
};

const char *const isa_unit_names[U_COUNT] = {"scalar", "lsu", "dma", "noc", "sync",
                                             "vfu",    "sbu", "sel", "mvmu"};
const char *const isa_type_names[TY_COUNT] = {"i8", "i16", "i32"};

static const IsaInfo insn_table[OP_LIMIT] = {
#define ISA_INSN(mn, opc, fmt, unit, flags, sem)                                                   \
	[opc] = {#mn, opc, FMT_##fmt, U_##unit, flags, sem},
#include "isa.def"
};

const IsaInfo *
isa_info(unsigned opcode)
{
	KASSERT(opcode < OP_LIMIT);
	return &insn_table[opcode];
}

int
isa_lookup(const char *mn, size_t len)
{
	unsigned i;
	for (i = 0; i < OP_LIMIT; i++) {
		const char *n = insn_table[i].name;
		if (n && strlen(n) == len && memcmp(n, mn, len) == 0)
			return (int)i;
	}
	return -1;
}

static uint64_t
field_mask(enum IsaField f)
{
	return ((1ull << isa_fields[f].width) - 1) << isa_fields[f].lo;
}

/* The fields an operand letter owns, as a bit set of enum IsaField. */
static unsigned
letter_fields(char c)
{
	switch (c) {
	case 'a':
		return 1u << FLD_A;
	case 'b':
		return 1u << FLD_B;
	case 'c':
		return 1u << FLD_C;
	case 'd':
		return 1u << FLD_D;
	case 't':
	case 'T':
		return 1u << FLD_T;
	case 'i':
	case 'l':
		return 1u << FLD_IMM;
	case 'm':
		return 1u << FLD_IMM | 1u << FLD_B;
	case 's':
		return 1u << FLD_SHIFT;
	case 'u':
		return 1u << FLD_UNIT;
	case 'n':
		return 1u << FLD_NBITS;
	case 'f':
		return 1u << FLD_ACC | 1u << FLD_GATE;
	case 'e':
		return 1u << FLD_E;
	case 'k':
		return 1u << FLD_MASK;
	case 'x':
		return 1u << FLD_TILE | 1u << FLD_CHAN;
	case 'z':
		return 1u << FLD_CHAN;
	default:
		return 0;
	}
}

/* fmt_fields: the set of fields a format owns (OP always). */
static unsigned
fmt_fields(unsigned fmt)
{
	const char *p;
	unsigned s = 1u << FLD_OP;
	for (p = isa_fmts[fmt].operands; *p; p++)
		s |= letter_fields(*p);
	return s;
}

uint64_t
isa_fmt_owned(unsigned fmt)
{
	unsigned s = fmt_fields(fmt), f;
	uint64_t m = 0;
	for (f = 0; f < FLD_COUNT; f++)
		if (s & (1u << f))
			m |= field_mask(f);
	return m;
}

static int
has_letter(unsigned fmt, char c)
{
	return strchr(isa_fmts[fmt].operands, c) != NULL;
}

/* Values of each field for an Insn, in field order. */
static void
fields_of(const Insn *in, uint64_t v[FLD_COUNT])
{
	memset(v, 0, sizeof(uint64_t) * FLD_COUNT);
	v[FLD_OP] = in->op;
	v[FLD_A] = in->a;
	v[FLD_B] = in->b;
	v[FLD_C] = in->c;
	v[FLD_D] = in->d;
	v[FLD_T] = (uint64_t)in->tout << 2 | in->tin;
	v[FLD_IMM] = (uint32_t)in->imm;
	v[FLD_SHIFT] = in->shift;
	v[FLD_UNIT] = in->unit;
	v[FLD_NBITS] = in->nbits;
	v[FLD_ACC] = in->acc;
	v[FLD_GATE] = in->gate;
	v[FLD_E] = in->e;
	v[FLD_MASK] = in->mask;
	v[FLD_TILE] = in->tile;
	v[FLD_CHAN] = in->chan;
}

int
isa_check(const Insn *in, const char **why)
{
	const IsaInfo *info = isa_info(in->op);
	uint64_t v[FLD_COUNT];
	unsigned owned, f;
	const char *dummy;
	if (!why)
		why = &dummy;
	if (!info->name) {
		*why = "unassigned opcode";
		return -1;
	}
	owned = fmt_fields(info->fmt);
	fields_of(in, v);
	for (f = 0; f < FLD_COUNT; f++) {
		if (!(owned & (1u << f))) {
			if (v[f] != 0 && f != FLD_T) {
				*why = "operand not used by this instruction is nonzero";
				return -1;
			}
			continue;
		}
		if (f != FLD_IMM && v[f] >> isa_fields[f].width) {
			*why = "operand out of range for its field";
			return -1;
		}
	}
	if (owned & (1u << FLD_T)) {
		if (in->tout >= TY_COUNT || in->tin >= TY_COUNT) {
			*why = "illegal element type";
			return -1;
		}
		if (has_letter(info->fmt, 't') && in->tout != in->tin) {
			*why = "this instruction takes one element type";
			return -1;
		}
	} else if (in->tout || in->tin) {
		*why = "this instruction takes no element type";
		return -1;
	}
	if (has_letter(info->fmt, 'n') && (in->nbits < 1 || in->nbits > 16)) {
		*why = "input bit width must be 1..16";
		return -1;
	}
	return 0;
}

uint64_t
isa_encode(const Insn *in)
{
	uint64_t v[FLD_COUNT], w = 0;
	unsigned owned, f;
	const char *why = NULL;
	if (isa_check(in, &why) != 0)
		kolmo_die(__FILE__, __LINE__, "isa_encode: %s (op 0x%02x)", why, in->op);
	owned = fmt_fields(isa_info(in->op)->fmt);
	fields_of(in, v);
	for (f = 0; f < FLD_COUNT; f++)
		if (owned & (1u << f))
			w |= (v[f] << isa_fields[f].lo) & field_mask(f);
	return w;
}

int
isa_decode(uint64_t w, Insn *out)
{
	unsigned op = (unsigned)isa_field_get(w, FLD_OP), owned, f;
	const IsaInfo *info = isa_info(op);
	uint64_t v[FLD_COUNT];
	memset(out, 0, sizeof *out);
	if (!info->name)
		return -1;
	if (w & ~isa_fmt_owned(info->fmt))
		return -1;
	owned = fmt_fields(info->fmt);
	for (f = 0; f < FLD_COUNT; f++)
		v[f] = (owned & (1u << f)) ? isa_field_get(w, f) : 0;
	out->op = (uint8_t)op;
	out->a = (uint8_t)v[FLD_A];
	out->b = (uint8_t)v[FLD_B];
	out->c = (uint8_t)v[FLD_C];
	out->d = (uint8_t)v[FLD_D];
	out->tout = (uint8_t)(v[FLD_T] >> 2);
	out->tin = (uint8_t)(v[FLD_T] & 3);
	out->imm = (int32_t)(uint32_t)v[FLD_IMM];
	out->shift = (uint8_t)v[FLD_SHIFT];
	out->unit = (uint8_t)v[FLD_UNIT];
	out->nbits = (uint8_t)v[FLD_NBITS];
	out->acc = (uint8_t)v[FLD_ACC];
	out->gate = (uint8_t)v[FLD_GATE];
	out->e = (uint8_t)v[FLD_E];
	out->mask = (uint32_t)v[FLD_MASK];
	out->tile = (uint16_t)v[FLD_TILE];
	out->chan = (uint8_t)v[FLD_CHAN];
	/* imm overlaps the sub-fields; keep imm only where the format owns IMM itself. */
	if (!(owned & (1u << FLD_IMM)))
		out->imm = 0;
	return isa_check(out, NULL);
}

/* ---- disassembler ---- */

typedef struct Buf {
	char *p;
	size_t n, len;
} Buf;

static void bput(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
bput(Buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;
	if (b->len >= b->n)
		return;
	va_start(ap, fmt);
	r = vsnprintf(b->p + b->len, b->n - b->len, fmt, ap);
	va_end(ap);
	if (r > 0)
		b->len += (size_t)r;
	if (b->len >= b->n)
		b->len = b->n - 1;
}

int
isa_disasm(const Insn *in, char *buf, size_t n)
{
	const IsaInfo *info = isa_info(in->op);
	const char *p;
	Buf b = {buf, n, 0};
	int first = 1;
	KASSERT(n > 0);
	buf[0] = 0;
	if (!info->name) {
		bput(&b, ".illegal 0x%02x", in->op);
		return (int)b.len;
	}
	bput(&b, "%s", info->name);
	for (p = isa_fmts[info->fmt].operands; *p; p++) {
		if (*p == ',')
			continue;
		if (*p == 't') {
			bput(&b, ".%s", isa_type_names[in->tout]);
			continue;
		}
		if (*p == 'T') {
			bput(&b, ".%s.%s", isa_type_names[in->tout], isa_type_names[in->tin]);
			continue;
		}
		if (*p == 'f') {
			if (in->acc)
				bput(&b, ", acc");
			if (in->gate)
				bput(&b, ", gate");
			continue;
		}
		bput(&b, first ? " " : ", ");
		first = 0;
		switch (*p) {
		case 'a':
			bput(&b, "r%u", in->a);
			break;
		case 'b':
			bput(&b, "r%u", in->b);
			break;
		case 'c':
			bput(&b, "r%u", in->c);
			break;
		case 'd':
			bput(&b, "r%u", in->d);
			break;
		case 'e':
			bput(&b, "r%u", in->e);
			break;
		case 'i':
		case 'l':
			bput(&b, "%d", in->imm);
			break;
		case 'm':
			bput(&b, "%d(r%u)", in->imm, in->b);
			break;
		case 's':
			bput(&b, "%u", in->shift);
			break;
		case 'u':
			bput(&b, "%u", in->unit);
			break;
		case 'n':
			bput(&b, "%u", in->nbits);
			break;
		case 'k':
			bput(&b, "0x%x", in->mask);
			break;
		case 'x':
			bput(&b, "%u, %u", in->tile, in->chan);
			break;
		case 'z':
			bput(&b, "%u", in->chan);
			break;
		default:
			KASSERT(0);
		}
	}
	return (int)b.len;
}

/* ---- one-instruction assembler ---- */

typedef struct Lex {
	const char *s, *p;
	char *err;
	size_t errn;
	int *errcol;
} Lex;

static int lerr(Lex *l, const char *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
lerr(Lex *l, const char *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err, l->errn, fmt, ap);
	va_end(ap);
	*l->errcol = (int)(at - l->s);
	return -1;
}

static void
skipws(Lex *l)
{
	while (*l->p == ' ' || *l->p == '\t')
		l->p++;
}

static int
is_ident(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '$';
}

static int
expect_comma(Lex *l)
{
	skipws(l);
	if (*l->p != ',')
		return lerr(l, l->p, "expected ','");
	l->p++;
	skipws(l);
	return 0;
}

static int
parse_reg(Lex *l, uint8_t *r)
{
	const char *at;
	long v;
	char *end;
	skipws(l);
	at = l->p;
	if (*l->p != 'r' || !isdigit((unsigned char)l->p[1]))
		return lerr(l, at, "expected a register r0..r31");
	v = strtol(l->p + 1, &end, 10);
	if (v < 0 || v >= ISA_NREGS || is_ident((unsigned char)*end))
		return lerr(l, at, "expected a register r0..r31");
	*r = (uint8_t)v;
	l->p = end;
	return 0;
}

/* parse_int: a decimal or 0x-hex integer, optionally negative, in [lo, hi]. */
static int
parse_int(Lex *l, int64_t lo, int64_t hi, int64_t *out, const char *what)
{
	const char *at;
	char *end;
	long long v;
	skipws(l);
	at = l->p;
	if (!(isdigit((unsigned char)*l->p) || (*l->p == '-' && isdigit((unsigned char)l->p[1]))))
		return lerr(l, at, "expected %s", what);
	errno = 0;
	v = strtoll(l->p, &end, 0);
	if (errno || is_ident((unsigned char)*end))
		return lerr(l, at, "malformed number for %s", what);
	if (v < lo || v > hi)
		return lerr(l, at, "%s out of range [%lld, %lld]", what, (long long)lo,
		            (long long)hi);
	*out = v;
	l->p = end;
	return 0;
}

static int
parse_type(Lex *l, uint8_t *ty)
{
	const char *at = l->p;
	unsigned i;
	if (*l->p != '.')
		return lerr(l, at, "expected an element type suffix (.i8, .i16, .i32)");
	l->p++;
	for (i = 0; i < TY_COUNT; i++) {
		size_t n = strlen(isa_type_names[i]);
		if (strncmp(l->p, isa_type_names[i], n) == 0 && !isalnum((unsigned char)l->p[n])) {
			*ty = (uint8_t)i;
			l->p += n;
			return 0;
		}
	}
	return lerr(l, at, "unknown element type (expected .i8, .i16 or .i32)");
}

int
isa_parse(const char *text, uint32_t pc, IsaLabelFn labels, void *ctx, Insn *out, char *err,
          size_t errn, int *errcol)
{
	Lex l = {text, text, err, errn, errcol};
	const char *mn, *p;
	const IsaInfo *info;
	int op, first = 1;
	int64_t v;
	const char *why;

	memset(out, 0, sizeof *out);
	skipws(&l);
	mn = l.p;
	while (isalnum((unsigned char)*l.p) || *l.p == '_')
		l.p++;
	if (l.p == mn)
		return lerr(&l, mn, "expected an instruction mnemonic");
	op = isa_lookup(mn, (size_t)(l.p - mn));
	if (op < 0)
		return lerr(&l, mn, "unknown instruction '%.*s'", (int)(l.p - mn), mn);
	info = isa_info((unsigned)op);
	out->op = (uint8_t)op;

	for (p = isa_fmts[info->fmt].operands; *p; p++) {
		const char *at;
		if (*p == ',')
			continue;
		if (*p == 't') {
			if (parse_type(&l, &out->tout))
				return -1;
			out->tin = out->tout;
			continue;
		}
		if (*p == 'T') {
			if (parse_type(&l, &out->tout) || parse_type(&l, &out->tin))
				return -1;
			continue;
		}
		if (*p == 'f') {
			for (;;) {
				const char *w;
				skipws(&l);
				if (*l.p != ',')
					break;
				l.p++;
				skipws(&l);
				w = l.p;
				while (isalpha((unsigned char)*l.p))
					l.p++;
				if (l.p - w == 3 && !strncmp(w, "acc", 3) && !out->acc)
					out->acc = 1;
				else if (l.p - w == 4 && !strncmp(w, "gate", 4) && !out->gate)
					out->gate = 1;
				else
					return lerr(
					    &l, w,
					    "expected flag 'acc' or 'gate' (each at most once)");
			}
			continue;
		}
		if (first) {
			if (*l.p != ' ' && *l.p != '\t')
				return lerr(&l, l.p, "expected operands after '%s'", info->name);
			skipws(&l);
			first = 0;
		} else if (expect_comma(&l)) {
			return -1;
		}
		at = l.p;
		switch (*p) {
		case 'a':
			if (parse_reg(&l, &out->a))
				return -1;
			break;
		case 'b':
			if (parse_reg(&l, &out->b))
				return -1;
			break;
		case 'c':
			if (parse_reg(&l, &out->c))
				return -1;
			break;
		case 'd':
			if (parse_reg(&l, &out->d))
				return -1;
			break;
		case 'e':
			if (parse_reg(&l, &out->e))
				return -1;
			break;
		case 'i':
			if (parse_int(&l, INT32_MIN, UINT32_MAX, &v, "an immediate"))
				return -1;
			out->imm = (int32_t)(uint32_t)v;
			break;
		case 'l':
			if (isalpha((unsigned char)*l.p) || *l.p == '_' || *l.p == '.') {
				const char *s = l.p;
				int64_t idx;
				while (is_ident((unsigned char)*l.p))
					l.p++;
				if (!labels || labels(ctx, s, (size_t)(l.p - s), &idx) != 0)
					return lerr(&l, s, "undefined label '%.*s'", (int)(l.p - s),
					            s);
				v = idx - (int64_t)pc;
				if (v < INT32_MIN || v > INT32_MAX)
					return lerr(&l, s, "branch target too far");
			} else if (parse_int(&l, INT32_MIN, INT32_MAX, &v,
			                     "a label or word offset")) {
				return -1;
			}
			out->imm = (int32_t)v;
			break;
		case 'm':
			v = 0;
			if (*l.p != '(' && parse_int(&l, INT32_MIN, INT32_MAX, &v, "an offset"))
				return -1;
			out->imm = (int32_t)v;
			skipws(&l);
			if (*l.p != '(')
				return lerr(&l, l.p, "expected '(' register ')'");
			l.p++;
			if (parse_reg(&l, &out->b))
				return -1;
			skipws(&l);
			if (*l.p != ')')
				return lerr(&l, l.p, "expected ')'");
			l.p++;
			break;
		case 's':
			if (parse_int(&l, 0, 63, &v, "a shift amount"))
				return -1;
			out->shift = (uint8_t)v;
			break;
		case 'u':
			if (parse_int(&l, 0, ISA_NMVMU - 1, &v, "an MVMU index"))
				return -1;
			out->unit = (uint8_t)v;
			break;
		case 'n':
			if (parse_int(&l, 1, 16, &v, "an input bit width"))
				return -1;
			out->nbits = (uint8_t)v;
			break;
		case 'k':
			if (parse_int(&l, 0, 0x1ffff, &v, "a unit mask"))
				return -1;
			out->mask = (uint32_t)v;
			break;
		case 'x':
			if (parse_int(&l, 0, 0xffff, &v, "a tile id"))
				return -1;
			out->tile = (uint16_t)v;
			if (expect_comma(&l) || parse_int(&l, 0, 255, &v, "a channel"))
				return -1;
			out->chan = (uint8_t)v;
			break;
		case 'z':
			if (parse_int(&l, 0, 255, &v, "a barrier id"))
				return -1;
			out->chan = (uint8_t)v;
			break;
		default:
			KASSERT(0);
		}
		(void)at;
	}
	skipws(&l);
	if (*l.p && *l.p != '\n' && *l.p != '\r')
		return lerr(&l, l.p, "unexpected text after the operands of '%s'", info->name);
	if (isa_check(out, &why))
		return lerr(&l, text, "%s", why);
	return 0;
}
