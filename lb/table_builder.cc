#include "lb/table_builder.h"

#include <netinet/in.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "lb/maglev.h"

namespace sluice::lb {

namespace {

uint32_t PrefixMask(uint8_t length) {
  return length == 0 ? 0 : htonl(~uint32_t{0} << (32 - length));
}

BackendIdentity IdentityOf(const config::Backend& b) {
  BackendIdentity id;
  id.ipv6 = b.address.family == config::IpFamily::kV6;
  std::memcpy(id.address.data(), b.address.bytes.data(), id.address.size());
  id.port = b.port;
  return id;
}

}  // namespace

uint32_t ToNetworkIpv4(const config::IpAddress& address) {
  uint32_t ip;
  std::memcpy(&ip, address.bytes.data(), 4);
  return ip;
}

std::vector<dataplane::PortInfo> AddressPorts(const config::Config& config,
                                              std::vector<dataplane::PortInfo> ports) {
  for (size_t i = 0; i < config.dataplane.ports.size() && i < ports.size(); ++i) {
    const config::Port& port = config.dataplane.ports[i];
    if (port.address) {
      ports[i].ipv4 = ToNetworkIpv4(port.address->address);
      ports[i].ipv4_mask = PrefixMask(port.address->length);
    }
    ports[i].mtu = static_cast<uint16_t>(port.mtu);
  }
  return ports;
}

absl::StatusOr<std::unique_ptr<dataplane::ForwardingTable>> BuildForwardingTable(
    const config::Config& config, const std::vector<dataplane::PortInfo>& ports,
    const NextHopResolver& resolve_next_hop) {
  auto table = std::make_unique<dataplane::ForwardingTable>();
  table->ports = AddressPorts(config, ports);
  table->tcp_timeout_ms =
      static_cast<uint32_t>(absl::ToInt64Milliseconds(config.dataplane.flow_table.tcp_timeout));
  table->udp_timeout_ms =
      static_cast<uint32_t>(absl::ToInt64Milliseconds(config.dataplane.flow_table.udp_timeout));
  table->backends.resize(1);  // id 0: no backend

  for (size_t s = 0; s < config.services.size(); ++s) {
    const config::Service& svc = config.services[s];
    if (svc.vip.family != config::IpFamily::kV4) {
      return absl::UnimplementedError(absl::StrFormat(
          "services[%d] (%s): IPv6 VIPs are not forwarded by this build yet", s, svc.name));
    }
    if (svc.forwarding != config::Forwarding::kDr) {
      return absl::UnimplementedError(absl::StrFormat(
          "services[%d] (%s): forwarding '%s' is not implemented by this build yet (only dr)", s,
          svc.name, config::ToString(svc.forwarding)));
    }
    dataplane::ServiceInfo info;
    info.id = static_cast<dataplane::ServiceId>(s + 1);
    info.mode = dataplane::ForwardingMode::kDr;
    info.ip_proto = svc.protocol == config::Protocol::kTcp ? IPPROTO_TCP : IPPROTO_UDP;
    info.vip = ToNetworkIpv4(svc.vip);
    info.port = htons(svc.port);

    std::vector<MaglevBackend> maglev;
    for (size_t b = 0; b < svc.backends.size(); ++b) {
      const config::Backend& backend = svc.backends[b];
      const auto id = static_cast<BackendId>(table->backends.size());
      if (id >= dataplane::kMaxBackendIds) {
        return absl::ResourceExhaustedError("more backends than the dataplane can number");
      }
      dataplane::BackendInfo bi;
      bi.present = true;
      bi.service = info.id;
      bi.address = ToNetworkIpv4(backend.address);
      bi.port = htons(backend.port);
      // dr: validation guarantees the backend is on a port's subnet.
      int egress = -1;
      for (size_t p = 0; p < table->ports.size(); ++p) {
        const dataplane::PortInfo& port = table->ports[p];
        if (port.ipv4 != 0 && (port.ipv4 & port.ipv4_mask) == (bi.address & port.ipv4_mask)) {
          egress = static_cast<int>(p);
          break;
        }
      }
      if (egress < 0) {
        return absl::FailedPreconditionError(
            absl::StrFormat("services[%d].backends[%d]: %s is on no port's subnet", s, b,
                            backend.address.ToString()));
      }
      bi.egress_port = static_cast<uint16_t>(egress);
      const int64_t neighbor = resolve_next_hop(bi.address, bi.egress_port);
      if (neighbor < 0) {
        return absl::ResourceExhaustedError("the neighbour table is full");
      }
      bi.neighbor = static_cast<uint32_t>(neighbor);
      table->backends.push_back(bi);
      maglev.push_back(MaglevBackend{
          .id = id, .identity = IdentityOf(backend), .weight = backend.drain ? 0 : backend.weight});
    }
    absl::StatusOr<MaglevTable> built = MaglevTable::Build(maglev, svc.table_size);
    if (!built.ok()) {
      return absl::Status(
          built.status().code(),
          absl::StrFormat("services[%d] (%s): %s", s, svc.name, built.status().message()));
    }
    info.maglev.assign(built->slots().begin(), built->slots().end());
    table->service_by_vip[dataplane::VipKey{
        .address = info.vip, .port = info.port, .ip_proto = info.ip_proto}] =
        static_cast<uint32_t>(table->services.size());
    // ARP for a VIP address is answered when any service on it asks for it.
    dataplane::VipAddressInfo& vip = table->vip_addresses[info.vip];
    vip.answer_arp = vip.answer_arp || svc.answer_arp;
    table->services.push_back(std::move(info));
  }
  return table;
}

}  // namespace sluice::lb
