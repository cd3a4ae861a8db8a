// Loads a config from YAML text for a test, failing the test (with the first error) when
// it does not validate.
#ifndef SLUICE_TESTS_LB_LOAD_CONFIG_H_
#define SLUICE_TESTS_LB_LOAD_CONFIG_H_

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/loader.h"

namespace sluice::lb {

inline config::Config LoadTestConfig(const std::string& yaml) {
  std::vector<config::Diagnostic> diagnostics;
  absl::StatusOr<config::Config> config = config::LoadString(yaml, "test.yaml", &diagnostics);
  EXPECT_TRUE(config.ok()) << (diagnostics.empty() ? "" : diagnostics[0].ToString());
  return config.ok() ? *config : config::Config{};
}

}  // namespace sluice::lb

#endif  // SLUICE_TESTS_LB_LOAD_CONFIG_H_
