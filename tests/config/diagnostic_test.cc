#include "config/diagnostic.h"

#include <gtest/gtest.h>

#include <array>
#include <string_view>

#include "absl/strings/str_format.h"

namespace sluice::config {
namespace {

TEST(DiagnosticTest, FormatsAsFileLineColumn) {
  const Diagnostic d{.file = "sluice.yaml",
                     .location = {.line = 12, .column = 7},
                     .path = "services[0].port",
                     .message = "expected an integer in [1, 65535], got '0'"};
  EXPECT_EQ(
      d.ToString(),
      "sluice.yaml:12:7: error: services[0].port: expected an integer in [1, 65535], got '0'");
}

TEST(DiagnosticTest, SinkSortsByPositionKeepingArrivalOrderAtOnePlace) {
  DiagnosticSink sink("f");
  sink.Error({.line = 9, .column = 1}, "c", "third");
  sink.Error({.line = 2, .column = 5}, "b", "second");
  sink.Error({.line = 2, .column = 3}, "a", "first");
  sink.Error({.line = 9, .column = 1}, "d", "fourth");
  const auto sorted = sink.TakeSorted();
  ASSERT_EQ(sorted.size(), 4u);
  EXPECT_EQ(sorted[0].message, "first");
  EXPECT_EQ(sorted[1].message, "second");
  EXPECT_EQ(sorted[2].message, "third");
  EXPECT_EQ(sorted[3].message, "fourth");
}

TEST(DiagnosticTest, SinkKeepsTheFirstErrorsAndCountsTheRest) {
  DiagnosticSink sink("f");
  for (size_t i = 0; i < kMaxDiagnostics + 5; ++i) {
    sink.Error({.line = static_cast<int>(i) + 1, .column = 1}, "p", "e");
  }
  EXPECT_EQ(sink.size(), kMaxDiagnostics + 5);
  const auto all = sink.TakeSorted();
  ASSERT_EQ(all.size(), kMaxDiagnostics + 1);
  EXPECT_EQ(all.back().ToString(),
            absl::StrFormat("f:%d:1: error: <document>: 5 more errors not shown", kMaxDiagnostics));
}

TEST(DiagnosticTest, HasErrorAtCoversAncestorsAndDescendants) {
  DiagnosticSink sink("f");
  sink.Error({}, "services[1].backends[0].address", "x");
  EXPECT_TRUE(sink.HasErrorAt("services[1]"));
  EXPECT_TRUE(sink.HasErrorAt("services[1].backends"));
  EXPECT_TRUE(sink.HasErrorAt("services[1].backends[0].address"));
  EXPECT_FALSE(sink.HasErrorAt("services[1].backends[0].port"));
  EXPECT_FALSE(sink.HasErrorAt("services[10]"));
  EXPECT_FALSE(sink.HasErrorAt("services[1].backends[0].addr"));
  EXPECT_FALSE(sink.HasErrorAt("services[1].backends[0].address6"));
  sink.Error({}, "dataplane", "missing");
  EXPECT_TRUE(sink.HasErrorAt("dataplane.ports[0].name"));  // never read
  EXPECT_FALSE(sink.HasErrorAt("dataplanes"));
}

TEST(DidYouMeanTest, SuggestsCloseWordsOnly) {
  constexpr std::array<std::string_view, 4> kKeys = {"backends", "health_check", "port",
                                                     "protocol"};
  EXPECT_EQ(DidYouMean("backend", kKeys), "; did you mean 'backends'?");
  EXPECT_EQ(DidYouMean("helth_check", kKeys), "; did you mean 'health_check'?");
  EXPECT_EQ(DidYouMean("Port", kKeys), "; did you mean 'port'?");
  EXPECT_EQ(DidYouMean("protocl", kKeys), "; did you mean 'protocol'?");
  EXPECT_EQ(DidYouMean("weight", kKeys), "");
  EXPECT_EQ(DidYouMean("pt", kKeys), "");  // 2 edits on 2-4 letters is a different word
}

}  // namespace
}  // namespace sluice::config
