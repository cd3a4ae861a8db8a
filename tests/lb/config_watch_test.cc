#include "lb/config_watch.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sluice::lb {
namespace {

namespace fs = std::filesystem;

class ConfigWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("config-watch-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
  fs::path dir_;
};

TEST_F(ConfigWatchTest, RenameIsAChangeInPlaceWriteIsNot) {
  const fs::path config = dir_ / "sluice.yaml";
  Write(config, "a");
  ConfigWatch watch(config.string());
  EXPECT_FALSE(watch.Changed());
  Write(config, "half-writ");  // same inode: never taken
  EXPECT_FALSE(watch.Changed());
  Write(dir_ / "new.yaml", "b");
  fs::rename(dir_ / "new.yaml", config);
  EXPECT_TRUE(watch.Changed());
  EXPECT_FALSE(watch.Changed());  // once per replacement
}

TEST_F(ConfigWatchTest, SymlinkSwapIsAChangeAndAMissingFileIsNot) {
  Write(dir_ / "v1.yaml", "a");
  Write(dir_ / "v2.yaml", "b");
  const fs::path link = dir_ / "sluice.yaml";
  fs::create_symlink("v1.yaml", link);
  ConfigWatch watch(link.string());
  fs::create_symlink("v2.yaml", dir_ / "tmp-link");
  fs::rename(dir_ / "tmp-link", link);  // atomic swap
  EXPECT_TRUE(watch.Changed());
  fs::remove(link);
  EXPECT_FALSE(watch.Changed());
  fs::create_symlink("v2.yaml", link);  // back to what was last seen
  EXPECT_FALSE(watch.Changed());
}

TEST_F(ConfigWatchTest, MarkForgetsAReplacementAlreadyRead) {
  const fs::path config = dir_ / "sluice.yaml";
  Write(config, "a");
  ConfigWatch watch(config.string());
  Write(dir_ / "new.yaml", "b");
  fs::rename(dir_ / "new.yaml", config);
  watch.Mark();  // a SIGHUP reload read it already
  EXPECT_FALSE(watch.Changed());
}

}  // namespace
}  // namespace sluice::lb
