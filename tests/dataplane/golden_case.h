// A golden-packet case as read from its file (format: tests/dataplane/README.md): the
// config it runs under, the MAC of each port's NIC, steps of input frames with their
// expected verdicts and the exact frames expected out, and the counters that must move.
#ifndef SLUICE_TESTS_DATAPLANE_GOLDEN_CASE_H_
#define SLUICE_TESTS_DATAPLANE_GOLDEN_CASE_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice::golden {

using Frame = std::vector<uint8_t>;

// What became of an input frame (or, in Step::held, of a frame held in an earlier step).
struct Verdict {
  enum class Kind : uint8_t { kForward, kReply, kNatReply, kSlowPath, kDrop };
  Kind kind = Kind::kForward;
  std::string drop_label;  // kDrop only: a label from dataplane/drop_reason.h

  std::string ToString() const;
};

struct FrameOnPort {
  std::string port;  // a port name from the config
  Frame frame;
  Verdict verdict;  // inputs only
  int line = 0;     // in the case file, for messages
};

struct Step {
  uint64_t advance_ms = 0;  // the control thread's clock moves this much first
  std::vector<FrameOnPort> in;
  std::vector<FrameOnPort> out;  // in transmit order on each port
  // Fates decided in this step of frames held (verdict slow_path) in earlier steps or in
  // this one: forward (released after ARP resolution) or drop:LABEL.
  std::vector<Verdict> held;
  int line = 0;
};

struct GoldenCase {
  std::string file;
  std::string description;
  std::string config_file;  // absolute (resolved against the case file's directory)
  std::map<std::string, std::array<uint8_t, 6>> port_macs;  // config port name -> NIC MAC
  std::vector<Step> steps;
  std::map<std::string, uint64_t> counters;  // name -> exact change over the case
  uint64_t mbufs_held_at_end = 0;            // packets legitimately still held (waiting for ARP)
};

absl::StatusOr<GoldenCase> LoadCase(const std::string& path);

// "0a 0b\n0c" -> {0x0a, 0x0b, 0x0c}; whitespace anywhere between pairs.
absl::StatusOr<Frame> ParseHex(std::string_view text);

}  // namespace sluice::golden

#endif  // SLUICE_TESTS_DATAPLANE_GOLDEN_CASE_H_
