// What the control thread learns about the workers' flows, on a real lb::Appliance with a
// net_ring port (run by golden_test's main, which sets up the EAL): the per-backend and
// per-service active_flows gauges follow inserts, re-picks and expiry back to 0, and
// `sluicectl lookup` (the flow mailbox + ExplainFlow) names the backend the worker
// really forwards to, first as Maglev's pick, then as a flow-table hit.
#include <gtest/gtest.h>
#include <rte_ether.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "config/loader.h"
#include "dataplane/worker.h"
#include "lb/appliance.h"
#include "lb/flow_lookup.h"
#include "lb/lcore_sums.h"
#include "lb/status_board.h"
#include "tests/dataplane/packet_reference.h"
#include "tests/dataplane/ring_port.h"

namespace sluice::golden {
namespace {

namespace dp = ::sluice::dataplane;
namespace pkt = ::sluice::dataplane::pkt;

// Backend ids are handed out in config order from 1: dns's are 1 and 2.
constexpr char kConfig[] = R"(
dataplane:
  workers: 1
  rx_descriptors: 256
  tx_descriptors: 256
  ports:
    - { name: p0, device: "net_ring_fi0", address: 10.0.0.2/24, address6: "fd00::2/64" }
  neighbors:
    - { address: 10.0.0.21, mac: "02:00:00:00:00:15" }
    - { address: 10.0.0.22, mac: "02:00:00:00:00:16" }
    - { address: "fd00::21", mac: "02:00:00:00:00:21" }
  flow_table: { capacity: 1024, udp_timeout: 1s }
services:
  - name: dns
    vip: 10.0.100.2
    port: 53
    protocol: udp
    forwarding: dr
    health_check: { type: tcp, assume: up }  # no checker runs: the test calls SetHealth
    backends:
      - { address: 10.0.0.21 }
      - { address: 10.0.0.22 }
  - name: dns6
    vip: "fd00::100"
    port: 53
    protocol: udp
    forwarding: dr
    health_check: { type: none }
    backends:
      - { address: "fd00::21" }
)";
constexpr uint32_t kService = 1;
constexpr uint32_t kService6 = 2;  // its one backend is id 3
const std::map<uint8_t, uint32_t> kBackendByMacLastByte = {{0x15, 1}, {0x16, 2}, {0x21, 3}};

pkt::Bytes UdpFrame(uint16_t client_port) {
  pkt::Bytes udp;
  pkt::AppendBe16(udp, client_port);
  pkt::AppendBe16(udp, 53);
  pkt::AppendBe16(udp, 8 + 4);
  pkt::AppendBe16(udp, 0);  // no checksum (IPv4 allows it)
  pkt::Append(udp, {'p', 'i', 'n', 'g'});
  pkt::Bytes frame = pkt::Ethernet(0x0800);
  pkt::Append(
      frame,
      pkt::Ipv4({.proto = 17, .src = 0xc6336401 /*198.51.100.1*/, .dst = 0x0a006402 /*10.0.100.2*/},
                udp));
  return frame;
}

// fd00::10 -> [fd00::100]:53. The worker does not verify L4 checksums.
pkt::Bytes UdpFrame6(uint16_t client_port) {
  pkt::Bytes udp;
  pkt::AppendBe16(udp, client_port);
  pkt::AppendBe16(udp, 53);
  pkt::AppendBe16(udp, 8 + 4);
  pkt::AppendBe16(udp, 0);
  pkt::Append(udp, {'p', 'i', 'n', 'g'});
  pkt::Ipv6Fields f{.next_header = 17};
  f.src = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
  f.dst = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00};
  pkt::Bytes frame = pkt::Ethernet(0x86dd);
  pkt::Append(frame, pkt::Ipv6(f, udp));
  return frame;
}

class FlowIntrospectionTest : public testing::Test {
 protected:
  void SetUp() override {
    const std::string path = testing::TempDir() + "/flow_introspection.yaml";
    std::ofstream(path) << kConfig;
    absl::StatusOr<config::Config> cfg = config::LoadFile(path);
    ASSERT_TRUE(cfg.ok()) << cfg.status();
    config_ = *std::move(cfg);
    rte_ether_addr mac{};
    std::copy(pkt::kMacA.begin(), pkt::kMacA.end(), mac.addr_bytes);
    absl::StatusOr<std::unique_ptr<RingPort>> ring = RingPort::Create("net_ring_fi0", mac, 900);
    ASSERT_TRUE(ring.ok()) << ring.status();
    port_ = *std::move(ring);
    appliance_ =
        std::make_unique<lb::Appliance>(config_, lb::ApplianceOptions{.health_checks = true});
    ASSERT_TRUE(appliance_->Start().ok());
  }
  void TearDown() override {
    if (port_) port_->DrainAndFree();
    appliance_.reset();
    port_.reset();
  }

  // Sends one datagram from `client_port`; returns the backend id it was forwarded to
  // (by the destination MAC), 0 if none left.
  uint32_t Send(uint16_t client_port, bool ipv6 = false) {
    EXPECT_TRUE(
        port_->Receive(appliance_->pool(), ipv6 ? UdpFrame6(client_port) : UdpFrame(client_port))
            .ok());
    appliance_->worker(0).PollOnce();
    appliance_->worker(0).FlushTx();
    std::vector<std::vector<uint8_t>> out = port_->TakeTransmitted();
    if (out.size() != 1) return 0;
    auto it = kBackendByMacLastByte.find(out[0][5]);
    return it == kBackendByMacLastByte.end() ? 0 : it->second;
  }

  dp::TrafficCounters Backend(uint32_t id) const {
    return lb::BackendTraffic({&appliance_->worker_stats(0)}, id);
  }
  dp::TrafficCounters Service(uint32_t id = kService) const {
    return lb::ServiceTraffic({&appliance_->worker_stats(0)}, id);
  }

  // `sluicectl lookup udp 198.51.100.1 PORT 10.0.100.2 53`, the worker stepped by hand.
  lb::FlowExplanation Lookup(uint16_t client_port) {
    absl::StatusOr<dp::FlowQuery> q =
        lb::ParseFlowQuery("udp", "198.51.100.1", std::to_string(client_port), "10.0.100.2", "53");
    EXPECT_TRUE(q.ok()) << q.status();
    dp::FlowMailbox& mailbox = appliance_->mailbox(0);
    EXPECT_TRUE(mailbox.Post(*q));
    dp::FlowAnswer answer;
    EXPECT_FALSE(mailbox.TryTake(&answer)) << "answered before the worker polled";
    appliance_->worker(0).PollOnce();
    std::vector<std::optional<dp::FlowAnswer>> answers(1);
    if (mailbox.TryTake(&answer)) answers[0] = answer;
    EXPECT_TRUE(answers[0].has_value());
    lb::StatusSnapshot snapshot;
    snapshot.services.push_back(lb::ServiceStatus{
        .id = kService,
        .name = "dns",
        .backends = {{.id = 1, .address = "10.0.0.21:53"}, {.id = 2, .address = "10.0.0.22:53"}}});
    return lb::ExplainFlow(*appliance_->publisher().current(), snapshot, *q,
                           appliance_->FlowHash(*q), answers);
  }

  config::Config config_;
  std::unique_ptr<RingPort> port_;
  std::unique_ptr<lb::Appliance> appliance_;
};

TEST_F(FlowIntrospectionTest, ActiveFlowsRiseThenExpireToZero) {
  std::map<uint32_t, uint64_t> sent_to;
  for (uint16_t p = 40000; p < 40010; ++p) sent_to[Send(p)] += 1;
  Send(40000);  // a hit: no new flow
  ASSERT_FALSE(sent_to.contains(0)) << "a datagram was not forwarded";
  ASSERT_EQ(sent_to.size(), 2u) << "10 flows all on one backend: pick other ports";
  for (const auto& [id, flows] : sent_to) {
    EXPECT_EQ(Backend(id).active_flows, flows) << "backend " << id;
    EXPECT_EQ(Backend(id).new_flows, flows) << "backend " << id;
  }
  EXPECT_EQ(Service().active_flows, 10u);
  for (uint16_t p = 50000; p < 50003; ++p) EXPECT_EQ(Send(p, /*ipv6=*/true), 3u);
  EXPECT_EQ(Send(50000, /*ipv6=*/true), 3u);  // a hit
  EXPECT_EQ(Backend(3).active_flows, 3u);
  EXPECT_EQ(Service(kService6).active_flows, 3u);
  EXPECT_EQ(appliance_->worker_stats(0).counters.flow_entries, 13u);

  // udp_timeout is 1 s; the sweep examines the whole table 4 times per timeout.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  for (int i = 0; i < 200 && appliance_->worker_stats(0).counters.flow_entries != 0; ++i) {
    appliance_->worker(0).PollOnce();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(appliance_->worker_stats(0).counters.flow_entries, 0u);
  EXPECT_EQ(appliance_->worker_stats(0).counters.flows_expired, 13u);
  EXPECT_EQ(Backend(1).active_flows, 0u);
  EXPECT_EQ(Backend(2).active_flows, 0u);
  EXPECT_EQ(Backend(3).active_flows, 0u);
  EXPECT_EQ(Service().active_flows, 0u);
  EXPECT_EQ(Service(kService6).active_flows, 0u);
}

TEST_F(FlowIntrospectionTest, RepickMovesTheActiveFlow) {
  const uint32_t first = Send(40000);
  ASSERT_NE(first, 0u);
  const uint32_t other = first == 1 ? 2 : 1;
  appliance_->controller().SetHealth(first, false, "test");
  appliance_->controller().Flush();
  EXPECT_EQ(Send(40000), other) << "the flow of a down backend is re-picked";
  EXPECT_EQ(Backend(first).active_flows, 0u);
  EXPECT_EQ(Backend(other).active_flows, 1u);
  EXPECT_EQ(Service().active_flows, 1u);
  EXPECT_EQ(appliance_->worker_stats(0).counters.flow_repicks, 1u);
}

TEST_F(FlowIntrospectionTest, LookupNamesMaglevPickThenTheFlowEntry) {
  const lb::FlowExplanation before = Lookup(41000);
  EXPECT_EQ(before.source, lb::FlowExplanation::Source::kMaglev);
  EXPECT_EQ(before.service, "dns");
  const dp::ServiceInfo& svc = appliance_->publisher().current()->services[0];
  EXPECT_EQ(before.maglev_size, svc.maglev.size());
  EXPECT_EQ(before.backend, svc.maglev[before.maglev_slot]);
  const std::string text = lb::FormatFlowExplanation(before);
  EXPECT_TRUE(text.starts_with(absl::StrCat(
      "no flow entry: Maglev slot ", before.maglev_slot, "/", svc.maglev.size(),
      " of service dns -> backend ", before.backend == 1 ? "10.0.0.21:53" : "10.0.0.22:53", "\n")))
      << text;

  // The worker sends the flow where the lookup said, and then remembers it.
  EXPECT_EQ(Send(41000), before.backend);
  const lb::FlowExplanation after = Lookup(41000);
  EXPECT_EQ(after.source, lb::FlowExplanation::Source::kFlowTable);
  EXPECT_EQ(after.worker, 0);
  EXPECT_EQ(after.backend, before.backend);
  EXPECT_EQ(after.hash, before.hash);
  EXPECT_LE(after.expires_in_ms, 1000u);
  EXPECT_TRUE(lb::FormatFlowExplanation(after).starts_with(
      absl::StrCat("flow table hit on worker 0 (backend ", after.backend_address, ", ")))
      << lb::FormatFlowExplanation(after);

  // A down backend's entry is stale: the next packet would be re-picked by Maglev.
  appliance_->controller().SetHealth(after.backend, false, "test");
  appliance_->controller().Flush();
  const lb::FlowExplanation stale = Lookup(41000);
  EXPECT_EQ(stale.source, lb::FlowExplanation::Source::kMaglev);
  EXPECT_NE(stale.backend, after.backend);
  ASSERT_EQ(stale.stale.size(), 1u);
  EXPECT_NE(stale.stale[0].find("backend down"), std::string::npos) << stale.stale[0];
  EXPECT_EQ(Send(41000), stale.backend);
}

TEST_F(FlowIntrospectionTest, Ipv6LookupFindsTheWorkersEntry) {
  absl::StatusOr<dp::FlowQuery> q =
      lb::ParseFlowQuery("udp", "fd00::10", "50100", "fd00::100", "53");
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(Send(50100, /*ipv6=*/true), 3u);
  dp::FlowMailbox& mailbox = appliance_->mailbox(0);
  ASSERT_TRUE(mailbox.Post(*q));
  appliance_->worker(0).PollOnce();
  dp::FlowAnswer answer;
  ASSERT_TRUE(mailbox.TryTake(&answer));
  EXPECT_TRUE(answer.found);
  EXPECT_EQ(answer.backend, 3u);
  EXPECT_EQ(answer.hash, appliance_->FlowHash(*q))
      << "the worker and the control thread hash alike";
  const lb::FlowExplanation e =
      lb::ExplainFlow(*appliance_->publisher().current(), {}, *q, answer.hash, {answer});
  EXPECT_EQ(e.source, lb::FlowExplanation::Source::kFlowTable);
  EXPECT_EQ(e.backend_address, "[fd00::21]:53");
}

TEST_F(FlowIntrospectionTest, LookupOfAnotherPortHasNoService) {
  absl::StatusOr<dp::FlowQuery> q =
      lb::ParseFlowQuery("tcp", "198.51.100.1", "1234", "10.0.100.2", "53");
  ASSERT_TRUE(q.ok());
  const lb::FlowExplanation e = lb::ExplainFlow(*appliance_->publisher().current(), {}, *q,
                                                appliance_->FlowHash(*q), {std::nullopt});
  EXPECT_EQ(e.source, lb::FlowExplanation::Source::kNoService);
  const std::string text = lb::FormatFlowExplanation(e);
  EXPECT_TRUE(
      text.starts_with("no service for 10.0.100.2:53/tcp\n"
                       "  flow tcp 198.51.100.1:1234 -> 10.0.100.2:53, hash 0x"))
      << text;
}

}  // namespace
}  // namespace sluice::golden
