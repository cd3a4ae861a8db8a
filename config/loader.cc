#include "config/loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "config/model_reader.h"
#include "config/validate.h"
#include "config/yaml_reader.h"

namespace sluice::config {
namespace {

absl::Status Fail(DiagnosticSink& sink, std::vector<Diagnostic>* out) {
  std::vector<Diagnostic> diagnostics = sink.TakeSorted();
  std::vector<std::string> lines;
  lines.reserve(diagnostics.size());
  for (const Diagnostic& d : diagnostics) lines.push_back(d.ToString());
  if (out != nullptr) *out = std::move(diagnostics);
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

// The first byte that is not UTF-8 text (invalid sequence, NUL or a control character
// other than tab, CR, LF), located as a 1-based line and column; nullopt for clean text.
struct BadByte {
  SourceLocation location;
  std::string message;
};

std::optional<BadByte> FindBadByte(std::string_view text) {
  SourceLocation at;
  size_t i = 0;
  if (text.starts_with("\xEF\xBB\xBF")) i = 3;  // a UTF-8 byte order mark is allowed
  while (i < text.size()) {
    const auto c = static_cast<uint8_t>(text[i]);
    size_t length = 1;
    bool ok = true;
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
        return BadByte{at, absl::StrFormat("binary data (byte 0x%02x); a config must be text", c)};
      }
    } else {
      // RFC 3629: lead byte ranges, then the tighter first-continuation ranges that
      // exclude overlong forms, surrogates and code points above U+10FFFF.
      uint8_t lo = 0x80;
      uint8_t hi = 0xBF;
      if (c >= 0xC2 && c <= 0xDF) {
        length = 2;
      } else if (c >= 0xE0 && c <= 0xEF) {
        length = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
      } else if (c >= 0xF0 && c <= 0xF4) {
        length = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
      } else {
        ok = false;
      }
      for (size_t k = 1; ok && k < length; ++k) {
        if (i + k >= text.size()) {
          ok = false;
          break;
        }
        const auto cc = static_cast<uint8_t>(text[i + k]);
        ok = k == 1 ? (cc >= lo && cc <= hi) : (cc >= 0x80 && cc <= 0xBF);
      }
      if (!ok) {
        return BadByte{at, absl::StrFormat("not valid UTF-8 (byte 0x%02x); a config must be "
                                           "UTF-8 text",
                                           c)};
      }
    }
    if (c == '\n') {
      ++at.line;
      at.column = 1;
    } else {
      ++at.column;
    }
    i += length;
  }
  return std::nullopt;
}

// First pass over the YAML events: refuses deep nesting before any tree is built and
// counts documents.
class StructureCheck : public YAML::EventHandler {
 public:
  struct TooDeep {
    YAML::Mark mark;
  };

  int documents = 0;

  void OnDocumentStart(const YAML::Mark& /*mark*/) override { ++documents; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& /*mark*/, YAML::anchor_t /*anchor*/) override {}
  void OnAlias(const YAML::Mark& /*mark*/, YAML::anchor_t /*anchor*/) override {}
  void OnScalar(const YAML::Mark& /*mark*/, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                const std::string& /*value*/) override {}
  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/,
                       YAML::anchor_t /*anchor*/, YAML::EmitterStyle::value /*style*/) override {
    Enter(mark);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                  YAML::EmitterStyle::value /*style*/) override {
    Enter(mark);
  }
  void OnMapEnd() override { --depth_; }

 private:
  void Enter(const YAML::Mark& mark) {
    if (++depth_ > kMaxNestingDepth) throw TooDeep{mark};
  }

  int depth_ = 0;
};

SourceLocation LocationOfMark(const YAML::Mark& mark) {
  if (mark.is_null()) return SourceLocation{};
  return SourceLocation{.line = mark.line + 1, .column = mark.column + 1};
}

// Parses `text` into one YAML document, or reports why not.
std::optional<YAML::Node> ParseYaml(std::string_view text, DiagnosticSink& sink) {
  try {
    {
      std::istringstream in{std::string(text)};
      YAML::Parser parser(in);
      StructureCheck check;
      while (parser.HandleNextDocument(check)) {
      }
      if (check.documents > 1) {
        sink.Error(SourceLocation{}, kDocumentPath,
                   absl::StrFormat("the file holds %d YAML documents; a config is one document",
                                   check.documents));
        return std::nullopt;
      }
    }
    return YAML::Load(std::string(text));
  } catch (const StructureCheck::TooDeep& e) {
    sink.Error(LocationOfMark(e.mark), kDocumentPath,
               absl::StrFormat("YAML nested deeper than %d levels", kMaxNestingDepth));
  } catch (const YAML::Exception& e) {
    sink.Error(LocationOfMark(e.mark), kDocumentPath, "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    sink.Error(SourceLocation{}, kDocumentPath, absl::StrCat("cannot parse YAML: ", e.what()));
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<Config> LoadString(std::string_view text, std::string_view file_name,
                                  std::vector<Diagnostic>* diagnostics) {
  DiagnosticSink sink{std::string(file_name)};
  if (text.size() > kMaxConfigBytes) {
    sink.Error(SourceLocation{}, kDocumentPath,
               absl::StrFormat("file is larger than %d bytes", kMaxConfigBytes));
    return Fail(sink, diagnostics);
  }
  if (std::optional<BadByte> bad = FindBadByte(text)) {
    sink.Error(bad->location, kDocumentPath, std::move(bad->message));
    return Fail(sink, diagnostics);
  }
  const std::optional<YAML::Node> root = ParseYaml(text, sink);
  if (!root) return Fail(sink, diagnostics);
  if (!root->IsMap()) {
    sink.Error(LocationOf(*root), kDocumentPath,
               root->IsNull() ? std::string("the file is empty; a config needs 'dataplane' and "
                                            "'services'")
                              : absl::StrFormat("expected a mapping with 'dataplane' and "
                                                "'services', got %s",
                                                KindName(*root)));
    return Fail(sink, diagnostics);
  }
  SourceMap sources;
  ReadContext ctx{.sink = sink, .sources = sources};
  Config config = ReadModel(ctx, *root);
  Validate(config, sources, sink);
  if (!sink.empty()) return Fail(sink, diagnostics);
  if (diagnostics != nullptr) diagnostics->clear();
  return config;
}

absl::StatusOr<Config> LoadFile(const std::string& path, std::vector<Diagnostic>* diagnostics) {
  DiagnosticSink sink{path};
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    sink.Error(SourceLocation{}, kDocumentPath,
               absl::StrFormat("cannot open: %s", std::strerror(errno)));
    return Fail(sink, diagnostics);
  }
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    sink.Error(SourceLocation{}, kDocumentPath, "is a directory, not a config file");
    return Fail(sink, diagnostics);
  }
  // Read at most one byte past the limit: enough to know a file (or a pipe, or
  // /dev/zero) is too big without reading all of it.
  std::string text;
  char buffer[65536];
  int read_errno = 0;
  while (text.size() <= kMaxConfigBytes) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) read_errno = errno;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  if (read_errno != 0) {
    sink.Error(SourceLocation{}, kDocumentPath,
               absl::StrFormat("cannot read: %s", std::strerror(read_errno)));
    return Fail(sink, diagnostics);
  }
  return LoadString(text, path, diagnostics);
}

}  // namespace sluice::config
