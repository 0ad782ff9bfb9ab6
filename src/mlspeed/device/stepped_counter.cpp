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
    ++steps_;
    if (t - last_t_ <= max_bracket_) {
      const Step step{(last_t_ + t) / 2, value, steps_};
      if (!first_) first_ = step;
      last_ = step;
    }
  }
  last_t_ = t;
  last_value_ = value;
}

std::optional<double> SteppedCounter::rate(double min_span) const {
  if (!first_ || last_->index == first_->index || last_->t - first_->t < min_span || last_->t <= first_->t)
    return std::nullopt;
  return (last_->value - first_->value) / (last_->t - first_->t);
}

std::optional<double> SteppedCounter::step_seconds() const {
  if (!first_ || last_->index == first_->index) return std::nullopt;
  return (last_->t - first_->t) / (last_->index - first_->index);
}

}  // namespace mlspeed
