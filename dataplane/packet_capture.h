// Packet capture with the stock `dpdk-dumpcap`: the primary process (Sluice) runs
// rte_pdump's server side, dumpcap attaches as a DPDK secondary process over the EAL's
// shared config and asks for copies of one port's RX/TX packets (a BPF filter, run in
// Sluice's workers, chooses which). That needs the EAL's shared config and shareable
// memory: not --in-memory, not --no-shconf, not --no-huge. docs/observability.md.
// Control thread only: after InitEal, and before CleanupEal.
#ifndef SLUICE_DATAPLANE_PACKET_CAPTURE_H_
#define SLUICE_DATAPLANE_PACKET_CAPTURE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace sluice::dataplane {

// Why `eal_args` rule capture out ("" when they do not): the first of --in-memory,
// --no-shconf and --no-huge they contain.
std::string CaptureBlockingOption(const std::vector<std::string>& eal_args);

// rte_pdump_init. It succeeds even when the EAL has no shared config (no secondary
// could attach then): check CaptureBlockingOption first.
absl::Status EnablePacketCapture();
// rte_pdump_uninit; a no-op unless EnablePacketCapture succeeded.
void DisablePacketCapture();

// The EAL's --file-prefix (default "rte"): what dpdk-dumpcap and dpdk-telemetry.py are
// given to find this process. After InitEal.
std::string EalFilePrefix();

// With shared config the EAL leaves its hugepage files (PREFIXmap_N on the hugetlbfs
// mounts) behind at exit, for secondary processes; they hold their hugepages until
// removed. Removes this prefix's; call after CleanupEal (mappings a secondary still
// holds stay valid). Returns how many were removed.
int RemoveHugepageFiles(const std::string& file_prefix);

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_PACKET_CAPTURE_H_
