// Starts the DPDK EAL for a unit-test binary the way every dataplane unit test needs it:
// no hugepages, no shared config, no PCI, one lcore, a file prefix unique to the process.
#ifndef SLUICE_TESTS_DATAPLANE_TEST_EAL_H_
#define SLUICE_TESTS_DATAPLANE_TEST_EAL_H_

#include <rte_eal.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace sluice::dataplane {

// Returns rte_eal_init's result; `name` becomes argv[0] and part of the file prefix.
inline int InitTestEal(const std::string& name) {
  const std::string prefix = "sluice-" + name + "-" + std::to_string(getpid());
  std::vector<std::string> args = {name,
                                   "--no-huge",
                                   "-m",
                                   "128",
                                   "--no-shconf",
                                   "--no-pci",
                                   "-l",
                                   "0",
                                   "--log-level=lib.eal:error",
                                   "--file-prefix",
                                   prefix};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return rte_eal_init(static_cast<int>(argv.size()), argv.data());
}

}  // namespace sluice::dataplane

#endif  // SLUICE_TESTS_DATAPLANE_TEST_EAL_H_
