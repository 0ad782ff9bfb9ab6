// The fields of the machine a row was measured on (its device facts and host), shared by every
// row type that carries them (`device_facts` and `host` members: speed results, verify checks),
// under the same column names, so that one query can join the tables.
#pragma once

#include <vector>

#include "mlspeed/results/field_list.h"

namespace mlspeed {

template <class Row> std::vector<BasicField<Row>> machine_fields() {
#define MLSPEED_MACHINE_FIELD(name, help, expr) \
  make_field<Row>(name, help, [](auto& r) -> auto& { return r.expr; })
  return {
      MLSPEED_MACHINE_FIELD("device_name", "device model", device_facts.name),
      MLSPEED_MACHINE_FIELD("device_memory_bytes", "device memory", device_facts.memory_bytes),
      MLSPEED_MACHINE_FIELD("compute_capability", "CUDA compute capability", device_facts.compute_capability),
      MLSPEED_MACHINE_FIELD("multiprocessors", "CUDA multiprocessors", device_facts.multiprocessors),
      MLSPEED_MACHINE_FIELD("driver", "GPU driver version", device_facts.driver),
      MLSPEED_MACHINE_FIELD("peak_source", "where the peak FLOP/s comes from", device_facts.peak_source),
      MLSPEED_MACHINE_FIELD("hostname", "host name", host.hostname),
      MLSPEED_MACHINE_FIELD("os", "operating system", host.os),
      MLSPEED_MACHINE_FIELD("cpu_model", "CPU model", host.cpu_model),
      MLSPEED_MACHINE_FIELD("logical_cpus", "logical CPUs", host.logical_cpus),
      MLSPEED_MACHINE_FIELD("physical_cores", "physical CPU cores", host.physical_cores),
      MLSPEED_MACHINE_FIELD("ram_bytes", "host memory", host.ram_bytes),
      MLSPEED_MACHINE_FIELD("threads", "LibTorch intra-op threads", host.torch_threads),
      MLSPEED_MACHINE_FIELD("torch_version", "LibTorch version", host.torch_version),
      MLSPEED_MACHINE_FIELD("cuda_version", "CUDA runtime version", host.cuda_version),
      MLSPEED_MACHINE_FIELD("cudnn_version", "cuDNN version", host.cudnn_version),
      MLSPEED_MACHINE_FIELD("blas", "BLAS library in use", host.blas),
      MLSPEED_MACHINE_FIELD("mlspeed_version", "mlspeed version", host.mlspeed_version),
      MLSPEED_MACHINE_FIELD("build_type", "mlspeed build type", host.build_type),
      MLSPEED_MACHINE_FIELD("compiler", "compiler mlspeed was built with", host.compiler),
      MLSPEED_MACHINE_FIELD("sanitized", "built with sanitizers", host.sanitized),
  };
#undef MLSPEED_MACHINE_FIELD
}

}  // namespace mlspeed
