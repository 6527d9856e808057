#pragma once

// Runs the real `tri` binary (TRI_BINARY) as a child process from the source
// directory (TRI_SOURCE_DIR) and collects its exit code and output.

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace tri::cli::testing {

struct Ran {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

inline Ran RunTri(const std::string& args) {
  const std::string command =
      std::string("cd ") + TRI_SOURCE_DIR + " && " + TRI_BINARY + " " + args + " 2>&1";
  Ran ran;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return ran;
  std::array<char, 4096> buffer;
  std::size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    ran.out.append(buffer.data(), n);
  const int status = pclose(pipe);
  ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

}  // namespace tri::cli::testing
