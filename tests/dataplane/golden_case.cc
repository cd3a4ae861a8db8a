#include "tests/dataplane/golden_case.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "config/ip_address.h"
#include "dataplane/drop_reason.h"

namespace sluice::golden {

namespace {

// Errors carry the case file's line (1-based) so a bad case is quick to find.
class CaseError {
 public:
  CaseError(const YAML::Node& node, std::string message)
      : line_(node.Mark().line + 1), message_(std::move(message)) {}
  absl::Status ToStatus(const std::string& file) const {
    return absl::InvalidArgumentError(absl::StrFormat("%s:%d: %s", file, line_, message_));
  }

 private:
  int line_;
  std::string message_;
};

void CheckKeys(const YAML::Node& map, const std::set<std::string>& allowed,
               const std::set<std::string>& required, std::string_view what) {
  if (!map.IsMap()) throw CaseError(map, absl::StrFormat("%s: expected a mapping", what));
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (!allowed.contains(key)) {
      throw CaseError(kv.first, absl::StrFormat("%s: unknown key '%s' (known: %s)", what, key,
                                                absl::StrJoin(allowed, ", ")));
    }
  }
  for (const std::string& key : required) {
    if (!map[key]) throw CaseError(map, absl::StrFormat("%s: missing '%s'", what, key));
  }
}

std::string Scalar(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) throw CaseError(node, absl::StrFormat("%s: expected a scalar", what));
  return node.Scalar();
}

uint64_t Unsigned(const YAML::Node& node, std::string_view what) {
  const std::string text = Scalar(node, what);
  uint64_t value = 0;
  if (text.empty() || !absl::c_all_of(text, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(text, &value)) {
    throw CaseError(node, absl::StrFormat("%s: '%s' is not an unsigned integer", what, text));
  }
  return value;
}

Verdict ParseVerdict(const YAML::Node& node) {
  const std::string text = Scalar(node, "verdict");
  Verdict v;
  if (text == "forward") {
    v.kind = Verdict::Kind::kForward;
  } else if (text == "reply") {
    v.kind = Verdict::Kind::kReply;
  } else if (text == "nat_reply") {
    v.kind = Verdict::Kind::kNatReply;
  } else if (text == "slow_path") {
    v.kind = Verdict::Kind::kSlowPath;
  } else if (absl::StartsWith(text, "drop:")) {
    v.kind = Verdict::Kind::kDrop;
    v.drop_label = text.substr(5);
    const bool known = absl::c_any_of(dataplane::kDropReasonInfo,
                                      [&](const auto& info) { return info.label == v.drop_label; });
    if (!known) throw CaseError(node, absl::StrFormat("no drop reason '%s'", v.drop_label));
  } else {
    throw CaseError(
        node,
        absl::StrFormat("verdict '%s': expected forward, reply, nat_reply, slow_path or drop:LABEL",
                        text));
  }
  return v;
}

FrameOnPort ParseFrameOnPort(const YAML::Node& node, bool input) {
  if (input) {
    CheckKeys(node, {"port", "frame", "verdict"}, {"port", "frame", "verdict"}, "in[]");
  } else {
    CheckKeys(node, {"port", "frame"}, {"port", "frame"}, "out[]");
  }
  FrameOnPort f;
  f.line = node.Mark().line + 1;
  f.port = Scalar(node["port"], "port");
  absl::StatusOr<Frame> bytes = ParseHex(Scalar(node["frame"], "frame"));
  if (!bytes.ok()) throw CaseError(node["frame"], absl::StrCat(bytes.status().message()));
  f.frame = std::move(*bytes);
  if (input) f.verdict = ParseVerdict(node["verdict"]);
  return f;
}

Step ParseStep(const YAML::Node& node) {
  CheckKeys(node, {"advance_ms", "in", "out", "held"}, {}, "steps[]");
  Step step;
  step.line = node.Mark().line + 1;
  if (node["advance_ms"]) step.advance_ms = Unsigned(node["advance_ms"], "advance_ms");
  for (const char* key : {"in", "out", "held"}) {
    if (node[key] && !node[key].IsSequence()) {
      throw CaseError(node[key], absl::StrFormat("%s: expected a list", key));
    }
  }
  if (node["in"]) {
    for (const YAML::Node& f : node["in"]) step.in.push_back(ParseFrameOnPort(f, true));
  }
  if (node["out"]) {
    for (const YAML::Node& f : node["out"]) step.out.push_back(ParseFrameOnPort(f, false));
  }
  if (node["held"]) {
    for (const YAML::Node& v : node["held"]) {
      Verdict verdict = ParseVerdict(v);
      if (verdict.kind != Verdict::Kind::kForward && verdict.kind != Verdict::Kind::kDrop) {
        throw CaseError(v, "held: a held frame is either forwarded or dropped");
      }
      step.held.push_back(std::move(verdict));
    }
  }
  return step;
}

}  // namespace

std::string Verdict::ToString() const {
  switch (kind) {
    case Kind::kForward:
      return "forward";
    case Kind::kReply:
      return "reply";
    case Kind::kNatReply:
      return "nat_reply";
    case Kind::kSlowPath:
      return "slow_path";
    case Kind::kDrop:
      return "drop:" + drop_label;
  }
  return "?";
}

absl::StatusOr<Frame> ParseHex(std::string_view text) {
  Frame frame;
  int high = -1;
  for (char c : text) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      if (high >= 0) return absl::InvalidArgumentError("hex: a byte split by whitespace");
      continue;
    }
    int value;
    if (c >= '0' && c <= '9') {
      value = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      value = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      value = c - 'A' + 10;
    } else {
      return absl::InvalidArgumentError(absl::StrFormat("hex: unexpected character '%c'", c));
    }
    if (high < 0) {
      high = value;
    } else {
      frame.push_back(static_cast<uint8_t>(high << 4 | value));
      high = -1;
    }
  }
  if (high >= 0) return absl::InvalidArgumentError("hex: odd number of digits");
  return frame;
}

absl::StatusOr<GoldenCase> LoadCase(const std::string& path) {
  GoldenCase c;
  c.file = path;
  try {
    const YAML::Node root = YAML::LoadFile(path);
    CheckKeys(root,
              {"description", "config", "port_macs", "steps", "counters", "mbufs_held_at_end"},
              {"description", "config", "port_macs", "steps", "counters"}, "case");
    c.description = Scalar(root["description"], "description");
    c.config_file = (std::filesystem::path(path).parent_path() / Scalar(root["config"], "config"))
                        .lexically_normal()
                        .string();
    const YAML::Node& macs = root["port_macs"];
    if (!macs.IsMap()) throw CaseError(macs, "port_macs: expected a mapping");
    for (const auto& kv : macs) {
      const std::optional<config::MacAddress> mac =
          config::MacAddress::Parse(Scalar(kv.second, "port_macs"));
      if (!mac) throw CaseError(kv.second, "port_macs: not a MAC address");
      c.port_macs[kv.first.as<std::string>()] = mac->bytes;
    }
    if (!root["steps"].IsSequence() || root["steps"].size() == 0) {
      throw CaseError(root["steps"], "steps: expected a non-empty list");
    }
    for (const YAML::Node& step : root["steps"]) c.steps.push_back(ParseStep(step));
    const YAML::Node& counters = root["counters"];
    if (!counters.IsMap()) throw CaseError(counters, "counters: expected a mapping");
    for (const auto& kv : counters) {
      c.counters[kv.first.as<std::string>()] = Unsigned(kv.second, kv.first.as<std::string>());
    }
    if (root["mbufs_held_at_end"]) {
      c.mbufs_held_at_end = Unsigned(root["mbufs_held_at_end"], "mbufs_held_at_end");
    }
  } catch (const CaseError& e) {
    return e.ToStatus(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s", path, e.what()));
  }
  return c;
}

}  // namespace sluice::golden
