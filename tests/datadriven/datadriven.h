#pragma once

// Data-driven test scripts, in the style of etcd's datadriven package: a
// script is a text file of commands, each followed by the exact output it
// must produce, so that a behaviour change reads as a diff of the script.
//
//   # comment (kept on rewrite)
//   <command> <args...> <key=value...>
//   ----
//   <expected output, up to the next blank line>
//
// Used by the Raft interaction tests (tests/raft/testdata/) and the saga
// orchestrator tests (tests/saga/testdata/). TRI_REWRITE=1 rewrites every
// script's expected blocks in place with the actual output.

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tri::datadriven {

// One script command: a name, positional arguments and key=value options
// (words are separated by spaces; a word with '=' is an option).
struct Command {
  std::string name;
  std::vector<std::string> args;
  std::map<std::string, std::string> options;
  int line = 0;      // 1-based line of the command in its script
  std::string text;  // the command line as written
};
Command ParseCommand(const std::string& line, int line_number);

// Runs one command; returns its output, lines ending in '\n' and no blank
// line (a blank line ends an expected block). May throw std::exception: the
// script fails at that command with the exception's message.
using Handler = std::function<std::string(const Command&)>;

struct ScriptResult {
  // "path:line: ..." for the first command whose output differs from its
  // expected block (later output would only repeat the divergence), or for a
  // malformed script or a handler that threw. Empty when the script passed.
  std::vector<std::string> failures;
  bool rewritten = false;  // the file was rewritten (rewrite mode)
};

// Runs the script at `path` through `handler`. With `rewrite`, no output is
// compared: the expected blocks are replaced with the actual output and the
// file is written back.
ScriptResult RunScript(const std::string& path, const Handler& handler, bool rewrite);

// True when TRI_REWRITE is set in the environment.
bool RewriteRequested();

// The *.txt files of `dir`, file names only, sorted.
std::vector<std::string> ScriptFiles(const std::string& dir);

// A gtest parameter name for a script file name ("leader_transfer.txt" ->
// "leader_transfer"; other characters than letters and digits become '_').
std::string TestNameOf(const std::string& file);

}  // namespace tri::datadriven
