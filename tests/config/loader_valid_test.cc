// Valid configs load into exactly the expected model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.h"

namespace sluice::config {
namespace {

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }
IpPrefix Pfx(const char* text) { return *IpPrefix::Parse(text); }

Config Load(std::string_view yaml) {
  std::vector<Diagnostic> diagnostics;
  absl::StatusOr<Config> config = LoadString(yaml, "test.yaml", &diagnostics);
  EXPECT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(diagnostics.empty());
  return config.ok() ? *config : Config{};
}

TEST(LoaderValidTest, MinimalConfigGetsDocumentedDefaults) {
  const Config c = Load(R"(
dataplane:
  ports:
    - { name: p0, device: net_null0, address: 10.0.0.2/24 }
services:
  - name: web
    vip: 10.0.100.1
    port: 80
    forwarding: dr
    backends:
      - { address: 10.0.0.11 }
)");
  Config expected;
  expected.dataplane.ports.push_back(
      Port{.name = "p0", .device = "net_null0", .address = Pfx("10.0.0.2/24")});
  Service web{.name = "web", .vip = Ip("10.0.100.1"), .port = 80};
  web.backends.push_back(Backend{.address = Ip("10.0.0.11"), .port = 80});
  expected.services.push_back(web);
  EXPECT_EQ(c, expected);

  // The defaults docs/config.md promises, spelled out so a changed default fails here.
  EXPECT_EQ(c.dataplane.workers, 1u);
  EXPECT_TRUE(c.dataplane.eal.empty());
  EXPECT_EQ(c.dataplane.ports[0].mtu, 1500u);
  EXPECT_FALSE(c.dataplane.tunnel_source);
  EXPECT_EQ(c.dataplane.icmp_errors_per_second, 1000u);
  EXPECT_EQ(c.dataplane.icmp_error_burst, 100u);
  EXPECT_EQ(c.dataplane.flow_table.capacity, 1048576u);
  EXPECT_EQ(c.dataplane.flow_table.capacity6, 262144u);
  EXPECT_EQ(c.dataplane.flow_table.tcp_timeout, absl::Seconds(300));
  EXPECT_EQ(c.dataplane.flow_table.udp_timeout, absl::Seconds(30));
  EXPECT_EQ(c.metrics.listen.ToString(), "127.0.0.1:9750");
  EXPECT_TRUE(c.metrics.per_backend);
  EXPECT_EQ(c.control.socket, "/run/sluice/sluice.sock");
  EXPECT_EQ(c.control.group, "");  // root only
  const Service& s = c.services[0];
  EXPECT_EQ(s.protocol, Protocol::kTcp);
  EXPECT_EQ(s.scheduler, Scheduler::kMaglev);
  EXPECT_EQ(s.table_size, 65537u);
  EXPECT_EQ(s.health_check.type, HealthCheckType::kTcp);
  EXPECT_EQ(s.health_check.tcp_mode, TcpCheckMode::kConnect);
  EXPECT_FALSE(s.health_check.port);
  EXPECT_EQ(s.health_check.expect_status, 200u);
  EXPECT_EQ(s.health_check.expect_status_max, 200u);
  EXPECT_FALSE(s.health_check.assume_up);
  EXPECT_TRUE(s.health_check.body.empty());
  EXPECT_EQ(s.health_check.interval, absl::Seconds(1));
  EXPECT_EQ(s.health_check.timeout, absl::Milliseconds(500));
  EXPECT_EQ(s.health_check.rise, 2u);
  EXPECT_EQ(s.health_check.fall, 3u);
  EXPECT_EQ(s.backends[0].port, 80);  // the service port
  EXPECT_EQ(s.backends[0].weight, 100u);
  EXPECT_FALSE(s.backends[0].drain);
}

TEST(LoaderValidTest, EveryKeySetExplicitly) {
  const Config c = Load(R"(
dataplane:
  workers: 2
  eal: ["--in-memory", "--log-level=lib.eal:debug"]
  ports:
    - name: p0
      device: "net_af_xdp0,iface=eth1"
      address: 10.0.0.2/24
      address6: fd00::2/64
      mtu: 9000
    - { name: p1, device: "0000:03:00.1", address: 192.168.7.2/30 }
  routes:
    - { prefix: 0.0.0.0/0, via: 10.0.0.1, metric: 10 }
    - { prefix: 10.8.0.0/16, via: 192.168.7.1, port: p1 }
    - { prefix: 172.16.0.0/12, port: p1 }
    - { prefix: "::/0", via: "fd00::1" }
  neighbors:
    - { address: 10.0.0.11, mac: "02:00:00:00:00:11" }
    - { address: 192.168.7.1, mac: "02:AA:00:00:00:01", port: p1 }
  tunnel_source: 10.0.0.2
  flow_table: { capacity: 2048, tcp_timeout: 5m, udp_timeout: 1m30s }
metrics:
  listen: "[::1]:9100"
  per_backend: false
control:
  socket: /tmp/sluice.sock
  group: sluice-ops
services:
  - name: web
    vip: 10.0.100.1
    port: 80
    protocol: tcp
    forwarding: dr
    scheduler: maglev
    table_size: 13
    health_check: { type: http, port: 8080, path: /healthz, expect_status: 200-299,
                    body: ok, assume: up, interval: 2s, timeout: 250ms, rise: 1, fall: 5 }
    backends:
      - { address: 10.0.0.11, port: 80, weight: 0 }
      - { address: 10.0.0.12, weight: 65535, drain: true }
  - name: dns6
    vip: fd00:100::53
    port: 53
    protocol: udp
    forwarding: tunnel
    health_check: { type: none }
    backends:
      - { address: "fd00::21" }
  - name: mixed
    vip: 10.0.100.2
    port: 443
    forwarding: tunnel
    health_check: { type: udp, payload: ping }
    backends:
      - { address: "fd00::31" }
      - { address: 10.8.1.1 }
  - name: ssh
    vip: 10.0.100.3
    port: 22
    forwarding: dr
    health_check: { type: tcp, tcp_mode: syn }
    backends:
      - { address: 10.0.0.13 }
)");
  Config e;
  e.dataplane.workers = 2;
  e.dataplane.eal = {"--in-memory", "--log-level=lib.eal:debug"};
  e.dataplane.ports = {
      Port{.name = "p0",
           .device = "net_af_xdp0,iface=eth1",
           .address = Pfx("10.0.0.2/24"),
           .address6 = Pfx("fd00::2/64"),
           .mtu = 9000},
      Port{.name = "p1", .device = "0000:03:00.1", .address = Pfx("192.168.7.2/30")}};
  e.dataplane.routes = {Route{.prefix = Pfx("0.0.0.0/0"), .via = Ip("10.0.0.1"), .metric = 10},
                        Route{.prefix = Pfx("10.8.0.0/16"), .via = Ip("192.168.7.1"), .port = "p1"},
                        Route{.prefix = Pfx("172.16.0.0/12"), .port = "p1"},
                        Route{.prefix = Pfx("::/0"), .via = Ip("fd00::1")}};
  e.dataplane.neighbors = {
      Neighbor{.address = Ip("10.0.0.11"), .mac = *MacAddress::Parse("02:00:00:00:00:11")},
      Neighbor{.address = Ip("192.168.7.1"),
               .mac = *MacAddress::Parse("02:aa:00:00:00:01"),
               .port = "p1"}};
  e.dataplane.tunnel_source = Ip("10.0.0.2");
  e.dataplane.flow_table = {
      .capacity = 2048, .tcp_timeout = absl::Minutes(5), .udp_timeout = absl::Seconds(90)};
  e.metrics.listen = *SocketAddress::Parse("[::1]:9100");
  e.metrics.per_backend = false;
  e.control.socket = "/tmp/sluice.sock";
  e.control.group = "sluice-ops";
  // Field by field: GCC 12 misreports nested designated initializers of these
  // structs (with default std::string members) as maybe-uninitialized.
  Service web{.name = "web", .vip = Ip("10.0.100.1"), .port = 80, .table_size = 13};
  web.health_check.type = HealthCheckType::kHttp;
  web.health_check.port = 8080;
  web.health_check.path = "/healthz";
  web.health_check.expect_status = 200;
  web.health_check.expect_status_max = 299;
  web.health_check.body = "ok";
  web.health_check.assume_up = true;
  web.health_check.interval = absl::Seconds(2);
  web.health_check.timeout = absl::Milliseconds(250);
  web.health_check.rise = 1;
  web.health_check.fall = 5;
  web.backends.push_back(Backend{.address = Ip("10.0.0.11"), .port = 80, .weight = 0});
  web.backends.push_back(
      Backend{.address = Ip("10.0.0.12"), .port = 80, .weight = 65535, .drain = true});
  e.services.push_back(web);

  Service dns6{.name = "dns6",
               .vip = Ip("fd00:100::53"),
               .port = 53,
               .protocol = Protocol::kUdp,
               .forwarding = Forwarding::kTunnel};
  dns6.health_check.type = HealthCheckType::kNone;
  dns6.backends.push_back(Backend{.address = Ip("fd00::21"), .port = 53});
  e.services.push_back(dns6);

  Service mixed{
      .name = "mixed", .vip = Ip("10.0.100.2"), .port = 443, .forwarding = Forwarding::kTunnel};
  mixed.health_check.type = HealthCheckType::kUdp;
  mixed.health_check.payload = "ping";
  mixed.backends.push_back(Backend{.address = Ip("fd00::31"), .port = 443});
  mixed.backends.push_back(Backend{.address = Ip("10.8.1.1"), .port = 443});
  e.services.push_back(mixed);

  Service ssh{.name = "ssh", .vip = Ip("10.0.100.3"), .port = 22};
  ssh.health_check.tcp_mode = TcpCheckMode::kSyn;
  ssh.backends.push_back(Backend{.address = Ip("10.0.0.13"), .port = 22});
  e.services.push_back(ssh);
  EXPECT_EQ(c.dataplane, e.dataplane);
  EXPECT_EQ(c.metrics, e.metrics);
  EXPECT_EQ(c.control, e.control);
  ASSERT_EQ(c.services.size(), e.services.size());
  for (size_t i = 0; i < c.services.size(); ++i) EXPECT_EQ(c.services[i], e.services[i]) << i;
  EXPECT_EQ(c.backend_count(), 6u);
}

TEST(LoaderValidTest, AnchorsAndAliasesAreOrdinaryYaml) {
  const Config c = Load(R"(
dataplane:
  ports: [{ name: p0, device: net_null0, address: 10.0.0.2/24 }]
services:
  - name: a
    vip: 10.0.100.1
    port: 80
    forwarding: dr
    health_check: &check { type: http, path: /ok, interval: 3s, timeout: 1s }
    backends: &pool
      - { address: 10.0.0.11 }
      - { address: 10.0.0.12 }
  - name: b
    vip: 10.0.100.2
    port: 80
    forwarding: dr
    health_check: *check
    backends: *pool
)");
  ASSERT_EQ(c.services.size(), 2u);
  EXPECT_EQ(c.services[0].health_check, c.services[1].health_check);
  EXPECT_EQ(c.services[1].health_check.path, "/ok");
  EXPECT_EQ(c.services[0].backends, c.services[1].backends);
}

TEST(LoaderValidTest, ByteOrderMarkAndCrLfAreAccepted) {
  const Config c = Load(
      "\xEF\xBB\xBF"
      "dataplane:\r\n  ports: [{ name: p0, device: d, address: 10.0.0.2/24 }]\r\n"
      "services:\r\n  - { name: s, vip: 10.0.0.9, port: 1, forwarding: nat, "
      "backends: [{ address: 10.0.0.3, port: 65535 }] }\r\n");
  ASSERT_EQ(c.services.size(), 1u);
  EXPECT_EQ(c.services[0].backends[0].port, 65535);
}

TEST(LoaderValidTest, ShippedExampleIsValid) {
  // tests run from tests/config (meson workdir).
  std::vector<Diagnostic> diagnostics;
  const absl::StatusOr<Config> c = LoadFile("../../config/examples/sluice.yaml", &diagnostics);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->services.size(), 3u);
  EXPECT_EQ(c->backend_count(), 6u);
  EXPECT_EQ(c->services[2].table_size, 655373u);
}

}  // namespace
}  // namespace sluice::config
