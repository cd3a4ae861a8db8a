#include "lb/status_format.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/time/time.h"
#include "lb/status_board.h"

namespace sluice::lb {
namespace {

StatusSnapshot Example() {
  StatusSnapshot s;
  s.table_generation = 7;
  ServiceStatus web{.id = 1,
                    .name = "web",
                    .vip = "10.99.0.100:80",
                    .protocol = "tcp",
                    .forwarding = "dr",
                    .scheduler = "maglev",
                    .health_check = "http"};
  web.backends = {
      {.id = 1, .address = "10.99.0.11:80", .weight = 100, .up = true, .health_detail = "200"},
      {.id = 2,
       .address = "10.99.0.12:80",
       .weight = 100,
       .up = false,
       .health_detail = "connect refused"},
      {.id = 3, .address = "10.99.0.13:80", .weight = 100, .runtime_drain = true, .up = true},
  };
  ServiceStatus dns{.id = 2,
                    .name = "dns",
                    .vip = "[fd00::53]:53",
                    .protocol = "udp",
                    .forwarding = "nat",
                    .scheduler = "maglev",
                    .health_check = "none"};
  dns.backends = {
      {.id = 4, .address = "[fd00::1]:53", .weight = 0, .config_drain = true, .up = false},
  };
  s.services = {web, dns};
  return s;
}

TEST(StatusFormatTest, ListIsExact) {
  EXPECT_EQ(FormatList(Example()),
            // serving counts backends that take new flows: .13 is drained.
            "service web 10.99.0.100:80 tcp dr maglev health=http backends=3 serving=1\n"
            "  backend 10.99.0.11:80 weight 100 active=0 up\n"
            "  backend 10.99.0.12:80 weight 100 active=0 down (connect refused)\n"
            "  backend 10.99.0.13:80 weight 100 active=0 up drained(runtime)\n"
            "service dns [fd00::53]:53 udp nat maglev health=none backends=1 serving=0\n"
            "  backend [fd00::1]:53 weight 0 active=0 down drained\n");
}

ListTrafficByIds ExampleTraffic() {
  ListTrafficByIds t;
  t.services[1] = {.active_flows = 5,
                   .new_flows = 40,
                   .packets = 1000,
                   .bytes = 64000,
                   .new_flows_per_s = 2.5,
                   .packets_per_s = 120,
                   .bytes_per_s = 7680.4};
  t.backends[1] = {.active_flows = 3,
                   .new_flows = 25,
                   .packets = 600,
                   .bytes = 38400,
                   .new_flows_per_s = 1.25,
                   .packets_per_s = 70.5,
                   .bytes_per_s = 4512};
  t.backends[3] = {.active_flows = 2, .new_flows = 15, .packets = 400, .bytes = 25600};
  return t;  // dns and its backend: nothing (zeros)
}

TEST(StatusFormatTest, ListShowsActiveFlows) {
  EXPECT_EQ(FormatList(Example(), ExampleTraffic()),
            "service web 10.99.0.100:80 tcp dr maglev health=http backends=3 serving=1\n"
            "  backend 10.99.0.11:80 weight 100 active=3 up\n"
            "  backend 10.99.0.12:80 weight 100 active=0 down (connect refused)\n"
            "  backend 10.99.0.13:80 weight 100 active=2 up drained(runtime)\n"
            "service dns [fd00::53]:53 udp nat maglev health=none backends=1 serving=0\n"
            "  backend [fd00::1]:53 weight 0 active=0 down drained\n");
}

TEST(StatusFormatTest, ListStatsIsExact) {
  EXPECT_EQ(FormatList(Example(), ExampleTraffic(), ListView::kStats),
            "service web 10.99.0.100:80 tcp dr maglev active=5 new_flows=40 packets=1000 "
            "bytes=64000\n"
            "  backend 10.99.0.11:80 active=3 new_flows=25 packets=600 bytes=38400\n"
            "  backend 10.99.0.12:80 active=0 new_flows=0 packets=0 bytes=0\n"
            "  backend 10.99.0.13:80 active=2 new_flows=15 packets=400 bytes=25600\n"
            "service dns [fd00::53]:53 udp nat maglev active=0 new_flows=0 packets=0 bytes=0\n"
            "  backend [fd00::1]:53 active=0 new_flows=0 packets=0 bytes=0\n");
}

TEST(StatusFormatTest, ListRateIsExact) {
  EXPECT_EQ(FormatList(Example(), ExampleTraffic(), ListView::kRate),
            "service web 10.99.0.100:80 tcp dr maglev new_flows/s=2.5 packets/s=120 "
            "bytes/s=7680\n"
            "  backend 10.99.0.11:80 new_flows/s=1.2 packets/s=70 bytes/s=4512\n"
            "  backend 10.99.0.12:80 new_flows/s=0.0 packets/s=0.0 bytes/s=0.0\n"
            "  backend 10.99.0.13:80 new_flows/s=0.0 packets/s=0.0 bytes/s=0.0\n"
            "service dns [fd00::53]:53 udp nat maglev new_flows/s=0.0 packets/s=0.0 bytes/s=0.0\n"
            "  backend [fd00::1]:53 new_flows/s=0.0 packets/s=0.0 bytes/s=0.0\n");
}

TEST(StatusFormatTest, ListJsonCarriesActiveFlowsStatsAndRates) {
  const std::string state = FormatListJson(Example(), ExampleTraffic());
  EXPECT_NE(state.find("\"serving\":1,\"active_flows\":5,\"backends\":["), std::string::npos)
      << state;
  EXPECT_NE(state.find("\"health_detail\":\"200\",\"active_flows\":3}"), std::string::npos)
      << state;
  EXPECT_EQ(state.find("\"stats\""), std::string::npos);
  const std::string stats = FormatListJson(Example(), ExampleTraffic(), ListView::kStats);
  EXPECT_NE(stats.find("\"active_flows\":3,\"stats\":{\"new_flows\":25,\"packets\":600,"
                       "\"bytes\":38400}}"),
            std::string::npos)
      << stats;
  const std::string rate = FormatListJson(Example(), ExampleTraffic(), ListView::kRate);
  EXPECT_NE(rate.find("\"active_flows\":5,\"rate\":{\"new_flows_per_second\":2.5,"
                      "\"packets_per_second\":120,\"bytes_per_second\":7680.4}"),
            std::string::npos)
      << rate;
}

TEST(StatusFormatTest, ListShowsBothDrainsInOrder) {
  StatusSnapshot s = Example();
  s.services[0].backends[1].config_drain = true;
  s.services[0].backends[1].runtime_drain = true;
  EXPECT_NE(FormatList(s).find(
                "  backend 10.99.0.12:80 weight 100 active=0 down drained drained(runtime) "
                "(connect refused)\n"),
            std::string::npos);
}

TEST(StatusFormatTest, EmptyListIsEmpty) { EXPECT_EQ(FormatList(StatusSnapshot{}), ""); }

TEST(StatusFormatTest, StatusAfterStartUp) {
  EXPECT_EQ(FormatStatus(StatusSnapshot{}),
            "table_generation 0\n"
            "reloads_succeeded 0\n"
            "reloads_failed 0\n"
            "last_reload ok\n"
            "last_reload_success_time never\n");
}

TEST(StatusFormatTest, StatusAfterAFailedReload) {
  StatusSnapshot s = Example();
  s.reload = {.successes = 2,
              .failures = 1,
              .last_successful = false,
              .last_success_time = absl::FromUnixSeconds(1700000000),
              .last_error = "a.yaml:3:5: error: x\na.yaml:9:1: error: y\n",
              .last_summary = "1 backend added",
              .restart_required = {"dataplane.workers", "dataplane.ports"}};
  s.worker_table_generations = {7, 6};
  EXPECT_EQ(FormatStatus(s),
            "table_generation 7\n"
            "reloads_succeeded 2\n"
            "reloads_failed 1\n"
            "last_reload failed\n"
            "last_reload_success_time 2023-11-14T22:13:20+00:00\n"
            "worker 0 table_generation 7\n"
            "worker 1 table_generation 6 (behind)\n"
            "last_summary 1 backend added\n"
            "restart_required dataplane.workers\n"
            "restart_required dataplane.ports\n"
            "last_error:\n"
            "  a.yaml:3:5: error: x\n"
            "  a.yaml:9:1: error: y\n");
}

TEST(StatusFormatTest, JsonQuoteEscapes) {
  EXPECT_EQ(JsonQuote("plain"), "\"plain\"");
  EXPECT_EQ(JsonQuote("a\"b\\c\nd\te\r\x01\x1f\b\f"),
            "\"a\\\"b\\\\c\\nd\\te\\r\\u0001\\u001f\\b\\f\"");
  EXPECT_EQ(JsonQuote(std::string("nul\0x", 5)), "\"nul\\u0000x\"");
  EXPECT_EQ(JsonQuote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

TEST(StatusFormatTest, ListJsonIsExact) {
  StatusSnapshot s = Example();
  s.services.resize(1);
  s.services[0].backends.resize(2);
  s.services[0].backends[1].health_detail = "said \"no\"";
  EXPECT_EQ(FormatListJson(s),
            R"({"table_generation":7,"services":[{"id":1,"name":"web","vip":"10.99.0.100:80",)"
            R"("protocol":"tcp","forwarding":"dr","scheduler":"maglev","health":"http",)"
            R"("backends_total":2,"serving":1,"active_flows":0,"backends":[)"
            R"({"id":1,"address":"10.99.0.11:80","weight":100,"up":true,"serving":true,)"
            R"("config_drain":false,"runtime_drain":false,"health_detail":"200",)"
            R"("active_flows":0},)"
            R"({"id":2,"address":"10.99.0.12:80","weight":100,"up":false,"serving":false,)"
            R"("config_drain":false,"runtime_drain":false,"health_detail":"said \"no\"",)"
            R"("active_flows":0}]}]})"
            "\n");
  EXPECT_EQ(FormatListJson(StatusSnapshot{}), "{\"table_generation\":0,\"services\":[]}\n");
}

TEST(StatusFormatTest, StatusJsonIsExact) {
  EXPECT_EQ(FormatStatusJson(StatusSnapshot{}),
            R"({"table_generation":0,"worker_table_generations":[],"reloads_succeeded":0,)"
            R"("reloads_failed":0,)"
            R"("last_reload":"ok","last_reload_success_time":null,"last_summary":"",)"
            R"("restart_required":[],"last_error":[]})"
            "\n");
  StatusSnapshot s;
  s.reload = {.successes = 1,
              .failures = 1,
              .last_successful = false,
              .last_success_time = absl::FromUnixSeconds(1700000000),
              .last_error = "a.yaml:3:5: error: bad \"x\"\n",
              .restart_required = {"dataplane.workers"}};
  s.worker_table_generations = {0, 0};
  EXPECT_EQ(FormatStatusJson(s),
            R"({"table_generation":0,"worker_table_generations":[0,0],"reloads_succeeded":1,)"
            R"("reloads_failed":1,)"
            R"("last_reload":"failed","last_reload_success_time":"2023-11-14T22:13:20+00:00",)"
            R"("last_summary":"","restart_required":["dataplane.workers"],)"
            R"("last_error":["a.yaml:3:5: error: bad \"x\""]})"
            "\n");
}

}  // namespace
}  // namespace sluice::lb
