#ifndef SLUICE_HEALTH_PROBE_KEY_H_
#define SLUICE_HEALTH_PROBE_KEY_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/time/time.h"

namespace sluice::health {

// Kinds of probe that put packets on the wire. (A `none` check never probes, so it has
// no key.)
// kTcpSyn is a half-open check (syn_probe.h): the same port as kTcp but a different probe.
enum class ProbeType : uint8_t { kTcp, kHttp, kUdp, kTcpSyn };

enum class AddressFamily : uint8_t { kIpv4, kIpv6 };

// Identity of one probe: two checks with equal keys send the same packets to the same
// place and judge the answer the same way, so the health thread runs the probe once and
// feeds the result to both. Used when several services check the same backend the same
// way.
//
// Every field takes part in == and the hash, including the fields another type ignores.
// That errs on the safe side (two keys that could have shared a probe but differ in an
// unused field merely probe twice; two different probes are never merged); build keys
// with the Tcp/Http/Udp helpers, which leave the unused fields at their defaults, and
// the duplicates collapse.
//
// Plain values only: the controller translates config::HealthCheck and the backend
// address into this, so health/ needs nothing from config/.
struct ProbeKey {
  ProbeType type = ProbeType::kTcp;
  AddressFamily family = AddressFamily::kIpv4;
  // Network byte order. IPv4 uses the first 4 bytes; the rest stay zero.
  std::array<uint8_t, 16> address{};
  uint16_t port = 0;  // the port probed (the check's port, else the backend's)
  absl::Duration timeout = absl::Milliseconds(500);

  // http only.
  std::string http_path;
  uint32_t http_expect_status = 0;
  std::string http_body_substring;  // empty: the body is not inspected

  // udp only: the datagram sent (bytes, may hold NULs).
  std::string udp_payload;

  // For logs, e.g. `http 10.0.0.1:80 timeout=500ms path="/healthz" expect=200`.
  std::string ToString() const;

  friend bool operator==(const ProbeKey&, const ProbeKey&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const ProbeKey& k) {
    return H::combine(std::move(h), k.type, k.family, k.address, k.port, k.timeout, k.http_path,
                      k.http_expect_status, k.http_body_substring, k.udp_payload);
  }
};

// IPv4 address from its four bytes in network order (10.0.0.1 is {10, 0, 0, 1}).
std::array<uint8_t, 16> Ipv4Bytes(uint8_t a, uint8_t b, uint8_t c, uint8_t d);

ProbeKey TcpProbeKey(AddressFamily family, const std::array<uint8_t, 16>& address, uint16_t port,
                     absl::Duration timeout);
ProbeKey TcpSynProbeKey(AddressFamily family, const std::array<uint8_t, 16>& address, uint16_t port,
                        absl::Duration timeout);
ProbeKey HttpProbeKey(AddressFamily family, const std::array<uint8_t, 16>& address, uint16_t port,
                      absl::Duration timeout, std::string path, uint32_t expect_status,
                      std::string body_substring = "");
ProbeKey UdpProbeKey(AddressFamily family, const std::array<uint8_t, 16>& address, uint16_t port,
                     absl::Duration timeout, std::string payload);

}  // namespace sluice::health

#endif  // SLUICE_HEALTH_PROBE_KEY_H_
