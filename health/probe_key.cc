#include "health/probe_key.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace sluice::health {
namespace {

const char* TypeName(ProbeType type) {
  switch (type) {
    case ProbeType::kTcp:
      return "tcp";
    case ProbeType::kHttp:
      return "http";
    case ProbeType::kUdp:
      return "udp";
    case ProbeType::kTcpSyn:
      return "tcp-syn";
  }
  return "unknown";
}

// "10.0.0.1:80" or "[fd00::1]:80".
std::string Endpoint(AddressFamily family, const std::array<uint8_t, 16>& address, uint16_t port) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (family == AddressFamily::kIpv4) {
    inet_ntop(AF_INET, address.data(), text.data(), text.size());
    return absl::StrCat(text.data(), ":", port);
  }
  inet_ntop(AF_INET6, address.data(), text.data(), text.size());
  return absl::StrCat("[", text.data(), "]:", port);
}

ProbeKey Base(ProbeType type, AddressFamily family, const std::array<uint8_t, 16>& address,
              uint16_t port, absl::Duration timeout) {
  ProbeKey key;
  key.type = type;
  key.family = family;
  key.address = address;
  key.port = port;
  key.timeout = timeout;
  return key;
}

}  // namespace

std::string ProbeKey::ToString() const {
  std::string out = absl::StrCat(TypeName(type), " ", Endpoint(family, address, port),
                                 " timeout=", absl::FormatDuration(timeout));
  // Print what the type uses, plus anything set that it does not: two keys that differ
  // only there must not look identical in a log.
  if (type == ProbeType::kHttp || !http_path.empty()) {
    absl::StrAppend(&out, " path=\"", absl::CEscape(http_path), "\"");
  }
  if (type == ProbeType::kHttp || http_expect_status != 0) {
    absl::StrAppend(&out, " expect=", http_expect_status);
  }
  if (!http_body_substring.empty()) {
    absl::StrAppend(&out, " body=\"", absl::CEscape(http_body_substring), "\"");
  }
  if (type == ProbeType::kUdp || !udp_payload.empty()) {
    absl::StrAppend(&out, " payload=\"", absl::CHexEscape(udp_payload), "\"");
  }
  return out;
}

std::array<uint8_t, 16> Ipv4Bytes(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  std::array<uint8_t, 16> bytes{};
  bytes[0] = a;
  bytes[1] = b;
  bytes[2] = c;
  bytes[3] = d;
  return bytes;
}

ProbeKey TcpProbeKey(AddressFamily family, const std::array<uint8_t, 16>& address, uint16_t port,
                     absl::Duration timeout) {
  return Base(ProbeType::kTcp, family, address, port, timeout);
}

ProbeKey TcpSynProbeKey(AddressFamily family, const std::array<uint8_t, 16>& address, uint16_t port,
                        absl::Duration timeout) {
  return Base(ProbeType::kTcpSyn, family, address, port, timeout);
}

ProbeKey HttpProbeKey(AddressFamily family, const std::array<uint8_t, 16>& address, uint16_t port,
                      absl::Duration timeout, std::string path, uint32_t expect_status,
                      std::string body_substring) {
  ProbeKey key = Base(ProbeType::kHttp, family, address, port, timeout);
  key.http_path = std::move(path);
  key.http_expect_status = expect_status;
  key.http_body_substring = std::move(body_substring);
  return key;
}

ProbeKey UdpProbeKey(AddressFamily family, const std::array<uint8_t, 16>& address, uint16_t port,
                     absl::Duration timeout, std::string payload) {
  ProbeKey key = Base(ProbeType::kUdp, family, address, port, timeout);
  key.udp_payload = std::move(payload);
  return key;
}

}  // namespace sluice::health
