// Starts the DPDK EAL for a unit-test binary the way every dataplane unit test needs it:
// no hugepages, no shared config, no PCI, one lcore (or the list given, for concurrency
// tests), 128 MiB (or the size given), a file prefix unique to the process.
#ifndef SLUICE_TESTS_DATAPLANE_TEST_EAL_H_
#define SLUICE_TESTS_DATAPLANE_TEST_EAL_H_

#include <rte_eal.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace sluice::dataplane {

// Returns rte_eal_init's result; `name` becomes argv[0] and part of the file prefix.
// `lcores` is an EAL -l list ("0,1" for a main lcore and one worker: the test machines
// have 2 CPUs); `memory_mb` is the --no-huge heap (one rte_lpm or rte_lpm6 alone needs
// 64 MiB).
inline int InitTestEal(const std::string& name, const std::string& lcores = "0",
                       int memory_mb = 128) {
  const std::string prefix = "sluice-" + name + "-" + std::to_string(getpid());
  std::vector<std::string> args = {name, "--no-huge", "--no-shconf", "--no-pci",
                                   "--log-level=lib.eal:error"};
  args.insert(args.end(), {"-m", std::to_string(memory_mb)});
  args.insert(args.end(), {"-l", lcores});
  args.insert(args.end(), {"--file-prefix", prefix});
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return rte_eal_init(static_cast<int>(argv.size()), argv.data());
}

}  // namespace sluice::dataplane

#endif  // SLUICE_TESTS_DATAPLANE_TEST_EAL_H_
