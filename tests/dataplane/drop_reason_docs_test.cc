// The operator's drop-reason tables (docs/dataplane.md, docs/operations.md) list exactly
// the drop reasons of dataplane/drop_reason.h: a reason cannot be added, renamed or
// removed without both tables following.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "dataplane/drop_reason.h"

namespace sluice::dataplane {
namespace {

// Labels of the table rows (| `label` | ...) between `heading` and the next heading.
std::set<std::string> DocumentedLabels(const std::string& path, const std::string& heading) {
  std::ifstream file(path);
  EXPECT_TRUE(file) << path << ": run from tests/dataplane (meson sets workdir)";
  std::set<std::string> labels;
  const std::regex row(R"(^\| `([a-z0-9_]+)` \|)");
  std::string line;
  std::smatch m;
  bool in_section = false;
  bool found = false;
  while (std::getline(file, line)) {
    if (line == heading) {
      in_section = found = true;
      continue;
    }
    if (in_section && line.starts_with("#")) break;
    if (in_section && std::regex_search(line, m, row)) labels.insert(m[1]);
  }
  EXPECT_TRUE(found) << path << " lost its \"" << heading << "\" section";
  return labels;
}

std::set<std::string> CodeLabels() {
  std::set<std::string> code;
  for (const DropReasonInfo& info : kDropReasonInfo) {
    EXPECT_TRUE(code.insert(std::string(info.label)).second) << "duplicate label " << info.label;
    EXPECT_FALSE(info.help.empty()) << info.label;
  }
  return code;
}

void ExpectSameLabels(const std::string& path, const std::string& heading) {
  const std::set<std::string> documented = DocumentedLabels(path, heading);
  const std::set<std::string> code = CodeLabels();
  EXPECT_EQ(code.size(), kDropReasonCount);
  for (const std::string& label : code) {
    EXPECT_TRUE(documented.contains(label)) << label << " is not in " << path;
  }
  for (const std::string& label : documented) {
    EXPECT_TRUE(code.contains(label)) << label << " is in " << path << " but not a drop reason";
  }
}

TEST(DropReasonDocsTest, DataplaneDocListsEveryReasonAndNothingElse) {
  ExpectSameLabels("../../docs/dataplane.md", "## Drop reasons");
}

TEST(DropReasonDocsTest, OperationsGuideListsEveryReasonAndNothingElse) {
  ExpectSameLabels("../../docs/operations.md", "### Drop reasons");
}

}  // namespace
}  // namespace sluice::dataplane
