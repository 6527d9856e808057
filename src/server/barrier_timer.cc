#include "server/barrier_timer.h"

#include <utility>

#include "base/assert.h"
#include "rsm/barrier_codec.h"

namespace tri::server {

BarrierTimer::BarrierTimer(BarrierProposeFn propose,
                           std::function<const rsm::BarrierTable&()> table)
    : propose_(std::move(propose)), table_(std::move(table)) {
  TRI_ASSERT(propose_ != nullptr && table_ != nullptr);
}

void BarrierTimer::Round(bool leader_ready, std::uint64_t term, std::uint64_t now_ms) {
  if (!leader_ready || (ready_ && term != ready_term_)) {
    // Leadership lost or changed: an expire in flight answers into the past.
    ready_ = false;
    in_flight_ = false;
    ++generation_;
  }
  if (!leader_ready) return;
  ready_ = true;
  ready_term_ = term;
  if (in_flight_ || table_().NextDeadline() > now_ms) return;
  in_flight_ = true;
  ++stats_.expires_proposed;
  propose_(rsm::EncodeBarrierCommand(rsm::BarrierExpireCommand{}),
           [this, generation = generation_](Status status, const rsm::Applied* applied) {
             if (generation != generation_) return;
             in_flight_ = false;
             if (status.ok() && applied != nullptr && applied->barrier.has_value())
               stats_.barriers_timed_out += applied->barrier->timed_out.size();
           });
}

std::uint64_t BarrierTimer::next_wake_ms() const {
  if (!ready_ || in_flight_) return UINT64_MAX;
  return table_().NextDeadline();
}

}  // namespace tri::server
