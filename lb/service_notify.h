// Tells the service manager what the daemon is doing (sd_notify(3), the protocol of a
// systemd unit with Type=notify): READY once ports are up and the first table is
// published, RELOADING/READY around each reload, STOPPING on a stop signal, STATUS lines
// for `systemctl status`, and the watchdog keep-alive. Every call is a no-op when
// NOTIFY_SOCKET is unset (started by hand, in tests) or when Sluice was built without
// libsystemd. Control thread only (main lcore); never called from the dataplane.
#ifndef SLUICE_LB_SERVICE_NOTIFY_H_
#define SLUICE_LB_SERVICE_NOTIFY_H_

#include <cstdint>
#include <string>

namespace sluice::lb {

// READY=1 with STATUS=`status`: start-up (or a reload) is over and Sluice serves.
void NotifyReady(const std::string& status);
// RELOADING=1 with MONOTONIC_USEC (the reload's start on CLOCK_MONOTONIC, as systemd
// wants it) and STATUS=`status`. Each is followed by NotifyReady when the reload ends,
// whether it applied or not.
void NotifyReloading(const std::string& status);
// STOPPING=1 with STATUS=`status`.
void NotifyStopping(const std::string& status);
// STATUS=`status` alone (e.g. why start-up failed, before exiting non-zero).
void NotifyStatus(const std::string& status);

// The interval, in microseconds, at which the service manager wants WATCHDOG=1
// (WatchdogSec= of the unit, passed as WATCHDOG_USEC); 0 when there is no watchdog.
uint64_t WatchdogIntervalUs();
// WATCHDOG=1: the control loop is alive.
void NotifyWatchdog();

// Flattens `text` to one line of at most `max_chars` characters ("; " between lines,
// "..." when cut), as a STATUS= value must be.
std::string StatusLine(const std::string& text, size_t max_chars = 200);

}  // namespace sluice::lb

#endif  // SLUICE_LB_SERVICE_NOTIFY_H_
