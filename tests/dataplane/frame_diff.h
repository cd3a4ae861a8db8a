// Readable failure output for the golden-packet tests: frames decoded field by field
// (Ethernet, 802.1Q, ARP, IPv4, TCP, UDP, ICMP, with checksums checked) and hex dumps of
// expected against actual with the first differing offset.
#ifndef SLUICE_TESTS_DATAPLANE_FRAME_DIFF_H_
#define SLUICE_TESTS_DATAPLANE_FRAME_DIFF_H_

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::golden {

// One line per header, e.g. "eth 02:..:fe > 02:..:01 type 0x0800\nipv4 ...".
std::string DescribeFrame(const std::vector<uint8_t>& frame);

// Hex dump, 16 bytes a line, each line prefixed by `indent`.
std::string HexDump(const std::vector<uint8_t>& frame, const std::string& indent = "    ");

// Empty when equal; otherwise the first differing offset, a side-by-side dump with the
// differing bytes marked, and both frames decoded.
std::string FrameDiff(const std::vector<uint8_t>& expected, const std::vector<uint8_t>& actual);

}  // namespace sluice::golden

#endif  // SLUICE_TESTS_DATAPLANE_FRAME_DIFF_H_
