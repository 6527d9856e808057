#pragma once

// Membership tuning and bounds (docs/membership.md). Defaults follow
// memberlist's LAN profile where it has one; Lifeguard's parts can be switched
// off one by one to compare against plain SWIM in the same run.

#include <cstdint>

#include "base/status.h"
#include "membership/types.h"

namespace tri::membership {

struct Config {
  Millis probe_interval = 1000;
  Millis probe_timeout = 500;
  int indirect_checks = 3;  // k
  // Suspicion timeouts (docs/membership.md, "Suspicion"): with N live members,
  // min = suspicion_multiplier * max(1, log10(N)) * suspicion_unit and
  // max = suspicion_max_multiplier * min. memberlist's unit is its probe interval
  // (4 * log10(N) * 1 s); ours is finer so that dogpile confirmations, not a fixed
  // floor, decide how fast a truly dead member is declared.
  int suspicion_multiplier = 3;
  int suspicion_max_multiplier = 6;
  Millis suspicion_unit = 500;
  // Lifeguard's k: independent confirmations that bring the timeout from max to min
  // (0 when fewer than k + 2 members are live).
  int suspicion_confirmations = 3;
  // Expected number of members that probe a newly suspected member out of turn
  // (each with probability confirmation_probes / live members), so that a truly
  // dead member collects its k confirmations within about one probe round. Only
  // with lifeguard_dogpile; 0 turns it off.
  int confirmation_probes = 8;
  int max_confirmation_probes_in_flight = 4;
  int retransmit_multiplier = 4;  // retransmits = mult * ceil(log10(N + 1))
  // A refutation of a suspicion or death of this member is retransmitted this many
  // times as often as other updates (1 = the same). 2 slowed the joins of 1,000
  // members at 10% loss from 42 s to 230 s to converge (docs/membership.md).
  int refutation_retransmit_factor = 1;
  Millis gossip_interval = 100;  // only when there is something to send
  int gossip_fanout = 4;
  Millis push_pull_interval = 30000;  // scaled up with N above 32 members, as memberlist
  Millis join_retry_interval = 1000;  // resend the join push/pull to the seeds
  int awareness_max_multiplier = 8;   // Lifeguard local health cap

  bool lifeguard_local_health = true;  // LHA: slow down and stretch timeouts when unhealthy
  bool lifeguard_dogpile = true;       // suspicion timeout shrinks with confirmations
  bool lifeguard_buddy = true;         // a suspected member is told first

  // A Tick or Receive later than NextDeadline() by more than stall_threshold means
  // this member's own process stalled: probes in flight are dropped as
  // inconclusive (never a suspicion), suspicion expiries due within stall_grace are
  // pushed to now + stall_grace so the refutations waiting in the inbox are read
  // first, and (with local health) the health score rises. A stall of at least
  // probe_interval also refutes pre-emptively (a new incarnation) when
  // refute_after_stall is set, since peers may have suspected this member.
  Millis stall_threshold = 250;
  Millis stall_grace = 1000;
  bool refute_after_stall = true;

  // Bounds.
  std::uint32_t max_packet_bytes = 1400;
  std::uint32_t max_members = 100000;
  std::uint32_t max_name_bytes = 128;
  std::uint32_t max_metadata_bytes = 512;    // address + zone
  std::uint32_t max_relays_in_flight = 256;  // ping-req relays this member keeps open

  Status Validate() const;
};

}  // namespace tri::membership
