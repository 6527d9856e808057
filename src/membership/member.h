#pragma once

// A SWIM member with Lifeguard (docs/membership.md): a pure state machine.
//
// Time and randomness come in from the caller (`now` in milliseconds on the
// caller's clock; an Rng owned by the caller), packets come in as bytes and go out
// as bytes, and what the member learned goes out as events. It never blocks,
// sleeps, reads a clock or touches a socket, so the simulator runs thousands of
// members in one process and a seed replays exactly.
//
// Driving it: call Tick(now) no later than NextDeadline() (a late call is how the
// member notices that its own process stalled: Lifeguard's local health), hand
// every received datagram to Receive, then send TakePackets() and consume
// TakeEvents(). Gossip informs; it never decides ownership (that stays in a Raft
// log).
//
// This header is the contract between the core and its drivers (the simulator,
// later the UDP transport). Additions are fine; renames need every driver changed.

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/rng.h"
#include "base/status.h"
#include "membership/config.h"
#include "membership/types.h"

namespace tri::membership {

class Member {
 public:
  // `self.name` must be unique in the cluster and non-empty; `rng` must outlive
  // the member. Fails on an invalid config or metadata (the message names it).
  static Result<Member> Create(const Config& config, const MemberInfo& self, Rng* rng, Millis now);

  // Starts joining through `seeds` (member names the driver can address); an
  // empty list starts a new cluster of one.
  void Join(const std::vector<std::string>& seeds, Millis now);
  // Announces a graceful leave; peers mark this member left (not failed).
  void Leave(Millis now);
  // Gossips new metadata (load, capacity, lifecycle hints) under a new incarnation.
  Status UpdateMetadata(const Metadata& metadata, Millis now);

  // Runs every timer due at `now` (probes, probe timeouts, suspicion expiry,
  // gossip, push/pull).
  void Tick(Millis now);
  // One datagram from `from`. A malformed or oversized packet is rejected with a
  // Status naming what is wrong; the member's state is unchanged by it.
  Status Receive(std::string_view from, std::span<const std::uint8_t> bytes, Millis now);

  // The earliest time at which Tick has work to do, never before the last `now`
  // seen; std::numeric_limits<Millis>::max() when nothing is scheduled (before
  // Join, or after Leave once the gossip queue is empty).
  Millis NextDeadline() const;
  std::vector<Packet> TakePackets();
  std::vector<Event> TakeEvents();

  // This member's view: every known member (self included) with its state.
  const std::vector<MemberView>& Members() const;
  const MemberView* Find(std::string_view name) const;
  std::size_t AliveCount() const;
  // Lifeguard's local health multiplier (0 = healthy).
  int HealthScore() const;
  const std::string& Name() const;
  // This member's own incarnation (raised by every refutation, metadata update,
  // join completion and leave).
  std::uint64_t Incarnation() const;
  // Updates waiting to be piggybacked or gossiped.
  std::size_t PendingBroadcasts() const;

  Member(Member&&) noexcept;
  Member& operator=(Member&&) noexcept;
  ~Member();

 private:
  struct Impl;
  explicit Member(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tri::membership
