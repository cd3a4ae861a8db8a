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
    cache_ = std::make_unique<NeighborCache>(
        NeighborCacheOptions{
            .reachable_ms = 30000, .retry_ms = 1000, .retries = 3, .hold_packets = 2},
        table_, pool_, std::vector<PortInfo>{port}, counters_,
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
  static bool IsRequestFor(rte_mbuf* m, uint32_t target) {
    const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
    const auto* arp = reinterpret_cast<const rte_arp_hdr*>(eth + 1);
    return eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP) &&
           rte_is_broadcast_ether_addr(&eth->dst_addr) &&
           rte_is_same_ether_addr(&eth->src_addr, &kPortMac) &&
           arp->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST) &&
           arp->arp_data.arp_sip == Ip("10.0.0.2") && arp->arp_data.arp_tip == target &&
           rte_pktmbuf_pkt_len(m) == 60;
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
  const uint32_t backend = Ip("10.0.0.11");
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
  const uint32_t backend = Ip("10.0.0.11");
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
  const uint32_t backend = Ip("10.0.0.11");
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
  const uint32_t gateway = Ip("10.0.0.1");
  const auto index = static_cast<uint32_t>(cache_->AddStatic(gateway, 0, kBackendMac));
  for (uint64_t t = 0; t < 100000; t += 1000) cache_->Tick(t);
  EXPECT_TRUE(TakeSent().empty());
  cache_->Learn(gateway, kOtherMac, 5);
  rte_ether_addr mac;
  ASSERT_EQ(Lookup(index, &mac), NeighborTable::State::kResolved);
  EXPECT_TRUE(rte_is_same_ether_addr(&mac, &kBackendMac));
}

TEST_F(NeighborCacheTest, UnknownSendersDoNotFillTheCache) {
  cache_->Learn(Ip("10.0.0.77"), kOtherMac, 0);
  EXPECT_EQ(cache_->size(), 0u);
}

}  // namespace
}  // namespace sluice::dataplane
