#include "dataplane/port.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace sluice::dataplane {

namespace {
constexpr uint32_t kPoolCache = 256;
constexpr uint32_t kBurst = 32;
// Slow-path and injection rings, packets held for ARP, replies in flight.
constexpr uint32_t kControlPackets = 8192;
}  // namespace

absl::Status InitEal(const std::vector<std::string>& args) {
  std::vector<std::string> copy = args;  // rte_eal_init may permute argv
  std::vector<char*> argv;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int ret = rte_eal_init(static_cast<int>(args.size()), argv.data());
  if (ret < 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "DPDK EAL initialization failed: %s (EAL arguments: %s; the EAL's own messages above "
        "say which part)",
        rte_strerror(rte_errno), absl::StrJoin(args.begin() + 1, args.end(), " ")));
  }
  return absl::OkStatus();
}

void CleanupEal() {
  // The EAL leaves its runtime directory (/var/run/dpdk/PREFIX) behind even with
  // --in-memory; remove it when it is empty so that runs leave nothing.
  // Its telemetry sockets would only go at process exit.
  const std::filesystem::path runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(runtime_dir, ec)) {
    if (entry.path().filename().string().starts_with("dpdk_telemetry")) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
  rmdir(runtime_dir.c_str());
}

uint32_t PacketPoolMbufs(const PacketPoolSize& s) {
  const uint64_t per_queue_pair = s.rx_descriptors + s.tx_descriptors + 2 * kBurst;
  const uint64_t needed = uint64_t{s.ports} * s.workers * per_queue_pair +
                          uint64_t{s.workers + 1} * kPoolCache + kControlPackets;
  // A mempool is most memory-efficient at 2^n - 1 elements.
  return static_cast<uint32_t>(std::bit_ceil(needed + 1) - 1);
}

absl::StatusOr<rte_mempool*> CreatePacketPool(const PacketPoolSize& size) {
  const uint32_t n = PacketPoolMbufs(size);
  // Room for a full frame of the largest MTU (plus 802.1Q) in one segment.
  const uint32_t frame = size.mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN + RTE_ETHER_CRC_LEN;
  const auto data_room = static_cast<uint16_t>(
      std::max<uint32_t>(RTE_MBUF_DEFAULT_BUF_SIZE, frame + RTE_PKTMBUF_HEADROOM));
  rte_mempool* pool = rte_pktmbuf_pool_create("sluice_mbufs", n, kPoolCache, 0, data_room,
                                              static_cast<int>(rte_socket_id()));
  if (pool == nullptr) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "cannot allocate %u packet buffers of %u bytes (%s): give DPDK more memory "
        "(hugepages, or -m with --no-huge) or lower dataplane.rx_descriptors/tx_descriptors",
        n, data_room, rte_strerror(rte_errno)));
  }
  return pool;
}

absl::StatusOr<StartedPort> StartPort(const PortSetup& setup, rte_mempool* pool) {
  StartedPort started;
  if (rte_eth_dev_get_port_by_name(setup.ethdev_name.c_str(), &started.dpdk_port) != 0) {
    return absl::NotFoundError(absl::StrFormat(
        "port %s: no DPDK device %s (a PCI device must be bound to vfio-pci or uio; a vdev's "
        "interface must exist; the EAL's messages above say more)",
        setup.name, setup.ethdev_name));
  }
  const uint16_t id = started.dpdk_port;
  rte_eth_dev_info info{};
  if (int err = rte_eth_dev_info_get(id, &info); err != 0) {
    return absl::InternalError(
        absl::StrFormat("port %s: cannot read device info: %s", setup.name, rte_strerror(-err)));
  }
  if (info.max_rx_queues < setup.queues || info.max_tx_queues < setup.queues) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "port %s: device %s (%s) has %u RX / %u TX queues, %u workers need %u of each%s",
        setup.name, setup.ethdev_name, info.driver_name, info.max_rx_queues, info.max_tx_queues,
        setup.queues, setup.queues,
        std::string_view(info.driver_name) == "net_af_packet"
            ? absl::StrFormat(" (add qpairs=%u to the device string)", setup.queues)
            : ""));
  }

  rte_eth_conf conf{};
  conf.rxmode.mtu = setup.mtu;
  const uint64_t rss_wanted = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;
  if (setup.queues > 1 && (info.flow_type_rss_offloads & rss_wanted) != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & rss_wanted;
    started.rss = true;
  }
  if (int err = rte_eth_dev_configure(id, setup.queues, setup.queues, &conf); err != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("port %s: cannot configure %u queues with MTU %u: %s", setup.name,
                        setup.queues, setup.mtu, rte_strerror(-err)));
  }
  uint16_t rx_desc = setup.rx_descriptors;
  uint16_t tx_desc = setup.tx_descriptors;
  rte_eth_dev_adjust_nb_rx_tx_desc(id, &rx_desc, &tx_desc);
  const int socket = std::max(rte_eth_dev_socket_id(id), 0);
  for (uint16_t q = 0; q < setup.queues; ++q) {
    if (int err = rte_eth_rx_queue_setup(id, q, rx_desc, socket, nullptr, pool); err != 0) {
      return absl::FailedPreconditionError(absl::StrFormat("port %s: RX queue %u setup failed: %s",
                                                           setup.name, q, rte_strerror(-err)));
    }
    if (int err = rte_eth_tx_queue_setup(id, q, tx_desc, socket, nullptr); err != 0) {
      return absl::FailedPreconditionError(absl::StrFormat("port %s: TX queue %u setup failed: %s",
                                                           setup.name, q, rte_strerror(-err)));
    }
  }
  if (int err = rte_eth_dev_start(id); err != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("port %s: cannot start: %s", setup.name, rte_strerror(-err)));
  }
  rte_eth_macaddr_get(id, &started.mac);
  return started;
}

void StopPort(uint16_t dpdk_port) {
  rte_eth_dev_stop(dpdk_port);
  rte_eth_dev_close(dpdk_port);
}

}  // namespace sluice::dataplane
