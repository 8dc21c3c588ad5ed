// model_shim.cpp: the thin C++ shim around the verilated kolmo_core (Vkolmo_core): clocking, the
// host port, the DRAM port and the optional VCD waveform, behind the C API of model_shim.h.
#include "model_shim.h"

#include <cstring>

#include "Vkolmo_core.h"
#include "verilated.h"
#include "verilated_vcd_c.h"

struct RtlModel {
	VerilatedContext *ctx;
	Vkolmo_core *top;
	VerilatedVcdC *vcd;
};

static void
half(RtlModel *m, int clk)
{
	m->top->clk = clk;
	m->top->eval();
	if (m->vcd)
		m->vcd->dump(m->ctx->time());
	m->ctx->timeInc(1);
}

extern "C" RtlModel *
rtl_model_new(const char *vcd_path)
{
	RtlModel *m = new RtlModel;
	m->ctx = new VerilatedContext;
	m->vcd = nullptr;
	if (vcd_path)
		m->ctx->traceEverOn(true);
	m->top = new Vkolmo_core{m->ctx, "kolmo_core"};
	if (vcd_path) {
		m->vcd = new VerilatedVcdC;
		m->top->trace(m->vcd, 99);
		m->vcd->open(vcd_path);
		if (!m->vcd->isOpen()) {
			rtl_model_free(m);
			return nullptr;
		}
	}
	m->top->clk = 0;
	m->top->rst = 1;
	m->top->host_we = 0;
	m->top->eval();
	return m;
}

extern "C" void
rtl_model_free(RtlModel *m)
{
	if (!m)
		return;
	m->top->final();
	if (m->vcd) {
		m->vcd->close();
		delete m->vcd;
	}
	delete m->top;
	delete m->ctx;
	delete m;
}

extern "C" void
rtl_model_set_reset(RtlModel *m, int on)
{
	m->top->rst = on ? 1 : 0;
}

extern "C" void
rtl_model_host_write(RtlModel *m, unsigned sel, uint32_t addr, uint64_t data)
{
	RtlPorts p;
	m->top->host_we = 1;
	m->top->host_sel = sel & 15;
	m->top->host_addr = addr;
	m->top->host_wdata = data;
	rtl_model_clock(m, &p);
	m->top->host_we = 0;
}

extern "C" uint64_t
rtl_model_host_read(RtlModel *m, unsigned sel, uint32_t addr)
{
	m->top->host_sel = sel & 15;
	m->top->host_addr = addr;
	m->top->eval();
	return m->top->host_rdata;
}

extern "C" void
rtl_model_clock(RtlModel *m, RtlPorts *o)
{
	Vkolmo_core *t = m->top;
	half(m, 0);
	half(m, 1);
	o->retire_valid = t->retire_valid;
	o->retire_pc = t->retire_pc;
	o->retire_cycle = t->retire_cycle;
	o->retire_op = t->retire_op;
	o->retire_wen = t->retire_wen;
	o->retire_reg = t->retire_reg;
	o->retire_value = t->retire_value;
	o->halted = t->halted;
	o->fault = t->fault;
	o->fault_code = t->fault_code;
	o->cycle = t->cycle;
	o->dram_req = t->dram_req;
	o->dram_we = t->dram_we;
	o->dram_addr = t->dram_addr;
	o->dram_len = t->dram_len;
	if (t->dram_req && t->dram_we)
		for (int i = 0; i < 16; i++) {
			uint32_t w = t->dram_wdata[i];
			std::memcpy(o->dram_wdata + 4 * i, &w, 4); // little-endian host
		}
}

extern "C" void
rtl_model_set_dram_rdata(RtlModel *m, const uint8_t data[64])
{
	for (int i = 0; i < 16; i++) {
		uint32_t w;
		std::memcpy(&w, data + 4 * i, 4);
		m->top->dram_rdata[i] = w;
	}
}

extern "C" void
rtl_model_trace_flush(RtlModel *m)
{
	if (m->vcd)
		m->vcd->flush();
}
