// A net_ring ethdev for the golden-packet tests: one RX ring the test fills and one TX
// ring the test empties, created under the ethdev name a case's config names as its
// port `device` ("net_ring_g0"), with a MAC the case chooses. Lifetime: create before
// lb::Appliance::Start (which configures and starts the port), DrainAndFree before the
// appliance (and its packet pool) goes away, destroy after it (the appliance closes the
// port; the destructor removes the vdev so the next case can reuse the name).
#ifndef SLUICE_TESTS_DATAPLANE_RING_PORT_H_
#define SLUICE_TESTS_DATAPLANE_RING_PORT_H_

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice::golden {

class RingPort {
 public:
  // `ethdev_name` must start with "net_ring_" (rte_eth_from_rings adds that prefix).
  // `serial` only keeps ring names unique.
  static absl::StatusOr<std::unique_ptr<RingPort>> Create(const std::string& ethdev_name,
                                                          const rte_ether_addr& mac,
                                                          uint32_t serial);
  ~RingPort();
  RingPort(const RingPort&) = delete;
  RingPort& operator=(const RingPort&) = delete;

  const std::string& ethdev_name() const { return ethdev_name_; }
  uint16_t dpdk_port() const { return dpdk_port_; }

  // Copies `frame` into an mbuf from `pool` and queues it for the port's next RX burst.
  absl::Status Receive(rte_mempool* pool, const std::vector<uint8_t>& frame);
  // Frames waiting to be received (the worker has not polled them yet).
  unsigned pending_rx() const { return rte_ring_count(rx_); }
  // Takes every frame the port transmitted, in order, and frees the mbufs.
  std::vector<std::vector<uint8_t>> TakeTransmitted();
  // Frees every mbuf left in either ring.
  void DrainAndFree();

 private:
  RingPort(std::string ethdev_name, rte_ring* rx, rte_ring* tx)
      : ethdev_name_(std::move(ethdev_name)), rx_(rx), tx_(tx) {}

  std::string ethdev_name_;
  rte_ring* rx_;
  rte_ring* tx_;
  uint16_t dpdk_port_ = 0;
  bool vdev_created_ = false;
};

}  // namespace sluice::golden

#endif  // SLUICE_TESTS_DATAPLANE_RING_PORT_H_
