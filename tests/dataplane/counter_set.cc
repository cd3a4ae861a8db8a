#include "tests/dataplane/counter_set.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sluice::golden {

namespace {

namespace dp = ::sluice::dataplane;

void AddLcore(const dp::LcoreCounters& c, const std::string& prefix, CounterValues& out) {
  const std::pair<const char*, uint64_t> fields[] = {
      {"rx_packets", c.rx_packets},
      {"rx_bytes", c.rx_bytes},
      {"tx_packets", c.tx_packets},
      {"tx_bytes", c.tx_bytes},
      {"slow_path_packets", c.slow_path_packets},
      {"injected_packets", c.injected_packets},
      {"forwarded_packets", c.forwarded_packets},
      {"icmp_echo_replies", c.icmp_echo_replies},
      {"icmp_too_big_sent", c.icmp_too_big_sent},
      {"icmp_errors_suppressed", c.icmp_errors_suppressed},
      {"icmp_errors_forwarded", c.icmp_errors_forwarded},
      {"nat_reply_packets", c.nat_reply_packets},
      {"nat_reply_bytes", c.nat_reply_bytes},
      {"nat_sessions_full", c.nat_sessions_full},
      {"fragments_forwarded", c.fragments_forwarded},
      {"generated_packets", c.generated_packets},
      {"new_flows", c.new_flows},
      {"flow_hits", c.flow_hits},
      {"flow_repicks", c.flow_repicks},
      {"flow_table_full", c.flow_table_full},
      {"flows_expired", c.flows_expired},
      {"flow_entries", c.flow_entries},
      {"arp_requests_sent", c.arp_requests_sent},
      {"arp_replies_sent", c.arp_replies_sent},
      {"arp_learned", c.arp_learned},
      {"nd_solicitations_sent", c.nd_solicitations_sent},
      {"nd_advertisements_sent", c.nd_advertisements_sent},
      {"nd_learned", c.nd_learned},
      {"held_released", c.held_released},
  };
  for (const auto& [name, value] : fields) out[prefix + name] = value;
  for (size_t r = 0; r < dp::kDropReasonCount; ++r) {
    out[prefix + "drops." + std::string(dp::kDropReasonInfo[r].label)] = c.drops[r];
  }
}

void AddTraffic(const dp::TrafficCounters& t, const std::string& prefix, CounterValues& out) {
  out[prefix + ".packets"] = t.packets;
  out[prefix + ".bytes"] = t.bytes;
  out[prefix + ".new_flows"] = t.new_flows;
}

}  // namespace

CounterValues ReadCounters(const lb::Appliance& appliance, const config::Config& config) {
  CounterValues out;
  // The runner drives exactly one worker; its counters are the unprefixed names.
  const dp::LcoreStats& worker = appliance.worker_stats(0);
  AddLcore(worker.counters, "", out);
  AddLcore(appliance.control_stats().counters, "control.", out);
  uint32_t backend_id = 1;
  for (size_t s = 0; s < config.services.size(); ++s) {
    AddTraffic(worker.services[s + 1], "service." + config.services[s].name, out);
    for (size_t b = 0; b < config.services[s].backends.size(); ++b, ++backend_id) {
      AddTraffic(worker.backends[backend_id], absl::StrCat("backend.", backend_id), out);
    }
  }
  return out;
}

CounterValues Delta(const CounterValues& before, const CounterValues& after) {
  CounterValues delta;
  for (const auto& [name, value] : after) {
    auto it = before.find(name);
    delta[name] = value - (it == before.end() ? 0 : it->second);
  }
  return delta;
}

uint64_t SumWithPrefix(const CounterValues& values, const std::string& prefix) {
  uint64_t sum = 0;
  for (const auto& [name, value] : values) {
    if (absl::StartsWith(name, prefix)) sum += value;
  }
  return sum;
}

}  // namespace sluice::golden
