// Internet checksum arithmetic (RFC 1071) for the packet rewrites: the RFC 1624
// incremental update used when a few header bytes change (NAT, TTL), and full sums with
// the IPv4/IPv6 pseudo-headers for packets the LB builds itself (ICMP errors, tunnels).
//
// Byte order: every function here loads 16-bit words from packet memory as they lie
// (memcpy into a uint16_t, no swapping) and returns a value to be stored back the same
// way. This is correct on either host byte order because the one's-complement sum is
// byte-order independent (RFC 1071 section 2(B)): summing byte-swapped words gives the
// byte-swapped sum, end-around carries included, and complementing commutes with the
// swap. Skipping rte_be_to_cpu_16/rte_cpu_to_be_16 saves two swaps per field and, more
// importantly, removes a class of bugs where one of them is forgotten.
#ifndef SLUICE_DATAPLANE_CHECKSUM_H_
#define SLUICE_DATAPLANE_CHECKSUM_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sluice::dataplane {

// The 16-bit field at `p` exactly as it lies in memory (see the byte-order note above).
inline uint16_t LoadChecksum(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void StoreChecksum(uint8_t* p, uint16_t v) { std::memcpy(p, &v, sizeof(v)); }

// Adds the 16-bit words of `len` bytes to `sum`; an odd last byte counts as the high-order
// byte of a word whose low-order byte is zero (RFC 1071), which in memory order means the
// byte followed by a zero byte. 64-bit accumulation cannot overflow for any packet size.
inline uint64_t ChecksumAccumulate(const void* data, size_t len, uint64_t sum = 0) {
  const auto* p = static_cast<const uint8_t*>(data);
  size_t i = 0;
  for (; i + 1 < len; i += 2) sum += LoadChecksum(p + i);
  if (i < len) {
    const uint8_t last[2] = {p[i], 0};
    sum += LoadChecksum(last);
  }
  return sum;
}

// Folds a sum to 16 bits with end-around carries and complements it: the checksum field.
inline uint16_t ChecksumFinish(uint64_t sum) {
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// The checksum of `len` bytes, e.g. an IPv4 header with its checksum field zeroed, or an
// ICMP message.
inline uint16_t Checksum(const void* data, size_t len) {
  return ChecksumFinish(ChecksumAccumulate(data, len));
}

// Pseudo-header sums (RFC 768/793 for IPv4, RFC 8200 section 8.1 for IPv6), to be passed
// as `sum` to ChecksumAccumulate over the upper-layer message. Addresses are the 4 or 16
// bytes as on the wire.
inline uint64_t Ipv4PseudoHeaderSum(const void* src, const void* dst, uint8_t protocol,
                                    uint16_t upper_length) {
  const uint8_t tail[4] = {0, protocol, static_cast<uint8_t>(upper_length >> 8),
                           static_cast<uint8_t>(upper_length)};
  return ChecksumAccumulate(tail, 4, ChecksumAccumulate(dst, 4, ChecksumAccumulate(src, 4)));
}
inline uint64_t Ipv6PseudoHeaderSum(const void* src, const void* dst, uint8_t next_header,
                                    uint32_t upper_length) {
  const uint8_t tail[8] = {static_cast<uint8_t>(upper_length >> 24),
                           static_cast<uint8_t>(upper_length >> 16),
                           static_cast<uint8_t>(upper_length >> 8),
                           static_cast<uint8_t>(upper_length),
                           0,
                           0,
                           0,
                           next_header};
  return ChecksumAccumulate(tail, 8, ChecksumAccumulate(dst, 16, ChecksumAccumulate(src, 16)));
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for `len` bytes (even, at most 16, starting at
// an even offset from the start of the checksummed data) replaced from `old_bytes` to
// `new_bytes`. `checksum` is the field as loaded with LoadChecksum; store the result with
// StoreChecksum.
//
// Eqn. 3 rather than eqn. 2 because it never produces a -0 that a full computation would
// not: the running sum includes ~m + m', which is non-zero for every word, so the folded
// sum lies in 1..0xffff exactly like a full sum over the new data, and the result equals
// a full recomputation bit for bit (for any data that is not all zero).
inline uint16_t ChecksumAdjust(uint16_t checksum, const void* old_bytes, const void* new_bytes,
                               size_t len) {
  const auto* o = static_cast<const uint8_t*>(old_bytes);
  const auto* n = static_cast<const uint8_t*>(new_bytes);
  uint32_t sum = static_cast<uint16_t>(~checksum);
  for (size_t i = 0; i + 1 < len; i += 2) {
    sum += static_cast<uint16_t>(~LoadChecksum(o + i));
    sum += LoadChecksum(n + i);
  }
  // At most 1 + 2 * 8 words of 0xffff: two folds always suffice.
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}
inline uint16_t ChecksumAdjust16(uint16_t checksum, uint16_t old_value, uint16_t new_value) {
  return ChecksumAdjust(checksum, &old_value, &new_value, sizeof(uint16_t));
}
inline uint16_t ChecksumAdjust32(uint16_t checksum, uint32_t old_value, uint32_t new_value) {
  return ChecksumAdjust(checksum, &old_value, &new_value, sizeof(uint32_t));
}

// ChecksumAdjust for a UDP checksum: over IPv4 a stored 0 means "no checksum" and must stay
// 0, and a computed 0 is sent as 0xffff (RFC 768), which both stand for the same
// one's-complement value so the adjustment itself needs no special case.
inline uint16_t UdpChecksumAdjust(uint16_t checksum, const void* old_bytes, const void* new_bytes,
                                  size_t len) {
  if (checksum == 0) return 0;
  const uint16_t adjusted = ChecksumAdjust(checksum, old_bytes, new_bytes, len);
  return adjusted == 0 ? 0xffff : adjusted;
}

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_CHECKSUM_H_
