#include "tests/dataplane/frame_diff.h"

#include <algorithm>
#include <cstddef>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sluice::golden {

namespace {

using Bytes = std::vector<uint8_t>;

uint16_t Be16(const Bytes& f, size_t at) { return static_cast<uint16_t>(f[at] << 8 | f[at + 1]); }
uint32_t Be32(const Bytes& f, size_t at) { return uint32_t{Be16(f, at)} << 16 | Be16(f, at + 2); }

std::string Mac(const Bytes& f, size_t at) {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", f[at], f[at + 1], f[at + 2], f[at + 3],
                         f[at + 4], f[at + 5]);
}
std::string Ip(const Bytes& f, size_t at) {
  return absl::StrFormat("%u.%u.%u.%u", f[at], f[at + 1], f[at + 2], f[at + 3]);
}

// RFC 1071 sum over [begin, end) plus `initial`, folded, not complemented.
uint32_t Sum16(const Bytes& f, size_t begin, size_t end, uint32_t initial = 0) {
  uint32_t sum = initial;
  for (size_t i = begin; i + 1 < end; i += 2) sum += Be16(f, i);
  if ((end - begin) % 2 == 1) sum += uint32_t{f[end - 1]} << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}
// A header or datagram whose checksum field is right sums to 0xffff.
const char* CsumVerdict(uint32_t sum) { return sum == 0xffff ? "ok" : "BAD"; }

std::string Ip6(const Bytes& f, size_t at) {
  std::string out;
  for (size_t i = 0; i < 16; i += 2) {
    absl::StrAppendFormat(&out, "%s%x", i == 0 ? "" : ":", Be16(f, at + i));
  }
  return out;
}

void DescribeIp(const Bytes& f, size_t ip, size_t end, std::string& out, int depth);

// `ipv6`: the pseudo-header is IPv6's (RFC 8200 8.1), which ICMPv6 uses too.
void DescribeL4(const Bytes& f, size_t ip, size_t l4, size_t end, uint8_t proto, std::string& out,
                bool ipv6 = false, int depth = 0) {
  const size_t len = end - l4;
  // Pseudo-header: addresses, protocol, L4 length.
  const uint32_t pseudo = ipv6 ? Sum16(f, ip + 8, ip + 40) + proto + static_cast<uint32_t>(len)
                               : Sum16(f, ip + 12, ip + 20) + proto + static_cast<uint32_t>(len);
  if (proto == 4 || proto == 41) {  // a tunnel: the inner packet
    absl::StrAppend(&out, "  inner: ");
    DescribeIp(f, l4, end, out, depth + 1);
    return;
  }
  if (proto == 58) {
    if (len < 8) return absl::StrAppend(&out, "icmpv6 (truncated)\n");
    absl::StrAppendFormat(&out, "icmpv6 type %u code %u word 0x%08x csum 0x%04x (%s)\n", f[l4],
                          f[l4 + 1], Be32(f, l4 + 4), Be16(f, l4 + 2),
                          CsumVerdict(Sum16(f, l4, end, pseudo)));
    return;
  }
  if (proto == 6) {
    if (len < 20) return absl::StrAppend(&out, "tcp (truncated)\n");
    const uint8_t flags = f[l4 + 13];
    std::string names;
    const char* kNames[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    for (int b = 0; b < 8; ++b) {
      if ((flags & (1 << b)) != 0) absl::StrAppend(&names, names.empty() ? "" : "|", kNames[b]);
    }
    absl::StrAppendFormat(&out,
                          "tcp %u > %u seq %u ack %u off %u flags %s win %u csum 0x%04x (%s) "
                          "payload %u\n",
                          Be16(f, l4), Be16(f, l4 + 2), Be32(f, l4 + 4), Be32(f, l4 + 8),
                          f[l4 + 12] >> 4, names.empty() ? "none" : names, Be16(f, l4 + 14),
                          Be16(f, l4 + 16), CsumVerdict(Sum16(f, l4, end, pseudo)),
                          len - std::min<size_t>(len, size_t{4} * (f[l4 + 12] >> 4)));
  } else if (proto == 17) {
    if (len < 8) return absl::StrAppend(&out, "udp (truncated)\n");
    const uint16_t csum = Be16(f, l4 + 6);
    absl::StrAppendFormat(&out, "udp %u > %u len %u csum 0x%04x (%s)\n", Be16(f, l4),
                          Be16(f, l4 + 2), Be16(f, l4 + 4), csum,
                          csum == 0 ? "none" : CsumVerdict(Sum16(f, l4, end, pseudo)));
  } else if (proto == 1) {
    if (len < 8) return absl::StrAppend(&out, "icmp (truncated)\n");
    absl::StrAppendFormat(&out, "icmp type %u code %u id %u seq %u csum 0x%04x (%s)\n", f[l4],
                          f[l4 + 1], Be16(f, l4 + 4), Be16(f, l4 + 6), Be16(f, l4 + 2),
                          CsumVerdict(Sum16(f, l4, end)));
  }
}

void DescribeIpv4(const Bytes& f, size_t ip, std::string& out, int depth) {
  const size_t ihl = size_t{4} * (f[ip] & 0x0f);
  const uint16_t total = Be16(f, ip + 2);
  const uint16_t frag = Be16(f, ip + 6);
  const bool header_fits = ihl >= 20 && ip + ihl <= f.size();
  absl::StrAppendFormat(
      &out,
      "ipv4 %s > %s ver %u ihl %u tos 0x%02x len %u id %u flags%s%s off %u ttl %u "
      "proto %u csum 0x%04x (%s)\n",
      Ip(f, ip + 12), Ip(f, ip + 16), f[ip] >> 4, f[ip] & 0x0f, f[ip + 1], total, Be16(f, ip + 4),
      (frag & 0x4000) != 0 ? " DF" : "", (frag & 0x2000) != 0 ? " MF" : "", (frag & 0x1fff) * 8u,
      f[ip + 8], f[ip + 9], Be16(f, ip + 10),
      header_fits ? CsumVerdict(Sum16(f, ip, ip + ihl)) : "header beyond frame");
  if (!header_fits || total < ihl || ip + total > f.size()) return;
  if ((frag & 0x3fff) == 0) DescribeL4(f, ip, ip + ihl, ip + total, f[ip + 9], out, false, depth);
}

void DescribeIpv6(const Bytes& f, size_t ip, std::string& out, int depth) {
  const uint32_t first = Be32(f, ip);
  const size_t end = ip + 40 + Be16(f, ip + 4);
  absl::StrAppendFormat(&out, "ipv6 %s > %s tc 0x%02x flow 0x%05x plen %u nh %u hlim %u\n",
                        Ip6(f, ip + 8), Ip6(f, ip + 24), (first >> 20) & 0xff, first & 0xfffff,
                        Be16(f, ip + 4), f[ip + 6], f[ip + 7]);
  if (end > f.size()) return;
  uint8_t nh = f[ip + 6];
  size_t at = ip + 40;
  for (int n = 0; n < 8 && (nh == 0 || nh == 43 || nh == 44 || nh == 60); ++n) {
    if (at + 8 > end) return;
    const size_t len = nh == 44 ? 8 : size_t{8} * (f[at + 1] + 1);
    if (nh == 44) {
      const uint16_t off = Be16(f, at + 2);
      absl::StrAppendFormat(&out, "  fragment nh %u off %u%s id 0x%08x\n", f[at], off & 0xfff8,
                            (off & 1) != 0 ? " M" : "", Be32(f, at + 4));
      if ((off & 0xfff8) != 0) return;
    } else {
      absl::StrAppendFormat(&out, "  ext %u nh %u len %u\n", nh, f[at], len);
    }
    nh = f[at];
    at += len;
  }
  if (at <= end) DescribeL4(f, ip, at, end, nh, out, true, depth);
}

void DescribeIp(const Bytes& f, size_t ip, size_t end, std::string& out, int depth) {
  if (depth > 2 || ip + 1 > end) return;
  if ((f[ip] >> 4) == 4 && end >= ip + 20) {
    DescribeIpv4(f, ip, out, depth);
  } else if ((f[ip] >> 4) == 6 && end >= ip + 40) {
    DescribeIpv6(f, ip, out, depth);
  }
}

}  // namespace

std::string DescribeFrame(const Bytes& f) {
  std::string out;
  if (f.size() < 14) return absl::StrFormat("(%u bytes: shorter than Ethernet)\n", f.size());
  size_t at = 12;
  uint16_t type = Be16(f, at);
  absl::StrAppendFormat(&out, "eth %s > %s", Mac(f, 6), Mac(f, 0));
  if (type == 0x8100 && f.size() >= 18) {
    absl::StrAppendFormat(&out, " vlan %u pcp %u", Be16(f, 14) & 0x0fff, f[14] >> 5);
    at += 4;
    type = Be16(f, at);
  }
  at += 2;
  absl::StrAppendFormat(&out, " type 0x%04x, %u bytes\n", type, f.size());
  if (type == 0x0806 && f.size() >= at + 28) {
    absl::StrAppendFormat(&out, "arp %s sha %s spa %s tha %s tpa %s\n",
                          Be16(f, at + 6) == 1   ? "request"
                          : Be16(f, at + 6) == 2 ? "reply"
                                                 : absl::StrCat("op ", Be16(f, at + 6)),
                          Mac(f, at + 8), Ip(f, at + 14), Mac(f, at + 18), Ip(f, at + 24));
  } else if (type == 0x0800 && f.size() >= at + 20) {
    DescribeIpv4(f, at, out, 0);
  } else if (type == 0x86dd && f.size() >= at + 40) {
    DescribeIpv6(f, at, out, 0);
  }
  return out;
}

std::string HexDump(const Bytes& f, const std::string& indent) {
  std::string out;
  for (size_t row = 0; row < f.size(); row += 16) {
    absl::StrAppendFormat(&out, "%s%04x ", indent, row);
    for (size_t i = row; i < std::min(row + 16, f.size()); ++i) {
      absl::StrAppendFormat(&out, " %02x", f[i]);
    }
    out += '\n';
  }
  return out;
}

std::string FrameDiff(const Bytes& expected, const Bytes& actual) {
  if (expected == actual) return "";
  const size_t common = std::min(expected.size(), actual.size());
  size_t first = 0;
  while (first < common && expected[first] == actual[first]) ++first;
  std::string out;
  if (first < common) {
    absl::StrAppendFormat(&out, "first difference at offset %u (0x%04x): expected %02x, got %02x",
                          first, first, expected[first], actual[first]);
  } else {
    absl::StrAppendFormat(&out, "equal for %u bytes, then lengths differ", first);
  }
  absl::StrAppendFormat(&out, " (expected %u bytes, got %u)\n", expected.size(), actual.size());
  absl::StrAppendFormat(&out, "      %-48s   %s\n", "expected", "actual");
  const size_t longest = std::max(expected.size(), actual.size());
  auto side = [](const Bytes& f, size_t row, std::string& line) {
    for (size_t i = row; i < row + 16; ++i) {
      if (i < f.size()) {
        absl::StrAppendFormat(&line, " %02x", f[i]);
      } else {
        line += "   ";
      }
    }
  };
  for (size_t row = 0; row < longest; row += 16) {
    std::string line = absl::StrFormat("%04x ", row);
    side(expected, row, line);
    line += "  |";
    side(actual, row, line);
    std::string marks;
    bool any = false;
    for (size_t i = row; i < row + 16; ++i) {
      const bool differs = (i < longest) && (i >= common || expected[i] != actual[i]);
      any = any || differs;
      marks += differs ? " ^^" : "   ";
    }
    absl::StrAppend(&out, line, "\n");
    if (any) absl::StrAppend(&out, "     ", marks, "   ", marks, "\n");
  }
  out += "expected:\n" + DescribeFrame(expected) + "actual:\n" + DescribeFrame(actual);
  return out;
}

}  // namespace sluice::golden
