// The daemon's control socket (sluicectl talks to it). Wire format: control_protocol.h.
//
// Threads: Create() and the destructor run on the control thread, which also calls
// Poll() once per loop iteration to answer queued requests; Poll never blocks. The server
// owns one background thread that accepts one connection at a time, reads its request
// (at most 64 KiB, within 2 s), queues it for Poll, waits for the answer (at most 30 s),
// writes it and closes. The handler therefore always runs on the control thread and may
// touch control-plane state without locks.
//
// Access: the socket is mode 0600, so only root (the daemon's user) can use it, or with
// `control.group` (ControlServerOptions::group) root:GROUP mode 0660.
#ifndef SLUICE_LB_CONTROL_SERVER_H_
#define SLUICE_LB_CONTROL_SERVER_H_

#include <sys/types.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "lb/control_protocol.h"

namespace sluice::lb {

struct ControlServerOptions {
  absl::Duration read_timeout = absl::Seconds(2);     // per connection, for the request
  absl::Duration answer_timeout = absl::Seconds(30);  // for Poll to answer
  absl::Duration write_timeout = absl::Seconds(2);    // for the response
  // control.group: empty, the socket is mode 0600 (its owner, root, alone); else it is
  // owned by this group and mode 0660. Create fails when no such group exists.
  std::string group;
};

class ControlServer {
 public:
  using Handler = std::function<ControlResponse(const std::vector<std::string>& args)>;

  // Creates the parent directory if missing (0755), replaces a stale socket at
  // `socket_path` (fails if a live daemon answers on it, or if the path is not a
  // socket), binds, makes the socket 0600 (0660 for options.group) and listens.
  static absl::StatusOr<std::unique_ptr<ControlServer>> Create(
      const std::string& socket_path, const ControlServerOptions& options = {});

  // Stops the thread (it never waits longer than one poll() wake-up), closes the socket
  // and unlinks the path if it is still the socket this server bound.
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Control thread: runs `handler` for every queued request and returns how many.
  size_t Poll(const Handler& handler);

  const std::string& socket_path() const { return socket_path_; }

 private:
  struct Pending {
    std::vector<std::string> args;
    bool answered = false;
    ControlResponse response;
  };

  ControlServer(std::string socket_path, const ControlServerOptions& options, int listen_fd,
                int stop_fd, dev_t dev, ino_t ino);
  void Run();                                               // the server thread
  void Serve(int conn_fd);                                  // one connection, on the server thread
  ControlResponse Dispatch(std::vector<std::string> args);  // queue and wait for Poll

  const std::string socket_path_;
  const ControlServerOptions options_;
  const int listen_fd_;
  const int stop_fd_;  // eventfd: readable once the destructor asks the thread to stop
  const dev_t dev_;    // identity of the socket file we bound, so that we never unlink
  const ino_t ino_;    // a successor's socket

  absl::Mutex mu_;
  std::deque<std::shared_ptr<Pending>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::thread thread_;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_CONTROL_SERVER_H_
