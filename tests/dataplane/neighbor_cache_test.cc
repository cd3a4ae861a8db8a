// NeighborCache with a fake clock: requests, retries, failure, learning, refresh, held
// packets and static entries, observed through what it sends and the NeighborTable the
// workers read.
#include "dataplane/neighbor_cache.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "dataplane/ndp.h"
#include "dataplane/port.h"
#include "tests/dataplane/test_eal.h"

namespace sluice::dataplane {
namespace {

constexpr rte_ether_addr kPortMac = {{0x02, 0, 0, 0, 0, 0x02}};
constexpr rte_ether_addr kBackendMac = {{0x02, 0, 0, 0, 0, 0x11}};
constexpr rte_ether_addr kOtherMac = {{0x02, 0, 0, 0, 0, 0x99}};

uint32_t Ip(const char* text) {
  in_addr a{};
  inet_pton(AF_INET, text, &a);
  return a.s_addr;
}
NeighborAddress V4(const char* text) { return NeighborAddress::V4(Ip(text)); }
Ipv6Address Ip6(const char* text) {
  Ipv6Address a{};
  inet_pton(AF_INET6, text, a.data());
  return a;
}
NeighborAddress V6(const char* text) { return NeighborAddress::V6(Ip6(text)); }

class NeighborCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_GE(InitTestEal("neighbor-cache-test"), 0);
    pool_ = rte_pktmbuf_pool_create("neigh_test", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
  }
  static void TearDownTestSuite() {
    rte_mempool_free(pool_);
    CleanupEal();
  }

  void SetUp() override {
    PortInfo port;
    port.mac = kPortMac;
    port.ipv4 = Ip("10.0.0.2");
    port.has_ipv6 = true;
    port.ipv6 = Ip6("2001:db8::2");
    port.ipv6_prefix_length = 64;
    PortInfo v4_only;  // port 1: no IPv6 address to solicit from
    v4_only.mac = kOtherMac;
    v4_only.ipv4 = Ip("10.0.1.2");
    cache_ = std::make_unique<NeighborCache>(
        NeighborCacheOptions{
            .reachable_ms = 30000, .retry_ms = 1000, .retries = 3, .hold_packets = 2},
        table_, pool_, std::vector<PortInfo>{port, v4_only}, counters_,
        [this](uint16_t port_index, rte_mbuf* m) {
          sent_.push_back({port_index, m});
        });
  }
  void TearDown() override {
    cache_.reset();
    for (auto& [port, m] : sent_) rte_pktmbuf_free(m);
    EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u) << "mbufs leaked";
  }

  rte_mbuf* Packet() {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    char* data = rte_pktmbuf_append(m, 60);
    std::memset(data, 0xab, 60);
    return m;
  }
  // Takes what was sent since the last call.
  std::vector<std::pair<uint16_t, rte_mbuf*>> TakeSent() {
    std::vector<std::pair<uint16_t, rte_mbuf*>> out;
    out.swap(sent_);
    return out;
  }
  static bool IsRequestFor(rte_mbuf* m, const NeighborAddress& target) {
    const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
    const auto* arp = reinterpret_cast<const rte_arp_hdr*>(eth + 1);
    return eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP) &&
           rte_is_broadcast_ether_addr(&eth->dst_addr) &&
           rte_is_same_ether_addr(&eth->src_addr, &kPortMac) &&
           arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST) &&
           arp->arp_data.arp_sip == Ip("10.0.0.2") && !target.ipv6 &&
           arp->arp_data.arp_tip == target.ipv4() && rte_pktmbuf_pkt_len(m) == 60;
  }
  // An NS from port 0's IPv6 address and MAC for `target`, to its solicited-node group,
  // valid by RFC 4861 (ParseNd checks hop limit and checksum).
  static bool IsSolicitationFor(rte_mbuf* m, const NeighborAddress& target) {
    const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
    const ParsedPacket p = ParseFrame(data, rte_pktmbuf_data_len(m));
    NdMessage nd;
    if (!target.ipv6 || !ParseNd(data, rte_pktmbuf_data_len(m), p, &nd)) return false;
    const auto* eth = reinterpret_cast<const rte_ether_hdr*>(data);
    const rte_ether_addr group_mac = {
        {0x33, 0x33, 0xff, target.bytes[13], target.bytes[14], target.bytes[15]}};
    const Ipv6Address source = Ip6("2001:db8::2");
    const Ipv6Address group = SolicitedNodeAddress(target.bytes);
    return rte_is_same_ether_addr(&eth->dst_addr, &group_mac) &&
           rte_is_same_ether_addr(&eth->src_addr, &kPortMac) && nd.solicitation &&
           nd.target == target.bytes && nd.has_link_layer &&
           rte_is_same_ether_addr(&nd.link_layer, &kPortMac) &&
           std::memcmp(Ipv6Src(data, p), source.data(), 16) == 0 &&
           std::memcmp(Ipv6Dst(data, p), group.data(), 16) == 0;
  }
  void FreeAll(std::vector<std::pair<uint16_t, rte_mbuf*>>& v) {
    for (auto& [port, m] : v) rte_pktmbuf_free(m);
    v.clear();
  }
  NeighborTable::State Lookup(uint32_t index, rte_ether_addr* mac) {
    return table_.Lookup(index, mac);
  }

  static rte_mempool* pool_;
  NeighborTable table_{64};
  LcoreCounters counters_;
  std::unique_ptr<NeighborCache> cache_;
  std::vector<std::pair<uint16_t, rte_mbuf*>> sent_;
};

rte_mempool* NeighborCacheTest::pool_ = nullptr;

TEST_F(NeighborCacheTest, RetriesThenFailsAndDropsHeldPackets) {
  const NeighborAddress backend = V4("10.0.0.11");
  const auto index = static_cast<uint32_t>(cache_->Resolve(backend, 0));
  EXPECT_EQ(cache_->Resolve(backend, 0), index) << "one entry per address";
  rte_ether_addr mac;
  EXPECT_EQ(Lookup(index, &mac), NeighborTable::State::kUnresolved);

  cache_->Tick(0);
  auto sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(IsRequestFor(sent[0].second, backend));
  FreeAll(sent);
  cache_->Hold(index, Packet(), 100);
  cache_->Hold(index, Packet(), 200);
  cache_->Hold(index, Packet(), 300);  // hold_packets = 2: this one is dropped
  EXPECT_EQ(counters_.drops[static_cast<size_t>(DropReason::kNeighborHoldFull)], 1u);
  cache_->Tick(999);
  EXPECT_TRUE(TakeSent().empty()) << "no retry before retry_interval";
  cache_->Tick(1000);
  cache_->Tick(2000);
  sent = TakeSent();
  ASSERT_EQ(sent.size(), 2u);  // requests 2 and 3
  FreeAll(sent);
  cache_->Tick(3000);  // no answer to 3 requests: failed, held packets dropped
  EXPECT_TRUE(TakeSent().empty());
  EXPECT_EQ(Lookup(index, &mac), NeighborTable::State::kFailed);
  EXPECT_EQ(cache_->state(index), NeighborCache::State::kFailed);
  EXPECT_EQ(counters_.drops[static_cast<size_t>(DropReason::kNeighborFailed)], 2u);
  EXPECT_EQ(counters_.arp_requests_sent, 3u);

  // Asked again after reachable_time; an answer then resolves it.
  cache_->Tick(3000 + 29999);
  EXPECT_TRUE(TakeSent().empty());
  cache_->Tick(3000 + 30000);
  sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  FreeAll(sent);
  cache_->Learn(backend, kBackendMac, 33500);
  ASSERT_EQ(Lookup(index, &mac), NeighborTable::State::kResolved);
  EXPECT_TRUE(rte_is_same_ether_addr(&mac, &kBackendMac));
}

TEST_F(NeighborCacheTest, LearningReleasesHeldPacketsWithTheMac) {
  const NeighborAddress backend = V4("10.0.0.11");
  const auto index = static_cast<uint32_t>(cache_->Resolve(backend, 0));
  cache_->Hold(index, Packet(), 0);  // first held packet triggers the request at once
  auto sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(IsRequestFor(sent[0].second, backend));
  FreeAll(sent);
  cache_->Hold(index, Packet(), 10);
  cache_->Learn(backend, kBackendMac, 20);
  sent = TakeSent();
  ASSERT_EQ(sent.size(), 2u);
  for (auto& [port, m] : sent) {
    EXPECT_EQ(port, 0);
    EXPECT_TRUE(
        rte_is_same_ether_addr(&rte_pktmbuf_mtod(m, rte_ether_hdr*)->dst_addr, &kBackendMac));
  }
  FreeAll(sent);
  EXPECT_EQ(counters_.held_released, 2u);
  EXPECT_EQ(counters_.arp_learned, 1u);
  // Resolved meanwhile: a late packet is sent at once.
  cache_->Hold(index, Packet(), 30);
  sent = TakeSent();
  EXPECT_EQ(sent.size(), 1u);
  FreeAll(sent);
}

TEST_F(NeighborCacheTest, RefreshKeepsForwardingUntilRetriesRunOut) {
  const NeighborAddress backend = V4("10.0.0.11");
  const auto index = static_cast<uint32_t>(cache_->Resolve(backend, 0));
  cache_->Tick(0);
  auto sent = TakeSent();
  FreeAll(sent);
  cache_->Learn(backend, kBackendMac, 500);
  rte_ether_addr mac;
  cache_->Tick(500 + 29999);
  EXPECT_TRUE(TakeSent().empty());
  cache_->Tick(500 + 30000);  // refresh request; the MAC stays usable
  sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(IsRequestFor(sent[0].second, backend));
  FreeAll(sent);
  EXPECT_EQ(Lookup(index, &mac), NeighborTable::State::kResolved);
  EXPECT_EQ(cache_->state(index), NeighborCache::State::kRefreshing);
  cache_->Tick(31500);
  cache_->Tick(32500);
  sent = TakeSent();
  EXPECT_EQ(sent.size(), 2u);
  FreeAll(sent);
  EXPECT_EQ(Lookup(index, &mac), NeighborTable::State::kResolved);
  cache_->Tick(33500);  // three refresh requests unanswered
  EXPECT_EQ(Lookup(index, &mac), NeighborTable::State::kFailed);
}

TEST_F(NeighborCacheTest, StaticEntriesNeverAskAndIgnoreTheWire) {
  const NeighborAddress gateway = V4("10.0.0.1");
  const auto index = static_cast<uint32_t>(cache_->AddStatic(gateway, 0, kBackendMac));
  for (uint64_t t = 0; t < 100000; t += 1000) cache_->Tick(t);
  EXPECT_TRUE(TakeSent().empty());
  cache_->Learn(gateway, kOtherMac, 5);
  rte_ether_addr mac;
  ASSERT_EQ(Lookup(index, &mac), NeighborTable::State::kResolved);
  EXPECT_TRUE(rte_is_same_ether_addr(&mac, &kBackendMac));
}

TEST_F(NeighborCacheTest, UnknownSendersDoNotFillTheCache) {
  cache_->Learn(V4("10.0.0.77"), kOtherMac, 0);
  EXPECT_EQ(cache_->size(), 0u);
}

TEST_F(NeighborCacheTest, Ipv6NextHopsAreSolicitedRetriedAndFail) {
  const NeighborAddress backend = V6("2001:db8::11");
  const auto index = static_cast<uint32_t>(cache_->Resolve(backend, 0));
  EXPECT_EQ(cache_->Resolve(backend, 0), index);
  cache_->Tick(0);
  auto sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, 0);
  EXPECT_TRUE(IsSolicitationFor(sent[0].second, backend));
  FreeAll(sent);
  cache_->Hold(index, Packet(), 100);
  cache_->Hold(index, Packet(), 200);
  cache_->Tick(999);
  EXPECT_TRUE(TakeSent().empty());
  cache_->Tick(1000);
  cache_->Tick(2000);
  sent = TakeSent();
  ASSERT_EQ(sent.size(), 2u);
  for (auto& [port, m] : sent) EXPECT_TRUE(IsSolicitationFor(m, backend));
  FreeAll(sent);
  cache_->Tick(3000);
  rte_ether_addr mac;
  EXPECT_EQ(Lookup(index, &mac), NeighborTable::State::kFailed);
  EXPECT_EQ(counters_.drops[static_cast<size_t>(DropReason::kNeighborFailed)], 2u);
  EXPECT_EQ(counters_.nd_solicitations_sent, 3u);
  EXPECT_EQ(counters_.arp_requests_sent, 0u);
}

TEST_F(NeighborCacheTest, Ipv6AdvertisementReleasesHeldPackets) {
  const NeighborAddress backend = V6("2001:db8::11");
  const auto index = static_cast<uint32_t>(cache_->Resolve(backend, 0));
  cache_->Hold(index, Packet(), 0);  // solicits at once
  auto sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(IsSolicitationFor(sent[0].second, backend));
  FreeAll(sent);
  cache_->Hold(index, Packet(), 10);
  // An NA without Override still resolves an entry that has no MAC yet.
  cache_->Learn(backend, kBackendMac, 20, /*override_mac=*/false);
  sent = TakeSent();
  ASSERT_EQ(sent.size(), 2u);
  for (auto& [port, m] : sent) {
    EXPECT_EQ(port, 0);
    EXPECT_TRUE(
        rte_is_same_ether_addr(&rte_pktmbuf_mtod(m, rte_ether_hdr*)->dst_addr, &kBackendMac));
  }
  FreeAll(sent);
  rte_ether_addr mac;
  ASSERT_EQ(Lookup(index, &mac), NeighborTable::State::kResolved);
  EXPECT_EQ(cache_->state(index), NeighborCache::State::kReachable);
  EXPECT_EQ(counters_.held_released, 2u);
  EXPECT_EQ(counters_.nd_learned, 1u);
  EXPECT_EQ(counters_.arp_learned, 0u);
}

TEST_F(NeighborCacheTest, Ipv6OverrideFlag) {
  const NeighborAddress backend = V6("2001:db8::11");
  const auto index = static_cast<uint32_t>(cache_->Resolve(backend, 0));
  cache_->Learn(backend, kBackendMac, 0);
  rte_ether_addr mac;
  // RFC 4861 7.2.5: without Override, another MAC does not replace a resolved one.
  cache_->Learn(backend, kOtherMac, 10, /*override_mac=*/false);
  ASSERT_EQ(Lookup(index, &mac), NeighborTable::State::kResolved);
  EXPECT_TRUE(rte_is_same_ether_addr(&mac, &kBackendMac));
  cache_->Learn(backend, kOtherMac, 20, /*override_mac=*/true);
  ASSERT_EQ(Lookup(index, &mac), NeighborTable::State::kResolved);
  EXPECT_TRUE(rte_is_same_ether_addr(&mac, &kOtherMac));
  EXPECT_EQ(counters_.nd_learned, 2u);
}

TEST_F(NeighborCacheTest, Ipv6RefreshSolicitsAgain) {
  const NeighborAddress backend = V6("2001:db8::11");
  const auto index = static_cast<uint32_t>(cache_->Resolve(backend, 0));
  cache_->Learn(backend, kBackendMac, 0);
  cache_->Tick(29999);
  EXPECT_TRUE(TakeSent().empty());
  cache_->Tick(30000);
  auto sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(IsSolicitationFor(sent[0].second, backend));
  FreeAll(sent);
  EXPECT_EQ(cache_->state(index), NeighborCache::State::kRefreshing);
  cache_->Learn(backend, kBackendMac, 30100, /*override_mac=*/false);
  EXPECT_EQ(cache_->state(index), NeighborCache::State::kReachable) << "a confirmation";
}

TEST_F(NeighborCacheTest, FamiliesDoNotMix) {
  // 10.0.0.11 and a00:b:: share their first four bytes.
  const NeighborAddress v4 = V4("10.0.0.11");
  const NeighborAddress v6 = V6("a00:b::");
  ASSERT_EQ(std::memcmp(v4.bytes.data(), v6.bytes.data(), 4), 0);
  EXPECT_FALSE(v4 == v6);
  const int64_t i4 = cache_->Resolve(v4, 0);
  const int64_t i6 = cache_->Resolve(v6, 0);
  EXPECT_NE(i4, i6);
  cache_->Learn(v6, kBackendMac, 0);
  EXPECT_EQ(cache_->state(static_cast<uint32_t>(i4)), NeighborCache::State::kIncomplete);
  EXPECT_EQ(cache_->state(static_cast<uint32_t>(i6)), NeighborCache::State::kReachable);
  EXPECT_EQ(v4.ToString(), "10.0.0.11");
  EXPECT_EQ(v6.ToString(), "a00:b::");
}

TEST_F(NeighborCacheTest, Ipv6StaticEntry) {
  const NeighborAddress gateway = V6("2001:db8::1");
  const auto index = static_cast<uint32_t>(cache_->AddStatic(gateway, 0, kBackendMac));
  for (uint64_t t = 0; t < 100000; t += 1000) cache_->Tick(t);
  EXPECT_TRUE(TakeSent().empty());
  cache_->Learn(gateway, kOtherMac, 5);
  rte_ether_addr mac;
  ASSERT_EQ(Lookup(index, &mac), NeighborTable::State::kResolved);
  EXPECT_TRUE(rte_is_same_ether_addr(&mac, &kBackendMac));
}

TEST_F(NeighborCacheTest, Ipv6OnAPortWithoutIpv6SendsNothingAndFails) {
  const auto index = static_cast<uint32_t>(cache_->Resolve(V6("2001:db8:1::11"), 1));
  for (uint64_t t = 0; t <= 3000; t += 1000) cache_->Tick(t);
  EXPECT_TRUE(TakeSent().empty());
  EXPECT_EQ(cache_->state(index), NeighborCache::State::kFailed);
  EXPECT_EQ(counters_.nd_solicitations_sent, 0u);
}

}  // namespace
}  // namespace sluice::dataplane
