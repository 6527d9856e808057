#include "txn/batch_check.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace tri::txn::testing {

namespace {

std::string DescribeVersion(const Version& version) {
  if (version.from_storage()) return "storage";
  std::ostringstream out;
  out << "t" << version.txn << "." << version.incarnation;
  return out.str();
}

std::string DescribeEvent(const TraceEvent& event) {
  std::ostringstream out;
  out << "{time " << event.time_ns << ", thread " << event.thread << ", t" << event.txn << "."
      << event.incarnation << " " << TraceKindName(event.kind);
  if (event.kind == TraceKind::kRead) {
    out << " " << event.key << "@" << DescribeVersion(event.version);
  } else if (!event.key.empty()) {
    out << " '" << event.key << "'";
  }
  out << "}";
  return out.str();
}

bool Terminal(TraceKind kind) {
  return kind == TraceKind::kCommit || kind == TraceKind::kAbort;
}

// The committed writers of each key, in batch order.
std::map<std::string, std::vector<std::uint32_t>, std::less<>> WritersByKey(
    const BatchResult& serial) {
  std::map<std::string, std::vector<std::uint32_t>, std::less<>> writers;
  for (std::size_t i = 0; i < serial.txns.size(); ++i) {
    for (const KeyWrite& write : serial.txns[i].writes) {
      writers[write.key].push_back(static_cast<std::uint32_t>(i));
    }
  }
  return writers;
}

}  // namespace

std::string Describe(const TxnResult& result) {
  std::ostringstream out;
  out << OutcomeName(result.outcome);
  if (!result.reason.empty()) out << " (" << result.reason << ")";
  out << " gas " << result.gas_used << " writes {";
  for (std::size_t i = 0; i < result.writes.size(); ++i) {
    const KeyWrite& write = result.writes[i];
    out << (i == 0 ? "" : ", ") << write.key << "=";
    if (write.value) {
      out << "'" << *write.value << "'";
    } else {
      out << "deleted";
    }
  }
  out << "}";
  return out.str();
}

std::optional<std::string> DiffResults(const BatchResult& expected, const BatchResult& actual) {
  if (expected.txns.size() != actual.txns.size()) {
    std::ostringstream out;
    out << "expected " << expected.txns.size() << " results, got " << actual.txns.size();
    return out.str();
  }
  for (std::size_t i = 0; i < expected.txns.size(); ++i) {
    if (expected.txns[i] == actual.txns[i]) continue;
    std::ostringstream out;
    out << "transaction " << i << ": serial " << Describe(expected.txns[i]) << ", parallel "
        << Describe(actual.txns[i]);
    return out.str();
  }
  return std::nullopt;
}

std::optional<std::string> CheckTrace(const BatchResult& serial, std::span<const TraceEvent> trace,
                                      std::size_t threads) {
  const std::size_t n = serial.txns.size();
  auto error = [](std::string what, const TraceEvent& event) {
    return std::optional<std::string>(what + " at " + DescribeEvent(event));
  };
  // Order, threads, transactions in range; each transaction's events.
  std::vector<std::vector<const TraceEvent*>> by_txn(n);
  for (std::size_t e = 0; e < trace.size(); ++e) {
    const TraceEvent& event = trace[e];
    if (e > 0) {
      const TraceEvent& before = trace[e - 1];
      if (event.time_ns < before.time_ns ||
          (event.time_ns == before.time_ns && event.thread < before.thread)) {
        return error("trace not ordered by time then thread", event);
      }
    }
    if (event.thread >= threads) return error("thread out of range", event);
    if (event.txn >= n) return error("transaction out of range", event);
    by_txn[event.txn].push_back(&event);
  }
  // The final incarnation of every transaction, then its final execution.
  std::vector<std::uint32_t> final_incarnation(n, 0);
  std::vector<std::vector<const TraceEvent*>> final_run(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (by_txn[i].empty()) {
      std::ostringstream out;
      out << "transaction " << i << " has no trace events";
      return out.str();
    }
    for (const TraceEvent* event : by_txn[i]) {
      final_incarnation[i] = std::max(final_incarnation[i], event->incarnation);
    }
    std::vector<const TraceEvent*>& run = final_run[i];
    for (const TraceEvent* event : by_txn[i]) {
      if (event->incarnation != final_incarnation[i]) continue;
      if (event->kind == TraceKind::kStart) run.clear();
      run.push_back(event);
    }
    if (run.front()->kind != TraceKind::kStart) {
      return error("final incarnation without a START", *run.front());
    }
    if (!Terminal(run.back()->kind)) {
      return error("final execution does not end in COMMIT or ABORT", *run.back());
    }
    for (std::size_t e = 1; e + 1 < run.size(); ++e) {
      if (Terminal(run[e]->kind)) return error("event after the end of an execution", *run[e]);
    }
    const TxnResult& result = serial.txns[i];
    const bool committed = result.outcome == Outcome::kCommitted;
    if ((run.back()->kind == TraceKind::kCommit) != committed) {
      return error("final execution ends unlike the result " + Describe(result), *run.back());
    }
    if (!committed && run.back()->key != result.reason) {
      return error("ABORT reason differs from the result's '" + result.reason + "'", *run.back());
    }
  }
  // Reads and writes of each final execution.
  const auto writers = WritersByKey(serial);
  for (std::size_t i = 0; i < n; ++i) {
    const auto index = static_cast<std::uint32_t>(i);
    std::set<std::string, std::less<>> written;
    for (const TraceEvent* event : final_run[i]) {
      if (event->kind == TraceKind::kWrite) {
        written.insert(event->key);
        continue;
      }
      if (event->kind != TraceKind::kRead) continue;
      Version expected;
      if (written.count(event->key) != 0) {
        expected = Version{index, final_incarnation[i]};
      } else if (auto it = writers.find(event->key); it != writers.end()) {
        auto after = std::lower_bound(it->second.begin(), it->second.end(), index);
        if (after != it->second.begin()) {
          const std::uint32_t writer = *std::prev(after);
          expected = Version{writer, final_incarnation[writer]};
        }
      }
      if (event->version != expected) {
        return error("READ of a version other than the serial order's " + DescribeVersion(expected),
                     *event);
      }
    }
    if (serial.txns[i].outcome == Outcome::kCommitted) {
      std::set<std::string, std::less<>> result_keys;
      for (const KeyWrite& write : serial.txns[i].writes)
        result_keys.insert(write.key);
      if (written != result_keys) {
        return error("WRITE keys differ from the result " + Describe(serial.txns[i]),
                     *final_run[i].back());
      }
    }
  }
  return std::nullopt;
}

}  // namespace tri::txn::testing
