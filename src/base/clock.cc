#include "base/clock.h"

#include "base/assert.h"

namespace tri {

TimePoint RealClock::Now() const {
  return std::chrono::duration_cast<TimePoint>(std::chrono::steady_clock::now().time_since_epoch());
}

RealClock& RealClock::Instance() {
  static RealClock clock;
  return clock;
}

void ManualClock::Advance(Duration d) {
  TRI_ASSERT_MSG(d.count() >= 0, "ManualClock cannot go backwards");
  now_ns_.fetch_add(d.count(), std::memory_order_acq_rel);
}

void ManualClock::AdvanceTo(TimePoint t) {
  TRI_ASSERT_MSG(t.count() >= now_ns_.load(std::memory_order_acquire),
                 "ManualClock cannot go backwards");
  now_ns_.store(t.count(), std::memory_order_release);
}

}  // namespace tri
