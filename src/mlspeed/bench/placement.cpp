#include "mlspeed/bench/placement.h"

#include <stdexcept>

namespace mlspeed {

Placement Placement::data_parallel(DeviceFacts first, int world_size) {
  if (world_size < 1) throw std::invalid_argument("a data-parallel placement needs at least one rank");
  Placement p(std::move(first));
  p.data_parallel_ = true;
  p.world_size_ = world_size;
  return p;
}

std::string Placement::label() const {
  return data_parallel_ ? primary_.id + " ddp x" + std::to_string(world_size_) : primary_.id;
}

}  // namespace mlspeed
