// RunProcess: one child process per exec attempt, watched by poll() over its
// stdout/stderr pipes, a pidfd for its exit and an eventfd for cancellation.
//
// Lifecycle of the child's process group (pgid == child pid):
//   fork (child: PR_SET_PDEATHSIG, own group, default signals, exec) -> [cancel: SIGTERM to the
//   group, SIGKILL after kill_grace]
//         -> [stdout over the limit: SIGKILL to the group at once]
//         -> child exits (seen with waitid(WNOWAIT), so it stays a zombie)
//         -> SIGKILL to the group (background leftovers) -> drain pipes -> reap.
// Keeping the child unreaped until the group is killed keeps the pgid from
// being reused, so the killpg can never hit an unrelated group.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"
#include "exec/blocking_actions.h"
#include "exec/text_bounds.h"
#include "saga/events.h"

extern char** environ;

namespace tri::exec {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Poll period when no pidfd is available: the exit of the child is noticed
// with this latency at worst.
constexpr int kFallbackPollMillis = 10;
constexpr std::size_t kReadChunkBytes = 64 << 10;
// After the child exited and its group was killed, reads per pipe before we
// stop draining (a writer that escaped the group with setsid could otherwise
// keep us reading forever).
constexpr int kMaxDrainReads = 64;
// Messages quote at most this much of a shell script.
constexpr std::size_t kMaxScriptNameBytes = 120;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.fd_;
      other.fd_ = -1;
    }
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string Errno(int error) {
  return std::strerror(error);
}

bool HasNul(const std::string& s) {
  return s.find('\0') != std::string::npos;
}

// "environ plus overrides", as owned strings in a stable order.
std::vector<std::string> BuildEnvironment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view kv(*entry);
    std::size_t eq = kv.find('=');
    std::string_view name = kv.substr(0, eq);
    if (overrides.count(std::string(name)) != 0) continue;
    env.emplace_back(kv);
  }
  for (const auto& [name, value] : overrides)
    env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings)
    pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// A pipe whose read end (ours) is non-blocking and whose write end (the
// child's) stays blocking; both close on exec.
bool MakePipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end = Fd(fds[0]);
  write_end = Fd(fds[1]);
  int flags = ::fcntl(read_end.get(), F_GETFL);
  return flags >= 0 && ::fcntl(read_end.get(), F_SETFL, flags | O_NONBLOCK) == 0;
}

// Both ends blocking and close-on-exec.
bool MakeBlockingPipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end = Fd(fds[0]);
  write_end = Fd(fds[1]);
  return true;
}

int PidfdOpen(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

// Everything the child needs between fork() and exec, prepared in the parent:
// after fork() in a threaded process the child may only make
// async-signal-safe calls (no allocation, no locks), so every string and
// pointer array is built here and the child only reads them.
struct ChildPlan {
  std::vector<std::string> candidates;  // full paths to try, in PATH order
  std::vector<char*> argv;
  std::vector<char*> envp;
  const char* cwd = nullptr;  // nullptr: stay
  pid_t parent = 0;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  int error_fd = -1;  // CLOEXEC pipe: the child writes a ChildError when it cannot exec
};

enum class ChildStage : int { kSetup = 1, kChdir = 2, kExec = 3 };
struct ChildError {
  ChildStage stage;
  int error;
};

// The candidates execvp would try for `program`, using this process's PATH.
std::vector<std::string> ExecCandidates(const std::string& program) {
  if (program.find('/') != std::string::npos) return {program};
  const char* path = ::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::vector<std::string> candidates;
  for (;;) {
    const std::size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";  // an empty PATH entry is the current directory
    candidates.push_back(dir + "/" + program);
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return candidates;
}

[[noreturn]] void ChildFail(int error_fd, ChildStage stage, int error) {
  const ChildError report{stage, error};
  [[maybe_unused]] ssize_t ignored = ::write(error_fd, &report, sizeof report);
  ::_exit(127);
}

// Runs in the child after fork(): async-signal-safe calls only.
[[noreturn]] void ChildMain(const ChildPlan& plan) {
  // Die with the thread that forked us. PR_SET_PDEATHSIG fires when that
  // *thread* ends, not the process: the forking threads are the runtime's
  // blocking-pool threads, which live as long as the runtime, and the runtime
  // reaps every child before it lets them go. So a child dies early only when
  // the whole process does (kill -9 of `tri run` or the server).
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(plan.error_fd, ChildStage::kSetup, errno);
  // The parent may have died before prctl took effect.
  if (::getppid() != plan.parent) ::_exit(127);
  // Own process group (so cancel can signal the whole tree); the parent sets
  // it too, so the group exists whichever of the two runs first.
  if (::setpgid(0, 0) != 0) ChildFail(plan.error_fd, ChildStage::kSetup, errno);
  // Default dispositions and an empty mask: our process may block or ignore
  // signals (SIGPIPE, the signals `tri run` waits for); the child must not
  // inherit that.
  struct sigaction default_action;
  std::memset(&default_action, 0, sizeof default_action);
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::sigaction(sig, &default_action, nullptr);  // fails harmlessly for reserved signals
  }
  sigset_t empty;
  sigemptyset(&empty);
  if (::sigprocmask(SIG_SETMASK, &empty, nullptr) != 0) {
    ChildFail(plan.error_fd, ChildStage::kSetup, errno);
  }
  if (::dup2(plan.stdin_fd, STDIN_FILENO) < 0 || ::dup2(plan.stdout_fd, STDOUT_FILENO) < 0 ||
      ::dup2(plan.stderr_fd, STDERR_FILENO) < 0) {
    ChildFail(plan.error_fd, ChildStage::kSetup, errno);
  }
  if (plan.cwd != nullptr && ::chdir(plan.cwd) != 0) {
    ChildFail(plan.error_fd, ChildStage::kChdir, errno);
  }
  // execvp's search: ENOENT (and the like) goes on to the next directory,
  // EACCES is remembered, anything else stops.
  int error = ENOENT;
  for (const std::string& candidate : plan.candidates) {
    ::execve(candidate.c_str(), plan.argv.data(), plan.envp.data());
    if (errno == EACCES) {
      error = EACCES;
      continue;
    }
    if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV &&
        errno != ETIMEDOUT) {
      error = errno;
      break;
    }
  }
  ChildFail(plan.error_fd, ChildStage::kExec, error);
}

// Every child process group started and not reaped yet, for StopAllProcesses.
// Forks happen under the lock, so a group is registered before anything could
// miss it, and no fork starts after StopAllProcesses.
struct ProcessGroups {
  std::mutex mutex;
  std::set<pid_t> live;
  bool stopped = false;
};

ProcessGroups& Groups() {
  static ProcessGroups* groups = new ProcessGroups();  // never destroyed: used at exit
  return *groups;
}

void Unregister(pid_t pid) {
  std::lock_guard lock(Groups().mutex);
  Groups().live.erase(pid);
}

bool IsResourceShortage(int error) {
  return error == EAGAIN || error == ENOMEM || error == EMFILE || error == ENFILE;
}

// Moves `fd` to a descriptor >= 3 (close-on-exec), if it is 0, 1 or 2.
bool MoveAboveStdio(Fd& fd) {
  if (fd.get() > STDERR_FILENO) return true;
  Fd moved(::fcntl(fd.get(), F_DUPFD_CLOEXEC, STDERR_FILENO + 1));
  if (!moved.valid()) return false;
  fd = std::move(moved);
  return true;
}

// Blocks until the child exec'd (EOF: nullopt) or reported why it could not.
std::optional<ChildError> ReadChildError(int fd) {
  ChildError report{};
  auto* bytes = reinterpret_cast<char*>(&report);
  std::size_t got = 0;
  while (got < sizeof report) {
    const ssize_t n = ::read(fd, bytes + got, sizeof report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got < sizeof report) return std::nullopt;
  return report;
}

ActionOutcome SpawnFailure(const std::string& program, const std::string& cwd, ChildError failed,
                           std::uint64_t max_message) {
  switch (failed.stage) {
    case ChildStage::kChdir:
      return FailedOutcome(
          127, false, "cannot change to working directory '" + cwd + "': " + Errno(failed.error),
          max_message);
    case ChildStage::kExec:
      break;
    case ChildStage::kSetup:
      return FailedOutcome(saga::kCodeFailed, true,
                           "exec: cannot set up the child process: " + Errno(failed.error),
                           max_message);
  }
  const bool transient = IsResourceShortage(failed.error);
  return FailedOutcome(transient ? saga::kCodeFailed : 127, transient,
                       "cannot run '" + program + "': " + Errno(failed.error), max_message);
}

// Keeps the last `max_bytes` bytes appended (amortised: trims in batches).
class TailBuffer {
 public:
  explicit TailBuffer(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  void Append(const char* data, std::size_t size) {
    data_.append(data, size);
    if (data_.size() > 2 * max_bytes_ + kReadChunkBytes) Trim();
  }
  std::string Take() {
    Trim();
    return std::move(data_);
  }
  bool truncated() const { return truncated_; }

 private:
  void Trim() {
    if (data_.size() <= max_bytes_) return;
    data_.erase(0, data_.size() - max_bytes_);
    truncated_ = true;
  }
  std::size_t max_bytes_;
  std::string data_;
  bool truncated_ = false;
};

class ChildWatcher {
 public:
  ChildWatcher(pid_t pid, Fd stdout_fd, Fd stderr_fd, const ProcessOptions& options)
      : pid_(pid),
        options_(options),
        stdout_(std::move(stdout_fd)),
        stderr_(std::move(stderr_fd)),
        stderr_tail_(static_cast<std::size_t>(options.max_message_bytes)) {}

  // Runs until the child is reaped. `wake` becomes readable on cancel.
  ActionOutcome Run(const std::string& program, int wake_fd) {
    Fd pidfd;
    if (options_.use_pidfd) pidfd = Fd(PidfdOpen(pid_));
    bool exited = false;
    while (!exited) {
      pollfd fds[4];
      int n = 0;
      int stdout_index = -1, stderr_index = -1, pid_index = -1, wake_index = -1;
      if (stdout_.valid()) {
        stdout_index = n;
        fds[n++] = pollfd{.fd = stdout_.get(), .events = POLLIN, .revents = 0};
      }
      if (stderr_.valid()) {
        stderr_index = n;
        fds[n++] = pollfd{.fd = stderr_.get(), .events = POLLIN, .revents = 0};
      }
      if (pidfd.valid()) {
        pid_index = n;
        fds[n++] = pollfd{.fd = pidfd.get(), .events = POLLIN, .revents = 0};
      }
      if (!cancel_seen_) {
        wake_index = n;
        fds[n++] = pollfd{.fd = wake_fd, .events = POLLIN, .revents = 0};
      }
      int rc = ::poll(fds, static_cast<nfds_t>(n), PollTimeoutMillis(pidfd.valid()));
      if (rc < 0) {
        // EINTR, or a transient ENOMEM/EAGAIN: try again. Anything else
        // (EFAULT, EINVAL) would be a bug here.
        TRI_ASSERT_MSG(errno == EINTR || errno == ENOMEM || errno == EAGAIN,
                       "poll over the child's pipes failed");
        continue;
      }
      if (wake_index >= 0 && fds[wake_index].revents != 0) OnCancel(wake_fd);
      if (stdout_index >= 0 && fds[stdout_index].revents != 0) ReadStdout();
      if (stderr_index >= 0 && fds[stderr_index].revents != 0) ReadStderr();
      if (sigterm_sent_ && !sigkill_sent_ && SteadyClock::now() >= kill_deadline_) KillGroup();
      if (pid_index < 0 || fds[pid_index].revents != 0) exited = HasExited();
    }
    // The child is a zombie: its pgid cannot be reused yet. Kill whatever is
    // left of its group, keep what was already written, then reap.
    ::kill(-pid_, SIGKILL);
    Drain();
    int status = 0;
    pid_t reaped;
    do {
      reaped = ::waitpid(pid_, &status, 0);
    } while (reaped < 0 && errno == EINTR);
    return Outcome(program, reaped == pid_ ? std::optional<int>(status) : std::nullopt);
  }

  bool sigterm_sent() const { return sigterm_sent_; }

 private:
  int PollTimeoutMillis(bool have_pidfd) const {
    int timeout = have_pidfd ? -1 : kFallbackPollMillis;
    if (sigterm_sent_ && !sigkill_sent_) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(kill_deadline_ - SteadyClock::now());
      int left_ms = static_cast<int>(std::max<std::int64_t>(0, left.count()));
      timeout = timeout < 0 ? left_ms : std::min(timeout, left_ms);
    }
    return timeout;
  }

  void OnCancel(int wake_fd) {
    std::uint64_t count;
    [[maybe_unused]] ssize_t ignored = ::read(wake_fd, &count, sizeof count);
    cancel_seen_ = true;
    if (output_overflow_) return;  // already SIGKILLed
    if (options_.kill_grace <= Duration::zero()) {
      KillGroup();
      return;
    }
    ::kill(-pid_, SIGTERM);
    sigterm_sent_ = true;
    kill_deadline_ = SteadyClock::now() + options_.kill_grace;
  }

  void KillGroup() {
    ::kill(-pid_, SIGKILL);
    sigkill_sent_ = true;
  }

  // Returns false once the pipe is at EOF (and closes it) or would block.
  bool ReadStdout() {
    char* buffer = read_buffer_.get();
    ssize_t got = ::read(stdout_.get(), buffer, kReadChunkBytes);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) return false;
      stdout_.Reset();
      return false;
    }
    if (got == 0) {
      stdout_.Reset();
      return false;
    }
    std::uint64_t room = options_.max_output_bytes - stdout_data_.size();
    if (static_cast<std::uint64_t>(got) > room) {
      // Over the bound: stop the whole group now rather than read on.
      output_overflow_ = true;
      stdout_data_.clear();
      stdout_.Reset();
      if (!sigkill_sent_) KillGroup();
      return false;
    }
    stdout_data_.append(buffer, static_cast<std::size_t>(got));
    return true;
  }

  bool ReadStderr() {
    char* buffer = read_buffer_.get();
    ssize_t got = ::read(stderr_.get(), buffer, kReadChunkBytes);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) return false;
      stderr_.Reset();
      return false;
    }
    if (got == 0) {
      stderr_.Reset();
      return false;
    }
    stderr_tail_.Append(buffer, static_cast<std::size_t>(got));
    return true;
  }

  // Non-blocking: whatever the pipes hold now, within kMaxDrainReads each.
  void Drain() {
    for (int i = 0; i < kMaxDrainReads && stdout_.valid() && ReadStdout(); ++i) {
    }
    for (int i = 0; i < kMaxDrainReads && stderr_.valid() && ReadStderr(); ++i) {
    }
    stdout_.Reset();
    stderr_.Reset();
  }

  // True once the child has terminated; leaves it unreaped (WNOWAIT).
  bool HasExited() {
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    int rc = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc != 0) {
      if (errno == EINTR) return false;
      // ECHILD: someone else reaped it (e.g. SIGCHLD set to SIG_IGN). It is
      // gone either way; Outcome() reports the lost status.
      return true;
    }
    return info.si_pid == pid_;
  }

  ActionOutcome Outcome(const std::string& program, std::optional<int> status) {
    const std::uint64_t max_message = options_.max_message_bytes;
    if (output_overflow_) {
      return FailedOutcome(saga::kCodeFailed, false,
                           "'" + program + "' wrote more than the output limit of " +
                               std::to_string(options_.max_output_bytes) +
                               " bytes to stdout; its process group was killed (SIGKILL)",
                           max_message);
    }
    if (cancel_seen_ && (sigterm_sent_ || sigkill_sent_)) {
      std::string how = sigterm_sent_ ? "SIGTERM" : "SIGKILL";
      if (sigterm_sent_ && sigkill_sent_) {
        how += ", then SIGKILL after " +
               std::to_string(
                   std::chrono::duration_cast<std::chrono::milliseconds>(options_.kill_grace)
                       .count()) +
               " ms";
      }
      return FailedOutcome(saga::kCodeCancelled, false,
                           "cancelled: sent " + how + " to the process group of '" + program + "'",
                           max_message);
    }
    if (!status) {
      return FailedOutcome(
          saga::kCodeFailed, true,
          "'" + program + "' ended but its exit status was lost (reaped elsewhere)", max_message);
    }
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) {
      return ActionOutcome{.succeeded = true, .output = std::move(stdout_data_)};
    }
    int code;
    std::string what;
    if (WIFEXITED(*status)) {
      code = WEXITSTATUS(*status);
      what = "'" + program + "' exited with status " + std::to_string(code);
    } else {
      TRI_ASSERT(WIFSIGNALED(*status));
      int sig = WTERMSIG(*status);
      code = 128 + sig;
      const char* name = ::sigabbrev_np(sig);
      what = "'" + program + "' was killed by signal " + std::to_string(sig) +
             (name != nullptr ? std::string(" (SIG") + name + ")" : std::string());
    }
    bool truncated = stderr_tail_.truncated();
    std::string tail = stderr_tail_.Take();
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r'))
      tail.pop_back();
    if (!tail.empty()) {
      // The tail is the informative end: cut its head to fit the bound.
      std::string prefix = what + "; stderr: ";
      if (truncated) prefix += "...";
      std::uint64_t room = max_message > prefix.size() ? max_message - prefix.size() : 0;
      what = prefix + TruncateTail(std::move(tail), room);
    }
    return FailedOutcome(code, true, std::move(what), max_message);
  }

  const pid_t pid_;
  const ProcessOptions& options_;
  Fd stdout_;
  Fd stderr_;
  // On the heap: pool threads may have small stacks.
  std::unique_ptr<char[]> read_buffer_ = std::make_unique<char[]>(kReadChunkBytes);
  std::string stdout_data_;
  TailBuffer stderr_tail_;
  bool cancel_seen_ = false;
  bool sigterm_sent_ = false;
  bool sigkill_sent_ = false;
  bool output_overflow_ = false;
  SteadyClock::time_point kill_deadline_{};
};

}  // namespace

ActionOutcome RunProcess(const saga::ExecAction& action, const ProcessOptions& options,
                         CancelToken& cancel) {
  const std::uint64_t max_message = options.max_message_bytes;
  if (action.argv.empty() || action.argv[0].empty()) {
    return FailedOutcome(127, false, "exec: empty command (argv)", max_message);
  }
  std::vector<std::string> argv;
  if (action.shell) {
    std::string script;
    for (const std::string& arg : action.argv) {
      if (!script.empty()) script += ' ';
      script += arg;
    }
    argv = {"/bin/sh", "-c", std::move(script)};
  } else {
    argv = action.argv;
  }
  // How messages name the command: the program, or the (abbreviated) script.
  const std::string program = action.shell ? "sh -c " + TruncateHead(argv[2], kMaxScriptNameBytes) +
                                                 (argv[2].size() > kMaxScriptNameBytes ? "..." : "")
                                           : argv[0];
  for (const std::string& arg : argv) {
    if (HasNul(arg))
      return FailedOutcome(127, false, "exec: argument contains a NUL byte", max_message);
  }
  for (const auto& [name, value] : action.env) {
    if (name.empty() || name.find('=') != std::string::npos || HasNul(name) || HasNul(value)) {
      return FailedOutcome(127, false, "exec: invalid environment variable name '" + name + "'",
                           max_message);
    }
  }
  if (HasNul(action.cwd)) {
    return FailedOutcome(127, false, "exec: working directory contains a NUL byte", max_message);
  }
  if (cancel.cancelled()) {
    return FailedOutcome(saga::kCodeCancelled, false, "cancelled before it started", max_message);
  }

  Fd stdout_read, stdout_write, stderr_read, stderr_write, error_read, error_write;
  if (!MakePipe(stdout_read, stdout_write) || !MakePipe(stderr_read, stderr_write) ||
      !MakeBlockingPipe(error_read, error_write)) {
    return FailedOutcome(saga::kCodeFailed, true, "exec: cannot create pipes: " + Errno(errno),
                         max_message);
  }
  Fd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!dev_null.valid()) {
    return FailedOutcome(saga::kCodeFailed, true, "exec: cannot open /dev/null: " + Errno(errno),
                         max_message);
  }
  // The child dup2()s these onto 0, 1 and 2: none may already be one of them.
  if (!MoveAboveStdio(stdout_write) || !MoveAboveStdio(stderr_write) ||
      !MoveAboveStdio(error_write) || !MoveAboveStdio(dev_null)) {
    return FailedOutcome(saga::kCodeFailed, true,
                         "exec: cannot duplicate descriptors: " + Errno(errno), max_message);
  }
  Fd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) {
    return FailedOutcome(saga::kCodeFailed, true, "exec: cannot create eventfd: " + Errno(errno),
                         max_message);
  }

  std::vector<std::string> env = BuildEnvironment(action.env);
  ChildPlan plan;
  plan.candidates = ExecCandidates(argv[0]);
  plan.argv = CStrings(argv);
  plan.envp = CStrings(env);
  plan.cwd = action.cwd.empty() ? nullptr : action.cwd.c_str();
  plan.parent = ::getpid();
  plan.stdin_fd = dev_null.get();
  plan.stdout_fd = stdout_write.get();
  plan.stderr_fd = stderr_write.get();
  plan.error_fd = error_write.get();

  pid_t pid = -1;
  int fork_error = 0;
  {
    ProcessGroups& groups = Groups();
    std::lock_guard lock(groups.mutex);
    if (groups.stopped) {
      return FailedOutcome(saga::kCodeCancelled, false,
                           "not started: every child process is being stopped", max_message);
    }
    pid = ::fork();
    if (pid == 0) ChildMain(plan);
    if (pid > 0) {
      ::setpgid(pid, pid);  // EACCES once the child has exec'd: it did it itself
      groups.live.insert(pid);
    } else {
      fork_error = errno;
    }
  }
  if (pid < 0) {
    return FailedOutcome(saga::kCodeFailed, true, "exec: cannot fork: " + Errno(fork_error),
                         max_message);
  }
  // Only the child may hold the write ends, or we would never see EOF.
  stdout_write.Reset();
  stderr_write.Reset();
  error_write.Reset();
  dev_null.Reset();

  // The error pipe closes on a successful exec, or carries why it failed.
  if (std::optional<ChildError> failed = ReadChildError(error_read.get())) {
    // The child has exited (127) or is about to: reap it before reporting.
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    Unregister(pid);
    return SpawnFailure(argv[0], action.cwd, *failed, max_message);
  }
  error_read.Reset();

  const int wake_fd = wake.get();
  cancel.OnCancel([wake_fd] {
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t ignored = ::write(wake_fd, &one, sizeof one);
  });
  ChildWatcher watcher(pid, std::move(stdout_read), std::move(stderr_read), options);
  ActionOutcome outcome = watcher.Run(program, wake_fd);
  // The callback writes to `wake`: unregister before it closes.
  cancel.ClearOnCancel();
  return outcome;
}

void StopAllProcesses() {
  ProcessGroups& groups = Groups();
  std::lock_guard lock(groups.mutex);
  groups.stopped = true;
  // Registered pids are unreaped (zombies at worst), so their group ids
  // cannot have been reused by an unrelated group.
  for (pid_t pid : groups.live)
    ::kill(-pid, SIGKILL);
}

}  // namespace tri::exec
