// MvccStore's part of the snapshot (docs/rsm.md, "Snapshot format") and the
// checks that make a decoded store one that the write paths could have built.

#include <cstdint>
#include <string>
#include <utility>

#include "base/coding.h"
#include "rsm/kv_codec.h"
#include "rsm/mvcc_store.h"

namespace tri::rsm {

namespace {

constexpr std::uint8_t kTombstoneFlag = 1;

bool ReadSigned(coding::Decoder& in, std::int64_t& v) {
  std::uint64_t raw = 0;
  if (!in.ReadVarint64(raw)) return false;
  v = static_cast<std::int64_t>(raw >> 1) ^ -static_cast<std::int64_t>(raw & 1);
  return true;
}

bool ReadPositive(coding::Decoder& in, std::int64_t& v) {
  std::uint64_t raw = 0;
  if (!in.ReadVarint64(raw) || raw > static_cast<std::uint64_t>(INT64_MAX)) return false;
  v = static_cast<std::int64_t>(raw);
  return true;
}

}  // namespace

void MvccStore::EncodeTo(std::string& out) const {
  coding::PutVarint64(out, static_cast<std::uint64_t>(current_revision_));
  coding::PutVarint64(out, static_cast<std::uint64_t>(compact_revision_));
  coding::PutFixed8(out, nospace_alarm_ ? 1 : 0);
  coding::PutVarint64(out, index_.size());
  for (const auto& [key, history] : index_) {
    coding::PutLengthPrefixed(out, key);
    coding::PutVarint64(out, history.size());
    for (const KeyRevision& r : history) {
      coding::PutVarint64(out, static_cast<std::uint64_t>(r.main));
      coding::PutVarint64(out, static_cast<std::uint64_t>(r.sub));
      coding::PutFixed8(out, r.tombstone ? kTombstoneFlag : 0);
      if (r.tombstone) continue;
      coding::PutVarint64(out, static_cast<std::uint64_t>(r.create_revision));
      coding::PutVarint64(out, static_cast<std::uint64_t>(r.version));
      PutSignedVarint(out, r.lease);
      coding::PutLengthPrefixed(out, r.value);
    }
  }
}

Result<MvccStore> MvccStore::DecodeFrom(coding::Decoder& in, const KvOptions& options) {
  MvccStore store(options);
  std::uint8_t alarm = 0;
  if (!ReadPositive(in, store.current_revision_) || !ReadPositive(in, store.compact_revision_) ||
      !in.ReadFixed8(alarm)) {
    return InvalidArgument("rsm snapshot: store header truncated at byte " +
                           std::to_string(in.position()));
  }
  // INT64_MAX is refused too: the next write would overflow the revision.
  if (store.current_revision_ < 1 || store.current_revision_ == INT64_MAX) {
    return InvalidArgument("rsm snapshot: current revision " +
                           std::to_string(store.current_revision_) + " is outside 1..2^63-2");
  }
  if (store.compact_revision_ > store.current_revision_) {
    return InvalidArgument("rsm snapshot: compact revision " +
                           std::to_string(store.compact_revision_) + " is above current revision " +
                           std::to_string(store.current_revision_));
  }
  if (alarm > 1) {
    return InvalidArgument("rsm snapshot: nospace alarm byte is " + std::to_string(alarm));
  }
  store.nospace_alarm_ = alarm == 1;

  std::uint64_t key_count = 0;
  if (!in.ReadVarint64(key_count) || key_count > in.remaining()) {
    return InvalidArgument("rsm snapshot: key count truncated or larger than the input");
  }
  const std::string* previous_key = nullptr;
  for (std::uint64_t k = 0; k < key_count; ++k) {
    std::string key;
    const std::size_t key_at = in.position();
    if (!in.ReadLengthPrefixed(key)) {
      return InvalidArgument("rsm snapshot: key " + std::to_string(k) + " truncated at byte " +
                             std::to_string(key_at));
    }
    const std::string where =
        "rsm snapshot: key #" + std::to_string(k) + " (byte " + std::to_string(key_at) + ")";
    if (key.empty()) return InvalidArgument(where + " is empty");
    if (previous_key != nullptr && !(*previous_key < key)) {
      return InvalidArgument(where + " is not after the previous key");
    }
    std::uint64_t count = 0;
    if (!in.ReadVarint64(count) || count == 0 || count > in.remaining()) {
      return InvalidArgument(where + ": revision count missing, zero or larger than the input");
    }
    History history;
    history.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::string at = where + " revision #" + std::to_string(i);
      KeyRevision r;
      std::uint8_t flags = 0;
      if (!ReadPositive(in, r.main) || !ReadPositive(in, r.sub) || !in.ReadFixed8(flags)) {
        return InvalidArgument(at + ": truncated");
      }
      if (flags > kTombstoneFlag)
        return InvalidArgument(at + ": unknown flags " + std::to_string(flags));
      r.tombstone = flags == kTombstoneFlag;
      if (!r.tombstone && (!ReadPositive(in, r.create_revision) || !ReadPositive(in, r.version) ||
                           !ReadSigned(in, r.lease) || !in.ReadLengthPrefixed(r.value))) {
        return InvalidArgument(at + ": truncated");
      }
      if (r.main < 1 || r.main > store.current_revision_) {
        return InvalidArgument(at + ": revision " + std::to_string(r.main) + " is outside 1.." +
                               std::to_string(store.current_revision_));
      }
      const KeyRevision* before = history.empty() ? nullptr : &history.back();
      if (before != nullptr && before->main >= r.main) {
        return InvalidArgument(at + ": revision " + std::to_string(r.main) + " does not increase");
      }
      // Compaction keeps at most one revision <= the compact revision, a live one.
      if (before != nullptr && r.main <= store.compact_revision_) {
        return InvalidArgument(at + ": two revisions at or below the compact revision");
      }
      if (r.tombstone) {
        if (before == nullptr || before->tombstone) {
          return InvalidArgument(at + ": tombstone of a key that does not exist");
        }
        if (r.main <= store.compact_revision_) {
          return InvalidArgument(at + ": tombstone kept at or below the compact revision");
        }
      } else if (before != nullptr && !before->tombstone) {
        if (r.create_revision != before->create_revision || r.version != before->version + 1) {
          return InvalidArgument(at +
                                 ": create revision or version does not follow the previous put");
        }
      } else if (before != nullptr || r.version == 1) {
        if (r.version != 1 || r.create_revision != r.main) {
          return InvalidArgument(at + ": a created key must have version 1 and create revision " +
                                 std::to_string(r.main));
        }
      } else {
        // The first kept revision of a key whose creation was compacted away.
        if (r.main > store.compact_revision_ || r.version < 1 || r.create_revision < 1 ||
            r.create_revision >= r.main || r.version > r.main) {
          return InvalidArgument(at + ": create revision " + std::to_string(r.create_revision) +
                                 " or version " + std::to_string(r.version) +
                                 " impossible at revision " + std::to_string(r.main));
        }
      }
      store.used_bytes_ += RevisionBytes(key, r);
      history.push_back(std::move(r));
    }
    auto inserted =
        store.index_.emplace_hint(store.index_.end(), std::move(key), std::move(history));
    previous_key = &inserted->first;
  }
  return store;
}

}  // namespace tri::rsm
