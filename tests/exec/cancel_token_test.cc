// CancelToken: the callback runs once, on registration if already cancelled,
// never after ClearOnCancel returns.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "exec/blocking_actions.h"

namespace tri::exec {
namespace {

TEST(CancelToken, CancelRunsTheRegisteredCallbackOnce) {
  CancelToken token;
  int calls = 0;
  token.OnCancel([&] { ++calls; });
  EXPECT_FALSE(token.cancelled());
  token.Cancel();
  token.Cancel();
  EXPECT_TRUE(token.cancelled());
  EXPECT_EQ(calls, 1);
}

TEST(CancelToken, RegisteringAfterCancelRunsTheCallbackAtOnce) {
  CancelToken token;
  token.Cancel();
  int calls = 0;
  token.OnCancel([&] { ++calls; });
  EXPECT_EQ(calls, 1);
}

TEST(CancelToken, ANewCallbackReplacesTheOldOne) {
  CancelToken token;
  int first = 0, second = 0;
  token.OnCancel([&] { ++first; });
  token.OnCancel([&] { ++second; });
  token.Cancel();
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, 1);
}

TEST(CancelToken, ClearedCallbackDoesNotRun) {
  CancelToken token;
  int calls = 0;
  token.OnCancel([&] { ++calls; });
  token.ClearOnCancel();
  token.Cancel();
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(token.cancelled());
}

TEST(CancelToken, ClearOnCancelWaitsForARunningCallback) {
  CancelToken token;
  std::atomic<bool> entered{false}, release{false}, finished{false};
  token.OnCancel([&] {
    entered = true;
    while (!release)
      std::this_thread::yield();
    finished = true;
  });
  std::thread canceller([&] { token.Cancel(); });
  while (!entered)
    std::this_thread::yield();
  std::atomic<bool> cleared{false};
  std::thread clearer([&] {
    token.ClearOnCancel();
    cleared = true;
    // The contract: once ClearOnCancel returns the callback is not running.
    EXPECT_TRUE(finished.load());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(cleared.load());  // still blocked behind the running callback
  release = true;
  canceller.join();
  clearer.join();
  EXPECT_TRUE(cleared.load());
}

}  // namespace
}  // namespace tri::exec
