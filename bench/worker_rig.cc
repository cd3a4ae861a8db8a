// The rig behind worker_bench (see worker_rig.h).
#include "bench/worker_rig.h"

#include <netinet/in.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <random>
#include <utility>

#include "absl/strings/str_format.h"
#include "dataplane/port.h"
#include "lb/maglev.h"

namespace sluice::dataplane::bench {

BenchEnv g_env;

namespace {

constexpr uint32_t kMaglevSize = lb::kDefaultMaglevTableSize;
// The flow table of the family a rig's service does not use.
constexpr uint32_t kUnusedFamilyCapacity = 1024;

constexpr Ipv6Address kVip6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr Ipv6Address kPort6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
// 2001:db8:11::/96: the low 32 bits come from the tuple.
constexpr Ipv6Address kClients6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

Ipv6Address Backend6(uint8_t id) {  // 2001:db8:1::id
  return {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, id};
}
const rte_ether_addr kClientMac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
rte_ether_addr BackendMac(uint32_t id) {
  return {{0x02, 0x00, 0x00, 0x00, 0x01, static_cast<uint8_t>(id)}};
}

rte_tcp_hdr TcpHeader(uint16_t src_port, uint16_t dst_port, uint8_t tcp_flags) {
  rte_tcp_hdr tcp{};
  tcp.src_port = rte_cpu_to_be_16(src_port);
  tcp.dst_port = rte_cpu_to_be_16(dst_port);
  tcp.data_off = 5 << 4;
  tcp.tcp_flags = tcp_flags;
  tcp.rx_win = rte_cpu_to_be_16(65535);
  return tcp;
}

rte_ether_hdr EthernetHeader(const rte_ether_addr& src, uint16_t ether_type) {
  rte_ether_hdr eth{};
  eth.dst_addr = g_env.port_mac;
  eth.src_addr = src;
  eth.ether_type = rte_cpu_to_be_16(ether_type);
  return eth;
}

rte_ipv4_hdr Ipv4Header(uint32_t src, uint32_t dst) {
  rte_ipv4_hdr ip{};
  ip.version_ihl = RTE_IPV4_VHL_DEF;
  ip.total_length = rte_cpu_to_be_16(sizeof(rte_ipv4_hdr) + sizeof(rte_tcp_hdr));
  ip.time_to_live = 64;
  ip.next_proto_id = IPPROTO_TCP;
  ip.src_addr = src;
  ip.dst_addr = dst;
  ip.hdr_checksum = rte_ipv4_cksum(&ip);
  return ip;
}

void Append(uint8_t* out, size_t& at, const void* header, size_t size) {
  std::memcpy(out + at, header, size);
  at += size;
}

// One service as described by `setup` (worker_rig.h), built the way lb/table_builder.cc
// builds it: tunnel sources are the egress port's addresses, has_nat set for NAT.
absl::StatusOr<std::unique_ptr<ForwardingTable>> BuildTable(const ServiceSetup& setup) {
  auto table = std::make_unique<ForwardingTable>();
  table->ports.push_back(PortInfo{.dpdk_port = g_env.dpdk_port,
                                  .mac = g_env.port_mac,
                                  .ipv4 = Ipv4(10, 0, 0, 2),
                                  .ipv4_mask = Ipv4(255, 255, 255, 0),
                                  .mtu = 1500,
                                  .has_ipv6 = true,
                                  .ipv6 = kPort6,
                                  .ipv6_prefix_length = 64});
  const PortInfo& port = table->ports[0];
  const bool backends6 = setup.vip6 || setup.backends6;
  const uint16_t backend_port = setup.mode == ForwardingMode::kNat ? kNatBackendPort : kServicePort;
  std::vector<lb::MaglevBackend> maglev_backends;
  table->backends.resize(kBackends + 1);
  for (uint32_t id = 1; id <= kBackends; ++id) {
    BackendInfo& b = table->backends[id];
    b = BackendInfo{.present = true,
                    .nat = setup.mode == ForwardingMode::kNat,
                    .ipv6 = backends6,
                    .service = kServiceId,
                    .port = rte_cpu_to_be_16(backend_port),
                    .egress_port = 0,
                    .neighbor = id - 1};
    lb::MaglevBackend mb;
    mb.id = id;
    mb.identity.ipv6 = backends6;
    if (backends6) {
      b.address6 = Backend6(static_cast<uint8_t>(id));
      mb.identity.address = b.address6;
    } else {
      b.address = Ipv4(10, 0, 1, static_cast<uint8_t>(id));
      std::memcpy(mb.identity.address.data(), &b.address, sizeof(b.address));
    }
    if (setup.mode == ForwardingMode::kTunnel) {
      b.tunnel_source = port.ipv4;
      b.tunnel_source6 = port.ipv6;
    }
    mb.identity.port = backend_port;
    mb.weight = 1;
    maglev_backends.push_back(mb);
  }
  absl::StatusOr<lb::MaglevTable> maglev = lb::MaglevTable::Build(maglev_backends, kMaglevSize);
  if (!maglev.ok()) return maglev.status();
  ServiceInfo service{.id = kServiceId,
                      .mode = setup.mode,
                      .ipv6 = setup.vip6,
                      .ip_proto = IPPROTO_TCP,
                      .port = rte_cpu_to_be_16(kServicePort),
                      .maglev = MaglevSlots(std::make_shared<const std::vector<BackendId>>(
                          maglev->slots().begin(), maglev->slots().end()))};
  if (setup.vip6) {
    service.vip6 = kVip6;
  } else {
    service.vip = Ipv4(10, 0, 0, 1);
  }
  table->AddService(std::move(service), /*answer_arp=*/true);
  return table;
}

// rte_hash names are process-wide: every table gets its own.
uint32_t g_next_table_id = 0;

}  // namespace

absl::Status SetUpEnv(uint32_t memory_mb) {
  const std::vector<std::string> eal_args = {
      "worker_bench",
      "--no-huge",
      "-m",
      absl::StrFormat("%u", memory_mb),
      "--no-shconf",
      "--no-pci",
      "--file-prefix",
      absl::StrFormat("sluice-bench-%d", getpid()),
      "-l",
      "0",
      "--vdev",
      "net_null0",
      "--log-level",
      "lib.eal:warning",
  };
  if (absl::Status s = InitEal(eal_args); !s.ok()) return s;
  g_env.runtime_dir = rte_eal_get_runtime_dir();
  absl::StatusOr<rte_mempool*> pool = CreatePacketPool(PacketPoolSize{});
  if (!pool.ok()) return pool.status();
  g_env.pool = *pool;
  absl::StatusOr<StartedPort> port =
      StartPort(PortSetup{.name = "bench", .ethdev_name = "net_null0"}, g_env.pool);
  if (!port.ok()) return port.status();
  g_env.dpdk_port = port->dpdk_port;
  g_env.port_mac = port->mac;
  g_env.slow_path = rte_ring_create("bench_slow_path", 1024, static_cast<int>(rte_socket_id()),
                                    RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (g_env.slow_path == nullptr) return absl::ResourceExhaustedError("slow-path ring");
  return absl::OkStatus();
}

void TearDownEnv() {
  StopPort(g_env.dpdk_port);
  rte_ring_free(g_env.slow_path);
  rte_mempool_free(g_env.pool);
  CleanupEal();
  // rte_eal_cleanup leaves /var/run/dpdk/<file-prefix> behind; one per run would pile up.
  rmdir(g_env.runtime_dir.c_str());
}

std::vector<Tuple> RandomSequence(uint32_t flows, uint64_t seed) {
  const size_t length = std::max<size_t>(std::bit_ceil(flows), size_t{1} << 20);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<uint32_t> pick(0, flows - 1);
  std::vector<Tuple> sequence(length);
  for (Tuple& t : sequence) t = EstablishedTuple(pick(rng));
  return sequence;
}

FrameOf<ClientFrame4> MakeClientFrame4(uint8_t tcp_flags) {
  const rte_ether_hdr eth = EthernetHeader(kClientMac, RTE_ETHER_TYPE_IPV4);
  const rte_ipv4_hdr ip = Ipv4Header(Ipv4(11, 0, 0, 0), Ipv4(10, 0, 0, 1));
  const rte_tcp_hdr tcp = TcpHeader(1024, kServicePort, tcp_flags);
  FrameOf<ClientFrame4> f{};
  size_t at = 0;
  Append(f.data(), at, &eth, sizeof(eth));
  Append(f.data(), at, &ip, sizeof(ip));
  Append(f.data(), at, &tcp, sizeof(tcp));
  return f;
}

FrameOf<ClientFrame6> MakeClientFrame6(uint8_t tcp_flags) {
  const rte_ether_hdr eth = EthernetHeader(kClientMac, RTE_ETHER_TYPE_IPV6);
  rte_ipv6_hdr ip{};
  ip.vtc_flow = rte_cpu_to_be_32(6u << 28);
  ip.payload_len = rte_cpu_to_be_16(sizeof(rte_tcp_hdr));
  ip.proto = IPPROTO_TCP;
  ip.hop_limits = 64;
  std::memcpy(ip.src_addr, kClients6.data(), 16);
  std::memcpy(ip.dst_addr, kVip6.data(), 16);
  const rte_tcp_hdr tcp = TcpHeader(1024, kServicePort, tcp_flags);
  FrameOf<ClientFrame6> f{};
  size_t at = 0;
  Append(f.data(), at, &eth, sizeof(eth));
  Append(f.data(), at, &ip, sizeof(ip));
  Append(f.data(), at, &tcp, sizeof(tcp));
  return f;
}

FrameOf<ReplyFrame4> MakeReplyFrame4() {
  const rte_ether_hdr eth = EthernetHeader(BackendMac(1), RTE_ETHER_TYPE_IPV4);
  const rte_ipv4_hdr ip = Ipv4Header(Ipv4(10, 0, 1, 1), Ipv4(11, 0, 0, 0));
  const rte_tcp_hdr tcp = TcpHeader(kNatBackendPort, 1024, RTE_TCP_ACK_FLAG);
  FrameOf<ReplyFrame4> f{};
  size_t at = 0;
  Append(f.data(), at, &eth, sizeof(eth));
  Append(f.data(), at, &ip, sizeof(ip));
  Append(f.data(), at, &tcp, sizeof(tcp));
  return f;
}

absl::StatusOr<std::unique_ptr<WorkerRig>> WorkerRig::Create(const ServiceSetup& setup,
                                                             uint32_t flow_capacity) {
  absl::StatusOr<std::unique_ptr<TablePublisher>> publisher = TablePublisher::Create(1);
  if (!publisher.ok()) return publisher.status();
  absl::StatusOr<std::unique_ptr<ForwardingTable>> table = BuildTable(setup);
  if (!table.ok()) return table.status();
  (*publisher)->Publish(*std::move(table));
  auto rig = std::unique_ptr<WorkerRig>(new WorkerRig(setup, *std::move(publisher), flow_capacity));
  for (uint32_t i = 0; i < kBackends; ++i) rig->neighbors_.SetResolved(i, BackendMac(i + 1));
  if (setup.mode == ForwardingMode::kNat) {
    absl::StatusOr<std::unique_ptr<NatSessionTable>> nat =
        NatSessionTable::Create(absl::StrFormat("bench_nat_%u", g_next_table_id++), flow_capacity,
                                rig->publisher_->qsbr(), static_cast<int>(rte_socket_id()));
    if (!nat.ok()) return nat.status();
    rig->nat_sessions_ = *std::move(nat);
  }
  if (absl::Status s = rig->ResetFlows(); !s.ok()) return s;
  return rig;
}

WorkerRig::~WorkerRig() {
  if (worker_ != nullptr) worker_->FlushTx();
}

absl::Status WorkerRig::ResetFlows() {
  if (worker_ != nullptr) worker_->FlushTx();
  worker_.reset();
  flows_.reset();
  flows6_.reset();
  absl::StatusOr<std::unique_ptr<FlowTable>> flows = FlowTable::Create(
      absl::StrFormat("bench_flows_%u", g_next_table_id++),
      setup_.vip6 ? kUnusedFamilyCapacity : capacity_, static_cast<int>(rte_socket_id()));
  if (!flows.ok()) return flows.status();
  flows_ = *std::move(flows);
  absl::StatusOr<std::unique_ptr<FlowTable>> flows6 =
      FlowTable::Create(absl::StrFormat("bench_flows6_%u", g_next_table_id++),
                        setup_.vip6 ? capacity_ : kUnusedFamilyCapacity,
                        static_cast<int>(rte_socket_id()), FlowFamily::kIpv6);
  if (!flows6.ok()) return flows6.status();
  flows6_ = *std::move(flows6);
  WorkerSetup setup;
  setup.index = 0;
  if (!setup_.no_ports) setup.dpdk_ports = {g_env.dpdk_port};
  worker_ = std::make_unique<Worker>(
      setup, WorkerContext{.publisher = *publisher_,
                           .neighbors = neighbors_,
                           .flows = *flows_,
                           .flows6 = *flows6_,
                           .nat_sessions = nat_sessions_.get(),
                           .stats = stats_,
                           .slow_path = g_env.slow_path,
                           .mailbox = setup_.mailbox ? &mailbox_ : nullptr});
  return absl::OkStatus();
}

CounterSnapshot CounterSnapshot::Of(const LcoreCounters& c) {
  return {.rx = c.rx_packets,
          .tx = c.tx_packets,
          .forwarded = c.forwarded_packets,
          .drops = c.total_drops(),
          .slow_path = c.slow_path_packets,
          .hits = c.flow_hits,
          .new_flows = c.new_flows,
          .table_full = c.flow_table_full,
          .nat_replies = c.nat_reply_packets,
          .nat_sessions_full = c.nat_sessions_full};
}

std::string CheckCounters(const CounterSnapshot& before, const CounterSnapshot& after,
                          uint64_t packets, Expect expect) {
  const uint64_t rx = after.rx - before.rx;
  const uint64_t tx = after.tx - before.tx;
  const uint64_t forwarded = after.forwarded - before.forwarded;
  const uint64_t hits = after.hits - before.hits;
  const uint64_t created = after.new_flows - before.new_flows;
  const uint64_t replies = after.nat_replies - before.nat_replies;
  bool ok = rx == packets && tx == packets && after.drops == before.drops &&
            after.slow_path == before.slow_path && after.table_full == before.table_full &&
            after.nat_sessions_full == before.nat_sessions_full;
  switch (expect) {
    case Expect::kFlowHits:
      ok = ok && forwarded == packets && hits == packets && created == 0 && replies == 0;
      break;
    case Expect::kNewFlows:
      ok = ok && forwarded == packets && created == packets && hits == 0 && replies == 0;
      break;
    case Expect::kNatReplies:
      ok = ok && replies == packets && forwarded == 0 && hits == 0 && created == 0;
      break;
  }
  if (ok) return "";
  return absl::StrFormat(
      "unexpected worker counters for %u packets: rx %u, tx %u, forwarded %u, hits %u, "
      "new flows %u, NAT replies %u, drops %u, slow path %u, table full %u, NAT sessions "
      "full %u",
      packets, rx, tx, forwarded, hits, created, replies, after.drops - before.drops,
      after.slow_path - before.slow_path, after.table_full - before.table_full,
      after.nat_sessions_full - before.nat_sessions_full);
}

}  // namespace sluice::dataplane::bench
