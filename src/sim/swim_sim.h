#pragma once

// `tri-sim swim`: N members of the real SWIM + Lifeguard core
// (membership/member.h) on a simulated network, driven by a discrete-event
// loop, with loss, delay, partitions, process stalls and crashes drawn from a
// seed; it measures crash detection, false positives, dissemination and
// bandwidth, and checks that every crash is seen by every live member and that
// no live member dies without a cause the checker can name.
// docs/membership.md describes the model and the metrics.

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "membership/config.h"
#include "sim/swim_faults.h"

namespace tri::sim {

// Deliberate driver bugs that the checkers must catch.
enum class SwimBug : std::uint8_t {
  kNone,
  // After a stall the member's socket stays deaf and mute for a long time (its
  // sends and receipts are dropped): the member is healthy by the fault plan,
  // so its death is an unexplained one ("no false positive").
  kMuteAfterStall,
  // A planned crash does not stop the member: the checker expects it declared
  // dead, but it keeps answering ("crash detected by every member").
  kZombieCrash,
};
Result<SwimBug> ParseSwimBug(const std::string& text);

struct SwimSimOptions {
  std::uint64_t seed = 1;
  int nodes = 100;
  membership::Config config;

  // The network: each datagram is lost with `loss`, else delivered after a
  // delay uniform in [delay_min_ms, delay_max_ms], plus jitter_ms more with
  // probability jitter_probability.
  double loss = 0.0;
  Millis delay_min_ms = 1;
  Millis delay_max_ms = 5;
  double jitter_probability = 0.0;
  Millis jitter_ms = 0;
  // When a stall ends, the member's late timers run before it reads the
  // datagrams buffered during the stall (a resumed process whose timer fires
  // first: the harsher order, the one Lifeguard guards against), or after.
  bool stall_resume_timers_first = true;
  // What a stalled member's socket buffers; datagrams beyond it are dropped.
  std::uint32_t stall_buffer_datagrams = 4096;
  // Header bytes added to every datagram in the bandwidth figure (UDP + IPv4).
  std::uint32_t header_bytes = 28;

  SwimFaultOptions faults;

  // Members join one by one, join_spread_ms apart, through m0 and up to two
  // earlier members; the measured phase starts once every member sees every
  // member alive, and the run fails ("join converges") after warmup_max_ms.
  Millis join_spread_ms = 10;
  Millis warmup_max_ms = 600000;
  // The measured phase: faults in the first duration_ms, then settle_ms without
  // new faults (loss and delay stay) for the detection of late crashes.
  Millis duration_ms = 60000;
  Millis settle_ms = -1;  // -1: 2 x the longest suspicion timeout + 30 s
  // Metadata updates injected at random live members, update_gap_ms apart from
  // the start of the measured phase; each is timed to 99.99% of live members.
  int updates = 0;
  Millis update_gap_ms = 5000;
  Millis dissemination_timeout_ms = 60000;  // then the update counts as incomplete

  // Measurement mode: an unexplained death is counted (the false-positive
  // figure), not a violation.
  bool count_false_positives = false;
  SwimBug bug = SwimBug::kNone;
  // Bound on simulated events (deliveries, timers, faults) per run.
  std::uint64_t max_events = 20'000'000'000ULL;
};

struct SwimSimResult {
  bool ok = true;
  std::string violated;  // the failed check, empty when ok
  std::string details;   // what the check saw (names members and times)

  Millis warmup_ms = 0;     // joins until every member saw every member alive
  Millis simulated_ms = 0;  // the whole run
  double wall_seconds = 0;  // pooled (PoolSwimResults): the sum over seeds

  // Crash detection: per (crash, live observer) pair, ms from the crash to the
  // observer's dead event; per crash, ms until the last live observer saw it.
  std::vector<double> detect_pair_ms;
  std::vector<double> detect_all_ms;
  int crashes = 0;

  // Deaths of members that did not crash, by (member, incarnation): explained
  // by a partition or by a stall past the suspicion timeout, or false positives.
  std::uint64_t false_positives = 0;
  std::uint64_t false_positive_observations = 0;  // dead events behind them
  std::uint64_t explained_deaths = 0;
  double node_hours = 0;  // members' live time, joins to the end

  // Dissemination: per update, ms until 99.99% of live members had it.
  std::vector<double> dissemination_ms;
  int updates_incomplete = 0;

  // Traffic in the measured phase.
  std::uint64_t datagrams_sent = 0;
  std::uint64_t datagrams_delivered = 0;
  std::uint64_t datagrams_rejected = 0;   // Receive returned an error
  double kbit_per_member_second = 0;      // mean over members, headers included
  double kbit_per_member_second_max = 0;  // the busiest member
  std::uint64_t events = 0;               // simulated events of the whole run
  std::uint64_t datagrams_total = 0;      // datagrams sent in the whole run
};

SwimSimResult RunSwimSim(const SwimSimOptions& options);

// Switches off the core's own stall handling (beyond Lifeguard): a late Tick is
// never taken for a stall, and no pre-emptive refutation follows one. With the
// Lifeguard switches off too, the member is plain SWIM.
void DisableStallHandling(membership::Config& config);

// One line: the seed, the verdict and the figures.
std::string FormatSwimSimResult(const SwimSimOptions& options, const SwimSimResult& result);

// The smallest suspicion timeout the core uses at `members` live members (the
// core's rule, membership/suspicion.h), and the largest (the dogpile's start).
Millis MinSuspicionTimeout(const membership::Config& config, int members);
Millis MaxSuspicionTimeout(const membership::Config& config, int members);

}  // namespace tri::sim
