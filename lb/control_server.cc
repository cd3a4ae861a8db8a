#include "lb/control_server.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lb/socket_io.h"

namespace sluice::lb {
namespace {

std::string Errno(const char* what, const std::string& path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

// mkdir -p with mode 0755 for the directories it creates.
absl::Status MakeParentDirectories(const std::string& socket_path) {
  const std::filesystem::path parent = std::filesystem::path(socket_path).parent_path();
  std::filesystem::path prefix;
  for (const auto& part : parent) {
    prefix /= part;
    if (::mkdir(prefix.c_str(), 0755) == 0) {
      ::chmod(prefix.c_str(), 0755);  // whatever the umask
    } else if (errno != EEXIST) {
      return absl::InternalError(Errno("cannot create directory", prefix.string()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "control socket path '", path, "' must have 1 to ", sizeof(addr.sun_path) - 1, " bytes"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// A socket file left at `path`: removed when nobody answers on it. Anything else at the
// path is an error, so that a typo never deletes a regular file.
absl::Status RemoveStaleSocket(const std::string& path, const sockaddr_un& addr) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::InternalError(Errno("cannot stat", path));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a socket; not removing it"));
  }
  const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return absl::InternalError(Errno("socket() for", path));
  // An empty request: a live server closes it without dispatching anything.
  const int rc = ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int connect_errno = errno;
  ::close(probe);
  if (rc == 0) {
    return absl::FailedPreconditionError(absl::StrCat("another sluice is listening on ", path));
  }
  if (connect_errno != ECONNREFUSED) {
    errno = connect_errno;
    return absl::FailedPreconditionError(Errno("cannot check the existing socket", path));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(Errno("cannot remove stale socket", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<gid_t> GroupId(const std::string& name) {
  group gr{};
  group* found = nullptr;
  std::vector<char> buffer(16384);
  const int err = ::getgrnam_r(name.c_str(), &gr, buffer.data(), buffer.size(), &found);
  if (found == nullptr) {
    return absl::NotFoundError(err == 0 ? absl::StrCat("control.group: no group named '", name, "'")
                                        : absl::StrCat("control.group: cannot look up '", name,
                                                       "': ", std::strerror(err)));
  }
  return gr.gr_gid;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ControlServer>> ControlServer::Create(
    const std::string& socket_path, const ControlServerOptions& options) {
  absl::StatusOr<sockaddr_un> addr = UnixAddress(socket_path);
  if (!addr.ok()) return addr.status();
  if (absl::Status s = MakeParentDirectories(socket_path); !s.ok()) return s;
  if (absl::Status s = RemoveStaleSocket(socket_path, *addr); !s.ok()) return s;

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return absl::InternalError(Errno("socket() for", socket_path));
  auto fail = [&](std::string message) {
    ::close(fd);
    return absl::InternalError(std::move(message));
  };
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    return fail(Errno("cannot bind", socket_path));
  }
  // Before listen(): until then every connect() is refused, so there is no window in
  // which the umask's mode lets someone else in.
  if (!options.group.empty()) {
    absl::StatusOr<gid_t> gid = GroupId(options.group);
    if (!gid.ok() || ::chown(socket_path.c_str(), static_cast<uid_t>(-1), *gid) != 0) {
      std::string message =
          gid.ok() ? Errno("cannot chown", socket_path) : std::string(gid.status().message());
      ::unlink(socket_path.c_str());
      return fail(std::move(message));
    }
  }
  struct stat st;
  const mode_t mode = options.group.empty() ? 0600 : 0660;
  if (::chmod(socket_path.c_str(), mode) != 0 || ::stat(socket_path.c_str(), &st) != 0) {
    std::string message = Errno("cannot chmod", socket_path);
    ::unlink(socket_path.c_str());
    return fail(std::move(message));
  }
  if (::listen(fd, 8) != 0) {
    std::string message = Errno("cannot listen on", socket_path);
    ::unlink(socket_path.c_str());
    return fail(std::move(message));
  }
  const int stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) {
    std::string message = Errno("eventfd() for", socket_path);
    ::unlink(socket_path.c_str());
    return fail(std::move(message));
  }
  return std::unique_ptr<ControlServer>(
      new ControlServer(socket_path, options, fd, stop_fd, st.st_dev, st.st_ino));
}

ControlServer::ControlServer(std::string socket_path, const ControlServerOptions& options,
                             int listen_fd, int stop_fd, dev_t dev, ino_t ino)
    : socket_path_(std::move(socket_path)),
      options_(options),
      listen_fd_(listen_fd),
      stop_fd_(stop_fd),
      dev_(dev),
      ino_(ino),
      thread_([this] { Run(); }) {}

ControlServer::~ControlServer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;  // wakes Dispatch
  }
  const uint64_t one = 1;
  (void)!::write(stop_fd_, &one, sizeof(one));  // wakes poll() in Run and socket_io
  thread_.join();
  ::close(listen_fd_);
  ::close(stop_fd_);
  struct stat st;
  if (::lstat(socket_path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    ::unlink(socket_path_.c_str());
  }
}

size_t ControlServer::Poll(const Handler& handler) {
  std::deque<std::shared_ptr<Pending>> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(queue_);
  }
  for (const std::shared_ptr<Pending>& pending : batch) {
    ControlResponse response = handler(pending->args);
    absl::MutexLock lock(&mu_);
    pending->response = std::move(response);
    pending->answered = true;
  }
  return batch.size();
}

void ControlServer::Run() {
  for (;;) {
    std::array<pollfd, 2> fds = {
        {{.fd = listen_fd_, .events = POLLIN}, {.fd = stop_fd_, .events = POLLIN}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;  // cannot happen with valid fds; the daemon keeps running without sluicectl
    }
    if (fds[1].revents != 0) return;
    const int conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (conn < 0) continue;  // EAGAIN, ECONNABORTED, EMFILE: try again on the next wake-up
    Serve(conn);
    ::close(conn);
  }
}

void ControlServer::Serve(int conn_fd) {
  absl::StatusOr<std::string> request =
      ReadUntilEof(conn_fd, absl::Now() + options_.read_timeout, kMaxControlRequestBytes, stop_fd_);
  ControlResponse response;
  if (!request.ok()) {
    if (absl::IsCancelled(request.status())) return;
    if (absl::IsResourceExhausted(request.status())) {
      response = {
          .exit_code = 2,
          .text = absl::StrCat("request larger than ", kMaxControlRequestBytes, " bytes\n")};
    } else {
      return;  // timed out or broken: nobody is waiting for an answer that makes sense
    }
  } else {
    absl::StatusOr<std::vector<std::string>> args = DecodeControlRequest(*request);
    if (!args.ok()) {
      response = {.exit_code = 2, .text = absl::StrCat(args.status().message(), "\n")};
    } else if (args->empty()) {
      return;  // a liveness probe (see RemoveStaleSocket)
    } else {
      response = Dispatch(*std::move(args));
    }
  }
  (void)WriteAll(conn_fd, EncodeControlResponse(response), absl::Now() + options_.write_timeout,
                 stop_fd_);
}

ControlResponse ControlServer::Dispatch(std::vector<std::string> args) {
  auto pending = std::make_shared<Pending>();
  pending->args = std::move(args);
  absl::MutexLock lock(&mu_);
  queue_.push_back(pending);
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return pending->answered || stopping_; };
  mu_.AwaitWithTimeout(absl::Condition(&done), options_.answer_timeout);
  if (pending->answered) return std::move(pending->response);
  // Not answered: drop it if Poll has not taken it yet, so that a late Poll does not act
  // on a request whose client has been told it failed. If Poll is running it, its answer
  // is discarded (the shared_ptr keeps `pending` alive for it).
  std::erase(queue_, pending);
  if (stopping_) return {.exit_code = 1, .text = "sluice is stopping\n"};
  return {.exit_code = 1,
          .text = absl::StrCat("the control thread did not answer within ",
                               absl::FormatDuration(options_.answer_timeout), "\n")};
}

}  // namespace sluice::lb
