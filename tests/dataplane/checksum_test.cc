// dataplane/checksum.h against the independent reference in packet_reference.h: full sums
// of odd and even lengths, the pseudo-header sums, and RFC 1624 incremental updates that
// must equal a full recomputation bit for bit, including results of 0x0000 and 0xffff.
#include "dataplane/checksum.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "tests/dataplane/packet_reference.h"

namespace sluice::dataplane {
namespace {

using pkt::Be16;
using pkt::Bytes;
using pkt::Pattern;
using pkt::PutBe16;
using pkt::RefChecksumOf;
using pkt::RefFinish;
using pkt::RefSum;

// The stored field read as the big-endian number the reference computes.
uint16_t StoredAsNumber(uint16_t stored) {
  uint8_t b[2];
  std::memcpy(b, &stored, 2);
  return Be16(b);
}

TEST(ChecksumTest, FullChecksumMatchesReferenceForEveryLengthUpTo100) {
  for (size_t len = 0; len <= 100; ++len) {
    const Bytes data = Pattern(len, static_cast<uint32_t>(len));
    EXPECT_EQ(StoredAsNumber(Checksum(data.data(), len)), RefFinish(RefSum(data.data(), len)))
        << "length " << len;
  }
}

TEST(ChecksumTest, KnownValue) {
  // RFC 1071 section 3 example: the words 0001 f203 f4f5 f6f7 sum to ddf2.
  const uint8_t data[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(StoredAsNumber(Checksum(data, 8)), 0xffff - 0xddf2);
  // An odd last byte is the high half of a word: 0x01 alone counts as 0x0100.
  const uint8_t one = 0x01;
  EXPECT_EQ(StoredAsNumber(Checksum(&one, 1)), 0xfeff);
}

TEST(ChecksumTest, PseudoHeaderSumsMatchReference) {
  const Bytes addrs = Pattern(32, 7);
  for (size_t len : {0u, 1u, 8u, 33u, 1400u}) {
    const Bytes payload = Pattern(len, 9);
    // IPv4: src, dst, zero, protocol, length.
    uint8_t tail4[4] = {0, 17, 0, 0};
    PutBe16(tail4 + 2, static_cast<uint16_t>(len));
    const uint64_t ref4 = RefSum(tail4, 4, RefSum(addrs.data(), 8));
    const uint16_t got4 = ChecksumFinish(ChecksumAccumulate(
        payload.data(), len,
        Ipv4PseudoHeaderSum(addrs.data(), addrs.data() + 4, 17, static_cast<uint16_t>(len))));
    EXPECT_EQ(StoredAsNumber(got4), RefFinish(RefSum(payload.data(), len, ref4))) << len;
    // IPv6: src, dst, 32-bit length, three zero bytes, next header.
    uint8_t tail6[8] = {0, 0, 0, 0, 0, 0, 0, 58};
    PutBe16(tail6 + 2, static_cast<uint16_t>(len));
    const uint64_t ref6 = RefSum(tail6, 8, RefSum(addrs.data(), 32));
    const uint16_t got6 = ChecksumFinish(ChecksumAccumulate(
        payload.data(), len,
        Ipv6PseudoHeaderSum(addrs.data(), addrs.data() + 16, 58, static_cast<uint32_t>(len))));
    EXPECT_EQ(StoredAsNumber(got6), RefFinish(RefSum(payload.data(), len, ref6))) << len;
  }
}

// 20000 random replacements of 2..16 bytes at even offsets of a 61-byte block (odd
// length: the last word is half padding) whose checksum field is at offset 10.
TEST(ChecksumTest, AdjustEqualsFullRecomputation) {
  std::mt19937 rng(42);
  constexpr size_t kLen = 61;
  constexpr size_t kField = 10;
  int saw_zero = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes data = Pattern(kLen, static_cast<uint32_t>(iter));
    // Every 64th block is made so that its checksum field starts at 0x0000.
    PutBe16(data.data() + kField, RefChecksumOf(data.data(), kLen, kField));
    if (iter % 64 == 0) {
      // Choose word 0 so that the full sum is 0xffff: checksum 0x0000.
      data[0] = data[1] = 0;
      const uint16_t rest = static_cast<uint16_t>(~RefChecksumOf(data.data(), kLen, kField));
      PutBe16(data.data(), static_cast<uint16_t>(0xffff - rest));
      PutBe16(data.data() + kField, RefChecksumOf(data.data(), kLen, kField));
    }
    const size_t len = 2 * (1 + rng() % 8);
    size_t offset;
    do {
      offset = 2 * (rng() % ((kLen - 1 - len) / 2 + 1));
    } while (offset < kField + 2 && offset + len > kField);  // not over the field itself
    Bytes replacement = Pattern(len, static_cast<uint32_t>(iter) + 100000);
    if (iter % 7 == 0) replacement.assign(data.begin() + offset, data.begin() + offset + len);

    uint16_t field;
    std::memcpy(&field, data.data() + kField, 2);
    const uint16_t adjusted = ChecksumAdjust(field, data.data() + offset, replacement.data(), len);
    std::copy(replacement.begin(), replacement.end(), data.begin() + offset);
    const uint16_t expected = RefChecksumOf(data.data(), kLen, kField);
    ASSERT_EQ(StoredAsNumber(adjusted), expected)
        << "iteration " << iter << " offset " << offset << " len " << len;
    if (expected == 0) ++saw_zero;
  }
  EXPECT_GT(saw_zero, 0);  // the wrap cases were reached
}

// Explicit wrap cases on a two-word block [x, checksum]: checksum = ~x.
TEST(ChecksumTest, AdjustWrapsToZeroAndFromZero) {
  auto stored = [](uint16_t host) {
    uint8_t b[2];
    PutBe16(b, host);
    uint16_t v;
    std::memcpy(&v, b, 2);
    return v;
  };
  // x 0x1234 -> 0xffff: the sum becomes 0xffff, the checksum 0x0000 (never 0xffff).
  EXPECT_EQ(StoredAsNumber(ChecksumAdjust16(stored(0xedcb), stored(0x1234), stored(0xffff))),
            0x0000);
  // Checksum 0x0000 (x = 0xffff) -> x = 0x0001: checksum 0xfffe.
  EXPECT_EQ(StoredAsNumber(ChecksumAdjust16(stored(0x0000), stored(0xffff), stored(0x0001))),
            0xfffe);
  // Checksum 0xffff (all-zero data) -> x = 0x0001.
  EXPECT_EQ(StoredAsNumber(ChecksumAdjust16(stored(0xffff), stored(0x0000), stored(0x0001))),
            0xfffe);
  // The 32-bit overload on a [hi, lo, checksum] block, 0x00010002 -> 0xfffffffd.
  uint8_t block[6] = {0x00, 0x01, 0x00, 0x02, 0, 0};
  PutBe16(block + 4, RefChecksumOf(block, 6, 4));
  uint16_t field;
  std::memcpy(&field, block + 4, 2);
  uint32_t old_value;
  std::memcpy(&old_value, block, 4);
  const uint8_t new_bytes[4] = {0xff, 0xff, 0xff, 0xfd};
  uint32_t new_value;
  std::memcpy(&new_value, new_bytes, 4);
  const uint16_t adjusted = ChecksumAdjust32(field, old_value, new_value);
  std::memcpy(block, new_bytes, 4);
  EXPECT_EQ(StoredAsNumber(adjusted), RefChecksumOf(block, 6, 4));
}

TEST(ChecksumTest, UdpAdjustKeepsNoChecksumAndNeverStoresZero) {
  const uint8_t old_bytes[2] = {0x12, 0x34};
  const uint8_t new_bytes[2] = {0xff, 0xff};
  // 0 means "no checksum" (RFC 768) and must survive any rewrite.
  EXPECT_EQ(UdpChecksumAdjust(0, old_bytes, new_bytes, 2), 0);
  // Block [x = 0x1234, checksum 0xedcb] -> x = 0xffff computes 0x0000, sent as 0xffff.
  uint8_t c[2] = {0xed, 0xcb};
  uint16_t field;
  std::memcpy(&field, c, 2);
  EXPECT_EQ(UdpChecksumAdjust(field, old_bytes, new_bytes, 2), 0xffff);
  // And back: from 0xffff (a computed zero) the adjustment works as from 0x0000.
  EXPECT_EQ(StoredAsNumber(UdpChecksumAdjust(0xffff, new_bytes, old_bytes, 2)), 0xedcb);
}

}  // namespace
}  // namespace sluice::dataplane
