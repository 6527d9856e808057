#include "rsm/lock_table.h"

#include <algorithm>
#include <type_traits>
#include <utility>

#include "base/assert.h"

namespace tri::rsm {

namespace {

constexpr std::uint8_t kSnapshotVersion = 1;
constexpr std::string_view kFencePrefix = "__trinity/locks/";

// Names and owners are bounded, but an over-long one is quoted in its error.
std::string Quote(std::string_view bytes) {
  constexpr std::size_t kMaxShown = 64;
  std::string out = "\"";
  out.append(bytes.substr(0, kMaxShown));
  out += bytes.size() > kMaxShown ? "\"..." : "\"";
  return out;
}

KvError LockError(GrpcCode code, std::string_view name, const std::string& what) {
  return KvError{code, "lock " + Quote(name) + ": " + what};
}

ReservedWrite PutToken(std::string_view name, std::uint64_t token) {
  return ReservedWrite{LockFenceKey(name), std::to_string(token)};
}

}  // namespace

std::string LockFenceKey(std::string_view name) {
  static_assert(kFencePrefix.starts_with(kReservedPrefix));
  std::string key(kFencePrefix);
  key.append(name);
  return key;
}

LockTable::LockTable(LockOptions options) : options_(options) {}

KvOr<LockReply> LockTable::Apply(std::uint64_t index, const LockCommand& command,
                                 const LeaseExists& lease_exists) {
  TRI_ASSERT(index > 0);
  return std::visit(
      [&](const auto& c) -> KvOr<LockReply> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, LockAcquireCommand>) {
          return Acquire(index, c, lease_exists);
        } else if constexpr (std::is_same_v<T, LockReleaseCommand>) {
          return Release(index, c);
        } else {
          return CancelWait(c);
        }
      },
      command);
}

std::optional<KvError> LockTable::CheckNameAndOwner(std::string_view name,
                                                    std::string_view owner) const {
  if (name.empty()) return KvError{GrpcCode::kInvalidArgument, "lock: the lock name is empty"};
  if (name.size() > options_.max_name_bytes) {
    return LockError(GrpcCode::kInvalidArgument, name,
                     "name is " + std::to_string(name.size()) + " bytes, above the bound of " +
                         std::to_string(options_.max_name_bytes));
  }
  if (owner.empty()) return LockError(GrpcCode::kInvalidArgument, name, "the owner is empty");
  if (owner.size() > options_.max_owner_bytes) {
    return LockError(GrpcCode::kInvalidArgument, name,
                     "owner " + Quote(owner) + " is " + std::to_string(owner.size()) +
                         " bytes, above the bound of " + std::to_string(options_.max_owner_bytes));
  }
  return std::nullopt;
}

KvOr<LockReply> LockTable::Acquire(std::uint64_t index, const LockAcquireCommand& c,
                                   const LeaseExists& lease_exists) {
  if (auto error = CheckNameAndOwner(c.name, c.owner)) return *error;
  if (c.lease != 0 && !lease_exists(c.lease)) return ErrLeaseNotFound();
  LockReply reply;
  auto it = locks_.find(c.name);
  if (it == locks_.end()) {
    if (locks_.size() >= options_.max_locks) {
      return LockError(GrpcCode::kResourceExhausted, c.name,
                       "too many locks held (bound " + std::to_string(options_.max_locks) + ")");
    }
    it = locks_.emplace(c.name, LockEntry{LockHolder{c.owner, index, 1, c.lease}, {}}).first;
    reply.outcome = LockReply::Outcome::kGranted;
    reply.token = index;
    reply.hold_count = 1;
    reply.fence_writes.push_back(PutToken(c.name, index));
    MarkChanged(it->first);
    return reply;
  }
  LockEntry& lock = it->second;
  if (lock.holder.owner == c.owner) {
    if (lock.holder.lease != c.lease) {
      return LockError(GrpcCode::kInvalidArgument, c.name,
                       "owner " + Quote(c.owner) + " holds it under lease " +
                           std::to_string(lock.holder.lease) + ", not " + std::to_string(c.lease));
    }
    if (lock.holder.hold_count >= options_.max_hold_count) {
      return LockError(GrpcCode::kResourceExhausted, c.name,
                       "owner " + Quote(c.owner) + " holds it " +
                           std::to_string(lock.holder.hold_count) + " times (bound " +
                           std::to_string(options_.max_hold_count) + ")");
    }
    ++lock.holder.hold_count;
    reply.outcome = LockReply::Outcome::kGranted;
    reply.token = lock.holder.token;
    reply.hold_count = lock.holder.hold_count;
    return reply;
  }
  reply.outcome = LockReply::Outcome::kQueued;
  for (std::size_t i = 0; i < lock.waiters.size(); ++i) {
    if (lock.waiters[i].owner != c.owner) continue;
    if (lock.waiters[i].lease != c.lease) {
      return LockError(GrpcCode::kInvalidArgument, c.name,
                       "owner " + Quote(c.owner) + " waits under lease " +
                           std::to_string(lock.waiters[i].lease) + ", not " +
                           std::to_string(c.lease));
    }
    reply.position = static_cast<std::uint32_t>(i + 1);
    return reply;
  }
  if (lock.waiters.size() >= options_.max_waiters_per_lock) {
    return LockError(GrpcCode::kResourceExhausted, c.name,
                     "too many waiters (bound " + std::to_string(options_.max_waiters_per_lock) +
                         "); owner " + Quote(c.owner) + " not queued");
  }
  lock.waiters.push_back(LockWaiter{c.owner, c.lease});
  reply.position = static_cast<std::uint32_t>(lock.waiters.size());
  MarkChanged(it->first);
  return reply;
}

KvOr<LockReply> LockTable::Release(std::uint64_t index, const LockReleaseCommand& c) {
  if (auto error = CheckNameAndOwner(c.name, c.owner)) return *error;
  auto it = locks_.find(c.name);
  if (it == locks_.end()) {
    return LockError(GrpcCode::kFailedPrecondition, c.name,
                     "not held, so owner " + Quote(c.owner) + " cannot release it");
  }
  LockHolder& holder = it->second.holder;
  if (holder.owner != c.owner) {
    return LockError(GrpcCode::kFailedPrecondition, c.name,
                     "held by " + Quote(holder.owner) + ", not by " + Quote(c.owner));
  }
  TRI_ASSERT(holder.hold_count >= 1);
  LockReply reply;
  reply.outcome = LockReply::Outcome::kReleased;
  reply.token = holder.token;
  reply.hold_count = --holder.hold_count;
  if (holder.hold_count == 0) PassOn(it, index, reply.fence_writes);
  return reply;
}

KvOr<LockReply> LockTable::CancelWait(const LockCancelWaitCommand& c) {
  if (auto error = CheckNameAndOwner(c.name, c.owner)) return *error;
  auto it = locks_.find(c.name);
  if (it != locks_.end()) {
    LockEntry& lock = it->second;
    LockReply reply;
    if (lock.holder.owner == c.owner) {
      reply.outcome = LockReply::Outcome::kHeld;
      reply.token = lock.holder.token;
      reply.hold_count = lock.holder.hold_count;
      return reply;
    }
    auto waiter = std::find_if(lock.waiters.begin(), lock.waiters.end(),
                               [&](const LockWaiter& w) { return w.owner == c.owner; });
    if (waiter != lock.waiters.end()) {
      lock.waiters.erase(waiter);
      reply.outcome = LockReply::Outcome::kCancelled;
      MarkChanged(it->first);
      return reply;
    }
  }
  return LockError(GrpcCode::kFailedPrecondition, c.name,
                   "owner " + Quote(c.owner) + " neither waits for it nor holds it");
}

void LockTable::PassOn(std::map<std::string, LockEntry, std::less<>>::iterator it,
                       std::uint64_t index, std::vector<ReservedWrite>& fence_writes) {
  LockEntry& lock = it->second;
  MarkChanged(it->first);
  if (lock.waiters.empty()) {
    fence_writes.push_back(ReservedWrite{LockFenceKey(it->first), std::nullopt});
    locks_.erase(it);
    return;
  }
  // Log order: a later grant has a larger token than every earlier one.
  TRI_ASSERT_MSG(index > lock.holder.token, "lock handed over at an index not above its token");
  LockWaiter next;
  if (options_.testing_bugs.grant_to_last_waiter) {
    next = std::move(lock.waiters.back());
    lock.waiters.pop_back();
  } else {
    next = std::move(lock.waiters.front());
    lock.waiters.pop_front();
  }
  TRI_ASSERT(next.owner != lock.holder.owner);
  const std::uint64_t fenced =
      options_.testing_bugs.stale_fence_on_handover ? lock.holder.token : index;
  lock.holder = LockHolder{std::move(next.owner), index, 1, next.lease};
  fence_writes.push_back(PutToken(it->first, fenced));
}

std::vector<ReservedWrite> LockTable::OnLeasesRevoked(const std::vector<std::int64_t>& leases,
                                                      std::uint64_t index) {
  TRI_ASSERT(index > 0);
  const std::set<std::int64_t> revoked(leases.begin(), leases.end());
  TRI_ASSERT_MSG(revoked.count(0) == 0, "lease 0 (no lease) cannot be revoked");
  std::vector<ReservedWrite> fence_writes;
  if (revoked.empty()) return fence_writes;
  for (auto it = locks_.begin(); it != locks_.end();) {
    auto next = std::next(it);
    LockEntry& lock = it->second;
    // Waiters first, so that a hold passes only to a waiter that survives:
    // one hand-over per lock, no holder that exists only inside this entry.
    const auto dropped = std::erase_if(
        lock.waiters, [&](const LockWaiter& w) { return revoked.count(w.lease) != 0; });
    if (dropped > 0) MarkChanged(it->first);
    if (revoked.count(lock.holder.lease) != 0) PassOn(it, index, fence_writes);
    it = next;
  }
  return fence_writes;
}

const LockEntry* LockTable::Find(std::string_view name) const {
  auto it = locks_.find(name);
  return it == locks_.end() ? nullptr : &it->second;
}

std::optional<std::uint32_t> LockTable::QueuePosition(std::string_view name,
                                                      std::string_view owner) const {
  const LockEntry* lock = Find(name);
  if (lock == nullptr) return std::nullopt;
  for (std::size_t i = 0; i < lock->waiters.size(); ++i) {
    if (lock->waiters[i].owner == owner) return static_cast<std::uint32_t>(i + 1);
  }
  return std::nullopt;
}

std::vector<ReservedWrite> LockTable::FenceState() const {
  std::vector<ReservedWrite> state;
  state.reserve(locks_.size());
  for (const auto& [name, lock] : locks_)
    state.push_back(PutToken(name, lock.holder.token));
  return state;
}

void LockTable::MarkChanged(const std::string& name) {
  if (changed_set_.insert(name).second) changed_.push_back(name);
}

std::vector<std::string> LockTable::TakeChanged() {
  changed_set_.clear();
  return std::exchange(changed_, {});
}

// Layout: version (fixed8), lock count, then per lock in name order: name,
// holder owner, token, hold count, lease (varint64 of the int64), waiter count,
// then per waiter in queue order: owner, lease.
void LockTable::EncodeTo(std::string& out) const {
  coding::PutFixed8(out, kSnapshotVersion);
  coding::PutVarint64(out, locks_.size());
  for (const auto& [name, lock] : locks_) {
    coding::PutLengthPrefixed(out, name);
    coding::PutLengthPrefixed(out, lock.holder.owner);
    coding::PutVarint64(out, lock.holder.token);
    coding::PutVarint64(out, lock.holder.hold_count);
    coding::PutVarint64(out, static_cast<std::uint64_t>(lock.holder.lease));
    coding::PutVarint64(out, lock.waiters.size());
    for (const LockWaiter& w : lock.waiters) {
      coding::PutLengthPrefixed(out, w.owner);
      coding::PutVarint64(out, static_cast<std::uint64_t>(w.lease));
    }
  }
}

Result<LockTable> LockTable::DecodeFrom(coding::Decoder& in, const LockOptions& options,
                                        std::uint64_t applied_index) {
  auto bad = [&in](const std::string& what) {
    return InvalidArgument("lock table snapshot: " + what + " at byte " +
                           std::to_string(in.position()));
  };
  std::uint8_t version = 0;
  if (!in.ReadFixed8(version)) return bad("version truncated");
  if (version != kSnapshotVersion) return bad("unknown version " + std::to_string(version));
  std::uint64_t count = 0;
  if (!in.ReadVarint64(count)) return bad("lock count truncated");
  if (count > options.max_locks) {
    return bad(std::to_string(count) + " locks, above the bound of " +
               std::to_string(options.max_locks));
  }
  LockTable table(options);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string name;
    LockEntry lock;
    std::uint64_t lease = 0;
    std::uint64_t waiters = 0;
    if (!in.ReadLengthPrefixed(name, options.max_name_bytes) || name.empty()) {
      return bad("lock " + std::to_string(i) + ": name truncated, empty or above " +
                 std::to_string(options.max_name_bytes) + " bytes");
    }
    const std::string where = "lock " + Quote(name) + ": ";
    if (!table.locks_.empty() && table.locks_.rbegin()->first >= name) {
      return bad(where + "not after " + Quote(table.locks_.rbegin()->first) + " (names unsorted)");
    }
    if (!in.ReadLengthPrefixed(lock.holder.owner, options.max_owner_bytes) ||
        lock.holder.owner.empty()) {
      return bad(where + "holder truncated, empty or above " +
                 std::to_string(options.max_owner_bytes) + " bytes");
    }
    if (!in.ReadVarint64(lock.holder.token) || !in.ReadVarint32(lock.holder.hold_count) ||
        !in.ReadVarint64(lease) || !in.ReadVarint64(waiters)) {
      return bad(where + "holder token, hold count, lease or waiter count truncated");
    }
    lock.holder.lease = static_cast<std::int64_t>(lease);
    if (lock.holder.token == 0 || lock.holder.token > applied_index) {
      return bad(where + "token " + std::to_string(lock.holder.token) +
                 " is not in 1..applied index " + std::to_string(applied_index));
    }
    if (lock.holder.hold_count == 0 || lock.holder.hold_count > options.max_hold_count) {
      return bad(where + "hold count " + std::to_string(lock.holder.hold_count) + " not in 1.." +
                 std::to_string(options.max_hold_count));
    }
    if (waiters > options.max_waiters_per_lock) {
      return bad(where + std::to_string(waiters) + " waiters, above the bound of " +
                 std::to_string(options.max_waiters_per_lock));
    }
    std::set<std::string, std::less<>> owners = {lock.holder.owner};
    for (std::uint64_t w = 0; w < waiters; ++w) {
      LockWaiter waiter;
      if (!in.ReadLengthPrefixed(waiter.owner, options.max_owner_bytes) || waiter.owner.empty() ||
          !in.ReadVarint64(lease)) {
        return bad(where + "waiter " + std::to_string(w) + " truncated, empty or above " +
                   std::to_string(options.max_owner_bytes) + " bytes");
      }
      if (!owners.insert(waiter.owner).second) {
        return bad(where + "owner " + Quote(waiter.owner) +
                   " queued twice or both holds and waits");
      }
      waiter.lease = static_cast<std::int64_t>(lease);
      lock.waiters.push_back(std::move(waiter));
    }
    table.locks_.emplace_hint(table.locks_.end(), std::move(name), std::move(lock));
  }
  return table;
}

}  // namespace tri::rsm
