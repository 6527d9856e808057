#include "crdt/conflict.h"

#include <algorithm>
#include <tuple>

#include "base/assert.h"

namespace tri::crdt {

std::string_view ConflictStrategyName(ConflictStrategy strategy) {
  switch (strategy) {
    case ConflictStrategy::kLastWriterWins:
      return "last-writer-wins";
    case ConflictStrategy::kMergeFunction:
      return "merge function";
    case ConflictStrategy::kApplicationCallback:
      return "application callback";
    case ConflictStrategy::kReject:
      return "reject";
  }
  TRI_UNREACHABLE();
}

namespace {

// The total order siblings are kept and folded in: stamp, then value bytes (equal
// stamps happen only when a replica reuses one).
bool StampOrder(const Version& a, const Version& b) {
  return std::tie(a.stamp, a.value) < std::tie(b.stamp, b.value);
}

}  // namespace

Result<std::vector<Version>> Resolve(std::string_view key, const std::vector<Version>& current,
                                     const Version& incoming, const ConflictPolicy& policy) {
  if (policy.strategy == ConflictStrategy::kMergeFunction && !policy.merge) {
    return InvalidArgument("conflict policy for key \"" + std::string(key) +
                           "\": strategy merge function without a function");
  }
  std::vector<Version> concurrent;
  for (const Version& version : current) {
    switch (version.clock.Compare(incoming.clock)) {
      case CausalOrder::kAfter:
      case CausalOrder::kEqual:
        // The incoming version is stale (or a copy): it has been seen already.
        return current;
      case CausalOrder::kBefore:
        break;  // replaced by the incoming version
      case CausalOrder::kConcurrent:
        concurrent.push_back(version);
        break;
    }
  }
  if (concurrent.empty()) return std::vector<Version>{incoming};

  switch (policy.strategy) {
    case ConflictStrategy::kReject:
      return Aborted("conflict on key \"" + std::string(key) + "\": incoming clock " +
                     incoming.clock.ToString() + " is concurrent with stored clock " +
                     concurrent.front().clock.ToString() +
                     " (strategy reject); read the key, resolve, and write a version whose clock "
                     "descends both");
    case ConflictStrategy::kApplicationCallback: {
      if (concurrent.size() + 1 > policy.max_siblings) {
        return ResourceExhausted("conflict on key \"" + std::string(key) +
                                 "\": " + std::to_string(concurrent.size() + 1) +
                                 " siblings, past max_siblings " +
                                 std::to_string(policy.max_siblings) +
                                 "; the application must resolve the siblings first");
      }
      concurrent.push_back(incoming);
      std::sort(concurrent.begin(), concurrent.end(), StampOrder);
      return concurrent;
    }
    case ConflictStrategy::kLastWriterWins:
    case ConflictStrategy::kMergeFunction:
      break;
  }

  concurrent.push_back(incoming);
  std::sort(concurrent.begin(), concurrent.end(), StampOrder);
  Version resolved = concurrent.back();  // the last writer: its stamp and value
  for (const Version& version : concurrent)
    resolved.clock.Merge(version.clock);
  if (policy.strategy == ConflictStrategy::kMergeFunction) {
    resolved.value = concurrent.front().value;
    for (std::size_t i = 1; i < concurrent.size(); ++i) {
      resolved.value = policy.merge(resolved.value, concurrent[i].value);
    }
  }
  for (const Version& version : concurrent)
    TRI_ASSERT(resolved.clock.Descends(version.clock));
  return std::vector<Version>{std::move(resolved)};
}

Version ResolveSiblings(const std::vector<Version>& siblings, std::string value,
                        const LwwStamp& stamp) {
  Version resolved;
  for (const Version& sibling : siblings)
    resolved.clock.Merge(sibling.clock);
  resolved.clock.Increment(stamp.replica);
  resolved.stamp = stamp;
  resolved.value = std::move(value);
  return resolved;
}

}  // namespace tri::crdt
