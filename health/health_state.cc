#include "health/health_state.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace sluice::health {
namespace {

uint32_t SaturatingIncrement(uint32_t n) {
  return n == std::numeric_limits<uint32_t>::max() ? n : n + 1;
}

}  // namespace

std::string_view ToString(Health h) {
  switch (h) {
    case Health::kUp:
      return "up";
    case Health::kDown:
      return "down";
  }
  return "unknown";
}

HealthState::HealthState(RiseFall rise_fall, Health initial)
    : rise_fall_{.rise = std::max<uint32_t>(rise_fall.rise, 1),
                 .fall = std::max<uint32_t>(rise_fall.fall, 1)},
      health_(initial) {}

std::optional<Health> HealthState::Record(bool success) {
  if (success) {
    consecutive_failures_ = 0;
    consecutive_successes_ = SaturatingIncrement(consecutive_successes_);
    if (health_ == Health::kDown && consecutive_successes_ >= rise_fall_.rise) {
      health_ = Health::kUp;
      return health_;
    }
  } else {
    consecutive_successes_ = 0;
    consecutive_failures_ = SaturatingIncrement(consecutive_failures_);
    if (health_ == Health::kUp && consecutive_failures_ >= rise_fall_.fall) {
      health_ = Health::kDown;
      return health_;
    }
  }
  return std::nullopt;
}

}  // namespace sluice::health
