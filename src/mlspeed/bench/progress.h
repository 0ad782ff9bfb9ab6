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

// The time left in a sweep, for the progress line: what remains of the current configuration,
// plus each configuration still to come at the mean wall time of a configuration so far (those
// finished and the current one, counted at its elapsed time plus what remains of it). Model
// building, warm-up and timing all count, since each configuration to come has them too.
struct SweepTime {
  double finished_seconds = 0;  // wall time of the configurations finished
  int finished = 0;
  double current_elapsed = 0;  // the current configuration's wall time so far
  double current_left = 0;     // its timing still to do (from its iterations' mean)
  int to_come = 0;             // configurations after the current one
};
double seconds_left(const SweepTime& sweep);

// One line naming a configuration: "bert-base-infer full cuda:0 bf16 b=4 s=512".
std::string describe(const Configuration& config);

}  // namespace mlspeed
