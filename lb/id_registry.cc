#include "lb/id_registry.h"

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace sluice::lb {

std::optional<uint32_t> IdPool::Allocate(absl::Time now) {
  if (!waiting_.empty() && waiting_.front().second <= now) {
    const uint32_t id = waiting_.front().first;
    waiting_.pop_front();
    return id;
  }
  if (next_ < limit_) return next_++;
  return std::nullopt;
}

void IdPool::Release(uint32_t id, absl::Time reusable_at) {
  // Grace periods can shrink between reloads (a shorter flow timeout): keep the FIFO
  // ordered by never letting a later release become reusable before an earlier one.
  if (!waiting_.empty() && reusable_at < waiting_.back().second) {
    reusable_at = waiting_.back().second;
  }
  waiting_.emplace_back(id, reusable_at);
}

absl::StatusOr<std::pair<IdRegistry, IdAssignment>> IdRegistry::Next(
    const std::vector<config::Service>& services, absl::Time now, absl::Duration grace) const {
  IdRegistry next(*this);
  next.services_.clear();
  next.backends_.clear();
  IdAssignment assignment;
  assignment.service_ids.reserve(services.size());
  assignment.backend_ids.resize(services.size());

  // Kept identities first, so that an id released in this very step is never reused by it.
  std::vector<size_t> new_services;
  for (size_t s = 0; s < services.size(); ++s) {
    const ServiceKey key = ServiceKey::Of(services[s]);
    auto it = services_.find(key);
    assignment.service_ids.push_back(it == services_.end() ? 0 : it->second);
    if (it == services_.end()) new_services.push_back(s);
  }
  for (size_t s : new_services) {
    std::optional<uint32_t> id = next.service_pool_.Allocate(now);
    if (!id) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "services[%d] (%s): no service id free (%d wait for the end of their grace period)", s,
          services[s].name, next.service_pool_.waiting()));
    }
    assignment.service_ids[s] = *id;
  }
  for (size_t s = 0; s < services.size(); ++s) {
    next.services_[ServiceKey::Of(services[s])] = assignment.service_ids[s];
  }

  std::vector<std::pair<size_t, size_t>> new_backends;
  for (size_t s = 0; s < services.size(); ++s) {
    const config::Service& svc = services[s];
    assignment.backend_ids[s].resize(svc.backends.size(), 0);
    for (size_t b = 0; b < svc.backends.size(); ++b) {
      const BackendKey key{.service = assignment.service_ids[s],
                           .address = svc.backends[b].address,
                           .port = svc.backends[b].port};
      auto it = backends_.find(key);
      if (it != backends_.end()) {
        assignment.backend_ids[s][b] = it->second;
      } else {
        new_backends.emplace_back(s, b);
      }
    }
  }
  for (auto [s, b] : new_backends) {
    std::optional<uint32_t> id = next.backend_pool_.Allocate(now);
    if (!id) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("services[%d].backends[%d]: no backend id free (%d wait for the end "
                          "of their grace period)",
                          s, b, next.backend_pool_.waiting()));
    }
    assignment.backend_ids[s][b] = *id;
  }
  for (size_t s = 0; s < services.size(); ++s) {
    for (size_t b = 0; b < services[s].backends.size(); ++b) {
      next.backends_[BackendKey{.service = assignment.service_ids[s],
                                .address = services[s].backends[b].address,
                                .port = services[s].backends[b].port}] =
          assignment.backend_ids[s][b];
    }
  }

  const absl::Time reusable_at = now + grace;
  for (const auto& [key, id] : services_) {
    if (!next.services_.contains(key)) {
      next.service_pool_.Release(id, reusable_at);
      assignment.released_services.push_back(id);
    }
  }
  for (const auto& [key, id] : backends_) {
    if (!next.backends_.contains(key)) {
      next.backend_pool_.Release(id, reusable_at);
      assignment.released_backends.push_back(id);
    }
  }
  return std::make_pair(std::move(next), std::move(assignment));
}

std::optional<uint32_t> IdRegistry::service_id(const ServiceKey& key) const {
  auto it = services_.find(key);
  return it == services_.end() ? std::nullopt : std::optional<uint32_t>(it->second);
}

std::optional<uint32_t> IdRegistry::backend_id(const BackendKey& key) const {
  auto it = backends_.find(key);
  return it == backends_.end() ? std::nullopt : std::optional<uint32_t>(it->second);
}

}  // namespace sluice::lb
