#include "dataplane/dpdk_version.h"

#include <rte_version.h>

namespace sluice::dataplane {

std::string DpdkVersion() { return rte_version(); }

}  // namespace sluice::dataplane
