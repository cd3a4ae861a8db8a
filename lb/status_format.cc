#include "lb/status_format.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace sluice::lb {
namespace {

std::string Rfc3339OrNever(absl::Time t) {
  if (t == absl::InfinitePast()) return "never";
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

std::vector<std::string> ErrorLines(const std::string& error) {
  return absl::StrSplit(error, '\n', absl::SkipEmpty());
}

const char* JsonBool(bool b) { return b ? "true" : "false"; }

std::string JsonStringArray(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  quoted.reserve(items.size());
  for (const std::string& item : items) quoted.push_back(JsonQuote(item));
  return absl::StrCat("[", absl::StrJoin(quoted, ","), "]");
}

ListTraffic Find(const absl::flat_hash_map<uint32_t, ListTraffic>& by_id, uint32_t id) {
  auto it = by_id.find(id);
  return it == by_id.end() ? ListTraffic{} : it->second;
}

// The rate columns: whole numbers above 10, one decimal below (a trickle stays visible).
std::string Rate(double r) {
  return r >= 10 ? absl::StrFormat("%.0f", r) : absl::StrFormat("%.1f", r);
}

std::string TrafficColumns(const ListTraffic& t, ListView view) {
  if (view == ListView::kRate) {
    return absl::StrCat(" new_flows/s=", Rate(t.new_flows_per_s),
                        " packets/s=", Rate(t.packets_per_s), " bytes/s=", Rate(t.bytes_per_s));
  }
  return absl::StrCat(" active=", t.active_flows, " new_flows=", t.new_flows,
                      " packets=", t.packets, " bytes=", t.bytes);
}

std::string TrafficJson(const ListTraffic& t, ListView view) {
  std::string out = absl::StrCat(",\"active_flows\":", t.active_flows);
  if (view == ListView::kStats) {
    absl::StrAppend(&out, ",\"stats\":{\"new_flows\":", t.new_flows, ",\"packets\":", t.packets,
                    ",\"bytes\":", t.bytes, "}");
  } else if (view == ListView::kRate) {
    absl::StrAppend(&out, ",\"rate\":{\"new_flows_per_second\":", t.new_flows_per_s,
                    ",\"packets_per_second\":", t.packets_per_s,
                    ",\"bytes_per_second\":", t.bytes_per_s, "}");
  }
  return out;
}

}  // namespace

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string FormatList(const StatusSnapshot& snapshot, const ListTrafficByIds& traffic,
                       ListView view) {
  std::string out;
  for (const ServiceStatus& service : snapshot.services) {
    absl::StrAppend(&out, "service ", service.name, " ", service.vip, " ", service.protocol, " ",
                    service.forwarding, " ", service.scheduler);
    if (view != ListView::kState) {
      absl::StrAppend(&out, TrafficColumns(Find(traffic.services, service.id), view), "\n");
      for (const BackendStatus& backend : service.backends) {
        absl::StrAppend(&out, "  backend ", backend.address,
                        TrafficColumns(Find(traffic.backends, backend.id), view), "\n");
      }
      continue;
    }
    absl::StrAppend(&out, " health=", service.health_check, " backends=", service.backends.size(),
                    " serving=", service.serving_backends(), "\n");
    for (const BackendStatus& backend : service.backends) {
      absl::StrAppend(&out, "  backend ", backend.address, " weight ", backend.weight,
                      " active=", Find(traffic.backends, backend.id).active_flows,
                      backend.up ? " up" : " down");
      if (backend.config_drain) out += " drained";
      if (backend.runtime_drain) out += " drained(runtime)";
      if (!backend.up && !backend.health_detail.empty()) {
        absl::StrAppend(&out, " (", backend.health_detail, ")");
      }
      out += "\n";
    }
  }
  return out;
}

std::string FormatStatus(const StatusSnapshot& snapshot) {
  const ReloadStatus& reload = snapshot.reload;
  std::string out =
      absl::StrCat("table_generation ", snapshot.table_generation, "\n", "reloads_succeeded ",
                   reload.successes, "\n", "reloads_failed ", reload.failures, "\n", "last_reload ",
                   reload.last_successful ? "ok" : "failed", "\n", "last_reload_success_time ",
                   Rfc3339OrNever(reload.last_success_time), "\n");
  for (size_t i = 0; i < snapshot.worker_table_generations.size(); ++i) {
    const uint64_t g = snapshot.worker_table_generations[i];
    absl::StrAppend(&out, "worker ", i, " table_generation ", g,
                    g == snapshot.table_generation ? "\n" : " (behind)\n");
  }
  if (!reload.last_summary.empty())
    absl::StrAppend(&out, "last_summary ", reload.last_summary, "\n");
  for (const std::string& change : reload.restart_required) {
    absl::StrAppend(&out, "restart_required ", change, "\n");
  }
  const std::vector<std::string> errors = ErrorLines(reload.last_error);
  if (!errors.empty()) {
    out += "last_error:\n";
    for (const std::string& line : errors) absl::StrAppend(&out, "  ", line, "\n");
  }
  return out;
}

std::string FormatListJson(const StatusSnapshot& snapshot, const ListTrafficByIds& traffic,
                           ListView view) {
  std::vector<std::string> services;
  for (const ServiceStatus& service : snapshot.services) {
    std::vector<std::string> backends;
    for (const BackendStatus& b : service.backends) {
      backends.push_back(absl::StrCat("{\"id\":", b.id, ",\"address\":", JsonQuote(b.address),
                                      ",\"weight\":", b.weight, ",\"up\":", JsonBool(b.up),
                                      ",\"serving\":", JsonBool(b.serving()),
                                      ",\"config_drain\":", JsonBool(b.config_drain),
                                      ",\"runtime_drain\":", JsonBool(b.runtime_drain),
                                      ",\"health_detail\":", JsonQuote(b.health_detail),
                                      TrafficJson(Find(traffic.backends, b.id), view), "}"));
    }
    services.push_back(absl::StrCat(
        "{\"id\":", service.id, ",\"name\":", JsonQuote(service.name),
        ",\"vip\":", JsonQuote(service.vip), ",\"protocol\":", JsonQuote(service.protocol),
        ",\"forwarding\":", JsonQuote(service.forwarding), ",\"scheduler\":",
        JsonQuote(service.scheduler), ",\"health\":", JsonQuote(service.health_check),
        ",\"backends_total\":", service.backends.size(), ",\"serving\":",
        service.serving_backends(), TrafficJson(Find(traffic.services, service.id), view),
        ",\"backends\":[", absl::StrJoin(backends, ","), "]}"));
  }
  return absl::StrCat("{\"table_generation\":", snapshot.table_generation, ",\"services\":[",
                      absl::StrJoin(services, ","), "]}\n");
}

std::string FormatStatusJson(const StatusSnapshot& snapshot) {
  const ReloadStatus& reload = snapshot.reload;
  const std::string success_time = reload.last_success_time == absl::InfinitePast()
                                       ? "null"
                                       : JsonQuote(Rfc3339OrNever(reload.last_success_time));
  return absl::StrCat(
      "{\"table_generation\":", snapshot.table_generation, ",\"worker_table_generations\":[",
      absl::StrJoin(snapshot.worker_table_generations, ","), "]",
      ",\"reloads_succeeded\":", reload.successes, ",\"reloads_failed\":", reload.failures,
      ",\"last_reload\":", reload.last_successful ? "\"ok\"" : "\"failed\"",
      ",\"last_reload_success_time\":", success_time,
      ",\"last_summary\":", JsonQuote(reload.last_summary),
      ",\"restart_required\":", JsonStringArray(reload.restart_required),
      ",\"last_error\":", JsonStringArray(ErrorLines(reload.last_error)), "}\n");
}

}  // namespace sluice::lb
