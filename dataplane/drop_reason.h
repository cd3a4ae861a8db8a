// Every reason the dataplane drops a packet, in one list (STYLE.md item 9). The list
// generates the enum, the Prometheus label and the help text, so a new reason cannot be
// counted without being documented. docs/dataplane.md explains what to check for each.
#ifndef SLUICE_DATAPLANE_DROP_REASON_H_
#define SLUICE_DATAPLANE_DROP_REASON_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace sluice::dataplane {

// X(enumerator, label, help)
#define SLUICE_DROP_REASONS(X)                                                                     \
  X(kTruncatedEthernet, "truncated_ethernet", "frame shorter than its Ethernet/802.1Q header")     \
  X(kOtherHost, "other_host", "unicast frame for another MAC address")                             \
  X(kUnsupportedEthertype, "unsupported_ethertype",                                                \
    "neither IPv4, IPv6 nor ARP (QinQ is not handled)")                                            \
  X(kTruncatedIpv4, "truncated_ipv4", "frame too short for an IPv4 header")                        \
  X(kBadIpv4Version, "ipv4_bad_version", "IPv4 ethertype but version field is not 4")              \
  X(kBadIpv4HeaderLength, "ipv4_bad_header_length", "IPv4 IHL below 5 or beyond the frame")        \
  X(kBadIpv4TotalLength, "ipv4_bad_total_length",                                                  \
    "IPv4 total length below the header length or beyond the frame")                               \
  X(kFragmentUnknown, "fragment_unknown",                                                          \
    "a later fragment whose first fragment this worker has not seen (or not recently)")            \
  X(kFragmentFailed, "fragment_failed", "fragmenting a packet for the egress MTU failed")          \
  X(kTooBig, "too_big",                                                                            \
    "bigger than the egress MTU and not fragmentable; the ICMP error was rate-limited")            \
  X(kTtlExceeded, "ttl_exceeded", "nat: the TTL would reach 0 at the LB")                          \
  X(kIcmpBadMtu, "icmp_bad_mtu", "a packet-too-big/frag-needed claiming an MTU below the minimum") \
  X(kNoHeadroom, "no_headroom", "no mbuf headroom for the tunnel header")                          \
  X(kTruncatedTcp, "truncated_tcp", "TCP header beyond the IP payload")                            \
  X(kBadTcpDataOffset, "tcp_bad_data_offset", "TCP data offset below 5 or beyond the payload")     \
  X(kTruncatedUdp, "truncated_udp", "UDP header beyond the IP payload")                            \
  X(kBadUdpLength, "udp_bad_length", "UDP length field disagrees with the IP payload")             \
  X(kTruncatedIcmp, "truncated_icmp", "ICMP header beyond the IP payload")                         \
  X(kIcmpUnhandled, "icmp_unhandled", "ICMP for the LB or a VIP other than an echo request")       \
  X(kMalformedArp, "arp_malformed", "ARP that is not Ethernet/IPv4 or is truncated")               \
  X(kArpNotForUs, "arp_not_for_us", "ARP request for an address Sluice does not answer")           \
  X(kNotLocal, "not_local", "IPv4 destination is neither a VIP nor a port address")                \
  X(kNoService, "no_service", "VIP address, but no service on that protocol and port")             \
  X(kToLocalAddress, "local_unhandled", "non-ICMP traffic to a port address")                      \
  X(kNoUsableBackend, "no_backend", "the service has no backend that can take new flows")          \
  X(kSlowPathFull, "slow_path_full", "the slow-path ring to the control thread was full")          \
  X(kTxFull, "tx_full", "the NIC's TX queue refused the packet")                                   \
  X(kNeighborFailed, "neighbor_failed", "the next hop's MAC could not be resolved by ARP")         \
  X(kNeighborHoldFull, "neighbor_hold_full", "too many packets waiting for one ARP answer")        \
  X(kNoMbuf, "no_mbuf", "no packet buffer for a reply the LB generates")                           \
  X(kTruncatedIpv6, "truncated_ipv6", "frame too short for an IPv6 header")                        \
  X(kBadIpv6Version, "ipv6_bad_version", "IPv6 ethertype but version field is not 6")              \
  X(kBadIpv6PayloadLength, "ipv6_bad_payload_length", "IPv6 payload length beyond the frame")      \
  X(kBadIpv6ExtensionHeader, "ipv6_bad_extension_header",                                          \
    "IPv6 extension header beyond the payload, more than 8, Hop-by-Hop not first, a second "       \
    "Fragment header, or a Routing header with segments left")                                     \
  X(kMalformedNd, "nd_malformed", "Neighbor Discovery message failing RFC 4861 validation")        \
  X(kNdNotForUs, "nd_not_for_us",                                                                  \
    "Neighbor Solicitation for an address Sluice does not answer, or ND other than NS/NA")

enum class DropReason : uint8_t {
#define SLUICE_DROP_ENUM(name, label, help) name,
  SLUICE_DROP_REASONS(SLUICE_DROP_ENUM)
#undef SLUICE_DROP_ENUM
};

inline constexpr size_t kDropReasonCount = 0
#define SLUICE_DROP_COUNT(name, label, help) +1
    SLUICE_DROP_REASONS(SLUICE_DROP_COUNT)
#undef SLUICE_DROP_COUNT
    ;

struct DropReasonInfo {
  std::string_view label;  // Prometheus label value and log name
  std::string_view help;
};

inline constexpr std::array<DropReasonInfo, kDropReasonCount> kDropReasonInfo = {{
#define SLUICE_DROP_INFO(name, label, help) {label, help},
    SLUICE_DROP_REASONS(SLUICE_DROP_INFO)
#undef SLUICE_DROP_INFO
}};

constexpr const DropReasonInfo& InfoFor(DropReason reason) {
  return kDropReasonInfo[static_cast<size_t>(reason)];
}

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_DROP_REASON_H_
