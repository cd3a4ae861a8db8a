// Golden-packet tests (STYLE.md item 12): every case file under golden/cases/ runs on a
// fresh lb::Appliance whose ports are net_ring ethdevs. The test feeds the case's input
// frames into the ports' RX rings, steps worker 0 and the control thread by hand with a
// fake clock, and checks the exact frames that leave, each input's verdict, the
// counters and the accounting identity. Format and regeneration: README.md here.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_mempool.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "config/loader.h"
#include "dataplane/port.h"
#include "dataplane/worker.h"
#include "lb/appliance.h"
#include "lb/eal_arguments.h"
#include "tests/dataplane/counter_set.h"
#include "tests/dataplane/frame_diff.h"
#include "tests/dataplane/golden_case.h"
#include "tests/dataplane/ring_port.h"

namespace sluice::golden {
namespace {

namespace fs = std::filesystem;

// The control thread's fake clock at the first step; steps advance it.
constexpr uint64_t kStartMs = 1000;

std::string GoldenDir() {
  const char* env = std::getenv("SLUICE_GOLDEN_DIR");
  return env != nullptr ? env : SLUICE_GOLDEN_DIR;
}

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(GoldenDir()) / "cases", ec)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Where(const GoldenCase& c, int line) { return absl::StrCat(c.file, ":", line); }

std::string ShowFrames(const std::vector<FrameOnPort>& frames) {
  if (frames.empty()) return "    (none)\n";
  std::string out;
  for (size_t i = 0; i < frames.size(); ++i) {
    absl::StrAppendFormat(&out, "  [%u] port %s\n", i, frames[i].port);
    for (absl::string_view line : absl::StrSplit(DescribeFrame(frames[i].frame), '\n')) {
      if (!line.empty()) absl::StrAppend(&out, "    ", line, "\n");
    }
    out += HexDump(frames[i].frame, "      ");
  }
  return out;
}

class GoldenTest : public testing::TestWithParam<std::string> {
 protected:
  void TearDown() override { Release(); }

  // Order matters: mbufs in the test's rings go back to the appliance's pool before the
  // pool is freed, and the appliance closes the ports before their vdevs are removed.
  void Release() {
    for (auto& port : ports_) port->DrainAndFree();
    appliance_.reset();
    ports_.clear();
  }

  // One step of the dataplane: the worker takes the RX bursts, the control thread
  // handles what the worker handed it, the worker sends what the control thread
  // injected, and everything buffered is flushed.
  void RunStep(uint64_t now_ms) {
    dataplane::Worker& worker = appliance_->worker(0);
    worker.PollOnce();
    appliance_->PollControl(now_ms);
    worker.PollOnce();
    worker.FlushTx();
  }

  size_t PortIndex(const std::string& name) const {
    for (size_t i = 0; i < config_.dataplane.ports.size(); ++i) {
      if (config_.dataplane.ports[i].name == name) return i;
    }
    return config_.dataplane.ports.size();
  }

  void CheckOutputs(const GoldenCase& c, const Step& step, size_t step_index);
  static void CheckVerdicts(const GoldenCase& c, const Step& step, size_t step_index,
                            const CounterValues& d);

  config::Config config_;
  std::vector<std::unique_ptr<RingPort>> ports_;  // by config port index
  std::unique_ptr<lb::Appliance> appliance_;
  uint32_t ring_serial_ = 0;
};

void GoldenTest::CheckOutputs(const GoldenCase& c, const Step& step, size_t step_index) {
  // Expected frames keep their order within a port; ports are compared in config order.
  std::vector<FrameOnPort> expected = step.out;
  std::stable_sort(expected.begin(), expected.end(), [&](const auto& a, const auto& b) {
    return PortIndex(a.port) < PortIndex(b.port);
  });
  std::vector<FrameOnPort> actual;
  for (size_t p = 0; p < ports_.size(); ++p) {
    for (Frame& f : ports_[p]->TakeTransmitted()) {
      actual.push_back(FrameOnPort{.port = config_.dataplane.ports[p].name, .frame = std::move(f)});
    }
  }
  const std::string where = Where(c, step.line);
  if (expected.size() != actual.size()) {
    ADD_FAILURE() << where << ": step " << step_index << ": expected " << expected.size()
                  << " frame(s) out, got " << actual.size() << "\nexpected:\n"
                  << ShowFrames(expected) << "actual:\n"
                  << ShowFrames(actual);
    return;
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i].port != actual[i].port) {
      ADD_FAILURE() << Where(c, expected[i].line) << ": step " << step_index << ": out[" << i
                    << "] expected on port " << expected[i].port << ", left on " << actual[i].port
                    << "\nexpected:\n"
                    << ShowFrames(expected) << "actual:\n"
                    << ShowFrames(actual);
      continue;
    }
    const std::string diff = FrameDiff(expected[i].frame, actual[i].frame);
    EXPECT_TRUE(diff.empty()) << Where(c, expected[i].line) << ": step " << step_index << ": out["
                              << i << "] on port " << actual[i].port << " differs: " << diff;
  }
}

// Each input's verdict (and each held frame's fate) must match where the dataplane
// counted it in this step:
//   forward            worker forwarded_packets - generated_packets (a packet cut into
//                      fragments is one forward)
//   reply              worker icmp_echo_replies + icmp_too_big_sent + control
//                      arp_replies_sent + nd_advertisements_sent
//   nat_reply          worker nat_reply_packets (backend -> client, translated back)
//   drop:L             worker drops.L + control drops.L (held frames' drops included)
//   held forward       control held_released
//   slow_path          handed to the control thread, neither answered nor dropped there
void GoldenTest::CheckVerdicts(const GoldenCase& c, const Step& step, size_t step_index,
                               const CounterValues& d) {
  uint64_t forward = 0;
  uint64_t reply = 0;
  uint64_t nat_reply = 0;
  uint64_t slow = 0;
  uint64_t held_forward = 0;
  uint64_t held_drops = 0;
  std::map<std::string, uint64_t> drops;
  for (const FrameOnPort& in : step.in) {
    switch (in.verdict.kind) {
      case Verdict::Kind::kForward:
        ++forward;
        break;
      case Verdict::Kind::kReply:
        ++reply;
        break;
      case Verdict::Kind::kNatReply:
        ++nat_reply;
        break;
      case Verdict::Kind::kSlowPath:
        ++slow;
        break;
      case Verdict::Kind::kDrop:
        ++drops[in.verdict.drop_label];
        break;
    }
  }
  for (const Verdict& v : step.held) {
    if (v.kind == Verdict::Kind::kForward) {
      ++held_forward;
    } else {
      ++drops[v.drop_label];
      ++held_drops;
    }
  }
  const std::string where = absl::StrCat(Where(c, step.line), ": step ", step_index, ": ");
  EXPECT_EQ(d.at("rx_packets"), step.in.size()) << where << "frames received";
  EXPECT_EQ(d.at("forwarded_packets") - d.at("generated_packets"), forward)
      << where << "verdict forward (forwarded_packets - generated_packets)";
  const uint64_t control_replies =
      d.at("control.arp_replies_sent") + d.at("control.nd_advertisements_sent");
  EXPECT_EQ(d.at("icmp_echo_replies") + d.at("icmp_too_big_sent") + control_replies, reply)
      << where
      << "verdict reply (icmp_echo_replies + icmp_too_big_sent + control.arp_replies_sent + "
         "control.nd_advertisements_sent)";
  EXPECT_EQ(d.at("nat_reply_packets"), nat_reply) << where << "verdict nat_reply";
  EXPECT_EQ(d.at("control.held_released"), held_forward) << where << "held: forward";
  for (size_t r = 0; r < dataplane::kDropReasonCount; ++r) {
    const std::string label(dataplane::kDropReasonInfo[r].label);
    const uint64_t counted = d.at("drops." + label) + d.at("control.drops." + label);
    const uint64_t want = drops.contains(label) ? drops[label] : 0;
    EXPECT_EQ(counted, want) << where << "verdict drop:" << label
                             << " (drops + control.drops, held frames included)";
  }
  const uint64_t control_input_drops = SumWithPrefix(d, "control.drops.") - held_drops;
  EXPECT_EQ(d.at("slow_path_packets"), slow + control_replies + control_input_drops)
      << where << "verdict slow_path (slow_path_packets - ARP/ND replies - control drops)";
}

TEST_P(GoldenTest, Case) {
  absl::StatusOr<GoldenCase> loaded = LoadCase(GetParam());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const GoldenCase& c = *loaded;
  SCOPED_TRACE(c.file + ": " + c.description);

  absl::StatusOr<config::Config> cfg = config::LoadFile(c.config_file);
  ASSERT_TRUE(cfg.ok()) << c.config_file << ": " << cfg.status();
  config_ = *std::move(cfg);
  ASSERT_EQ(config_.dataplane.workers, 1u) << c.config_file << ": the runner drives one worker";

  for (const auto& [name, mac] : c.port_macs) {
    ASSERT_LT(PortIndex(name), config_.dataplane.ports.size())
        << c.file << ": port_macs names " << name << ", which the config does not have";
  }
  for (const config::Port& port : config_.dataplane.ports) {
    auto mac = c.port_macs.find(port.name);
    ASSERT_NE(mac, c.port_macs.end()) << c.file << ": port_macs has no MAC for " << port.name;
    rte_ether_addr addr{};
    std::copy(mac->second.begin(), mac->second.end(), addr.addr_bytes);
    absl::StatusOr<std::unique_ptr<RingPort>> ring =
        RingPort::Create(lb::EthdevName(port.device), addr, ring_serial_++);
    ASSERT_TRUE(ring.ok()) << ring.status();
    ports_.push_back(*std::move(ring));
  }

  appliance_ = std::make_unique<lb::Appliance>(config_);
  const absl::Status started = appliance_->Start();
  ASSERT_TRUE(started.ok()) << started;
  ASSERT_EQ(appliance_->worker_count(), 1u);

  const CounterValues at_start = ReadCounters(*appliance_, config_);
  uint64_t now_ms = kStartMs;
  for (size_t s = 0; s < c.steps.size(); ++s) {
    const Step& step = c.steps[s];
    now_ms += step.advance_ms;
    std::vector<uint32_t> per_port(ports_.size(), 0);
    for (const FrameOnPort& in : step.in) {
      const size_t p = PortIndex(in.port);
      ASSERT_LT(p, ports_.size()) << Where(c, in.line) << ": no port " << in.port;
      ASSERT_LE(++per_port[p], dataplane::kBurstSize)
          << Where(c, step.line) << ": at most one burst per port and step";
      const absl::Status queued = ports_[p]->Receive(appliance_->pool(), in.frame);
      ASSERT_TRUE(queued.ok()) << Where(c, in.line) << ": " << queued;
    }
    const CounterValues before = ReadCounters(*appliance_, config_);
    RunStep(now_ms);
    for (const auto& port : ports_) {
      ASSERT_EQ(port->pending_rx(), 0u) << Where(c, step.line) << ": frames left unread";
    }
    const CounterValues after = ReadCounters(*appliance_, config_);
    CheckOutputs(c, step, s);
    CheckVerdicts(c, step, s, Delta(before, after));
    // DESIGN.md: every packet is accounted for (worker TX buffers are flushed here).
    EXPECT_EQ(
        after.at("rx_packets") + after.at("injected_packets") + after.at("generated_packets"),
        after.at("tx_packets") + SumWithPrefix(after, "drops.") + after.at("slow_path_packets"))
        << Where(c, step.line) << ": step " << s
        << ": rx + injected + generated != tx + drops + slow_path on the worker";
  }

  const CounterValues moved = Delta(at_start, ReadCounters(*appliance_, config_));
  std::string mismatches;
  for (const auto& [name, want] : c.counters) {
    if (!moved.contains(name)) absl::StrAppendFormat(&mismatches, "  %s: no such counter\n", name);
  }
  for (const auto& [name, got] : moved) {
    auto it = c.counters.find(name);
    const uint64_t want = it == c.counters.end() ? 0 : it->second;
    if (got != want) {
      absl::StrAppendFormat(&mismatches, "  %-36s expected %d, moved %d\n", name,
                            static_cast<int64_t>(want), static_cast<int64_t>(got));
    }
  }
  EXPECT_TRUE(mismatches.empty()) << c.file << ": counters (unlisted ones must not move):\n"
                                  << mismatches;

  // Nothing leaks: every mbuf is back in the pool but those still waiting for ARP.
  EXPECT_EQ(rte_mempool_in_use_count(appliance_->pool()), c.mbufs_held_at_end)
      << c.file << ": packet buffers still in use at the end of the case";
}

std::string CaseName(const testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).stem().string();
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenTest, testing::ValuesIn(CaseFiles()), CaseName);

// A runner that finds no case would pass without testing anything.
TEST(GoldenCases, Found) {
  EXPECT_FALSE(CaseFiles().empty()) << "no case files in " << GoldenDir() << "/cases";
}

int FirstAllowedCpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) return cpu;
    }
  }
  return 0;
}

}  // namespace
}  // namespace sluice::golden

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  // Hermetic EAL: no hugepages, no shared config, no PCI scan, no telemetry socket. Two
  // lcores because lb::Appliance wants one per worker plus the control thread; both sit
  // on one CPU since the test steps the worker itself and never launches it.
  const int cpu = sluice::golden::FirstAllowedCpu();
  const std::string file_prefix = absl::StrFormat("sluice-golden-%d", getpid());
  const std::vector<std::string> eal = {argv[0],
                                        "--no-huge",
                                        "-m",
                                        "256",
                                        "--no-shconf",
                                        "--no-pci",
                                        "--no-telemetry",
                                        "--file-prefix",
                                        file_prefix,
                                        "--lcores",
                                        absl::StrFormat("0@%d,1@%d", cpu, cpu),
                                        "--log-level",
                                        "lib.eal:error"};
  const absl::Status status = sluice::dataplane::InitEal(eal);
  if (!status.ok()) {
    absl::FPrintF(stderr, "golden_test: %s\n", status.message());
    return 1;
  }
  const std::filesystem::path runtime_dir = rte_eal_get_runtime_dir();
  const int result = RUN_ALL_TESTS();
  rte_eal_cleanup();
  // The EAL leaves its runtime directory behind; it is this process's own (named after
  // its --file-prefix).
  if (runtime_dir.filename() == file_prefix) {
    std::error_code ec;
    std::filesystem::remove_all(runtime_dir, ec);
  }
  return result;
}
