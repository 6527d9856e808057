#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tri {

// Monotonic time as a duration since an arbitrary, fixed origin. Cores take
// time as an argument; drivers read it from a Clock.
using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::nanoseconds;

inline constexpr Duration kZeroDuration{0};

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic: never goes backwards.
  virtual TimePoint Now() const = 0;
};

// std::chrono::steady_clock.
class RealClock final : public Clock {
 public:
  TimePoint Now() const override;
  // A process-wide instance.
  static RealClock& Instance();
};

// Time moves only when a test says so. Safe to read from several threads.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{0}) : now_ns_(start.count()) {}
  TimePoint Now() const override { return TimePoint{now_ns_.load(std::memory_order_acquire)}; }
  void Advance(Duration d);
  // Moves to `t`; `t` must not be earlier than Now().
  void AdvanceTo(TimePoint t);

 private:
  std::atomic<std::int64_t> now_ns_;
};

}  // namespace tri
