#include "lb/signals.h"

#include <signal.h>

#include <atomic>

namespace sluice::lb {

namespace {
std::atomic<int> stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

std::atomic<bool> reload_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void OnStopSignal(int signo) { stop_signal.store(signo, std::memory_order_relaxed); }
void OnReloadSignal(int) { reload_requested.store(true, std::memory_order_relaxed); }
}  // namespace

void InstallSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  struct sigaction reload {};
  reload.sa_handler = OnReloadSignal;
  sigemptyset(&reload.sa_mask);
  reload.sa_flags = SA_RESTART;
  sigaction(SIGHUP, &reload, nullptr);
}

bool StopRequested() { return stop_signal.load(std::memory_order_relaxed) != 0; }
int StopSignal() { return stop_signal.load(std::memory_order_relaxed); }
bool TakeReloadRequest() { return reload_requested.exchange(false, std::memory_order_relaxed); }

}  // namespace sluice::lb
