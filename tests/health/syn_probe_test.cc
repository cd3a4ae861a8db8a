// Half-open ("SYN") tcp probes (ProbeSpec::kTcpSyn, health/syn_probe.h) against real
// listeners on 127.0.0.1 and ::1. Needs root (CAP_NET_RAW) like the rest of the unit
// suite on the CI machine; without it every test here is skipped, except the fallback test
// which drops its privileges itself.
#include "health/syn_probe.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "health/prober.h"

namespace sluice::health {
namespace {

constexpr absl::Duration kGenerous = absl::Seconds(5);

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

SocketAddress Loopback(int family, uint16_t port) {
  return *SocketAddress::Parse(family == AF_INET6 ? "::1" : "127.0.0.1", port);
}

// A TCP socket bound to an ephemeral loopback port, listening with `backlog` unless
// negative. Nothing ever accepts: the kernel answers SYNs by itself.
class Socket {
 public:
  Socket(int family, int backlog) : fd_(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    const SocketAddress any = Loopback(family, 0);
    EXPECT_EQ(bind(fd_.get(), any.get(), any.size()), 0) << std::strerror(errno);
    sockaddr_storage bound{};
    socklen_t len = sizeof(bound);
    getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                               : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    if (backlog >= 0) {
      EXPECT_EQ(listen(fd_.get(), backlog), 0);
    }
  }
  uint16_t port() const { return port_; }

 private:
  Fd fd_;
  uint16_t port_ = 0;
};

ProbeSpec Syn(const SocketAddress& address, absl::Duration timeout = kGenerous) {
  return {.type = ProbeSpec::kTcpSyn, .address = address, .timeout = timeout};
}

std::map<uint64_t, ProbeResult> RunAll(Prober& prober, const std::vector<ProbeSpec>& specs) {
  std::map<uint64_t, ProbeResult> results;
  for (uint64_t token = 0; token < specs.size(); ++token) {
    prober.Start(token, specs[token], [&results](uint64_t t, ProbeResult r) {
      EXPECT_TRUE(results.emplace(t, std::move(r)).second) << "done twice for " << t;
    });
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (prober.in_flight() > 0 && absl::Now() < give_up) prober.Poll(absl::Milliseconds(100));
  EXPECT_EQ(prober.in_flight(), 0u);
  return results;
}

std::unique_ptr<Prober> NewProber() {
  absl::StatusOr<std::unique_ptr<Prober>> prober = Prober::Create();
  EXPECT_TRUE(prober.ok()) << prober.status();
  return *std::move(prober);
}

ProbeResult RunOne(const ProbeSpec& spec) {
  auto prober = NewProber();
  auto results = RunAll(*prober, {spec});
  EXPECT_EQ(results.size(), 1u);
  return results[0];
}

class SynProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "raw sockets need CAP_NET_RAW (run as root)";
  }
};

TEST_F(SynProbeTest, ListenerAnswersSynAckOverIpv4) {
  Socket listener(AF_INET, 16);
  const ProbeResult r = RunOne(Syn(Loopback(AF_INET, listener.port())));
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.detail, "syn-ack");
}

TEST_F(SynProbeTest, ListenerAnswersSynAckOverIpv6) {
  Socket listener(AF_INET6, 16);
  const ProbeResult r = RunOne(Syn(Loopback(AF_INET6, listener.port())));
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.detail, "syn-ack");
}

TEST_F(SynProbeTest, ClosedPortResets) {
  for (const int family : {AF_INET, AF_INET6}) {
    Socket bound_not_listening(family, -1);  // holds the port so nobody listens there
    const ProbeResult r = RunOne(Syn(Loopback(family, bound_not_listening.port())));
    EXPECT_FALSE(r.success) << family;
    EXPECT_EQ(r.detail, "reset (port closed)") << family;
  }
}

// A listener whose accept queue is full drops SYNs silently (LISTENOVERFLOWS): a
// backend that never answers, without touching routes or firewall rules.
TEST_F(SynProbeTest, SilentBackendTimesOut) {
  Socket listener(AF_INET, 0);
  Fd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const SocketAddress to = Loopback(AF_INET, listener.port());
  ASSERT_EQ(connect(client.get(), to.get(), to.size()), 0);  // fills the queue of 0 (+1)
  absl::SleepFor(absl::Milliseconds(20));
  const ProbeResult r = RunOne(Syn(to, absl::Milliseconds(300)));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.detail, "timeout after 300ms");
}

TEST_F(SynProbeTest, BackendAndFamilyMixInOneRound) {
  Socket v4(AF_INET, 16);
  Socket v6(AF_INET6, 16);
  Socket closed(AF_INET, -1);
  auto prober = NewProber();
  const auto results = RunAll(
      *prober,
      {Syn(Loopback(AF_INET, v4.port())),
       Syn(Loopback(AF_INET6, v6.port())),
       Syn(Loopback(AF_INET, closed.port())),
       {.type = ProbeSpec::kTcp, .address = Loopback(AF_INET, v4.port()), .timeout = kGenerous}});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results.at(0).detail, "syn-ack");
  EXPECT_EQ(results.at(1).detail, "syn-ack");
  EXPECT_EQ(results.at(2).detail, "reset (port closed)");
  EXPECT_EQ(results.at(3).detail, "connected");
}

// The ones' complement sum of `bytes` as big-endian words (written here, not shared with
// syn_probe.cc, so the SYN's checksum is checked by an independent computation).
uint16_t OnesSum(const std::vector<uint8_t>& bytes) {
  uint32_t sum = 0;
  for (size_t i = 0; i < bytes.size(); i += 2) {
    sum += uint32_t{bytes[i]} << 8 | (i + 1 < bytes.size() ? bytes[i + 1] : 0u);
  }
  while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// Reads the prober's SYN to `port` back from the wire with a raw socket of the test's own
// (no filter, no IPV6_CHECKSUM: the kernel checks nothing on it) and verifies it: TCP
// checksum over the pseudo-header, flags, source port range, header length and MSS.
// (The listener also drops a SYN with a bad checksum, so the syn-ack tests fail too; this
// says why.)
void ExpectValidSynOnTheWire(int family) {
  Socket listener(family, 16);
  Fd capture(socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP));
  ASSERT_GE(capture.get(), 0) << std::strerror(errno);
  const timeval limit{.tv_sec = 2, .tv_usec = 0};
  setsockopt(capture.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  EXPECT_EQ(RunOne(Syn(Loopback(family, listener.port()))).detail, "syn-ack");
  for (int i = 0; i < 1000; ++i) {
    std::vector<uint8_t> buf(1500);
    sockaddr_in6 from{};
    socklen_t from_len = sizeof(from);
    const ssize_t got = recvfrom(capture.get(), buf.data(), buf.size(), 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    ASSERT_GT(got, 0) << "no SYN to port " << listener.port() << " seen";
    buf.resize(static_cast<size_t>(got));
    std::vector<uint8_t> pseudo;
    size_t tcp = 0;
    if (family == AF_INET) {
      tcp = size_t{buf[0] & 0x0fu} * 4;
      pseudo.assign(buf.begin() + 12, buf.begin() + 20);  // source, destination
    } else {
      pseudo.assign(16 + 16, 0);
      std::memcpy(pseudo.data(), &from.sin6_addr, 16);
      pseudo[31] = 1;  // ::1
    }
    const std::vector<uint8_t> segment(buf.begin() + static_cast<ptrdiff_t>(tcp), buf.end());
    if (segment.size() < 20 || (segment[2] << 8 | segment[3]) != listener.port() ||
        segment[13] != 0x02) {
      continue;  // not our SYN (the SYN-ACK, the kernel's RST, other traffic)
    }
    if (family == AF_INET) {
      pseudo.insert(pseudo.end(), {0, IPPROTO_TCP, 0, static_cast<uint8_t>(segment.size())});
    } else {
      pseudo.insert(pseudo.end(),
                    {0, 0, 0, static_cast<uint8_t>(segment.size()), 0, 0, 0, IPPROTO_TCP});
    }
    std::vector<uint8_t> summed = pseudo;
    summed.insert(summed.end(), segment.begin(), segment.end());
    EXPECT_EQ(OnesSum(summed), 0xffff) << "bad TCP checksum";
    const unsigned source_port = segment[0] << 8 | segment[1];
    EXPECT_GE(source_port, kSynSourcePortFirst);
    EXPECT_LT(source_port, kSynSourcePortFirst + kSynSourcePortCount);
    EXPECT_EQ(segment.size(), 24u);
    EXPECT_EQ(segment[12] >> 4, 6);  // 24-byte header
    EXPECT_EQ(segment[20], 2);       // MSS option, 1460
    EXPECT_EQ(segment[22] << 8 | segment[23], 1460);
    return;
  }
  ADD_FAILURE() << "no SYN to port " << listener.port() << " among 1000 segments";
}

TEST_F(SynProbeTest, SynOnTheWireIsValidOverIpv4) { ExpectValidSynOnTheWire(AF_INET); }
TEST_F(SynProbeTest, SynOnTheWireIsValidOverIpv6) { ExpectValidSynOnTheWire(AF_INET6); }

// /proc/net/tcp{,6} rows (local, remote, state) that involve `port` on either end.
std::vector<std::string> SocketsOnPort(uint16_t port, const std::string& state = "") {
  std::vector<std::string> out;
  char suffix[8];
  std::snprintf(suffix, sizeof(suffix), ":%04X", port);
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot;
      std::string local;
      std::string remote;
      std::string st;
      fields >> slot >> local >> remote >> st;
      if (!state.empty() && st != state) continue;
      if (local.ends_with(suffix) || remote.ends_with(suffix)) {
        out.push_back(absl::StrCat(local, " ", remote, " ", st));
      }
    }
  }
  return out;
}

// Sockets of this host with a local port in the syn range: the prober opens none.
int SocketsInSynRange() {
  int n = 0;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot;
      std::string local;
      fields >> slot >> local;
      const unsigned port = std::stoul(local.substr(local.find(':') + 1), nullptr, 16);
      n += port >= kSynSourcePortFirst && port < kSynSourcePortFirst + kSynSourcePortCount;
    }
  }
  return n;
}

int OpenFds() {
  int n = 0;
  for (int fd = 0; fd < 4096; ++fd) n += fcntl(fd, F_GETFD) >= 0 ? 1 : 0;
  return n;
}

// 500 probes leave no socket and no TIME_WAIT behind, on either side: the listener's
// port has no connection in any state afterwards, and no fd leaked.
TEST_F(SynProbeTest, FiveHundredProbesLeaveNoSocketBehind) {
  Socket listener(AF_INET, 128);
  auto prober = NewProber();
  RunAll(*prober, {Syn(Loopback(AF_INET, listener.port()))});  // opens the raw sockets
  const int fds = OpenFds();
  const std::vector<std::string> time_wait_before = SocketsOnPort(listener.port(), "06");
  int answered = 0;
  for (int batch = 0; batch < 5; ++batch) {
    const std::vector<ProbeSpec> specs(100, Syn(Loopback(AF_INET, listener.port())));
    for (const auto& [token, r] : RunAll(*prober, specs)) answered += r.detail == "syn-ack";
  }
  EXPECT_EQ(answered, 500);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(OpenFds(), fds);
  EXPECT_THAT(SocketsOnPort(listener.port(), "06"), ::testing::ContainerEq(time_wait_before));
  // Only the listener itself: no established, SYN_RECV or TIME_WAIT entry.
  EXPECT_THAT(SocketsOnPort(listener.port()), ::testing::SizeIs(1));
  EXPECT_EQ(SocketsInSynRange(), 0);
}

// The kernel's RST to each SYN-ACK frees the listener's half-open entry: 2000 probes to a
// listener with backlog 16 that never accepts all succeed, and its SYN queue ends empty.
TEST_F(SynProbeTest, KernelResetsKeepTheBackendsSynQueueEmpty) {
  Socket listener(AF_INET, 16);
  auto prober = NewProber();
  int answered = 0;
  for (int batch = 0; batch < 20; ++batch) {
    const std::vector<ProbeSpec> specs(100, Syn(Loopback(AF_INET, listener.port())));
    for (const auto& [token, r] : RunAll(*prober, specs)) answered += r.detail == "syn-ack";
  }
  EXPECT_EQ(answered, 2000);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_THAT(SocketsOnPort(listener.port(), "03"), ::testing::IsEmpty());  // SYN_RECV
}

// Without CAP_NET_RAW (here: after dropping root in a child process) a syn probe runs
// as a connect probe, and says so.
TEST_F(SynProbeTest, WithoutRawSocketsFallsBackToConnect) {
  Socket listener(AF_INET, 16);
  const uint16_t port = listener.port();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(10);
    absl::StatusOr<std::unique_ptr<Prober>> prober = Prober::Create();
    if (!prober.ok()) _exit(11);
    std::string detail;
    (*prober)->Start(0, Syn(Loopback(AF_INET, port)),
                     [&detail](uint64_t, const ProbeResult& r) { detail = r.detail; });
    for (int i = 0; i < 100 && (*prober)->in_flight() > 0; ++i) {
      (*prober)->Poll(absl::Milliseconds(50));
    }
    _exit(detail == "connected (syn unavailable: connect probe)" ? 0 : 12);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace sluice::health
