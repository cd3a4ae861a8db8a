// SIGTERM/SIGINT handling for the daemon: the handler only sets a flag (STYLE.md item 11)
// that the control loop polls.
#ifndef SLUICE_LB_SIGNALS_H_
#define SLUICE_LB_SIGNALS_H_

namespace sluice::lb {

void InstallStopHandlers();
bool StopRequested();
int StopSignal();  // the signal that asked to stop, or 0

}  // namespace sluice::lb

#endif  // SLUICE_LB_SIGNALS_H_
