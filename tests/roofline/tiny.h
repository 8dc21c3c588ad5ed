/* tiny.h: the small architecture of the roofline tests, whose numbers are worked out by hand in
 * test_rf_bounds.c and docs/roofline.md ("Worked example"). */
#ifndef RF_TEST_TINY_H
#define RF_TEST_TINY_H

/* 1 tile x 1 core x 2 MVMUs of 64 x 64 8-bit weights in 2-bit cells (S = 4 slices), 8-bit inputs
 * through 1-bit DACs (Cin = 8 input cycles), one 1 GS/s ADC per crossbar, 1 GHz clock, tile
 * memory 1 bank x 64 bits = 8 B/cycle, DRAM 1 GB/s with 100 ns latency. */
static const char tiny_yaml[] = "name: tiny\n"
                                "node_nm: 32\n"
                                "clock:\n  core_ghz: 1.0\n"
                                "chip:\n  tiles: 1\n  mesh_rows: 1\n  mesh_cols: 1\n"
                                "dram:\n  bandwidth_gb_per_s: 1\n  latency_ns: 100\n"
                                "tile:\n  cores: 1\n  mem_banks: 1\n  mem_port_bits: 64\n"
                                "core:\n  mvmus: 2\n  vfu_lanes: 4\n"
                                "mvmu:\n  tech: reram\n  rows: 64\n  cols: 64\n"
                                "  cell_bits: 2\n  weight_bits: 8\n  input_bits: 8\n"
                                "  dac_bits: 1\n  adcs_per_xbar: 1\n  adc_bits: 8\n"
                                "  adc_rate_gsps: 1.0\n  read_ns: 10\n  write_row_ns: 100\n";

#endif
