// sluicectl lookup's explanation on hand-built forwarding tables (no EAL needed): the key
// is the workers' (network byte order, zero padding), a live entry wins, a stale one is
// reported and Maglev's slot is MaglevSlot(hash, M) of the service's own table.
#include "lb/flow_lookup.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace sluice::lb {
namespace {

namespace dp = ::sluice::dataplane;

TEST(ParseFlowQueryTest, Ipv4KeyIsTheWorkersKey) {
  absl::StatusOr<dp::FlowQuery> q = ParseFlowQuery("tcp", "10.0.0.1", "1234", "10.0.100.1", "80");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->family, dp::FlowFamily::kIpv4);
  EXPECT_EQ(q->key4.src_ip, htonl(0x0a000001));
  EXPECT_EQ(q->key4.dst_ip, htonl(0x0a006401));
  EXPECT_EQ(q->key4.src_port, htons(1234));
  EXPECT_EQ(q->key4.dst_port, htons(80));
  EXPECT_EQ(q->key4.ip_proto, 6);
  EXPECT_EQ(q->key4.pad[0] | q->key4.pad[1] | q->key4.pad[2], 0);
}

TEST(ParseFlowQueryTest, Ipv6) {
  absl::StatusOr<dp::FlowQuery> q = ParseFlowQuery("udp", "fd00::10", "5353", "fd00::100", "53");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->family, dp::FlowFamily::kIpv6);
  EXPECT_EQ(q->key6.src_ip[0], 0xfd);
  EXPECT_EQ(q->key6.src_ip[15], 0x10);
  EXPECT_EQ(q->key6.dst_ip[14], 0x01);
  EXPECT_EQ(q->key6.dst_port, htons(53));
  EXPECT_EQ(q->key6.ip_proto, 17);
}

TEST(ParseFlowQueryTest, Errors) {
  EXPECT_EQ(ParseFlowQuery("icmp", "10.0.0.1", "1", "10.0.0.2", "2").status().message(),
            "protocol 'icmp' is not tcp or udp");
  EXPECT_EQ(ParseFlowQuery("tcp", "10.0.0.1", "1", "fd00::1", "2").status().message(),
            "source and destination are not of one address family");
  EXPECT_EQ(ParseFlowQuery("tcp", "10.0.0.1", "65536", "10.0.0.2", "2").status().message(),
            "'65536' is not a port (0-65535)");
  EXPECT_EQ(ParseFlowQuery("tcp", "10.0.0.x", "1", "10.0.0.2", "2").status().message(),
            "'10.0.0.x' is not an IP address");
}

// Service 4 (web, 10.0.100.1:80/tcp) with backends 7 (up) and 8 (down) and a Maglev
// table of 7 slots that only names 7; tcp timeout 300 s.
std::unique_ptr<dp::ForwardingTable> Table() {
  auto t = std::make_unique<dp::ForwardingTable>();
  t->backends.resize(9);
  for (dp::BackendId id : {7u, 8u}) {
    t->backends[id].present = true;
    t->backends[id].service = 4;
    t->backends[id].address = htonl(0x0a00000b + id);
    t->backends[id].port = htons(80);
  }
  t->backends[8].up = false;
  dp::ServiceInfo svc{.id = 4, .ip_proto = 6, .vip = htonl(0x0a006401), .port = htons(80)};
  svc.maglev = dp::MaglevSlots(std::make_shared<const std::vector<dp::BackendId>>(7, 7));
  t->AddService(std::move(svc), true);
  return t;
}

StatusSnapshot Names() {
  StatusSnapshot s;
  s.services.push_back(
      ServiceStatus{.id = 4, .name = "web", .backends = {{.id = 7, .address = "10.0.0.18:80"}}});
  return s;  // 8 is not on the board: named from the table
}

TEST(ExplainFlowTest, MaglevSlotWhenNoWorkerHasTheFlow) {
  const auto table = Table();
  const dp::FlowQuery q = *ParseFlowQuery("tcp", "10.0.0.1", "1234", "10.0.100.1", "80");
  const uint32_t hash = 0x80000000;  // slot (hash * 7) >> 32 = 3
  const FlowExplanation e =
      ExplainFlow(*table, Names(), q, hash, {dp::FlowAnswer{.hash = hash}, std::nullopt});
  EXPECT_EQ(e.source, FlowExplanation::Source::kMaglev);
  EXPECT_EQ(e.maglev_slot, 3u);
  EXPECT_EQ(e.maglev_size, 7u);
  EXPECT_EQ(e.backend, 7u);
  EXPECT_EQ(FormatFlowExplanation(e),
            "no flow entry: Maglev slot 3/7 of service web -> backend 10.0.0.18:80\n"
            "  flow tcp 10.0.0.1:1234 -> 10.0.100.1:80, hash 0x80000000\n"
            "  worker 1 did not answer (its entry, if any, is not shown)\n");
  EXPECT_EQ(FormatFlowExplanationJson(e),
            R"({"flow":"tcp 10.0.0.1:1234 -> 10.0.100.1:80","source":"maglev","service":"web",)"
            R"("hash":2147483648,"backend":"10.0.0.18:80","backend_id":7,"worker":null,)"
            R"("idle_ms":0,"expires_in_ms":0,"maglev_slot":3,"maglev_size":7,"stale":[],)"
            R"("unanswered_workers":[1]})"
            "\n");
}

TEST(ExplainFlowTest, LiveEntryWinsAndAStaleOneIsReported) {
  const auto table = Table();
  const dp::FlowQuery q = *ParseFlowQuery("tcp", "10.0.0.1", "1234", "10.0.100.1", "80");
  // Worker 0 has an entry for the down backend 8, worker 1 a live one for 7.
  const std::vector<std::optional<dp::FlowAnswer>> answers = {
      dp::FlowAnswer{.found = true, .backend = 8, .last_seen_ms = 1000, .now_ms = 3000},
      dp::FlowAnswer{.found = true, .backend = 7, .last_seen_ms = 1500, .now_ms = 2000}};
  const FlowExplanation e = ExplainFlow(*table, Names(), q, 0, answers);
  EXPECT_EQ(e.source, FlowExplanation::Source::kFlowTable);
  EXPECT_EQ(e.worker, 1);
  EXPECT_EQ(e.backend, 7u);
  EXPECT_EQ(e.idle_ms, 500u);
  EXPECT_EQ(e.expires_in_ms, 299500u);
  EXPECT_EQ(FormatFlowExplanation(e),
            "flow table hit on worker 1 (backend 10.0.0.18:80, last packet 0.5 s ago, expires "
            "in 299.5 s)\n"
            "  flow tcp 10.0.0.1:1234 -> 10.0.100.1:80, hash 0x00000000\n"
            "  worker 0 has an entry for backend 10.0.0.19:80 (last packet 2.0 s ago): backend "
            "down, the next packet re-picks\n");
}

TEST(ExplainFlowTest, IdleEntryIsStaleAndNoBackendWithoutMaglevSlots) {
  auto table = Table();
  table->services[0].maglev = dp::MaglevSlots();  // nobody takes new flows
  const dp::FlowQuery q = *ParseFlowQuery("tcp", "10.0.0.1", "1234", "10.0.100.1", "80");
  const FlowExplanation e = ExplainFlow(
      *table, Names(), q, 0,
      {dp::FlowAnswer{.found = true, .backend = 7, .last_seen_ms = 0, .now_ms = 300001}});
  EXPECT_EQ(e.source, FlowExplanation::Source::kNoUsableBackend);
  ASSERT_EQ(e.stale.size(), 1u);
  EXPECT_NE(e.stale[0].find("idle past the timeout"), std::string::npos) << e.stale[0];
  EXPECT_TRUE(FormatFlowExplanation(e).starts_with(
      "no flow entry and no backend takes new flows in service web\n"));
}

TEST(ExplainFlowTest, NoService) {
  const auto table = Table();
  const dp::FlowQuery q = *ParseFlowQuery("udp", "10.0.0.1", "1234", "10.0.100.1", "80");
  const FlowExplanation e = ExplainFlow(*table, Names(), q, 0, {});
  EXPECT_EQ(e.source, FlowExplanation::Source::kNoService);
  EXPECT_TRUE(FormatFlowExplanation(e).starts_with("no service for 10.0.100.1:80/udp\n"));
  EXPECT_NE(FormatFlowExplanationJson(e).find(R"("source":"no_service","service":null,)"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::lb
