#include "txn/parallel/worker_pool.h"

#include "base/assert.h"
#include "txn/options.h"

namespace tri::txn {

WorkerPool::WorkerPool(std::size_t threads) {
  TRI_ASSERT(threads >= 1 && threads <= kMaxThreads);
  threads_.reserve(threads - 1);
  for (std::size_t i = 1; i < threads; ++i) {
    threads_.emplace_back([this, i] { Loop(static_cast<std::uint32_t>(i)); });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  start_.notify_all();
  for (std::thread& thread : threads_)
    thread.join();
}

void WorkerPool::Run(const std::function<void(std::uint32_t)>& job) {
  {
    std::lock_guard lock(mu_);
    TRI_ASSERT_MSG(job_ == nullptr, "WorkerPool::Run is not reentrant");
    job_ = &job;
    running_ = threads_.size();
    ++generation_;
  }
  start_.notify_all();
  job(0);
  std::unique_lock lock(mu_);
  done_.wait(lock, [this] { return running_ == 0; });
  job_ = nullptr;
}

void WorkerPool::Loop(std::uint32_t worker) {
  std::uint64_t seen = 0;
  for (;;) {
    const std::function<void(std::uint32_t)>* job = nullptr;
    {
      std::unique_lock lock(mu_);
      start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      job = job_;
    }
    (*job)(worker);
    std::lock_guard lock(mu_);
    if (--running_ == 0) done_.notify_one();
  }
}

}  // namespace tri::txn
