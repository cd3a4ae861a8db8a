// Address value types of the config model: IP addresses, prefixes, MACs and
// "host:port" endpoints, with strict parsing and canonical formatting. No DPDK here;
// lb/ converts these into the dataplane's own types.
#ifndef SLUICE_CONFIG_IP_ADDRESS_H_
#define SLUICE_CONFIG_IP_ADDRESS_H_

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::config {

enum class IpFamily : uint8_t { kV4 = 4, kV6 = 6 };

std::string_view FamilyName(IpFamily family);  // "IPv4" or "IPv6"

struct IpAddress {
  IpFamily family = IpFamily::kV4;
  // Network byte order. IPv4 uses bytes[0..3]; the rest stays zero.
  std::array<uint8_t, 16> bytes{};

  bool is_v4() const { return family == IpFamily::kV4; }
  bool is_v6() const { return family == IpFamily::kV6; }
  int bit_length() const { return is_v4() ? 32 : 128; }
  std::string ToString() const;

  // Dotted quad or RFC 4291 text (inet_pton rules: no zone ids, no leading zeros).
  static std::optional<IpAddress> Parse(std::string_view text);

  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const IpAddress& a) {
    return H::combine(std::move(h), a.family, a.bytes);
  }
};

struct IpPrefix {
  IpAddress address;
  int length = 0;

  std::string ToString() const;
  // True when `a` is inside the prefix (same family, same leading `length` bits).
  bool Contains(const IpAddress& a) const;
  // The prefix with the bits after `length` cleared.
  IpPrefix Network() const;
  bool HostBitsSet() const { return Network().address != address; }

  // "ADDRESS/LENGTH"; the length is required.
  static std::optional<IpPrefix> Parse(std::string_view text);

  friend auto operator<=>(const IpPrefix&, const IpPrefix&) = default;
};

struct MacAddress {
  std::array<uint8_t, 6> bytes{};

  bool is_multicast() const { return (bytes[0] & 0x01) != 0; }
  bool is_zero() const { return bytes == std::array<uint8_t, 6>{}; }
  std::string ToString() const;  // lower-case "02:00:00:00:00:11"

  // Six colon-separated pairs of hex digits.
  static std::optional<MacAddress> Parse(std::string_view text);

  friend auto operator<=>(const MacAddress&, const MacAddress&) = default;
};

// A TCP listen endpoint: "127.0.0.1:9750" or "[::1]:9750".
struct SocketAddress {
  IpAddress address;
  uint16_t port = 0;

  std::string ToString() const;
  static std::optional<SocketAddress> Parse(std::string_view text);

  friend auto operator<=>(const SocketAddress&, const SocketAddress&) = default;
};

}  // namespace sluice::config

#endif  // SLUICE_CONFIG_IP_ADDRESS_H_
