#pragma once

// Blocking runners for the actions that touch the outside world: `exec`
// (a child process) and `http` (one request). Each runs on a thread of the
// runtime's blocking pool, returns when the action ends or is cancelled, and
// never throws. The runtime renders templates before calling them.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "base/clock.h"
#include "saga/spec.h"

namespace tri::exec {

// Thread-safe cancellation: the event loop calls Cancel() (step timeout,
// saga deadline, abort, cascade); the runner registers what to do on cancel.
class CancelToken {
 public:
  // Idempotent. Runs the registered callback (once), on the calling thread.
  void Cancel();
  bool cancelled() const;
  // Registers `on_cancel` (replacing any earlier one); runs it at once, on
  // this thread, if the token is already cancelled. The callback must be
  // cheap and must not call back into the token.
  void OnCancel(std::function<void()> on_cancel);
  // Unregisters the callback; after it returns the callback is not running
  // and will not run.
  void ClearOnCancel();

 private:
  mutable std::mutex mutex_;
  bool cancelled_ = false;
  std::function<void()> on_cancel_;
};

// How one attempt ended.
struct ActionOutcome {
  bool succeeded = false;
  int code = 0;           // failure code: exit status, 128+signal, HTTP status, 500...
  bool retryable = true;  // false: retrying cannot help (e.g. program not found)
  std::string output;     // succeeded: stdout / response body (bounded)
  std::string message;    // failed: what went wrong (bounded)
};

// A failed outcome whose message is cut to its first `max_message_bytes`
// (never inside a UTF-8 character).
ActionOutcome FailedOutcome(int code, bool retryable, std::string message,
                            std::uint64_t max_message_bytes = UINT64_MAX);

struct ProcessOptions {
  Duration kill_grace = std::chrono::seconds(2);  // SIGTERM -> SIGKILL on cancel
  std::uint64_t max_output_bytes = 64ull << 10;   // stdout bound (step output limit)
  std::uint64_t max_message_bytes = 4ull << 10;   // bound of the failure message
  // Child exit is watched through a pidfd (Linux >= 5.3). false forces the
  // fallback used when pidfd_open is unavailable: waitid(WNOHANG) polled
  // every few milliseconds. For tests.
  bool use_pidfd = true;
};

// Runs `action` (templates already rendered) as a child process in its own
// process group: fork and exec of argv (or /bin/sh -c with argv joined when
// `shell`), stdin /dev/null, environment = ours plus action.env, cwd =
// action.cwd if set, signal mask and dispositions reset, and
// PR_SET_PDEATHSIG = SIGKILL (the child dies with this process, even with a
// kill -9). Exit 0 = success (output = stdout). Non-zero exit =
// failure with that code and the stderr tail as message; death by signal =
// 128 + signal. Start failure (no such program, bad cwd) = code 127, not
// retryable (a resource shortage such as EAGAIN/EMFILE = code 500, retryable).
// Stdout beyond max_output_bytes = code 500, not retryable, with a message
// naming the limit (the group is SIGKILLed at once). On cancel: SIGTERM to
// the process group, SIGKILL after kill_grace; outcome code 499
// (saga::kCodeCancelled), not retryable, unless the child had already exited
// on its own. When the child exits, whatever is left in its process group
// (background grandchildren) is SIGKILLed. Returns once the child is reaped:
// no zombies, no orphans left in the group. PATH lookup uses this process's
// PATH, not action.env's.
ActionOutcome RunProcess(const saga::ExecAction& action, const ProcessOptions& options,
                         CancelToken& cancel);

// For a process about to exit at once (`tri run`'s second Ctrl-C): SIGKILLs
// the process group of every child RunProcess started and has not reaped,
// and makes every later RunProcess fail (499) without starting anything.
// Thread-safe; irreversible.
void StopAllProcesses();

struct HttpOptions {
  // Bounds the connect, and each read and write on the socket (not the whole
  // exchange: a server trickling bytes is cut off by the step timeout).
  Duration timeout = std::chrono::seconds(30);
  std::uint64_t max_output_bytes = 64ull << 10;  // response body bound
  std::uint64_t max_message_bytes = 4ull << 10;  // bound of the failure message
  // PEM file of the certificate authorities https servers are verified
  // against; empty: the system store. Verification is never turned off.
  std::string ca_file;
};

// Sends one request. Success when the status is in action.expect (empty:
// any 2xx); output = the body. Otherwise failure with code = the status
// (retryable for 408, 429 and 5xx), or for a transport error code 503 and a
// message naming the error (retryable). A malformed URL or unsupported
// scheme/method is a non-retryable failure (code 400) naming what is wrong.
// A body beyond max_output_bytes fails with code 500 (not retryable). The
// failure message carries the start of the response body. Cancel aborts the
// request promptly (code 499, not retryable), except during DNS resolution,
// which runs to its end. No redirects are followed; http and https (server
// certificate and host name verified against options.ca_file or the system
// CA store) are supported. Methods: GET, POST, PUT, PATCH, DELETE, HEAD,
// OPTIONS. Messages show the URL redacted (RedactUrl: no user info, query
// values or fragment) and never a header value.
ActionOutcome RunHttp(const saga::HttpAction& action, const HttpOptions& options,
                      CancelToken& cancel);

}  // namespace tri::exec
