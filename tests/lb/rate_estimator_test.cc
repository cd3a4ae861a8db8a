#include "lb/rate_estimator.h"

#include <gtest/gtest.h>

#include "absl/time/time.h"

namespace sluice::lb {
namespace {

// A fake clock: the estimator only sees the times it is given.
const absl::Time kT0 = absl::FromUnixSeconds(1000000);

TEST(RateEstimatorTest, FirstSampleIsZeroThenFollowsByAQuarter) {
  RateEstimator est;
  EXPECT_TRUE(est.Due(kT0));
  est.Sample(kT0, {{7, {.new_flows = 10, .packets = 1000, .bytes = 100000}}});
  EXPECT_EQ(est.RateOf(7).packets_per_s, 0);
  EXPECT_FALSE(est.Due(kT0 + absl::Milliseconds(999)));
  EXPECT_TRUE(est.Due(kT0 + absl::Seconds(1)));
  // 400 packets in 2 s: measured 200/s, the average moves a quarter of the way.
  est.Sample(kT0 + absl::Seconds(2), {{7, {.new_flows = 18, .packets = 1400, .bytes = 140000}}});
  EXPECT_DOUBLE_EQ(est.RateOf(7).packets_per_s, 50);
  EXPECT_DOUBLE_EQ(est.RateOf(7).new_flows_per_s, 1);
  EXPECT_DOUBLE_EQ(est.RateOf(7).bytes_per_s, 5000);
  // Steady 200/s: 50 + (200 - 50) / 4 = 87.5, then 115.625 ...
  est.Sample(kT0 + absl::Seconds(3), {{7, {.new_flows = 22, .packets = 1600, .bytes = 160000}}});
  EXPECT_DOUBLE_EQ(est.RateOf(7).packets_per_s, 87.5);
  est.Sample(kT0 + absl::Seconds(4), {{7, {.new_flows = 26, .packets = 1800, .bytes = 180000}}});
  EXPECT_DOUBLE_EQ(est.RateOf(7).packets_per_s, 115.625);
  // Idle: decays by a quarter per sample, towards 0.
  est.Sample(kT0 + absl::Seconds(5), {{7, {.new_flows = 26, .packets = 1800, .bytes = 180000}}});
  EXPECT_DOUBLE_EQ(est.RateOf(7).packets_per_s, 115.625 * 0.75);
}

TEST(RateEstimatorTest, SteadyRateIsReachedWithinSeconds) {
  RateEstimator est;
  uint64_t packets = 0;
  for (int s = 0; s <= 20; ++s) {
    est.Sample(kT0 + absl::Seconds(s), {{1, {.packets = packets}}});
    packets += 1000;
  }
  EXPECT_NEAR(est.RateOf(1).packets_per_s, 1000, 1000 * 0.01);
}

TEST(RateEstimatorTest, UnknownForgottenAndResetIds) {
  RateEstimator est;
  EXPECT_EQ(est.RateOf(3).packets_per_s, 0);  // never sampled
  est.Sample(kT0, {{3, {.packets = 100}}, {4, {.packets = 100}}});
  est.Sample(kT0 + absl::Seconds(1), {{3, {.packets = 500}}, {4, {.packets = 500}}});
  EXPECT_DOUBLE_EQ(est.RateOf(3).packets_per_s, 100);
  // 4 is gone (its service was removed); 3's total went down (its id was reused).
  est.Sample(kT0 + absl::Seconds(2), {{3, {.packets = 10}}});
  EXPECT_EQ(est.RateOf(4).packets_per_s, 0);
  EXPECT_EQ(est.RateOf(3).packets_per_s, 0);
  est.Sample(kT0 + absl::Seconds(3), {{3, {.packets = 410}}});
  EXPECT_DOUBLE_EQ(est.RateOf(3).packets_per_s, 100);
}

}  // namespace
}  // namespace sluice::lb
