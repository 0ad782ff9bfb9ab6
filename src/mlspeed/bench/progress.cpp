#include "mlspeed/bench/progress.h"

#include "mlspeed/core/live_line.h"
#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

class NoProgress : public Progress {
 public:
  void begin(const Configuration&, int, int) override {}
  void phase(const std::string&) override {}
  void iteration(int, int, double, double) override {}
  void end(const Result&) override {}
};

class TerminalProgress : public Progress {
 public:
  void begin(const Configuration& config, int index, int total) override {
    prefix_ = printf_string("[%d/%d] %s", index + 1, total, describe(config).c_str());
    show(prefix_, true);
  }
  void phase(const std::string& what) override { show(prefix_ + " · " + what, true); }
  void iteration(int done, int planned, double last_ms, double seconds_left) override {
    const std::string count = planned > 0 ? printf_string("%d/%d", done, planned) : std::to_string(done);
    show(prefix_ + " · iter " + count + " · " + format_duration(last_ms / 1e3) + " · ~" +
             format_duration(seconds_left) + " left",
         false);
  }
  void end(const Result& r) override {
    std::string outcome = r.status == Status::ok
                              ? format_duration(r.summary.median / 1e3) + "/iter"
                              : std::string(name(r.status)) + ": " + r.message.substr(0, 80);
    LiveLine::on_stderr().settle(prefix_ + " · " + outcome);
  }

 private:
  void show(const std::string& line, bool force) { LiveLine::on_stderr().show(line, force); }

  std::string prefix_;
};

}  // namespace

std::unique_ptr<Progress> make_progress(bool terminal) {
  if (terminal) return std::make_unique<TerminalProgress>();
  return std::make_unique<NoProgress>();
}

double seconds_left(const SweepTime& s) {
  const double current_total = s.current_elapsed + s.current_left;
  const double mean = (s.finished_seconds + current_total) / (s.finished + 1);
  return s.current_left + s.to_come * mean;
}

std::string describe(const Configuration& c) {
  std::string s = c.workload->name() + " " + c.size + " " + c.placement.label() + " " + std::string(name(c.numerics.precision)) +
                  (c.numerics.weights ? " " + std::string(name(*c.numerics.weights)) : "") +
                  " b=" + std::to_string(c.shape.batch);
  if (c.shape.seq > 0) s += " s=" + std::to_string(c.shape.seq);
  if (c.repetition > 0) s += " rep " + std::to_string(c.repetition);
  return s;
}

}  // namespace mlspeed
