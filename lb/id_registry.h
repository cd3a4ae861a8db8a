// Stable ids for services and backends (DESIGN.md "Flows outlive tables"). A flow entry,
// a NAT session and the per-lcore counters name a backend or service by id, so an
// unchanged service or backend keeps its id across reloads, and an id a reload releases
// is handed out again only after a grace period long enough for every flow that named
// it to have expired. Control thread only.
//
// Identities: a service is (VIP, port, protocol, forwarding mode): renaming it or
// changing its health check keeps its id, changing its mode makes it a new service (its
// flows are re-picked rather than forwarded the new way without their NAT state). A
// backend is (its service's id, address, port).
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
    return H::combine(std::move(h), k.vip.family, k.vip.bytes, k.port, k.protocol, k.forwarding);
  }
};

struct BackendKey {
  uint32_t service = 0;
  config::IpAddress address;
  uint16_t port = 0;

  friend bool operator==(const BackendKey&, const BackendKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const BackendKey& k) {
    return H::combine(std::move(h), k.service, k.address.family, k.address.bytes, k.port);
  }
};

// The ids of one config: service_ids[s] and backend_ids[s][b] in config order, plus the
// ids the previous assignment had and this one does not.
struct IdAssignment {
  std::vector<uint32_t> service_ids;
  std::vector<std::vector<uint32_t>> backend_ids;
  std::vector<uint32_t> released_services;
  std::vector<uint32_t> released_backends;
};

class IdRegistry {
 public:
  IdRegistry(uint32_t service_limit, uint32_t backend_limit)
      : service_pool_(service_limit), backend_pool_(backend_limit) {}

  // The registry after `services` replaces the current set: kept ids for kept
  // identities, new ids for new ones, and the ids of identities that are gone released
  // until now + grace. Does not change *this (a reload that fails later must leave the
  // ids as they were). Fails when the id space is used up.
  absl::StatusOr<std::pair<IdRegistry, IdAssignment>> Next(
      const std::vector<config::Service>& services, absl::Time now, absl::Duration grace) const;

  std::optional<uint32_t> service_id(const ServiceKey& key) const;
  std::optional<uint32_t> backend_id(const BackendKey& key) const;

 private:
  IdPool service_pool_;
  IdPool backend_pool_;
  absl::flat_hash_map<ServiceKey, uint32_t> services_;
  absl::flat_hash_map<BackendKey, uint32_t> backends_;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_ID_REGISTRY_H_
