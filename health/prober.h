// Prober: runs many health probes (tcp, tcp-syn, http, udp) at once from one thread, driven by one
// epoll loop. It lives on the health thread, off the workers; probes leave through the
// host's kernel stack (the management network), never through DPDK.
//
// Threads: a Prober is not thread-safe; one thread calls Start, Poll and in_flight.
// `done` is always called from Poll, never from inside Start, so a callback may Start the
// next probe.
#ifndef SLUICE_HEALTH_PROBER_H_
#define SLUICE_HEALTH_PROBER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "health/socket_address.h"

namespace sluice::health {

struct ProbeSpec {
  // kTcpSyn: a half-open check on a raw socket (syn_probe.h): SYN out, SYN-ACK or RST
  // back, never a connection. Without CAP_NET_RAW it runs as kTcp (the detail says so).
  enum Type { kTcp, kHttp, kUdp, kTcpSyn };
  Type type = kTcp;
  SocketAddress address;  // IPv4 or IPv6, with the port
  // The whole probe (connect, request, reply) must finish within this.
  absl::Duration timeout = absl::Seconds(2);

  // kHttp: GET `path` with `host` as the Host header (empty: the address literal).
  std::string path = "/";
  std::string host;
  // Success needs status_min <= status <= status_max ...
  uint32_t status_min = 200;
  uint32_t status_max = 399;
  // ... and, when set, this substring within the first kMaxHttpBodyBytes of the body.
  std::string body_contains;

  // kUdp: the datagram to send (may be empty); any reply datagram is success.
  std::string payload;
};

struct ProbeResult {
  bool success = false;
  // Why, for logs and the admin endpoint: "connected", "connect refused", "syn-ack",
  // "reset (port closed)", "status 503", "timeout after 500ms", ...
  std::string detail;
  absl::Duration elapsed;  // from Start to the verdict
  bool timed_out = false;  // failed because the probe's timeout passed (not success)
};

// The most of an HTTP body a probe reads; a body_contains match must be within it.
inline constexpr size_t kMaxHttpBodyBytes = size_t{64} * 1024;

class HttpTransfer;  // http_transfer.h
class SynProber;     // syn_probe.h

class Prober {
 public:
  using DoneCallback = std::function<void(uint64_t token, ProbeResult result)>;

  // Fails only when the kernel refuses an epoll instance or libcurl cannot start.
  static absl::StatusOr<std::unique_ptr<Prober>> Create();
  ~Prober();  // drops probes still in flight without calling their `done`
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // Begins a probe; `done(token, result)` runs exactly once, from a later Poll. Errors
  // found at once (bad address, no file descriptors) are reported the same way.
  void Start(uint64_t token, const ProbeSpec& spec, DoneCallback done);

  // Waits up to `max_wait` (less when a probe's deadline comes first) for socket events,
  // handles those that arrived and the deadlines that passed, then calls `done` for every
  // probe that finished. One round: callers loop.
  void Poll(absl::Duration max_wait);

  // Probes started whose `done` has not run yet.
  size_t in_flight() const { return probes_.size() + finished_.size(); }

 private:
  struct Probe;
  struct Finished {
    uint64_t token;
    DoneCallback done;
    ProbeResult result;
  };

  explicit Prober(int epoll_fd);

  void StartTcp(uint64_t id, Probe& probe, const ProbeSpec& spec);
  void StartUdp(uint64_t id, Probe& probe, const ProbeSpec& spec);
  void StartHttp(uint64_t id, Probe& probe, const ProbeSpec& spec);
  void StartSyn(uint64_t id, Probe& probe, const ProbeSpec& spec);
  void OnSynReadable(int fd);
  void OnTcpEvent(uint64_t id, uint32_t events);
  void OnUdpEvent(uint64_t id);
  void DrainCurlMessages();
  // Ends a probe: releases its socket or transfer and queues its `done`.
  void Finish(uint64_t id, bool success, std::string detail, bool timed_out = false);

  // libcurl's multi-socket callbacks (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION).
  struct CurlCallbacks;
  friend struct CurlCallbacks;
  void WatchCurlSocket(int fd, int what);

  int epoll_fd_ = -1;
  void* multi_ = nullptr;  // CURLM*, kept out of this header
  uint64_t next_id_ = 1;   // internal ids: tokens need not be unique
  absl::flat_hash_map<uint64_t, std::unique_ptr<Probe>> probes_;
  std::set<std::pair<absl::Time, uint64_t>> deadlines_;
  std::vector<Finished> finished_;
  absl::flat_hash_set<int> curl_fds_;     // sockets libcurl asked us to watch
  std::optional<absl::Time> curl_timer_;  // when libcurl wants CURL_SOCKET_TIMEOUT
  // Made at the first kTcpSyn probe; when that fails (no CAP_NET_RAW), syn_error_ says
  // why, it is logged once and kTcpSyn probes run as kTcp from then on.
  std::unique_ptr<SynProber> syn_;
  std::optional<std::string> syn_error_;
};

}  // namespace sluice::health

#endif  // SLUICE_HEALTH_PROBER_H_
