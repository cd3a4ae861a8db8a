// Control-plane cost of a large config: parsing and validating it, applying it to a fresh
// Controller, reloading it with one backend changed, and a one-backend health change.
// The config is generated in memory: SERVICES services (distinct VIPs, port 80, DR) of
// BACKENDS backends each (distinct on-link IPv4 addresses), 1000 x 100 unless
// --services=N / --backends=N say otherwise (the smoke test runs 10 x 10).
//
// The Controller publishes into a lambda that keeps the newest table and moves the one it
// replaces aside; the benchmark frees those while the timer is paused. So no number here
// includes an RCU wait or freeing an old table (the daemon does both after publishing).
#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/loader.h"
#include "dataplane/forwarding_table.h"
#include "dataplane/port.h"
#include "lb/controller.h"

namespace sluice::bench {
namespace {

namespace dp = ::sluice::dataplane;

int g_services = 1000;
int g_backends = 100;
// Iterations per repetition of the cases that take about a second each.
int g_slow_iterations = 3;

const absl::Time kT0 = absl::FromUnixSeconds(2'000'000);

// Set when a case fails its check: the exit status is then 1 (SkipWithError alone is not).
bool g_failed = false;

void Fail(benchmark::State& state, const std::string& message) {
  g_failed = true;
  state.SkipWithError(message.c_str());
}

// The service and backend whose weight differs between the two configs, and whose health
// BM_HealthChangeOneBackend flips: in the middle of the config.
int ChangedService() { return g_services / 2; }
int ChangedBackend() { return g_backends / 2; }

// `changed_weight` 0: every backend has the default weight (100); otherwise the one
// backend (ChangedService, ChangedBackend) has this weight.
std::string MakeYaml(int changed_weight) {
  std::string yaml = R"(dataplane:
  ports:
    - { name: p0, device: "net_null0", address: 10.0.0.2/8 }
services:
)";
  yaml.reserve(static_cast<size_t>(g_services) * g_backends * 32 + 4096);
  for (int s = 0; s < g_services; ++s) {
    absl::StrAppendFormat(&yaml,
                          "  - name: s%d\n    vip: 10.200.%d.%d\n    port: 80\n"
                          "    forwarding: dr\n"
                          "    health_check: { type: tcp, assume: up }\n    backends:\n",
                          s, s / 256, s % 256);
    for (int b = 0; b < g_backends; ++b) {
      const uint32_t g = static_cast<uint32_t>(s) * g_backends + b;  // < 2^24 / 2
      absl::StrAppendFormat(&yaml, "      - { address: 10.%d.%d.%d", 1 + (g >> 16), (g >> 8) & 0xff,
                            g & 0xff);
      if (changed_weight != 0 && s == ChangedService() && b == ChangedBackend()) {
        absl::StrAppendFormat(&yaml, ", weight: %d", changed_weight);
      }
      yaml += " }\n";
    }
  }
  return yaml;
}

struct Fixture {
  std::string yaml_a;  // all weights default
  std::string yaml_b;  // one backend with weight 50
  config::Config config_a;
  config::Config config_b;
};
Fixture* g_fixture = nullptr;

absl::StatusOr<config::Config> Load(const std::string& yaml) {
  std::vector<config::Diagnostic> diagnostics;
  absl::StatusOr<config::Config> config = config::LoadString(yaml, "bench.yaml", &diagnostics);
  if (!config.ok() && !diagnostics.empty()) {
    return absl::InvalidArgumentError(diagnostics.front().ToString());
  }
  return config;
}

// A controller with a fake next-hop resolver (every next hop gets a new index) whose
// published tables are kept: `current` the newest, `old` those it replaced, to be freed
// with the timer paused.
class Rig {
 public:
  Rig()
      : controller_(
            std::vector<dp::PortInfo>(1),
            [this](const dp::NeighborAddress&, uint16_t) { return next_neighbor_++; },
            [this](std::unique_ptr<dp::ForwardingTable> table) {
              if (current_ != nullptr) old_.push_back(std::move(current_));
              current_ = std::move(table);
              return ++published_;
            },
            lb::ControllerOptions{.health_checks = true, .nat_sessions = true}) {}

  lb::Controller& controller() { return controller_; }
  const dp::ForwardingTable* current() const { return current_.get(); }
  void FreeOld() { old_.clear(); }

 private:
  int64_t next_neighbor_ = 0;
  uint64_t published_ = 0;
  std::unique_ptr<dp::ForwardingTable> current_;
  std::vector<std::unique_ptr<dp::ForwardingTable>> old_;
  lb::Controller controller_;
};

void ReportSize(benchmark::State& state) {
  state.counters["services"] = g_services;
  state.counters["backends"] = static_cast<double>(g_services) * g_backends;
}

void BM_LoadAndValidate(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<config::Config> config = Load(g_fixture->yaml_a);
    if (!config.ok()) {
      Fail(state, std::string(config.status().message()));
      break;
    }
    state.PauseTiming();  // freeing the Config is not part of loading it
    config = absl::StatusOr<config::Config>();
    state.ResumeTiming();
  }
  state.counters["yaml_bytes"] = static_cast<double>(g_fixture->yaml_a.size());
  ReportSize(state);
}

void BM_FullApply(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();  // the daemon hands over the Config it loaded: no copy
    config::Config copy = g_fixture->config_a;
    state.ResumeTiming();
    auto rig = std::make_unique<Rig>();
    if (absl::Status s = rig->controller().Start(std::move(copy), kT0); !s.ok()) {
      Fail(state, std::string(s.message()));
      break;
    }
    state.PauseTiming();
    if (rig->current() == nullptr ||
        rig->current()->services.size() != static_cast<size_t>(g_services)) {
      Fail(state, "Start published no table, or one with the wrong service count");
    }
    rig.reset();
    state.ResumeTiming();
  }
  ReportSize(state);
}

// What a reload from the file costs before the controller sees it plus the apply: the
// issue's "validate and apply".
void BM_LoadValidateAndFullApply(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<config::Config> config = Load(g_fixture->yaml_a);
    if (!config.ok()) {
      Fail(state, std::string(config.status().message()));
      break;
    }
    auto rig = std::make_unique<Rig>();
    if (absl::Status s = rig->controller().Start(*std::move(config), kT0); !s.ok()) {
      Fail(state, std::string(s.message()));
      break;
    }
    state.PauseTiming();
    rig.reset();
    config = absl::StatusOr<config::Config>();
    state.ResumeTiming();
  }
  ReportSize(state);
}

void BM_ReloadOneBackendChanged(benchmark::State& state) {
  Rig rig;
  if (absl::Status s = rig.controller().Start(g_fixture->config_a, kT0); !s.ok()) {
    Fail(state, std::string(s.message()));
    return;
  }
  bool to_b = true;
  size_t rebuilt = 0;
  int64_t reloads = 0;
  absl::Time now = kT0;
  for (auto _ : state) {
    now += absl::Seconds(1);
    state.PauseTiming();  // the reloader moves the Config it loaded in: no copy
    config::Config next = to_b ? g_fixture->config_b : g_fixture->config_a;
    state.ResumeTiming();
    absl::StatusOr<lb::ReloadReport> report = rig.controller().Reload(std::move(next), now);
    if (!report.ok()) {
      Fail(state, std::string(report.status().message()));
      break;
    }
    rebuilt += report->maglev_rebuilt;
    reloads += 1;
    to_b = !to_b;
    state.PauseTiming();
    rig.FreeOld();
    state.ResumeTiming();
  }
  if (reloads > 0 && rebuilt != static_cast<size_t>(reloads)) {
    Fail(state, "a reload did not rebuild exactly one Maglev table");
  }
  ReportSize(state);
}

void BM_HealthChangeOneBackend(benchmark::State& state) {
  Rig rig;
  if (absl::Status s = rig.controller().Start(g_fixture->config_a, kT0); !s.ok()) {
    Fail(state, std::string(s.message()));
    return;
  }
  const uint32_t id = rig.controller()
                          .Status()
                          .at(static_cast<size_t>(ChangedService()))
                          .backends.at(static_cast<size_t>(ChangedBackend()))
                          .id;
  bool up = false;
  size_t rebuilt = 0;
  int64_t flushes = 0;
  for (auto _ : state) {
    rig.controller().SetHealth(id, up, up ? "connected" : "connect refused");
    rebuilt += rig.controller().Flush();
    flushes += 1;
    up = !up;
    state.PauseTiming();
    rig.FreeOld();
    rig.controller().TakeEvents();
    state.ResumeTiming();
  }
  if (flushes > 0 && rebuilt != static_cast<size_t>(flushes)) {
    Fail(state, "a health change did not rebuild exactly one Maglev table");
  }
  ReportSize(state);
}

void RegisterAll() {
  const int slow = g_slow_iterations;
  benchmark::RegisterBenchmark("BM_LoadAndValidate", BM_LoadAndValidate)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(slow);
  benchmark::RegisterBenchmark("BM_FullApply", BM_FullApply)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(slow);
  benchmark::RegisterBenchmark("BM_LoadValidateAndFullApply", BM_LoadValidateAndFullApply)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(slow);
  benchmark::RegisterBenchmark("BM_ReloadOneBackendChanged", BM_ReloadOneBackendChanged)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(slow * 10);
  benchmark::RegisterBenchmark("BM_HealthChangeOneBackend", BM_HealthChangeOneBackend)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(slow * 100);
}

// Takes --services=N, --backends=N and --slow_iterations=N out of argv (the rest goes to
// Google Benchmark). Returns false on a bad value.
bool ParseOwnFlags(int* argc, char** argv) {
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    struct Flag {
      const char* prefix;
      int* value;
    };
    const Flag flags[] = {{"--services=", &g_services},
                          {"--backends=", &g_backends},
                          {"--slow_iterations=", &g_slow_iterations}};
    bool taken = false;
    for (const Flag& f : flags) {
      const size_t n = std::strlen(f.prefix);
      if (std::strncmp(argv[i], f.prefix, n) == 0) {
        if (!absl::SimpleAtoi(argv[i] + n, f.value) || *f.value < 1) {
          std::fprintf(stderr, "bad value: %s\n", argv[i]);
          return false;
        }
        taken = true;
      }
    }
    if (!taken) argv[out++] = argv[i];
  }
  *argc = out;
  return true;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  namespace b = ::sluice::bench;
  if (!b::ParseOwnFlags(&argc, argv)) return 2;
  if (b::g_services > 65536 || b::g_backends < 2 || b::g_services * b::g_backends > (1 << 23)) {
    std::fprintf(stderr, "--services up to 65536, --backends at least 2, product < 2^23\n");
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

  // Routes use rte_lpm: the EAL must be up. No hugepages, no devices (the controller is
  // given its port's runtime facts directly).
  const std::vector<std::string> eal_args = {
      "controller_bench",
      "--no-huge",
      "-m",
      "2048",
      "--no-shconf",
      "--no-pci",
      "--file-prefix",
      absl::StrFormat("sluice-cbench-%d", getpid()),
      "-l",
      "0",
      "--log-level",
      "lib.eal:warning",
  };
  if (absl::Status s = sluice::dataplane::InitEal(eal_args); !s.ok()) {
    std::fprintf(stderr, "EAL: %s\n", std::string(s.message()).c_str());
    return 1;
  }

  b::Fixture fixture;
  fixture.yaml_a = b::MakeYaml(0);
  fixture.yaml_b = b::MakeYaml(50);
  absl::StatusOr<sluice::config::Config> a = b::Load(fixture.yaml_a);
  absl::StatusOr<sluice::config::Config> c = b::Load(fixture.yaml_b);
  if (!a.ok() || !c.ok()) {
    std::fprintf(stderr, "generated config does not load: %s\n",
                 std::string((a.ok() ? c : a).status().message()).c_str());
    return 1;
  }
  fixture.config_a = *std::move(a);
  fixture.config_b = *std::move(c);
  b::g_fixture = &fixture;
  const std::string runtime_dir = rte_eal_get_runtime_dir();

  b::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  b::g_fixture = nullptr;
  sluice::dataplane::CleanupEal();
  // rte_eal_cleanup leaves /var/run/dpdk/<file-prefix> behind; one per run would pile up.
  rmdir(runtime_dir.c_str());
  return b::g_failed ? 1 : 0;
}
