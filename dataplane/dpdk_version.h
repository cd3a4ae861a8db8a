// The DPDK release Sluice runs on, for `sluice --version` and sluice_build_info.
#ifndef SLUICE_DATAPLANE_DPDK_VERSION_H_
#define SLUICE_DATAPLANE_DPDK_VERSION_H_

#include <string>

namespace sluice::dataplane {

// Like "DPDK 22.11.11"; reads a constant, initializes nothing.
std::string DpdkVersion();

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_DPDK_VERSION_H_
