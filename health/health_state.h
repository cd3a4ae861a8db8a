#ifndef SLUICE_HEALTH_HEALTH_STATE_H_
#define SLUICE_HEALTH_HEALTH_STATE_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::health {

enum class Health : uint8_t { kUp, kDown };

std::string_view ToString(Health h);  // "up" / "down"

// Thresholds of the hysteresis: how many identical results in a row it takes to change
// state. A value of 0 is treated as 1 (the config validator rejects 0; this keeps the
// state machine total rather than undefined).
struct RiseFall {
  uint32_t rise = 2;  // consecutive successes that bring a Down backend Up
  uint32_t fall = 3;  // consecutive failures that bring an Up backend Down
};

// The rise/fall state machine of one backend check, fed one probe result at a time.
//
//   - A Down backend becomes Up on the `rise`-th consecutive success.
//   - An Up backend becomes Down on the `fall`-th consecutive failure.
//   - A result opposite to the current run starts a new run of length 1, so a check that
//     flaps faster than rise/fall never changes state.
//   - Results that agree with the current state (success while Up, failure while Down)
//     change nothing but the counters.
//
// The counters always describe the current run of identical results, independent of the
// state: after S,S,F they are successes 0, failures 1. They saturate rather than wrap.
// A state change does not reset them: after Down --S,S--> Up (rise 2) the success run is
// 2 and keeps growing with further successes.
//
// Not thread-safe; owned by the health thread. No clock: timeouts are failures the
// prober reports like any other.
class HealthState {
 public:
  // `initial` is the state before any result: the config's `assume: up` or `down`.
  explicit HealthState(RiseFall rise_fall, Health initial);

  // Records one probe result. Returns the new state if this result changed it, nullopt
  // otherwise.
  std::optional<Health> Record(bool success);

  Health health() const { return health_; }
  RiseFall rise_fall() const { return rise_fall_; }
  uint32_t consecutive_successes() const { return consecutive_successes_; }
  uint32_t consecutive_failures() const { return consecutive_failures_; }

 private:
  RiseFall rise_fall_;
  Health health_;
  uint32_t consecutive_successes_ = 0;
  uint32_t consecutive_failures_ = 0;
};

}  // namespace sluice::health

#endif  // SLUICE_HEALTH_HEALTH_STATE_H_
