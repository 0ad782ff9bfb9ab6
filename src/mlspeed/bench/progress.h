// Progress of a sweep on stderr: the configuration, the iteration and the time left. Shown only
// when stderr is a terminal; otherwise nothing extra is printed.
#pragma once

#include <memory>
#include <string>

#include "mlspeed/bench/plan.h"
#include "mlspeed/results/result.h"

namespace mlspeed {

class Progress {
 public:
  virtual ~Progress() = default;
  virtual void begin(const Configuration& config, int index, int total) = 0;
  virtual void phase(const std::string& what) = 0;  // "building model", "warm-up 1/2"
  // `planned` is 0 when timing runs until a minimum time; `seconds_left` covers the whole sweep.
  virtual void iteration(int done, int planned, double last_ms, double seconds_left) = 0;
  virtual void end(const Result& result) = 0;
};

// The live line of core/live_line.h (pass LiveLine::on_stderr().active()), or nothing.
std::unique_ptr<Progress> make_progress(bool terminal);

// One line naming a configuration: "bert-base-infer full cuda:0 bf16 b=4 s=512".
std::string describe(const Configuration& config);

}  // namespace mlspeed
