// CPU used by the health thread (HealthChecker::Run) checking N backends every interval.
//
// The backends are N distinct loopback addresses 127.0.X.Y, all served by one listening
// socket on 0.0.0.0:PORT in a thread of this process (a socket bound to 0.0.0.0 accepts
// connections to any 127/8 address). For tcp checks it accepts and waits for the prober
// to close; for http it also answers every request with a minimal "200 OK". The server
// never closes first (the prober closes with RST), so neither side keeps TIME_WAIT
// sockets; the program counts them at the end to show that.
//
// --remote-like (needs root, Linux, 2+ CPUs): the targets are 10.202.X.Y instead, in a
// network namespace of their own (shb-target-PID) reached through a veth pair
// (shbA<PID> here, 10.201.0.1/30; shbB<PID> there, 10.201.0.2/30); an AnyIP route
// (`local 10.202.0.0/16 dev lo`) lets one listener there answer every address. The server
// runs in a child process that joins that namespace (setns) and is pinned to CPU 1; the
// health thread is pinned to CPU 0. RPS on shbB sends the target side's receive
// processing (SYN, the handshake's ACK, RST) to CPU 1, so it is not charged to the health
// thread, as with backends on other hosts; RPS on shbA keeps the SYN-ACKs' receive
// processing, which a real LB pays, on CPU 0. The namespace and the veth pair are deleted
// at exit (and leftovers of dead runs at start); no traffic leaves them.
//
// After a warm-up (the first runs are spread over one interval), the health thread's CPU
// time (its CLOCK_THREAD_CPUTIME_ID, read from this thread via pthread_getcpuclockid) is
// taken over a measuring window and divided by the wall time: the share of one core.
//
// --tcp-mode=syn: tcp checks are half-open SYN probes on a raw socket (ProbeSpec::kTcpSyn,
// needs root) instead of connect(); the server then never sees a connection, the
// kernels answer everything.
//
//   health_bench [--backends=10000] [--type=tcp|http] [--tcp-mode=connect|syn]
//                [--seconds=20] [--warmup=3] [--interval_ms=1000] [--timeout_ms=500]
//                [--remote-like]
//
// Exit status 1 when the probes did not run at the expected rate or failed.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "health/health_checker.h"
#include "health/prober.h"
#include "health/socket_address.h"

namespace sluice::bench {
namespace {

struct Options {
  int backends = 10000;
  bool http = false;
  bool syn = false;  // --tcp-mode=syn
  int seconds = 20;
  int warmup = 3;
  int interval_ms = 1000;
  int timeout_ms = 500;
  bool remote_like = false;
};

bool ParseFlags(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto int_flag = [&](const char* prefix, int* value) {
      const size_t n = std::strlen(prefix);
      if (arg.compare(0, n, prefix) != 0) return false;
      if (!absl::SimpleAtoi(arg.substr(n), value) || *value < 1) {
        std::fprintf(stderr, "bad value: %s\n", arg.c_str());
        std::exit(2);
      }
      return true;
    };
    if (int_flag("--backends=", &o->backends) || int_flag("--seconds=", &o->seconds) ||
        int_flag("--warmup=", &o->warmup) || int_flag("--interval_ms=", &o->interval_ms) ||
        int_flag("--timeout_ms=", &o->timeout_ms)) {
      continue;
    }
    if (arg == "--remote-like") {
      o->remote_like = true;
      continue;
    }
    if (arg == "--tcp-mode=syn" || arg == "--tcp-mode=connect") {
      o->syn = arg == "--tcp-mode=syn";
      continue;
    }
    if (arg == "--type=tcp" || arg == "--type=http") {
      o->http = arg == "--type=http";
      continue;
    }
    std::fprintf(stderr, "unknown argument: %s\n", arg.c_str());
    return false;
  }
  if (o->syn && o->http) {
    std::fprintf(stderr, "--tcp-mode applies to --type=tcp only\n");
    return false;
  }
  if (o->backends > 250 * 250) {
    std::fprintf(stderr, "--backends: at most %d\n", 250 * 250);
    return false;
  }
  return true;
}

// The backends' server: one epoll loop in its own thread.
class Server {
 public:
  explicit Server(bool http) : http_(http) {}
  ~Server() {
    for (auto& [fd, request] : conns_) close(fd);
    if (listen_fd_ >= 0) close(listen_fd_);
    if (epoll_fd_ >= 0) close(epoll_fd_);
  }

  // Listens on 0.0.0.0 (any port); returns the port, or 0 on error.
  uint16_t Listen() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) return 0;
    const int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return 0;
    if (listen(listen_fd_, 65535) != 0) return 0;  // capped at net.core.somaxconn
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return 0;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd_;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
    return ntohs(addr.sin_port);
  }

  void Run(const std::atomic<bool>& stop) {
    std::vector<epoll_event> events(256);
    while (!stop.load(std::memory_order_relaxed)) {
      const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 50);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.fd == listen_fd_) {
          AcceptAll();
        } else {
          OnReadable(events[i].data.fd);
        }
      }
    }
  }

  uint64_t accepted() const { return accepted_.load(); }

 private:
  void AcceptAll() {
    while (true) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or an error to retry at the next event
      accepted_.fetch_add(1, std::memory_order_relaxed);
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.fd = fd;
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
      conns_[fd];
    }
  }

  // Reads what came; answers a complete HTTP request once; closes when the peer has
  // closed (EOF or RST), never before it.
  void OnReadable(int fd) {
    std::string& request = conns_[fd];
    char buffer[4096];
    while (true) {
      const ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n > 0) {
        if (request.size() < 8192) request.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EAGAIN) break;
      // EOF or an error (ECONNRESET): the prober is done with this connection.
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
      close(fd);
      conns_.erase(fd);
      return;
    }
    if (http_ && request.find("\r\n\r\n") != std::string::npos) {
      static constexpr char kResponse[] =
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      (void)!write(fd, kResponse, sizeof(kResponse) - 1);
      request = "answered";  // no "\r\n\r\n": not answered twice
    }
  }

  const bool http_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  std::unordered_map<int, std::string> conns_;
  std::atomic<uint64_t> accepted_{0};
};

struct Totals {
  uint64_t started = 0;
  uint64_t successes = 0;
  uint64_t failures = 0;
  uint64_t skipped_in_flight = 0;
  // Of the probes that failed at least once: how many last ended with each detail.
  std::map<std::string, int> last_details_of_failing;
};

Totals SumStats(const health::HealthChecker& checker) {
  Totals t;
  for (const health::ProbeStats& p : checker.probe_stats()) {
    t.started += p.started;
    t.successes += p.successes;
    t.failures += p.failures;
    t.skipped_in_flight += p.skipped_in_flight;
    if (p.failures > 0) t.last_details_of_failing[p.last_detail] += 1;
  }
  return t;
}

double ThreadCpuSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A thread's user and system CPU time from /proc (clock ticks, converted to seconds).
struct UserSys {
  double user = 0;
  double sys = 0;
};
UserSys ThreadUserSys(pid_t tid) {
  std::ifstream in(absl::StrFormat("/proc/self/task/%d/stat", tid));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');  // the name may hold spaces
  UserSys us;
  if (paren == std::string::npos) return us;
  unsigned long long utime = 0, stime = 0;
  // After ") ": state(3) ... utime is field 14, stime 15.
  if (std::sscanf(stat.c_str() + paren + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                  &utime, &stime) == 2) {
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    us.user = static_cast<double>(utime) / tick;
    us.sys = static_cast<double>(stime) / tick;
  }
  return us;
}

// TCP sockets in TIME_WAIT (state 06) in PROC/net/tcp and tcp6: /proc/self for this
// network namespace, /proc/PID for the one process PID is in.
int CountTimeWait(const std::string& proc = "/proc/self") {
  int count = 0;
  for (const char* file : {"/net/tcp", "/net/tcp6"}) {
    std::ifstream in(proc + file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      char local[64], remote[64], state[8];
      if (std::sscanf(line.c_str(), "%*s %63s %63s %7s", local, remote, state) == 3 &&
          std::strcmp(state, "06") == 0) {
        ++count;
      }
    }
  }
  return count;
}

// --remote-like: the targets' network namespace, veth pair and server process.
constexpr char kNetnsPrefix[] = "shb-target-";
constexpr int kHealthCpu = 0;
constexpr int kServerCpu = 1;

// Runs a shell command, bounded to 10 s; false (and a message) when it fails.
bool Sh(const std::string& command, bool quiet = false) {
  const std::string bounded =
      "timeout 10 sh -c '" + command + "'" + (quiet ? " >/dev/null 2>&1" : "");
  const int rc = std::system(bounded.c_str());
  if (rc != 0 && !quiet) std::fprintf(stderr, "failed (%d): %s\n", rc, command.c_str());
  return rc == 0;
}

bool PidAlive(const std::string& digits) {
  int pid = 0;
  if (!absl::SimpleAtoi(digits, &pid) || pid <= 0) return false;
  return kill(pid, 0) == 0 || errno == EPERM;
}

// Deletes the namespaces and veth ends left by runs whose process is gone.
void CleanUpLeftovers() {
  if (DIR* dir = opendir("/run/netns")) {
    while (dirent* e = readdir(dir)) {
      const std::string name = e->d_name;
      if (name.rfind(kNetnsPrefix, 0) == 0 && !PidAlive(name.substr(std::strlen(kNetnsPrefix)))) {
        std::fprintf(stderr, "deleting leftover netns %s\n", name.c_str());
        Sh("ip netns del " + name, /*quiet=*/true);
      }
    }
    closedir(dir);
  }
  if (DIR* dir = opendir("/sys/class/net")) {
    std::vector<std::string> stale;
    while (dirent* e = readdir(dir)) {
      const std::string name = e->d_name;
      if (name.rfind("shbA", 0) == 0 && !PidAlive(name.substr(4))) stale.push_back(name);
    }
    closedir(dir);
    for (const std::string& name : stale) {
      std::fprintf(stderr, "deleting leftover link %s\n", name.c_str());
      Sh("ip link del " + name, /*quiet=*/true);
    }
  }
}

std::string g_netns;     // set while the namespace exists
pid_t g_server_pid = 0;  // the server child, while it runs
pid_t g_main_pid = 0;

void CleanUpRemoteLike() {
  if (getpid() != g_main_pid) return;  // not in the child
  if (g_server_pid > 0) {
    kill(g_server_pid, SIGKILL);
    waitpid(g_server_pid, nullptr, 0);
    g_server_pid = 0;
  }
  if (!g_netns.empty()) {
    // Deleting the namespace deletes shbB, hence its peer shbA and the route via it.
    Sh("ip netns del " + g_netns);
    Sh(absl::StrFormat("ip link del shbA%d", g_main_pid), /*quiet=*/true);
    g_netns.clear();
  }
}

void OnFatalSignal(int sig) {
  CleanUpRemoteLike();
  signal(sig, SIG_DFL);
  raise(sig);
}

bool SetUpRemoteLike() {
  if (geteuid() != 0) {
    std::fprintf(stderr, "--remote-like needs root (network namespaces, veth, RPS)\n");
    return false;
  }
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
    std::fprintf(stderr, "--remote-like needs 2 CPUs\n");
    return false;
  }
  g_main_pid = getpid();
  CleanUpLeftovers();
  std::atexit(CleanUpRemoteLike);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV}) signal(sig, OnFatalSignal);
  const std::string ns = absl::StrFormat("%s%d", kNetnsPrefix, g_main_pid);
  const std::string a = absl::StrFormat("shbA%d", g_main_pid);
  const std::string b = absl::StrFormat("shbB%d", g_main_pid);
  if (!Sh("ip netns add " + ns)) return false;
  g_netns = ns;
  const std::string in_ns = "ip netns exec " + ns + " ";
  const std::string rps_server = absl::StrFormat("%x", 1 << kServerCpu);
  const std::string rps_health = absl::StrFormat("%x", 1 << kHealthCpu);
  return Sh("ip link add " + a + " type veth peer name " + b + " netns " + ns) &&
         Sh("ip addr add 10.201.0.1/30 dev " + a) && Sh("ip link set " + a + " up") &&
         Sh("ip -n " + ns + " addr add 10.201.0.2/30 dev " + b) &&
         Sh("ip -n " + ns + " link set " + b + " up") && Sh("ip -n " + ns + " link set lo up") &&
         Sh("ip -n " + ns + " route add local 10.202.0.0/16 dev lo") &&
         Sh("ip route add 10.202.0.0/16 via 10.201.0.2 dev " + a) &&
         Sh("sysctl -qw net.ipv4.conf." + a + ".rp_filter=0") &&
         Sh(in_ns + "sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf." + b +
            ".rp_filter=0") &&
         // The target side's receive processing on the server's CPU; the SYN-ACKs' on the
         // health thread's CPU (left alone, it would run on the CPU that sent them: 1).
         Sh(in_ns + "sh -c \"echo " + rps_server + " > /sys/class/net/" + b +
            "/queues/rx-0/rps_cpus\"") &&
         Sh("echo " + rps_health + " > /sys/class/net/" + a + "/queues/rx-0/rps_cpus");
}

volatile sig_atomic_t g_child_stop = 0;
void OnChildStop(int) { g_child_stop = 1; }

// Forks the server into the targets' namespace, pinned to kServerCpu; returns its port
// (0 on error). The child serves until SIGTERM (or this process's death).
uint16_t StartServerChild(bool http) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return 0;
  const pid_t pid = fork();
  if (pid < 0) return 0;
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV}) signal(sig, SIG_DFL);
    signal(SIGTERM, OnChildStop);
    close(pipe_fds[0]);
    uint16_t port = 0;
    const int ns_fd = open(("/run/netns/" + g_netns).c_str(), O_RDONLY | O_CLOEXEC);
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(kServerCpu, &cpus);
    Server server(http);
    if (ns_fd >= 0 && setns(ns_fd, CLONE_NEWNET) == 0 &&
        sched_setaffinity(0, sizeof(cpus), &cpus) == 0) {
      port = server.Listen();
    } else {
      std::fprintf(stderr, "server child: setns/affinity: %s\n", std::strerror(errno));
    }
    (void)!write(pipe_fds[1], &port, sizeof(port));
    close(pipe_fds[1]);
    if (port == 0) _exit(1);
    std::atomic<bool> stop{false};
    std::thread watcher([&] {
      while (!g_child_stop) usleep(20000);
      stop = true;
    });
    server.Run(stop);
    watcher.join();
    _exit(0);
  }
  g_server_pid = pid;
  close(pipe_fds[1]);
  uint16_t port = 0;
  if (read(pipe_fds[0], &port, sizeof(port)) != sizeof(port)) port = 0;
  close(pipe_fds[0]);
  return port;
}

// Busy time of one CPU from /proc/stat, in seconds: total (all but idle and iowait) and
// irq + softirq.
struct CpuTimes {
  double busy = 0;
  double irq = 0;
};
CpuTimes ReadCpu(int cpu) {
  std::ifstream in("/proc/stat");
  std::string line;
  const std::string prefix = absl::StrFormat("cpu%d ", cpu);
  CpuTimes t;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    unsigned long long v[8] = {};
    std::sscanf(line.c_str() + prefix.size(), "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
                &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    t.busy = static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / tick;
    t.irq = static_cast<double>(v[5] + v[6]) / tick;
  }
  return t;
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseFlags(argc, argv, &o)) return 2;

  Server server(o.http);
  std::atomic<bool> stop_server{false};
  std::thread server_thread;
  uint16_t port = 0;
  if (o.remote_like) {
    if (!SetUpRemoteLike()) return 1;  // atexit deletes what was made
    port = StartServerChild(o.http);
  } else {
    port = server.Listen();
  }
  if (port == 0) {
    std::fprintf(stderr, "cannot listen: %s\n", std::strerror(errno));
    return 1;
  }
  if (!o.remote_like) server_thread = std::thread([&] { server.Run(stop_server); });
  auto stop_serving = [&] {
    if (o.remote_like) {
      kill(g_server_pid, SIGTERM);
      waitpid(g_server_pid, nullptr, 0);
      g_server_pid = 0;
    } else {
      stop_server = true;
      server_thread.join();
    }
  };

  absl::StatusOr<std::unique_ptr<health::HealthChecker>> checker =
      health::HealthChecker::Create(/*seed=*/1);
  if (!checker.ok()) {
    std::fprintf(stderr, "HealthChecker: %s\n", std::string(checker.status().message()).c_str());
    stop_serving();
    return 1;
  }
  std::vector<health::CheckSpec> checks;
  checks.reserve(static_cast<size_t>(o.backends));
  for (int i = 0; i < o.backends; ++i) {
    health::CheckSpec c;
    c.subscriber = static_cast<uint64_t>(i) + 1;
    c.probe.type = o.http  ? health::ProbeSpec::kHttp
                   : o.syn ? health::ProbeSpec::kTcpSyn
                           : health::ProbeSpec::kTcp;
    c.probe.address = *health::SocketAddress::Parse(
        absl::StrFormat(o.remote_like ? "10.202.%d.%d" : "127.0.%d.%d", 1 + i / 250, 1 + i % 250),
        port);
    c.probe.timeout = absl::Milliseconds(o.timeout_ms);
    c.probe.path = "/healthz";
    c.interval = absl::Milliseconds(o.interval_ms);
    checks.push_back(std::move(c));
  }
  if (absl::Status s = (*checker)->SetChecks(std::move(checks)); !s.ok()) {
    std::fprintf(stderr, "SetChecks: %s\n", std::string(s.message()).c_str());
    stop_serving();
    return 1;
  }

  std::atomic<bool> stop{false};
  std::atomic<pid_t> health_tid{0};
  std::thread health_thread([&] {
    health_tid = gettid();
    if (o.remote_like) {
      cpu_set_t cpus;
      CPU_ZERO(&cpus);
      CPU_SET(kHealthCpu, &cpus);
      pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
    }
    (*checker)->Run(stop);
  });
  clockid_t health_clock;
  clockid_t server_clock;
  pthread_getcpuclockid(health_thread.native_handle(), &health_clock);
  if (o.remote_like) {
    clock_getcpuclockid(g_server_pid, &server_clock);  // the child process's CPU
  } else {
    pthread_getcpuclockid(server_thread.native_handle(), &server_clock);
  }

  absl::SleepFor(absl::Seconds(o.warmup));
  const UserSys us0 = ThreadUserSys(health_tid);
  const CpuTimes health_cpu0 = ReadCpu(kHealthCpu), server_cpu0 = ReadCpu(kServerCpu);
  const double cpu0 = ThreadCpuSeconds(health_clock);
  const double server0 = ThreadCpuSeconds(server_clock);
  const absl::Time wall0 = absl::Now();
  const Totals t0 = SumStats(**checker);
  absl::SleepFor(absl::Seconds(o.seconds));
  const double cpu1 = ThreadCpuSeconds(health_clock);
  const UserSys us1 = ThreadUserSys(health_tid);
  const CpuTimes health_cpu1 = ReadCpu(kHealthCpu), server_cpu1 = ReadCpu(kServerCpu);
  const double server1 = ThreadCpuSeconds(server_clock);
  const absl::Time wall1 = absl::Now();
  const Totals t1 = SumStats(**checker);
  const int time_wait = CountTimeWait();
  const int time_wait_targets =
      o.remote_like ? CountTimeWait(absl::StrFormat("/proc/%d", g_server_pid)) : 0;
  int up = 0;
  for (int i = 0; i < o.backends; ++i) {
    up += (*checker)->health(static_cast<uint64_t>(i) + 1) == health::Health::kUp ? 1 : 0;
  }
  const double cpu_whole_run = ThreadCpuSeconds(health_clock);  // from thread start

  stop = true;
  health_thread.join();
  checker->reset();
  stop_serving();

  const double wall = absl::ToDoubleSeconds(wall1 - wall0);
  const double started = static_cast<double>(t1.started - t0.started);
  const double successes = static_cast<double>(t1.successes - t0.successes);
  const double failures = static_cast<double>(t1.failures - t0.failures);
  const double expected = o.backends * 1000.0 / o.interval_ms;
  const double cpu_pct = 100.0 * (cpu1 - cpu0) / wall;
  std::printf(
      "| type | backends | interval | window | probes started/s | succeeded/s | failed/s | "
      "skipped in flight | health thread CPU | of which system | per probe | server thread CPU | "
      "backends up "
      "| TIME_WAIT at end |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::printf(
      "| %s | %d | %d ms | %.1f s | %.0f | %.0f | %.1f | %llu | %.1f%% | %.0f%% | %.1f us | %.1f%% "
      "| %d | "
      "%d |\n",
      absl::StrCat(o.http ? "http" : (o.syn ? "tcp-syn" : "tcp"),
                   o.remote_like ? " remote-like" : "")
          .c_str(),
      o.backends, o.interval_ms, wall, started / wall, successes / wall, failures / wall,
      static_cast<unsigned long long>(t1.skipped_in_flight - t0.skipped_in_flight), cpu_pct,
      us1.user + us1.sys - us0.user - us0.sys > 0
          ? 100.0 * (us1.sys - us0.sys) / (us1.user + us1.sys - us0.user - us0.sys)
          : 0.0,
      1e6 * (cpu1 - cpu0) / (started > 0 ? started : 1), 100.0 * (server1 - server0) / wall, up,
      time_wait);
  std::printf("health thread user %.1f%%, system %.1f%% of a core\n",
              100.0 * (us1.user - us0.user) / wall, 100.0 * (us1.sys - us0.sys) / wall);
  std::printf(
      "cpu%d (health thread's in --remote-like) busy %.1f%%, of which irq+softirq %.1f%%; "
      "cpu%d busy %.1f%%, irq+softirq %.1f%% (/proc/stat, all processes)\n",
      kHealthCpu, 100.0 * (health_cpu1.busy - health_cpu0.busy) / wall,
      100.0 * (health_cpu1.irq - health_cpu0.irq) / wall, kServerCpu,
      100.0 * (server_cpu1.busy - server_cpu0.busy) / wall,
      100.0 * (server_cpu1.irq - server_cpu0.irq) / wall);
  if (o.remote_like) {
    std::printf("TIME_WAIT at end in the targets' namespace: %d\n", time_wait_targets);
  }
  std::printf("health thread CPU over the whole run (incl. SetChecks and warm-up): %.2f s\n",
              cpu_whole_run);
  // The most common last results of probes that failed at least once (timeouts differ in
  // their milliseconds: the five largest groups only).
  std::vector<std::pair<int, std::string>> groups;
  for (const auto& [detail, n] : t1.last_details_of_failing) groups.emplace_back(n, detail);
  std::sort(groups.rbegin(), groups.rend());
  for (size_t i = 0; i < groups.size() && i < 5; ++i) {
    std::printf("probes that failed at least once, by their last result: %d %s\n", groups[i].first,
                groups[i].second.c_str());
  }
  if (groups.size() > 5) std::printf("(%zu more distinct last results)\n", groups.size() - 5);

  bool ok = true;
  if (started < 0.9 * expected * wall) {
    std::fprintf(stderr, "FAIL: %.0f probes/s started, expected about %.0f\n", started / wall,
                 expected);
    ok = false;
  }
  if (failures > 0.01 * started) {
    std::fprintf(stderr, "FAIL: %.0f of %.0f probes failed\n", failures, started);
    ok = false;
  }
  if (up < o.backends * 99 / 100) {
    std::fprintf(stderr, "FAIL: only %d of %d backends up\n", up, o.backends);
    ok = false;
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) { return sluice::bench::Main(argc, argv); }
