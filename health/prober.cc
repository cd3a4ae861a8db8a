#include "health/prober.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "health/http_transfer.h"
#include "health/syn_probe.h"

namespace sluice::health {
namespace {

// epoll data of a libcurl socket: this bit plus the fd. Everything else carries a probe
// id, which is never reused, so a stale event for a finished probe finds nothing.
constexpr uint64_t kCurlSocketTag = uint64_t{1} << 63;
// epoll data of a SynProber raw socket: this bit plus the fd.
constexpr uint64_t kSynSocketTag = uint64_t{1} << 62;

// Deadlines and elapsed times on the monotonic clock: wall-clock steps must not fail or
// stretch probes.
absl::Time MonotonicNow() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return absl::TimeFromTimespec(ts);
}

std::string ErrnoText(int err) { return std::strerror(err); }

std::string ConnectFailure(int err) {
  if (err == ECONNREFUSED) return "connect refused";
  return absl::StrCat("connect failed: ", ErrnoText(err));
}

// SO_LINGER {1, 0}: close(2) sends RST and frees the socket at once, so health checks
// leave no TIME_WAIT sockets on the LB host (README.md).
void CloseWithReset(int fd) {
  const linger off{.l_onoff = 1, .l_linger = 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, sizeof(off));
  close(fd);
}

}  // namespace

struct Prober::Probe {
  uint64_t token = 0;
  ProbeSpec::Type type = ProbeSpec::kTcp;
  DoneCallback done;
  absl::Time start;
  absl::Time deadline;
  absl::Duration timeout;
  int fd = -1;                         // kTcp, kUdp
  std::unique_ptr<HttpTransfer> http;  // kHttp
  bool syn_fallback = false;           // a kTcpSyn probe run as kTcp (no raw socket)
};

struct Prober::CurlCallbacks {
  static int Socket(CURL* /*easy*/, curl_socket_t fd, int what, void* self, void* /*data*/) {
    static_cast<Prober*>(self)->WatchCurlSocket(fd, what);
    return 0;
  }
  static int Timer(CURLM* /*multi*/, long timeout_ms, void* self) {  // NOLINT(google-runtime-int)
    auto* prober = static_cast<Prober*>(self);
    if (timeout_ms < 0) {
      prober->curl_timer_.reset();
    } else {
      prober->curl_timer_ = MonotonicNow() + absl::Milliseconds(timeout_ms);
    }
    return 0;
  }
};

absl::StatusOr<std::unique_ptr<Prober>> Prober::Create() {
  // curl_global_init is not thread-safe everywhere; once per process, before any handle.
  static std::once_flag curl_once;
  static CURLcode curl_init = CURLE_OK;
  std::call_once(curl_once, [] { curl_init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (curl_init != CURLE_OK) {
    return absl::InternalError(absl::StrCat("curl_global_init: ", curl_easy_strerror(curl_init)));
  }
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return absl::InternalError(absl::StrCat("epoll_create1: ", ErrnoText(errno)));
  std::unique_ptr<Prober> prober(new Prober(epoll_fd));
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) return absl::InternalError("curl_multi_init failed");
  prober->multi_ = multi;
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &CurlCallbacks::Socket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, prober.get());
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &CurlCallbacks::Timer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, prober.get());
  return prober;
}

Prober::Prober(int epoll_fd) : epoll_fd_(epoll_fd) {}

Prober::~Prober() {
  auto* multi = static_cast<CURLM*>(multi_);
  for (auto& [id, probe] : probes_) {
    if (probe->http != nullptr) curl_multi_remove_handle(multi, probe->http->easy());
    if (probe->fd >= 0) CloseWithReset(probe->fd);
  }
  probes_.clear();  // frees the easy handles, after they left the multi
  if (multi != nullptr) curl_multi_cleanup(multi);
  syn_.reset();
  close(epoll_fd_);
}

void Prober::Start(uint64_t token, const ProbeSpec& spec, DoneCallback done) {
  const uint64_t id = next_id_++;
  auto probe = std::make_unique<Probe>();
  probe->token = token;
  probe->type = spec.type;
  probe->done = std::move(done);
  probe->start = MonotonicNow();
  probe->timeout = spec.timeout;
  probe->deadline = probe->start + spec.timeout;
  Probe& p = *probe;
  probes_.emplace(id, std::move(probe));
  deadlines_.emplace(p.deadline, id);
  if (!spec.address.is_set()) {
    Finish(id, false, "no address");
    return;
  }
  switch (spec.type) {
    case ProbeSpec::kTcp:
      StartTcp(id, p, spec);
      break;
    case ProbeSpec::kUdp:
      StartUdp(id, p, spec);
      break;
    case ProbeSpec::kHttp:
      StartHttp(id, p, spec);
      break;
    case ProbeSpec::kTcpSyn:
      StartSyn(id, p, spec);
      break;
  }
}

void Prober::StartSyn(uint64_t id, Probe& probe, const ProbeSpec& spec) {
  if (syn_ == nullptr && !syn_error_) {
    absl::StatusOr<std::unique_ptr<SynProber>> syn = SynProber::Create();
    if (syn.ok()) {
      for (const int fd : {(*syn)->fd4(), (*syn)->fd6()}) {
        if (fd < 0) continue;
        epoll_event event{.events = EPOLLIN,
                          .data = {.u64 = kSynSocketTag | static_cast<uint32_t>(fd)}};
        if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
          syn = absl::InternalError(absl::StrCat("epoll_ctl: ", ErrnoText(errno)));
          break;
        }
      }
    }
    if (syn.ok()) {
      syn_ = *std::move(syn);
    } else {
      syn_error_.emplace(syn.status().message());
      std::fprintf(stderr, "health: tcp_mode syn unavailable (%s); using connect probes\n",
                   syn_error_->c_str());
    }
  }
  if (syn_ == nullptr) {
    probe.type = ProbeSpec::kTcp;
    probe.syn_fallback = true;
    StartTcp(id, probe, spec);
    return;
  }
  if (absl::Status sent = syn_->Send(id, spec.address); !sent.ok()) {
    Finish(id, false, std::string{sent.message()});
  }
}

void Prober::OnSynReadable(int fd) {
  std::vector<SynProber::Reply> replies;
  syn_->Drain(fd, &replies);
  for (const SynProber::Reply& reply : replies) {
    Finish(reply.id, reply.syn_ack, reply.syn_ack ? "syn-ack" : "reset (port closed)");
  }
}

void Prober::StartTcp(uint64_t id, Probe& probe, const ProbeSpec& spec) {
  probe.fd = socket(spec.address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe.fd < 0) {
    Finish(id, false, absl::StrCat("socket: ", ErrnoText(errno)));
    return;
  }
  if (connect(probe.fd, spec.address.get(), spec.address.size()) == 0) {
    Finish(id, true, "connected");
    return;
  }
  if (errno != EINPROGRESS) {
    Finish(id, false, ConnectFailure(errno));
    return;
  }
  epoll_event event{.events = EPOLLOUT, .data = {.u64 = id}};
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, probe.fd, &event) != 0) {
    Finish(id, false, absl::StrCat("epoll_ctl: ", ErrnoText(errno)));
  }
}

void Prober::StartUdp(uint64_t id, Probe& probe, const ProbeSpec& spec) {
  probe.fd = socket(spec.address.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe.fd < 0) {
    Finish(id, false, absl::StrCat("socket: ", ErrnoText(errno)));
    return;
  }
  // Connected, so that the kernel reports an ICMP port unreachable as ECONNREFUSED on
  // this socket and drops datagrams from anyone but the backend.
  if (connect(probe.fd, spec.address.get(), spec.address.size()) != 0) {
    Finish(id, false, absl::StrCat("connect: ", ErrnoText(errno)));
    return;
  }
  if (send(probe.fd, spec.payload.data(), spec.payload.size(), 0) < 0) {
    Finish(id, false, absl::StrCat("send: ", ErrnoText(errno)));
    return;
  }
  epoll_event event{.events = EPOLLIN, .data = {.u64 = id}};
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, probe.fd, &event) != 0) {
    Finish(id, false, absl::StrCat("epoll_ctl: ", ErrnoText(errno)));
  }
}

void Prober::StartHttp(uint64_t id, Probe& probe, const ProbeSpec& spec) {
  probe.http = HttpTransfer::Create(spec);
  if (probe.http == nullptr) {
    Finish(id, false, "curl_easy_init failed");
    return;
  }
  // The id, not a pointer: a message for a probe that already ended then finds nothing.
  curl_easy_setopt(probe.http->easy(), CURLOPT_PRIVATE,
                   reinterpret_cast<void*>(id));  // NOLINT(performance-no-int-to-ptr)
  const CURLMcode code = curl_multi_add_handle(static_cast<CURLM*>(multi_), probe.http->easy());
  if (code != CURLM_OK) {
    // Not in the multi: Finish must not remove it.
    probe.http.reset();
    Finish(id, false, absl::StrCat("curl_multi_add_handle: ", curl_multi_strerror(code)));
  }
  // libcurl now asks for a 0 ms timer (CurlCallbacks::Timer); the next Poll starts it.
}

void Prober::WatchCurlSocket(int fd, int what) {
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);  // may already be gone with the fd
    curl_fds_.erase(fd);
    return;
  }
  epoll_event event{.events = 0, .data = {.u64 = kCurlSocketTag | static_cast<uint32_t>(fd)}};
  if ((what & CURL_POLL_IN) != 0) event.events |= EPOLLIN;
  if ((what & CURL_POLL_OUT) != 0) event.events |= EPOLLOUT;
  if (curl_fds_.contains(fd) && epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) == 0) return;
  // New, or a reused fd number whose old socket closed (and left epoll) unannounced.
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0 && errno == EEXIST) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
  }
  curl_fds_.insert(fd);
}

void Prober::Poll(absl::Duration max_wait) {
  absl::Time now = MonotonicNow();
  absl::Time wake = now + std::max(max_wait, absl::ZeroDuration());
  if (!finished_.empty()) wake = now;
  if (!deadlines_.empty()) wake = std::min(wake, deadlines_.begin()->first);
  if (curl_timer_) wake = std::min(wake, *curl_timer_);
  const int64_t wait_ms =
      wake <= now ? 0 : absl::ToInt64Milliseconds(absl::Ceil(wake - now, absl::Milliseconds(1)));

  std::array<epoll_event, 64> events{};
  int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                     static_cast<int>(std::min<int64_t>(wait_ms, INT_MAX)));
  if (n < 0) n = 0;  // EINTR: just a shorter round
  auto* multi = static_cast<CURLM*>(multi_);
  int running = 0;
  for (int i = 0; i < n; ++i) {
    const uint64_t data = events[i].data.u64;
    const uint32_t what = events[i].events;
    if ((data & kCurlSocketTag) != 0) {
      int mask = 0;
      if ((what & EPOLLIN) != 0) mask |= CURL_CSELECT_IN;
      if ((what & EPOLLOUT) != 0) mask |= CURL_CSELECT_OUT;
      if ((what & (EPOLLERR | EPOLLHUP)) != 0) mask |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi, static_cast<curl_socket_t>(data & ~kCurlSocketTag), mask,
                               &running);
      continue;
    }
    if ((data & kSynSocketTag) != 0) {
      OnSynReadable(static_cast<int>(data & ~kSynSocketTag));
      continue;
    }
    const auto it = probes_.find(data);
    if (it == probes_.end()) continue;  // finished earlier in this round
    if (it->second->type == ProbeSpec::kTcp) {
      OnTcpEvent(data, what);
    } else {
      OnUdpEvent(data);
    }
  }

  now = MonotonicNow();
  if (curl_timer_ && *curl_timer_ <= now) {
    curl_timer_.reset();  // the action may set a new one
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
  }
  DrainCurlMessages();

  // Deadlines: whatever has not finished by now failed.
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const uint64_t id = deadlines_.begin()->second;
    if (probes_.at(id)->type == ProbeSpec::kTcpSyn && syn_ != nullptr) {
      syn_->Release(id, /*timed_out=*/true);
    }
    Finish(id, false, absl::StrCat("timeout after ", absl::FormatDuration(probes_.at(id)->timeout)),
           /*timed_out=*/true);
  }

  // Last, so that callbacks see a consistent Prober and may Start more probes.
  std::vector<Finished> finished;
  finished.swap(finished_);
  for (Finished& f : finished) f.done(f.token, std::move(f.result));
}

void Prober::OnTcpEvent(uint64_t id, uint32_t events) {
  const int fd = probes_.at(id)->fd;
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    Finish(id, false, ConnectFailure(err));
  } else if ((events & EPOLLOUT) != 0) {
    Finish(id, true, "connected");
  } else {
    Finish(id, false, "connection closed");
  }
}

void Prober::OnUdpEvent(uint64_t id) {
  char reply[2048];
  const ssize_t got = recv(probes_.at(id)->fd, reply, sizeof(reply), MSG_TRUNC);
  if (got >= 0) {
    Finish(id, true, absl::StrCat("reply ", got, " bytes"));
  } else if (errno == ECONNREFUSED) {
    Finish(id, false, "connection refused (ICMP port unreachable)");
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    Finish(id, false, absl::StrCat("recv: ", ErrnoText(errno)));
  }
}

void Prober::DrainCurlMessages() {
  auto* multi = static_cast<CURLM*>(multi_);
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    void* priv = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
    const auto id = reinterpret_cast<uint64_t>(priv);
    const auto it = probes_.find(id);
    if (it == probes_.end()) continue;
    HttpVerdict verdict = it->second->http->Verdict(msg->data.result);
    // libcurl's own CURLOPT_TIMEOUT_MS may fire before our deadline: a timeout too.
    Finish(id, verdict.success, std::move(verdict.detail),
           msg->data.result == CURLE_OPERATION_TIMEDOUT);
  }
}

void Prober::Finish(uint64_t id, bool success, std::string detail, bool timed_out) {
  const auto it = probes_.find(id);
  if (it == probes_.end()) return;
  std::unique_ptr<Probe> probe = std::move(it->second);
  probes_.erase(it);
  deadlines_.erase({probe->deadline, id});
  if (probe->fd >= 0) {
    // epoll forgets the fd on close; UDP needs no RST (no connection state), TCP does.
    if (probe->type == ProbeSpec::kTcp) {
      CloseWithReset(probe->fd);
    } else {
      close(probe->fd);
    }
  }
  if (probe->http != nullptr) {
    curl_multi_remove_handle(static_cast<CURLM*>(multi_), probe->http->easy());
  }
  if (probe->type == ProbeSpec::kTcpSyn && syn_ != nullptr) syn_->Release(id);  // no-op if answered
  if (probe->syn_fallback) absl::StrAppend(&detail, " (syn unavailable: connect probe)");
  finished_.push_back({.token = probe->token,
                       .done = std::move(probe->done),
                       .result = {.success = success,
                                  .detail = std::move(detail),
                                  .elapsed = MonotonicNow() - probe->start,
                                  .timed_out = timed_out}});
}

}  // namespace sluice::health
