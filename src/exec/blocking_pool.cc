#include "exec/blocking_pool.h"

#include "base/assert.h"

namespace tri::exec {

BlockingPool::BlockingPool(std::uint32_t max_threads) : max_threads_(max_threads) {
  TRI_ASSERT_MSG(max_threads_ > 0, "a blocking pool needs at least one thread");
}

BlockingPool::~BlockingPool() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    threads.swap(threads_);
  }
  wake_.notify_all();
  for (auto& thread : threads)
    thread.join();
  TRI_ASSERT(queue_.empty());
}

void BlockingPool::Submit(std::function<void()> task) {
  std::unique_lock lock(mutex_);
  TRI_ASSERT_MSG(!stopping_, "task submitted to a stopping pool");
  queue_.push_back(std::move(task));
  // Idle threads that have not woken yet are already spoken for by earlier
  // tasks still in the queue.
  if (queue_.size() > idle_ && threads_.size() < max_threads_) {
    threads_.emplace_back([this] { WorkerLoop(); });
    return;
  }
  lock.unlock();
  wake_.notify_one();
}

std::uint32_t BlockingPool::busy() const {
  std::lock_guard lock(mutex_);
  return running_ + static_cast<std::uint32_t>(queue_.size());
}

void BlockingPool::WorkerLoop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (queue_.empty()) {
      // Queued tasks are drained before stopping, so none is lost.
      if (stopping_) return;
      ++idle_;
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      --idle_;
      continue;
    }
    auto task = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    task();
    lock.lock();
    --running_;
  }
}

}  // namespace tri::exec
