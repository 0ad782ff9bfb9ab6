#include "mlspeed/device/stepped_counter.h"

namespace mlspeed {

void SteppedCounter::start(double t, double value) {
  last_t_ = t;
  last_value_ = value;
  first_.reset();
  last_.reset();
  steps_ = 0;
}

void SteppedCounter::read(double t, double value) {
  if (value != last_value_) {
    const Step step{(last_t_ + t) / 2, value};
    if (!first_) first_ = step;
    last_ = step;
    ++steps_;
  }
  last_t_ = t;
  last_value_ = value;
}

std::optional<double> SteppedCounter::rate(double min_span) const {
  if (steps_ < 2 || last_->t - first_->t < min_span || last_->t <= first_->t) return std::nullopt;
  return (last_->value - first_->value) / (last_->t - first_->t);
}

std::optional<double> SteppedCounter::step_seconds() const {
  if (steps_ < 2) return std::nullopt;
  return (last_->t - first_->t) / (steps_ - 1);
}

}  // namespace mlspeed
