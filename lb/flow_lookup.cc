#include "lb/flow_lookup.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "config/ip_address.h"
#include "lb/status_format.h"

namespace sluice::lb {
namespace {

namespace dp = ::sluice::dataplane;

absl::StatusOr<uint16_t> ParsePort(const std::string& text) {
  uint32_t port = 0;
  if (!absl::SimpleAtoi(text, &port) || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a port (0-65535)"));
  }
  return static_cast<uint16_t>(port);
}

std::string Endpoint(const config::IpAddress& a, uint16_t port_host) {
  return config::SocketAddress{.address = a, .port = port_host}.ToString();
}

config::IpAddress V4(uint32_t net_order) {
  config::IpAddress a;
  std::memcpy(a.bytes.data(), &net_order, 4);
  return a;
}

config::IpAddress V6(const uint8_t* bytes) {
  config::IpAddress a{.family = config::IpFamily::kV6};
  std::memcpy(a.bytes.data(), bytes, 16);
  return a;
}

std::string BackendName(const dp::ForwardingTable& table, const StatusSnapshot& snapshot,
                        dp::BackendId id) {
  for (const ServiceStatus& s : snapshot.services) {
    for (const BackendStatus& b : s.backends) {
      if (b.id == id) return b.address;
    }
  }
  const dp::BackendInfo* b = table.Backend(id);
  if (b == nullptr) return absl::StrCat("id ", id, " (gone)");
  return b->ipv6 ? Endpoint(V6(b->address6.data()), ntohs(b->port))
                 : Endpoint(V4(b->address), ntohs(b->port));
}

std::string ServiceName(const StatusSnapshot& snapshot, dp::ServiceId id) {
  for (const ServiceStatus& s : snapshot.services) {
    if (s.id == id) return s.name;
  }
  return absl::StrCat("id ", id);
}

std::string Seconds(uint32_t ms) { return absl::StrFormat("%.1f s", ms / 1000.0); }

const char* SourceName(FlowExplanation::Source s) {
  switch (s) {
    case FlowExplanation::Source::kNoService:
      return "no_service";
    case FlowExplanation::Source::kFlowTable:
      return "flow_table";
    case FlowExplanation::Source::kMaglev:
      return "maglev";
    case FlowExplanation::Source::kNoUsableBackend:
      return "no_backend";
  }
  return "unknown";
}

}  // namespace

absl::StatusOr<dp::FlowQuery> ParseFlowQuery(const std::string& proto, const std::string& src,
                                             const std::string& sport, const std::string& dst,
                                             const std::string& dport) {
  uint8_t ip_proto = 0;
  if (proto == "tcp") {
    ip_proto = IPPROTO_TCP;
  } else if (proto == "udp") {
    ip_proto = IPPROTO_UDP;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("protocol '", proto, "' is not tcp or udp"));
  }
  const std::optional<config::IpAddress> s = config::IpAddress::Parse(src);
  const std::optional<config::IpAddress> d = config::IpAddress::Parse(dst);
  if (!s) return absl::InvalidArgumentError(absl::StrCat("'", src, "' is not an IP address"));
  if (!d) return absl::InvalidArgumentError(absl::StrCat("'", dst, "' is not an IP address"));
  if (s->family != d->family) {
    return absl::InvalidArgumentError("source and destination are not of one address family");
  }
  absl::StatusOr<uint16_t> sp = ParsePort(sport);
  if (!sp.ok()) return sp.status();
  absl::StatusOr<uint16_t> dpt = ParsePort(dport);
  if (!dpt.ok()) return dpt.status();
  // The key exactly as Worker::ProcessBurst builds it: network byte order, zero padding.
  dp::FlowQuery q;
  if (s->is_v4()) {
    q.family = dp::FlowFamily::kIpv4;
    std::memcpy(&q.key4.src_ip, s->bytes.data(), 4);
    std::memcpy(&q.key4.dst_ip, d->bytes.data(), 4);
    q.key4.src_port = htons(*sp);
    q.key4.dst_port = htons(*dpt);
    q.key4.ip_proto = ip_proto;
  } else {
    q.family = dp::FlowFamily::kIpv6;
    std::memcpy(q.key6.src_ip, s->bytes.data(), 16);
    std::memcpy(q.key6.dst_ip, d->bytes.data(), 16);
    q.key6.src_port = htons(*sp);
    q.key6.dst_port = htons(*dpt);
    q.key6.ip_proto = ip_proto;
  }
  return q;
}

FlowExplanation ExplainFlow(const dp::ForwardingTable& table, const StatusSnapshot& snapshot,
                            const dp::FlowQuery& query, uint32_t hash,
                            const std::vector<std::optional<dp::FlowAnswer>>& answers) {
  FlowExplanation e;
  e.hash = hash;
  const bool v4 = query.family == dp::FlowFamily::kIpv4;
  const uint8_t ip_proto = v4 ? query.key4.ip_proto : query.key6.ip_proto;
  const char* proto = ip_proto == IPPROTO_TCP ? "tcp" : "udp";
  const std::string src = v4 ? Endpoint(V4(query.key4.src_ip), ntohs(query.key4.src_port))
                             : Endpoint(V6(query.key6.src_ip), ntohs(query.key6.src_port));
  const std::string dst = v4 ? Endpoint(V4(query.key4.dst_ip), ntohs(query.key4.dst_port))
                             : Endpoint(V6(query.key6.dst_ip), ntohs(query.key6.dst_port));
  e.flow = absl::StrCat(proto, " ", src, " -> ", dst);
  const dp::ServiceInfo* svc =
      v4 ? table.FindService(query.key4.dst_ip, query.key4.dst_port, ip_proto)
         : table.FindService6(query.key6.dst_ip, query.key6.dst_port, ip_proto);
  if (svc == nullptr) {
    e.backend_address = dst;  // for the "no service for" line
    return e;
  }
  e.service = ServiceName(snapshot, svc->id);
  const uint32_t timeout = ip_proto == IPPROTO_TCP ? table.tcp_timeout_ms : table.udp_timeout_ms;
  for (size_t w = 0; w < answers.size(); ++w) {
    if (!answers[w].has_value()) {
      e.unanswered_workers.push_back(static_cast<int>(w));
      continue;
    }
    const dp::FlowAnswer& a = *answers[w];
    if (!a.found) continue;
    const uint32_t idle = a.now_ms - a.last_seen_ms;  // wraps like the worker's clock
    const dp::BackendInfo* b = table.Backend(a.backend);
    // The worker's test for a live entry (Worker::ProcessBurst, stage 3).
    const char* stale = nullptr;
    if (b == nullptr) {
      stale = "backend gone";
    } else if (b->service != svc->id) {
      stale = "backend of another service";
    } else if (!b->up) {
      stale = "backend down";
    } else if (idle > timeout) {
      stale = "idle past the timeout";
    }
    if (stale != nullptr || e.source == FlowExplanation::Source::kFlowTable) {
      e.stale.push_back(absl::StrFormat(
          "worker %d has an entry for backend %s (last packet %s ago)%s", w,
          BackendName(table, snapshot, a.backend), Seconds(idle),
          stale != nullptr ? absl::StrCat(": ", stale, ", the next packet re-picks") : ""));
      continue;
    }
    e.source = FlowExplanation::Source::kFlowTable;
    e.worker = static_cast<int>(w);
    e.backend = a.backend;
    e.idle_ms = idle;
    e.expires_in_ms = timeout - idle;
  }
  if (e.source != FlowExplanation::Source::kFlowTable) {
    e.maglev_size = static_cast<uint32_t>(svc->maglev.size());
    if (svc->maglev.empty()) {
      e.source = FlowExplanation::Source::kNoUsableBackend;
      return e;
    }
    e.source = FlowExplanation::Source::kMaglev;
    e.maglev_slot = dp::MaglevSlot(hash, svc->maglev.size());
    e.backend = svc->maglev[e.maglev_slot];
  }
  e.backend_address = BackendName(table, snapshot, e.backend);
  return e;
}

std::string FormatFlowExplanation(const FlowExplanation& e) {
  std::string out;
  switch (e.source) {
    case FlowExplanation::Source::kNoService: {
      // "no service for 10.0.100.9:80/tcp"
      out = absl::StrCat("no service for ", e.backend_address, "/", e.flow.substr(0, 3), "\n");
      break;
    }
    case FlowExplanation::Source::kFlowTable:
      out = absl::StrFormat(
          "flow table hit on worker %d (backend %s, last packet %s ago, expires in %s)\n", e.worker,
          e.backend_address, Seconds(e.idle_ms), Seconds(e.expires_in_ms));
      break;
    case FlowExplanation::Source::kMaglev:
      out = absl::StrFormat("no flow entry: Maglev slot %u/%u of service %s -> backend %s\n",
                            e.maglev_slot, e.maglev_size, e.service, e.backend_address);
      break;
    case FlowExplanation::Source::kNoUsableBackend:
      out = absl::StrFormat("no flow entry and no backend takes new flows in service %s\n",
                            e.service);
      break;
  }
  absl::StrAppendFormat(&out, "  flow %s, hash 0x%08x\n", e.flow, e.hash);
  for (const std::string& line : e.stale) absl::StrAppend(&out, "  ", line, "\n");
  for (int w : e.unanswered_workers) {
    absl::StrAppendFormat(&out, "  worker %d did not answer (its entry, if any, is not shown)\n",
                          w);
  }
  return out;
}

std::string FormatFlowExplanationJson(const FlowExplanation& e) {
  const bool has_backend = e.source == FlowExplanation::Source::kFlowTable ||
                           e.source == FlowExplanation::Source::kMaglev;
  std::vector<std::string> stale;
  for (const std::string& s : e.stale) stale.push_back(JsonQuote(s));
  return absl::StrCat(
      R"({"flow":)", JsonQuote(e.flow), R"(,"source":")", SourceName(e.source), R"(","service":)",
      e.service.empty() ? "null" : JsonQuote(e.service), ",\"hash\":", e.hash,
      ",\"backend\":", has_backend ? JsonQuote(e.backend_address) : "null",
      ",\"backend_id\":", has_backend ? e.backend : 0,
      ",\"worker\":", e.worker >= 0 ? absl::StrCat(e.worker) : "null", ",\"idle_ms\":", e.idle_ms,
      ",\"expires_in_ms\":", e.expires_in_ms, ",\"maglev_slot\":", e.maglev_slot,
      ",\"maglev_size\":", e.maglev_size, ",\"stale\":[", absl::StrJoin(stale, ","),
      "],\"unanswered_workers\":[", absl::StrJoin(e.unanswered_workers, ","), "]}\n");
}

}  // namespace sluice::lb
