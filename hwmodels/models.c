/* models.c: the component models: energy per action, area and leakage of one instance of each
 * component, and its peak action rate, as functions of the architecture and the coefficients of
 * tech.def scaled to the technology node. docs/hwmodels.md gives every formula and its source. */
#include "models.h"

#include <math.h>
#include <string.h>

const HwTechCoef hw_tech[] = {
#define HW_TECH(name, value, unit, source) {#name, value, unit, source},
#include "tech.def"
#undef HW_TECH
};
const int hw_ntech = (int)NELEM(hw_tech);

enum {
#define HW_TECH(name, value, unit, source) T_##name,
#include "tech.def"
#undef HW_TECH
};
#define T(name) (hw_tech[T_##name].value)

const char *const hw_level_names[HW_NLEVELS] = {"mvmu", "core", "tile", "chip"};

const HwCompInfo hw_comps[HW_NCOMPS] = {
#define HW_COMP(name, level, label) {#name, label, level},
#include "actions.def"
};
const HwActionInfo hw_actions[HW_NACTIONS] = {
#define HW_ACTION(name, comp, help) {#name, comp, help},
#include "actions.def"
};

/* Technology scaling from the 32 nm reference (docs/hwmodels.md): digital energy ~ C V^2 ~ node
 * (Stillmaker & Baas 2017 give 0.6-0.7x for 32 -> 22 nm; (22/32)^1 = 0.69), analog energy
 * ~ sqrt(node) (matching and noise limited, HWComponents-ADC), area ~ node^2. */
typedef struct Scale {
	double e_dig, e_ana, area, f_um; /* f_um: feature size in um */
} Scale;

static Scale
scale_of(const HwArch *a)
{
	Scale s;
	double k = a->node_nm / 32.0;
	s.e_dig = k;
	s.e_ana = sqrt(k);
	s.area = k * k;
	s.f_um = a->node_nm * 1e-3;
	return s;
}

/* Register files and small buffers: energy per byte accessed. */
double
hw_rf_pj_per_byte(double bytes)
{
	double kb = bytes / 1024.0, knee = T(rf_knee_bytes) / 1024.0;
	if (kb < 1.0 / 64)
		kb = 1.0 / 64;
	if (kb <= knee)
		return T(rf_pj_per_byte_1k) * pow(kb, T(rf_size_exponent));
	return T(rf_pj_per_byte_1k) * pow(knee, T(rf_size_exponent)) * sqrt(kb / knee);
}

double
hw_rf_area_um2(double bytes)
{
	return T(rf_area_fixed_um2) + T(rf_area_um2_per_byte) * bytes;
}

/* Number of full-adder bits in an adder tree over n 1-bit inputs: level l (1..) has ceil(n/2^l)
 * adders of l bits. */
static double
adder_tree_fa(int n)
{
	double fa = 0;
	int l = 1, m = n;
	while (m > 1) {
		m = (m + 1) / 2;
		fa += (double)m * l;
		l++;
	}
	return fa;
}

/* ADC type factors: energy, area, speed corner (coarse; docs/hwmodels.md). */
static const struct {
	double e, area, corner;
} adc_type_factor[] = {
    [HW_ADC_SAR] = {1.0, 1.0, 1.0},
    [HW_ADC_PIPELINE] = {1.5, 1.5, 4.0},
    [HW_ADC_FLASH] = {2.0, 1.0, 10.0},
};

double
hw_adc_pj_per_conv(const HwArch *a)
{
	Scale s = scale_of(a);
	double fc =
	    T(adc_corner_gsps) * 32.0 / a->node_nm * adc_type_factor[a->mvmu.adc_type].corner;
	double over = a->mvmu.adc_rate_gsps > fc ? a->mvmu.adc_rate_gsps / fc : 1.0;
	double e = T(adc_fom_fj_per_step) * 1e-3 * ldexp(1.0, a->mvmu.adc_bits) *
	           adc_type_factor[a->mvmu.adc_type].e * over;
	if (e < T(adc_floor_pj))
		e = T(adc_floor_pj);
	return e * s.e_ana;
}

double
hw_adc_area_um2(const HwArch *a)
{
	Scale s = scale_of(a);
	double fc =
	    T(adc_corner_gsps) * 32.0 / a->node_nm * adc_type_factor[a->mvmu.adc_type].corner;
	double over = a->mvmu.adc_rate_gsps > fc ? a->mvmu.adc_rate_gsps / fc : 1.0;
	double ar = T(adc_area_um2_per_step) * ldexp(1.0, a->mvmu.adc_bits) *
	            adc_type_factor[a->mvmu.adc_type].area * over;
	if (ar < T(adc_area_min_um2))
		ar = T(adc_area_min_um2);
	return ar * s.area;
}

static double
mem_leak_w(double bytes, int edram)
{
	return bytes / 1024.0 * (edram ? T(edram_refresh_uw_per_kb) : T(sram_leak_uw_per_kb)) *
	       1e-6;
}

void
hw_model(const HwArch *a, HwModel *m)
{
	const HwDerived *x = &a->d;
	Scale s = scale_of(a);
	double clk = a->clock.core_ghz * 1e9; /* Hz */
	double mvm_s = (double)x->mvm_cycles * x->clock_ns * 1e-9;
	double R = a->mvmu.rows, C = a->mvmu.cols, S = x->slices, Cin = x->input_cycles;
	double logic_leak = T(logic_leak_w_per_mm2) * 1e-6; /* W per um2 */
	HwCompReport *c = m->comp;
	double *e = m->energy_pj;
	int analog = !x->digital;

	memset(m, 0, sizeof *m);

	/* crossbars: one instance = one slice's rows x cols array */
	c[HW_C_xbar].per_parent = x->slices;
	if (analog) {
		c[HW_C_xbar].area_um2 = R * C * T(reram_cell_area_f2) * s.f_um * s.f_um;
		e[HW_ACT_xbar_row_activate] = C * T(reram_cell_read_fj) * 1e-3;
	} else {
		c[HW_C_xbar].area_um2 = R * C * T(sram_cim_cell_area_f2) * s.f_um * s.f_um;
		e[HW_ACT_xbar_row_activate] = C * T(sram_cim_cell_read_fj) * 1e-3 * s.e_dig;
		c[HW_C_xbar].leak_w = mem_leak_w(R * C / 8.0, 0);
	}
	e[HW_ACT_xbar_write_row] = C * a->mvmu.write_pj_per_cell;
	e[HW_ACT_xbar_write_col] = R * a->mvmu.write_pj_per_cell;
	c[HW_C_xbar].peak_rate_per_s = R * Cin / mvm_s;
	c[HW_C_xbar].peak_action = HW_ACT_xbar_row_activate;

	/* DACs (analog) or wordline drivers (digital): one per row per crossbar */
	c[HW_C_dac].per_parent = (int64_t)(R * S);
	if (analog) {
		double lv = ldexp(1.0, a->mvmu.dac_bits) - 1;
		e[HW_ACT_dac_drive] = T(dac_pj_per_drive) * lv * C / 128.0 * s.e_ana;
		c[HW_C_dac].area_um2 = T(dac_area_um2) * lv * s.area;
	} else {
		e[HW_ACT_dac_drive] = T(wl_fj_per_cell) * 1e-3 * C * s.e_dig;
		c[HW_C_dac].area_um2 = T(dac_area_um2) * s.area;
	}
	c[HW_C_dac].peak_rate_per_s = Cin / mvm_s;
	c[HW_C_dac].peak_action = HW_ACT_dac_drive;

	if (analog) {
		/* sample-and-hold: one per column per crossbar */
		c[HW_C_sh].per_parent = (int64_t)(C * S);
		e[HW_ACT_sh_sample] = T(sh_fj_per_sample) * 1e-3 * s.e_ana;
		c[HW_C_sh].area_um2 = T(sh_area_um2) * s.area;
		c[HW_C_sh].peak_rate_per_s = Cin / mvm_s;
		c[HW_C_sh].peak_action = HW_ACT_sh_sample;
		/* ADCs */
		c[HW_C_adc].per_parent = (int64_t)a->mvmu.adcs_per_xbar * x->slices;
		e[HW_ACT_adc_convert] = hw_adc_pj_per_conv(a);
		c[HW_C_adc].area_um2 = hw_adc_area_um2(a);
		c[HW_C_adc].peak_rate_per_s = C * Cin / a->mvmu.adcs_per_xbar / mvm_s;
		c[HW_C_adc].peak_action = HW_ACT_adc_convert;
	} else {
		/* adder trees: one per column per crossbar */
		double fa = adder_tree_fa(a->mvmu.rows);
		c[HW_C_adder_tree].per_parent = (int64_t)(C * S);
		e[HW_ACT_adder_tree_op] = fa * T(fa_fj) * 1e-3 * s.e_dig;
		c[HW_C_adder_tree].area_um2 = fa * T(fa_area_um2) * s.area;
		c[HW_C_adder_tree].leak_w = c[HW_C_adder_tree].area_um2 * logic_leak;
		c[HW_C_adder_tree].peak_rate_per_s = Cin / mvm_s;
		c[HW_C_adder_tree].peak_action = HW_ACT_adder_tree_op;
	}

	/* shift-and-add: a (weight_bits + input_bits)-bit accumulate per column per input cycle */
	{
		double bits = a->mvmu.weight_bits + a->mvmu.input_bits;
		c[HW_C_shift_add].per_parent = a->mvmu.shift_add_units;
		e[HW_ACT_shift_add] = T(sa_pj_per_bit) * bits * s.e_dig;
		c[HW_C_shift_add].area_um2 = T(sa_area_um2_per_bit) * bits * s.area;
		c[HW_C_shift_add].leak_w = c[HW_C_shift_add].area_um2 * logic_leak;
		c[HW_C_shift_add].peak_rate_per_s = C * S * Cin / a->mvmu.shift_add_units / mvm_s;
		c[HW_C_shift_add].peak_action = HW_ACT_shift_add;
	}

	/* MVMU input and output registers (full rate: 16 bytes per cycle) */
	if (a->mvmu.in_reg_bytes) {
		double b = (double)a->mvmu.in_reg_bytes;
		c[HW_C_in_reg].per_parent = 1;
		e[HW_ACT_in_reg_byte] = hw_rf_pj_per_byte(b) * s.e_dig;
		c[HW_C_in_reg].area_um2 = hw_rf_area_um2(b) * s.area;
		c[HW_C_in_reg].leak_w = mem_leak_w(b, 0);
		c[HW_C_in_reg].peak_rate_per_s = 16 * clk;
		c[HW_C_in_reg].peak_action = HW_ACT_in_reg_byte;
	}
	if (a->mvmu.out_reg_bytes) {
		double b = (double)a->mvmu.out_reg_bytes;
		c[HW_C_out_reg].per_parent = 1;
		e[HW_ACT_out_reg_byte] = hw_rf_pj_per_byte(b) * s.e_dig;
		c[HW_C_out_reg].area_um2 = hw_rf_area_um2(b) * s.area;
		c[HW_C_out_reg].leak_w = mem_leak_w(b, 0);
		c[HW_C_out_reg].peak_rate_per_s = 16 * clk;
		c[HW_C_out_reg].peak_action = HW_ACT_out_reg_byte;
	}

	/* core: VFU, SBU, SEL lanes; scalar unit; register file; scratchpad; instruction memory */
	c[HW_C_vfu].per_parent = a->core.vfu_lanes;
	e[HW_ACT_vfu_op] = T(vfu_pj_per_lane_op) * s.e_dig;
	c[HW_C_vfu].area_um2 = T(vfu_area_um2_per_lane) * s.area;
	c[HW_C_vfu].peak_rate_per_s = clk;
	c[HW_C_vfu].peak_action = HW_ACT_vfu_op;
	e[HW_ACT_sbu_op] = T(sbu_pj_per_lane_op) * s.e_dig;
	if (a->core.has_sbu) {
		c[HW_C_sbu].per_parent = a->core.vfu_lanes;
		c[HW_C_sbu].area_um2 = T(sbu_area_um2_per_lane) * s.area;
		c[HW_C_sbu].peak_rate_per_s = clk;
		c[HW_C_sbu].peak_action = HW_ACT_sbu_op;
	}
	e[HW_ACT_sel_op] = T(sel_pj_per_lane_op) * s.e_dig;
	if (a->core.has_sel) {
		c[HW_C_sel].per_parent = a->core.vfu_lanes;
		c[HW_C_sel].area_um2 = T(sel_area_um2_per_lane) * s.area;
		c[HW_C_sel].peak_rate_per_s = clk;
		c[HW_C_sel].peak_action = HW_ACT_sel_op;
	}
	c[HW_C_scalar].per_parent = 1;
	e[HW_ACT_scalar_op] = T(scalar_pj_per_op) * s.e_dig;
	c[HW_C_scalar].area_um2 = T(scalar_area_um2) * s.area;
	c[HW_C_scalar].peak_rate_per_s = clk;
	c[HW_C_scalar].peak_action = HW_ACT_scalar_op;
	{
		double b = a->core.regs * 4.0;
		c[HW_C_regfile].per_parent = 1;
		e[HW_ACT_regfile_access] = 4 * hw_rf_pj_per_byte(b) * s.e_dig;
		c[HW_C_regfile].area_um2 = hw_rf_area_um2(b) * s.area;
		c[HW_C_regfile].leak_w = mem_leak_w(b, 0);
		c[HW_C_regfile].peak_rate_per_s = 3 * clk; /* two reads and a write */
		c[HW_C_regfile].peak_action = HW_ACT_regfile_access;
	}
	{
		double b = (double)a->core.spad_bytes;
		double port = 4.0 * a->core.vfu_lanes < 16 ? 16 : 4.0 * a->core.vfu_lanes;
		c[HW_C_spad].per_parent = 1;
		e[HW_ACT_spad_read_byte] = hw_rf_pj_per_byte(b) * s.e_dig;
		e[HW_ACT_spad_write_byte] = e[HW_ACT_spad_read_byte];
		c[HW_C_spad].area_um2 = hw_rf_area_um2(b) * s.area;
		c[HW_C_spad].leak_w = mem_leak_w(b, 0);
		c[HW_C_spad].peak_rate_per_s = port * clk;
		c[HW_C_spad].peak_action = HW_ACT_spad_read_byte;
	}
	{
		double b = a->core.imem_words * 8.0;
		c[HW_C_imem].per_parent = 1;
		e[HW_ACT_imem_fetch] = 8 * hw_rf_pj_per_byte(b) * s.e_dig;
		c[HW_C_imem].area_um2 = hw_rf_area_um2(b) * s.area;
		c[HW_C_imem].leak_w = mem_leak_w(b, 0);
		c[HW_C_imem].peak_rate_per_s = clk;
		c[HW_C_imem].peak_action = HW_ACT_imem_fetch;
	}
	c[HW_C_vfu].leak_w = c[HW_C_vfu].area_um2 * logic_leak;
	c[HW_C_sbu].leak_w = c[HW_C_sbu].area_um2 * logic_leak;
	c[HW_C_sel].leak_w = c[HW_C_sel].area_um2 * logic_leak;
	c[HW_C_scalar].leak_w = c[HW_C_scalar].area_um2 * logic_leak;

	/* tile memory: banks of mem_bytes/banks, one mem_port_bits access per bank per cycle */
	{
		int edram = a->tile.mem_tech == HW_MEM_EDRAM;
		double bank = (double)a->tile.mem_bytes / a->tile.mem_banks;
		double epb = (edram ? T(edram_pj_per_byte) : T(sram_mem_pj_per_byte)) *
		             sqrt(bank / 32768.0) * s.e_dig;
		c[HW_C_tilemem].per_parent = 1;
		e[HW_ACT_tilemem_read_byte] = epb;
		e[HW_ACT_tilemem_write_byte] = epb;
		c[HW_C_tilemem].area_um2 =
		    a->tile.mem_banks *
		    (T(mem_bank_fixed_um2) +
		     bank * 8 * (edram ? T(edram_um2_per_bit) : T(sram_um2_per_bit))) *
		    s.area;
		c[HW_C_tilemem].leak_w = mem_leak_w((double)a->tile.mem_bytes, edram);
		c[HW_C_tilemem].peak_rate_per_s = x->tmem_bytes_per_cycle * clk;
		c[HW_C_tilemem].peak_action = HW_ACT_tilemem_read_byte;
	}
	/* tile bus: its wires run past every MVMU of the tile */
	{
		double drops = (double)x->mvmus_per_tile;
		c[HW_C_bus].per_parent = 1;
		e[HW_ACT_tile_bus_byte] = 8 * T(bus_fj_per_bit_drop) * 1e-3 * drops * s.e_dig;
		c[HW_C_bus].area_um2 = T(bus_um2_per_wire_drop) * a->tile.bus_bits * drops * s.area;
		c[HW_C_bus].peak_rate_per_s = a->tile.bus_bits / 8.0 * clk;
		c[HW_C_bus].peak_action = HW_ACT_tile_bus_byte;
	}
	/* send and receive buffers (one instance = the pair) */
	{
		double sb = (double)a->tile.send_buf_bytes, rb = (double)a->tile.recv_buf_bytes;
		c[HW_C_netbuf].per_parent = 1;
		e[HW_ACT_netbuf_byte] =
		    0.5 * (hw_rf_pj_per_byte(sb) + hw_rf_pj_per_byte(rb)) * s.e_dig;
		c[HW_C_netbuf].area_um2 = (hw_rf_area_um2(sb) + hw_rf_area_um2(rb)) * s.area;
		c[HW_C_netbuf].leak_w = mem_leak_w(sb + rb, 0);
		c[HW_C_netbuf].peak_rate_per_s = 2 * a->noc.flit_bits / 8.0 * clk;
		c[HW_C_netbuf].peak_action = HW_ACT_netbuf_byte;
	}
	/* router: every port moves a flit per cycle at peak */
	c[HW_C_router].per_parent = 1; /* shared by noc.tiles_per_router tiles */
	e[HW_ACT_noc_flit_hop] = a->noc.router_pj_per_bit * a->noc.flit_bits;
	c[HW_C_router].area_um2 = T(router_um2_per_port2_bit) * a->noc.router_ports *
	                          a->noc.router_ports * a->noc.flit_bits * s.area;
	c[HW_C_router].leak_w = c[HW_C_router].area_um2 * logic_leak;
	c[HW_C_router].peak_rate_per_s = a->noc.router_ports * clk;
	c[HW_C_router].peak_action = HW_ACT_noc_flit_hop;
	/* off-chip interface at full bandwidth */
	c[HW_C_dram].per_parent = 1;
	e[HW_ACT_dram_byte] = 8 * a->dram.energy_pj_per_bit;
	c[HW_C_dram].area_um2 = a->dram.phy_area_mm2 * 1e6;
	c[HW_C_dram].peak_rate_per_s = a->dram.bandwidth_gb_per_s * 1e9;
	c[HW_C_dram].peak_action = HW_ACT_dram_byte;

	/* instance counts per tile and on the chip */
	{
		int k;
		for (k = 0; k < HW_NCOMPS; k++) {
			HwCompReport *cm = &c[k];
			double per_tile = (double)cm->per_parent;
			switch (hw_comps[k].level) {
			case HW_L_MVMU:
				per_tile *= (double)x->mvmus_per_tile;
				break;
			case HW_L_CORE:
				per_tile *= a->tile.cores;
				break;
			case HW_L_TILE:
				if (k == HW_C_router)
					per_tile /= a->noc.tiles_per_router;
				break;
			default:
				per_tile = 0;
				break;
			}
			cm->per_tile = per_tile;
			cm->chip_count = hw_comps[k].level == HW_L_CHIP
			                     ? cm->per_parent
			                     : (int64_t)llround(per_tile * a->chip.tiles);
			cm->peak_w = cm->leak_w;
			if (cm->peak_rate_per_s > 0)
				cm->peak_w += e[cm->peak_action] * 1e-12 * cm->peak_rate_per_s;
		}
	}
}
