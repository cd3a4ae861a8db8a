// Relations between values of a Config that reading alone cannot check: names and
// services that must be unique, references to ports, address families per forwarding
// mode, health-check timing.
#ifndef SLUICE_CONFIG_VALIDATE_H_
#define SLUICE_CONFIG_VALIDATE_H_

#include "config/config.h"
#include "config/diagnostic.h"
#include "config/yaml_reader.h"

namespace sluice::config {

// Reports every problem to `sink`, located through `sources`.
void Validate(const Config& config, const SourceMap& sources, DiagnosticSink& sink);

}  // namespace sluice::config

#endif  // SLUICE_CONFIG_VALIDATE_H_
