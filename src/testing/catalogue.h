// The catalogue's workloads and their sessions, as the workload tests reach them.
#pragma once

#include <c10/core/Device.h>

#include <stdexcept>
#include <string>

#include "mlspeed/workloads/workload.h"

namespace mlspeed::testing {

inline const c10::Device kCpu(c10::kCPU);

inline const Workload& catalogue_workload(const std::string& name) {
  const Workload* w = find_workload(name);
  if (!w) throw std::runtime_error(name + " is not in the catalogue");
  return *w;
}

// The concrete session a workload opened, for the tests that look inside it.
template <class SessionType> SessionType& session_as(Session& session) { return dynamic_cast<SessionType&>(session); }

}  // namespace mlspeed::testing
