#include "sim/idle_phase.h"

#include <fmt/format.h>

#include "base/assert.h"

namespace tri::sim {
namespace {

constexpr SimTimeUs kPollUs = 10'000;

}  // namespace

IdlePhases::IdlePhases(const IdlePhaseConfig& config, Rng* rng, SimCluster* cluster,
                       RaftInvariants* invariants)
    : config_(config), rng_(rng), cluster_(cluster), invariants_(invariants) {
  TRI_ASSERT(config_.min_gap_us > 0 && config_.min_gap_us <= config_.max_gap_us);
  next_start_us_ = rng_->Range(config_.min_gap_us, config_.max_gap_us);
}

void IdlePhases::Begin(SimTimeUs now_us) {
  TRI_ASSERT(!active_);
  active_ = true;
  watching_ = false;
  deadline_us_ = now_us + config_.settle_bound_us;
  begin_us_ = now_us;
}

bool IdlePhases::Stable(SimTimeUs now_us, Leadership* out) const {
  const auto leader = cluster_->Leader();
  if (!leader) return false;
  // A transfer's MsgTimeoutNow may still be in flight or about to be acted on.
  if (cluster_->last_timeout_now_us() >= 0 &&
      now_us - cluster_->last_timeout_now_us() < config_.election_timeout_us) {
    return false;
  }
  const auto lv = cluster_->View(*leader, now_us);
  if (!lv || lv->commit != lv->last_index || lv->applied < lv->commit ||
      lv->lead_transferee != raft::kNoNode) {
    return false;
  }
  out->leader = *leader;
  out->term = lv->term;
  out->members.clear();
  for (SimNodeId id : cluster_->node_ids()) {
    if (!lv->conf_state.IsMember(id)) continue;
    const auto v = cluster_->View(id, now_us);
    if (!v || v->term != lv->term || v->leader != *leader || v->clock_paused) return false;
    // Its election timer was last reset by this leader since the faults paused (a
    // node healed from a partition may still be about to time out).
    if (id != *leader && (v->leader_contact_us < begin_us_ || v->leader_contact_from != *leader ||
                          v->leader_contact_term != lv->term)) {
      return false;
    }
    out->members.insert(id);
  }
  return true;
}

bool IdlePhases::Step(SimTimeUs now_us) {
  TRI_ASSERT(active_);
  // Stability and terms are polled; campaigns are collected and seen at the next poll.
  if ((now_us - begin_us_) % kPollUs != 0 && now_us < deadline_us_) return false;
  if (!watching_) {
    if (Stable(now_us, &stable_)) {
      watching_ = true;
      watch_start_us_ = now_us;
      deadline_us_ = now_us + config_.election_timeout_us * config_.watch_election_timeouts;
      (void)cluster_->TakeCampaigns();  // those of the settling are allowed
      ++watched_;
    } else if (now_us >= deadline_us_) {
      End(now_us);
      return true;
    }
    return false;
  }
  Watch(now_us);
  if (now_us >= deadline_us_ || !invariants_->ok()) {
    End(now_us);
    return true;
  }
  return false;
}

void IdlePhases::Watch(SimTimeUs now_us) {
  const auto head = [&] {
    return fmt::format(
        "at {:.3f}s, {:.3f}s into a fault-free idle phase with leader {} of "
        "term {}",
        now_us / 1e6, (now_us - watch_start_us_) / 1e6, stable_.leader, stable_.term);
  };
  for (const SimCluster::Campaign& c : cluster_->TakeCampaigns()) {
    if (stable_.members.count(c.node) == 0) continue;  // a removed node may still try
    invariants_->Report("idle election",
                        fmt::format("{}, node {} sent {} for term {}", head(), c.node,
                                    raft::MessageTypeName(c.type), c.term));
    return;
  }
  for (SimNodeId id : stable_.members) {
    const auto v = cluster_->View(id, now_us);
    if (!v) continue;  // (nothing crashes while idle)
    if (v->term != stable_.term) {
      invariants_->Report("idle election",
                          fmt::format("{}, node {} moved to term {}", head(), id, v->term));
      return;
    }
    if (id == stable_.leader && v->role != raft::Role::kLeader) {
      invariants_->Report("idle election", fmt::format("{}, the leader stepped down ({})", head(),
                                                       raft::RoleName(v->role)));
      return;
    }
  }
}

void IdlePhases::End(SimTimeUs now_us) {
  active_ = false;
  watching_ = false;
  next_start_us_ = now_us + rng_->Range(config_.min_gap_us, config_.max_gap_us);
}

}  // namespace tri::sim
