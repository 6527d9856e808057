#include "datadriven/datadriven.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tri::datadriven {
namespace {

class TempScript {
 public:
  explicit TempScript(const std::string& text) {
    path_ =
        (std::filesystem::temp_directory_path() /
         ("tri_datadriven_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
          "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".txt"))
            .string();
    std::ofstream(path_) << text;
  }
  ~TempScript() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }
  std::string Read() const {
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::string path_;
};

// Echoes the command's name, arguments and options back, one per line.
std::string Echo(const Command& cmd) {
  if (cmd.name == "throw") throw std::runtime_error("handler failed");
  std::string out = cmd.name + "\n";
  for (const auto& arg : cmd.args)
    out += "arg " + arg + "\n";
  for (const auto& [key, value] : cmd.options)
    out += "opt " + key + "=" + value + "\n";
  return out;
}

TEST(DataDriven, ParsesNameArgumentsAndOptions) {
  const Command cmd = ParseCommand("fail  b code=503   retryable=false extra", 7);
  EXPECT_EQ(cmd.name, "fail");
  EXPECT_EQ(cmd.args, (std::vector<std::string>{"b", "extra"}));
  EXPECT_EQ(cmd.options.at("code"), "503");
  EXPECT_EQ(cmd.options.at("retryable"), "false");
  EXPECT_EQ(cmd.line, 7);
  EXPECT_EQ(cmd.text, "fail  b code=503   retryable=false extra");
}

TEST(DataDriven, PassesWhenEveryBlockMatches) {
  TempScript script(
      "# a comment\nhello world k=v\n----\nhello\narg world\nopt k=v\n\nbye\n----\nbye\n");
  const ScriptResult result = RunScript(script.path(), Echo, /*rewrite=*/false);
  EXPECT_TRUE(result.failures.empty()) << result.failures.front();
  EXPECT_FALSE(result.rewritten);
}

TEST(DataDriven, ReportsTheFirstMismatchWithItsLine) {
  TempScript script("one\n----\none\n\ntwo\n----\nthree\n\nfour\n----\nfive\n");
  const ScriptResult result = RunScript(script.path(), Echo, /*rewrite=*/false);
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_NE(result.failures[0].find(":5: two"), std::string::npos) << result.failures[0];
  EXPECT_NE(result.failures[0].find("--- expected\nthree\n--- actual\ntwo\n"), std::string::npos)
      << result.failures[0];
}

TEST(DataDriven, RewriteReplacesExpectedBlocksAndKeepsComments) {
  TempScript script("# keep me\none a\n----\nstale\n\n# and me\ntwo\n----\n");
  const ScriptResult result = RunScript(script.path(), Echo, /*rewrite=*/true);
  EXPECT_TRUE(result.failures.empty());
  EXPECT_TRUE(result.rewritten);
  EXPECT_EQ(script.Read(), "# keep me\none a\n----\none\narg a\n\n# and me\ntwo\n----\ntwo\n");
  EXPECT_TRUE(RunScript(script.path(), Echo, /*rewrite=*/false).failures.empty())
      << "a rewritten script passes";
}

TEST(DataDriven, FailsOnAMissingSeparatorOrAThrowingHandler) {
  TempScript missing("one\nno separator\n");
  EXPECT_NE(RunScript(missing.path(), Echo, false).failures.at(0).find("expected ----"),
            std::string::npos);
  TempScript throwing("throw\n----\n");
  EXPECT_NE(RunScript(throwing.path(), Echo, false).failures.at(0).find("handler failed"),
            std::string::npos);
  EXPECT_FALSE(RunScript("/nonexistent/script.txt", Echo, false).failures.empty());
}

TEST(DataDriven, NamesTestsAfterTheirFiles) {
  EXPECT_EQ(TestNameOf("leader_transfer.txt"), "leader_transfer");
  EXPECT_EQ(TestNameOf("retry-on.txt"), "retry_on");
}

}  // namespace
}  // namespace tri::datadriven
