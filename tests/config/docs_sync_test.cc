// docs/config.md documents exactly the keys the parser reads: a key added to the code
// without docs, or documented but not read, fails here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "config/model_reader.h"

namespace sluice::config {
namespace {

// Headings "## `services[]` ..." and "### `services[].backends[]`" set the current
// path; table rows "| `key` | ..." below them name its keys. Sections themselves count
// as keys ("dataplane", "services").
std::set<std::string> DocumentedKeyPaths(const std::string& markdown) {
  static const std::regex kHeading(R"(^#{2,3} `([a-z_.\[\]]+)`)");
  static const std::regex kRow(R"(^\| `([a-z_0-9]+)` \|)");
  std::set<std::string> paths;
  std::string section;
  std::istringstream in(markdown);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, kHeading)) {
      section = m[1];
      std::string key = section;
      if (key.ends_with("[]")) key.resize(key.size() - 2);
      paths.insert(key);
    } else if (line.starts_with("## ")) {
      section.clear();  // a heading about something else
    } else if (!section.empty() && std::regex_search(line, m, kRow)) {
      paths.insert(section + "." + std::string(m[1]));
    }
  }
  return paths;
}

TEST(DocsSyncTest, ConfigReferenceMatchesTheParser) {
  std::ifstream file("../../docs/config.md");  // meson runs this in tests/config
  ASSERT_TRUE(file) << "docs/config.md not found";
  std::stringstream text;
  text << file.rdbuf();
  const std::set<std::string> documented = DocumentedKeyPaths(text.str());
  const std::set<std::string> parsed = KnownKeyPaths();
  EXPECT_GT(parsed.size(), 40u);  // the skeleton reached every section
  EXPECT_EQ(documented, parsed);
  for (const std::string& p : parsed) {
    EXPECT_TRUE(documented.contains(p)) << "read by the parser, missing in docs: " << p;
  }
  for (const std::string& p : documented) {
    EXPECT_TRUE(parsed.contains(p)) << "documented, unknown to the parser: " << p;
  }
}

TEST(DocsSyncTest, DocumentParserFindsRowsUnderHeadings) {
  const std::set<std::string> paths = DocumentedKeyPaths(
      "## `a` (required)\n| key | type |\n|---|---|\n| `x` | int |\n"
      "### `a.b[]`\n| `y` | int |\n| not a key | z |\n## Other\n| `ignored` | int |\n");
  EXPECT_EQ(paths, (std::set<std::string>{"a", "a.x", "a.b", "a.b[].y"}));
}

}  // namespace
}  // namespace sluice::config
