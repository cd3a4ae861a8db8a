// Config errors as operators read them: "FILE:LINE:COLUMN: error: PATH: MESSAGE".
#ifndef SLUICE_CONFIG_DIAGNOSTIC_H_
#define SLUICE_CONFIG_DIAGNOSTIC_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::config {

// 1-based position in the config file.
struct SourceLocation {
  int line = 1;
  int column = 1;

  friend auto operator<=>(const SourceLocation&, const SourceLocation&) = default;
};

// Errors that concern the file as a whole (unreadable, too big, not YAML) use this
// path instead of a key path.
inline constexpr std::string_view kDocumentPath = "<document>";

struct Diagnostic {
  std::string file;
  SourceLocation location;
  std::string path;  // like "services[0].backends[2].address"
  std::string message;

  std::string ToString() const;
};

// Collects the errors of one load; the first error does not stop the load. Past
// kMaxDiagnostics errors only a count is kept (a hostile file can hold hundreds of
// thousands of bad keys), reported as one last diagnostic.
inline constexpr size_t kMaxDiagnostics = 1000;

class DiagnosticSink {
 public:
  explicit DiagnosticSink(std::string file) : file_(std::move(file)) {}

  void Error(SourceLocation location, std::string_view path, std::string message);
  bool empty() const { return diagnostics_.empty(); }
  size_t size() const { return diagnostics_.size() + dropped_; }
  // True when an error was reported at `path`, inside it or at one of its ancestors
  // ("a.b" is related to "a", "a.b" and "a.b[0].c", not to "a.bc" or "a.c"), so that
  // later checks can skip values that were never read.
  bool HasErrorAt(std::string_view path) const;
  // In file order (line, then column); errors at one place keep the order they came in.
  std::vector<Diagnostic> TakeSorted();

 private:
  std::string file_;
  std::vector<Diagnostic> diagnostics_;
  size_t dropped_ = 0;  // errors past kMaxDiagnostics
};

// The candidate closest to `word` by edit distance, if it is close enough to be what
// the writer meant (at most 2 edits, and fewer than half of the word's letters).
std::optional<std::string_view> ClosestMatch(std::string_view word,
                                             std::span<const std::string_view> candidates);

// "; did you mean 'x'?" when there is a close candidate, else "".
std::string DidYouMean(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace sluice::config

#endif  // SLUICE_CONFIG_DIAGNOSTIC_H_
