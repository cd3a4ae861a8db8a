#include "lb/control_loop.h"

#include <rte_cycles.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "build_config.h"
#include "dataplane/packet_capture.h"
#include "lb/announce_format.h"
#include "lb/control_server.h"
#include "lb/counter_collector.h"
#include "lb/daemon.h"
#include "lb/flow_lookup.h"
#include "lb/health_collector.h"
#include "lb/lcore_sums.h"
#include "lb/metrics_server.h"
#include "lb/port_collector.h"
#include "lb/service_notify.h"
#include "lb/signals.h"
#include "lb/status_collector.h"
#include "lb/status_format.h"
#include "lb/telemetry_commands.h"
#include "lb/worker_busy_sampler.h"

namespace sluice::lb {

namespace {
void Log(const std::string& message) { absl::FPrintF(stderr, "sluice: %s\n", message); }
}  // namespace

ControlLoop::ControlLoop(const std::string& config_path, Appliance& appliance,
                         health::HealthChecker& checker)
    : appliance_(appliance),
      checker_(checker),
      reloader_(config_path, appliance.controller(), &checker, board_),
      watch_(config_path) {
  for (size_t i = 0; i < appliance_.worker_count(); ++i) {
    worker_stats_.push_back(&appliance_.worker_stats(i));
  }
}

ListTrafficByIds ControlLoop::Traffic(const StatusSnapshot& snapshot) const {
  ListTrafficByIds traffic;
  auto fill = [](const dataplane::TrafficCounters& t, const Rates& r) {
    return ListTraffic{.active_flows = t.active_flows,
                       .new_flows = t.new_flows,
                       .packets = t.packets,
                       .bytes = t.bytes,
                       .new_flows_per_s = r.new_flows_per_s,
                       .packets_per_s = r.packets_per_s,
                       .bytes_per_s = r.bytes_per_s};
  };
  for (const ServiceStatus& service : snapshot.services) {
    traffic.services[service.id] =
        fill(ServiceTraffic(worker_stats_, service.id), service_rates_.RateOf(service.id));
    for (const BackendStatus& backend : service.backends) {
      traffic.backends[backend.id] =
          fill(BackendTraffic(worker_stats_, backend.id), backend_rates_.RateOf(backend.id));
    }
  }
  return traffic;
}

void ControlLoop::SampleRates(absl::Time now) {
  absl::flat_hash_map<uint32_t, RateTotals> services;
  absl::flat_hash_map<uint32_t, RateTotals> backends;
  auto totals = [](const dataplane::TrafficCounters& t) {
    return RateTotals{.new_flows = t.new_flows, .packets = t.packets, .bytes = t.bytes};
  };
  const StatusSnapshot snapshot = board_.Snapshot();  // not in the for: it must outlive it
  for (const ServiceStatus& service : snapshot.services) {
    services[service.id] = totals(ServiceTraffic(worker_stats_, service.id));
    for (const BackendStatus& backend : service.backends) {
      backends[backend.id] = totals(BackendTraffic(worker_stats_, backend.id));
    }
  }
  service_rates_.Sample(now, services);
  backend_rates_.Sample(now, backends);
}

std::pair<int, std::string> ControlLoop::Lookup(const std::vector<std::string>& args, bool json) {
  absl::StatusOr<dataplane::FlowQuery> query =
      ParseFlowQuery(args[1], args[2], args[3], args[4], args[5]);
  if (!query.ok()) return {2, std::string(query.status().message())};
  const dataplane::ForwardingTable* table = appliance_.publisher().current();
  if (table == nullptr) return {1, "no forwarding table yet"};
  const FlowExplanation e =
      ExplainFlow(*table, board_.Snapshot(), *query, appliance_.FlowHash(*query),
                  appliance_.QueryFlow(*query, kFlowQueryTimeout));
  return {0, json ? FormatFlowExplanationJson(e) : FormatFlowExplanation(e)};
}

ReloadOutcome ControlLoop::Reload(std::string_view reason) {
  NotifyReloading(absl::StrFormat("reloading (%s)", reason));
  ReloadOutcome outcome = reloader_.Reload(reason);
  // READY=1 either way: a rejected file leaves the previous config serving, and STATUS
  // says so until the next reload.
  NotifyReady(outcome.ok ? absl::StrFormat("serving; reload (%s) applied: %s", reason, outcome.text)
                         : absl::StrFormat("serving the previous config; reload (%s) failed: %s",
                                           reason, outcome.text));
  return outcome;
}

void ControlLoop::LogEvents() {
  for (const std::string& event : appliance_.controller().TakeEvents()) Log(event);
}

bool ControlLoop::ApplyChanges() {
  Controller& controller = appliance_.controller();
  const std::vector<health::HealthChange> changes = checker_.TakeChanges();
  for (const health::HealthChange& c : changes) {
    controller.SetHealth(static_cast<uint32_t>(c.subscriber), c.health == health::Health::kUp,
                         c.detail);
  }
  const uint64_t before = controller.generation();
  controller.Flush();
  LogEvents();
  const bool changed = !changes.empty() || controller.generation() != before;
  if (changed) reloader_.RefreshBoard();
  return changed;
}

std::pair<int, std::string> ControlLoop::Command(const std::vector<std::string>& request) {
  const bool json = !request.empty() && request[0] == "--json";
  const std::vector<std::string> args(request.begin() + (json ? 1 : 0), request.end());
  if (args.empty()) return {2, "no command"};
  const std::string& cmd = args[0];
  if (cmd == "list" && args.size() <= 2) {
    ListView view = ListView::kState;
    if (args.size() == 2) {
      if (args[1] == "--stats") {
        view = ListView::kStats;
      } else if (args[1] == "--rate") {
        view = ListView::kRate;
      } else {
        return {2, absl::StrFormat("list: unknown option '%s' (--stats or --rate)", args[1])};
      }
    }
    const StatusSnapshot snapshot = board_.Snapshot();
    const ListTrafficByIds traffic = Traffic(snapshot);
    return {0,
            json ? FormatListJson(snapshot, traffic, view) : FormatList(snapshot, traffic, view)};
  }
  if (cmd == "lookup" && args.size() == 6) return Lookup(args, json);
  if (cmd == "status" && args.size() == 1) {
    StatusSnapshot snapshot = board_.Snapshot();
    for (size_t i = 0; i < appliance_.worker_count(); ++i) {
      snapshot.worker_table_generations.push_back(
          appliance_.worker_stats(i).counters.table_generation);
    }
    return {0, json ? FormatStatusJson(snapshot) : FormatStatus(snapshot)};
  }
  if (cmd == "announce" && args.size() == 1) {
    const StatusSnapshot snapshot = board_.Snapshot();
    return {0, json ? FormatAnnounceJson(snapshot) : FormatAnnounce(snapshot)};
  }
  if (cmd == "reload" && args.size() == 1) {
    const ReloadOutcome outcome = Reload("sluicectl");
    watch_.Mark();
    LogEvents();
    return {outcome.ok ? 0 : 1, outcome.text};
  }
  if ((cmd == "drain" || cmd == "undrain") && args.size() == 3) {
    const bool drain = cmd == "drain";
    absl::Status s = appliance_.controller().SetDrain(args[1], args[2], drain);
    if (!s.ok()) return {1, std::string(s.message())};
    ApplyChanges();
    reloader_.RefreshBoard();
    return {0, absl::StrFormat("%s %s: %s", args[1], args[2],
                               drain ? "drained: no new flows, existing flows continue"
                                     : "undrained: takes new flows when up")};
  }
  return {2, absl::StrFormat("unknown command or wrong arguments: %s", absl::StrJoin(args, " "))};
}

absl::Status ControlLoop::Run() {
  const config::Config& running = appliance_.controller().running();
  // The Appliance, the checker, board_ and busy outlive the server, which is local to
  // Run() and declared after them.
  WorkerBusySampler busy(worker_stats_);
  CounterSources counters{.workers = worker_stats_,
                          .control = &appliance_.control_stats(),
                          .board = &board_,
                          .flow_capacity_ipv4 = appliance_.flow_capacity(false),
                          .flow_capacity_ipv6 = appliance_.flow_capacity(true),
                          .tsc_hz = static_cast<double>(rte_get_tsc_hz()),
                          .busy = &busy};
  std::vector<NamedPort> ports;
  for (size_t i = 0; i < appliance_.ports().size(); ++i) {
    ports.push_back(
        {.name = appliance_.port_names()[i], .dpdk_port = appliance_.ports()[i].dpdk_port});
  }
  // Cleared when Run() returns, before the board and the Appliance's counters go.
  const TelemetryCommands telemetry(counters);
  if (telemetry.registered()) {
    Log(absl::StrFormat("telemetry: /sluice/ commands (dpdk-telemetry.py -f %s)",
                        dataplane::EalFilePrefix()));
  }
  absl::StatusOr<std::unique_ptr<MetricsServer>> metrics =
      MetricsServer::Start(running.metrics.listen.ToString(),
                           {std::make_shared<StatusCollector>(board_, std::string(SLUICE_VERSION)),
                            std::make_shared<CounterCollector>(std::move(counters)),
                            std::make_shared<PortCollector>(std::move(ports), appliance_.pool()),
                            std::make_shared<HealthCollector>(board_, checker_)});
  if (!metrics.ok()) return metrics.status();
  absl::StatusOr<std::unique_ptr<ControlServer>> control = ControlServer::Create(
      running.control.socket, ControlServerOptions{.group = running.control.group});
  if (!control.ok()) return control.status();
  Log(absl::StrFormat("metrics on http://%s/metrics, control socket %s",
                      running.metrics.listen.ToString(), running.control.socket));
  const ControlServer::Handler handler = [this](const std::vector<std::string>& args) {
    auto [code, text] = Command(args);
    return ControlResponse{.exit_code = code, .text = text};
  };
  std::atomic<bool> stop_health{false};
  reloader_.UpdateChecks();
  std::thread health_thread([this, &stop_health] { checker_.Run(stop_health); });
  LogEvents();
  Log("ready");
  // Ports are up, the first table is published, the workers, the health thread, the
  // metrics endpoint and the control socket run: what Type=notify's READY=1 promises.
  {
    const StatusSnapshot snapshot = board_.Snapshot();  // services live in the controller
    const size_t service_count = snapshot.services.size();
    const size_t port_count = appliance_.ports().size();
    NotifyReady(absl::StrFormat("serving: %d service%s, %d port%s, table generation %d",
                                service_count, service_count == 1 ? "" : "s", port_count,
                                port_count == 1 ? "" : "s", appliance_.controller().generation()));
  }
  // WatchdogSec= of the unit, if any: keep-alive at half the interval, as sd_watchdog_enabled(3)
  // advises. The loop turns at least every ~1 ms, so the keep-alive stops only when it hangs.
  const uint64_t watchdog_ms = WatchdogIntervalUs() / 2000;
  uint64_t next_watchdog_ms = NowMs();
  uint64_t next_watch_ms = NowMs() + kConfigWatchIntervalMs;
  busy.Sample();
  uint64_t next_busy_sample_ms = NowMs() + kBusySampleIntervalMs;
  while (!StopRequested()) {
    const uint64_t now_ms = NowMs();
    uint32_t work = appliance_.PollControl(now_ms);
    if (watchdog_ms > 0 && now_ms >= next_watchdog_ms) {
      next_watchdog_ms = now_ms + watchdog_ms;
      NotifyWatchdog();
    }
    if (now_ms >= next_busy_sample_ms) {
      next_busy_sample_ms = now_ms + kBusySampleIntervalMs;
      busy.Sample();
    }
    if (TakeReloadRequest()) {
      Reload("SIGHUP");
      watch_.Mark();
      LogEvents();
      work += 1;
    }
    if (now_ms >= next_watch_ms) {
      next_watch_ms = now_ms + kConfigWatchIntervalMs;
      if (watch_.Changed()) {
        Reload("file replaced");
        LogEvents();
        work += 1;
      }
    }
    work += ApplyChanges() ? 1 : 0;
    if (const absl::Time now = absl::Now(); service_rates_.Due(now)) SampleRates(now);
    work += static_cast<uint32_t>((*control)->Poll(handler));
    if (work == 0) {
      timespec ts{.tv_sec = 0, .tv_nsec = 1000000};  // 1 ms: ARP needs no less
      nanosleep(&ts, nullptr);
    }
  }
  Log(absl::StrFormat("signal %d: stopping", StopSignal()));
  NotifyStopping(absl::StrFormat("stopping (signal %d)", StopSignal()));
  stop_health.store(true);
  health_thread.join();
  appliance_.StopWorkers();
  appliance_.LogSummary();
  return absl::OkStatus();
}

}  // namespace sluice::lb
