#include "sim/child_run.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace tri::sim {
namespace {

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  return out;
}

// The last non-empty line of `text` (an assertion's message).
std::string LastLine(const std::string& text) {
  std::size_t end = text.find_last_not_of('\n');
  if (end == std::string::npos) return "(no message)";
  const std::size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end + 1 - (start == std::string::npos ? 0 : start + 1));
}

}  // namespace

ChildRunOutcome RunInChild(const std::function<std::string()>& run) {
  ChildRunOutcome outcome;
  int result_pipe[2];
  int stderr_pipe[2];
  if (::pipe(result_pipe) != 0 || ::pipe(stderr_pipe) != 0) {
    outcome.violated = run();
    outcome.ok = outcome.violated.empty();
    outcome.child_reported = true;
    return outcome;
  }
  std::fflush(stdout);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(result_pipe[0]);
    ::close(stderr_pipe[0]);
    ::dup2(stderr_pipe[1], STDERR_FILENO);
    const std::string violated = run();
    std::fflush(stdout);
    (void)!::write(result_pipe[1], violated.data(), violated.size());
    ::_exit(violated.empty() ? 0 : 1);
  }
  ::close(result_pipe[1]);
  ::close(stderr_pipe[1]);
  const std::string child_stderr = ReadAll(stderr_pipe[0]);
  const std::string violated = ReadAll(result_pipe[0]);
  ::close(result_pipe[0]);
  ::close(stderr_pipe[0]);
  int status = 0;
  if (child < 0 || ::waitpid(child, &status, 0) != child) {
    outcome.violated = "simulator";
    outcome.details = "could not run the seed in a child process";
  } else if (WIFEXITED(status)) {
    outcome.ok = WEXITSTATUS(status) == 0;
    outcome.violated = violated;
    outcome.child_reported = true;
  } else {
    outcome.violated = "core assertion";
    outcome.details =
        fmt::format("the run stopped on signal {}: {}", WIFSIGNALED(status) ? WTERMSIG(status) : 0,
                    LastLine(child_stderr));
  }
  return outcome;
}

}  // namespace tri::sim
