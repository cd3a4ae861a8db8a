// RouteTable: the LPM bookkeeping (metrics, default routes, next-hop slots) around rte_lpm
// and rte_lpm6.
#include "dataplane/route_table.h"

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>

#include <atomic>

#include "absl/strings/str_format.h"

namespace sluice::dataplane {

namespace {

// rte_lpm6 names its rules hash "LRH_<name>", whose ring becomes the memzone
// "RG_HT_LRH_<name>" (31 characters at most): the tightest of the DPDK name limits.
constexpr size_t kMaxDpdkNameLength = 21;

// DPDK object names are global to the process; a counter makes them unique whatever
// names the callers pick. The counter comes first after the family so that truncating
// the caller's name never makes two names equal.
std::string UniqueDpdkName(const std::string& name, char family) {
  static std::atomic<uint32_t> next{0};
  const std::string prefix =
      absl::StrFormat("r%c%u_", family, next.fetch_add(1, std::memory_order_relaxed));
  return (prefix + name).substr(0, kMaxDpdkNameLength);
}

uint32_t MaskOf(uint8_t length) { return length == 0 ? 0 : ~0u << (32 - length); }

bool HostBitsZero6(const std::array<uint8_t, 16>& prefix, uint8_t length) {
  for (size_t i = 0; i < prefix.size(); ++i) {
    const int bits_in_prefix = static_cast<int>(length) - static_cast<int>(8 * i);
    const uint8_t mask = bits_in_prefix >= 8   ? 0xff
                         : bits_in_prefix <= 0 ? 0
                                               : static_cast<uint8_t>(0xff << (8 - bits_in_prefix));
    if ((prefix[i] & ~mask & 0xff) != 0) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RouteTable>> RouteTable::Create(const std::string& name,
                                                               uint32_t max_routes4,
                                                               uint32_t max_routes6,
                                                               int socket_id) {
  if (max_routes4 > kMaxRoutes4 || max_routes6 > kMaxRoutes6) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "route table %s: at most %u IPv4 and %u IPv6 routes (next-hop id width), asked for "
        "%u and %u",
        name, kMaxRoutes4, kMaxRoutes6, max_routes4, max_routes6));
  }
  auto table = std::unique_ptr<RouteTable>(new RouteTable(name, max_routes4, max_routes6));
  if (max_routes4 > 0) {
    const std::string lpm_name = UniqueDpdkName(name, '4');
    rte_lpm_config config{};
    config.max_rules = max_routes4;
    // A rule longer than /24 needs one tbl8 group (its /24); one per rule is the worst case.
    config.number_tbl8s = max_routes4;
    table->lpm4_ = rte_lpm_create(lpm_name.c_str(), socket_id, &config);
    if (table->lpm4_ == nullptr) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("route table %s: rte_lpm_create(%s, %u rules): %s", name, lpm_name,
                          max_routes4, rte_strerror(rte_errno)));
    }
  }
  if (max_routes6 > 0) {
    const std::string lpm_name = UniqueDpdkName(name, '6');
    rte_lpm6_config config{};
    config.max_rules = max_routes6;
    // Past the 24-bit first level each further byte of prefix takes one tbl8 group:
    // (128 - 24) / 8 = 13 for a /128, the worst case for every rule.
    config.number_tbl8s = max_routes6 * 13;
    table->lpm6_ = rte_lpm6_create(lpm_name.c_str(), socket_id, &config);
    if (table->lpm6_ == nullptr) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("route table %s: rte_lpm6_create(%s, %u rules): %s", name, lpm_name,
                          max_routes6, rte_strerror(rte_errno)));
    }
  }
  return table;
}

RouteTable::~RouteTable() {
  rte_lpm_free(lpm4_);
  rte_lpm6_free(lpm6_);
}

absl::Status RouteTable::Add4(uint32_t prefix_network_order, uint8_t length, uint32_t metric,
                              const NextHop& next_hop) {
  const uint32_t prefix = rte_be_to_cpu_32(prefix_network_order);
  if (length > 32) {
    return absl::InvalidArgumentError(
        absl::StrFormat("route table %s: IPv4 prefix length %u > 32", name_, length));
  }
  if ((prefix & ~MaskOf(length)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("route table %s: %08x/%u has host bits set", name_, prefix, length));
  }
  const auto existing = prefixes4_.find({prefix, length});
  if (existing != prefixes4_.end()) {
    if (metric < existing->second.metric) {
      // Same prefix, same id: only the NextHop behind it changes, the LPM stays as it is.
      existing->second.metric = metric;
      next_hops4_[existing->second.id] = next_hop;
    }
    ++accepted_;
    return absl::OkStatus();
  }
  if (prefixes4_.size() >= max_routes4_) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("route table %s: more than %u IPv4 prefixes", name_, max_routes4_));
  }
  const auto id = static_cast<uint32_t>(next_hops4_.size());
  if (length > 0) {
    const int ret = rte_lpm_add(lpm4_, prefix, length, id);
    if (ret < 0) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "route table %s: rte_lpm_add(%08x/%u): %s", name_, prefix, length, rte_strerror(-ret)));
    }
  } else {
    default4_ = id;
  }
  next_hops4_.push_back(next_hop);
  prefixes4_.emplace(std::make_pair(prefix, length), Installed{.metric = metric, .id = id});
  ++accepted_;
  return absl::OkStatus();
}

absl::Status RouteTable::Add6(const std::array<uint8_t, 16>& prefix, uint8_t length,
                              uint32_t metric, const NextHop& next_hop) {
  if (length > 128) {
    return absl::InvalidArgumentError(
        absl::StrFormat("route table %s: IPv6 prefix length %u > 128", name_, length));
  }
  if (!HostBitsZero6(prefix, length)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("route table %s: IPv6 prefix /%u has host bits set", name_, length));
  }
  const auto existing = prefixes6_.find({prefix, length});
  if (existing != prefixes6_.end()) {
    if (metric < existing->second.metric) {
      existing->second.metric = metric;
      next_hops6_[existing->second.id] = next_hop;
    }
    ++accepted_;
    return absl::OkStatus();
  }
  if (prefixes6_.size() >= max_routes6_) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("route table %s: more than %u IPv6 prefixes", name_, max_routes6_));
  }
  const auto id = static_cast<uint32_t>(next_hops6_.size());
  if (length > 0) {
    const int ret = rte_lpm6_add(lpm6_, prefix.data(), length, id);
    if (ret < 0) {
      return absl::ResourceExhaustedError(absl::StrFormat("route table %s: rte_lpm6_add(/%u): %s",
                                                          name_, length, rte_strerror(-ret)));
    }
  } else {
    default6_ = id;
  }
  next_hops6_.push_back(next_hop);
  prefixes6_.emplace(std::make_pair(prefix, length), Installed{.metric = metric, .id = id});
  ++accepted_;
  return absl::OkStatus();
}

const NextHop* RouteTable::Lookup4(uint32_t ip_network_order) const {
  uint32_t id = 0;
  if (lpm4_ != nullptr && rte_lpm_lookup(lpm4_, rte_be_to_cpu_32(ip_network_order), &id) == 0) {
    return &next_hops4_[id];
  }
  return default4_ >= 0 ? &next_hops4_[static_cast<size_t>(default4_)] : nullptr;
}

const NextHop* RouteTable::Lookup6(const std::array<uint8_t, 16>& ip) const {
  uint32_t id = 0;
  if (lpm6_ != nullptr && rte_lpm6_lookup(lpm6_, ip.data(), &id) == 0) return &next_hops6_[id];
  return default6_ >= 0 ? &next_hops6_[static_cast<size_t>(default6_)] : nullptr;
}

}  // namespace sluice::dataplane
