#include "lb/controller.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "config/model_reader.h"
#include "dataplane/nat_sessions.h"

namespace sluice::lb {

namespace {

namespace dp = ::sluice::dataplane;

// Every configured id in use plus as many released ones waiting out their grace.
static_assert(2 * config::kMaxBackendsTotal <= dp::kMaxBackendIds);
static_assert(2 * config::kMaxServices <= dp::kMaxServiceIds);

std::string AddressPort(const config::IpAddress& address, uint16_t port) {
  return config::SocketAddress{.address = address, .port = port}.ToString();
}

health::ProbeSpec::Type ProbeType(const config::HealthCheck& hc) {
  switch (hc.type) {
    case config::HealthCheckType::kHttp:
      return health::ProbeSpec::kHttp;
    case config::HealthCheckType::kUdp:
      return health::ProbeSpec::kUdp;
    default:
      return hc.tcp_mode == config::TcpCheckMode::kSyn ? health::ProbeSpec::kTcpSyn
                                                       : health::ProbeSpec::kTcp;
  }
}

// How long a released id waits: every flow naming it has then either been re-picked or
// been idle longer than its timeout, and the aging sweep (which finds idle flows within
// 1.25 timeouts) has ended their NAT sessions.
absl::Duration Grace(const config::FlowTableConfig& a, const config::FlowTableConfig& b) {
  const absl::Duration longest =
      std::max({a.tcp_timeout, a.udp_timeout, b.tcp_timeout, b.udp_timeout});
  return 2 * longest + absl::Seconds(10);
}

}  // namespace

std::string ReloadReport::Summary() const {
  std::string s = changes.empty() ? "no service changes" : absl::StrJoin(changes, "; ");
  absl::StrAppendFormat(&s, " (%u Maglev table%s rebuilt, generation %u)", maglev_rebuilt,
                        maglev_rebuilt == 1 ? "" : "s", generation);
  return s;
}

std::vector<std::string> KeepRestartOnlyKeys(const config::Config& running, config::Config& next) {
  std::vector<std::string> out;
  // Each restart-only key once: report a difference, then put the running value back.
  auto keep = [&out](std::string_view key, auto& value, const auto& running_value, std::string from,
                     std::string to) {
    if (value == running_value) return;
    out.push_back(from.empty() ? std::string(key) + " changed"
                               : absl::StrFormat("%s: %s -> %s", key, from, to));
    value = running_value;
  };
  auto number = [&keep](std::string_view key, auto& value, const auto& running_value) {
    keep(key, value, running_value, absl::StrCat(running_value), absl::StrCat(value));
  };
  auto opaque = [&keep](std::string_view key, auto& value, const auto& running_value) {
    keep(key, value, running_value, "", "");
  };
  config::DataplaneConfig& d = next.dataplane;
  const config::DataplaneConfig& r = running.dataplane;
  number("dataplane.workers", d.workers, r.workers);
  opaque("dataplane.idle_backoff", d.idle_backoff, r.idle_backoff);
  opaque("dataplane.idle_sleep_max", d.idle_sleep_max, r.idle_sleep_max);
  number("dataplane.rx_descriptors", d.rx_descriptors, r.rx_descriptors);
  number("dataplane.tx_descriptors", d.tx_descriptors, r.tx_descriptors);
  number("dataplane.icmp_errors_per_second", d.icmp_errors_per_second, r.icmp_errors_per_second);
  number("dataplane.icmp_error_burst", d.icmp_error_burst, r.icmp_error_burst);
  opaque("dataplane.eal", d.eal, r.eal);
  opaque("dataplane.ports", d.ports, r.ports);
  opaque("dataplane.neighbors", d.neighbors, r.neighbors);
  number("dataplane.flow_table.capacity", d.flow_table.capacity, r.flow_table.capacity);
  number("dataplane.flow_table.capacity6", d.flow_table.capacity6, r.flow_table.capacity6);
  opaque("dataplane.neighbor_cache", d.neighbor_cache, r.neighbor_cache);
  keep("metrics.listen", next.metrics.listen, running.metrics.listen,
       running.metrics.listen.ToString(), next.metrics.listen.ToString());
  keep("control.socket", next.control.socket, running.control.socket, running.control.socket,
       next.control.socket);
  auto group = [](const std::string& g) { return g.empty() ? std::string("(none)") : g; };
  keep("control.group", next.control.group, running.control.group, group(running.control.group),
       group(next.control.group));
  return out;
}

Controller::Controller(std::vector<dp::PortInfo> ports, NextHopResolver resolve_next_hop,
                       Publish publish, ControllerOptions options)
    : raw_ports_(std::move(ports)),
      resolve_next_hop_(std::move(resolve_next_hop)),
      publish_(std::move(publish)),
      options_(options),
      ids_(dp::kMaxServiceIds, dp::kMaxBackendIds) {}

absl::Status Controller::Start(config::Config config, absl::Time now) {
  absl::StatusOr<ReloadReport> report = Apply(std::move(config), now, /*first=*/true);
  return report.status();
}

absl::StatusOr<ReloadReport> Controller::Reload(config::Config config, absl::Time now) {
  if (!started_) return absl::FailedPreconditionError("not started");
  return Apply(std::move(config), now, /*first=*/false);
}

bool Controller::HealthChecked(const config::Service& service) const {
  return options_.health_checks && service.health_check.type != config::HealthCheckType::kNone;
}

std::vector<MaglevBackend> Controller::MaglevInput(const std::vector<BackendState>& backends) {
  std::vector<MaglevBackend> input;
  input.reserve(backends.size());
  for (const BackendState& b : backends) {
    input.push_back(
        MaglevBackend{.id = b.id, .identity = IdentityOf(b.config), .weight = b.MaglevWeight()});
  }
  return input;
}

absl::StatusOr<dp::MaglevSlots> Controller::BuildSlots(const std::vector<MaglevBackend>& input,
                                                       uint32_t table_size,
                                                       const std::string& service) {
  const bool any =
      std::any_of(input.begin(), input.end(), [](const MaglevBackend& b) { return b.weight != 0; });
  if (!any) return dp::MaglevSlots();  // nothing takes new flows
  absl::StatusOr<MaglevTable> built = MaglevTable::Build(input, table_size);
  if (!built.ok()) {
    return absl::Status(built.status().code(),
                        absl::StrFormat("service %s: %s", service, built.status().message()));
  }
  return dp::MaglevSlots(std::make_shared<const std::vector<dp::BackendId>>(built->slots().begin(),
                                                                            built->slots().end()));
}

absl::Status Controller::BuildAll(std::vector<MaglevJob>& jobs, bool parallel) {
  std::atomic<size_t> next{0};
  auto run = [&jobs, &next] {
    for (size_t i = next.fetch_add(1); i < jobs.size(); i = next.fetch_add(1)) {
      jobs[i].result = BuildSlots(*jobs[i].input, jobs[i].table_size, *jobs[i].service);
    }
  };
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  const size_t threads = parallel && jobs.size() >= 8 ? cpus : 1;
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) {
    helpers.emplace_back([&run, cpus] {
      // The EAL pinned the control thread to the main lcore and threads inherit that:
      // let these run on any CPU (the workers' are idle before they are launched).
      cpu_set_t all;
      CPU_ZERO(&all);
      for (unsigned c = 0; c < cpus && c < CPU_SETSIZE; ++c) CPU_SET(c, &all);
      pthread_setaffinity_np(pthread_self(), sizeof(all), &all);
      run();
    });
  }
  run();
  for (std::thread& t : helpers) t.join();
  for (const MaglevJob& job : jobs) {
    if (!job.result.ok()) return job.result.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<ReloadReport> Controller::Apply(config::Config effective, absl::Time now,
                                               bool first) {
  ReloadReport report;
  // Restart-only keys keep their running values (docs/config.md says which).
  if (!first) report.restart_required = KeepRestartOnlyKeys(running_, effective);
  for (const config::Service& svc : effective.services) {
    if (svc.forwarding != config::Forwarding::kNat) continue;
    if (!options_.nat_sessions) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "service %s: a nat service needs a restart here: the running appliance has no NAT "
          "session table (its start-up config had no nat service)",
          svc.name));
    }
    if (effective.dataplane.ports.size() > dp::kNatMaxPorts) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "nat services need at most %d ports (the NAT session records the client's port)",
          dp::kNatMaxPorts));
    }
  }

  const std::vector<dp::PortInfo> ports = first ? AddressPorts(effective, raw_ports_) : ports_;
  std::unique_ptr<dp::RouteTable> new_routes;
  if (first || effective.dataplane.routes != running_.dataplane.routes) {
    absl::StatusOr<std::unique_ptr<dp::RouteTable>> built = BuildRoutes(effective.dataplane);
    if (!built.ok()) return built.status();
    new_routes = std::move(*built);
  }
  const dp::RouteTable& routes = new_routes ? *new_routes : *routes_;
  // Next hops and tunnel sources of unchanged backends stay valid unless these changed.
  const bool resolve_all = first || new_routes != nullptr ||
                           effective.dataplane.tunnel_source != running_.dataplane.tunnel_source;
  const absl::Duration grace =
      Grace(effective.dataplane.flow_table,
            first ? effective.dataplane.flow_table : running_.dataplane.flow_table);

  // Plan: nothing until "Commit" changes the controller, so a failure changes nothing.
  const size_t n = effective.services.size();
  std::vector<Plan> plans(n);
  size_t new_services = 0;
  size_t new_backends = 0;
  for (size_t s = 0; s < n; ++s) {
    const config::Service& svc = effective.services[s];
    Plan& plan = plans[s];
    plan.ids = ids_.Find(ServiceKey::Of(svc));
    if (plan.ids != nullptr) {
      auto it = service_index_.find(plan.ids->id);
      if (it != service_index_.end()) plan.old = &services_[it->second];
    }
    plan.reuse = plan.old != nullptr && !resolve_all && plan.old->config.backends == svc.backends;
    plan.reset_health = plan.old != nullptr && HealthChecked(svc) &&
                        plan.old->config.health_check != svc.health_check;
    new_services += plan.ids == nullptr ? 1 : 0;
    if (!plan.reuse) {
      for (const config::Backend& b : svc.backends) {
        if (plan.ids == nullptr || !plan.ids->backends.contains(EndpointKey::Of(b))) {
          new_backends += 1;
        }
      }
    }
  }
  absl::StatusOr<std::vector<uint32_t>> service_ids = ids_.PeekServiceIds(new_services, now);
  if (!service_ids.ok()) return service_ids.status();
  absl::StatusOr<std::vector<uint32_t>> backend_ids = ids_.PeekBackendIds(new_backends, now);
  if (!backend_ids.ok()) return backend_ids.status();

  const BackendPlace place{.dataplane = effective.dataplane, .ports = ports, .routes = routes};
  size_t next_service_id = 0;
  size_t next_backend_id = 0;
  std::vector<MaglevJob> jobs;
  std::vector<size_t> job_service;
  for (size_t s = 0; s < n; ++s) {
    const config::Service& svc = effective.services[s];
    Plan& plan = plans[s];
    plan.id = plan.ids != nullptr ? plan.ids->id : (*service_ids)[next_service_id++];
    const bool initially_up = !HealthChecked(svc) || svc.health_check.assume_up;
    const std::vector<BackendState>* backends = nullptr;
    if (plan.reuse) {
      backends = &plan.old->backends;
      if (plan.old->config != svc) {
        report.changes.push_back(absl::StrFormat("service %s changed", svc.name));
      }
    } else {
      absl::StatusOr<size_t> added =
          PlanBackends(svc, plan, place, *backend_ids, next_backend_id, initially_up);
      if (!added.ok()) return added.status();
      backends = &plan.fresh.backends;
      if (plan.old != nullptr && plan.old->config != svc) {
        const size_t removed = plan.old->backends.size() + *added - svc.backends.size();
        std::string what = absl::StrFormat("service %s changed", svc.name);
        if (*added != 0) {
          absl::StrAppendFormat(&what, ", %u backend%s added", *added, *added == 1 ? "" : "s");
        }
        if (removed != 0) {
          absl::StrAppendFormat(&what, ", %u backend%s removed", removed, removed == 1 ? "" : "s");
        }
        report.changes.push_back(what);
      }
    }
    if (plan.old == nullptr && !first) {
      report.changes.push_back(absl::StrFormat("service %s added", svc.name));
    }
    // The Maglev input as the new state will have it.
    plan.maglev_input = MaglevInput(*backends);
    if (plan.reset_health && plan.reuse) {
      for (size_t b = 0; b < backends->size(); ++b) {
        const BackendState& bs = (*backends)[b];
        plan.maglev_input[b].weight =
            initially_up && !bs.config.drain && !bs.runtime_drain ? bs.config.weight : 0;
      }
    }
    plan.rebuild = plan.old == nullptr || !plan.old->maglev_built ||
                   plan.old->config.table_size != svc.table_size ||
                   plan.old->maglev_input != plan.maglev_input;
    if (plan.rebuild) {
      jobs.push_back(MaglevJob{
          .input = &plan.maglev_input, .table_size = svc.table_size, .service = &svc.name});
      job_service.push_back(s);
    }
  }
  // A Maglev table of 65537 slots takes about 1.3 ms (bench/RESULTS.md). At start-up the
  // workers are not running yet, so all CPUs build; a reload never takes the workers'
  // CPUs and builds on the control thread alone.
  if (absl::Status built = BuildAll(jobs, /*parallel=*/first); !built.ok()) return built;
  report.maglev_rebuilt = jobs.size();
  for (size_t i = 0; i < jobs.size(); ++i) plans[job_service[i]].slots = *jobs[i].result;
  std::vector<bool> kept(services_.size(), false);
  for (const Plan& plan : plans) {
    if (plan.old != nullptr) kept[static_cast<size_t>(plan.old - services_.data())] = true;
  }
  for (size_t i = 0; i < services_.size(); ++i) {
    if (!kept[i]) {
      report.changes.push_back(absl::StrFormat("service %s removed", services_[i].config.name));
    }
  }

  // Commit: nothing below fails.
  std::vector<IdRegistry::ServiceUpdate> updates(n);
  for (size_t s = 0; s < n; ++s) {
    updates[s].key = ServiceKey::Of(effective.services[s]);
    updates[s].id = plans[s].id;
    updates[s].backends_unchanged = plans[s].reuse;
    if (!plans[s].reuse) {
      updates[s].backends.reserve(plans[s].fresh.backends.size());
      for (const BackendState& b : plans[s].fresh.backends) {
        updates[s].backends.emplace_back(EndpointKey::Of(b.config), b.id);
      }
    }
  }
  const IdRegistry::Released released =
      ids_.Commit(std::move(updates), new_services, new_backends, now, grace);
  for (auto it = retired_.begin(); it != retired_.end();) {
    if (it->second.until <= now) {
      retired_.erase(it++);
    } else {
      ++it;
    }
  }
  for (uint32_t id : released.backends) {
    const BackendState* old = FindBackend(id);
    if (old == nullptr) continue;
    Retired r{.info = old->info, .until = now + grace};
    r.info.up = false;
    retired_[id] = r;
    backend_index_.erase(id);
  }

  std::vector<ServiceState> services(n);
  for (size_t s = 0; s < n; ++s) {
    Plan& plan = plans[s];
    ServiceState& st = services[s];
    const config::Service& svc = effective.services[s];
    if (plan.reuse) {
      st = std::move(*plan.old);  // same key: same ServiceInfo, and its slots unless rebuilt
      if (plan.reset_health) {
        for (BackendState& b : st.backends) {
          b.up = !HealthChecked(svc) || svc.health_check.assume_up;
          b.detail.clear();
        }
      }
    } else {
      st = std::move(plan.fresh);
      st.serving = plan.old != nullptr ? plan.old->serving : SIZE_MAX;  // SIZE_MAX: unpublished
      if (plan.old != nullptr && !plan.rebuild) st.info.maglev = plan.old->info.maglev;
      for (size_t b = 0; b < st.backends.size(); ++b) {
        backend_index_[st.backends[b].id] = {st.id, static_cast<uint32_t>(b)};
      }
    }
    if (plan.rebuild) st.info.maglev = plan.slots;
    st.maglev_input = std::move(plan.maglev_input);
    st.maglev_built = true;
    st.dirty = false;
  }
  for (size_t s = 0; s < n; ++s) services[s].config = std::move(effective.services[s]);
  effective.services.clear();
  running_ = std::move(effective);
  ports_ = ports;
  if (new_routes) routes_ = std::move(new_routes);
  services_ = std::move(services);
  service_index_.clear();
  for (size_t s = 0; s < services_.size(); ++s) service_index_[services_[s].id] = s;
  started_ = true;
  PublishAndNote(Assemble(services_, retired_, running_.dataplane));
  report.generation = generation_;
  return report;
}

absl::StatusOr<size_t> Controller::PlanBackends(const config::Service& svc, Plan& plan,
                                                const BackendPlace& place,
                                                const std::vector<uint32_t>& new_ids,
                                                size_t& next_new_id, bool initially_up) const {
  ServiceState& st = plan.fresh;
  st.id = plan.id;
  st.info = MakeServiceInfo(svc, st.id);
  st.backends.resize(svc.backends.size());
  size_t added = 0;
  for (size_t b = 0; b < svc.backends.size(); ++b) {
    BackendState& bs = st.backends[b];
    const BackendState* ob = nullptr;
    if (plan.ids != nullptr) {
      auto it = plan.ids->backends.find(EndpointKey::Of(svc.backends[b]));
      if (it != plan.ids->backends.end()) {
        bs.id = it->second;
        ob = FindBackend(bs.id);
      }
    }
    if (bs.id == 0) {
      bs.id = new_ids[next_new_id++];
      added += 1;
    }
    bs.config = svc.backends[b];
    absl::StatusOr<dp::BackendInfo> info =
        ResolveBackend(place, svc, svc.backends[b], resolve_next_hop_);
    if (!info.ok()) return info.status();
    bs.info = *info;
    bs.info.service = st.id;
    bs.up = initially_up;
    if (ob != nullptr) {
      bs.runtime_drain = ob->runtime_drain;
      if (!plan.reset_health && HealthChecked(svc)) {
        bs.up = ob->up;
        bs.detail = ob->detail;
      }
    }
  }
  return added;
}

std::unique_ptr<dp::ForwardingTable> Controller::Assemble(
    const std::vector<ServiceState>& services,
    const absl::flat_hash_map<uint32_t, Retired>& retired,
    const config::DataplaneConfig& dataplane) const {
  auto table = std::make_unique<dp::ForwardingTable>();
  table->ports = ports_;
  table->tcp_timeout_ms =
      static_cast<uint32_t>(absl::ToInt64Milliseconds(dataplane.flow_table.tcp_timeout));
  table->udp_timeout_ms =
      static_cast<uint32_t>(absl::ToInt64Milliseconds(dataplane.flow_table.udp_timeout));
  uint32_t max_id = 0;
  for (const auto& [id, r] : retired) max_id = std::max(max_id, id);
  for (const ServiceState& st : services) {
    for (const BackendState& b : st.backends) max_id = std::max(max_id, b.id);
  }
  table->backends.resize(max_id + 1);
  for (const auto& [id, r] : retired) {
    table->backends[id] = r.info;
    // The aging sweep ends a retired NAT backend's sessions only when the table says
    // there are NAT sessions, even after the last nat service is gone.
    table->has_nat = table->has_nat || r.info.nat;
  }
  table->services.reserve(services.size());
  for (const ServiceState& st : services) {
    for (const BackendState& b : st.backends) {
      dp::BackendInfo& info = table->backends[b.id];
      info = b.info;
      info.up = b.up;
    }
    table->AddService(st.info, st.config.answer_arp);
  }
  return table;
}

void Controller::PublishAndNote(std::unique_ptr<dp::ForwardingTable> table) {
  generation_ = publish_(std::move(table));
  for (ServiceState& st : services_) {
    size_t serving = 0;
    for (const BackendState& b : st.backends) serving += b.MaglevWeight() != 0 ? 1 : 0;
    const bool was_serving = st.serving != SIZE_MAX && st.serving != 0;
    if (serving == 0 && (st.serving == SIZE_MAX || was_serving)) {
      events_.push_back(absl::StrFormat(
          "service %s: no serving backend (%u configured): new flows are dropped and counted "
          "as no_backend",
          st.config.name, st.backends.size()));
    } else if (serving != 0 && st.serving == 0) {
      events_.push_back(absl::StrFormat("service %s: %u of %u backends serving again",
                                        st.config.name, serving, st.backends.size()));
    }
    st.serving = serving;
  }
}

const Controller::BackendState* Controller::FindBackend(uint32_t id) const {
  auto it = backend_index_.find(id);
  if (it == backend_index_.end()) return nullptr;
  auto s = service_index_.find(it->second.first);
  if (s == service_index_.end()) return nullptr;
  return &services_[s->second].backends[it->second.second];
}

Controller::BackendState* Controller::FindBackend(uint32_t id) {
  return const_cast<BackendState*>(std::as_const(*this).FindBackend(id));
}

void Controller::SetHealth(uint32_t backend, bool up, std::string_view detail) {
  auto it = backend_index_.find(backend);
  if (it == backend_index_.end()) return;
  auto s = service_index_.find(it->second.first);
  if (s == service_index_.end()) return;
  ServiceState& st = services_[s->second];
  if (!HealthChecked(st.config)) return;
  BackendState& b = st.backends[it->second.second];
  b.detail = std::string(detail);
  if (b.up == up) return;
  b.up = up;
  st.dirty = true;
  events_.push_back(absl::StrFormat("backend %s %s %s: %s", st.config.name,
                                    AddressPort(b.config.address, b.config.port),
                                    up ? "up" : "down", detail));
}

absl::Status Controller::SetDrain(std::string_view service, std::string_view backend, bool drain) {
  ServiceState* st = nullptr;
  for (ServiceState& s : services_) {
    if (s.config.name == service) st = &s;
  }
  if (st == nullptr) return absl::NotFoundError(absl::StrFormat("no service named %s", service));
  // ADDRESS:PORT, [IPV6]:PORT (the config's own endpoint syntax) or a bare address.
  std::optional<config::IpAddress> address;
  std::optional<uint16_t> port;
  if (const std::optional<config::SocketAddress> endpoint = config::SocketAddress::Parse(backend)) {
    address = endpoint->address;
    port = endpoint->port;
  } else {
    std::string_view host = backend;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    address = config::IpAddress::Parse(host);
  }
  if (!address) return absl::InvalidArgumentError(absl::StrFormat("bad backend %s", backend));
  std::vector<BackendState*> matches;
  for (BackendState& b : st->backends) {
    if (b.config.address == *address && (!port || b.config.port == *port)) matches.push_back(&b);
  }
  if (matches.empty()) {
    return absl::NotFoundError(
        absl::StrFormat("service %s has no backend %s", st->config.name, backend));
  }
  if (matches.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s matches %u backends of service %s: give ADDRESS:PORT", backend,
                        matches.size(), st->config.name));
  }
  if (matches[0]->runtime_drain != drain) {
    matches[0]->runtime_drain = drain;
    st->dirty = true;
    events_.push_back(
        absl::StrFormat("backend %s %s %s (sluicectl)", st->config.name,
                        AddressPort(matches[0]->config.address, matches[0]->config.port),
                        drain ? "drained" : "undrained"));
  }
  return absl::OkStatus();
}

size_t Controller::Flush() {
  std::vector<MaglevJob> jobs;
  std::vector<ServiceState*> rebuilt;
  bool any = false;
  for (ServiceState& st : services_) {
    if (!st.dirty) continue;
    any = true;
    st.dirty = false;
    std::vector<MaglevBackend> input = MaglevInput(st.backends);
    if (st.maglev_built && input == st.maglev_input) continue;
    st.maglev_input = std::move(input);
    rebuilt.push_back(&st);
  }
  if (!any) return 0;
  for (ServiceState* st : rebuilt) {
    jobs.push_back(MaglevJob{.input = &st->maglev_input,
                             .table_size = st->config.table_size,
                             .service = &st->config.name});
  }
  // The inputs passed MaglevTable's checks when the config was applied; weights only
  // changed since, which cannot fail.
  BuildAll(jobs, /*parallel=*/false).IgnoreError();
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (jobs[i].result.ok()) rebuilt[i]->info.maglev = *jobs[i].result;
  }
  PublishAndNote(Assemble(services_, retired_, running_.dataplane));
  return rebuilt.size();
}

std::vector<health::CheckSpec> Controller::HealthChecks() const {
  std::vector<health::CheckSpec> checks;
  for (const ServiceState& st : services_) {
    if (!HealthChecked(st.config)) continue;
    const config::HealthCheck& hc = st.config.health_check;
    for (const BackendState& b : st.backends) {
      health::CheckSpec spec;
      spec.subscriber = b.id;
      spec.stats_group = st.id;  // sluice_health_checks_total{service}: HealthCollector
      spec.probe.type = ProbeType(hc);
      spec.probe.address =
          health::SocketAddress::Parse(b.config.address.ToString(), hc.port.value_or(b.config.port))
              .value_or(health::SocketAddress());
      spec.probe.timeout = hc.timeout;
      spec.probe.path = hc.path;
      spec.probe.status_min = hc.expect_status;
      spec.probe.status_max = hc.expect_status_max;
      spec.probe.body_contains = hc.body;
      spec.probe.payload = hc.payload;
      spec.interval = hc.interval;
      spec.rise_fall = health::RiseFall{.rise = hc.rise, .fall = hc.fall};
      spec.initial = hc.assume_up ? health::Health::kUp : health::Health::kDown;
      checks.push_back(std::move(spec));
    }
  }
  return checks;
}

std::vector<ServiceStatus> Controller::Status() const {
  std::vector<ServiceStatus> out;
  out.reserve(services_.size());
  for (const ServiceState& st : services_) {
    const config::Service& svc = st.config;
    ServiceStatus s;
    s.id = st.id;
    s.name = svc.name;
    s.vip = AddressPort(svc.vip, svc.port);
    s.protocol = std::string(config::ToString(svc.protocol));
    s.forwarding = std::string(config::ToString(svc.forwarding));
    s.scheduler = std::string(config::ToString(svc.scheduler));
    s.health_check = std::string(config::ToString(svc.health_check.type));
    for (const BackendState& b : st.backends) {
      s.backends.push_back(BackendStatus{.id = b.id,
                                         .address = AddressPort(b.config.address, b.config.port),
                                         .weight = b.config.weight,
                                         .config_drain = b.config.drain,
                                         .runtime_drain = b.runtime_drain,
                                         .up = b.up,
                                         .health_detail = b.detail});
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> Controller::TakeEvents() {
  std::vector<std::string> out;
  out.swap(events_);
  return out;
}

absl::StatusOr<std::unique_ptr<dp::ForwardingTable>> BuildForwardingTable(
    const config::Config& config, const std::vector<dp::PortInfo>& ports,
    const NextHopResolver& resolve_next_hop) {
  std::unique_ptr<dp::ForwardingTable> out;
  Controller controller(
      ports, resolve_next_hop,
      [&out](std::unique_ptr<dp::ForwardingTable> table) {
        out = std::move(table);
        return uint64_t{1};
      },
      ControllerOptions{.health_checks = false, .nat_sessions = true});
  if (absl::Status s = controller.Start(config, absl::Now()); !s.ok()) return s;
  return out;
}

}  // namespace sluice::lb
