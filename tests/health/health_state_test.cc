#include "health/health_state.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace sluice::health {
namespace {

// Feeds `results` ('S' success, 'F' failure) and returns, per result, the state change
// Record reported ('U' up, 'D' down, '.' none).
std::string Feed(HealthState& state, const std::string& results) {
  std::string changes;
  for (const char r : results) {
    const std::optional<Health> change = state.Record(r == 'S');
    changes.push_back(!change ? '.' : (*change == Health::kUp ? 'U' : 'D'));
  }
  return changes;
}

TEST(HealthStateTest, StartsInTheAssumedStateWithEmptyRuns) {
  const HealthState up({.rise = 2, .fall = 3}, Health::kUp);
  EXPECT_EQ(up.health(), Health::kUp);
  EXPECT_EQ(up.consecutive_successes(), 0u);
  EXPECT_EQ(up.consecutive_failures(), 0u);
  const HealthState down({.rise = 2, .fall = 3}, Health::kDown);
  EXPECT_EQ(down.health(), Health::kDown);
  EXPECT_EQ(down.consecutive_successes(), 0u);
  EXPECT_EQ(down.consecutive_failures(), 0u);
}

TEST(HealthStateTest, DownComesUpOnTheRiseThSuccess) {
  HealthState state({.rise = 3, .fall = 2}, Health::kDown);
  EXPECT_EQ(Feed(state, "SS"), "..");
  EXPECT_EQ(state.health(), Health::kDown);
  EXPECT_EQ(state.Record(true), Health::kUp);
  EXPECT_EQ(state.health(), Health::kUp);
  EXPECT_EQ(state.consecutive_successes(), 3u);
}

TEST(HealthStateTest, UpGoesDownOnTheFallThFailure) {
  HealthState state({.rise = 2, .fall = 3}, Health::kUp);
  EXPECT_EQ(Feed(state, "FF"), "..");
  EXPECT_EQ(state.health(), Health::kUp);
  EXPECT_EQ(state.Record(false), Health::kDown);
  EXPECT_EQ(state.health(), Health::kDown);
  EXPECT_EQ(state.consecutive_failures(), 3u);
}

TEST(HealthStateTest, FullCycleFromUp) {
  HealthState state({.rise = 2, .fall = 3}, Health::kUp);
  EXPECT_EQ(Feed(state, "SSFFFFSSSFFF"), "....D..U...D");
  EXPECT_EQ(state.health(), Health::kDown);
}

TEST(HealthStateTest, FullCycleFromDown) {
  HealthState state({.rise = 2, .fall = 3}, Health::kDown);
  EXPECT_EQ(Feed(state, "FFSSSFFFSS"), "...U...D.U");
  EXPECT_EQ(state.health(), Health::kUp);
}

TEST(HealthStateTest, ResultsAgreeingWithTheStateChangeNothing) {
  HealthState up({.rise = 1, .fall = 1}, Health::kUp);
  EXPECT_EQ(Feed(up, std::string(50, 'S')), std::string(50, '.'));
  EXPECT_EQ(up.health(), Health::kUp);
  EXPECT_EQ(up.consecutive_successes(), 50u);
  HealthState down({.rise = 1, .fall = 1}, Health::kDown);
  EXPECT_EQ(Feed(down, std::string(50, 'F')), std::string(50, '.'));
  EXPECT_EQ(down.health(), Health::kDown);
  EXPECT_EQ(down.consecutive_failures(), 50u);
}

TEST(HealthStateTest, FlapsFasterThanRiseAndFallNeverChangeState) {
  std::string flapping;
  for (int i = 0; i < 100; ++i) flapping += "SSF";
  for (const Health initial : {Health::kUp, Health::kDown}) {
    HealthState state({.rise = 3, .fall = 3}, initial);
    EXPECT_EQ(Feed(state, flapping), std::string(flapping.size(), '.'));
    EXPECT_EQ(state.health(), initial);
  }
  std::string flapping_down;
  for (int i = 0; i < 100; ++i) flapping_down += "FFS";
  for (const Health initial : {Health::kUp, Health::kDown}) {
    HealthState state({.rise = 3, .fall = 3}, initial);
    EXPECT_EQ(Feed(state, flapping_down), std::string(flapping_down.size(), '.'));
    EXPECT_EQ(state.health(), initial);
  }
}

TEST(HealthStateTest, AnOppositeResultRestartsTheRun) {
  HealthState state({.rise = 2, .fall = 2}, Health::kDown);
  EXPECT_EQ(Feed(state, "SFSFS"), ".....");
  EXPECT_EQ(state.consecutive_successes(), 1u);
  EXPECT_EQ(state.consecutive_failures(), 0u);
  EXPECT_EQ(state.Record(true), Health::kUp);
  EXPECT_EQ(Feed(state, "FSFSF"), ".....");
  EXPECT_EQ(state.consecutive_successes(), 0u);
  EXPECT_EQ(state.consecutive_failures(), 1u);
  EXPECT_EQ(state.Record(false), Health::kDown);
}

TEST(HealthStateTest, CountersDescribeTheCurrentRun) {
  HealthState state({.rise = 10, .fall = 10}, Health::kUp);
  const std::vector<std::tuple<bool, uint32_t, uint32_t>> steps = {
      {true, 1, 0},  {true, 2, 0}, {false, 0, 1}, {false, 0, 2},
      {false, 0, 3}, {true, 1, 0}, {false, 0, 1}, {true, 1, 0},
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    const auto [success, successes, failures] = steps[i];
    state.Record(success);
    EXPECT_EQ(state.consecutive_successes(), successes) << "step " << i;
    EXPECT_EQ(state.consecutive_failures(), failures) << "step " << i;
  }
}

TEST(HealthStateTest, CountersKeepCountingAcrossATransition) {
  HealthState state({.rise = 2, .fall = 2}, Health::kDown);
  EXPECT_EQ(Feed(state, "SSSS"), ".U..");
  EXPECT_EQ(state.consecutive_successes(), 4u);
  EXPECT_EQ(Feed(state, "FFF"), ".D.");
  EXPECT_EQ(state.consecutive_failures(), 3u);
  EXPECT_EQ(state.consecutive_successes(), 0u);
}

TEST(HealthStateTest, RiseAndFallOfOneFlipOnEveryOppositeResult) {
  HealthState state({.rise = 1, .fall = 1}, Health::kUp);
  EXPECT_EQ(Feed(state, "FSFFSS"), "DUD.U.");
}

TEST(HealthStateTest, ZeroThresholdsBehaveAsOne) {
  HealthState state({.rise = 0, .fall = 0}, Health::kDown);
  EXPECT_EQ(state.rise_fall().rise, 1u);
  EXPECT_EQ(state.rise_fall().fall, 1u);
  EXPECT_EQ(Feed(state, "SFS"), "UDU");
}

// Exact transition points for every combination of small thresholds.
class HealthStateThresholdTest : public testing::TestWithParam<std::tuple<uint32_t, uint32_t>> {};

TEST_P(HealthStateThresholdTest, TransitionsExactlyAtTheThreshold) {
  const auto [rise, fall] = GetParam();
  HealthState state({.rise = rise, .fall = fall}, Health::kDown);
  // rise-1 successes, a failure, then rise successes: up only on the very last one.
  const std::string up_run = std::string(rise - 1, 'S') + "F" + std::string(rise, 'S');
  const std::string up_expected = std::string(up_run.size() - 1, '.') + "U";
  EXPECT_EQ(Feed(state, up_run), up_expected);
  // fall-1 failures, a success, then fall failures: down only on the very last one.
  const std::string down_run = std::string(fall - 1, 'F') + "S" + std::string(fall, 'F');
  const std::string down_expected = std::string(down_run.size() - 1, '.') + "D";
  EXPECT_EQ(Feed(state, down_run), down_expected);
}

INSTANTIATE_TEST_SUITE_P(SmallThresholds, HealthStateThresholdTest,
                         testing::Combine(testing::Range<uint32_t>(1, 6),
                                          testing::Range<uint32_t>(1, 6)));

TEST(HealthStateTest, ToStringNamesTheStates) {
  EXPECT_EQ(ToString(Health::kUp), "up");
  EXPECT_EQ(ToString(Health::kDown), "down");
}

}  // namespace
}  // namespace sluice::health
