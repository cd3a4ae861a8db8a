#include "lb/id_registry.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
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

std::vector<uint32_t> IdPool::Peek(size_t n, absl::Time now) const {
  std::vector<uint32_t> ids;
  ids.reserve(n);
  for (size_t i = 0; i < waiting_.size() && ids.size() < n && waiting_[i].second <= now; ++i) {
    ids.push_back(waiting_[i].first);
  }
  for (uint32_t id = next_; id < limit_ && ids.size() < n; ++id) ids.push_back(id);
  return ids;
}

void IdPool::Release(uint32_t id, absl::Time reusable_at) {
  // Grace periods can shrink between reloads (a shorter flow timeout): keep the FIFO
  // ordered by never letting a later release become reusable before an earlier one.
  if (!waiting_.empty() && reusable_at < waiting_.back().second) {
    reusable_at = waiting_.back().second;
  }
  waiting_.emplace_back(id, reusable_at);
}

absl::StatusOr<std::vector<uint32_t>> IdRegistry::PeekServiceIds(size_t n, absl::Time now) const {
  std::vector<uint32_t> ids = service_pool_.Peek(n, now);
  if (ids.size() < n) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%u new services but only %u service ids free (%u wait for the end of their grace "
        "period)",
        n, ids.size(), service_pool_.waiting()));
  }
  return ids;
}

absl::StatusOr<std::vector<uint32_t>> IdRegistry::PeekBackendIds(size_t n, absl::Time now) const {
  std::vector<uint32_t> ids = backend_pool_.Peek(n, now);
  if (ids.size() < n) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%u new backends but only %u backend ids free (%u wait for the end of their grace "
        "period)",
        n, ids.size(), backend_pool_.waiting()));
  }
  return ids;
}

IdRegistry::Released IdRegistry::Commit(std::vector<ServiceUpdate> services, size_t new_service_ids,
                                        size_t new_backend_ids, absl::Time now,
                                        absl::Duration grace) {
  for (size_t i = 0; i < new_service_ids; ++i) service_pool_.Allocate(now);
  for (size_t i = 0; i < new_backend_ids; ++i) backend_pool_.Allocate(now);
  Released released;
  absl::flat_hash_set<ServiceKey> kept;
  kept.reserve(services.size());
  for (const ServiceUpdate& u : services) kept.insert(u.key);
  for (auto it = services_.begin(); it != services_.end();) {
    if (kept.contains(it->first)) {
      ++it;
      continue;
    }
    released.services.push_back(it->second.id);
    for (const auto& [endpoint, id] : it->second.backends) released.backends.push_back(id);
    services_.erase(it++);
  }
  for (ServiceUpdate& u : services) {
    ServiceIds& entry = services_[u.key];
    entry.id = u.id;
    if (u.backends_unchanged) continue;
    absl::flat_hash_map<EndpointKey, uint32_t> backends;
    backends.reserve(u.backends.size());
    for (auto& [endpoint, id] : u.backends) backends.emplace(std::move(endpoint), id);
    for (const auto& [endpoint, id] : entry.backends) {
      auto it = backends.find(endpoint);
      if (it == backends.end() || it->second != id) released.backends.push_back(id);
    }
    entry.backends = std::move(backends);
  }
  // Released in id order, so that which id comes back first never depends on hashing.
  std::sort(released.services.begin(), released.services.end());
  std::sort(released.backends.begin(), released.backends.end());
  const absl::Time reusable_at = now + grace;
  for (uint32_t id : released.services) service_pool_.Release(id, reusable_at);
  for (uint32_t id : released.backends) backend_pool_.Release(id, reusable_at);
  return released;
}

}  // namespace sluice::lb
