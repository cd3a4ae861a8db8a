#include "config/ip_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace sluice::config {

std::string_view FamilyName(IpFamily family) { return family == IpFamily::kV4 ? "IPv4" : "IPv6"; }

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; bound the copy so garbage stays cheap.
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  IpAddress a;
  if (s.find(':') == std::string::npos) {
    a.family = IpFamily::kV4;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  } else {
    a.family = IpFamily::kV6;
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  }
  return a;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes.data(), buf, sizeof(buf));
  return buf;
}

std::optional<IpPrefix> IpPrefix::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::optional<IpAddress> address = IpAddress::Parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  const std::string_view length_text = text.substr(slash + 1);
  int length = 0;
  if (length_text.empty() || length_text.size() > 3 ||
      !absl::c_all_of(length_text, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(absl::string_view(length_text.data(), length_text.size()), &length) ||
      length > address->bit_length()) {
    return std::nullopt;
  }
  return IpPrefix{.address = *address, .length = length};
}

std::string IpPrefix::ToString() const {
  return absl::StrFormat("%s/%d", address.ToString(), length);
}

IpPrefix IpPrefix::Network() const {
  IpPrefix p = *this;
  for (int i = 0; i < 16; ++i) {
    const int bits_kept = std::clamp(length - i * 8, 0, 8);
    p.address.bytes[i] &= static_cast<uint8_t>(0xff00u >> bits_kept);
  }
  return p;
}

bool IpPrefix::Contains(const IpAddress& a) const {
  if (a.family != address.family) return false;
  return IpPrefix{.address = a, .length = length}.Network().address == Network().address;
}

std::optional<MacAddress> MacAddress::Parse(std::string_view text) {
  // Exactly "xx:xx:xx:xx:xx:xx".
  if (text.size() != 17) return std::nullopt;
  MacAddress mac;
  for (size_t i = 0; i < 6; ++i) {
    const char hi = text[i * 3];
    const char lo = text[i * 3 + 1];
    if (!absl::ascii_isxdigit(hi) || !absl::ascii_isxdigit(lo)) return std::nullopt;
    if (i < 5 && text[i * 3 + 2] != ':') return std::nullopt;
    auto nibble = [](char c) {
      return static_cast<uint8_t>(absl::ascii_isdigit(c) ? c - '0'
                                                         : absl::ascii_tolower(c) - 'a' + 10);
    };
    mac.bytes[i] = static_cast<uint8_t>(nibble(hi) << 4 | nibble(lo));
  }
  return mac;
}

std::string MacAddress::ToString() const {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2], bytes[3],
                         bytes[4], bytes[5]);
}

std::optional<SocketAddress> SocketAddress::Parse(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    if (host.find(':') == std::string_view::npos) return std::nullopt;  // [v4] is odd
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // v6 needs []
  }
  const std::optional<IpAddress> address = IpAddress::Parse(host);
  int port = 0;
  if (!address || port_text.empty() || port_text.size() > 5 ||
      !absl::c_all_of(port_text, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(absl::string_view(port_text.data(), port_text.size()), &port) || port < 1 ||
      port > 65535) {
    return std::nullopt;
  }
  return SocketAddress{.address = *address, .port = static_cast<uint16_t>(port)};
}

std::string SocketAddress::ToString() const {
  return address.is_v4() ? absl::StrFormat("%s:%d", address.ToString(), port)
                         : absl::StrFormat("[%s]:%d", address.ToString(), port);
}

}  // namespace sluice::config
