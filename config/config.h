// The typed, validated configuration model: what config::LoadFile returns. Every key is
// documented in docs/config.md (type, default, range, reloadable or restart-only); the
// defaults here are the documented ones.
#ifndef SLUICE_CONFIG_CONFIG_H_
#define SLUICE_CONFIG_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "config/ip_address.h"

namespace sluice::config {

enum class Protocol : uint8_t { kTcp, kUdp };
enum class Forwarding : uint8_t { kDr, kTunnel, kNat };
enum class Scheduler : uint8_t { kMaglev };
enum class HealthCheckType : uint8_t { kNone, kTcp, kHttp, kUdp };
// How a tcp check probes: a full connect(), or a half-open SYN on a raw socket.
enum class TcpCheckMode : uint8_t { kConnect, kSyn };

std::string_view ToString(Protocol p);
std::string_view ToString(Forwarding f);
std::string_view ToString(Scheduler s);
std::string_view ToString(HealthCheckType t);
std::string_view ToString(TcpCheckMode m);

inline constexpr uint32_t kDefaultTableSize = 65537;

struct Port {
  std::string name;
  std::string device;  // PCI address or DPDK vdev string
  std::optional<IpPrefix> address;
  std::optional<IpPrefix> address6;
  uint32_t mtu = 1500;

  friend bool operator==(const Port&, const Port&) = default;
};

struct Route {
  IpPrefix prefix;
  std::optional<IpAddress> via;  // absent: the prefix is on-link on `port`
  uint32_t metric = 0;
  std::string port;  // empty: the port whose address covers `via`

  friend bool operator==(const Route&, const Route&) = default;
};

struct Neighbor {
  IpAddress address;
  MacAddress mac;
  std::string port;  // empty: the port whose address covers `address`

  friend bool operator==(const Neighbor&, const Neighbor&) = default;
};

struct FlowTableConfig {
  uint32_t capacity = 1048576;  // IPv4 flows per worker
  uint32_t capacity6 = 262144;  // IPv6 flows per worker (keys are 40 bytes, not 16)
  absl::Duration tcp_timeout = absl::Seconds(300);
  absl::Duration udp_timeout = absl::Seconds(30);

  friend bool operator==(const FlowTableConfig&, const FlowTableConfig&) = default;
};

// How the dataplane resolves backend and gateway MACs (ARP, later ND).
struct NeighborCacheConfig {
  absl::Duration reachable_time = absl::Seconds(30);  // a learned MAC is trusted this long
  absl::Duration retry_interval = absl::Seconds(1);   // between unanswered requests
  uint32_t retries = 3;       // unanswered requests before an entry is marked failed
  uint32_t hold_packets = 3;  // packets held per unresolved neighbour (the rest dropped)

  friend bool operator==(const NeighborCacheConfig&, const NeighborCacheConfig&) = default;
};

struct DataplaneConfig {
  uint32_t workers = 1;
  bool idle_backoff = true;  // sleep when idle instead of busy-polling
  absl::Duration idle_sleep_max = absl::Microseconds(200);
  uint32_t rx_descriptors = 1024;  // per RX queue
  uint32_t tx_descriptors = 1024;  // per TX queue
  // ICMP errors a worker generates (frag-needed, packet too big): a token bucket.
  uint32_t icmp_errors_per_second = 1000;
  uint32_t icmp_error_burst = 100;
  std::vector<std::string> eal;
  std::vector<Port> ports;
  std::vector<Route> routes;
  std::vector<Neighbor> neighbors;
  std::optional<IpAddress> tunnel_source;
  FlowTableConfig flow_table;
  NeighborCacheConfig neighbor_cache;

  friend bool operator==(const DataplaneConfig&, const DataplaneConfig&) = default;
};

struct MetricsConfig {
  SocketAddress listen = {.address = *IpAddress::Parse("127.0.0.1"), .port = 9750};
  // false: no sluice_backend_* series (pools too large for a series per backend); the
  // service-level series stay. Reloadable.
  bool per_backend = true;

  friend bool operator==(const MetricsConfig&, const MetricsConfig&) = default;
};

struct ControlConfig {
  std::string socket = "/run/sluice/sluice.sock";
  // Empty: the socket is root's alone (0600). Else root:group, 0660, so that the group's
  // members may run sluicectl.
  std::string group;

  friend bool operator==(const ControlConfig&, const ControlConfig&) = default;
};

struct HealthCheck {
  HealthCheckType type = HealthCheckType::kTcp;
  std::optional<uint16_t> port;                    // absent: each backend's own port
  TcpCheckMode tcp_mode = TcpCheckMode::kConnect;  // tcp only
  std::string path = "/";                          // http only
  uint32_t expect_status = 200;                    // http only: the lowest status accepted
  uint32_t expect_status_max = 200;                // http only: the highest ("200-399" sets both)
  std::string body;                                // http only: a substring the body must contain
  std::string payload;                             // udp only: the datagram sent
  bool assume_up = false;                          // `assume`: the state before the first results
  absl::Duration interval = absl::Seconds(1);
  absl::Duration timeout = absl::Milliseconds(500);
  uint32_t rise = 2;
  uint32_t fall = 3;

  friend bool operator==(const HealthCheck&, const HealthCheck&) = default;
};

struct Backend {
  IpAddress address;
  uint16_t port = 0;  // defaults to the service port
  uint32_t weight = 100;
  bool drain = false;

  friend bool operator==(const Backend&, const Backend&) = default;
};

struct Service {
  std::string name;
  IpAddress vip;
  uint16_t port = 0;
  Protocol protocol = Protocol::kTcp;
  Forwarding forwarding = Forwarding::kDr;
  Scheduler scheduler = Scheduler::kMaglev;
  uint32_t table_size = kDefaultTableSize;
  bool answer_arp = true;  // answer ARP for the VIP (off when routers reach it another way)
  HealthCheck health_check;
  std::vector<Backend> backends;

  friend bool operator==(const Service&, const Service&) = default;
};

struct Config {
  DataplaneConfig dataplane;
  MetricsConfig metrics;
  ControlConfig control;
  std::vector<Service> services;

  size_t backend_count() const;

  friend bool operator==(const Config&, const Config&) = default;
};

}  // namespace sluice::config

#endif  // SLUICE_CONFIG_CONFIG_H_
