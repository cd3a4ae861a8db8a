// Notices when the config file is replaced: an atomic rename onto its path, or a swap
// of the symlink it is (or goes through). The identity compared is the device and inode
// of what the path resolves to, so a file being written in place, which keeps its inode,
// is never taken half-written; such edits apply on SIGHUP or `sluicectl reload`. Control
// thread only; polled (no inotify) because a symlink swap in a parent directory would
// escape a watch on the file's own directory.
#ifndef SLUICE_LB_CONFIG_WATCH_H_
#define SLUICE_LB_CONFIG_WATCH_H_

#include <sys/types.h>

#include <optional>
#include <string>

namespace sluice::lb {

class ConfigWatch {
 public:
  explicit ConfigWatch(std::string path) : path_(std::move(path)) { Mark(); }

  // True once per replacement: the path now resolves to another file than at the last
  // Mark (or Changed that returned true). A missing path is not a change (a replacement
  // in progress, or an operator's mistake that the next reload will report).
  bool Changed();
  // Records what the path resolves to now (after a reload for another reason read it).
  void Mark();

 private:
  struct Identity {
    dev_t dev = 0;
    ino_t ino = 0;
    friend bool operator==(const Identity&, const Identity&) = default;
  };
  std::optional<Identity> Current() const;

  std::string path_;
  std::optional<Identity> last_;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_CONFIG_WATCH_H_
