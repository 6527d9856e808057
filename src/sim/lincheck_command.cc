#include "sim/lincheck_command.h"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "sim/history_json.h"
#include "sim/linearizability.h"

namespace tri::sim {
namespace {

constexpr int kExitLinearizable = 0;
constexpr int kExitNotLinearizable = 1;
constexpr int kExitInconclusiveOrBadInput = 2;

// Bound on the history file read into memory.
constexpr std::uint64_t kMaxHistoryFileBytes = 256ull * 1024 * 1024;

}  // namespace

LincheckCommand::LincheckCommand(CLI::App& app)
    : max_search_steps_per_key_(LinearizabilityOptions{}.max_search_steps_per_key) {
  command_ =
      app.add_subcommand("lincheck",
                         "check a JSON-lines client history (put/get/cas on integer keys) "
                         "for linearizability; exit 0 yes, 1 no, 2 inconclusive or bad input");
  command_->add_option("FILE", path_, "history, one JSON operation per line")->required();
  command_->add_option("--max-search-steps-per-key", max_search_steps_per_key_,
                       "search budget per key before the verdict is inconclusive");
}

int LincheckCommand::Run() const {
  std::ifstream file(path_, std::ios::binary);
  if (!file) {
    fmt::print(stderr, "tri-sim lincheck: cannot open '{}'\n", path_);
    return kExitInconclusiveOrBadInput;
  }
  file.seekg(0, std::ios::end);
  const std::streamoff size = file.tellg();
  file.seekg(0, std::ios::beg);
  if (size < 0 || static_cast<std::uint64_t>(size) > kMaxHistoryFileBytes) {
    fmt::print(stderr, "tri-sim lincheck: '{}' is larger than the bound of {} bytes\n", path_,
               kMaxHistoryFileBytes);
    return kExitInconclusiveOrBadInput;
  }
  std::ostringstream text;
  text << file.rdbuf();

  Result<KvHistory> history = ParseHistoryJsonLines(text.str(), path_);
  if (!history.ok()) {
    fmt::print(stderr, "tri-sim lincheck: {}\n", history.status().message());
    return kExitInconclusiveOrBadInput;
  }
  LinearizabilityOptions options;
  options.max_search_steps_per_key = max_search_steps_per_key_;
  const LinearizabilityResult result = CheckKvLinearizability(*history, options);
  fmt::print("tri-sim lincheck: {}: {} operation(s), {} key(s), {} search step(s): {}\n", path_,
             history->size(), result.keys_checked, result.search_steps,
             VerdictName(result.verdict));
  switch (result.verdict) {
    case LinearizabilityVerdict::kLinearizable:
      return kExitLinearizable;
    case LinearizabilityVerdict::kNotLinearizable:
      fmt::print("key {}: {}\n", result.failing_key, result.explanation);
      return kExitNotLinearizable;
    case LinearizabilityVerdict::kInconclusive:
      fmt::print("key {}: search budget of {} steps per key spent\n", result.failing_key,
                 max_search_steps_per_key_);
      return kExitInconclusiveOrBadInput;
  }
  return kExitInconclusiveOrBadInput;
}

}  // namespace tri::sim
