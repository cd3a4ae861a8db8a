// FragmentTable: later fragments find what was remembered for the first one, entries
// expire after their lifetime (also across the 32-bit clock wrap), a newer datagram in
// the same slot evicts the older one, and IPv4 and IPv6 keys never match each other.
// Tables of one slot force every key into the same slot, so that a miss there can only
// come from the key comparison, not from the hash.
#include "dataplane/fragment_table.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace sluice::dataplane {
namespace {

FragmentKey V4(uint32_t id, uint8_t last_src_byte = 1, uint8_t proto = 17) {
  FragmentKey key;
  key.ipv6 = false;
  key.ip_proto = proto;
  key.id = id;
  key.src = {10, 0, 0, last_src_byte};
  key.dst = {192, 0, 2, 10};
  return key;
}

FragmentKey V6(uint32_t id) {
  FragmentKey key;
  key.ipv6 = true;
  key.ip_proto = 17;
  key.id = id;
  key.src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  key.dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
  return key;
}

TEST(FragmentTableTest, FindReturnsWhatWasRemembered) {
  FragmentTable table(1024);
  table.Remember(V4(7), 42, 1000);
  uint64_t value = 0;
  ASSERT_TRUE(table.Find(V4(7), 1000, &value));
  EXPECT_EQ(value, 42u);
  EXPECT_FALSE(table.Find(V4(8), 1000, &value));        // other id
  EXPECT_FALSE(table.Find(V4(7, 2), 1000, &value));     // other source
  EXPECT_FALSE(table.Find(V4(7, 1, 6), 1000, &value));  // other protocol
  // Remembering the same datagram again replaces its value and its time.
  table.Remember(V4(7), 43, 5000);
  ASSERT_TRUE(table.Find(V4(7), 6000, &value));
  EXPECT_EQ(value, 43u);
}

TEST(FragmentTableTest, KeysDifferingOnlyInOneFieldDoNotMatchInTheSameSlot) {
  FragmentTable table(1);
  uint64_t value = 0;
  table.Remember(V4(7), 1, 0);
  EXPECT_FALSE(table.Find(V4(8), 0, &value));
  EXPECT_FALSE(table.Find(V4(7, 2), 0, &value));
  EXPECT_FALSE(table.Find(V4(7, 1, 6), 0, &value));
  FragmentKey other_dst = V4(7);
  other_dst.dst[3] = 11;
  EXPECT_FALSE(table.Find(other_dst, 0, &value));
  EXPECT_TRUE(table.Find(V4(7), 0, &value));
}

TEST(FragmentTableTest, EntriesExpireAfterTheirLifetime) {
  FragmentTable table(64, 2000);
  table.Remember(V4(1), 5, 1000);
  uint64_t value = 0;
  EXPECT_TRUE(table.Find(V4(1), 3000, &value));   // exactly 2000 ms old
  EXPECT_FALSE(table.Find(V4(1), 3001, &value));  // older than the lifetime
  // Wrap-safe: remembered 256 ms before the clock wraps, found 512 ms later.
  table.Remember(V4(2), 6, 0xffffff00u);
  EXPECT_TRUE(table.Find(V4(2), 0x100u, &value));
  EXPECT_EQ(value, 6u);
  EXPECT_FALSE(table.Find(V4(2), 0xffffff00u + 2001u, &value));
}

TEST(FragmentTableTest, NewerDatagramInTheSameSlotEvictsTheOlder) {
  FragmentTable table(1);
  uint64_t value = 0;
  table.Remember(V4(1), 100, 0);
  table.Remember(V4(2), 200, 1);
  EXPECT_FALSE(table.Find(V4(1), 2, &value)) << "the evicted datagram must miss";
  ASSERT_TRUE(table.Find(V4(2), 2, &value));
  EXPECT_EQ(value, 200u);

  // The same in a larger table: find two ids that share a slot, check the other slots
  // are unaffected.
  FragmentTable big(64);
  for (uint32_t id = 0; id < 64; ++id) big.Remember(V4(id), id, 0);
  uint32_t found = 0;
  for (uint32_t id = 0; id < 64; ++id) {
    if (big.Find(V4(id), 0, &value)) {
      EXPECT_EQ(value, id);
      ++found;
    }
  }
  // 64 keys in 64 slots: some collide (else the test would not exercise eviction), the
  // last writer of each occupied slot survives.
  EXPECT_LT(found, 64u);
  EXPECT_GT(found, 0u);
}

TEST(FragmentTableTest, Ipv4AndIpv6KeysWithTheSameBytesNeverMatch) {
  FragmentTable table(1);
  FragmentKey v4 = V4(9);
  FragmentKey v6 = v4;
  v6.ipv6 = true;
  uint64_t value = 0;
  table.Remember(v4, 4, 0);
  EXPECT_FALSE(table.Find(v6, 0, &value));
  table.Remember(v6, 6, 0);
  EXPECT_FALSE(table.Find(v4, 0, &value));
  ASSERT_TRUE(table.Find(v6, 0, &value));
  EXPECT_EQ(value, 6u);

  // An IPv6 key is compared on all 16 bytes.
  table.Remember(V6(3), 7, 0);
  FragmentKey last_byte = V6(3);
  last_byte.src[15] = 2;
  EXPECT_FALSE(table.Find(last_byte, 0, &value));
  EXPECT_TRUE(table.Find(V6(3), 0, &value));
}

TEST(FragmentTableTest, Ipv4KeysIgnoreBytesPastTheAddress) {
  FragmentTable table(16);
  table.Remember(V4(5), 55, 0);
  FragmentKey noisy = V4(5);
  noisy.src[4] = 0xaa;
  noisy.dst[15] = 0xbb;
  uint64_t value = 0;
  ASSERT_TRUE(table.Find(noisy, 0, &value));
  EXPECT_EQ(value, 55u);
}

TEST(FragmentTableTest, SlotCountIsRoundedUpToAPowerOfTwo) {
  EXPECT_EQ(FragmentTable(100).slots(), 128u);
  EXPECT_EQ(FragmentTable(128).slots(), 128u);
  EXPECT_EQ(FragmentTable(0).slots(), 1u);
}

}  // namespace
}  // namespace sluice::dataplane
