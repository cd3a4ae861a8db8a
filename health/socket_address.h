// An IPv4 or IPv6 address and port in the kernel's own form (sockaddr_storage), ready
// for connect(2). health/ cannot use config::IpAddress (no includes of config/), so the
// controller hands probes the address as text and this parses it once.
#ifndef SLUICE_HEALTH_SOCKET_ADDRESS_H_
#define SLUICE_HEALTH_SOCKET_ADDRESS_H_

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::health {

class SocketAddress {
 public:
  // Unset: family() is AF_UNSPEC and a probe to it fails at once.
  SocketAddress() = default;

  // `ip` is a dotted quad or an IPv6 literal without brackets or zone ("::1").
  static std::optional<SocketAddress> Parse(std::string_view ip, uint16_t port);

  int family() const { return storage_.ss_family; }
  bool is_set() const { return family() == AF_INET || family() == AF_INET6; }
  uint16_t port() const;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t size() const;

  std::string IpString() const;  // "127.0.0.1", "::1"
  std::string ToString() const;  // "127.0.0.1:80", "[::1]:80"

 private:
  sockaddr_storage storage_{};
};

}  // namespace sluice::health

#endif  // SLUICE_HEALTH_SOCKET_ADDRESS_H_
