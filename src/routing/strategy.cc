#include "routing/strategy.h"

#include <array>
#include <string>
#include <utility>

#include "base/assert.h"
#include "routing/hash.h"

namespace tri::routing {

namespace {

using u128 = unsigned __int128;

constexpr std::array<std::pair<Strategy, std::string_view>, 6> kNames = {{
    {Strategy::kLocalFirst, "local-first"},
    {Strategy::kLeastLatency, "least-latency"},
    {Strategy::kBandwidthAware, "bandwidth-aware"},
    {Strategy::kLeastLoaded, "least-loaded"},
    {Strategy::kRoundRobin, "round-robin"},
    {Strategy::kConsistentHash, "consistent-hash"},
}};

// The index of the smallest rtt among candidates that pass `eligible`, or
// candidates.size() when none does.
template <typename Eligible>
std::size_t Nearest(std::span<const Node> candidates, Eligible eligible) {
  std::size_t best = candidates.size();
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (!eligible(candidates[i])) continue;
    if (best == candidates.size() || candidates[i].rtt_us < candidates[best].rtt_us) best = i;
  }
  return best;
}

std::size_t LocalFirst(std::span<const Node> candidates, const Request& request) {
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].local) return i;
  }
  if (!request.origin_zone.empty()) {
    const std::size_t in_zone =
        Nearest(candidates, [&](const Node& n) { return EffectiveZone(n) == request.origin_zone; });
    if (in_zone < candidates.size()) return in_zone;
  }
  return Nearest(candidates, [](const Node&) { return true; });
}

Result<std::size_t> BandwidthAware(std::span<const Node> candidates, const Request& request) {
  std::size_t best = candidates.size();
  u128 best_us = 0;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Node& n = candidates[i];
    if (n.bandwidth_bytes_per_s == 0) continue;  // unknown: cannot be compared
    const u128 transfer_us =
        (u128{request.payload_bytes} * 1'000'000 + n.bandwidth_bytes_per_s - 1) /
        n.bandwidth_bytes_per_s;
    const u128 total_us = transfer_us + n.rtt_us;
    if (best == candidates.size() || total_us < best_us) {
      best = i;
      best_us = total_us;
    }
  }
  if (best == candidates.size()) {
    return Unavailable("routing bandwidth-aware: none of the " + std::to_string(candidates.size()) +
                       " candidates has a bandwidth estimate");
  }
  return best;
}

Result<std::size_t> LeastLoaded(std::span<const Node> candidates) {
  std::size_t best = candidates.size();
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Node& n = candidates[i];
    if (n.capacity == 0) {
      return InvalidArgument("routing least-loaded: candidate " + std::to_string(i) + " '" +
                             n.name + "' has capacity 0");
    }
    if (best == candidates.size()) {
      best = i;
      continue;
    }
    const Node& b = candidates[best];
    // load / capacity compared without division.
    const std::uint64_t lhs = std::uint64_t{n.load} * b.capacity;
    const std::uint64_t rhs = std::uint64_t{b.load} * n.capacity;
    if (lhs < rhs || (lhs == rhs && n.rtt_us < b.rtt_us)) best = i;
  }
  return best;
}

Result<std::size_t> ConsistentHash(std::span<const Node> candidates, const Request& request,
                                   ChooserState& state) {
  TRI_RETURN_IF_ERROR(ValidateBoundedLoadOptions(state.bounded_load));
  const bool version_known =
      state.candidates_version != 0 && state.candidates_version == state.ring_version;
  if (!state.ring || state.ring->node_count() != candidates.size() ||
      (!version_known && state.ring->fingerprint() != NodesFingerprint(candidates))) {
    auto ring = Ring::Build(candidates, state.ring_options);
    if (!ring.ok()) return ring.status().WithContext("routing consistent-hash");
    state.ring.emplace(std::move(ring).value());
  }
  state.ring_version = state.candidates_version;
  std::uint64_t total = 0;
  for (const Node& n : candidates)
    total += n.load;
  return static_cast<std::size_t>(ChooseBoundedLoadBy(
      *state.ring, [&](std::uint32_t node) { return candidates[node].load; }, total + 1,
      HashBytes(request.key), state.bounded_load.epsilon_permille));
}

}  // namespace

std::string_view StrategyName(Strategy strategy) {
  for (const auto& [s, name] : kNames) {
    if (s == strategy) return name;
  }
  TRI_UNREACHABLE();
}

Result<Strategy> ParseStrategy(std::string_view name) {
  std::string known;
  for (const auto& [s, n] : kNames) {
    if (n == name) return s;
    known += known.empty() ? "" : ", ";
    known += n;
  }
  return InvalidArgument("routing: unknown strategy '" + std::string(name) + "' (known: " + known +
                         ")");
}

Result<std::size_t> Choose(Strategy strategy, std::span<const Node> candidates,
                           const Request& request, ChooserState& state) {
  if (candidates.empty()) {
    return FailedPrecondition("routing " + std::string(StrategyName(strategy)) + ": no candidates");
  }
  switch (strategy) {
    case Strategy::kLocalFirst:
      return LocalFirst(candidates, request);
    case Strategy::kLeastLatency:
      return Nearest(candidates, [](const Node&) { return true; });
    case Strategy::kBandwidthAware:
      return BandwidthAware(candidates, request);
    case Strategy::kLeastLoaded:
      return LeastLoaded(candidates);
    case Strategy::kRoundRobin:
      return static_cast<std::size_t>(state.round_robin_cursor++ % candidates.size());
    case Strategy::kConsistentHash:
      return ConsistentHash(candidates, request, state);
  }
  TRI_UNREACHABLE();
}

}  // namespace tri::routing
