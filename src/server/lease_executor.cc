#include "server/lease_executor.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "base/assert.h"
#include "rsm/lease_codec.h"

namespace tri::server {

LeaseExecutor::LeaseExecutor(LeaseExecutorOptions options, LeaseProposer* proposer,
                             std::function<const rsm::LeaseTable&()> table)
    : options_(options), proposer_(proposer), table_(std::move(table)) {
  TRI_ASSERT(proposer_ != nullptr);
  TRI_ASSERT_MSG(options_.max_expire_per_entry > 0 && options_.max_expire_per_second > 0,
                 "lease executor: expiry bounds must be positive");
}

void LeaseExecutor::Reset() {
  ready_ = false;
  ready_term_ = 0;
  ++generation_;
  promoted_term_ = 0;
  promote_in_flight_ = false;
  expiring_.clear();
}

void LeaseExecutor::Round(bool leader_ready, std::uint64_t term, std::uint64_t now_ms) {
  if (!leader_ready || (ready_ && term != ready_term_)) Reset();
  if (!leader_ready) return;
  ready_ = true;
  ready_term_ = term;
  now_ms_ = std::max(now_ms_, now_ms);

  if (promoted_term_ != term) {
    if (promote_in_flight_) return;
    promote_in_flight_ = true;
    ++stats_.promotes_proposed;
    proposer_->ProposeLease(
        rsm::EncodeLeaseCommand(rsm::LeasePromote{}),
        [this, generation = generation_, term](Status status, const rsm::Applied* applied) {
          if (generation != generation_) return;
          promote_in_flight_ = false;
          if (status.ok() && applied != nullptr && applied->result.ok()) {
            promoted_term_ = term;
            ++stats_.promotes_applied;
          }
        });
    return;
  }

  if (now_ms_ >= window_start_ms_ + 1000) {
    window_start_ms_ = now_ms_;
    window_count_ = 0;
  }
  const std::size_t budget =
      std::min(options_.max_expire_per_entry, options_.max_expire_per_second - window_count_);
  if (budget == 0) return;
  std::vector<std::int64_t> ids;
  for (const std::int64_t id : table_().ExpiredBy(now_ms_, budget + expiring_.size())) {
    if (ids.size() == budget) break;
    if (expiring_.count(id) == 0) ids.push_back(id);
  }
  if (ids.empty()) return;
  window_count_ += ids.size();
  expiring_.insert(ids.begin(), ids.end());
  ++stats_.expire_entries_proposed;
  proposer_->ProposeLease(
      rsm::EncodeLeaseCommand(rsm::LeaseExpire{ids}),
      [this, generation = generation_, ids](Status status, const rsm::Applied* applied) {
        if (generation != generation_) return;
        for (const std::int64_t id : ids)
          expiring_.erase(id);
        if (status.ok() && applied != nullptr && applied->lease.has_value()) {
          stats_.leases_expired += applied->lease->revoked.size();
        }
      });
}

std::uint64_t LeaseExecutor::next_wake_ms() const {
  if (!ready_ || promoted_term_ != ready_term_) return UINT64_MAX;
  const rsm::LeaseTable& table = table_();
  // The first lease not already proposed for expiry.
  std::uint64_t wake = UINT64_MAX;
  if (expiring_.empty()) {
    wake = table.next_expiry_ms();
  } else {
    for (const std::int64_t id : table.ExpiredBy(UINT64_MAX, expiring_.size() + 1)) {
      if (expiring_.count(id) == 0) {
        wake = table.Find(id)->expiry_ms;
        break;
      }
    }
  }
  if (wake != UINT64_MAX && window_count_ >= options_.max_expire_per_second) {
    wake = std::max(wake, window_start_ms_ + 1000);
  }
  return wake;
}

}  // namespace tri::server
