// Helpers that read yaml-cpp nodes into typed values, reporting every problem with its
// location and key path instead of throwing. The model reader (model_reader.cc) is a
// sequence of calls to these.
#ifndef SLUICE_CONFIG_YAML_READER_H_
#define SLUICE_CONFIG_YAML_READER_H_

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "config/diagnostic.h"
#include "config/ip_address.h"

namespace sluice::config {

// Where each value of the model came from, by key path, so that validation after
// reading can point at the line it rejects.
class SourceMap {
 public:
  void Record(std::string path, SourceLocation location);
  // The location of `path`, or of its nearest recorded ancestor ("a.b[2].c" -> "a.b[2]"
  // -> "a.b" -> "a"), or 1:1.
  SourceLocation At(std::string_view path) const;

 private:
  absl::flat_hash_map<std::string, SourceLocation> locations_;
};

struct ReadContext {
  DiagnosticSink& sink;
  SourceMap& sources;
  // When set, receives the path of every key a reader asks for, list indexes written
  // as "[]" ("services[].backends[].weight"): the schema as the code knows it.
  std::set<std::string>* asked_keys = nullptr;

  void Error(const YAML::Node& node, std::string_view path, std::string message);
};

SourceLocation LocationOf(const YAML::Node& node);
std::string_view KindName(const YAML::Node& node);  // "a mapping", "a sequence", ...

// A value reader: reports its own error and returns nullopt on bad input.
template <typename T>
using ValueReader =
    std::function<std::optional<T>(ReadContext&, const YAML::Node&, const std::string&)>;

// The scalar text of `node`, or an error when it is not a scalar.
std::optional<std::string> ReadScalar(ReadContext& ctx, const YAML::Node& node,
                                      const std::string& path);

ValueReader<std::string> NonEmptyString();
// 1-63 characters of [A-Za-z0-9_.-]: names that end up in metric labels and commands.
ValueReader<std::string> Name();
ValueReader<bool> Bool();
ValueReader<uint32_t> IntegerIn(uint32_t min, uint32_t max);
ValueReader<uint16_t> PortNumber();  // [1, 65535]
// "500ms", "1s", "2m", "1h", "1m30s"; must lie in [min, max].
ValueReader<absl::Duration> DurationIn(absl::Duration min, absl::Duration max);
ValueReader<IpAddress> Address(std::optional<IpFamily> family = std::nullopt);
ValueReader<IpPrefix> Prefix(std::optional<IpFamily> family = std::nullopt);
ValueReader<MacAddress> Mac();
ValueReader<SocketAddress> Endpoint();
// Absolute filesystem path.
ValueReader<std::string> AbsolutePath();

std::string JoinWords(const std::vector<std::string_view>& words);  // "a, b, c"

// One of a fixed set of words, e.g. OneOf("protocol", {{"tcp", kTcp}, {"udp", kUdp}}).
template <typename T>
ValueReader<T> OneOf(std::string noun, std::vector<std::pair<std::string_view, T>> choices) {
  return
      [noun = std::move(noun), choices = std::move(choices)](
          ReadContext& ctx, const YAML::Node& node, const std::string& path) -> std::optional<T> {
        const std::optional<std::string> text = ReadScalar(ctx, node, path);
        if (!text) return std::nullopt;
        std::vector<std::string_view> words;
        for (const auto& [word, value] : choices) {
          if (word == *text) return value;
          words.push_back(word);
        }
        ctx.Error(node, path,
                  absl::StrFormat("unknown %s '%s'; expected one of: %s%s", noun, *text,
                                  JoinWords(words), DidYouMean(*text, words)));
        return std::nullopt;
      };
}

// Reads the keys of one YAML mapping. Every key the reader asks for becomes known;
// Finish() reports the others as unknown (with a "did you mean" among the known ones)
// and reports repeated keys.
class MapReader {
 public:
  // Reports an error when `node` is not a mapping; lookups then find nothing.
  MapReader(ReadContext& ctx, const YAML::Node& node, std::string path);
  MapReader(const MapReader&) = delete;
  MapReader& operator=(const MapReader&) = delete;

  // The value of `key` when present and not null.
  std::optional<YAML::Node> Find(std::string_view key);
  // As Find, and absence is an error.
  std::optional<YAML::Node> FindRequired(std::string_view key);

  template <typename T>
  bool Optional(std::string_view key, T* out, const ValueReader<T>& read) {
    return Assign(Find(key), key, out, read);
  }
  template <typename T>
  bool Optional(std::string_view key, std::optional<T>* out, const ValueReader<T>& read) {
    T value{};
    if (!Assign(Find(key), key, &value, read)) return false;
    *out = std::move(value);
    return true;
  }
  template <typename T>
  bool Required(std::string_view key, T* out, const ValueReader<T>& read) {
    return Assign(FindRequired(key), key, out, read);
  }

  bool is_map() const { return is_map_; }
  std::string PathOf(std::string_view key) const;

  void Finish();

 private:
  template <typename T>
  bool Assign(const std::optional<YAML::Node>& value, std::string_view key, T* out,
              const ValueReader<T>& read) {
    if (!value) return false;
    std::optional<T> parsed = read(ctx_, *value, PathOf(key));
    if (!parsed) return false;
    *out = std::move(*parsed);
    return true;
  }

  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };

  ReadContext& ctx_;
  YAML::Node node_;
  std::string path_;
  bool is_map_ = false;
  std::vector<Entry> entries_;
  std::vector<std::string_view> known_keys_;
};

// Calls `each(item, item_path)` for every item of the sequence `node`. Reports a node
// that is not a sequence, an empty one when `min_items` > 0, and one longer than
// `max_items` (whose items are then not read, which also bounds YAML alias expansion).
void ForEachItem(ReadContext& ctx, const YAML::Node& node, const std::string& path,
                 size_t min_items, size_t max_items,
                 const std::function<void(const YAML::Node&, const std::string&)>& each);

}  // namespace sluice::config

#endif  // SLUICE_CONFIG_YAML_READER_H_
