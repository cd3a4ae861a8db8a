// MaglevTable::Build: permutations plus the population loop, for equal-weight backend
// sets of the sizes the paper reports (Eisenbud et al., NSDI 2016). Runs on the control
// thread, never on a worker; results and the command are in bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "lb/maglev.h"

namespace sluice::lb {
namespace {

// Backends 10.x.y.z:80 (distinct addresses), ids 1..n, weight 1.
std::vector<MaglevBackend> EqualBackends(int64_t n) {
  std::vector<MaglevBackend> backends;
  backends.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto host = static_cast<uint32_t>(i + 1);
    MaglevBackend backend;
    backend.id = host;
    backend.identity.address = {10, static_cast<uint8_t>(host >> 16),
                                static_cast<uint8_t>(host >> 8), static_cast<uint8_t>(host)};
    backend.identity.port = 80;
    backend.weight = 1;
    backends.push_back(backend);
  }
  return backends;
}

void BM_MaglevBuild(benchmark::State& state) {
  const std::vector<MaglevBackend> backends = EqualBackends(state.range(0));
  const auto table_size = static_cast<uint32_t>(state.range(1));
  for (auto _ : state) {
    absl::StatusOr<MaglevTable> table = MaglevTable::Build(backends, table_size);
    if (!table.ok()) {
      state.SkipWithError("MaglevTable::Build failed");
      break;
    }
    benchmark::DoNotOptimize(table->slots().data());
    benchmark::ClobberMemory();
  }
}

BENCHMARK(BM_MaglevBuild)
    ->ArgNames({"backends", "M"})
    ->ArgsProduct({{10, 100, 1000}, {65537, 655373}})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice::lb

BENCHMARK_MAIN();
