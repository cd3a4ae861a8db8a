// Prober against real servers on 127.0.0.1 and ::1, started and stopped by each test.
// Timing: successes get 10 s to happen, timeouts use short limits, and no test asserts an
// upper bound on how long anything took.
#include "health/prober.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sluice::health {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kGenerous = absl::Seconds(10);

// An fd closed when the test ends, even when it fails.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

SocketAddress Loopback(int family, uint16_t port) {
  return *SocketAddress::Parse(family == AF_INET6 ? "::1" : "127.0.0.1", port);
}

// A socket bound to an ephemeral loopback port; returns the port.
uint16_t BindEphemeral(int fd, int family) {
  const SocketAddress any = Loopback(family, 0);
  EXPECT_EQ(bind(fd, any.get(), any.size()), 0) << std::strerror(errno);
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  return family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                            : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

// A thread serving one socket until the test ends; `serve` is called when the socket is
// readable and must not block for long. Stopping wakes the thread through a pipe.
class ServerThread {
 public:
  ServerThread(int fd, std::function<void(int)> serve) {
    EXPECT_EQ(pipe(stop_), 0);
    thread_ = std::thread([this, fd, serve = std::move(serve)] {
      for (;;) {
        pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = stop_[0], .events = POLLIN}};
        if (poll(fds, 2, 1000) < 0) continue;
        if (fds[1].revents != 0) return;
        if (fds[0].revents != 0) serve(fd);
      }
    });
  }
  ~ServerThread() {
    const char x = 1;
    EXPECT_EQ(write(stop_[1], &x, 1), 1);
    thread_.join();
    close(stop_[0]);
    close(stop_[1]);
  }

 private:
  int stop_[2] = {-1, -1};
  std::thread thread_;
};

// A TCP listener whose accepted connections stay open until the end of the test, so that
// the prober always closes first (which is what leaves TIME_WAIT without SO_LINGER 0).
class TcpListener {
 public:
  explicit TcpListener(int family)
      : fd_(socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)),
        port_(BindEphemeral(fd_.get(), family)) {
    EXPECT_EQ(listen(fd_.get(), 4096), 0);
    server_ = std::make_unique<ServerThread>(fd_.get(), [this](int fd) {
      for (int c; (c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) accepted_.push_back(c);
    });
  }
  ~TcpListener() {
    server_.reset();
    for (int c : accepted_) close(c);
  }
  uint16_t port() const { return port_; }

 private:
  Fd fd_;
  uint16_t port_;
  std::vector<int> accepted_;  // only the server thread touches it until it stops
  std::unique_ptr<ServerThread> server_;
};

// A minimal HTTP/1.1 server: reads a request, records it, sends `response` and closes
// (or, with `keep_open`, holds the connection until destroyed). With an empty response
// it accepts and never answers.
class HttpServer {
 public:
  HttpServer(int family, std::string response, bool keep_open = false)
      : fd_(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)),
        port_(BindEphemeral(fd_.get(), family)),
        response_(std::move(response)),
        keep_open_(keep_open) {
    EXPECT_EQ(listen(fd_.get(), 128), 0);
    server_ = std::make_unique<ServerThread>(fd_.get(), [this](int fd) { Serve(fd); });
  }
  ~HttpServer() {
    server_.reset();
    for (int c : silent_) close(c);
  }
  uint16_t port() const { return port_; }
  std::string last_request() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_request_;
  }

 private:
  void Serve(int fd) {
    const int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    if (response_.empty()) {
      silent_.push_back(c);
      return;
    }
    const timeval limit{.tv_sec = 5, .tv_usec = 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t got = read(c, buf, sizeof(buf));
      if (got <= 0) break;
      request.append(buf, static_cast<size_t>(got));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_request_ = request;
    }
    EXPECT_EQ(send(c, response_.data(), response_.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(response_.size()));
    if (keep_open_) {
      silent_.push_back(c);
    } else {
      close(c);
    }
  }

  Fd fd_;
  uint16_t port_;
  std::string response_;
  bool keep_open_;
  std::vector<int> silent_;  // connections held open
  std::mutex mu_;
  std::string last_request_;
  std::unique_ptr<ServerThread> server_;
};

std::string HttpResponse(int status, const std::string& body) {
  return absl::StrCat("HTTP/1.1 ", status, " X\r\nContent-Length: ", body.size(),
                      "\r\nConnection: close\r\n\r\n", body);
}

// Starts the probes, polls until every one is done (bounded), returns results by token.
std::map<uint64_t, ProbeResult> RunAll(Prober& prober, const std::vector<ProbeSpec>& specs) {
  std::map<uint64_t, ProbeResult> results;
  for (uint64_t token = 0; token < specs.size(); ++token) {
    prober.Start(token, specs[token], [&results](uint64_t t, ProbeResult r) {
      EXPECT_TRUE(results.emplace(t, std::move(r)).second) << "done twice for " << t;
    });
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (prober.in_flight() > 0 && absl::Now() < give_up) prober.Poll(absl::Milliseconds(100));
  EXPECT_EQ(prober.in_flight(), 0u);
  return results;
}

ProbeResult RunOne(const ProbeSpec& spec) {
  auto prober = Prober::Create();
  EXPECT_TRUE(prober.ok()) << prober.status();
  auto results = RunAll(**prober, {spec});
  EXPECT_EQ(results.size(), 1u);
  return results[0];
}

ProbeSpec Tcp(const SocketAddress& address) {
  return {.type = ProbeSpec::kTcp, .address = address, .timeout = kGenerous};
}

ProbeSpec Http(uint16_t port) {
  return {.type = ProbeSpec::kHttp,
          .address = Loopback(AF_INET, port),
          .timeout = kGenerous,
          .path = "/healthz",
          .host = "svc.example",
          .status_min = 200,
          .status_max = 299};
}

ProbeSpec Udp(uint16_t port, absl::Duration timeout = kGenerous) {
  return {.type = ProbeSpec::kUdp,
          .address = Loopback(AF_INET, port),
          .timeout = timeout,
          .payload = "ping"};
}

TEST(SocketAddressTest, ParsesBothFamilies) {
  EXPECT_EQ(SocketAddress::Parse("127.0.0.1", 80)->ToString(), "127.0.0.1:80");
  EXPECT_EQ(SocketAddress::Parse("::1", 8080)->ToString(), "[::1]:8080");
  EXPECT_EQ(SocketAddress::Parse("::1", 8080)->family(), AF_INET6);
  EXPECT_FALSE(SocketAddress::Parse("[::1]", 80));
  EXPECT_FALSE(SocketAddress::Parse("10.0.0", 80));
}

TEST(ProberTest, UnsetAddressFailsThroughPoll) {
  const ProbeResult r = RunOne({.type = ProbeSpec::kTcp});
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.detail, "no address");
}

TEST(ProberTest, TcpConnectsToListener) {
  TcpListener listener(AF_INET);
  const ProbeResult r = RunOne(Tcp(Loopback(AF_INET, listener.port())));
  EXPECT_TRUE(r.success) << r.detail;
  EXPECT_EQ(r.detail, "connected");
  EXPECT_GE(r.elapsed, absl::ZeroDuration());
}

TEST(ProberTest, TcpConnectsOverIpv6) {
  TcpListener listener(AF_INET6);
  const ProbeResult r = RunOne(Tcp(Loopback(AF_INET6, listener.port())));
  EXPECT_TRUE(r.success) << r.detail;
  EXPECT_EQ(r.detail, "connected");
}

// A bound socket that does not listen holds the port (nobody else can take it) and
// answers SYNs with RST.
TEST(ProberTest, TcpRefusedByClosedPort) {
  for (int family : {AF_INET, AF_INET6}) {
    Fd bound(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const uint16_t port = BindEphemeral(bound.get(), family);
    const ProbeResult r = RunOne(Tcp(Loopback(family, port)));
    EXPECT_FALSE(r.success);
    EXPECT_EQ(r.detail, "connect refused");
  }
}

TEST(ProberTest, HttpStatusInRangeSendsPathAndHost) {
  HttpServer server(AF_INET, HttpResponse(204, ""));
  const ProbeResult r = RunOne(Http(server.port()));
  EXPECT_TRUE(r.success) << r.detail;
  EXPECT_EQ(r.detail, "status 204");
  const std::string request = server.last_request();
  EXPECT_THAT(request, ::testing::StartsWith("GET /healthz HTTP/1.1\r\n"));
  EXPECT_THAT(request, HasSubstr("\r\nHost: svc.example\r\n"));
}

TEST(ProberTest, HttpStatusOutOfRange) {
  HttpServer server(AF_INET, HttpResponse(503, "busy"));
  const ProbeResult r = RunOne(Http(server.port()));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.detail, "status 503");
}

TEST(ProberTest, HttpBodySubstringPresent) {
  HttpServer server(AF_INET, HttpResponse(200, R"({"state": "serving"})"));
  ProbeSpec spec = Http(server.port());
  spec.body_contains = "serving";
  const ProbeResult r = RunOne(spec);
  EXPECT_TRUE(r.success) << r.detail;
  EXPECT_EQ(r.detail, "status 200");
}

TEST(ProberTest, HttpBodySubstringAbsent) {
  HttpServer server(AF_INET, HttpResponse(200, R"({"state": "draining"})"));
  ProbeSpec spec = Http(server.port());
  spec.body_contains = "serving";
  const ProbeResult r = RunOne(spec);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.detail, "status 200, body lacks \"serving\"");
}

// The match must lie within the first 64 KiB: the prober stops reading there.
TEST(ProberTest, HttpBodyReadIsCapped) {
  const std::string filler(kMaxHttpBodyBytes, 'x');
  HttpServer early(AF_INET, HttpResponse(200, "serving" + filler));
  HttpServer late(AF_INET, HttpResponse(200, filler + "serving"));
  ProbeSpec spec = Http(early.port());
  spec.body_contains = "serving";
  const ProbeResult found = RunOne(spec);
  EXPECT_TRUE(found.success) << found.detail;
  spec.address = Loopback(AF_INET, late.port());
  const ProbeResult missed = RunOne(spec);
  EXPECT_FALSE(missed.success);
  EXPECT_EQ(missed.detail, "status 200, body lacks \"serving\"");
}

TEST(ProberTest, HttpServerThatNeverAnswersTimesOut) {
  HttpServer server(AF_INET, "");
  ProbeSpec spec = Http(server.port());
  spec.timeout = absl::Milliseconds(300);
  const ProbeResult r = RunOne(spec);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.detail, "timeout after 300ms");
  EXPECT_GE(r.elapsed, absl::Milliseconds(300));
}

TEST(ProberTest, HttpRefusedByClosedPort) {
  Fd bound(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const ProbeResult r = RunOne(Http(BindEphemeral(bound.get(), AF_INET)));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.detail, "connect refused");
}

TEST(ProberTest, UdpEchoReplies) {
  Fd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const uint16_t port = BindEphemeral(sock.get(), AF_INET);
  ServerThread echo(sock.get(), [](int fd) {
    char buf[2048];
    sockaddr_storage from{};
    socklen_t len = sizeof(from);
    const ssize_t got =
        recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
    if (got >= 0) sendto(fd, buf, got, 0, reinterpret_cast<sockaddr*>(&from), len);
  });
  const ProbeResult r = RunOne(Udp(port));
  EXPECT_TRUE(r.success) << r.detail;
  EXPECT_EQ(r.detail, "reply 4 bytes");
}

TEST(ProberTest, UdpClosedPortIsRefused) {
  uint16_t port;
  {
    Fd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    port = BindEphemeral(sock.get(), AF_INET);
  }
  const ProbeResult r = RunOne(Udp(port));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.detail, "connection refused (ICMP port unreachable)");
}

TEST(ProberTest, UdpSilentServerTimesOut) {
  Fd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));  // bound, never read
  const ProbeResult r = RunOne(Udp(BindEphemeral(sock.get(), AF_INET), absl::Milliseconds(300)));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.detail, "timeout after 300ms");
  EXPECT_GE(r.elapsed, absl::Milliseconds(300));
}

TEST(ProberTest, MixedProbesShareOneLoop) {
  TcpListener listener(AF_INET);
  HttpServer http(AF_INET, HttpResponse(200, "ok"));
  Fd silent(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  auto prober = Prober::Create();
  ASSERT_TRUE(prober.ok());
  const auto results =
      RunAll(**prober, {Tcp(Loopback(AF_INET, listener.port())), Http(http.port()),
                        Udp(BindEphemeral(silent.get(), AF_INET), absl::Milliseconds(200))});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results.at(0).detail, "connected");
  EXPECT_EQ(results.at(1).detail, "status 200");
  EXPECT_EQ(results.at(2).detail, "timeout after 200ms");
}

TEST(ProberTest, DoneMayStartTheNextProbe) {
  TcpListener listener(AF_INET);
  auto prober = Prober::Create();
  ASSERT_TRUE(prober.ok());
  int done = 0;
  std::function<void(uint64_t, ProbeResult)> again = [&](uint64_t token, const ProbeResult& r) {
    EXPECT_TRUE(r.success) << r.detail;
    ++done;
    if (token < 4) (*prober)->Start(token + 1, Tcp(Loopback(AF_INET, listener.port())), again);
  };
  (*prober)->Start(0, Tcp(Loopback(AF_INET, listener.port())), again);
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while ((*prober)->in_flight() > 0 && absl::Now() < give_up) {
    (*prober)->Poll(absl::Milliseconds(100));
  }
  EXPECT_EQ(done, 5);
}

TEST(ProberTest, TwoHundredConcurrentTcpProbes) {
  TcpListener listener(AF_INET);
  auto prober = Prober::Create();
  ASSERT_TRUE(prober.ok());
  const std::vector<ProbeSpec> specs(200, Tcp(Loopback(AF_INET, listener.port())));
  const auto results = RunAll(**prober, specs);
  ASSERT_EQ(results.size(), 200u);
  for (const auto& [token, r] : results) EXPECT_EQ(r.detail, "connected") << token;
}

// TIME_WAIT sockets whose remote end is 127.0.0.1:`port`, as "local remote" hex pairs.
std::set<std::string> TimeWaitTo(uint16_t port) {
  std::set<std::string> out;
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  char want[16];
  std::snprintf(want, sizeof(want), "0100007F:%04X", port);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot;
    std::string local;
    std::string remote;
    std::string state;
    fields >> slot >> local >> remote >> state;
    if (remote == want && state == "06") out.insert(absl::StrCat(local, " ", remote));
  }
  return out;
}

// The prober's sockets in TIME_WAIT towards `port` that were not there `before` (another
// process on the host may have used the same port numbers earlier). Called once the
// server has closed its side too: a prober socket that sent FIN waits in FIN_WAIT2 until
// then, and only then enters TIME_WAIT.
std::vector<std::string> NewTimeWait(uint16_t port, const std::set<std::string>& before) {
  absl::SleepFor(absl::Milliseconds(100));  // loopback teardown is immediate; margin only
  std::vector<std::string> fresh;
  for (const std::string& s : TimeWaitTo(port)) {
    if (!before.contains(s)) fresh.push_back(s);
  }
  return fresh;
}

// SO_LINGER {1, 0}: after 500 probes none of the prober's sockets sit in TIME_WAIT. The
// listener keeps its connections open until it is destroyed, so the prober closes first;
// with a plain close(2) this finds ~500 (checked by hand when this test was written).
TEST(ProberTest, TcpProbesLeaveNoTimeWait) {
  auto prober = Prober::Create();
  ASSERT_TRUE(prober.ok());
  auto listener = std::make_unique<TcpListener>(AF_INET);
  const uint16_t port = listener->port();
  const std::set<std::string> before = TimeWaitTo(port);
  int connected = 0;
  for (int batch = 0; batch < 5; ++batch) {
    const std::vector<ProbeSpec> specs(100, Tcp(Loopback(AF_INET, port)));
    for (const auto& [token, r] : RunAll(**prober, specs)) connected += r.success ? 1 : 0;
  }
  EXPECT_EQ(connected, 500);
  listener.reset();  // the backend closes its side
  EXPECT_THAT(NewTimeWait(port, before), ::testing::IsEmpty());
}

// Same for HTTP, against a keep-alive server that leaves closing to the client (libcurl
// closes after each probe: CURLOPT_FORBID_REUSE).
TEST(ProberTest, HttpProbesLeaveNoTimeWait) {
  auto prober = Prober::Create();
  ASSERT_TRUE(prober.ok());
  auto server = std::make_unique<HttpServer>(
      AF_INET, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", /*keep_open=*/true);
  const uint16_t port = server->port();
  const std::set<std::string> before = TimeWaitTo(port);
  const std::vector<ProbeSpec> specs(20, Http(port));
  for (const auto& [token, r] : RunAll(**prober, specs)) EXPECT_TRUE(r.success) << r.detail;
  server.reset();
  EXPECT_THAT(NewTimeWait(port, before), ::testing::IsEmpty());
}

}  // namespace
}  // namespace sluice::health
