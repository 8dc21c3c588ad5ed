/* kasm_int.h: private to kasm.c / kasm_dir.c: the assembler's state and its lexing helpers. */
#ifndef KOLMO_KASM_INT_H
#define KOLMO_KASM_INT_H

#include "kelf.h"
#include "kelf_fmt.h"

typedef struct Label {
	uint64_t core; /* (tile << 32 | core) + 1; 0 marks an empty slot */
	const char *name;
	size_t len;
	uint32_t pc;
} Label;

typedef struct Labels {
	Label *v;
	size_t cap, n;
} Labels;

enum SegKind { SEG_NONE, SEG_SPAD, SEG_TMEM, SEG_DRAM };

typedef struct KAsm {
	const char *file;
	Diag *d;
	int pass;
	KProg *p;        /* the program being built */
	const KProg *p1; /* pass 2: the pass-1 program, for code sizes */
	Labels *labels;
	/* the current line */
	int line;
	const char *src; /* its text in the source (for the caret) */
	char *buf;       /* NUL-terminated copy without the comment */
	size_t bufcap;
	const char *q; /* parse position in buf */
	/* directives in progress */
	KCore *core;
	int arch_seen;
	enum SegKind seg;
	uint32_t seg_tile, seg_addr;
	int seg_line, seg_col;
	const char *seg_src;
	Bytes seg_data;
	int xb_open, xb_line;
	uint32_t xb_unit, xb_rows, xb_cols, xb_wbits, xb_got;
	int32_t *xb_w;
	int ly_open, ly_line, ly_col;
	const char *ly_src;
	char ly_name[KELF_MAX_NAME + 1];
	uint32_t ly_pc;
} KAsm;

/* kasm_err: an error at `at` (a pointer into a->buf) on the current line; returns -1. */
int kasm_err(KAsm *a, const char *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint64_t kasm_core_key(const KAsm *a);
Label *kasm_label_get(Labels *t, uint64_t core, const char *name, size_t len);
/* Lexing the rest of the line at a->q: separators are blanks and/or one comma. */
void kasm_skip_sep(KAsm *a);
int kasm_at_end(KAsm *a);
size_t kasm_word(KAsm *a, const char **start);
int kasm_num(KAsm *a, int64_t lo, int64_t hi, int64_t *out, const char *what);
int kasm_num_u32(KAsm *a, uint32_t lo, uint32_t hi, uint32_t *out, const char *what);
int kasm_name(KAsm *a, const char **s, size_t *n, const char *what);
int kasm_expect_end(KAsm *a, const char *what);
int kasm_need_core(KAsm *a, const char *at, const char *what);
/* kasm_p1_ncode: the current core's code size from pass 1 (UINT32_MAX during pass 1). */
uint32_t kasm_p1_ncode(KAsm *a);
/* kasm_directive: the directive at a->q (kasm_dir.c). */
int kasm_directive(KAsm *a);
/* kasm_end_seg: close the open data segment, if any. */
int kasm_end_seg(KAsm *a);
/* kasm_xbar_pending: an error at `at` if a crossbar image still wants .row lines. */
int kasm_xbar_pending(KAsm *a, const char *at);

#endif
