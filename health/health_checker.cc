#include "health/health_checker.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace sluice::health {
namespace {

bool SameRiseFall(RiseFall a, RiseFall b) { return a.rise == b.rise && a.fall == b.fall; }

bool PositiveFinite(absl::Duration d) {
  return d > absl::ZeroDuration() && d != absl::InfiniteDuration();
}

absl::Status Validate(const std::vector<CheckSpec>& checks) {
  absl::flat_hash_set<uint64_t> seen;
  for (const CheckSpec& check : checks) {
    const std::string who = absl::StrCat("subscriber ", check.subscriber);
    if (check.subscriber == 0) return absl::InvalidArgumentError("subscriber 0 is reserved");
    if (!seen.insert(check.subscriber).second) {
      return absl::InvalidArgumentError(absl::StrCat(who, " appears twice"));
    }
    if (!PositiveFinite(check.interval)) {
      return absl::InvalidArgumentError(
          absl::StrCat(who, ": interval ", absl::FormatDuration(check.interval)));
    }
    if (!PositiveFinite(check.probe.timeout)) {
      return absl::InvalidArgumentError(
          absl::StrCat(who, ": timeout ", absl::FormatDuration(check.probe.timeout)));
    }
    if (!check.probe.address.is_set()) {
      return absl::InvalidArgumentError(absl::StrCat(who, ": no probe address"));
    }
    if (check.rise_fall.rise == 0 || check.rise_fall.fall == 0) {
      return absl::InvalidArgumentError(absl::StrCat(who, ": rise and fall must be at least 1"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

ProbeKey ProbeKeyOf(const ProbeSpec& spec) {
  std::array<uint8_t, 16> bytes{};
  AddressFamily family = AddressFamily::kIpv4;
  if (spec.address.family() == AF_INET6) {
    family = AddressFamily::kIpv6;
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(spec.address.get());
    std::memcpy(bytes.data(), &v6->sin6_addr, 16);
  } else if (spec.address.family() == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(spec.address.get());
    std::memcpy(bytes.data(), &v4->sin_addr, 4);
  }
  switch (spec.type) {
    case ProbeSpec::kHttp:
      return HttpProbeKey(family, bytes, spec.address.port(), spec.timeout, spec.path,
                          spec.status_min, spec.body_contains);
    case ProbeSpec::kUdp:
      return UdpProbeKey(family, bytes, spec.address.port(), spec.timeout, spec.payload);
    case ProbeSpec::kTcpSyn:
      return TcpSynProbeKey(family, bytes, spec.address.port(), spec.timeout);
    case ProbeSpec::kTcp:
      break;
  }
  return TcpProbeKey(family, bytes, spec.address.port(), spec.timeout);
}

absl::StatusOr<std::unique_ptr<HealthChecker>> HealthChecker::Create(uint64_t seed) {
  absl::StatusOr<std::unique_ptr<Prober>> prober = Prober::Create();
  if (!prober.ok()) return prober.status();
  return std::unique_ptr<HealthChecker>(new HealthChecker(seed, *std::move(prober)));
}

HealthChecker::HealthChecker(uint64_t seed, std::unique_ptr<Prober> prober)
    : prober_(std::move(prober)), schedule_(seed) {}

// The prober goes first (declaration order is reversed on destruction anyway): it drops
// probes in flight without calling back into this object.
HealthChecker::~HealthChecker() { prober_.reset(); }

absl::Status HealthChecker::SetChecks(std::vector<CheckSpec> checks) {
  if (absl::Status status = Validate(checks); !status.ok()) return status;
  absl::MutexLock lock(&mu_);
  pending_ = std::move(checks);
  return absl::OkStatus();
}

void HealthChecker::Apply(const std::vector<CheckSpec>& checks) {
  const absl::Time now = absl::Now();

  // Group the new set by probe identity, then by rise/fall, reusing what already runs.
  absl::flat_hash_map<ProbeIdentity, ActiveProbe> next;
  for (const CheckSpec& check : checks) {
    ProbeIdentity identity{.key = ProbeKeyOf(check.probe), .interval = check.interval};
    if (check.probe.type == ProbeSpec::kHttp) {
      identity.http_host = check.probe.host;
      identity.http_status_max = check.probe.status_max;
    }
    const ActiveProbe* old = nullptr;
    if (auto found = probe_by_identity_.find(identity); found != probe_by_identity_.end()) {
      old = &probes_.at(found->second);
    }
    auto [it, inserted] = next.try_emplace(identity);
    ActiveProbe& probe = it->second;
    if (inserted) {
      probe.identity = identity;
      probe.spec = check.probe;
      if (old != nullptr) {
        probe.id = old->id;
        probe.in_flight = old->in_flight;
      }
    }
    auto group = std::find_if(probe.groups.begin(), probe.groups.end(), [&](const StateGroup& g) {
      return SameRiseFall(g.rise_fall, check.rise_fall);
    });
    if (group == probe.groups.end()) {
      HealthState state(check.rise_fall, check.initial);
      if (old != nullptr) {
        for (const StateGroup& g : old->groups) {
          if (SameRiseFall(g.rise_fall, check.rise_fall)) state = g.state;
        }
      }
      probe.groups.push_back(StateGroup{.rise_fall = check.rise_fall, .state = state});
      group = probe.groups.end() - 1;
    }
    group->subscribers.push_back(check.subscriber);
  }

  absl::MutexLock lock(&mu_);
  // Probes no longer wanted leave the schedule; a result still in flight for one of them
  // finds no probe and is dropped.
  for (const auto& [id, probe] : probes_) {
    if (!next.contains(probe.identity)) {
      schedule_.Remove(id);
      stats_.erase(id);
    }
  }
  probes_.clear();
  probe_by_identity_.clear();
  for (auto& [identity, probe] : next) {
    if (probe.id == 0) {
      probe.id = next_probe_id_++;
      if (next_probe_id_ == 0) next_probe_id_ = 1;
      // Cannot fail: the id is fresh and Validate checked the interval.
      schedule_.Add(probe.id, identity.interval, now).IgnoreError();
    }
    ProbeStats& stats = stats_[probe.id];
    stats.probe = absl::StrCat(identity.key.ToString(),
                               " interval=", absl::FormatDuration(identity.interval));
    if (!identity.http_host.empty()) absl::StrAppend(&stats.probe, " host=", identity.http_host);
    stats.subscribers = 0;
    for (const StateGroup& g : probe.groups) stats.subscribers += g.subscribers.size();
    probe_by_identity_.emplace(identity, probe.id);
    probes_.emplace(probe.id, std::move(probe));
  }

  // Subscribers: an unchanged one keeps its state (its group was carried over); a new or
  // changed one is told when the state it lands in differs from what it last knew.
  absl::flat_hash_map<uint64_t, Health> initial;
  absl::flat_hash_map<uint64_t, uint64_t> stats_group;
  for (const CheckSpec& check : checks) {
    initial[check.subscriber] = check.initial;
    stats_group[check.subscriber] = check.stats_group;
  }
  absl::flat_hash_map<uint64_t, Subscriber> subscribers;
  health_.clear();
  for (const auto& [id, probe] : probes_) {
    for (const StateGroup& g : probe.groups) {
      for (uint64_t sub : g.subscribers) {
        const auto old = subscribers_.find(sub);
        Subscriber& s = subscribers[sub];
        s.identity = probe.identity;
        s.rise_fall = g.rise_fall;
        s.stats_group = stats_group.at(sub);
        s.reported = old != subscribers_.end() ? old->second.reported : initial.at(sub);
        health_[sub] = s.reported;
        const bool unchanged = old != subscribers_.end() &&
                               old->second.identity == probe.identity &&
                               SameRiseFall(old->second.rise_fall, g.rise_fall);
        if (!unchanged) {
          Report(s, sub, g.state.health(),
                 old == subscribers_.end() ? "shares a running probe" : "check changed");
        }
      }
    }
  }
  subscribers_ = std::move(subscribers);
}

void HealthChecker::Report(Subscriber& subscriber, uint64_t id, Health health,
                           const std::string& detail) {
  if (subscriber.reported == health) return;
  subscriber.reported = health;
  health_[id] = health;
  changes_.push_back(HealthChange{.subscriber = id, .health = health, .detail = detail});
}

void HealthChecker::StartDue(absl::Time now) {
  for (CheckId id : schedule_.PopDue(now)) {
    ActiveProbe& probe = probes_.at(id);
    {
      absl::MutexLock lock(&mu_);
      ProbeStats& stats = stats_[id];
      if (probe.in_flight) {
        ++stats.skipped_in_flight;
        continue;
      }
      ++stats.started;
    }
    probe.in_flight = true;
    prober_->Start(id, probe.spec, [this](uint64_t token, const ProbeResult& result) {
      OnResult(static_cast<CheckId>(token), result);
    });
  }
}

void HealthChecker::OnResult(CheckId id, const ProbeResult& result) {
  const auto it = probes_.find(id);
  if (it == probes_.end()) return;  // removed by SetChecks while in flight
  ActiveProbe& probe = it->second;
  probe.in_flight = false;
  absl::MutexLock lock(&mu_);
  ProbeStats& stats = stats_[id];
  ++(result.success ? stats.successes : stats.failures);
  stats.last_detail = result.detail;
  stats.last_duration = result.elapsed;
  const double seconds = absl::ToDoubleSeconds(result.elapsed);
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(kCheckDurationBounds.begin(), kCheckDurationBounds.end(), seconds) -
      kCheckDurationBounds.begin());
  for (StateGroup& g : probe.groups) {
    for (uint64_t sub : g.subscribers) {
      CheckResultCounts& counts = result_counts_[subscribers_.at(sub).stats_group];
      ++(result.success ? counts.successes : result.timed_out ? counts.timeouts : counts.failures);
      ++counts.duration_buckets[bucket];
      counts.duration_sum_seconds += seconds;
    }
    const std::optional<Health> changed = g.state.Record(result.success);
    if (!changed) continue;
    for (uint64_t sub : g.subscribers) Report(subscribers_.at(sub), sub, *changed, result.detail);
  }
}

void HealthChecker::Poll(absl::Duration max_wait) {
  std::optional<std::vector<CheckSpec>> pending;
  {
    absl::MutexLock lock(&mu_);
    pending.swap(pending_);
  }
  if (pending) Apply(*pending);
  StartDue(absl::Now());
  absl::Duration wait = max_wait;
  if (const std::optional<absl::Time> due = schedule_.NextDue()) {
    wait = std::min(wait, *due - absl::Now());
  }
  prober_->Poll(std::max(wait, absl::ZeroDuration()));
}

void HealthChecker::Run(const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_acquire)) Poll(kRunPollSlice);
}

std::vector<HealthChange> HealthChecker::TakeChanges() {
  absl::MutexLock lock(&mu_);
  return std::exchange(changes_, {});
}

std::optional<Health> HealthChecker::health(uint64_t subscriber) const {
  absl::MutexLock lock(&mu_);
  const auto it = health_.find(subscriber);
  if (it == health_.end()) return std::nullopt;
  return it->second;
}

size_t HealthChecker::distinct_probes() const {
  absl::MutexLock lock(&mu_);
  return stats_.size();
}

std::vector<ProbeStats> HealthChecker::probe_stats() const {
  absl::MutexLock lock(&mu_);
  std::vector<ProbeStats> out;
  out.reserve(stats_.size());
  for (const auto& [id, stats] : stats_) out.push_back(stats);
  std::sort(out.begin(), out.end(),
            [](const ProbeStats& a, const ProbeStats& b) { return a.probe < b.probe; });
  return out;
}

absl::flat_hash_map<uint64_t, CheckResultCounts> HealthChecker::result_counts() const {
  absl::MutexLock lock(&mu_);
  return result_counts_;
}

}  // namespace sluice::health
