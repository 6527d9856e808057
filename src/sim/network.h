#pragma once

// A simulated network between numbered nodes, driven by one thread and one
// Rng. Every message gets a latency drawn from a distribution with a tail;
// faults (loss, duplication, reordering, partitions, down nodes) are decided
// by the same Rng, so a seed replays exactly.
//
// Without the reorder fault each directed link is FIFO (like a TCP stream):
// a message is never delivered before one sent earlier on the same link.
// Partitions and down nodes are checked at delivery time: a message in flight
// when a link is cut is lost.

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/assert.h"
#include "base/rng.h"

namespace tri::sim {

using SimNodeId = std::uint64_t;
// Simulated time in microseconds since the start of a run.
using SimTimeUs = std::int64_t;

struct NetworkConfig {
  // Latency: uniform in [min, median] most of the time; with tail_probability
  // uniform in [median, tail_max] instead.
  SimTimeUs latency_min_us = 200;
  SimTimeUs latency_median_us = 2'000;
  SimTimeUs latency_tail_max_us = 20'000;
  double tail_probability = 0.05;
  double loss_probability = 0.0;
  double duplicate_probability = 0.0;
  // With reordering on, links are not FIFO and this fraction of messages gets an
  // extra delay of up to reorder_delay_max_us.
  bool reorder = false;
  double reorder_probability = 0.1;
  SimTimeUs reorder_delay_max_us = 30'000;
};

struct NetworkStats {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;               // random loss
  std::uint64_t duplicated = 0;         // extra copies created
  std::uint64_t dropped_partition = 0;  // link cut at delivery time
  std::uint64_t dropped_node_down = 0;  // destination down at delivery time
};

// Which directed links are cut and which nodes are down. Not a template, so
// it is tested (and described in failure reports) on its own.
class LinkTable {
 public:
  explicit LinkTable(std::vector<SimNodeId> nodes);

  const std::vector<SimNodeId>& nodes() const { return nodes_; }
  bool Connected(SimNodeId from, SimNodeId to) const;
  bool IsUp(SimNodeId node) const { return down_.count(node) == 0; }
  void SetUp(SimNodeId node, bool up);

  // Cuts both directions between `side` and every other node.
  void PartitionSymmetric(const std::set<SimNodeId>& side);
  // Cuts only messages from `senders` to every other node (the others still reach them).
  void PartitionOneWay(const std::set<SimNodeId>& senders);
  // Splits the others into `side_a` and the rest, cut from each other, while
  // `bridge` still talks to everyone.
  void PartitionBridge(SimNodeId bridge, const std::set<SimNodeId>& side_a);
  // Restores every link (nodes stay down or up as they are).
  void Heal();
  bool IsPartitioned() const { return !cut_.empty(); }
  // "1->2 1->3 ..." or "none".
  std::string DescribeCuts() const;

 private:
  void Cut(SimNodeId from, SimNodeId to) { cut_.insert({from, to}); }

  std::vector<SimNodeId> nodes_;
  std::set<std::pair<SimNodeId, SimNodeId>> cut_;
  std::set<SimNodeId> down_;
};

template <typename Msg>
class SimNetwork {
 public:
  struct Delivery {
    SimNodeId from = 0;
    SimNodeId to = 0;
    Msg message;
  };

  SimNetwork(std::vector<SimNodeId> nodes, const NetworkConfig& config, Rng* rng)
      : links_(std::move(nodes)), config_(config), rng_(rng) {
    TRI_ASSERT(rng_ != nullptr);
    TRI_ASSERT(config_.latency_min_us > 0);
    TRI_ASSERT(config_.latency_min_us <= config_.latency_median_us);
    TRI_ASSERT(config_.latency_median_us <= config_.latency_tail_max_us);
  }

  LinkTable& links() { return links_; }
  const LinkTable& links() const { return links_; }
  NetworkConfig& config() { return config_; }
  const NetworkStats& stats() const { return stats_; }
  std::size_t in_flight() const { return queue_.size(); }

  void Send(SimNodeId from, SimNodeId to, Msg message, SimTimeUs now_us) {
    ++stats_.sent;
    if (rng_->Bernoulli(config_.loss_probability)) {
      ++stats_.lost;
      return;
    }
    if (rng_->Bernoulli(config_.duplicate_probability)) {
      ++stats_.duplicated;
      Enqueue(from, to, message, now_us);
    }
    Enqueue(from, to, std::move(message), now_us);
  }

  // Earliest pending delivery time, or -1 when nothing is in flight.
  SimTimeUs NextDeliveryUs() const { return queue_.empty() ? -1 : queue_.front().deliver_at_us; }

  // Pops the next message due at or before `now_us` that may be delivered;
  // messages on cut links or to down nodes are dropped on the way.
  bool PopDue(SimTimeUs now_us, Delivery* out) {
    while (!queue_.empty() && queue_.front().deliver_at_us <= now_us) {
      std::pop_heap(queue_.begin(), queue_.end(), Later);
      InFlight item = std::move(queue_.back());
      queue_.pop_back();
      if (!links_.IsUp(item.to)) {
        ++stats_.dropped_node_down;
        continue;
      }
      if (!links_.Connected(item.from, item.to)) {
        ++stats_.dropped_partition;
        continue;
      }
      ++stats_.delivered;
      out->from = item.from;
      out->to = item.to;
      out->message = std::move(item.message);
      return true;
    }
    return false;
  }

  // Drops everything in flight (used when a run stops).
  void Clear() { queue_.clear(); }

 private:
  struct InFlight {
    SimTimeUs deliver_at_us;
    std::uint64_t seq;  // tie-break: equal times deliver in send order
    SimNodeId from;
    SimNodeId to;
    Msg message;
  };
  static bool Later(const InFlight& a, const InFlight& b) {
    if (a.deliver_at_us != b.deliver_at_us) return a.deliver_at_us > b.deliver_at_us;
    return a.seq > b.seq;
  }

  SimTimeUs DrawLatencyUs() {
    if (rng_->Bernoulli(config_.tail_probability)) {
      return rng_->Range(config_.latency_median_us, config_.latency_tail_max_us);
    }
    return rng_->Range(config_.latency_min_us, config_.latency_median_us);
  }

  void Enqueue(SimNodeId from, SimNodeId to, Msg message, SimTimeUs now_us) {
    SimTimeUs at = now_us + DrawLatencyUs();
    if (config_.reorder) {
      if (rng_->Bernoulli(config_.reorder_probability)) {
        at += rng_->Range(0, config_.reorder_delay_max_us);
      }
    } else {
      SimTimeUs& last = fifo_last_us_[{from, to}];
      at = std::max(at, last);
      last = at;
    }
    queue_.push_back(InFlight{at, next_seq_++, from, to, std::move(message)});
    std::push_heap(queue_.begin(), queue_.end(), Later);
  }

  LinkTable links_;
  NetworkConfig config_;
  Rng* rng_;
  std::vector<InFlight> queue_;  // a min-heap by (deliver_at_us, seq)
  std::map<std::pair<SimNodeId, SimNodeId>, SimTimeUs> fifo_last_us_;
  std::uint64_t next_seq_ = 0;
  NetworkStats stats_;
};

}  // namespace tri::sim
