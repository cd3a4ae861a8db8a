// YAML tree -> Config: keys, types and per-value ranges. Relations between values
// (duplicates, families, modes, references) are validate.h's job.
#ifndef SLUICE_CONFIG_MODEL_READER_H_
#define SLUICE_CONFIG_MODEL_READER_H_

#include <yaml-cpp/yaml.h>

#include <cstddef>

#include "config/config.h"
#include "config/yaml_reader.h"

namespace sluice::config {

// Sizes beyond these are refused before their items are read. They bound the work a
// hostile file (for example one built from YAML aliases) can cause.
inline constexpr size_t kMaxPorts = 64;
inline constexpr size_t kMaxRoutes = 4096;
inline constexpr size_t kMaxNeighbors = 4096;
inline constexpr size_t kMaxEalArgs = 256;
inline constexpr size_t kMaxServices = 4096;
inline constexpr size_t kMaxBackendsPerService = 16384;
inline constexpr size_t kMaxBackendsTotal = 131072;
inline constexpr uint32_t kMaxWorkers = 128;

Config ReadModel(ReadContext& ctx, const YAML::Node& root);

// Every key path the reader knows ("dataplane.ports[].mtu"), found by reading a skeleton
// that opens every section; docs/config.md is tested against it.
std::set<std::string> KnownKeyPaths();

}  // namespace sluice::config

#endif  // SLUICE_CONFIG_MODEL_READER_H_
