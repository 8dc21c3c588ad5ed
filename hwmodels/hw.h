/* hw.h: hardware models: the architecture config (HwArch, loaded from YAML and schema-checked),
 * the component models, the energy reference table (ERT) and the area/power/throughput report.
 *
 * The one public header of hwmodels/. Every physical quantity carries its unit in its name
 * (_pj, _ns, _mm2, _w, _bytes, _bits, _ghz ...). The simulator counts actions (HwAction) and this
 * library prices them: energy = sum(counts x energy per action) + leakage x time.
 *
 * The config keys, their types, units, ranges, defaults and help live in one table
 * (hwmodels/schema.def); loading, validation, defaults, hw_arch_set and the docs all come from it.
 * The actions and components live in one table each (hwmodels/actions.def). */
#ifndef KOLMO_HW_H
#define KOLMO_HW_H

#include <stdint.h>

#include <yaml.h>

#include "util.h"

/* ---- the architecture ---- */

enum { HW_MAXPARAMS = 64 };

typedef enum HwMemTech { HW_MEM_SRAM, HW_MEM_EDRAM } HwMemTech;
typedef enum HwXbarTech { HW_XBAR_RERAM, HW_XBAR_SRAM } HwXbarTech; /* analog | digital CIM */
typedef enum HwAdcType { HW_ADC_SAR, HW_ADC_PIPELINE, HW_ADC_FLASH } HwAdcType;
/* The YAML spellings, NULL-terminated, indexed by the enums above. */
extern const char *const hw_mem_tech_names[];
extern const char *const hw_xbar_tech_names[];
extern const char *const hw_adc_type_names[];

/* Source position of a parameter in its YAML file (line 0: not in the file, default used). */
typedef struct HwMark {
	int line, col;
} HwMark;

/* Values derived from the parameters by validation (read-only for users). Cycle counts follow
 * docs/timing.md: cyc(x ns) = max(1, ceil(x * core_ghz)). */
typedef struct HwDerived {
	int digital; /* mvmu.tech == sram: adder trees, no ADC */
	int slices;  /* crossbars per MVMU = weight_bits / cell_bits, one per bit slice */
	int routers; /* chip.tiles / noc.tiles_per_router */
	int64_t mvmus_per_tile; /* tile.cores x core.mvmus */
	int64_t mvmus;          /* whole chip */
	int64_t xbars;          /* whole chip: mvmus x slices */
	double clock_ns;        /* 1 / clock.core_ghz */
	double adc_conv_ns;     /* time of one conversion = 1 / mvmu.adc_rate_gsps (0: digital) */
	int cols_per_adc;       /* ceil(cols / adcs_per_xbar) (0: digital) */
	int read_cycles;        /* cyc(mvmu.read_ns) */
	int adc_cycles;         /* cyc(adc_conv_ns) (0: digital) */
	int write_row_cycles;   /* cyc(mvmu.write_row_ns) */
	int input_cycles; /* input cycles of an mvm at mvmu.input_bits: 1 + ceil((n-1)/dac_bits) */
	int64_t input_cycle_cycles;    /* Tc of a full-size mvm (analog); 1 (digital, pipelined) */
	int64_t mvm_cycles;            /* L_mvm of a full rows x cols mvm at input_bits */
	int tmem_bytes_per_cycle;      /* tile memory port: mem_banks x mem_port_bits / 8 */
	int tmem_latency_cycles;       /* cyc(tile.mem_latency_ns) */
	double dram_bytes_per_cycle;   /* dram.bandwidth_gb_per_s / core_ghz */
	int dram_latency_cycles;       /* cyc(dram.latency_ns) */
	int64_t weight_capacity_bytes; /* mvmus x rows x cols x weight_bits / 8 */
} HwDerived;

/* One architecture. Field paths equal the YAML key paths (chip.tiles <-> `chip: tiles:`); the
 * schema (schema.def, docs/hwmodels.md) documents each field's meaning, unit and range. */
typedef struct HwArch {
	char name[64];
	int node_nm; /* technology node: scales energies and areas (docs/hwmodels.md) */
	struct {
		double core_ghz;
	} clock;
	struct {
		int tiles, mesh_rows, mesh_cols; /* tiles on a mesh_rows x mesh_cols mesh */
	} chip;
	struct {
		int flit_bits;            /* link width = flit size */
		int hop_cycles;           /* per router + link */
		int router_ports;         /* ports per router (area) */
		int tiles_per_router;     /* concentration: tiles sharing one router */
		double router_pj_per_bit; /* energy per bit per hop, router + link */
	} noc;
	struct {
		double bandwidth_gb_per_s; /* off-chip interface, all channels */
		double energy_pj_per_bit;  /* per bit moved, DRAM + interface */
		double latency_ns;
		double phy_area_mm2; /* on-chip interface area (PHYs, controllers) */
		int64_t size_bytes;  /* capacity addressable by DMA */
	} dram;
	struct {
		int cores;
		int64_t mem_bytes;                      /* shared tile memory */
		int mem_banks;                          /* banks (each a mem_port_bits port) */
		int mem_tech;                           /* HwMemTech */
		int mem_port_bits;                      /* width of one bank's port */
		double mem_latency_ns;                  /* access latency */
		int bus_bits;                           /* tile-memory-to-core bus width (wires) */
		int64_t send_buf_bytes, recv_buf_bytes; /* NoC interface buffers */
	} tile;
	struct {
		int mvmus;          /* MVMUs per core (ISA: at most 16) */
		int vfu_lanes;      /* VFU lanes; the SBU and SEL have the same width */
		int has_sbu;        /* 1: spline basis unit present */
		int has_sel;        /* 1: selection (top-k/top-p) unit present */
		int64_t spad_bytes; /* local scratchpad */
		int imem_words;     /* instruction memory, 64-bit words */
		int regs;           /* scalar registers (ISA: 32) */
	} core;
	struct {
		int rows, cols;  /* logical rows x cols matrix of weight_bits weights */
		int cell_bits;   /* bits per cell; weight_bits/cell_bits crossbars of rows x cols */
		int weight_bits; /* signed weight precision */
		int input_bits;  /* activation precision applied bit-serially */
		int dac_bits;    /* bits per input cycle */
		int adcs_per_xbar;        /* ADCs per crossbar, shared by the crossbar's columns */
		int adc_bits;             /* ADC resolution (0: no ADC, digital arrays) */
		int adc_type;             /* HwAdcType */
		double adc_rate_gsps;     /* conversions per ns per ADC */
		int tech;                 /* HwXbarTech */
		double read_ns;           /* one crossbar read (input cycle), analog settling */
		double write_row_ns;      /* program one row (all slices) */
		double write_pj_per_cell; /* program one cell */
		int64_t in_reg_bytes; /* MVMU input register (0: inputs read from the scratchpad) */
		int64_t out_reg_bytes; /* MVMU output register (0: none) */
		int shift_add_units;   /* shift-and-add units (area) */
	} mvmu;

	HwDerived d;               /* filled by validation */
	HwMark mark[HW_MAXPARAMS]; /* source position of each schema row (index = row) */
	uint64_t fingerprint;      /* hw_arch_fingerprint, kept current by load and set */
} HwArch;

/* The schema: one row per config key. */
typedef enum HwType { HW_T_INT, HW_T_BOOL, HW_T_BYTES, HW_T_F64, HW_T_ENUM, HW_T_STR } HwType;
typedef struct HwParam {
	const char *path; /* "mvmu.adc_bits" */
	HwType type;
	const char *unit;         /* "bits", "ns", "" ... */
	double min, max;          /* inclusive range (numbers; for strings: length) */
	const char *def;          /* default as YAML text; NULL when required */
	const char *const *enums; /* HW_T_ENUM: NULL-terminated names */
	const char *help;
	size_t offset; /* into HwArch */
} HwParam;

extern const HwParam hw_params[];
extern const int hw_nparams;

/* hw_arch_defaults: every parameter at its default; required ones zero. Not validated. */
void hw_arch_defaults(HwArch *a);

/* hw_arch_load: read and validate a YAML config. On error fills d (file:line:col: error: ...,
 * with the source line and a caret) and returns -1. */
int hw_arch_load(HwArch *a, const char *path, Diag *d);
/* hw_arch_load_mem: the same from memory; fname names the buffer in diagnostics. buf need not be
 * NUL-terminated. */
int hw_arch_load_mem(HwArch *a, const char *buf, size_t len, const char *fname, Diag *d);

/* hw_yaml_parse: parse text (len bytes, NUL-terminated for the caret line) as one YAML document
 * into *doc (free it with yaml_document_delete). On malformed YAML fills d with
 * "fname:line:col: error: malformed YAML: ..." and returns -1. */
int hw_yaml_parse(const char *text, size_t len, const char *fname, yaml_document_t *doc, Diag *d);

/* hw_arch_set: set one parameter by key path from its YAML text ("mvmu.adc_bits", "6"), then
 * re-validate the whole architecture. On error (unknown key, bad value, inconsistency) a is
 * unchanged, d is filled and -1 returned. Updates the derived values and the fingerprint. */
int hw_arch_set(HwArch *a, const char *path, const char *value, Diag *d);
/* hw_arch_set_many: set n parameters (paths[i] = values[i]) and validate once, so that a change
 * needing several keys at once (e.g. mvmu.tech reram -> sram with the ADC keys to 0) goes through.
 * All or nothing, like hw_arch_set. */
int hw_arch_set_many(HwArch *a, const char *const *paths, const char *const *values, int n,
                     Diag *d);
/* hw_arch_get: the value of a parameter as text (canonical form) into buf; -1 if unknown. */
int hw_arch_get(const HwArch *a, const char *path, char *buf, size_t n);

/* hw_arch_validate: check ranges and consistency and compute a->d and a->fingerprint. */
int hw_arch_validate(HwArch *a, Diag *d);

/* hw_arch_canonical: the canonical serialisation ("key=value\n" per schema row except name) into
 * buf (NUL-terminated, truncated at n); returns the full length. */
size_t hw_arch_canonical(const HwArch *a, char *buf, size_t n);
/* hw_arch_fingerprint: fnv1a64 of the canonical serialisation: what binaries carry. */
uint64_t hw_arch_fingerprint(const HwArch *a);

/* hw_param_find: schema row index of a key path, or -1. */
int hw_param_find(const char *path);
/* hw_schema_markdown: the schema reference table (docs/hwmodels.md) as a malloc'd string. */
char *hw_schema_markdown(void);

/* hw_cycles: cyc(ns) = max(1, ceil(ns x core_ghz)), the timing rule's ns-to-cycles conversion. */
int64_t hw_cycles(const HwArch *a, double ns);
/* hw_mvm_input_cycles: 1 + ceil((nbits-1)/dac_bits) (1 when nbits <= 1). */
int hw_mvm_input_cycles(const HwArch *a, int nbits);
/* hw_mvm_cycles: L_mvm of docs/timing.md for rows x cols programmed and nbits input bits. */
int64_t hw_mvm_cycles(const HwArch *a, int rows, int cols, int nbits);

/* ---- components and actions ---- */

/* Levels of the hierarchy: where one instance of a component lives. */
typedef enum HwLevel { HW_L_MVMU, HW_L_CORE, HW_L_TILE, HW_L_CHIP, HW_NLEVELS } HwLevel;
extern const char *const hw_level_names[HW_NLEVELS];

typedef enum HwComp {
#define HW_COMP(name, level, label) HW_C_##name,
#include "actions.def"
	HW_NCOMPS
} HwComp;

typedef enum HwAction {
#define HW_ACTION(name, comp, help) HW_ACT_##name,
#include "actions.def"
	HW_NACTIONS
} HwAction;

typedef struct HwCompInfo {
	const char *name, *label;
	HwLevel level;
} HwCompInfo;
typedef struct HwActionInfo {
	const char *name;
	HwComp comp;
	const char *help; /* what one action is */
} HwActionInfo;
extern const HwCompInfo hw_comps[HW_NCOMPS];
extern const HwActionInfo hw_actions[HW_NACTIONS];

/* ---- energy reference table ---- */

/* Latency and throughput facts the simulator and RTL need, in ns and core cycles. */
typedef struct HwTiming {
	double clock_ns;
	double xbar_read_ns;      /* one analog read (settling) */
	double adc_conv_ns;       /* one conversion (0: digital) */
	double xbar_write_row_ns; /* program one row */
	double mvm_ns;            /* full-size mvm at input_bits */
	int64_t mvm_cycles;
	double tmem_bytes_per_ns;
	double dram_bytes_per_ns;
	double dram_latency_ns;
	int noc_hop_cycles;
} HwTiming;

typedef struct HwErt {
	double energy_pj[HW_NACTIONS]; /* per action */
	double leak_w[HW_NCOMPS];      /* leakage of all instances on the chip */
	HwTiming timing;
	uint64_t fingerprint; /* of the arch it was built from */
} HwErt;

/* hw_ert_build: energy per action and leakage for a validated architecture. */
void hw_ert_build(const HwArch *a, HwErt *e);

typedef struct HwEnergy {
	double total_j;
	double dynamic_j, leakage_j;
	double comp_j[HW_NCOMPS];      /* dynamic + leakage per component */
	double comp_leak_j[HW_NCOMPS]; /* the leakage part */
	double action_j[HW_NACTIONS];  /* dynamic per action */
} HwEnergy;

/* hw_energy: sum(counts[i] x energy_pj[i]) + leakage x seconds, with breakdowns. */
void hw_energy(const HwErt *e, const uint64_t counts[HW_NACTIONS], double seconds, HwEnergy *out);

/* ---- area, peak power and throughput (kolmo hw) ---- */

typedef struct HwCompReport {
	int64_t per_parent; /* instances per parent level (a router: per tiles_per_router tiles) */
	double per_tile;    /* instances per tile (fractional for shared routers) */
	int64_t chip_count; /* instances on the chip */
	double area_um2;    /* one instance */
	double leak_w;      /* one instance */
	double peak_w;      /* one instance at peak activity, leakage included */
	double peak_rate_per_s; /* peak rate of its main action, per instance */
	int peak_action;        /* HwAction priced at that rate */
} HwCompReport;

enum { HW_MAXWARN = 16 };

typedef struct HwReport {
	HwCompReport comp[HW_NCOMPS];
	double level_area_mm2[HW_NLEVELS]; /* one MVMU, one core, one tile, the chip */
	double level_power_w[HW_NLEVELS];
	double chip_area_mm2, chip_power_w;
	double peak_macs_per_s, peak_ops_per_s; /* 2 ops per MAC at input_bits x weight_bits */
	double tops_per_w, tops_per_mm2;
	double mac_energy_pj;    /* chip peak power / peak MAC rate */
	double mac_energy_8b_pj; /* normalised to 8b x 8b: x 64 / (input_bits x weight_bits) */
	double tops_per_w_8b, tops_per_mm2_8b; /* normalised to 8b x 8b */
	int64_t weight_bytes;
	double weight_mib_per_mm2;
	int nwarn;
	char warn[HW_MAXWARN][160];
} HwReport;

/* hw_report: area and peak power by component and level, peak throughput, efficiency, capacity,
 * and sanity warnings (hardware.md section 2 bounds), for a validated architecture. */
void hw_report(const HwArch *a, HwReport *r);

#endif
