#pragma once

// A small deterministic network for membership tests: members by name on one
// clock, datagrams delayed by a fixed latency, lost at random (seeded), dropped
// across partitions or to crashed members, and members that stall (are not run)
// for a while and then get their queued datagrams. Run(until) always calls the
// member with the earliest deadline or delivery, so a member is never late unless
// a test stalls it.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/rng.h"
#include "membership/member.h"

namespace tri::membership::testing {

class TestNetwork {
 public:
  explicit TestNetwork(std::uint64_t seed, Config config = {}) : rng_(seed), config_(config) {}

  Member& Add(const std::string& name, Metadata metadata = {}) {
    auto node = std::make_unique<Node>(rng_.Fork());
    auto member = Member::Create(config_, MemberInfo{name, std::move(metadata)}, &node->rng, now_);
    EXPECT_TRUE(member.ok()) << member.status().ToString();
    node->member = std::make_unique<Member>(std::move(member).value());
    Member& ref = *node->member;
    nodes_.emplace(name, std::move(node));
    return ref;
  }

  // Adds `count` members named prefix0.. and joins all through the first.
  void AddCluster(int count, const std::string& prefix = "m") {
    for (int i = 0; i < count; ++i)
      Add(prefix + std::to_string(i));
    member(prefix + "0").Join({}, now_);
    for (int i = 1; i < count; ++i)
      member(prefix + std::to_string(i)).Join({prefix + "0"}, now_);
  }

  Member& member(const std::string& name) { return *nodes_.at(name)->member; }
  Millis now() const { return now_; }
  void set_loss(double loss) { loss_ = loss; }
  void set_latency(Millis latency) { latency_ = latency; }
  // Sees every packet a member sends (before loss), with its sender and time.
  void set_tap(std::function<void(const std::string&, const Packet&, Millis)> tap) {
    tap_ = std::move(tap);
  }

  void Crash(const std::string& name) { nodes_.at(name)->crashed = true; }
  // The member is not run until `until`; datagrams to it wait in its inbox.
  void Stall(const std::string& name, Millis until) { nodes_.at(name)->stalled_until = until; }
  void Partition(const std::set<std::string>& side) { side_ = side; }
  void Heal() { side_.clear(); }

  // Every event of every member so far, with the observer's name.
  const std::vector<std::pair<std::string, Event>>& events() const { return events_; }
  std::uint64_t packets_sent() const { return packets_sent_; }
  std::uint64_t bytes_sent() const { return bytes_sent_; }

  void Run(Millis duration) { RunUntil(now_ + duration); }

  void RunUntil(Millis until) {
    for (;;) {
      Millis next = std::numeric_limits<Millis>::max();
      if (!in_flight_.empty()) next = in_flight_.top().at;
      for (auto& [name, node] : nodes_) {
        if (node->crashed) continue;
        next = std::min(next, std::max(node->member->NextDeadline(), node->stalled_until));
      }
      if (next > until) break;
      if (next <= now_) {
        // Everything due now was run on the last pass; a member that stays due
        // without progress would spin here.
        ASSERT_LT(++spins_at_now_, 100000) << "a member stays due at " << now_;
      } else {
        spins_at_now_ = 0;
      }
      now_ = std::max(now_, next);
      // Deliveries due now first, then timers, in name order: deterministic.
      while (!in_flight_.empty() && in_flight_.top().at <= now_) {
        Datagram d = in_flight_.top();
        in_flight_.pop();
        Node& to = *nodes_.at(d.to);
        if (to.crashed) continue;
        if (to.stalled_until > now_) {
          d.at = to.stalled_until;
          in_flight_.push(std::move(d));
          continue;
        }
        Status s = to.member->Receive(d.from, d.bytes, now_);
        EXPECT_TRUE(s.ok()) << s.ToString();
        Drain(d.to, to);
      }
      for (auto& [name, node] : nodes_) {
        if (node->crashed || node->stalled_until > now_) continue;
        if (node->member->NextDeadline() <= now_) {
          node->member->Tick(now_);
          Drain(name, *node);
        }
      }
    }
    now_ = std::max(now_, until);
  }

  // Whether every running member sees every running member alive (and the
  // crashed ones dead or left).
  bool Converged() {
    for (auto& [name, node] : nodes_) {
      if (node->crashed) continue;
      for (auto& [other, other_node] : nodes_) {
        const MemberView* view = node->member->Find(other);
        if (view == nullptr) return false;
        const bool want_live = !other_node->crashed;
        const bool live = view->state == State::kAlive;
        if (want_live != live) return false;
      }
    }
    return true;
  }

  std::size_t size() const { return nodes_.size(); }

 private:
  struct Node {
    explicit Node(SeededRng r) : rng(r) {}
    SeededRng rng;
    std::unique_ptr<Member> member;
    bool crashed = false;
    Millis stalled_until = 0;
  };
  struct Datagram {
    Millis at;
    std::uint64_t order;
    std::string from;
    std::string to;
    std::vector<std::uint8_t> bytes;
    bool operator>(const Datagram& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  void Drain(const std::string& name, Node& node) {
    for (Packet& p : node.member->TakePackets()) {
      ++packets_sent_;
      if (tap_) tap_(name, p, now_);
      bytes_sent_ += p.bytes.size();
      if (nodes_.find(p.to) == nodes_.end()) continue;
      if (!side_.empty() && (side_.count(name) != side_.count(p.to))) continue;
      if (loss_ > 0 && rng_.Bernoulli(loss_)) continue;
      in_flight_.push(Datagram{now_ + latency_, order_++, name, p.to, std::move(p.bytes)});
    }
    for (Event& e : node.member->TakeEvents())
      events_.emplace_back(name, std::move(e));
  }

  SeededRng rng_;
  Config config_;
  Millis now_ = 0;
  Millis latency_ = 2;
  double loss_ = 0;
  std::uint64_t order_ = 0;
  std::map<std::string, std::unique_ptr<Node>> nodes_;
  std::priority_queue<Datagram, std::vector<Datagram>, std::greater<>> in_flight_;
  std::set<std::string> side_;
  std::vector<std::pair<std::string, Event>> events_;
  std::uint64_t packets_sent_ = 0;
  std::uint64_t bytes_sent_ = 0;
  int spins_at_now_ = 0;
  std::function<void(const std::string&, const Packet&, Millis)> tap_;
};

}  // namespace tri::membership::testing
