#include "lb/service_notify.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "build_config.h"

#if SLUICE_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace sluice::lb {

namespace {

// One datagram per call: the service manager applies its fields together (READY=1 and
// STATUS= at once, RELOADING=1 with its MONOTONIC_USEC).
void Send(const std::string& message) {
#if SLUICE_HAVE_LIBSYSTEMD
  // unset_environment 0: a later call must still find NOTIFY_SOCKET. The result is
  // ignored on purpose: without a listening service manager there is nobody to tell.
  sd_notify(0, message.c_str());
#else
  (void)message;
#endif
}

uint64_t MonotonicUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

}  // namespace

std::string StatusLine(const std::string& text, size_t max_chars) {
  std::string line = absl::StrReplaceAll(text, {{"\n", "; "}});
  while (line.size() >= 2 && line.compare(line.size() - 2, 2, "; ") == 0) {
    line.resize(line.size() - 2);
  }
  if (line.size() > max_chars) line = line.substr(0, max_chars - 3) + "...";
  return line;
}

void NotifyReady(const std::string& status) {
  Send(absl::StrCat("READY=1\nSTATUS=", StatusLine(status)));
}

void NotifyReloading(const std::string& status) {
  Send(
      absl::StrCat("RELOADING=1\nMONOTONIC_USEC=", MonotonicUs(), "\nSTATUS=", StatusLine(status)));
}

void NotifyStopping(const std::string& status) {
  Send(absl::StrCat("STOPPING=1\nSTATUS=", StatusLine(status)));
}

void NotifyStatus(const std::string& status) { Send(absl::StrCat("STATUS=", StatusLine(status))); }

uint64_t WatchdogIntervalUs() {
#if SLUICE_HAVE_LIBSYSTEMD
  uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is this process.
  if (sd_watchdog_enabled(0, &usec) > 0) return usec;
#endif
  return 0;
}

void NotifyWatchdog() { Send("WATCHDOG=1"); }

}  // namespace sluice::lb
