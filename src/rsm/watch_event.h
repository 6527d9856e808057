#pragma once

// Watch events: what one write did to one key, as etcd's mvccpb.Event
// (docs/coordination.md, "Watches"). The store records one event per key
// written, in (revision, sub) order, for the node's watch hub; the same events
// are answered from history by MvccStore::Events.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rsm/kv_types.h"

namespace tri::rsm {

struct WatchEvent {
  enum Type : std::uint8_t { PUT = 0, DELETE = 1 };  // mvccpb.Event.EventType
  Type type = PUT;
  // PUT: the key as written. DELETE: only key and mod_revision (the delete's
  // revision) are set, as etcd reports a tombstone.
  KeyValue kv;
  // The key's previous live revision, when there was one (and it is still kept).
  std::optional<KeyValue> prev_kv;
  // Position within the revision (execution order of the write txn).
  std::int64_t sub = 0;

  std::int64_t revision() const { return kv.mod_revision; }
  friend bool operator==(const WatchEvent&, const WatchEvent&) = default;
};

// Bytes an event holds, for the buffer bounds.
inline std::size_t EventBytes(const WatchEvent& e) {
  std::size_t bytes = 64 + e.kv.key.size() + e.kv.value.size();
  if (e.prev_kv) bytes += e.prev_kv->key.size() + e.prev_kv->value.size();
  return bytes;
}

// Events recorded since the last take (StateMachine::TakeEvents).
struct TakenEvents {
  std::vector<WatchEvent> events;  // in (revision, sub) order
  // True when the buffer overflowed since the last take: `events` is then empty
  // and the taker must read the missed revisions from history instead.
  bool dropped = false;
};

// Bounds of the live event buffer: observation state, not replicated state (a
// replica with other bounds applies entries the same way).
struct WatchEventBufferOptions {
  // Off, nothing is recorded and every Take reports `dropped` (a taker then
  // reads history): a state machine nobody watches (the simulator, tests) pays
  // nothing. The node turns it on.
  bool record = false;
  std::size_t max_events = 100000;
  std::size_t max_bytes = std::size_t{64} << 20;
};

// The live event buffer: appended by the store's write path, emptied by Take.
// When an append would pass a bound, everything buffered is dropped and the
// buffer records nothing more until the next Take, which reports `dropped`.
class WatchEventBuffer {
 public:
  explicit WatchEventBuffer(WatchEventBufferOptions options = {}) : options_(options) {}

  void Record(WatchEvent event) {
    if (dropped_ || !options_.record) return;
    const std::size_t bytes = EventBytes(event);
    if (events_.size() + 1 > options_.max_events || bytes_ + bytes > options_.max_bytes) {
      events_.clear();
      events_.shrink_to_fit();
      bytes_ = 0;
      dropped_ = true;
      return;
    }
    bytes_ += bytes;
    events_.push_back(std::move(event));
  }

  TakenEvents Take() {
    TakenEvents taken{std::move(events_), dropped_ || !options_.record};
    events_.clear();
    bytes_ = 0;
    dropped_ = false;
    return taken;
  }

  std::size_t size() const { return events_.size(); }
  const WatchEventBufferOptions& options() const { return options_; }

 private:
  WatchEventBufferOptions options_;
  std::vector<WatchEvent> events_;
  std::size_t bytes_ = 0;
  bool dropped_ = false;
};

// A history query (MvccStore::Events): events of [key, range_end) (etcd's range
// rules) with revision in [from_revision, to_revision], in (revision, sub) order.
struct EventsQuery {
  std::string key;
  std::string range_end;
  std::int64_t from_revision = 0;
  std::int64_t to_revision = 0;  // <= 0: the current revision
  // At most about this many events: the answer stops after the revision at which
  // the limit is reached (a revision is never split, so one revision that writes
  // more keys than the limit comes whole). 0: no limit.
  std::size_t limit = 0;
  // Likewise for EventBytes summed over the events. 0: no limit.
  std::size_t max_bytes = 0;
};

struct EventsPage {
  std::vector<WatchEvent> events;
  // Every event of [from_revision, last_revision] is in `events`: the next page
  // starts at last_revision + 1. Equals the query's end when the page is complete.
  std::int64_t last_revision = 0;
};

}  // namespace tri::rsm
