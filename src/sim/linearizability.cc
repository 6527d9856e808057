#include "sim/linearizability.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_set>
#include <vector>

#include "base/assert.h"

namespace tri::sim {
namespace {

// The sequential specification of one key: its value (kAbsent when unset).
// Returns false when `op` cannot produce its recorded outcome from `state`.
bool StepModel(KvValue state, const KvOperation& op, KvValue* next) {
  *next = state;
  switch (op.kind) {
    case OpKind::kPut:
      *next = op.value;
      return true;
    case OpKind::kGet:
      return op.outcome == OpOutcome::kUnknown || state == op.read_value;
    case OpKind::kCas:
      switch (op.outcome) {
        case OpOutcome::kOk:
          if (state != op.expected) return false;
          *next = op.value;
          return true;
        case OpOutcome::kCasFailed:
          return state != op.expected;
        case OpOutcome::kUnknown:
          // If it takes effect here it behaves as the real operation would.
          if (state == op.expected) *next = op.value;
          return true;
      }
  }
  TRI_UNREACHABLE();
}

// One call or return event in the per-key doubly linked event list.
struct Event {
  bool is_call = false;
  int op = -1;  // index into the per-key operation list
  std::int64_t time = 0;
  int match = -1;  // call <-> return partner
  int prev = -1;
  int next = -1;
};

class Bitset {
 public:
  explicit Bitset(std::size_t bits) : words_((bits + 63) / 64, 0) {}
  void Set(std::size_t i) { words_[i / 64] |= (std::uint64_t{1} << (i % 64)); }
  void Clear(std::size_t i) { words_[i / 64] &= ~(std::uint64_t{1} << (i % 64)); }
  std::size_t Hash() const {
    std::uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (std::uint64_t w : words_)
      h = (h ^ w) * 0xff51afd7ed558ccdULL;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
  friend bool operator==(const Bitset& a, const Bitset& b) { return a.words_ == b.words_; }

 private:
  std::vector<std::uint64_t> words_;
};

struct CacheEntry {
  Bitset linearized;
  KvValue state;
  friend bool operator==(const CacheEntry& a, const CacheEntry& b) {
    return a.state == b.state && a.linearized == b.linearized;
  }
};

struct CacheEntryHash {
  std::size_t operator()(const CacheEntry& e) const {
    return e.linearized.Hash() ^ (static_cast<std::size_t>(e.state) * 0x9e3779b97f4a7c15ULL);
  }
};

struct KeyResult {
  LinearizabilityVerdict verdict = LinearizabilityVerdict::kLinearizable;
  std::uint64_t steps = 0;
  std::string explanation;
};

KeyResult CheckOneKey(KvKey key, const std::vector<const KvOperation*>& ops,
                      const LinearizabilityOptions& options) {
  KeyResult result;
  const int n = static_cast<int>(ops.size());
  // Events 0 is the list head sentinel; then one call and one return per op.
  std::vector<Event> events(1 + 2 * static_cast<std::size_t>(n));
  std::vector<int> order;
  order.reserve(2 * static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const int call = 1 + 2 * i;
    const int ret = call + 1;
    events[call] = Event{true, i, ops[i]->call_time, ret};
    events[ret] = Event{false, i, ops[i]->return_time, call};
    order.push_back(call);
    order.push_back(ret);
  }
  // By time; at equal times calls first, so touching intervals count as concurrent.
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (events[a].time != events[b].time) return events[a].time < events[b].time;
    if (events[a].is_call != events[b].is_call) return events[a].is_call;
    return a < b;
  });
  int prev = 0;
  for (int e : order) {
    events[prev].next = e;
    events[e].prev = prev;
    prev = e;
  }
  events[prev].next = -1;

  auto lift = [&](int call) {
    Event& c = events[call];
    events[c.prev].next = c.next;
    if (c.next >= 0) events[c.next].prev = c.prev;
    Event& r = events[c.match];
    events[r.prev].next = r.next;
    if (r.next >= 0) events[r.next].prev = r.prev;
  };
  auto unlift = [&](int call) {
    Event& c = events[call];
    Event& r = events[c.match];
    events[r.prev].next = c.match;
    if (r.next >= 0) events[r.next].prev = c.match;
    events[c.prev].next = call;
    if (c.next >= 0) events[c.next].prev = call;
  };
  // Done when every op with a real response is linearized: what remains (if
  // anything) are timed-out ops, which may be taken as never effective.
  auto done = [&]() {
    const int first = events[0].next;
    return first < 0 || (!events[first].is_call && events[first].time == kNeverReturned);
  };

  struct Frame {
    int call;
    KvValue state_before;
  };
  std::vector<Frame> stack;
  std::unordered_set<CacheEntry, CacheEntryHash> cache;
  Bitset linearized(static_cast<std::size_t>(n));
  KvValue state = kAbsent;
  std::size_t best_depth = 0;
  int best_blocker = -1;
  KvValue best_state = kAbsent;

  int entry = events[0].next;
  while (!done()) {
    if (++result.steps > options.max_search_steps_per_key) {
      result.verdict = LinearizabilityVerdict::kInconclusive;
      result.explanation = fmt::format("key k{}: search budget of {} steps exhausted ({} ops)", key,
                                       options.max_search_steps_per_key, n);
      return result;
    }
    TRI_ASSERT(entry >= 0);
    const Event& ev = events[entry];
    if (ev.is_call) {
      KvValue next_state;
      if (StepModel(state, *ops[ev.op], &next_state)) {
        Bitset next_set = linearized;
        next_set.Set(static_cast<std::size_t>(ev.op));
        if (cache.insert(CacheEntry{next_set, next_state}).second) {
          stack.push_back(Frame{entry, state});
          state = next_state;
          linearized = std::move(next_set);
          lift(entry);
          entry = events[0].next;
          continue;
        }
      }
      entry = ev.next;
    } else {
      // A response whose operation is not yet linearized: this prefix is a dead end.
      if (stack.size() >= best_depth) {
        best_depth = stack.size();
        best_blocker = ev.op;
        best_state = state;
      }
      if (stack.empty()) break;
      const Frame top = stack.back();
      stack.pop_back();
      state = top.state_before;
      linearized.Clear(static_cast<std::size_t>(events[top.call].op));
      unlift(top.call);
      entry = events[top.call].next;
    }
  }
  if (done()) return result;

  result.verdict = LinearizabilityVerdict::kNotLinearizable;
  std::string text = fmt::format(
      "key k{}: no linearization of its {} operations; the longest linearizable prefix holds {} "
      "of them, after which the value is {} and {} cannot take effect before it returns.",
      key, n, best_depth, best_state,
      best_blocker >= 0 ? DescribeOperation(*ops[best_blocker]) : "?");
  // Context: the operations that overlap the blocked one, and the few that
  // finished just before it was called (the ones that fixed the value it saw).
  if (best_blocker >= 0) {
    const KvOperation& blocked = *ops[best_blocker];
    std::vector<const KvOperation*> before;
    std::vector<const KvOperation*> overlapping;
    for (const KvOperation* op : ops) {
      if (op == &blocked) continue;
      if (op->return_time < blocked.call_time) {
        before.push_back(op);
      } else if (op->call_time <= blocked.return_time) {
        overlapping.push_back(op);
      }
    }
    std::sort(before.begin(), before.end(), [](const KvOperation* a, const KvOperation* b) {
      return a->return_time < b->return_time;
    });
    constexpr std::size_t kBefore = 6;
    constexpr std::size_t kOverlapping = 20;
    text += fmt::format("\n  last {} operations on k{} that returned before it was called:",
                        std::min(before.size(), kBefore), key);
    for (std::size_t i = before.size() > kBefore ? before.size() - kBefore : 0; i < before.size();
         ++i) {
      text += "\n    " + DescribeOperation(*before[i]);
    }
    text += fmt::format("\n  operations on k{} overlapping it ({}):", key, overlapping.size());
    for (std::size_t i = 0; i < overlapping.size() && i < kOverlapping; ++i) {
      text += "\n    " + DescribeOperation(*overlapping[i]);
    }
    if (overlapping.size() > kOverlapping) {
      text += fmt::format("\n    ... {} more", overlapping.size() - kOverlapping);
    }
  }
  result.explanation = std::move(text);
  return result;
}

}  // namespace

std::string_view VerdictName(LinearizabilityVerdict verdict) {
  switch (verdict) {
    case LinearizabilityVerdict::kLinearizable:
      return "linearizable";
    case LinearizabilityVerdict::kNotLinearizable:
      return "NOT linearizable";
    case LinearizabilityVerdict::kInconclusive:
      return "inconclusive";
  }
  return "?";
}

LinearizabilityResult CheckKvLinearizability(const KvHistory& history,
                                             const LinearizabilityOptions& options) {
  std::map<KvKey, std::vector<const KvOperation*>> by_key;
  for (const KvOperation& op : history) {
    TRI_ASSERT_MSG(op.return_time >= op.call_time, "operation returns before it is called");
    TRI_ASSERT_MSG((op.outcome == OpOutcome::kUnknown) == (op.return_time == kNeverReturned),
                   "an operation has a response time iff its outcome is known");
    TRI_ASSERT(op.kind != OpKind::kPut || op.outcome != OpOutcome::kCasFailed);
    TRI_ASSERT(op.kind != OpKind::kGet || op.outcome != OpOutcome::kCasFailed);
    // A timed-out read constrains nothing.
    if (op.kind == OpKind::kGet && op.outcome == OpOutcome::kUnknown) continue;
    by_key[op.key].push_back(&op);
  }
  LinearizabilityResult result;
  for (auto& [key, ops] : by_key) {
    std::stable_sort(ops.begin(), ops.end(), [](const KvOperation* a, const KvOperation* b) {
      return a->call_time < b->call_time;
    });
    KeyResult key_result = CheckOneKey(key, ops, options);
    result.search_steps += key_result.steps;
    ++result.keys_checked;
    if (key_result.verdict != LinearizabilityVerdict::kLinearizable) {
      result.verdict = key_result.verdict;
      result.failing_key = key;
      result.explanation = std::move(key_result.explanation);
      // A proven violation outranks an inconclusive key; keep looking for one.
      if (result.verdict == LinearizabilityVerdict::kNotLinearizable) return result;
    }
  }
  return result;
}

}  // namespace tri::sim
