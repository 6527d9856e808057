#pragma once

// A fork-join pool of persistent threads: Run hands one job to every worker
// (the calling thread is worker 0) and returns when all have returned. The
// schedulers run their own collaborative loops inside the job, so the pool
// needs nothing finer than this.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tri::txn {

class WorkerPool {
 public:
  // REQUIRES: 1 <= threads <= kMaxThreads (ParallelExecutor::Create checks).
  explicit WorkerPool(std::size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  std::size_t size() const { return threads_.size() + 1; }

  // Runs job(worker) for worker in [0, size()) at once, worker 0 on the calling
  // thread. One Run at a time (not reentrant).
  void Run(const std::function<void(std::uint32_t worker)>& job);

 private:
  void Loop(std::uint32_t worker);

  std::mutex mu_;
  std::condition_variable start_;
  std::condition_variable done_;
  const std::function<void(std::uint32_t)>* job_ = nullptr;
  std::uint64_t generation_ = 0;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace tri::txn
