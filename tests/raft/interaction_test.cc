// Runs every script in tests/raft/testdata/*.txt. Format (as etcd's datadriven):
//
//   # comment
//   <command> <args...> <key=value...>
//   ----
//   <expected output, up to the next blank line>
//
// TRI_REWRITE=1 rewrites the expected output in place, so that a behaviour
// change is reviewed as a diff of the script.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "raft/interaction_env.h"

namespace tri::raft::testing {
namespace {

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<std::string> ScriptFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(TRI_RAFT_TESTDATA_DIR)) {
    if (e.path().extension() == ".txt") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class InteractionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InteractionTest, MatchesExpectedOutput) {
  const std::string path = std::string(TRI_RAFT_TESTDATA_DIR) + "/" + GetParam();
  const std::vector<std::string> lines = ReadLines(path);
  const bool rewrite = std::getenv("TRI_REWRITE") != nullptr;
  InteractionEnv env;
  std::string rewritten;
  std::size_t i = 0;
  while (i < lines.size()) {
    const std::string& line = lines[i];
    if (line.empty() || line[0] == '#') {
      rewritten += line + "\n";
      ++i;
      continue;
    }
    const int line_number = static_cast<int>(i + 1);
    const Command cmd = ParseCommand(line, line_number);
    ++i;
    ASSERT_TRUE(i < lines.size() && lines[i] == "----")
        << path << ":" << line_number << ": expected ---- after the command";
    ++i;
    std::string expected;
    while (i < lines.size() && !lines[i].empty()) expected += lines[i++] + "\n";
    std::string actual;
    try {
      actual = env.Handle(cmd);
    } catch (const std::exception& e) {
      FAIL() << path << ":" << line_number << ": " << e.what();
    }
    rewritten += line + "\n----\n" + actual;
    if (!rewrite) {
      EXPECT_EQ(expected, actual) << path << ":" << line_number << ": " << line;
      if (expected != actual) return;  // later output would only repeat the divergence
    }
  }
  if (rewrite) {
    // Drop the trailing blank line the loop re-adds after the last block.
    std::ofstream out(path, std::ios::trunc);
    while (!rewritten.empty() && rewritten.back() == '\n' && rewritten.size() > 1 &&
           rewritten[rewritten.size() - 2] == '\n') {
      rewritten.pop_back();
    }
    out << rewritten;
  }
}

INSTANTIATE_TEST_SUITE_P(Scripts, InteractionTest, ::testing::ValuesIn(ScriptFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.size() - 4);
                           for (char& c : name) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace tri::raft::testing
