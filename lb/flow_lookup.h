// `sluicectl lookup PROTO SRC SPORT DST DPORT`: which backend a 5-tuple gets and why.
// The control thread parses the tuple into the key the workers hash (ParseFlowQuery),
// asks every worker for its flow entry (Appliance::QueryFlow, through the workers'
// mailboxes) and ExplainFlow decides, with the worker's own rules (Worker::ProcessBurst:
// an entry counts only while its backend is up, in the same service and not idle past
// the timeout; otherwise Maglev picks), what the next packet of the flow would do.
// Pure functions apart from the query; control thread.
#ifndef SLUICE_LB_FLOW_LOOKUP_H_
#define SLUICE_LB_FLOW_LOOKUP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/flow_mailbox.h"
#include "dataplane/forwarding_table.h"
#include "lb/status_board.h"

namespace sluice::lb {

// PROTO is tcp or udp; SRC and DST are both IPv4 or both IPv6; ports 0..65535.
absl::StatusOr<dataplane::FlowQuery> ParseFlowQuery(const std::string& proto,
                                                    const std::string& src,
                                                    const std::string& sport,
                                                    const std::string& dst,
                                                    const std::string& dport);

struct FlowExplanation {
  enum class Source : uint8_t {
    kNoService,        // no service has DST:DPORT/PROTO
    kFlowTable,        // a worker's live entry
    kMaglev,           // no live entry: the Maglev table picks
    kNoUsableBackend,  // no live entry and no backend takes new flows
  };
  Source source = Source::kNoService;
  std::string flow;     // "tcp 10.0.0.1:1234 -> 10.0.100.1:80"
  std::string service;  // the service's name (empty: none)
  uint32_t hash = 0;    // the flow hash, as the workers compute it
  dataplane::BackendId backend = dataplane::kNoBackend;
  std::string backend_address;  // "10.0.0.11:80"
  int worker = -1;              // kFlowTable: the worker holding the entry
  uint32_t idle_ms = 0;         // kFlowTable: since the flow's last packet
  uint32_t expires_in_ms = 0;   // kFlowTable: if no packet comes before
  uint32_t maglev_slot = 0;     // kMaglev
  uint32_t maglev_size = 0;     // kMaglev, kNoUsableBackend
  // Entries found but not used (backend down, re-picked or idle too long), one line each.
  std::vector<std::string> stale;
  std::vector<int> unanswered_workers;  // asked but did not answer in time
};

// `answers` has one element per worker (nullopt: no answer). `hash` is the flow hash
// (Appliance::FlowHash); names come from `snapshot`.
FlowExplanation ExplainFlow(const dataplane::ForwardingTable& table, const StatusSnapshot& snapshot,
                            const dataplane::FlowQuery& query, uint32_t hash,
                            const std::vector<std::optional<dataplane::FlowAnswer>>& answers);

// One verdict line, then detail lines (stale entries, workers that did not answer):
//   flow table hit on worker 0 (backend 10.0.0.11:80, last packet 1.2 s ago, expires in 298.8 s)
//   no flow entry: Maglev slot 123/65537 of service web -> backend 10.0.0.12:80
//   no flow entry and no backend takes new flows in service web
//   no service for 10.0.100.9:80/tcp
std::string FormatFlowExplanation(const FlowExplanation& e);
std::string FormatFlowExplanationJson(const FlowExplanation& e);

}  // namespace sluice::lb

#endif  // SLUICE_LB_FLOW_LOOKUP_H_
