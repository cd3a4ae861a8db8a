// The counters a golden case can name, read from a running lb::Appliance by the names
// the case files use (tests/dataplane/README.md):
//   rx_packets, drops.no_service, ...        worker 0
//   control.arp_replies_sent, control.drops.arp_not_for_us, ...   the control thread
//   service.NAME.{packets,bytes,new_flows}   per service (ids 1..N in config order)
//   backend.ID.{packets,bytes,new_flows}     per backend (ids 1..M in config order)
// Loop bookkeeping (iterations, idle_sleeps, table_generation) is not included.
#ifndef SLUICE_TESTS_DATAPLANE_COUNTER_SET_H_
#define SLUICE_TESTS_DATAPLANE_COUNTER_SET_H_

#include <cstdint>
#include <map>
#include <string>

#include "config/config.h"
#include "lb/appliance.h"

namespace sluice::golden {

using CounterValues = std::map<std::string, uint64_t>;

CounterValues ReadCounters(const lb::Appliance& appliance, const config::Config& config);

// after - before, name by name (both read by ReadCounters from the same appliance).
CounterValues Delta(const CounterValues& before, const CounterValues& after);

// Sum of every counter whose name starts with `prefix` ("drops." or "control.drops.").
uint64_t SumWithPrefix(const CounterValues& values, const std::string& prefix);

}  // namespace sluice::golden

#endif  // SLUICE_TESTS_DATAPLANE_COUNTER_SET_H_
