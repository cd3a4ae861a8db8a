#include "health/probe_key.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/hash/hash_testing.h"
#include "absl/time/time.h"

namespace sluice::health {
namespace {

std::array<uint8_t, 16> Fd00(uint8_t low) {
  std::array<uint8_t, 16> bytes{};
  bytes[0] = 0xfd;
  bytes[15] = low;
  return bytes;
}

ProbeKey SampleHttp() {
  return HttpProbeKey(AddressFamily::kIpv4, Ipv4Bytes(10, 0, 0, 1), 80, absl::Milliseconds(500),
                      "/healthz", 200, "ok");
}

TEST(ProbeKeyTest, EqualKeysHashEqual) {
  const ProbeKey a = SampleHttp();
  const ProbeKey b = SampleHttp();
  EXPECT_EQ(a, b);
  EXPECT_EQ(absl::Hash<ProbeKey>{}(a), absl::Hash<ProbeKey>{}(b));
}

// Each mutation changes exactly one field of the sample; every one must give a key that
// is neither equal to the sample nor to any other mutation.
TEST(ProbeKeyTest, EveryFieldTakesPartInEqualityAndHash) {
  const std::vector<std::function<void(ProbeKey&)>> mutations = {
      [](ProbeKey& k) { k.type = ProbeType::kTcp; },
      [](ProbeKey& k) { k.type = ProbeType::kUdp; },
      [](ProbeKey& k) { k.family = AddressFamily::kIpv6; },
      [](ProbeKey& k) { k.address[3] = 2; },
      [](ProbeKey& k) { k.address[0] = 192; },
      [](ProbeKey& k) { k.address[15] = 1; },  // beyond the IPv4 bytes: still a field
      [](ProbeKey& k) { k.port = 81; },
      [](ProbeKey& k) { k.timeout = absl::Milliseconds(501); },
      [](ProbeKey& k) { k.timeout = absl::Milliseconds(500) + absl::Nanoseconds(1); },
      [](ProbeKey& k) { k.http_path = "/health"; },
      [](ProbeKey& k) { k.http_path = "/healthz/"; },
      [](ProbeKey& k) { k.http_expect_status = 204; },
      [](ProbeKey& k) { k.http_body_substring = "OK"; },
      [](ProbeKey& k) { k.http_body_substring = ""; },
      [](ProbeKey& k) { k.udp_payload = std::string("\0", 1); },
      [](ProbeKey& k) { k.udp_payload = "ping"; },
  };
  std::vector<ProbeKey> keys = {SampleHttp()};
  for (const auto& mutate : mutations) {
    ProbeKey key = SampleHttp();
    mutate(key);
    keys.push_back(std::move(key));
  }
  absl::flat_hash_set<size_t> hashes;
  for (size_t i = 0; i < keys.size(); ++i) {
    for (size_t j = 0; j < keys.size(); ++j) {
      EXPECT_EQ(keys[i] == keys[j], i == j) << i << " vs " << j;
    }
    hashes.insert(absl::Hash<ProbeKey>{}(keys[i]));
  }
  EXPECT_EQ(hashes.size(), keys.size());
  // And the hash is consistent with == in absl's own sense (including string boundaries).
  EXPECT_TRUE(absl::VerifyTypeImplementsAbslHashCorrectly(keys));
}

TEST(ProbeKeyTest, StringFieldsDoNotRunTogetherInTheHash) {
  ProbeKey a = SampleHttp();
  ProbeKey b = SampleHttp();
  a.http_path = "/a";
  a.http_body_substring = "bc";
  b.http_path = "/ab";
  b.http_body_substring = "c";
  EXPECT_NE(a, b);
  EXPECT_NE(absl::Hash<ProbeKey>{}(a), absl::Hash<ProbeKey>{}(b));
}

TEST(ProbeKeyTest, SameCheckFromSeveralServicesDeduplicates) {
  absl::flat_hash_set<ProbeKey> probes;
  // Three services check 10.0.0.1:80 the same way, a fourth uses another path, a fifth
  // checks plain TCP, a sixth the same over IPv6.
  for (int service = 0; service < 3; ++service) probes.insert(SampleHttp());
  probes.insert(HttpProbeKey(AddressFamily::kIpv4, Ipv4Bytes(10, 0, 0, 1), 80,
                             absl::Milliseconds(500), "/", 200, "ok"));
  probes.insert(
      TcpProbeKey(AddressFamily::kIpv4, Ipv4Bytes(10, 0, 0, 1), 80, absl::Milliseconds(500)));
  probes.insert(
      TcpProbeKey(AddressFamily::kIpv4, Ipv4Bytes(10, 0, 0, 1), 80, absl::Milliseconds(500)));
  probes.insert(TcpProbeKey(AddressFamily::kIpv6, Fd00(1), 80, absl::Milliseconds(500)));
  EXPECT_EQ(probes.size(), 4u);
  EXPECT_TRUE(probes.contains(SampleHttp()));
}

TEST(ProbeKeyTest, HelpersLeaveUnusedFieldsAtTheirDefaults) {
  const ProbeKey tcp =
      TcpProbeKey(AddressFamily::kIpv4, Ipv4Bytes(10, 0, 0, 1), 80, absl::Seconds(1));
  ProbeKey expected;
  expected.type = ProbeType::kTcp;
  expected.family = AddressFamily::kIpv4;
  expected.address = {10, 0, 0, 1};
  expected.port = 80;
  expected.timeout = absl::Seconds(1);
  EXPECT_EQ(tcp, expected);

  const ProbeKey udp = UdpProbeKey(AddressFamily::kIpv6, Fd00(2), 53, absl::Seconds(1), "payload");
  EXPECT_EQ(udp.type, ProbeType::kUdp);
  EXPECT_EQ(udp.udp_payload, "payload");
  EXPECT_EQ(udp.http_path, "");
  EXPECT_EQ(udp.http_expect_status, 0u);
  EXPECT_EQ(udp.http_body_substring, "");
}

TEST(ProbeKeyTest, SameBytesInAnotherFamilyIsAnotherKey) {
  // 10.0.0.1 in the first four bytes read as IPv6 is a0:1::, a different host.
  const ProbeKey v4 =
      TcpProbeKey(AddressFamily::kIpv4, Ipv4Bytes(10, 0, 0, 1), 80, absl::Seconds(1));
  const ProbeKey v6 =
      TcpProbeKey(AddressFamily::kIpv6, Ipv4Bytes(10, 0, 0, 1), 80, absl::Seconds(1));
  EXPECT_NE(v4, v6);
  EXPECT_NE(v4.ToString(), v6.ToString());
}

TEST(ProbeKeyTest, SynAndConnectChecksAreDifferentProbes) {
  const ProbeKey connect =
      TcpProbeKey(AddressFamily::kIpv4, Ipv4Bytes(10, 0, 0, 1), 80, absl::Seconds(1));
  const ProbeKey syn =
      TcpSynProbeKey(AddressFamily::kIpv4, Ipv4Bytes(10, 0, 0, 1), 80, absl::Seconds(1));
  EXPECT_NE(connect, syn);
  EXPECT_NE(absl::HashOf(connect), absl::HashOf(syn));
  EXPECT_EQ(syn,
            TcpSynProbeKey(AddressFamily::kIpv4, Ipv4Bytes(10, 0, 0, 1), 80, absl::Seconds(1)));
  EXPECT_EQ(syn.ToString(), "tcp-syn 10.0.0.1:80 timeout=1s");
}

TEST(ProbeKeyTest, ToStringForLogs) {
  EXPECT_EQ(TcpProbeKey(AddressFamily::kIpv4, Ipv4Bytes(10, 0, 0, 1), 8080, absl::Milliseconds(250))
                .ToString(),
            "tcp 10.0.0.1:8080 timeout=250ms");
  EXPECT_EQ(SampleHttp().ToString(),
            "http 10.0.0.1:80 timeout=500ms path=\"/healthz\" expect=200 body=\"ok\"");
  EXPECT_EQ(HttpProbeKey(AddressFamily::kIpv6, Fd00(1), 443, absl::Seconds(2), "/", 204).ToString(),
            "http [fd00::1]:443 timeout=2s path=\"/\" expect=204");
  EXPECT_EQ(UdpProbeKey(AddressFamily::kIpv4, Ipv4Bytes(192, 0, 2, 7), 53, absl::Milliseconds(100),
                        std::string("\x01\x00q\"", 4))
                .ToString(),
            "udp 192.0.2.7:53 timeout=100ms payload=\"\\x01\\x00q\\\"\"");
}

TEST(ProbeKeyTest, ToStringShowsFieldsTheTypeIgnoresWhenSet) {
  ProbeKey tcp = TcpProbeKey(AddressFamily::kIpv4, Ipv4Bytes(10, 0, 0, 1), 80, absl::Seconds(1));
  ProbeKey odd = tcp;
  odd.http_path = "/x";
  odd.udp_payload = "p";
  EXPECT_NE(tcp, odd);
  EXPECT_EQ(odd.ToString(), "tcp 10.0.0.1:80 timeout=1s path=\"/x\" payload=\"p\"");
}

}  // namespace
}  // namespace sluice::health
