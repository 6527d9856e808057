// MvccStore's history query for watches (MvccStore::Events): the events the
// write path recorded live, rebuilt from the kept revisions.

#include <algorithm>
#include <string>
#include <utility>

#include "base/assert.h"
#include "rsm/mvcc_store.h"

namespace tri::rsm {

KeyValue MvccStore::TombstoneKeyValue(const std::string& key, std::int64_t revision) {
  KeyValue kv;
  kv.key = key;
  kv.mod_revision = revision;
  return kv;
}

KvOr<EventsPage> MvccStore::Events(const EventsQuery& query) const {
  const std::int64_t to = query.to_revision <= 0 ? current_revision_ : query.to_revision;
  if (to > current_revision_) return ErrFutureRev();
  // etcd refuses a watch whose start is below the compact revision (the events
  // at the compact revision itself are the kept ones).
  if (query.from_revision < compact_revision_) return ErrCompacted();
  const std::int64_t from = std::max<std::int64_t>(query.from_revision, 1);
  EventsPage page;
  page.last_revision = to;
  if (from > to) return page;

  const auto collect = [&](const std::string& key, const History& history) {
    auto it = std::lower_bound(history.begin(), history.end(), from,
                               [](const KeyRevision& r, std::int64_t rev) { return r.main < rev; });
    for (; it != history.end() && it->main <= to; ++it) {
      WatchEvent event;
      event.sub = it->sub;
      if (it->tombstone) {
        event.type = WatchEvent::DELETE;
        event.kv = TombstoneKeyValue(key, it->main);
      } else {
        event.kv = ToKeyValue(key, *it);
      }
      // The key's previous write, when it is a live one (a tombstone or nothing
      // before: the key did not exist).
      if (it != history.begin() && !std::prev(it)->tombstone) {
        event.prev_kv = ToKeyValue(key, *std::prev(it));
      }
      page.events.push_back(std::move(event));
    }
  };
  const bool unbounded = query.range_end.size() == 1 && query.range_end[0] == '\0';
  if (query.range_end.empty()) {
    auto it = index_.find(query.key);
    if (it != index_.end()) collect(it->first, it->second);
  } else if (unbounded || query.key < query.range_end) {
    for (auto it = index_.lower_bound(query.key); it != index_.end(); ++it) {
      if (!unbounded && !(it->first < query.range_end)) break;
      collect(it->first, it->second);
    }
  }
  std::sort(page.events.begin(), page.events.end(), [](const WatchEvent& a, const WatchEvent& b) {
    return a.revision() != b.revision() ? a.revision() < b.revision() : a.sub < b.sub;
  });
  // Cut after the revision at which a limit is reached, never inside it.
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < page.events.size(); ++i) {
    bytes += EventBytes(page.events[i]);
    const bool full = (query.limit > 0 && i + 1 >= query.limit) ||
                      (query.max_bytes > 0 && bytes >= query.max_bytes);
    if (!full) continue;
    const std::int64_t cut = page.events[i].revision();
    auto end = std::upper_bound(
        page.events.begin() + static_cast<std::ptrdiff_t>(i), page.events.end(), cut,
        [](std::int64_t rev, const WatchEvent& e) { return rev < e.revision(); });
    if (end != page.events.end()) {
      page.events.erase(end, page.events.end());
      page.last_revision = cut;
    }
    break;
  }
  TRI_ASSERT(page.last_revision >= from - 1 && page.last_revision <= to);
  TRI_ASSERT(page.events.empty() || page.events.back().revision() <= page.last_revision);
  return page;
}

}  // namespace tri::rsm
