#include "config/yaml_reader.h"

#include <algorithm>
#include <limits>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace sluice::config {

void SourceMap::Record(std::string path, SourceLocation location) {
  locations_.insert_or_assign(std::move(path), location);
}

SourceLocation SourceMap::At(std::string_view path) const {
  while (!path.empty()) {
    if (auto it = locations_.find(absl::string_view(path.data(), path.size()));
        it != locations_.end())
      return it->second;
    const size_t cut = path.find_last_of(".[");
    if (cut == std::string_view::npos) break;
    path = path.substr(0, cut);
  }
  return SourceLocation{};
}

SourceLocation LocationOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return SourceLocation{};
  return SourceLocation{.line = mark.line + 1, .column = mark.column + 1};
}

std::string_view KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

void ReadContext::Error(const YAML::Node& node, std::string_view path, std::string message) {
  sink.Error(LocationOf(node), path, std::move(message));
}

std::optional<std::string> ReadScalar(ReadContext& ctx, const YAML::Node& node,
                                      const std::string& path) {
  if (!node.IsScalar()) {
    ctx.Error(node, path, absl::StrFormat("expected a scalar value, got %s", KindName(node)));
    return std::nullopt;
  }
  return node.Scalar();
}

std::string JoinWords(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::string_view w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

namespace {

// Values are quoted back in messages; keep a hostile one from flooding the terminal.
std::string Quote(std::string_view text) {
  constexpr size_t kMax = 40;
  if (text.size() <= kMax) return absl::StrFormat("'%s'", text);
  return absl::StrFormat("'%s...'", text.substr(0, kMax));
}

// A scalar-to-T conversion that returns an error message on failure.
template <typename T>
using Converter = std::function<std::optional<T>(std::string_view text, std::string* error)>;

template <typename T>
ValueReader<T> FromScalar(Converter<T> convert) {
  return [convert = std::move(convert)](ReadContext& ctx, const YAML::Node& node,
                                        const std::string& path) -> std::optional<T> {
    const std::optional<std::string> text = ReadScalar(ctx, node, path);
    if (!text) return std::nullopt;
    std::string error;
    std::optional<T> value = convert(*text, &error);
    if (!value) ctx.Error(node, path, std::move(error));
    return value;
  };
}

std::optional<uint64_t> ParseUnsigned(std::string_view text) {
  uint64_t value = 0;
  if (text.empty() || text.size() > 19 || !absl::c_all_of(text, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &value)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

ValueReader<std::string> NonEmptyString() {
  return FromScalar<std::string>([](std::string_view text, std::string* error) {
    if (text.empty()) {
      *error = "must not be empty";
      return std::optional<std::string>();
    }
    return std::optional<std::string>(text);
  });
}

ValueReader<std::string> Name() {
  return FromScalar<std::string>([](std::string_view text, std::string* error) {
    const bool ok = !text.empty() && text.size() <= 63 && absl::c_all_of(text, [](char c) {
      return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.';
    });
    if (!ok) {
      *error = absl::StrFormat(
          "invalid name %s: use 1 to 63 characters from A-Z, a-z, 0-9, '_', '-', '.'", Quote(text));
      return std::optional<std::string>();
    }
    return std::optional<std::string>(text);
  });
}

ValueReader<bool> Bool() {
  return FromScalar<bool>([](std::string_view text, std::string* error) -> std::optional<bool> {
    if (text == "true") return true;
    if (text == "false") return false;
    *error = absl::StrFormat("expected true or false, got %s", Quote(text));
    return std::nullopt;
  });
}

ValueReader<uint32_t> IntegerIn(uint32_t min, uint32_t max) {
  return FromScalar<uint32_t>([min, max](std::string_view text,
                                         std::string* error) -> std::optional<uint32_t> {
    const std::optional<uint64_t> value = ParseUnsigned(text);
    if (!value || *value < min || *value > max) {
      *error = absl::StrFormat("expected an integer in [%d, %d], got %s", min, max, Quote(text));
      return std::nullopt;
    }
    return static_cast<uint32_t>(*value);
  });
}

ValueReader<uint16_t> PortNumber() {
  ValueReader<uint32_t> read = IntegerIn(1, 65535);
  return [read](ReadContext& ctx, const YAML::Node& node,
                const std::string& path) -> std::optional<uint16_t> {
    const std::optional<uint32_t> value = read(ctx, node, path);
    if (!value) return std::nullopt;
    return static_cast<uint16_t>(*value);
  };
}

ValueReader<absl::Duration> DurationIn(absl::Duration min, absl::Duration max) {
  return FromScalar<absl::Duration>(
      [min, max](std::string_view text, std::string* error) -> std::optional<absl::Duration> {
        absl::Duration d;
        // absl also accepts "inf", signs and a bare "0"; a config wants a positive amount
        // with a unit.
        const bool well_formed = !text.empty() && absl::ascii_isdigit(text.front()) &&
                                 absl::ascii_isalpha(text.back()) &&
                                 absl::ParseDuration(std::string(text), &d);
        if (!well_formed) {
          *error = absl::StrFormat(
              "malformed duration %s: expected a number with a unit (us, ms, s, m, h), like 500ms "
              "or 2s",
              Quote(text));
          return std::nullopt;
        }
        if (d < min || d > max) {
          *error = absl::StrFormat("duration %s is out of range [%s, %s]", Quote(text),
                                   absl::FormatDuration(min), absl::FormatDuration(max));
          return std::nullopt;
        }
        return d;
      });
}

ValueReader<IpAddress> Address(std::optional<IpFamily> family) {
  return FromScalar<IpAddress>([family](std::string_view text,
                                        std::string* error) -> std::optional<IpAddress> {
    const std::optional<IpAddress> a = IpAddress::Parse(text);
    if (!a) {
      *error = absl::StrFormat("malformed IP address %s", Quote(text));
      return std::nullopt;
    }
    if (family && a->family != *family) {
      *error = absl::StrFormat("expected an %s address, got %s", FamilyName(*family), Quote(text));
      return std::nullopt;
    }
    return a;
  });
}

ValueReader<IpPrefix> Prefix(std::optional<IpFamily> family) {
  return FromScalar<IpPrefix>([family](std::string_view text,
                                       std::string* error) -> std::optional<IpPrefix> {
    const std::optional<IpPrefix> p = IpPrefix::Parse(text);
    if (!p) {
      *error = absl::StrFormat("malformed prefix %s: expected ADDRESS/LENGTH like 10.0.0.2/24",
                               Quote(text));
      return std::nullopt;
    }
    if (family && p->address.family != *family) {
      *error = absl::StrFormat("expected an %s prefix, got %s", FamilyName(*family), Quote(text));
      return std::nullopt;
    }
    return p;
  });
}

ValueReader<MacAddress> Mac() {
  return FromScalar<MacAddress>(
      [](std::string_view text, std::string* error) -> std::optional<MacAddress> {
        const std::optional<MacAddress> mac = MacAddress::Parse(text);
        if (!mac) {
          *error = absl::StrFormat(
              "malformed MAC address %s: expected six hex pairs like "
              "02:00:00:00:00:11",
              Quote(text));
          return std::nullopt;
        }
        if (mac->is_multicast() || mac->is_zero()) {
          *error = absl::StrFormat("MAC address %s is not a unicast address", Quote(text));
          return std::nullopt;
        }
        return mac;
      });
}

ValueReader<SocketAddress> Endpoint() {
  return FromScalar<SocketAddress>(
      [](std::string_view text, std::string* error) -> std::optional<SocketAddress> {
        const std::optional<SocketAddress> endpoint = SocketAddress::Parse(text);
        if (!endpoint) {
          *error = absl::StrFormat(
              "malformed listen address %s: expected IP:PORT like 127.0.0.1:9750 or [::1]:9750",
              Quote(text));
        }
        return endpoint;
      });
}

ValueReader<std::string> AbsolutePath() {
  return FromScalar<std::string>([](std::string_view text,
                                    std::string* error) -> std::optional<std::string> {
    if (text.empty() || text.front() != '/' || text.size() > 107) {
      // 107: the longest path a Unix socket address (sun_path) can hold.
      *error =
          absl::StrFormat("expected an absolute path of at most 107 bytes, got %s", Quote(text));
      return std::nullopt;
    }
    return std::string(text);
  });
}

MapReader::MapReader(ReadContext& ctx, const YAML::Node& node, std::string path)
    : ctx_(ctx), node_(node), path_(std::move(path)), is_map_(node.IsMap()) {
  if (!is_map_) {
    ctx_.Error(node, path_, absl::StrFormat("expected a mapping, got %s", KindName(node)));
    return;
  }
  ctx_.sources.Record(path_, LocationOf(node));
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      ctx_.Error(kv.first, path_, "mapping keys must be plain words");
      continue;
    }
    entries_.push_back(Entry{.key = kv.first.Scalar(), .key_node = kv.first, .value = kv.second});
  }
}

std::string MapReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : absl::StrFormat("%s.%s", path_, key);
}

std::optional<YAML::Node> MapReader::Find(std::string_view key) {
  known_keys_.push_back(key);
  if (ctx_.asked_keys != nullptr) {
    // "services[3].backends[0].port" -> "services[].backends[].port"
    std::string path;
    bool in_index = false;
    for (char c : PathOf(key)) {
      if (c == ']') in_index = false;
      if (!in_index) path += c;
      if (c == '[') in_index = true;
    }
    ctx_.asked_keys->insert(std::move(path));
  }
  for (const Entry& e : entries_) {
    if (e.key != key) continue;
    if (e.value.IsNull()) return std::nullopt;
    ctx_.sources.Record(PathOf(key), LocationOf(e.value));
    return e.value;
  }
  return std::nullopt;
}

std::optional<YAML::Node> MapReader::FindRequired(std::string_view key) {
  std::optional<YAML::Node> value = Find(key);
  if (!value && is_map_) {
    const auto it = absl::c_find_if(entries_, [key](const Entry& e) { return e.key == key; });
    if (it != entries_.end()) {
      ctx_.Error(it->key_node, PathOf(key), "missing value");
    } else {
      ctx_.Error(node_, PathOf(key), absl::StrFormat("missing required key '%s'", key));
    }
  }
  return value;
}

void MapReader::Finish() {
  // Keyed by first occurrence: a hostile mapping can hold hundreds of thousands of
  // keys, so no pairwise comparison.
  absl::flat_hash_map<absl::string_view, const Entry*> first_by_key;
  for (const Entry& e : entries_) {
    const auto [it, inserted] =
        first_by_key.try_emplace(absl::string_view(e.key.data(), e.key.size()), &e);
    if (!inserted) {
      const SourceLocation at = LocationOf(it->second->key_node);
      ctx_.Error(e.key_node, PathOf(e.key),
                 absl::StrFormat("duplicate key '%s' (first at line %d, column %d)", e.key, at.line,
                                 at.column));
    } else if (!absl::c_linear_search(known_keys_, e.key)) {
      ctx_.Error(e.key_node, PathOf(e.key),
                 absl::StrFormat("unknown key '%s'%s", e.key, DidYouMean(e.key, known_keys_)));
    }
  }
}

void ForEachItem(ReadContext& ctx, const YAML::Node& node, const std::string& path,
                 size_t min_items, size_t max_items,
                 const std::function<void(const YAML::Node&, const std::string&)>& each) {
  if (!node.IsSequence()) {
    ctx.Error(node, path, absl::StrFormat("expected a sequence, got %s", KindName(node)));
    return;
  }
  if (node.size() < min_items) {
    ctx.Error(node, path,
              absl::StrFormat("needs at least %d item%s", min_items, min_items == 1 ? "" : "s"));
    return;
  }
  if (node.size() > max_items) {
    ctx.Error(node, path,
              absl::StrFormat("has %d items; at most %d are allowed", node.size(), max_items));
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = absl::StrFormat("%s[%d]", path, i);
    const YAML::Node item = node[i];
    ctx.sources.Record(item_path, LocationOf(item));
    each(item, item_path);
  }
}

}  // namespace sluice::config
