#include "health/syn_probe.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sluice::health {
namespace {

constexpr uint16_t kLastSourcePort = kSynSourcePortFirst + kSynSourcePortCount - 1;
constexpr uint8_t kFlagRst = 0x04;
constexpr uint8_t kFlagSyn = 0x02;
constexpr uint8_t kFlagAck = 0x10;
// TCP header of our SYN: 20 bytes plus one option, MSS 1460 (a SYN without options is
// valid, but some firewalls treat it as a scan and drop it).
constexpr size_t kSynLength = 24;
// How long a looked-up IPv4 source address is trusted (a timeout forgets it sooner).
constexpr absl::Duration kSourceLifetime = absl::Seconds(60);

// Classic BPF, so that only segments that could answer a probe reach user space: the raw
// socket otherwise gets a copy of every TCP segment the host receives. Accepts a segment
// whose destination port is in our range and which carries RST, or SYN and ACK.
// IPv4 raw sockets see the IP header first (skip it, drop non-first fragments); IPv6 raw
// sockets start at the TCP header.
constexpr uint32_t kKeepBytes = 256;

std::array<sock_filter, 12> FilterV4() {
  return {{
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),                           // 0: flags + fragment offset
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 9, 0),              // 1: not the first fragment
      BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),                          // 2: X = IP header length
      BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),                           // 3: TCP destination port
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kSynSourcePortFirst, 0, 6),  // 4
      BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, kLastSourcePort, 5, 0),      // 5
      BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13),                          // 6: TCP flags
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kFlagRst, 2, 0),            // 7: RST: accept
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, kFlagSyn | kFlagAck),        // 8
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kFlagSyn | kFlagAck, 0, 1),  // 9: SYN-ACK
      BPF_STMT(BPF_RET | BPF_K, kKeepBytes),                           // 10: accept
      BPF_STMT(BPF_RET | BPF_K, 0),                                    // 11: drop
  }};
}

std::array<sock_filter, 9> FilterV6() {
  return {{
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 2),                           // 0: destination port
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kSynSourcePortFirst, 0, 6),  // 1
      BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, kLastSourcePort, 5, 0),      // 2
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),                          // 3: TCP flags
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kFlagRst, 2, 0),            // 4: RST: accept
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, kFlagSyn | kFlagAck),        // 5
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kFlagSyn | kFlagAck, 0, 1),  // 6: SYN-ACK
      BPF_STMT(BPF_RET | BPF_K, kKeepBytes),                           // 7: accept
      BPF_STMT(BPF_RET | BPF_K, 0),                                    // 8: drop
  }};
}

template <size_t N>
bool AttachFilter(int fd, std::array<sock_filter, N>& code) {
  const sock_fprog prog{.len = static_cast<decltype(sock_fprog::len)>(N), .filter = code.data()};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) == 0;
}

// Drops what was queued before the filter was attached.
void DrainQueued(int fd) {
  std::array<uint8_t, 64> scratch{};
  while (recv(fd, scratch.data(), scratch.size(), MSG_DONTWAIT | MSG_TRUNC) >= 0) {
  }
}

uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Load32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
void Store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Store32(uint8_t* p, uint32_t v) {
  Store16(p, static_cast<uint16_t>(v >> 16));
  Store16(p + 2, static_cast<uint16_t>(v));
}

// Ones' complement sum of big-endian 16-bit words (len even).
uint32_t SumWords(const uint8_t* p, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += Load16(p + i);
  return sum;
}

uint16_t Fold(uint32_t sum) {
  while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// The kernel's ephemeral range from /proc (this network namespace's).
std::optional<std::pair<uint32_t, uint32_t>> EphemeralRange() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  uint32_t low = 0;
  uint32_t high = 0;
  if (!(in >> low >> high)) return std::nullopt;
  return std::make_pair(low, high);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SynProber>> SynProber::Create() {
  if (const auto range = EphemeralRange();
      range && range->first <= kLastSourcePort && range->second >= kSynSourcePortFirst) {
    return absl::FailedPreconditionError(
        absl::StrCat("syn source ports ", kSynSourcePortFirst, "-", kLastSourcePort,
                     " overlap net.ipv4.ip_local_port_range ", range->first, "-", range->second));
  }
  const int fd4 = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd4 < 0) {
    const int err = errno;
    const std::string text = absl::StrCat("raw socket: ", std::strerror(err));
    if (err == EPERM || err == EACCES) return absl::PermissionDeniedError(text);
    return absl::UnavailableError(text);
  }
  auto filter4 = FilterV4();
  if (!AttachFilter(fd4, filter4)) {
    const std::string text = absl::StrCat("SO_ATTACH_FILTER: ", std::strerror(errno));
    close(fd4);
    return absl::InternalError(text);
  }
  // Bursts: up to a whole interval's replies can land between two Polls.
  const int buffer = 4 << 20;
  setsockopt(fd4, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
  DrainQueued(fd4);

  int fd6 = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd6 >= 0) {
    // The kernel fills the TCP checksum (at offset 16) over its own pseudo-header.
    const int offset = 16;
    auto filter6 = FilterV6();
    if (setsockopt(fd6, IPPROTO_IPV6, IPV6_CHECKSUM, &offset, sizeof(offset)) != 0 ||
        !AttachFilter(fd6, filter6)) {
      const std::string text = absl::StrCat("IPv6 raw socket setup: ", std::strerror(errno));
      close(fd6);
      close(fd4);
      return absl::InternalError(text);
    }
    setsockopt(fd6, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
    DrainQueued(fd6);
  }
  return std::unique_ptr<SynProber>(new SynProber(fd4, fd6));
}

SynProber::SynProber(int fd4, int fd6) : fd4_(fd4), fd6_(fd6), rng_(std::random_device{}()) {}

SynProber::~SynProber() {
  if (fd4_ >= 0) close(fd4_);
  if (fd6_ >= 0) close(fd6_);
}

absl::StatusOr<uint32_t> SynProber::SourceFor(uint32_t dst) {
  const absl::Time now = absl::Now();
  if (auto it = sources_.find(dst); it != sources_.end() && it->second.expires > now) {
    return it->second.address;
  }
  // A connected UDP socket makes the kernel choose the source address (route, preferred
  // source) exactly as for the raw SYN; nothing is sent.
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  to.sin_addr.s_addr = dst;
  sockaddr_in local{};
  socklen_t len = sizeof(local);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
    const std::string text = absl::StrCat("no route: ", std::strerror(errno));
    close(fd);
    return absl::UnavailableError(text);
  }
  close(fd);
  sources_[dst] = SourceAddress{.address = local.sin_addr.s_addr, .expires = now + kSourceLifetime};
  return local.sin_addr.s_addr;
}

absl::Status SynProber::Send(uint64_t id, const SocketAddress& dst) {
  FlowKey key{.family = dst.family(), .backend_port = dst.port()};
  uint32_t src = 0;
  uint32_t dst4 = 0;
  if (dst.family() == AF_INET) {
    dst4 = reinterpret_cast<const sockaddr_in*>(dst.get())->sin_addr.s_addr;
    std::memcpy(key.backend.data(), &dst4, 4);
    absl::StatusOr<uint32_t> found = SourceFor(dst4);
    if (!found.ok()) return found.status();
    src = *found;
  } else if (dst.family() == AF_INET6) {
    if (fd6_ < 0) return absl::UnavailableError("no IPv6 raw socket");
    std::memcpy(key.backend.data(), &reinterpret_cast<const sockaddr_in6*>(dst.get())->sin6_addr,
                16);
  } else {
    return absl::InvalidArgumentError("no address");
  }
  // A random free source port: with a round-robin one, a backend probed every interval
  // could land on the same port each time.
  const uint32_t start = rng_() % kSynSourcePortCount;
  bool found_port = false;
  for (uint32_t i = 0; i < kSynSourcePortCount && !found_port; ++i) {
    key.source_port =
        static_cast<uint16_t>(kSynSourcePortFirst + (start + i) % kSynSourcePortCount);
    found_port = !by_flow_.contains(key);
  }
  if (!found_port) return absl::ResourceExhaustedError("all syn source ports in flight");

  const uint32_t seq = rng_();
  std::array<uint8_t, kSynLength> tcp{};
  Store16(tcp.data(), key.source_port);
  Store16(&tcp[2], key.backend_port);
  Store32(&tcp[4], seq);
  tcp[12] = (kSynLength / 4) << 4;  // data offset
  tcp[13] = kFlagSyn;
  Store16(&tcp[14], 64240);  // window
  tcp[20] = 2;               // MSS option
  tcp[21] = 4;
  Store16(&tcp[22], 1460);

  ssize_t sent = 0;
  if (dst.family() == AF_INET) {
    // Pseudo-header: source, destination, zero, protocol, TCP length.
    std::array<uint8_t, 12> pseudo{};
    std::memcpy(pseudo.data(), &src, 4);
    std::memcpy(pseudo.data() + 4, key.backend.data(), 4);
    pseudo[9] = IPPROTO_TCP;
    Store16(&pseudo[10], kSynLength);
    Store16(&tcp[16], Fold(SumWords(tcp.data(), tcp.size(), SumWords(pseudo.data(), 12, 0))));
    sockaddr_in to{};
    to.sin_family = AF_INET;  // port 0: raw sockets take no port
    to.sin_addr.s_addr = dst4;
    sent =
        sendto(fd4_, tcp.data(), tcp.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  } else {
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_addr = reinterpret_cast<const sockaddr_in6*>(dst.get())->sin6_addr;
    to.sin6_scope_id = reinterpret_cast<const sockaddr_in6*>(dst.get())->sin6_scope_id;
    sent =
        sendto(fd6_, tcp.data(), tcp.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  }
  if (sent < 0) {
    const int err = errno;
    if (dst.family() == AF_INET) sources_.erase(dst4);  // look the route up again next time
    return absl::UnavailableError(absl::StrCat("send syn: ", std::strerror(err)));
  }
  by_flow_.emplace(key, id);
  by_id_.emplace(id, InFlight{.key = key, .seq = seq});
  return absl::OkStatus();
}

void SynProber::Release(uint64_t id, bool timed_out) {
  const auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  const FlowKey& key = it->second.key;
  if (timed_out && key.family == AF_INET) {
    uint32_t dst = 0;
    std::memcpy(&dst, key.backend.data(), 4);
    sources_.erase(dst);
  }
  by_flow_.erase(key);
  by_id_.erase(it);
}

void SynProber::Drain(int fd, std::vector<Reply>* out) {
  std::array<uint8_t, kKeepBytes> buf{};
  for (;;) {
    sockaddr_in6 from6{};
    socklen_t from_len = sizeof(from6);
    const ssize_t got = recvfrom(fd, buf.data(), buf.size(), MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from6), &from_len);
    if (got < 0) return;  // EAGAIN: drained (errors: the next round tries again)
    const auto len = static_cast<size_t>(got);
    std::array<uint8_t, 16> from{};
    if (fd == fd4_) {
      // IP header first; the filter let through only first fragments of TCP.
      if (len < 20 || buf[0] >> 4 != 4) continue;
      const size_t ihl = size_t{buf[0] & 0x0fu} * 4;
      if (ihl < 20 || len < ihl + 20 || buf[9] != IPPROTO_TCP) continue;
      std::memcpy(from.data(), &buf[12], 4);
      OnSegment(AF_INET, from, buf.data() + ihl, len - ihl, out);
    } else {
      if (len < 20 || from6.sin6_family != AF_INET6) continue;
      std::memcpy(from.data(), &from6.sin6_addr, 16);
      OnSegment(AF_INET6, from, buf.data(), len, out);
    }
  }
}

void SynProber::OnSegment(int family, const std::array<uint8_t, 16>& from, const uint8_t* tcp,
                          size_t len, std::vector<Reply>* out) {
  if (len < 20) return;
  const FlowKey key{.family = family,
                    .backend = from,
                    .backend_port = Load16(tcp),
                    .source_port = Load16(tcp + 2)};
  const auto flow = by_flow_.find(key);
  if (flow == by_flow_.end()) return;
  const uint64_t id = flow->second;
  const uint8_t flags = tcp[13];
  const bool rst = (flags & kFlagRst) != 0;
  const bool syn_ack = (flags & (kFlagSyn | kFlagAck)) == (kFlagSyn | kFlagAck);
  // Only an answer to our SYN acknowledges our ISN + 1 (a RST to a SYN carries ACK).
  if ((!rst && !syn_ack) || (flags & kFlagAck) == 0 || Load32(tcp + 8) != by_id_.at(id).seq + 1) {
    return;
  }
  Release(id);
  out->push_back(Reply{.id = id, .syn_ack = !rst});
}

}  // namespace sluice::health
