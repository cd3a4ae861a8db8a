#include "lb/config_watch.h"

#include <sys/stat.h>

namespace sluice::lb {

std::optional<ConfigWatch::Identity> ConfigWatch::Current() const {
  struct stat st {};
  if (stat(path_.c_str(), &st) != 0) return std::nullopt;  // follows symlinks
  return Identity{.dev = st.st_dev, .ino = st.st_ino};
}

bool ConfigWatch::Changed() {
  const std::optional<Identity> now = Current();
  if (!now || now == last_) return false;
  last_ = now;
  return true;
}

void ConfigWatch::Mark() {
  if (std::optional<Identity> now = Current()) last_ = now;
}

}  // namespace sluice::lb
