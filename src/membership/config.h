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
  int indirect_checks = 3;              // k
  int suspicion_multiplier = 4;         // min timeout = mult * log10(N) * probe_interval
  int suspicion_max_multiplier = 6;     // max timeout = this * min timeout
  int retransmit_multiplier = 4;        // retransmits = mult * ceil(log10(N + 1))
  Millis gossip_interval = 200;
  int gossip_fanout = 3;
  Millis push_pull_interval = 30000;
  int awareness_max_multiplier = 8;     // Lifeguard local health cap

  bool lifeguard_local_health = true;   // LHA: slow down and stretch timeouts when unhealthy
  bool lifeguard_dogpile = true;        // suspicion timeout shrinks with confirmations
  bool lifeguard_buddy = true;          // a suspected member is told first

  // Bounds.
  std::uint32_t max_packet_bytes = 1400;
  std::uint32_t max_members = 100000;
  std::uint32_t max_name_bytes = 128;
  std::uint32_t max_metadata_bytes = 512;

  Status Validate() const;
};

}  // namespace tri::membership
