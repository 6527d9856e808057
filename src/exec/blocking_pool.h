#pragma once

// A pool of threads for actions that block (child processes, HTTP requests).
// Threads are started on demand up to a maximum and stay for the pool's
// life; tasks beyond the maximum wait in FIFO order. The destructor runs
// every queued task to completion, then joins the threads: callers cancel
// long tasks (CancelToken) before destroying the pool.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tri::exec {

class BlockingPool {
 public:
  explicit BlockingPool(std::uint32_t max_threads);
  ~BlockingPool();

  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  void Submit(std::function<void()> task);

  // Tasks queued or running right now.
  std::uint32_t busy() const;

 private:
  void WorkerLoop();

  const std::uint32_t max_threads_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  std::uint32_t idle_ = 0;
  std::uint32_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tri::exec
