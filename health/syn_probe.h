// SynProber: half-open ("SYN") TCP probes on two raw sockets, the way LVS/Katran-style
// checkers and `nmap -sS` probe. We send a SYN we built; a SYN-ACK acknowledging it means
// the port is open, a RST means it is closed, silence until the deadline means timeout.
// The handshake is never completed: the kernel finds no socket for the SYN-ACK and
// answers it with a RST itself, which frees the backend's half-open entry at once. No
// socket, connection hash entry, ACK or teardown per probe: that is the saving over
// connect() (bench/RESULTS.md).
//
// Source ports come from a fixed range, [kSynSourcePortFirst, +kSynSourcePortCount),
// that must lie outside the kernel's ephemeral range (net.ipv4.ip_local_port_range);
// Create checks it. A (backend, port, source port) triple is never reused while a probe
// on it is in flight.
//
// Needs CAP_NET_RAW; Create fails with PermissionDenied without it (the Prober then
// falls back to connect probes).
//
// Threads: not thread-safe; the Prober's thread owns it. It never blocks.
#ifndef SLUICE_HEALTH_SYN_PROBE_H_
#define SLUICE_HEALTH_SYN_PROBE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "health/socket_address.h"

namespace sluice::health {

// Above Linux's default ephemeral range (32768-60999), below the top of the port space.
inline constexpr uint16_t kSynSourcePortFirst = 61000;
inline constexpr uint16_t kSynSourcePortCount = 1000;

class SynProber {
 public:
  struct Reply {
    uint64_t id = 0;
    bool syn_ack = false;  // false: RST (the port is closed)
  };

  // Opens the IPv4 and IPv6 raw sockets with their filters. Fails without CAP_NET_RAW
  // (PermissionDenied) or when the source-port range overlaps ip_local_port_range
  // (FailedPrecondition). A host without IPv6 gets an IPv4-only prober.
  static absl::StatusOr<std::unique_ptr<SynProber>> Create();
  ~SynProber();
  SynProber(const SynProber&) = delete;
  SynProber& operator=(const SynProber&) = delete;

  // The raw sockets to watch for EPOLLIN; -1 when the family is unavailable.
  int fd4() const { return fd4_; }
  int fd6() const { return fd6_; }

  // Sends the SYN of probe `id` (unique among probes in flight) to `dst`. On error
  // nothing is in flight for `id`.
  absl::Status Send(uint64_t id, const SocketAddress& dst);

  // Forgets probe `id` (answered, timed out or abandoned) and frees its source port. A
  // timeout also forgets the cached source address towards that backend (the route may
  // have changed). Unknown ids are ignored.
  void Release(uint64_t id, bool timed_out = false);

  // Reads every segment queued on `fd` (fd4() or fd6()) and appends a Reply for each
  // SYN-ACK or RST that answers a probe in flight (the probe is released). Segments that
  // answer nothing of ours (stale, forged, another tool's) are dropped.
  void Drain(int fd, std::vector<Reply>* out);

  size_t in_flight() const { return by_id_.size(); }

 private:
  // A probe on the wire, as a reply names it: the backend is the reply's source.
  struct FlowKey {
    int family = 0;
    std::array<uint8_t, 16> backend{};  // network order; IPv4 in the first 4 bytes
    uint16_t backend_port = 0;
    uint16_t source_port = 0;

    friend bool operator==(const FlowKey&, const FlowKey&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const FlowKey& k) {
      return H::combine(std::move(h), k.family, k.backend, k.backend_port, k.source_port);
    }
  };
  struct InFlight {
    FlowKey key;
    uint32_t seq = 0;  // our ISN: an answer acknowledges seq + 1
  };
  struct SourceAddress {
    uint32_t address = 0;  // network order
    absl::Time expires;
  };

  SynProber(int fd4, int fd6);

  // The IPv4 source address the kernel would use towards `dst` (cached).
  absl::StatusOr<uint32_t> SourceFor(uint32_t dst);
  void OnSegment(int family, const std::array<uint8_t, 16>& from, const uint8_t* tcp, size_t len,
                 std::vector<Reply>* out);

  int fd4_ = -1;
  int fd6_ = -1;
  std::mt19937 rng_;
  absl::flat_hash_map<FlowKey, uint64_t> by_flow_;
  absl::flat_hash_map<uint64_t, InFlight> by_id_;
  absl::flat_hash_map<uint32_t, SourceAddress> sources_;  // by IPv4 destination
};

}  // namespace sluice::health

#endif  // SLUICE_HEALTH_SYN_PROBE_H_
