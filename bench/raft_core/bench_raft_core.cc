// bench_raft_core: three RawNodes in one process with an instant network and
// MemoryStorage. The leader receives 128-byte proposals in batches (all
// proposals between two Ready cycles leave in one append per follower); every
// node handles its Ready per the RawNode contract. Reports committed entries per
// second (applied on the leader), messages and bytes per committed entry, and
// heap allocations per committed entry (global operator new is counted).
//
//   bench_raft_core [--entries N] [--batch B] [--payload BYTES]

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "base/assert.h"
#include "base/rng.h"
#include "raft/raw_node.h"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace tri::raft {
namespace {

struct Options {
  std::uint64_t entries = 200000;
  std::uint64_t batch = 64;
  std::size_t payload_bytes = 128;
};

struct Node {
  std::unique_ptr<MemoryStorage> storage;
  std::unique_ptr<RawNode> raw;
  Index applied = 0;
};

struct Result {
  double seconds = 0;
  std::uint64_t committed = 0;
  std::uint64_t messages = 0;
  std::uint64_t message_bytes = 0;
  std::uint64_t allocations = 0;
};

class Cluster {
 public:
  Cluster() {
    ConfState cs{{1, 2, 3}, {}, {}};
    for (NodeId id = 1; id <= 3; ++id) {
      Node& n = nodes_[id - 1];
      n.storage = std::make_unique<MemoryStorage>(cs);
      Config c;
      c.id = id;
      c.storage = n.storage.get();
      c.rng = &rng_;
      c.max_inflight_msgs = 256;
      auto raw = RawNode::Create(c);
      TRI_ASSERT(raw.ok());
      n.raw = std::move(raw).value();
    }
    TRI_ASSERT(nodes_[0].raw->Campaign().ok());
    Stabilize();
    TRI_ASSERT(nodes_[0].raw->role() == Role::kLeader);
  }

  // Handles Readies and delivers messages until nothing is left to do.
  void Stabilize() {
    bool progress = true;
    while (progress) {
      progress = false;
      for (Node& n : nodes_) {
        if (!n.raw->HasReady()) continue;
        progress = true;
        Ready rd = n.raw->GetReady();
        if (rd.snapshot) {
          TRI_ASSERT(n.storage->ApplySnapshot(*rd.snapshot).ok());
        }
        TRI_ASSERT(n.storage->Append(rd.entries).ok());
        if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
        for (Message& m : rd.messages) {
          ++messages_;
          message_bytes_ += MessageSizeBytes(m);
          inbox_[m.to - 1].push_back(std::move(m));
        }
        if (!rd.committed_entries.empty()) n.applied = rd.committed_entries.back().index;
        n.raw->Advance();
      }
      for (std::size_t i = 0; i < 3; ++i) {
        if (inbox_[i].empty()) continue;
        progress = true;
        std::vector<Message> batch;
        batch.swap(inbox_[i]);
        for (Message& m : batch) (void)nodes_[i].raw->Step(std::move(m));
      }
    }
  }

  // Keeps memory bounded: drops log entries that everyone has applied.
  void CompactAll() {
    Index min_applied = nodes_[0].applied;
    for (const Node& n : nodes_) min_applied = std::min(min_applied, n.applied);
    if (min_applied < 1024) return;
    for (Node& n : nodes_) {
      const Index at = min_applied - 512;
      if (at > n.storage->FirstIndex()) {
        TRI_ASSERT(n.storage->Compact(at).ok());
      }
    }
  }

  Result Run(const Options& o) {
    const std::string payload(o.payload_bytes, 'p');
    const Index start = nodes_[0].applied;
    messages_ = 0;
    message_bytes_ = 0;
    const std::uint64_t allocs_before = g_allocations.load();
    const auto t0 = std::chrono::steady_clock::now();
    std::uint64_t proposed = 0;
    while (proposed < o.entries) {
      for (std::uint64_t i = 0; i < o.batch && proposed < o.entries; ++i, ++proposed) {
        Status s = nodes_[0].raw->Propose(payload);
        TRI_ASSERT_MSG(s.ok(), "proposal refused");
      }
      Stabilize();
      if ((proposed / o.batch) % 64 == 0) CompactAll();
    }
    const auto t1 = std::chrono::steady_clock::now();
    Result r;
    r.seconds = std::chrono::duration<double>(t1 - t0).count();
    r.committed = nodes_[0].applied - start;
    r.messages = messages_;
    r.message_bytes = message_bytes_;
    r.allocations = g_allocations.load() - allocs_before;
    return r;
  }

 private:
  SeededRng rng_{1};
  Node nodes_[3];
  std::vector<Message> inbox_[3];
  std::uint64_t messages_ = 0;
  std::uint64_t message_bytes_ = 0;
};

void Report(const Options& o, const Result& r) {
  const double n = static_cast<double>(r.committed);
  std::printf(
      "batch=%-4llu payload=%zuB entries=%llu  %.0f committed entries/s  %.3f msgs/entry  "
      "%.1f bytes/entry  %.1f allocs/entry\n",
      static_cast<unsigned long long>(o.batch), o.payload_bytes,
      static_cast<unsigned long long>(r.committed), n / r.seconds, r.messages / n,
      r.message_bytes / n, r.allocations / n);
}

}  // namespace
}  // namespace tri::raft

int main(int argc, char** argv) {
  tri::raft::Options o;
  bool batch_given = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::uint64_t v = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--entries") == 0) {
      o.entries = v;
    } else if (std::strcmp(argv[i], "--batch") == 0) {
      o.batch = v;
      batch_given = true;
    } else if (std::strcmp(argv[i], "--payload") == 0) {
      o.payload_bytes = v;
    } else {
      std::fprintf(stderr, "usage: %s [--entries N] [--batch B] [--payload BYTES]\n", argv[0]);
      return 2;
    }
  }
  std::printf("bench_raft_core: 3 voters, one process, instant network, MemoryStorage\n");
  const std::vector<std::uint64_t> batches =
      batch_given ? std::vector<std::uint64_t>{o.batch} : std::vector<std::uint64_t>{1, 16, 64, 256};
  for (std::uint64_t b : batches) {
    tri::raft::Options run = o;
    run.batch = b;
    if (b == 1 && !batch_given) run.entries = o.entries / 4;
    tri::raft::Cluster cluster;
    tri::raft::Report(run, cluster.Run(run));
  }
  return 0;
}
