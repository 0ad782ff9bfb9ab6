// Rows and contexts for the results tests: one row with a distinct, non-default value in every
// field (so a field that is dropped or swapped anywhere shows up), and one failed row with
// every optional empty and a message that CSV and markdown must escape.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "mlspeed/results/context.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/results/result.h"

namespace mlspeed::testing {

inline HostFacts sample_host() {
  HostFacts h;
  h.hostname = "bench-01";
  h.os = "Linux 6.1.0 x86_64";
  h.cpu_model = "AMD EPYC 9654 96-Core Processor";
  h.logical_cpus = 192;
  h.physical_cores = 96;
  h.ram_bytes = 1622727786496;
  h.torch_threads = 94;
  h.torch_version = "1.13.1";
  h.cuda_version = "11.7";
  h.cudnn_version = "8.5.0";
  h.blas = "OpenBLAS 0.3.21";
  h.mlspeed_version = "0.1.0";
  h.build_type = "RelWithDebInfo";
  h.compiler = "GCC 12.2.0";
  h.sanitized = true;
  return h;
}

inline DeviceFacts sample_gpu() {
  DeviceFacts d;
  d.id = "cuda:1";
  d.kind = "cuda";
  d.index = 1;
  d.name = "NVIDIA H100 80GB HBM3";
  d.memory_bytes = 85520809984;
  d.compute_capability = "9.0";
  d.multiprocessors = 132;
  d.driver = "580.159.04";
  d.peak_flops = {{Precision::fp32, 66.9e12}, {Precision::tf32, 494.7e12}, {Precision::bf16, 989.4e12}};
  d.peak_source = "NVIDIA datasheet, dense";
  d.peak_bandwidth = 3.35e12;
  d.copy_bandwidth = 2.9e12;
  d.bandwidth_source = "NVIDIA datasheet; measured: best device-to-device copy of 512 MiB";
  return d;
}

inline RunContext sample_context() {
  RunContext c;
  c.started_at = "2026-01-02T03:04:05Z";
  c.command = "mlspeed run -w gpt2-train -d all";
  c.host = sample_host();
  DeviceFacts cpu;
  cpu.id = "cpu";
  cpu.kind = "cpu";
  cpu.name = c.host.cpu_model;
  cpu.memory_bytes = c.host.ram_bytes;
  cpu.peak_flops = {{Precision::fp32, 1.25e12}};
  cpu.peak_source = "measured (fp32 matmul)";
  c.devices = {cpu, sample_gpu()};
  c.tf32_default = true;
  c.cudnn_benchmark = true;
  c.graphs = true;
  c.kernels = KernelSet::mlspeed;
  return c;
}

// Every field differs from a default Result (a test checks this stays true as fields are added).
inline Result full_row() {
  Result r;
  r.run_id = 7;
  r.timestamp = "2026-01-02T03:04:06Z";
  r.workload = "gpt2-train";
  r.size = "tiny";
  r.job = Job::infer;
  r.device = "cuda:1";
  r.precision = Precision::bf16;
  r.weight_format = ModelFormat::bf16;
  r.weight_kernels = "dequantize+matmul";  // the job's own: the narrow table keeps its eight columns
  r.kernels = KernelSet::libtorch;
  r.batch = 12;
  r.seq_len = 345;
  r.new_tokens = 16;
  r.depth = 1024;
  r.repetition = 2;
  r.data_parallel = true;
  r.world_size = 2;
  r.weights = "/models/gpt2, \"small\"/model.safetensors";
  r.data = "IMDB aclImdb/train (25000 reviews)";
  r.status = Status::unsupported;
  r.message = "note: fused AdamW unavailable";
  r.warmup = 3;
  r.samples_ms = {1.5, 0.1 + 0.2, 1.0 / 3, 1e-300};
  r.summary = Summary{4, 1.0 / 3, 0.5333333333333333, 0.123456789012345678, 0.30000000000000004, 1.5, 0.2314814814};
  r.noise = "cv 23%, n=4";
  r.parameters = 124439808;
  r.model = "gpt2 124M BF16";
  r.model_bytes = 248879616;
  r.item_unit = "tokens";
  r.items_per_step = 4140;
  r.flops_per_item = 7.4663884800000001e8;
  r.items_per_s = 24576.5;
  r.tflops = 18.349;
  r.peak_tflops = 989.4;
  r.mfu = 0.018545583;
  r.peak_memory_bytes = 3221225472;
  r.first_token_ms = 0.25;
  r.ms_per_token = 0.0625;
  r.steps_per_job = 50;
  r.job_s = 0.0166666;
  r.scaling_efficiency = 0.93;
  r.allreduce_busbw_gb_s = 181.5;
  r.first_token_samples_ms = {0.25, 0.5};
  r.graphs = GraphUse::eager;
  r.graph_note = "recording the step as a CUDA graph failed: operation not permitted when stream is capturing";
  r.bytes_per_item = 2.5e8;
  r.gbps = 3911.5;
  r.peak_gbps = 3350;
  r.mbu = 0.8;
  r.joules_per_step = 1.25;
  r.joules_per_item = 0.078125;
  r.items_per_joule = 12.8;
  r.watts = 412.5;
  r.energy_source = "nvml energy counter";
  r.energy_note = "not available: the GPU was lost during the run (NVML: GPU is lost)";  // every field set
  r.clock_min_mhz = 1500;
  r.clock_median_mhz = 1980;
  r.temperature_max_c = 71;
  r.throttle = "power-cap,thermal";
  r.device_facts = sample_gpu();
  r.host = sample_host();
  r.tf32 = true;
  r.autocast = true;
  r.deterministic = true;
  r.cudnn_benchmark = true;
  return r;
}

// A row that ran out of memory: optionals empty, no samples, a message with a comma, a quote
// and a line break.
inline Result failed_row() {
  Result r = full_row();
  r.workload = "sd15-unet-infer";
  r.size = "full";
  r.status = Status::oom;
  r.message = "CUDA out of memory, tried to allocate \"2.5 GiB\"\nfree: 1.1 GiB";
  r.samples_ms.clear();
  r.summary = Summary{};
  r.noise.clear();
  r.items_per_s.reset();
  r.tflops.reset();
  r.peak_tflops.reset();
  r.mfu.reset();
  r.peak_memory_bytes.reset();
  r.first_token_ms.reset();
  r.ms_per_token.reset();
  r.job_s.reset();
  r.scaling_efficiency.reset();
  r.allreduce_busbw_gb_s.reset();
  r.gbps.reset();
  r.mbu.reset();
  r.joules_per_step.reset();
  r.joules_per_item.reset();
  r.items_per_joule.reset();
  r.watts.reset();
  r.energy_source.clear();
  r.clock_min_mhz.reset();
  r.clock_median_mhz.reset();
  r.temperature_max_c.reset();
  r.throttle.clear();
  r.first_token_samples_ms.clear();
  return r;
}

inline void expect_same_fields(const Result& expected, const Result& actual, const std::string& where) {
  for (const Field& f : result_fields()) {
    const Value want = f.get(expected);
    const Value got = f.get(actual);
    EXPECT_TRUE(want == got) << where << ", field " << f.name << ": expected '" << value_to_text(want)
                             << "', got '" << value_to_text(got) << "'";
  }
}

inline void expect_same_host(const HostFacts& a, const HostFacts& b) {
  EXPECT_EQ(a.hostname, b.hostname);
  EXPECT_EQ(a.os, b.os);
  EXPECT_EQ(a.cpu_model, b.cpu_model);
  EXPECT_EQ(a.logical_cpus, b.logical_cpus);
  EXPECT_EQ(a.physical_cores, b.physical_cores);
  EXPECT_EQ(a.ram_bytes, b.ram_bytes);
  EXPECT_EQ(a.torch_threads, b.torch_threads);
  EXPECT_EQ(a.torch_version, b.torch_version);
  EXPECT_EQ(a.cuda_version, b.cuda_version);
  EXPECT_EQ(a.cudnn_version, b.cudnn_version);
  EXPECT_EQ(a.blas, b.blas);
  EXPECT_EQ(a.mlspeed_version, b.mlspeed_version);
  EXPECT_EQ(a.build_type, b.build_type);
  EXPECT_EQ(a.compiler, b.compiler);
  EXPECT_EQ(a.sanitized, b.sanitized);
}

inline void expect_same_device(const DeviceFacts& a, const DeviceFacts& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.memory_bytes, b.memory_bytes);
  EXPECT_EQ(a.compute_capability, b.compute_capability);
  EXPECT_EQ(a.multiprocessors, b.multiprocessors);
  EXPECT_EQ(a.driver, b.driver);
  EXPECT_EQ(a.peak_flops, b.peak_flops);
  EXPECT_EQ(a.peak_source, b.peak_source);
}

inline void expect_same_context(const RunContext& a, const RunContext& b) {
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.command, b.command);
  expect_same_host(a.host, b.host);
  ASSERT_EQ(a.devices.size(), b.devices.size());
  for (size_t i = 0; i < a.devices.size(); ++i) expect_same_device(a.devices[i], b.devices[i]);
  EXPECT_EQ(a.tf32_default, b.tf32_default);
  EXPECT_EQ(a.deterministic, b.deterministic);
  EXPECT_EQ(a.cudnn_benchmark, b.cudnn_benchmark);
  EXPECT_EQ(a.graphs, b.graphs);
  EXPECT_EQ(a.kernels, b.kernels);
}

}  // namespace mlspeed::testing
