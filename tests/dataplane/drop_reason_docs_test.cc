// docs/dataplane.md documents exactly the drop reasons of dataplane/drop_reason.h: a
// reason cannot be added, renamed or removed without the operator's table following.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "dataplane/drop_reason.h"

namespace sluice::dataplane {
namespace {

std::set<std::string> DocumentedLabels(const std::string& markdown) {
  // Rows of the table under "## Drop reasons": | `label` | ... |
  const size_t start = markdown.find("## Drop reasons");
  EXPECT_NE(start, std::string::npos) << "docs/dataplane.md lost its Drop reasons section";
  std::set<std::string> labels;
  std::istringstream in(markdown.substr(start));
  const std::regex row(R"(^\| `([a-z0-9_]+)` \|)");
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, row)) labels.insert(m[1]);
  }
  return labels;
}

TEST(DropReasonDocsTest, EveryReasonIsDocumentedAndNothingElse) {
  std::ifstream file("../../docs/dataplane.md");
  ASSERT_TRUE(file) << "run from tests/dataplane (meson sets workdir)";
  std::stringstream text;
  text << file.rdbuf();
  const std::set<std::string> documented = DocumentedLabels(text.str());
  std::set<std::string> code;
  for (const DropReasonInfo& info : kDropReasonInfo) {
    EXPECT_TRUE(code.insert(std::string(info.label)).second) << "duplicate label " << info.label;
    EXPECT_FALSE(info.help.empty()) << info.label;
  }
  for (const std::string& label : code) {
    EXPECT_TRUE(documented.contains(label)) << label << " is not in docs/dataplane.md";
  }
  for (const std::string& label : documented) {
    EXPECT_TRUE(code.contains(label)) << label << " is documented but not a drop reason";
  }
}

}  // namespace
}  // namespace sluice::dataplane
