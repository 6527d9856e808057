#include <utility>

#include "exec/blocking_actions.h"

namespace tri::exec {

// The callback runs with mutex_ held: that is what lets ClearOnCancel promise
// "not running and will not run" once it returns (it waits for the lock).
// Hence the contract that callbacks are cheap and never re-enter the token.

void CancelToken::Cancel() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (cancelled_) return;
  cancelled_ = true;
  if (on_cancel_) {
    auto callback = std::move(on_cancel_);
    on_cancel_ = nullptr;
    callback();
  }
}

bool CancelToken::cancelled() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cancelled_;
}

void CancelToken::OnCancel(std::function<void()> on_cancel) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (cancelled_) {
    on_cancel_ = nullptr;
    if (on_cancel) on_cancel();
    return;
  }
  on_cancel_ = std::move(on_cancel);
}

void CancelToken::ClearOnCancel() {
  std::lock_guard<std::mutex> lock(mutex_);
  on_cancel_ = nullptr;
}

}  // namespace tri::exec
