// Runs every script in tests/raft/testdata/*.txt through the shared
// data-driven runner (tests/datadriven/datadriven.h: commands, a ---- line,
// the expected output up to a blank line; TRI_REWRITE=1 rewrites the expected
// output in place, so that a behaviour change is reviewed as a diff of the
// script). The commands are InteractionEnv's (interaction_env.h).

#include <gtest/gtest.h>

#include <string>

#include "datadriven/datadriven.h"
#include "raft/interaction_env.h"

namespace tri::raft::testing {
namespace {

class InteractionTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InteractionTest, MatchesExpectedOutput) {
  InteractionEnv env;
  const auto handler = [&env](const datadriven::Command& cmd) { return env.Handle(cmd); };
  const datadriven::ScriptResult result =
      datadriven::RunScript(std::string(TRI_RAFT_TESTDATA_DIR) + "/" + GetParam(), handler,
                            datadriven::RewriteRequested());
  for (const std::string& failure : result.failures)
    ADD_FAILURE() << failure;
}

INSTANTIATE_TEST_SUITE_P(Scripts, InteractionTest,
                         ::testing::ValuesIn(datadriven::ScriptFiles(TRI_RAFT_TESTDATA_DIR)),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return datadriven::TestNameOf(info.param);
                         });

}  // namespace
}  // namespace tri::raft::testing
