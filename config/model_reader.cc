#include "config/model_reader.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace sluice::config {
namespace {

const ValueReader<Protocol>& ProtocolReader() {
  static const auto* const kReader = new ValueReader<Protocol>(
      OneOf<Protocol>("protocol", {{"tcp", Protocol::kTcp}, {"udp", Protocol::kUdp}}));
  return *kReader;
}

const ValueReader<Forwarding>& ForwardingReader() {
  static const auto* const kReader = new ValueReader<Forwarding>(OneOf<Forwarding>(
      "forwarding mode",
      {{"dr", Forwarding::kDr}, {"tunnel", Forwarding::kTunnel}, {"nat", Forwarding::kNat}}));
  return *kReader;
}

Port ReadPort(ReadContext& ctx, const YAML::Node& node, const std::string& path) {
  Port port;
  MapReader r(ctx, node, path);
  r.Required("name", &port.name, Name());
  r.Required("device", &port.device, NonEmptyString());
  r.Optional("address", &port.address, Prefix(IpFamily::kV4));
  r.Optional("address6", &port.address6, Prefix(IpFamily::kV6));
  r.Optional("mtu", &port.mtu, IntegerIn(576, 9216));
  r.Finish();
  return port;
}

Route ReadRoute(ReadContext& ctx, const YAML::Node& node, const std::string& path) {
  Route route;
  MapReader r(ctx, node, path);
  r.Required("prefix", &route.prefix, Prefix());
  r.Optional("via", &route.via, Address());
  r.Optional("metric", &route.metric, IntegerIn(0, 65535));
  r.Optional("port", &route.port, Name());
  r.Finish();
  return route;
}

Neighbor ReadNeighbor(ReadContext& ctx, const YAML::Node& node, const std::string& path) {
  Neighbor neighbor;
  MapReader r(ctx, node, path);
  r.Required("address", &neighbor.address, Address());
  r.Required("mac", &neighbor.mac, Mac());
  r.Optional("port", &neighbor.port, Name());
  r.Finish();
  return neighbor;
}

FlowTableConfig ReadFlowTable(ReadContext& ctx, const YAML::Node& node, const std::string& path) {
  FlowTableConfig flow_table;
  MapReader r(ctx, node, path);
  r.Optional("capacity", &flow_table.capacity, IntegerIn(1024, 1u << 27));
  r.Optional("capacity6", &flow_table.capacity6, IntegerIn(1024, 1u << 27));
  r.Optional("tcp_timeout", &flow_table.tcp_timeout, DurationIn(absl::Seconds(1), absl::Hours(24)));
  r.Optional("udp_timeout", &flow_table.udp_timeout, DurationIn(absl::Seconds(1), absl::Hours(24)));
  r.Finish();
  return flow_table;
}

NeighborCacheConfig ReadNeighborCache(ReadContext& ctx, const YAML::Node& node,
                                      const std::string& path) {
  NeighborCacheConfig cache;
  MapReader r(ctx, node, path);
  r.Optional("reachable_time", &cache.reachable_time,
             DurationIn(absl::Seconds(1), absl::Hours(24)));
  r.Optional("retry_interval", &cache.retry_interval,
             DurationIn(absl::Milliseconds(100), absl::Minutes(1)));
  r.Optional("retries", &cache.retries, IntegerIn(1, 100));
  r.Optional("hold_packets", &cache.hold_packets, IntegerIn(0, 64));
  r.Finish();
  return cache;
}

DataplaneConfig ReadDataplane(ReadContext& ctx, const YAML::Node& node, const std::string& path) {
  DataplaneConfig dp;
  MapReader r(ctx, node, path);
  r.Optional("workers", &dp.workers, IntegerIn(1, kMaxWorkers));
  r.Optional("idle_backoff", &dp.idle_backoff, Bool());
  r.Optional("idle_sleep_max", &dp.idle_sleep_max,
             DurationIn(absl::Microseconds(1), absl::Milliseconds(100)));
  r.Optional("rx_descriptors", &dp.rx_descriptors, IntegerIn(64, 16384));
  r.Optional("tx_descriptors", &dp.tx_descriptors, IntegerIn(64, 16384));
  r.Optional("icmp_errors_per_second", &dp.icmp_errors_per_second, IntegerIn(1, 1000000));
  r.Optional("icmp_error_burst", &dp.icmp_error_burst, IntegerIn(1, 100000));
  if (auto eal = r.Find("eal")) {
    ForEachItem(ctx, *eal, r.PathOf("eal"), 0, kMaxEalArgs,
                [&](const YAML::Node& item, const std::string& item_path) {
                  if (auto arg = NonEmptyString()(ctx, item, item_path)) dp.eal.push_back(*arg);
                });
  }
  if (auto ports = r.FindRequired("ports")) {
    ForEachItem(ctx, *ports, r.PathOf("ports"), 1, kMaxPorts,
                [&](const YAML::Node& item, const std::string& item_path) {
                  dp.ports.push_back(ReadPort(ctx, item, item_path));
                });
  }
  if (auto routes = r.Find("routes")) {
    ForEachItem(ctx, *routes, r.PathOf("routes"), 0, kMaxRoutes,
                [&](const YAML::Node& item, const std::string& item_path) {
                  dp.routes.push_back(ReadRoute(ctx, item, item_path));
                });
  }
  if (auto neighbors = r.Find("neighbors")) {
    ForEachItem(ctx, *neighbors, r.PathOf("neighbors"), 0, kMaxNeighbors,
                [&](const YAML::Node& item, const std::string& item_path) {
                  dp.neighbors.push_back(ReadNeighbor(ctx, item, item_path));
                });
  }
  r.Optional("tunnel_source", &dp.tunnel_source, Address());
  if (auto flow_table = r.Find("flow_table")) {
    dp.flow_table = ReadFlowTable(ctx, *flow_table, r.PathOf("flow_table"));
  }
  if (auto cache = r.Find("neighbor_cache")) {
    dp.neighbor_cache = ReadNeighborCache(ctx, *cache, r.PathOf("neighbor_cache"));
  }
  r.Finish();
  return dp;
}

HealthCheck ReadHealthCheck(ReadContext& ctx, const YAML::Node& node, const std::string& path) {
  HealthCheck hc;
  MapReader r(ctx, node, path);
  r.Optional("type", &hc.type,
             OneOf<HealthCheckType>("health check type", {{"none", HealthCheckType::kNone},
                                                          {"tcp", HealthCheckType::kTcp},
                                                          {"http", HealthCheckType::kHttp},
                                                          {"udp", HealthCheckType::kUdp}}));
  r.Optional("port", &hc.port, PortNumber());
  // Keys that only an HTTP check reads are errors elsewhere rather than silently ignored.
  for (std::string_view http_key : {"path", "expect_status", "body"}) {
    if (auto value = r.Find(http_key); value && hc.type != HealthCheckType::kHttp) {
      ctx.Error(*value, r.PathOf(http_key),
                absl::StrFormat("'%s' applies only to http health checks, not %s", http_key,
                                ToString(hc.type)));
    }
  }
  if (auto value = r.Find("payload"); value && hc.type != HealthCheckType::kUdp) {
    ctx.Error(
        *value, r.PathOf("payload"),
        absl::StrFormat("'payload' applies only to udp health checks, not %s", ToString(hc.type)));
  }
  if (hc.type == HealthCheckType::kUdp) r.Optional("payload", &hc.payload, NonEmptyString());
  if (auto value = r.Find("tcp_mode"); value && hc.type != HealthCheckType::kTcp) {
    ctx.Error(
        *value, r.PathOf("tcp_mode"),
        absl::StrFormat("'tcp_mode' applies only to tcp health checks, not %s", ToString(hc.type)));
  }
  if (hc.type == HealthCheckType::kTcp) {
    r.Optional("tcp_mode", &hc.tcp_mode,
               OneOf<TcpCheckMode>("tcp check mode", {{"connect", TcpCheckMode::kConnect},
                                                      {"syn", TcpCheckMode::kSyn}}));
  }
  r.Optional("assume", &hc.assume_up,
             OneOf<bool>("initial health", {{"down", false}, {"up", true}}));
  if (hc.type == HealthCheckType::kHttp) {
    ValueReader<std::string> read_path = [](ReadContext& c, const YAML::Node& n,
                                            const std::string& p) -> std::optional<std::string> {
      std::optional<std::string> text = NonEmptyString()(c, n, p);
      if (text && text->front() != '/') {
        c.Error(n, p, absl::StrFormat("an HTTP path must start with '/', got '%s'", *text));
        return std::nullopt;
      }
      return text;
    };
    r.Optional("path", &hc.path, read_path);
    // "204" or "200-399".
    ValueReader<std::pair<uint32_t, uint32_t>> read_statuses =
        [](ReadContext& c, const YAML::Node& n,
           const std::string& p) -> std::optional<std::pair<uint32_t, uint32_t>> {
      std::optional<std::string> text = NonEmptyString()(c, n, p);
      if (!text) return std::nullopt;
      const std::vector<std::string> parts = absl::StrSplit(*text, absl::MaxSplits('-', 1));
      uint32_t low = 0;
      uint32_t high = 0;
      const bool parsed = absl::SimpleAtoi(parts[0], &low) &&
                          absl::SimpleAtoi(parts.size() == 2 ? parts[1] : parts[0], &high);
      if (!parsed || low < 100 || high > 599 || low > high) {
        c.Error(n, p,
                absl::StrFormat("expected a status in [100, 599] or a range LOW-HIGH of them, "
                                "got '%s'",
                                *text));
        return std::nullopt;
      }
      return std::make_pair(low, high);
    };
    std::pair<uint32_t, uint32_t> statuses{hc.expect_status, hc.expect_status_max};
    r.Optional("expect_status", &statuses, read_statuses);
    hc.expect_status = statuses.first;
    hc.expect_status_max = statuses.second;
    r.Optional("body", &hc.body, NonEmptyString());
  }
  r.Optional("interval", &hc.interval, DurationIn(absl::Milliseconds(100), absl::Hours(1)));
  r.Optional("timeout", &hc.timeout, DurationIn(absl::Milliseconds(10), absl::Minutes(1)));
  r.Optional("rise", &hc.rise, IntegerIn(1, 100));
  r.Optional("fall", &hc.fall, IntegerIn(1, 100));
  r.Finish();
  return hc;
}

Backend ReadBackend(ReadContext& ctx, const YAML::Node& node, const std::string& path,
                    uint16_t service_port) {
  Backend backend;
  backend.port = service_port;
  MapReader r(ctx, node, path);
  r.Required("address", &backend.address, Address());
  r.Optional("port", &backend.port, PortNumber());
  r.Optional("weight", &backend.weight, IntegerIn(0, 65535));
  r.Optional("drain", &backend.drain, Bool());
  r.Finish();
  return backend;
}

Service ReadService(ReadContext& ctx, const YAML::Node& node, const std::string& path,
                    size_t* backend_budget) {
  Service svc;
  MapReader r(ctx, node, path);
  r.Required("name", &svc.name, Name());
  r.Required("vip", &svc.vip, Address());
  r.Required("port", &svc.port, PortNumber());
  r.Optional("protocol", &svc.protocol, ProtocolReader());
  r.Required("forwarding", &svc.forwarding, ForwardingReader());
  r.Optional("scheduler", &svc.scheduler,
             OneOf<Scheduler>("scheduler", {{"maglev", Scheduler::kMaglev}}));
  r.Optional("table_size", &svc.table_size, IntegerIn(7, 4194301));
  r.Optional("answer_arp", &svc.answer_arp, Bool());
  if (auto hc = r.Find("health_check")) {
    svc.health_check = ReadHealthCheck(ctx, *hc, r.PathOf("health_check"));
  }
  if (auto backends = r.FindRequired("backends")) {
    const size_t limit = std::min(kMaxBackendsPerService, *backend_budget);
    ForEachItem(ctx, *backends, r.PathOf("backends"), 1, limit,
                [&](const YAML::Node& item, const std::string& item_path) {
                  svc.backends.push_back(ReadBackend(ctx, item, item_path, svc.port));
                });
    *backend_budget -= std::min(*backend_budget, svc.backends.size());
  }
  r.Finish();
  return svc;
}

}  // namespace

std::set<std::string> KnownKeyPaths() {
  std::set<std::string> paths;
  DiagnosticSink ignored("skeleton");
  SourceMap sources;
  ReadContext ctx{.sink = ignored, .sources = sources, .asked_keys = &paths};
  ReadModel(ctx, YAML::Load(R"(
dataplane: { ports: [{}], routes: [{}], neighbors: [{}], flow_table: {},
             neighbor_cache: {} }
metrics: {}
control: {}
services: [{ health_check: { type: http }, backends: [{}] }]
)"));
  return paths;
}

Config ReadModel(ReadContext& ctx, const YAML::Node& root) {
  Config config;
  MapReader r(ctx, root, "");
  if (!r.is_map()) return config;
  if (auto dp = r.FindRequired("dataplane")) {
    config.dataplane = ReadDataplane(ctx, *dp, "dataplane");
  }
  if (auto metrics = r.Find("metrics")) {
    MapReader m(ctx, *metrics, "metrics");
    m.Optional("listen", &config.metrics.listen, Endpoint());
    m.Optional("per_backend", &config.metrics.per_backend, Bool());
    m.Finish();
  }
  if (auto control = r.Find("control")) {
    MapReader c(ctx, *control, "control");
    c.Optional("socket", &config.control.socket, AbsolutePath());
    c.Optional("group", &config.control.group, Name());
    c.Finish();
  }
  if (auto services = r.FindRequired("services")) {
    size_t backend_budget = kMaxBackendsTotal;
    ForEachItem(ctx, *services, "services", 1, kMaxServices,
                [&](const YAML::Node& item, const std::string& item_path) {
                  config.services.push_back(ReadService(ctx, item, item_path, &backend_budget));
                });
  }
  r.Finish();
  return config;
}

}  // namespace sluice::config
