#include "shapes.h"

#include <algorithm>

#include "base/rng.h"

namespace tri::bench {

using saga::StepIndex;

Shape Chain(std::uint32_t n) {
  Shape shape{"chain", std::vector<std::vector<StepIndex>>(n)};
  for (StepIndex s = 1; s < n; ++s)
    shape.needs[s] = {s - 1};
  return shape;
}

Shape FanOutIn(std::uint32_t n) {
  Shape shape{"fanout", std::vector<std::vector<StepIndex>>(n + 2)};
  std::vector<StepIndex>& sink = shape.needs[n + 1];
  sink.reserve(n);
  for (StepIndex s = 1; s <= n; ++s) {
    shape.needs[s] = {0};
    sink.push_back(s);
  }
  return shape;
}

Shape Diamonds(std::uint32_t count) {
  Shape shape{"diamonds", std::vector<std::vector<StepIndex>>(5 * count)};
  for (StepIndex d = 0; d < count; ++d) {
    const StepIndex base = 5 * d;
    if (d > 0) shape.needs[base] = {base - 1};
    for (StepIndex k = 1; k <= 3; ++k)
      shape.needs[base + k] = {base};
    shape.needs[base + 4] = {base + 1, base + 2, base + 3};
  }
  return shape;
}

Shape RandomDag(std::uint32_t n, std::uint32_t max_needs, std::uint64_t seed) {
  Shape shape{"random", std::vector<std::vector<StepIndex>>(n)};
  SeededRng rng(seed);
  for (StepIndex s = 1; s < n; ++s) {
    const auto k = static_cast<std::uint32_t>(rng.Uniform(max_needs + 1));
    auto& needs = shape.needs[s];
    for (std::uint32_t i = 0; i < k; ++i)
      needs.push_back(static_cast<StepIndex>(rng.Uniform(s)));
    std::sort(needs.begin(), needs.end());
    needs.erase(std::unique(needs.begin(), needs.end()), needs.end());
  }
  return shape;
}

}  // namespace tri::bench
