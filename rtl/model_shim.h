/* model_shim.h: the C interface of the verilated core (model_shim.cpp, the only C++ in kolmo).
 * Plain C: rtl/ C code includes this, never a Verilator header. One RtlModel is one instance of
 * kolmo_core.sv with its clock; the port names match the Verilog. */
#ifndef KOLMO_MODEL_SHIM_H
#define KOLMO_MODEL_SHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct RtlModel RtlModel;

/* The core's outputs after a rising edge. */
typedef struct RtlPorts {
	int retire_valid;
	uint32_t retire_pc;
	uint64_t retire_cycle; /* issue cycle */
	uint8_t retire_op;
	int retire_wen;
	uint8_t retire_reg;
	uint32_t retire_value;
	int halted, fault;
	uint8_t fault_code;
	uint64_t cycle; /* the cycle the core processes next */
	int dram_req, dram_we;
	uint32_t dram_addr;
	uint32_t dram_len;
	uint8_t dram_wdata[64];
} RtlPorts;

/* rtl_model_new: a model instance; vcd_path non-NULL dumps a VCD waveform there. NULL if the
 * waveform file cannot be opened. */
RtlModel *rtl_model_new(const char *vcd_path);
void rtl_model_free(RtlModel *m);
/* rtl_model_set_reset: drive rst (takes effect at the next clock). */
void rtl_model_set_reset(RtlModel *m, int on);
/* rtl_model_host_write: one clock with host_we = 1 (configuration and images while reset is
 * on; the replay registers and the tile memory while running, without advancing the core). */
void rtl_model_host_write(RtlModel *m, unsigned sel, uint32_t addr, uint64_t data);
/* rtl_model_host_read: the combinational host read port. */
uint64_t rtl_model_host_read(RtlModel *m, unsigned sel, uint32_t addr);
/* rtl_model_clock: one full clock period (falling then rising edge); the outputs after it. */
void rtl_model_clock(RtlModel *m, RtlPorts *out);
/* rtl_model_set_dram_rdata: the DRAM port's read data for the next rising edge. */
void rtl_model_set_dram_rdata(RtlModel *m, const uint8_t data[64]);
/* rtl_model_trace_flush: flush the waveform (if any). */
void rtl_model_trace_flush(RtlModel *m);

#ifdef __cplusplus
}
#endif
#endif
