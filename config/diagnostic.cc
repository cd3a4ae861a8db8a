#include "config/diagnostic.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace sluice::config {

std::string Diagnostic::ToString() const {
  return absl::StrFormat("%s:%d:%d: error: %s: %s", file, location.line, location.column, path,
                         message);
}

void DiagnosticSink::Error(SourceLocation location, std::string_view path, std::string message) {
  if (diagnostics_.size() >= kMaxDiagnostics) {
    ++dropped_;
    return;
  }
  diagnostics_.push_back(Diagnostic{.file = file_,
                                    .location = location,
                                    .path = std::string(path),
                                    .message = std::move(message)});
}

bool DiagnosticSink::HasErrorAt(std::string_view path) const {
  // `inner` is `outer` or lies inside it.
  auto within = [](std::string_view inner, std::string_view outer) {
    return inner.starts_with(outer) && (inner.size() == outer.size() ||
                                        inner[outer.size()] == '.' || inner[outer.size()] == '[');
  };
  return std::any_of(diagnostics_.begin(), diagnostics_.end(), [&](const Diagnostic& d) {
    return !d.path.empty() && (within(d.path, path) || within(path, d.path));
  });
}

std::vector<Diagnostic> DiagnosticSink::TakeSorted() {
  std::stable_sort(
      diagnostics_.begin(), diagnostics_.end(),
      [](const Diagnostic& a, const Diagnostic& b) { return a.location < b.location; });
  if (dropped_ > 0) {
    diagnostics_.push_back(
        Diagnostic{.file = file_,
                   .location = diagnostics_.back().location,
                   .path = std::string(kDocumentPath),
                   .message = absl::StrFormat("%d more errors not shown", dropped_)});
    dropped_ = 0;
  }
  return std::move(diagnostics_);
}

namespace {

// Levenshtein distance, case-insensitive; inputs are short key names.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution =
          diagonal + (absl::ascii_tolower(a[i - 1]) == absl::ascii_tolower(b[j - 1]) ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

}  // namespace

std::optional<std::string_view> ClosestMatch(std::string_view word,
                                             std::span<const std::string_view> candidates) {
  if (word.size() > 64) return std::nullopt;  // garbage, not a typo
  std::optional<std::string_view> best;
  size_t best_distance = 0;
  for (std::string_view candidate : candidates) {
    const size_t d = EditDistance(word, candidate);
    if (d <= 2 && 2 * d < std::max(word.size(), candidate.size()) && (!best || d < best_distance)) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

std::string DidYouMean(std::string_view word, std::span<const std::string_view> candidates) {
  const std::optional<std::string_view> match = ClosestMatch(word, candidates);
  return match ? absl::StrFormat("; did you mean '%s'?", *match) : std::string();
}

}  // namespace sluice::config
