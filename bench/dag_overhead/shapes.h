#pragma once

// The four graph shapes of the DAG-overhead benchmark, as needs lists.

#include <cstdint>
#include <string>
#include <vector>

#include "saga/graph.h"

namespace tri::bench {

struct Shape {
  std::string name;
  std::vector<std::vector<saga::StepIndex>> needs;
};

// (i) 0 -> 1 -> ... -> n-1.
Shape Chain(std::uint32_t n);
// (ii) 0 -> {1..n} -> n+1 (n + 2 steps).
Shape FanOutIn(std::uint32_t n);
// (iii) `count` diamonds 0 -> {1,2,3} -> 4, chained: each diamond's source
// needs the previous diamond's sink (5 * count steps, one connected graph).
Shape Diamonds(std::uint32_t count);
// (iv) n steps; step i needs k in [0, max_needs] distinct steps drawn
// uniformly from [0, i), from a SeededRng(seed).
Shape RandomDag(std::uint32_t n, std::uint32_t max_needs, std::uint64_t seed);

}  // namespace tri::bench
