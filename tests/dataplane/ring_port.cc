#include "tests/dataplane/ring_port.h"

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"

namespace sluice::golden {

namespace {

constexpr absl::string_view kRingPrefix = "net_ring_";
constexpr unsigned kRingSize = 1024;

void FreeAll(rte_ring* ring) {
  void* m;
  while (rte_ring_dequeue(ring, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RingPort>> RingPort::Create(const std::string& ethdev_name,
                                                           const rte_ether_addr& mac,
                                                           uint32_t serial) {
  if (!absl::StartsWith(ethdev_name, kRingPrefix) || ethdev_name.size() == kRingPrefix.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "port device %s: golden cases run on net_ring ports (\"net_ring_NAME\")", ethdev_name));
  }
  rte_ring* rx = rte_ring_create(absl::StrFormat("golden_rx%u", serial).c_str(), kRingSize,
                                 SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_ring* tx = rte_ring_create(absl::StrFormat("golden_tx%u", serial).c_str(), kRingSize,
                                 SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  // Owned from here on, so that every early return frees what exists.
  std::unique_ptr<RingPort> port(new RingPort(ethdev_name, rx, tx));
  if (rx == nullptr || tx == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("cannot create rings for %s: %s", ethdev_name, rte_strerror(rte_errno)));
  }
  const std::string short_name = ethdev_name.substr(kRingPrefix.size());
  const int id = rte_eth_from_rings(short_name.c_str(), &rx, 1, &tx, 1, SOCKET_ID_ANY);
  if (id < 0) {
    return absl::InternalError(
        absl::StrFormat("rte_eth_from_rings(%s): %s (a port of an "
                        "earlier case not removed?)",
                        ethdev_name, rte_strerror(rte_errno)));
  }
  port->vdev_created_ = true;
  port->dpdk_port_ = static_cast<uint16_t>(id);
  // The ring PMD starts with an all-zero MAC and has no "set default MAC" operation, but
  // it accepts an added address, which lands in the free (all-zero) slot 0: the default.
  rte_ether_addr copy = mac;
  int err = rte_eth_dev_default_mac_addr_set(port->dpdk_port_, &copy);
  if (err == -ENOTSUP) err = rte_eth_dev_mac_addr_add(port->dpdk_port_, &copy, 0);
  rte_ether_addr now{};
  if (err == 0) err = rte_eth_macaddr_get(port->dpdk_port_, &now);
  if (err != 0 || !rte_is_same_ether_addr(&now, &mac)) {
    return absl::InternalError(absl::StrFormat("cannot set the MAC of %s: %s", ethdev_name,
                                               err != 0 ? rte_strerror(-err) : "not taken"));
  }
  return port;
}

RingPort::~RingPort() {
  // lb::Appliance has closed (and released) the ethdev; an ethdev still open here (a
  // case that failed before Start) is closed by the vdev removal.
  if (vdev_created_) rte_vdev_uninit(ethdev_name_.c_str());
  if (rx_ != nullptr) {
    FreeAll(rx_);
    rte_ring_free(rx_);
  }
  if (tx_ != nullptr) {
    FreeAll(tx_);
    rte_ring_free(tx_);
  }
}

absl::Status RingPort::Receive(rte_mempool* pool, const std::vector<uint8_t>& frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return absl::ResourceExhaustedError("packet pool empty");
  char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  if (data == nullptr) {
    rte_pktmbuf_free(m);
    return absl::InvalidArgumentError(
        absl::StrFormat("frame of %u bytes does not fit one mbuf", frame.size()));
  }
  if (!frame.empty()) std::memcpy(data, frame.data(), frame.size());
  if (rte_ring_enqueue(rx_, m) != 0) {
    rte_pktmbuf_free(m);
    return absl::ResourceExhaustedError("RX ring full");
  }
  return absl::OkStatus();
}

std::vector<std::vector<uint8_t>> RingPort::TakeTransmitted() {
  std::vector<std::vector<uint8_t>> frames;
  void* obj;
  while (rte_ring_dequeue(tx_, &obj) == 0) {
    auto* m = static_cast<rte_mbuf*>(obj);
    std::vector<uint8_t> bytes(rte_pktmbuf_pkt_len(m));
    const void* p = rte_pktmbuf_read(m, 0, static_cast<uint32_t>(bytes.size()), bytes.data());
    if (p != bytes.data() && !bytes.empty()) std::memcpy(bytes.data(), p, bytes.size());
    frames.push_back(std::move(bytes));
    rte_pktmbuf_free(m);
  }
  return frames;
}

void RingPort::DrainAndFree() {
  FreeAll(rx_);
  FreeAll(tx_);
}

}  // namespace sluice::golden
