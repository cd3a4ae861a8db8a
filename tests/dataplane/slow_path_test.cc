// SlowPath on real rings with a published ForwardingTable: Neighbor Solicitations for a
// port address and for VIPs are answered (exact bytes), others dropped by reason, and
// NS/NA update the neighbour cache; ARP keeps working through the shared dispatch.
#include "dataplane/slow_path.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/ndp.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "tests/dataplane/ipv6_frames.h"
#include "tests/dataplane/test_eal.h"

namespace sluice::dataplane {
namespace {

using frames::Addr6;
using frames::Bytes;
using frames::Icmpv6;
using frames::Ip6;
using frames::Ipv6Frame;
using frames::LinkLayerOption;
using frames::Mac;
using frames::NdBody;

constexpr Mac kPortMac = {0x02, 0, 0, 0, 0, 0x01};
constexpr Mac kHostMac = {0x02, 0, 0, 0, 0, 0x99};
constexpr Mac kBackendMac = {0x02, 0, 0, 0, 0, 0x11};
constexpr uint8_t kIcmpv6 = 58;

const Addr6 kPortIp = Ip6("2001:db8::2");
const Addr6 kHost = Ip6("2001:db8::99");
const Addr6 kBackend = Ip6("2001:db8::11");
const Addr6 kVip = Ip6("2001:db8:100::1");
const Addr6 kSilentVip = Ip6("2001:db8:100::2");  // answer_arp: false

uint32_t Ip(const char* text) {
  in_addr a{};
  inet_pton(AF_INET, text, &a);
  return a.s_addr;
}

Bytes Ns(const Addr6& target, uint8_t hop_limit = 255) {
  const Addr6 group = SolicitedNodeAddress(target);
  const Bytes icmp = Icmpv6(kHost, group, 135, 0, NdBody(0, target, LinkLayerOption(1, kHostMac)));
  return Ipv6Frame(Mac{0x33, 0x33, 0xff, target[13], target[14], target[15]}, kHostMac, kIcmpv6,
                   hop_limit, kHost, group, icmp);
}

Bytes NaFor(const Addr6& target, const Mac& mac) {
  const Bytes icmp = Icmpv6(target, kPortIp, 136, 0, NdBody(0x60, target, LinkLayerOption(2, mac)));
  return Ipv6Frame(kPortMac, mac, kIcmpv6, 255, target, kPortIp, icmp);
}

Bytes ExpectedNa(const Addr6& target) {
  return Ipv6Frame(
      kHostMac, kPortMac, kIcmpv6, 255, target, kHost,
      Icmpv6(target, kHost, 136, 0, NdBody(0x60, target, LinkLayerOption(2, kPortMac))));
}

class SlowPathTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_GE(InitTestEal("slow-path-test"), 0);
    pool_ = rte_pktmbuf_pool_create("slow_path_test", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
  }
  static void TearDownTestSuite() {
    rte_mempool_free(pool_);
    CleanupEal();
  }

  void SetUp() override {
    from_workers_ = rte_ring_create("sp_test_in", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    to_workers_ = rte_ring_create("sp_test_out", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_NE(from_workers_, nullptr);
    ASSERT_NE(to_workers_, nullptr);
    PortInfo port;
    std::memcpy(port.mac.addr_bytes, kPortMac.data(), 6);
    port.ipv4 = Ip("10.0.0.2");
    port.has_ipv6 = true;
    port.ipv6 = kPortIp;
    port.ipv6_prefix_length = 64;
    auto table = std::make_unique<ForwardingTable>();
    table->ports = {port};
    table->vip_addresses6[kVip].answer_arp = true;
    table->vip_addresses6[kSilentVip].answer_arp = false;
    auto publisher = TablePublisher::Create(1);
    ASSERT_TRUE(publisher.ok());
    publisher_ = std::move(*publisher);
    publisher_->Publish(std::move(table));
    cache_ = std::make_unique<NeighborCache>(
        NeighborCacheOptions{}, neighbor_table_, pool_, std::vector<PortInfo>{port}, counters_,
        [this](uint16_t port_index, rte_mbuf* m) { slow_path_->Send(port_index, m); });
    slow_path_ =
        std::make_unique<SlowPath>(from_workers_, to_workers_, *cache_, *publisher_, counters_);
  }
  void TearDown() override {
    Out();  // frees what is left
    slow_path_.reset();
    cache_.reset();
    publisher_.reset();
    rte_ring_free(from_workers_);
    rte_ring_free(to_workers_);
    EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u) << "mbufs leaked";
  }

  // Hands `frame` over as a worker would for ARP/ND received on port 0, and polls.
  void In(const Bytes& frame, uint64_t now_ms = 1) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
    std::memcpy(data, frame.data(), frame.size());
    m->port = 0;
    m->hash.usr = kSlowPathNeighborDiscovery;
    ASSERT_EQ(rte_ring_enqueue(from_workers_, m), 0);
    EXPECT_EQ(slow_path_->Poll(now_ms), 1u);
  }
  // The frames queued for transmission (all on port 0), freed.
  std::vector<Bytes> Out() {
    std::vector<Bytes> out;
    void* obj;
    while (rte_ring_dequeue(to_workers_, &obj) == 0) {
      auto* m = static_cast<rte_mbuf*>(obj);
      EXPECT_EQ(m->port, 0);
      const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
      out.emplace_back(data, data + rte_pktmbuf_data_len(m));
      rte_pktmbuf_free(m);
    }
    return out;
  }
  uint64_t Drops(DropReason r) const { return counters_.drops[static_cast<size_t>(r)]; }

  static rte_mempool* pool_;
  rte_ring* from_workers_ = nullptr;
  rte_ring* to_workers_ = nullptr;
  NeighborTable neighbor_table_{16};
  LcoreCounters counters_;
  std::unique_ptr<TablePublisher> publisher_;
  std::unique_ptr<NeighborCache> cache_;
  std::unique_ptr<SlowPath> slow_path_;
};

rte_mempool* SlowPathTest::pool_ = nullptr;

TEST_F(SlowPathTest, AnswersSolicitationsForAVip) {
  In(Ns(kVip));
  const std::vector<Bytes> out = Out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], ExpectedNa(kVip));
  EXPECT_EQ(counters_.nd_advertisements_sent, 1u);
  EXPECT_EQ(counters_.rx_packets, 1u);
  EXPECT_EQ(counters_.total_drops(), 0u);
}

TEST_F(SlowPathTest, AnswersSolicitationsForThePortAddress) {
  In(Ns(kPortIp));
  const std::vector<Bytes> out = Out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], ExpectedNa(kPortIp));
  EXPECT_EQ(counters_.nd_advertisements_sent, 1u);
}

TEST_F(SlowPathTest, DropsWhatItDoesNotAnswer) {
  In(Ns(kSilentVip));
  In(Ns(Ip6("2001:db8::77")));
  EXPECT_EQ(Drops(DropReason::kNdNotForUs), 2u);
  In(Ns(kVip, /*hop_limit=*/254));  // possibly from off-link
  EXPECT_EQ(Drops(DropReason::kMalformedNd), 1u);
  // ICMPv6 other than NS/NA (here a router solicitation) is not ND Sluice handles.
  In(Ipv6Frame(kPortMac, kHostMac, kIcmpv6, 255, kHost, Ip6("ff02::2"),
               Icmpv6(kHost, Ip6("ff02::2"), 133, 0, Bytes(4, 0))));
  EXPECT_EQ(Drops(DropReason::kNdNotForUs), 3u);
  EXPECT_TRUE(Out().empty());
  EXPECT_EQ(counters_.nd_advertisements_sent, 0u);
  EXPECT_EQ(counters_.total_drops(), 4u);
}

TEST_F(SlowPathTest, LearnsFromSolicitationsAndAdvertisements) {
  const auto host = static_cast<uint32_t>(cache_->Resolve(NeighborAddress::V6(kHost), 0));
  const auto backend = static_cast<uint32_t>(cache_->Resolve(NeighborAddress::V6(kBackend), 0));
  // The host's NS carries its MAC: its entry resolves, and the NS is still answered.
  In(Ns(kVip));
  rte_ether_addr mac;
  ASSERT_EQ(neighbor_table_.Lookup(host, &mac), NeighborTable::State::kResolved);
  EXPECT_EQ(std::memcmp(mac.addr_bytes, kHostMac.data(), 6), 0);
  // The backend's NA (answering the cache's own NS) resolves the backend; one for an
  // address with no entry changes nothing. Neither is a drop.
  In(NaFor(kBackend, kBackendMac));
  In(NaFor(Ip6("2001:db8::55"), kBackendMac));
  ASSERT_EQ(neighbor_table_.Lookup(backend, &mac), NeighborTable::State::kResolved);
  EXPECT_EQ(std::memcmp(mac.addr_bytes, kBackendMac.data(), 6), 0);
  EXPECT_EQ(cache_->size(), 2u);
  EXPECT_EQ(counters_.nd_learned, 2u);
  EXPECT_EQ(counters_.total_drops(), 0u);
  // Only the NA for the VIP went out (the clock never reached the cache's first tick).
  const std::vector<Bytes> out = Out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], ExpectedNa(kVip));
}

TEST_F(SlowPathTest, ArpStillAnswered) {
  Bytes arp = frames::Ether(Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kHostMac, 0x0806);
  const Bytes body = {0,  1, 8, 0,  6, 4, 0, 1, 0x02, 0, 0,  0, 0, 0x99,
                      10, 0, 0, 99, 0, 0, 0, 0, 0,    0, 10, 0, 0, 2};
  frames::Append(arp, body);
  arp.resize(60, 0);
  In(arp);
  const std::vector<Bytes> out = Out();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0][21], RTE_ARP_OP_REPLY);
  EXPECT_EQ(counters_.arp_replies_sent, 1u);
}

}  // namespace
}  // namespace sluice::dataplane
