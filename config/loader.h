// Loading a config file: read it within limits, parse the YAML, read the model,
// validate it. A config is returned only when it is valid as a whole.
#ifndef SLUICE_CONFIG_LOADER_H_
#define SLUICE_CONFIG_LOADER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "config/diagnostic.h"

namespace sluice::config {

// Files larger than this are refused unread: a real config with thousands of backends
// is a few hundred KiB.
inline constexpr size_t kMaxConfigBytes = 4 << 20;
// Deeper YAML nesting is refused; the config model itself is at most 5 levels deep.
inline constexpr int kMaxNestingDepth = 32;

// On failure returns InvalidArgument (NotFound/PermissionDenied... for unreadable files)
// whose message holds every diagnostic, one per line; `diagnostics`, when given,
// receives them as values, in file order.
absl::StatusOr<Config> LoadFile(const std::string& path,
                                std::vector<Diagnostic>* diagnostics = nullptr);

// As LoadFile, for text already in memory; `file_name` is what diagnostics print.
absl::StatusOr<Config> LoadString(std::string_view text, std::string_view file_name,
                                  std::vector<Diagnostic>* diagnostics = nullptr);

}  // namespace sluice::config

#endif  // SLUICE_CONFIG_LOADER_H_
