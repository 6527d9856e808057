#include "routing/bounded_load.h"

#include <algorithm>
#include <string>

#include "base/assert.h"

namespace tri::routing {

namespace {
constexpr std::uint32_t kMaxEpsilonPermille = 1'000'000;  // epsilon up to 1000
}  // namespace

Status ValidateBoundedLoadOptions(const BoundedLoadOptions& options) {
  if (options.epsilon_permille == 0 || options.epsilon_permille > kMaxEpsilonPermille) {
    return InvalidArgument("routing bounded load: epsilon_permille " +
                           std::to_string(options.epsilon_permille) + " is not in [1, " +
                           std::to_string(kMaxEpsilonPermille) + "]");
  }
  return Status::Ok();
}

std::uint64_t BoundedLoadCap(std::uint64_t balls, std::uint32_t capacity,
                             std::uint64_t total_capacity, std::uint32_t epsilon_permille) {
  TRI_DASSERT(total_capacity > 0);
  using u128 = unsigned __int128;
  const u128 numerator = u128{1000 + epsilon_permille} * balls * capacity;
  const u128 denominator = u128{1000} * total_capacity;
  return static_cast<std::uint64_t>((numerator + denominator - 1) / denominator);
}

std::uint32_t ChooseBoundedLoad(const Ring& ring, std::span<const std::uint64_t> loads,
                                std::uint64_t balls, std::uint64_t hash,
                                std::uint32_t epsilon_permille) {
  TRI_ASSERT(loads.size() == ring.node_count());
  return ChooseBoundedLoadBy(
      ring, [&](std::uint32_t node) { return loads[node]; }, balls, hash, epsilon_permille);
}

BoundedLoadPlacer::BoundedLoadPlacer(const Ring& ring, const BoundedLoadOptions& options,
                                     std::uint64_t planned_balls)
    : ring_(&ring), options_(options), planned_balls_(planned_balls), loads_(ring.node_count(), 0) {
  TRI_ASSERT(ValidateBoundedLoadOptions(options).ok());
}

std::uint32_t BoundedLoadPlacer::Place(std::uint64_t hash) {
  const std::uint32_t node = ChooseBoundedLoad(
      *ring_, loads_, std::max(planned_balls_, placed_ + 1), hash, options_.epsilon_permille);
  ++loads_[node];
  ++placed_;
  TRI_DASSERT(loads_[node] <= Cap(node));
  return node;
}

std::uint64_t BoundedLoadPlacer::Cap(std::uint32_t node) const {
  return BoundedLoadCap(std::max(planned_balls_, placed_), ring_->capacity(node),
                        ring_->total_capacity(), options_.epsilon_permille);
}

}  // namespace tri::routing
