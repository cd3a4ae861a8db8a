// Stable ids for services and backends (DESIGN.md "Flows outlive tables"). A flow entry,
// a NAT session and the per-lcore counters name a backend or service by id, so an
// unchanged service or backend keeps its id across reloads, and an id a reload releases
// is handed out again only after a grace period long enough for every flow that named
// it to have expired. Control thread only.
//
// Identities: a service is (VIP, port, protocol, forwarding mode): renaming it or
// changing its health check keeps its id, changing its mode makes it a new service (its
// flows are re-picked rather than forwarded the new way without their NAT state). A
// backend is (its service, address, port).
//
// A reload plans with the const lookups and Peek* (which may fail: nothing changes) and
// then Commits, which cannot fail. Work is proportional to the services that changed:
// an unchanged service's backend ids are kept without being looked at.
#ifndef SLUICE_LB_ID_REGISTRY_H_
#define SLUICE_LB_ID_REGISTRY_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/config.h"

namespace sluice::lb {

// Ids 1 .. limit-1. Released ids wait in a FIFO until their time comes.
class IdPool {
 public:
  explicit IdPool(uint32_t limit) : limit_(limit) {}

  // The oldest released id whose wait is over, else a never-used one; nullopt when every
  // id is in use or waiting.
  std::optional<uint32_t> Allocate(absl::Time now);
  // What the next `n` Allocate calls would return (fewer when the space runs out).
  std::vector<uint32_t> Peek(size_t n, absl::Time now) const;
  void Release(uint32_t id, absl::Time reusable_at);

  size_t waiting() const { return waiting_.size(); }

 private:
  uint32_t limit_;
  uint32_t next_ = 1;
  std::deque<std::pair<uint32_t, absl::Time>> waiting_;  // in release order
};

struct ServiceKey {
  config::IpAddress vip;
  uint16_t port = 0;
  config::Protocol protocol = config::Protocol::kTcp;
  config::Forwarding forwarding = config::Forwarding::kDr;

  static ServiceKey Of(const config::Service& s) {
    return {.vip = s.vip, .port = s.port, .protocol = s.protocol, .forwarding = s.forwarding};
  }
  friend bool operator==(const ServiceKey&, const ServiceKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const ServiceKey& k) {
    return H::combine(std::move(h), k.vip, k.port, k.protocol, k.forwarding);
  }
};

// A backend within its service.
struct EndpointKey {
  config::IpAddress address;
  uint16_t port = 0;

  static EndpointKey Of(const config::Backend& b) { return {.address = b.address, .port = b.port}; }
  friend bool operator==(const EndpointKey&, const EndpointKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const EndpointKey& k) {
    return H::combine(std::move(h), k.address, k.port);
  }
};

class IdRegistry {
 public:
  struct ServiceIds {
    uint32_t id = 0;
    absl::flat_hash_map<EndpointKey, uint32_t> backends;
  };
  // One service of the new set, for Commit.
  struct ServiceUpdate {
    ServiceKey key;
    uint32_t id = 0;
    bool backends_unchanged = false;                         // keeps its backend ids as they are
    std::vector<std::pair<EndpointKey, uint32_t>> backends;  // otherwise: all of them
  };
  struct Released {
    std::vector<uint32_t> services;  // sorted
    std::vector<uint32_t> backends;  // sorted
  };

  IdRegistry(uint32_t service_limit, uint32_t backend_limit)
      : service_pool_(service_limit), backend_pool_(backend_limit) {}

  const ServiceIds* Find(const ServiceKey& key) const {
    auto it = services_.find(key);
    return it == services_.end() ? nullptr : &it->second;
  }
  // The ids `n` new services / backends would get, in order; fails when the id space
  // cannot hold them (released ids wait out their grace period first).
  absl::StatusOr<std::vector<uint32_t>> PeekServiceIds(size_t n, absl::Time now) const;
  absl::StatusOr<std::vector<uint32_t>> PeekBackendIds(size_t n, absl::Time now) const;

  // Makes `services` the registered set. The new ids among them must be the first
  // `new_service_ids` / `new_backend_ids` of what Peek*Ids returned at the same `now`.
  // Ids of identities that are gone are released until now + grace, in id order.
  Released Commit(std::vector<ServiceUpdate> services, size_t new_service_ids,
                  size_t new_backend_ids, absl::Time now, absl::Duration grace);

 private:
  IdPool service_pool_;
  IdPool backend_pool_;
  absl::flat_hash_map<ServiceKey, ServiceIds> services_;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_ID_REGISTRY_H_
