// Signal handling for the daemon: SIGTERM/SIGINT ask to stop, SIGHUP to reload the
// config. The handlers only set flags (STYLE.md item 11) that the control loop polls.
#ifndef SLUICE_LB_SIGNALS_H_
#define SLUICE_LB_SIGNALS_H_

namespace sluice::lb {

void InstallSignalHandlers();
bool StopRequested();
int StopSignal();  // the signal that asked to stop, or 0
// True once per SIGHUP (several before the control loop looks count as one).
bool TakeReloadRequest();

}  // namespace sluice::lb

#endif  // SLUICE_LB_SIGNALS_H_
