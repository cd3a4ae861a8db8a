// Invalid configs: each case asserts every diagnostic exactly (line, column, path) and
// what its message says. Line numbers count from the first line of the YAML text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "config/loader.h"
#include "config/model_reader.h"

namespace sluice::config {
namespace {

using ::testing::HasSubstr;

struct Expected {
  int line;
  int column;
  std::string path;
  std::string message;  // a substring of the message
};

struct Case {
  std::string name;
  std::string yaml;
  std::vector<Expected> errors;
};

// Lines 1-3 of most cases.
constexpr char kHead[] =
    "dataplane:\n"
    "  ports:\n"
    "    - { name: p0, device: net_null0, address: 10.0.0.2/24 }\n";

// kHead, then a service on lines 4-10 with `line7` as line 7 (below "vip") and the
// backend list item as line 10.
std::string WithService(const std::string& line7, const std::string& backend) {
  return std::string(kHead) +
         "services:\n"
         "  - name: web\n"
         "    vip: 10.0.100.1\n" +
         line7 + "\n" +
         "    forwarding: dr\n"
         "    backends:\n"
         "      - " +
         backend + "\n";
}
std::string WithBackend(const std::string& backend) { return WithService("    port: 80", backend); }

const std::string kService =  // lines 4-10
    "services:\n"
    "  - name: web\n"
    "    vip: 10.0.100.1\n"
    "    port: 80\n"
    "    forwarding: dr\n"
    "    backends:\n"
    "      - { address: 10.0.0.11 }\n";

std::string Nested(int depth) {
  return "dataplane: " + std::string(depth, '[') + std::string(depth, ']') + "\n";
}

std::vector<Case> Cases() {
  return {
      // --- the file as a whole
      {"EmptyFile", "", {{1, 1, "<document>", "the file is empty"}}},
      {"TopLevelSequence", "- a\n- b\n", {{1, 1, "<document>", "expected a mapping"}}},
      {"YamlSyntaxError",
       "dataplane:\n  ports: [ { name: p0 }\n",
       {{3, 1, "<document>", "invalid YAML: end of sequence flow not found"}}},
      {"TabIndentation",
       "dataplane:\n\tports: []\n",
       {{2, 7, "<document>", "invalid YAML: illegal map value"}}},
      {"TwoDocuments",
       "a: 1\n---\nb: 2\n",
       {{1, 1, "<document>", "the file holds 2 YAML documents"}}},
      // The root mapping is level 1, so the 32nd '[' (column 12 + 31) opens level 33.
      {"NestingBomb", Nested(40), {{1, 43, "<document>", "nested deeper than 32 levels"}}},
      {"NulByte",
       std::string("dataplane:\n  wor\0kers: 1\n", 24),
       {{2, 6, "<document>", "binary data (byte 0x00)"}}},
      {"Latin1Byte",
       "dataplane:\n  # caf\xe9\n",
       {{2, 8, "<document>", "not valid UTF-8 (byte 0xe9)"}}},
      {"OverlongUtf8", "a: \xc0\xaf\n", {{1, 4, "<document>", "not valid UTF-8 (byte 0xc0)"}}},
      {"Utf16Surrogate",
       "a: \xed\xa0\x80\n",
       {{1, 4, "<document>", "not valid UTF-8 (byte 0xed)"}}},
      // --- required sections
      {"MissingDataplane", kService, {{1, 1, "dataplane", "missing required key 'dataplane'"}}},
      {"MissingServices", kHead, {{1, 1, "services", "missing required key 'services'"}}},
      {"EmptyServices",
       std::string(kHead) + "services: []\n",
       {{4, 11, "services", "needs at least 1 item"}}},
      {"NullDataplane", "dataplane:\n" + kService, {{1, 1, "dataplane", "missing value"}}},
      {"EmptyPorts",
       "dataplane:\n  ports: []\n" + kService,
       {{2, 10, "dataplane.ports", "needs at least 1 item"}}},
      {"MissingBackends",
       std::string(kHead) +
           "services:\n  - { name: web, vip: 10.0.100.1, port: 80, forwarding: dr }\n",
       {{5, 5, "services[0].backends", "missing required key 'backends'"}}},
      {"MissingForwarding",
       std::string(kHead) + "services:\n  - { name: web, vip: 10.0.100.1, port: 80, backends: "
                            "[{address: 10.0.0.11}] }\n",
       {{5, 5, "services[0].forwarding", "missing required key 'forwarding'"}}},
      {"MissingBackendAddress",
       WithBackend("{ port: 80 }"),
       {{10, 9, "services[0].backends[0].address", "missing required key 'address'"}}},
      // --- unknown and repeated keys
      {"UnknownTopLevelKey",
       std::string(kHead) + "servics:\n  - name: web\n",
       {{1, 1, "services", "missing required key 'services'"},
        {4, 1, "servics", "unknown key 'servics'; did you mean 'services'?"}}},
      {"UnknownBackendKey",
       WithBackend("{ address: 10.0.0.11, wieght: 5 }"),
       {{10, 31, "services[0].backends[0].wieght",
         "unknown key 'wieght'; did you mean 'weight'?"}}},
      {"UnknownKeyWithoutSuggestion",
       WithBackend("{ address: 10.0.0.11, colour: red }"),
       {{10, 31, "services[0].backends[0].colour", "unknown key 'colour'"}}},
      {"DuplicateKey",
       WithService("    port: 80\n    vip: 10.0.100.2", "{ address: 10.0.0.11 }"),
       {{8, 5, "services[0].vip", "duplicate key 'vip' (first at line 6, column 5)"}}},
      {"NonScalarKey",
       std::string(kHead) + "? [a]\n: b\n" + kService,
       {{4, 3, "", "mapping keys must be plain words"}}},
      // --- wrong types
      {"PortsIsScalar",
       "dataplane:\n  ports: p0\n" + kService,
       {{2, 10, "dataplane.ports", "expected a sequence, got a scalar"}}},
      {"ServiceIsScalar",
       std::string(kHead) + "services:\n  - web\n",
       {{5, 5, "services[0]", "expected a mapping, got a scalar"}}},
      {"WorkersNotANumber",
       "dataplane:\n  workers: two\n  ports: [{ name: p0, device: d, address: 10.0.0.2/24 }]\n" +
           kService,
       {{2, 12, "dataplane.workers", "expected an integer in [1, 128], got 'two'"}}},
      {"EalItemIsMapping",
       "dataplane:\n  eal: [{ a: b }]\n  ports: [{ name: p0, device: d, address: 10.0.0.2/24 }]\n" +
           kService,
       {{2, 9, "dataplane.eal[0]", "expected a scalar value, got a mapping"}}},
      {"DrainNotBoolean",
       WithBackend("{ address: 10.0.0.11, drain: yes }"),
       {{10, 38, "services[0].backends[0].drain", "expected true or false, got 'yes'"}}},
      // --- ranges
      {"WorkersZero",
       "dataplane:\n  workers: 0\n  ports: [{ name: p0, device: d, address: 10.0.0.2/24 }]\n" +
           kService,
       {{2, 12, "dataplane.workers", "expected an integer in [1, 128], got '0'"}}},
      {"ServicePortZero",
       WithService("    port: 0", "{ address: 10.0.0.11 }"),
       {{7, 11, "services[0].port", "expected an integer in [1, 65535], got '0'"}}},
      {"ServicePortTooBig",
       WithService("    port: 65536", "{ address: 10.0.0.11 }"),
       {{7, 11, "services[0].port", "expected an integer in [1, 65535], got '65536'"}}},
      {"ServicePortWithJunk",
       WithService("    port: 80x", "{ address: 10.0.0.11 }"),
       {{7, 11, "services[0].port", "got '80x'"}}},
      {"WeightTooBig",
       WithBackend("{ address: 10.0.0.11, weight: 65536 }"),
       {{10, 39, "services[0].backends[0].weight",
         "expected an integer in [0, 65535], got '65536'"}}},
      {"WeightNegative",
       WithBackend("{ address: 10.0.0.11, weight: -1 }"),
       {{10, 39, "services[0].backends[0].weight", "expected an integer in [0, 65535], got '-1'"}}},
      {"MtuTooBig",
       "dataplane:\n  ports: [{ name: p0, device: d, address: 10.0.0.2/24, mtu: 70000 }]\n" +
           kService,
       {{2, 61, "dataplane.ports[0].mtu", "expected an integer in [576, 9216], got '70000'"}}},
      {"FlowCapacityTooSmall",
       std::string(kHead) + "  flow_table: { capacity: 10 }\n" + kService,
       {{4, 27, "dataplane.flow_table.capacity", "expected an integer in [1024, 134217728]"}}},
      // --- malformed values
      {"MalformedVip",
       std::string(kHead) +
           "services:\n  - { name: s, vip: 10.0.100.300, port: 80, forwarding: dr,\n"
           "      backends: [{ address: 10.0.0.11 }] }\n",
       {{5, 21, "services[0].vip", "malformed IP address '10.0.100.300'"}}},
      {"MalformedBackendAddress",
       WithBackend("{ address: 10.0.0.11.5 }"),
       {{10, 20, "services[0].backends[0].address", "malformed IP address '10.0.0.11.5'"}}},
      {"PrefixWithoutLength",
       "dataplane:\n  ports: [{ name: p0, device: d, address: 10.0.0.2 }]\n" + kService,
       {{2, 43, "dataplane.ports[0].address", "malformed prefix '10.0.0.2'"}}},
      {"V6PrefixAsAddress",
       "dataplane:\n  ports: [{ name: p0, device: d, address: fd00::2/64 }]\n" + kService,
       {{2, 43, "dataplane.ports[0].address", "expected an IPv4 prefix, got 'fd00::2/64'"}}},
      {"MalformedMac",
       std::string(kHead) + "  neighbors: [{ address: 10.0.0.11, mac: 02:00:00:00:11 }]\n" +
           kService,
       {{4, 42, "dataplane.neighbors[0].mac", "malformed MAC address '02:00:00:00:11'"}}},
      {"MulticastMac",
       std::string(kHead) + "  neighbors: [{ address: 10.0.0.11, mac: \"01:00:5e:00:00:01\" }]\n" +
           kService,
       {{4, 42, "dataplane.neighbors[0].mac", "is not a unicast address"}}},
      {"DurationWithoutUnit",
       std::string(kHead) + "  flow_table: { tcp_timeout: 300 }\n" + kService,
       {{4, 30, "dataplane.flow_table.tcp_timeout", "malformed duration '300'"}}},
      {"DurationWord",
       std::string(kHead) + "  flow_table: { udp_timeout: fast }\n" + kService,
       {{4, 30, "dataplane.flow_table.udp_timeout", "malformed duration 'fast'"}}},
      {"DurationNegative",
       std::string(kHead) + "  flow_table: { udp_timeout: -5s }\n" + kService,
       {{4, 30, "dataplane.flow_table.udp_timeout", "malformed duration '-5s'"}}},
      {"IntervalTooShort",
       WithService("    port: 80\n    health_check: { interval: 10ms }", "{ address: 10.0.0.11 }"),
       {{8, 31, "services[0].health_check.interval",
         "duration '10ms' is out of range [100ms, 1h]"}}},
      {"BadListenAddress",
       std::string(kHead) + "metrics: { listen: localhost:9750 }\n" + kService,
       {{4, 20, "metrics.listen", "malformed listen address 'localhost:9750'"}}},
      {"PerBackendNotBool",
       std::string(kHead) + "metrics: { per_backend: yes }\n" + kService,
       {{4, 25, "metrics.per_backend", "expected true or false, got 'yes'"}}},
      {"RelativeSocketPath",
       std::string(kHead) + "control: { socket: sluice.sock }\n" + kService,
       {{4, 20, "control.socket", "expected an absolute path"}}},
      {"GroupWithSpace",
       std::string(kHead) + "control: { group: sluice ops }\n" + kService,
       {{4, 19, "control.group", "invalid name 'sluice ops'"}}},
      {"NameWithSpace",
       std::string(kHead) + "services:\n  - name: web server\n    vip: 10.0.100.1\n"
                            "    port: 80\n    forwarding: dr\n"
                            "    backends: [{ address: 10.0.0.11 }]\n",
       {{5, 11, "services[0].name", "invalid name 'web server'"}}},
      // --- enums
      {"UnknownProtocol",
       WithService("    port: 80\n    protocol: sctp", "{ address: 10.0.0.11 }"),
       {{8, 15, "services[0].protocol", "unknown protocol 'sctp'; expected one of: tcp, udp"}}},
      {"UnknownForwarding",
       std::string(kHead) +
           "services:\n  - { name: s, vip: 10.0.100.1, port: 80, forwarding: drr,\n"
           "      backends: [{ address: 10.0.0.11 }] }\n",
       {{5, 55, "services[0].forwarding",
         "unknown forwarding mode 'drr'; expected one of: dr, tunnel, nat; did you mean 'dr'?"}}},
      {"UnknownScheduler",
       WithService("    port: 80\n    scheduler: wrr", "{ address: 10.0.0.11 }"),
       {{8, 16, "services[0].scheduler", "unknown scheduler 'wrr'; expected one of: maglev"}}},
      {"UnknownCheckType",
       WithService("    port: 80\n    health_check: { type: htp }", "{ address: 10.0.0.11 }"),
       {{8, 27, "services[0].health_check.type", "did you mean 'http'?"}}},
      // --- health checks
      {"TimeoutNotBelowInterval",
       WithService("    port: 80\n    health_check: { interval: 1s, timeout: 1s }",
                   "{ address: 10.0.0.11 }"),
       {{8, 44, "services[0].health_check.timeout", "timeout 1s must be below interval 1s"}}},
      {"RiseZero",
       WithService("    port: 80\n    health_check: { rise: 0 }", "{ address: 10.0.0.11 }"),
       {{8, 27, "services[0].health_check.rise", "expected an integer in [1, 100], got '0'"}}},
      {"FallZero",
       WithService("    port: 80\n    health_check: { fall: 0 }", "{ address: 10.0.0.11 }"),
       {{8, 27, "services[0].health_check.fall", "expected an integer in [1, 100], got '0'"}}},
      {"HttpPathOnTcpCheck",
       WithService("    port: 80\n    health_check: { type: tcp, path: /x }",
                   "{ address: 10.0.0.11 }"),
       {{8, 38, "services[0].health_check.path",
         "'path' applies only to http health checks, not tcp"}}},
      {"HttpPathWithoutSlash",
       WithService("    port: 80\n    health_check: { type: http, path: healthz }",
                   "{ address: 10.0.0.11 }"),
       {{8, 39, "services[0].health_check.path", "must start with '/'"}}},
      {"ExpectStatusOutOfRange",
       WithService("    port: 80\n    health_check: { type: http, expect_status: 99 }",
                   "{ address: 10.0.0.11 }"),
       {{8, 48, "services[0].health_check.expect_status",
         "expected a status in [100, 599] or a range LOW-HIGH of them, got '99'"}}},
      {"HealthStatusRangeReversed",
       WithService("    port: 80\n    health_check: { type: http, expect_status: 399-200 }",
                   "{ address: 10.0.0.11 }"),
       {{8, 48, "services[0].health_check.expect_status", "got '399-200'"}}},
      {"HealthBodyOnTcp",
       WithService("    port: 80\n    health_check: { type: tcp, body: ok }",
                   "{ address: 10.0.0.11 }"),
       {{8, 38, "services[0].health_check.body",
         "'body' applies only to http health checks, not tcp"}}},
      {"HealthPayloadOnHttp",
       WithService("    port: 80\n    health_check: { type: http, payload: x }",
                   "{ address: 10.0.0.11 }"),
       {{8, 42, "services[0].health_check.payload",
         "'payload' applies only to udp health checks, not http"}}},
      {"HealthTcpModeOnHttp",
       WithService("    port: 80\n    health_check: { type: http, tcp_mode: syn }",
                   "{ address: 10.0.0.11 }"),
       {{8, 43, "services[0].health_check.tcp_mode",
         "'tcp_mode' applies only to tcp health checks, not http"}}},
      {"HealthTcpModeUnknown",
       WithService("    port: 80\n    health_check: { tcp_mode: half }", "{ address: 10.0.0.11 }"),
       {{8, 31, "services[0].health_check.tcp_mode", "unknown tcp check mode 'half'"}}},
      {"HealthAssumeUnknown",
       WithService("    port: 80\n    health_check: { assume: maybe }", "{ address: 10.0.0.11 }"),
       {{8, 29, "services[0].health_check.assume", "unknown initial health 'maybe'"}}},
      // --- uniqueness
      {"DuplicateService",
       kHead + kService +
           "  - { name: web2, vip: 10.0.100.1, port: 80, forwarding: dr, "
           "backends: [{ address: 10.0.0.12 }] }\n",
       {{11, 5, "services[1]",
         "duplicate service 10.0.100.1 port 80/tcp (first defined by services[0])"}}},
      {"DuplicateServiceName",
       kHead + kService +
           "  - { name: web, vip: 10.0.100.2, port: 80, forwarding: dr, "
           "backends: [{ address: 10.0.0.12 }] }\n",
       {{11, 13, "services[1].name", "duplicate service name 'web'"}}},
      {"DuplicateBackend",
       WithBackend("{ address: 10.0.0.11 }\n      - { address: 10.0.0.11, port: 80 }"),
       {{11, 20, "services[0].backends[1].address",
         "duplicate backend 10.0.0.11 port 80 (first at services[0].backends[0])"}}},
      {"DuplicatePortName",
       "dataplane:\n  ports:\n    - { name: p0, device: a, address: 10.0.0.2/24 }\n"
       "    - { name: p0, device: b, address: 10.9.0.2/24 }\n" +
           kService,
       {{4, 15, "dataplane.ports[1].name", "duplicate port name 'p0'"}}},
      // --- address families and forwarding modes
      {"V6BackendForV4VipInDr",
       WithBackend("{ address: \"fd00::11\" }"),
       {{10, 20, "services[0].backends[0].address",
         "IPv6 backend fd00::11 cannot serve IPv4 VIP 10.0.100.1 in dr mode (only tunnel mode "
         "carries IPv4 to IPv6 backends)"}}},
      {"V6BackendForV4VipInNat",
       std::string(kHead) +
           "services:\n  - { name: s, vip: 10.0.100.1, port: 80, forwarding: nat,\n"
           "      backends: [{ address: \"fd00::11\" }] }\n",
       {{6, 29, "services[0].backends[0].address",
         "IPv6 backend fd00::11 cannot serve IPv4 VIP 10.0.100.1 in nat mode"}}},
      {"V4BackendForV6VipInTunnel",
       "dataplane:\n  ports: [{ name: p0, device: d, address: 10.0.0.2/24, address6: fd00::2/64 "
       "}]\n"
       "services:\n  - { name: s, vip: \"fd00:100::1\", port: 80, forwarding: tunnel,\n"
       "      backends: [{ address: 10.0.0.11 }] }\n",
       {{5, 29, "services[0].backends[0].address",
         "IPv4 backend 10.0.0.11 cannot serve IPv6 VIP fd00:100::1 in tunnel mode"}}},
      {"BackendPortDiffersInDr",
       WithBackend("{ address: 10.0.0.11, port: 8080 }"),
       {{10, 37, "services[0].backends[0].port",
         "backend port 8080 differs from the service port 80; dr mode does not rewrite ports"}}},
      {"BackendPortDiffersInTunnel",
       std::string(kHead) + "services:\n  - { name: s, vip: 10.0.100.1, port: 53, protocol: udp, "
                            "forwarding: tunnel,\n"
                            "      backends: [{ address: 10.0.0.11, port: 5353 }] }\n",
       {{6, 46, "services[0].backends[0].port", "tunnel mode does not rewrite ports"}}},
      {"DrBackendNotOnLink",
       WithBackend("{ address: 10.5.0.11 }"),
       {{10, 20, "services[0].backends[0].address",
         "dr backend 10.5.0.11 is not on the subnet of any port"}}},
      {"NatBackendWithoutRoute",
       std::string(kHead) +
           "services:\n  - { name: s, vip: 10.0.100.1, port: 80, forwarding: nat,\n"
           "      backends: [{ address: 10.5.0.11, port: 8080 }] }\n",
       {{6, 29, "services[0].backends[0].address", "no route to backend 10.5.0.11"}}},
      {"VipIsPortAddress",
       std::string(kHead) + "services:\n  - { name: s, vip: 10.0.0.2, port: 80, forwarding: dr,\n"
                            "      backends: [{ address: 10.0.0.11 }] }\n",
       {{5, 21, "services[0].vip", "VIP 10.0.0.2 is the address of port 'p0'"}}},
      {"NatWithMoreThanEightPorts",
       "dataplane:\n  ports:\n"
       "    - { name: p0, device: d0, address: 10.0.0.2/24 }\n"
       "    - { name: p1, device: d1, address: 10.0.1.2/24 }\n"
       "    - { name: p2, device: d2, address: 10.0.2.2/24 }\n"
       "    - { name: p3, device: d3, address: 10.0.3.2/24 }\n"
       "    - { name: p4, device: d4, address: 10.0.4.2/24 }\n"
       "    - { name: p5, device: d5, address: 10.0.5.2/24 }\n"
       "    - { name: p6, device: d6, address: 10.0.6.2/24 }\n"
       "    - { name: p7, device: d7, address: 10.0.7.2/24 }\n"
       "    - { name: p8, device: d8, address: 10.0.8.2/24 }\n"
       "services:\n  - { name: s, vip: 10.9.0.1, port: 80, forwarding: nat,\n"
       "      backends: [{ address: 10.0.0.11, port: 8080 }] }\n",
       {{13, 53, "services[0].forwarding",
         "nat services need at most 8 ports; this config has 9"}}},
      {"NatIsIpv4Only",
       "dataplane:\n  ports: [{ name: p0, device: d, address: 10.0.0.2/24, address6: fd00::2/64 "
       "}]\n"
       "services:\n  - { name: s, vip: \"fd00:100::1\", port: 80, forwarding: nat,\n"
       "      backends: [{ address: \"fd00::11\", port: 8080 }] }\n",
       {{5, 29, "services[0].backends[0].address", "nat is IPv4 only"}}},
      {"V6VipWithoutV6Port",
       std::string(kHead) +
           "services:\n  - { name: s, vip: \"fd00:100::1\", port: 80, forwarding: tunnel,\n"
           "      backends: [{ address: \"fd00::11\" }] }\n",
       {{5, 21, "services[0].vip", "VIP fd00:100::1 is IPv6 but no port has an IPv6 address"},
        {6, 29, "services[0].backends[0].address", "no route to backend fd00::11"}}},
      {"TableSizeNotPrime",
       WithService("    port: 80\n    table_size: 65536", "{ address: 10.0.0.11 }"),
       {{8, 17, "services[0].table_size",
         "Maglev table size 65536 is not prime; nearest primes are 65521 and 65537"}}},
      {"TableSizeBelowBackends",
       std::string(kHead) +
           "services:\n  - { name: s, vip: 10.0.100.1, port: 80, forwarding: dr, table_size: 7,\n"
           "      backends: [{address: 10.0.0.11}, {address: 10.0.0.12}, {address: 10.0.0.13},\n"
           "                 {address: 10.0.0.14}, {address: 10.0.0.15}, {address: 10.0.0.16},\n"
           "                 {address: 10.0.0.17}, {address: 10.0.0.18}] }\n",
       {{5, 71, "services[0].table_size",
         "Maglev table size 7 is smaller than the number of backends (8)"}}},
      // --- ports, routes, neighbours
      {"PortWithoutAddress",
       "dataplane:\n  ports: [{ name: p0, device: d }]\n" + kService,
       {{2, 11, "dataplane.ports[0]", "a port needs 'address' (IPv4) or 'address6' (IPv6)"},
        {5, 10, "services[0].vip", "no port has an IPv4 address"},
        {9, 20, "services[0].backends[0].address", "dr backend 10.0.0.11 is not on the subnet"}}},
      {"SmallMtuWithV6",
       "dataplane:\n  ports: [{ name: p0, device: d, address: 10.0.0.2/24, address6: fd00::2/64,"
       " mtu: 1000 }]\n" +
           kService,
       {{2, 83, "dataplane.ports[0].mtu", "MTU 1000 is below 1280"}}},
      {"RoutePortDoesNotExist",
       std::string(kHead) + "  routes: [{ prefix: 0.0.0.0/0, via: 10.0.0.1, port: p1 }]\n" +
           kService,
       {{4, 54, "dataplane.routes[0].port", "no port named 'p1' (ports: p0)"}}},
      {"RoutePortTypo",
       "dataplane:\n  ports: [{ name: uplink, device: d, address: 10.0.0.2/24 }]\n"
       "  routes: [{ prefix: 0.0.0.0/0, via: 10.0.0.1, port: uplnk }]\n" +
           kService,
       {{3, 54, "dataplane.routes[0].port", "no port named 'uplnk'; did you mean 'uplink'?"}}},
      {"RouteFamilyMismatch",
       std::string(kHead) + "  routes: [{ prefix: 0.0.0.0/0, via: \"fd00::1\" }]\n" + kService,
       {{4, 38, "dataplane.routes[0].via",
         "next hop fd00::1 is IPv6 but prefix 0.0.0.0/0 is IPv4"}}},
      {"RouteHostBitsSet",
       std::string(kHead) + "  routes: [{ prefix: 10.8.0.1/16, via: 10.0.0.1 }]\n" + kService,
       {{4, 22, "dataplane.routes[0].prefix",
         "prefix 10.8.0.1/16 has host bits set; did you mean 10.8.0.0/16?"}}},
      {"RouteWithoutViaOrPort",
       std::string(kHead) + "  routes: [{ prefix: 10.8.0.0/16 }]\n" + kService,
       {{4, 12, "dataplane.routes[0]", "a route needs 'via' (a next hop) or 'port'"}}},
      {"RouteViaNotOnLink",
       std::string(kHead) + "  routes: [{ prefix: 0.0.0.0/0, via: 10.9.0.1 }]\n" + kService,
       {{4, 38, "dataplane.routes[0].via", "next hop 10.9.0.1 is not on the subnet of any port"}}},
      {"DuplicateRoute",
       std::string(kHead) +
           "  routes:\n    - { prefix: 0.0.0.0/0, via: 10.0.0.1 }\n"
           "    - { prefix: 0.0.0.0/0, via: 10.0.0.254 }\n" +
           kService,
       {{6, 7, "dataplane.routes[1]", "duplicate route to 0.0.0.0/0 with metric 0"}}},
      {"NeighborPortDoesNotExist",
       std::string(kHead) +
           "  neighbors: [{ address: 10.0.0.11, mac: \"02:00:00:00:00:11\", port: eth0 }]\n" +
           kService,
       {{4, 69, "dataplane.neighbors[0].port", "no port named 'eth0'"}}},
      {"NeighborNotOnLink",
       std::string(kHead) + "  neighbors: [{ address: 10.7.0.11, mac: \"02:00:00:00:00:11\" }]\n" +
           kService,
       {{4, 26, "dataplane.neighbors[0].address",
         "neighbor 10.7.0.11 is not on the subnet of any port"}}},
  };
}

// The reported source line with a caret under the reported column, for failure output.
std::string Pointer(const std::string& yaml, SourceLocation at) {
  size_t begin = 0;
  for (int line = 1; line < at.line && begin != std::string::npos; ++line) {
    begin = yaml.find('\n', begin);
    if (begin != std::string::npos) ++begin;
  }
  if (begin == std::string::npos || begin > yaml.size()) return "(beyond the end)";
  const std::string text = yaml.substr(begin, yaml.find('\n', begin) - begin);
  return text + "\n" + std::string(static_cast<size_t>(std::max(at.column - 1, 0)), ' ') + "^";
}

class LoaderInvalidTest : public ::testing::TestWithParam<Case> {};

TEST_P(LoaderInvalidTest, ReportsExactlyTheseErrors) {
  const Case& c = GetParam();
  std::vector<Diagnostic> got;
  const absl::StatusOr<Config> config = LoadString(c.yaml, "bad.yaml", &got);
  ASSERT_FALSE(config.ok()) << "accepted:\n" << c.yaml;
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  std::string all;
  for (const Diagnostic& d : got) all += d.ToString() + "\n";
  ASSERT_EQ(got.size(), c.errors.size()) << all;
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(got[i].ToString() + "\n" + Pointer(c.yaml, got[i].location));
    EXPECT_EQ(got[i].file, "bad.yaml");
    EXPECT_EQ(got[i].location.line, c.errors[i].line);
    EXPECT_EQ(got[i].location.column, c.errors[i].column);
    EXPECT_EQ(got[i].path, c.errors[i].path);
    EXPECT_THAT(got[i].message, HasSubstr(c.errors[i].message));
    // The status message carries the same lines, in the operator-facing format.
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(got[i].ToString()));
  }
}

INSTANTIATE_TEST_SUITE_P(All, LoaderInvalidTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           return param.param.name;
                         });

TEST(LoaderInvalidCountTest, AtLeastFortyCases) { EXPECT_GE(Cases().size(), 40u); }

TEST(LoaderLimitsTest, AliasExpansionIsBounded) {
  // 200 aliases of a 200-backend pool would be 40000 backends in one service.
  std::string yaml = std::string(kHead) + "pool: &p\n";
  for (int i = 0; i < 200; ++i)
    yaml += absl::StrFormat("  - { address: 10.0.0.%d }\n", i % 250 + 3);
  yaml += "services:\n  - { name: s, vip: 10.0.100.1, port: 80, forwarding: dr, backends: [";
  for (int i = 0; i < 200; ++i) yaml += i == 0 ? "*p" : ", *p";
  yaml += "] }\n";
  std::vector<Diagnostic> got;
  ASSERT_FALSE(LoadString(yaml, "bomb.yaml", &got).ok());
  // Backends must be mappings: each alias of a sequence is rejected without expanding it.
  ASSERT_EQ(got.size(), 201u);
  EXPECT_EQ(got.front().path, "pool");  // an unknown top-level key; anchors live in use
  EXPECT_THAT(got.front().message, HasSubstr("unknown key 'pool'"));
  EXPECT_EQ(got.back().path, "services[0].backends[199]");
  EXPECT_THAT(got.back().message, HasSubstr("expected a mapping, got a sequence"));
}

TEST(LoaderLimitsTest, TooManyServicesAreRefusedUnread) {
  std::string yaml = std::string(kHead) + "services:\n";
  for (size_t i = 0; i <= kMaxBackendsTotal / 8; ++i) yaml += "  - *s\n";
  yaml.insert(yaml.find("services:\n") + 10,
              "  - &s { name: s, vip: 10.0.100.1, port: 80, forwarding: dr, backends: "
              "[{address: 10.0.0.11}] }\n");
  std::vector<Diagnostic> got;
  ASSERT_FALSE(LoadString(yaml, "many.yaml", &got).ok());
  ASSERT_EQ(got.size(), 1u) << got[0].ToString();
  EXPECT_EQ(got[0].path, "services");
  EXPECT_THAT(got[0].message, HasSubstr("at most 4096 are allowed"));
}

TEST(LoaderLimitsTest, HugeMappingIsReportedInBoundedTime) {
  // Hundreds of thousands of unknown keys: no pairwise key comparison, and only the
  // first kMaxDiagnostics errors are kept, then a count.
  std::string yaml;
  for (int i = 0; i < 200000; ++i) yaml += absl::StrFormat("k%d: 1\n", i);
  yaml += "k7: 2\n";  // a repeat of the 8th key, found after all the others
  std::vector<Diagnostic> got;
  ASSERT_FALSE(LoadString(yaml, "wide.yaml", &got).ok());
  ASSERT_EQ(got.size(), kMaxDiagnostics + 1);
  EXPECT_EQ(got[0].ToString(), "wide.yaml:1:1: error: dataplane: missing required key 'dataplane'");
  EXPECT_EQ(got.back().path, "<document>");
  // 200001 keys are wrong and 2 sections missing; kMaxDiagnostics of those were kept.
  EXPECT_EQ(got.back().message,
            absl::StrFormat("%d more errors not shown", 200003 - kMaxDiagnostics));
}

class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    char name[] = "/tmp/sluice-config-XXXXXX";
    const int fd = mkstemp(name);
    path_ = name;
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
    close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LoaderFileTest, OversizedFileIsRefused) {
  const TempFile big(std::string(kMaxConfigBytes + 1, '#'));
  std::vector<Diagnostic> got;
  ASSERT_FALSE(LoadFile(big.path(), &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].ToString(), big.path() + ":1:1: error: <document>: file is larger than " +
                                   std::to_string(kMaxConfigBytes) + " bytes");
}

TEST(LoaderFileTest, EndlessDeviceIsRefusedWithoutReadingItAll) {
  std::vector<Diagnostic> got;
  ASSERT_FALSE(LoadFile("/dev/zero", &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].message, HasSubstr("file is larger than"));
}

TEST(LoaderFileTest, MissingFileAndDirectory) {
  std::vector<Diagnostic> got;
  ASSERT_FALSE(LoadFile("/nonexistent/sluice.yaml", &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].ToString(),
            "/nonexistent/sluice.yaml:1:1: error: <document>: cannot open: No such file or "
            "directory");
  ASSERT_FALSE(LoadFile("/tmp", &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].message, HasSubstr("is a directory"));
}

TEST(LoaderFileTest, BinaryFileIsRefused) {
  const TempFile elf(
      std::string("\x7f"
                  "ELF\x02\x01\x01\0\0\0",
                  10));
  std::vector<Diagnostic> got;
  ASSERT_FALSE(LoadFile(elf.path(), &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].location, (SourceLocation{.line = 1, .column = 1}));
  EXPECT_THAT(got[0].message, HasSubstr("binary data (byte 0x7f)"));
}

TEST(LoaderFileTest, DeepNestingOfEveryKindIsRefusedWithoutCrashing) {
  // Far beyond yaml-cpp's own recursion guard: the depth check must stop it first.
  for (const std::string& yaml : {std::string(1 << 20, '['), std::string(200000, '{') + "a: b", [] {
                                    std::string s;
                                    for (int i = 0; i < 3000; ++i)
                                      s += std::string(static_cast<size_t>(i), ' ') + "- \n";
                                    return s;
                                  }()}) {
    std::vector<Diagnostic> got;
    ASSERT_FALSE(LoadString(yaml, "deep.yaml", &got).ok());
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].path, "<document>");
  }
}

}  // namespace
}  // namespace sluice::config
