// DPDK ports: EAL start-up, the packet-buffer pool, and bringing each port up with one RX
// and one TX queue per worker (RSS where the device has it). Control thread only, at
// start-up and shutdown. Failures come back as a Status with a message an operator can
// act on.
#ifndef SLUICE_DATAPLANE_PORT_H_
#define SLUICE_DATAPLANE_PORT_H_

#include <rte_ether.h>
#include <rte_mempool.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sluice::dataplane {

// rte_eal_init with these arguments (argv[0] included). Call once per process.
absl::Status InitEal(const std::vector<std::string>& args);
void CleanupEal();

struct PacketPoolSize {
  uint32_t ports = 1;
  uint32_t workers = 1;
  uint32_t rx_descriptors = 1024;
  uint32_t tx_descriptors = 1024;
  uint32_t mtu = 1500;
};

// Number of mbufs the pool needs for `size` (documented in docs/config.md).
uint32_t PacketPoolMbufs(const PacketPoolSize& size);
absl::StatusOr<rte_mempool*> CreatePacketPool(const PacketPoolSize& size);

struct PortSetup {
  std::string name;         // the config's port name, for messages
  std::string ethdev_name;  // "0000:03:00.0" or "net_af_packet0"
  uint16_t queues = 1;      // RX and TX queues, one per worker
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  uint16_t mtu = 1500;
};

struct StartedPort {
  uint16_t dpdk_port = 0;
  rte_ether_addr mac{};
  bool rss = false;
};

// Configures and starts the port.
absl::StatusOr<StartedPort> StartPort(const PortSetup& setup, rte_mempool* pool);
void StopPort(uint16_t dpdk_port);

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_PORT_H_
