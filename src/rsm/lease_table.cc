#include "rsm/lease_table.h"

#include <algorithm>
#include <string>

#include "base/assert.h"

namespace tri::rsm {

namespace {

// now + TTL, saturating: a log time near the end of the range (only a corrupt
// or hostile timestamp) must not wrap to an expiry in the past.
std::uint64_t ExpiryOf(std::uint64_t now_ms, std::int64_t ttl_s) {
  TRI_ASSERT(ttl_s > 0 && ttl_s <= kMaxLeaseTtlSeconds);
  const std::uint64_t ttl_ms = static_cast<std::uint64_t>(ttl_s) * 1000;
  return now_ms > UINT64_MAX - ttl_ms ? UINT64_MAX : now_ms + ttl_ms;
}

}  // namespace

KvError ErrLeaseExist() {
  return KvError{GrpcCode::kFailedPrecondition, "etcdserver: lease already exists"};
}
KvError ErrLeaseTtlTooLarge() {
  return KvError{GrpcCode::kOutOfRange, "etcdserver: too large lease TTL"};
}
KvError ErrTooManyLeases(std::size_t max_leases) {
  return KvError{GrpcCode::kResourceExhausted,
                 "trinity: too many leases (the limit is " + std::to_string(max_leases) + ")"};
}
KvError ErrLeaseFull(std::int64_t lease, std::size_t max_keys) {
  return KvError{GrpcCode::kResourceExhausted, "trinity: lease " + std::to_string(lease) +
                                                   " already has " + std::to_string(max_keys) +
                                                   " keys attached (the limit)"};
}

LeaseTable::LeaseTable(LeaseOptions options) : options_(options) {
  TRI_ASSERT_MSG(options_.min_ttl_s >= 1 && options_.min_ttl_s <= options_.max_ttl_s &&
                     options_.max_ttl_s <= kMaxLeaseTtlSeconds,
                 "lease options: need 1 <= min_ttl_s <= max_ttl_s <= 9e9");
}

void LeaseTable::SetExpiry(Lease& lease, std::uint64_t expiry_ms) {
  by_expiry_.erase({lease.expiry_ms, lease.id});
  lease.expiry_ms = expiry_ms;
  by_expiry_.insert({lease.expiry_ms, lease.id});
}

KvOr<std::int64_t> LeaseTable::Grant(std::int64_t id, std::int64_t ttl_s, std::uint64_t now_ms) {
  // etcd's lessor.Grant: no id, then the TTL bound, then existence.
  if (id == 0) return ErrLeaseNotFound();
  if (ttl_s > options_.max_ttl_s) return ErrLeaseTtlTooLarge();
  if (leases_.count(id) != 0) return ErrLeaseExist();
  if (leases_.size() >= options_.max_leases) return ErrTooManyLeases(options_.max_leases);
  const std::int64_t granted = std::max(ttl_s, options_.min_ttl_s);
  Lease& lease = leases_[id];
  lease.id = id;
  lease.ttl_s = granted;
  lease.expiry_ms = ExpiryOf(now_ms, granted);
  by_expiry_.insert({lease.expiry_ms, id});
  return granted;
}

std::optional<std::int64_t> LeaseTable::Renew(std::int64_t id, std::uint64_t now_ms) {
  auto it = leases_.find(id);
  if (it == leases_.end() || it->second.expiry_ms <= now_ms) return std::nullopt;
  if (!options_.testing_bugs.ignore_keep_alives) {
    SetExpiry(it->second, ExpiryOf(now_ms, it->second.ttl_s));
  }
  return it->second.ttl_s;
}

void LeaseTable::Promote(std::uint64_t now_ms) {
  for (auto& [id, lease] : leases_) {
    SetExpiry(lease, std::max(lease.expiry_ms, ExpiryOf(now_ms, lease.ttl_s)));
  }
}

void LeaseTable::Remove(std::int64_t id) {
  auto it = leases_.find(id);
  TRI_ASSERT_MSG(it != leases_.end(), "removing a lease that does not exist");
  TRI_ASSERT_MSG(it->second.keys.empty(), "removing a lease with keys still attached");
  by_expiry_.erase({it->second.expiry_ms, id});
  leases_.erase(it);
}

const Lease* LeaseTable::Find(std::int64_t id) const {
  auto it = leases_.find(id);
  return it == leases_.end() ? nullptr : &it->second;
}

std::vector<std::int64_t> LeaseTable::ExpiredBy(std::uint64_t now_ms, std::size_t max) const {
  std::vector<std::int64_t> ids;
  for (auto it = by_expiry_.begin(); it != by_expiry_.end() && ids.size() < max; ++it) {
    if (it->first > now_ms) break;
    ids.push_back(it->second);
  }
  return ids;
}

std::uint64_t LeaseTable::next_expiry_ms() const {
  return by_expiry_.empty() ? UINT64_MAX : by_expiry_.begin()->first;
}

std::vector<const Lease*> LeaseTable::ByExpiry() const {
  std::vector<const Lease*> out;
  out.reserve(leases_.size());
  for (const auto& [expiry, id] : by_expiry_)
    out.push_back(&leases_.at(id));
  return out;
}

std::optional<KvError> LeaseTable::CheckAttach(std::int64_t lease, std::string_view key) const {
  const Lease* found = Find(lease);
  if (found == nullptr) return ErrLeaseNotFound();
  if (found->keys.size() >= options_.max_keys_per_lease &&
      found->keys.find(key) == found->keys.end()) {
    return ErrLeaseFull(lease, options_.max_keys_per_lease);
  }
  return std::nullopt;
}

void LeaseTable::OnKeyLeaseChanged(const std::string& key, std::int64_t old_lease,
                                   std::int64_t new_lease) {
  TRI_ASSERT(old_lease != new_lease);
  if (old_lease != 0) {
    auto it = leases_.find(old_lease);
    TRI_ASSERT_MSG(it != leases_.end(), "a key was attached to a lease that does not exist");
    it->second.keys.erase(key);
  }
  if (new_lease != 0) {
    auto it = leases_.find(new_lease);
    TRI_ASSERT_MSG(it != leases_.end(), "a key attached to a lease the store did not check");
    it->second.keys.insert(key);
  }
}

void LeaseTable::EncodeTo(std::string& out) const {
  coding::PutVarint64(out, leases_.size());
  for (const auto& [id, lease] : leases_) {
    coding::PutVarint64(out, static_cast<std::uint64_t>(id));
    coding::PutVarint64(out, static_cast<std::uint64_t>(lease.ttl_s));
    coding::PutVarint64(out, lease.expiry_ms);
  }
}

Result<LeaseTable> LeaseTable::DecodeFrom(coding::Decoder& in, const LeaseOptions& options) {
  auto bad = [&in](const std::string& what) {
    return InvalidArgument("rsm snapshot: lease table: " + what + " at byte " +
                           std::to_string(in.position()));
  };
  LeaseTable table(options);
  std::uint64_t count = 0;
  if (!in.ReadVarint64(count)) return bad("lease count truncated");
  if (count > options.max_leases) {
    return bad(std::to_string(count) + " leases, above the limit of " +
               std::to_string(options.max_leases));
  }
  bool first = true;
  std::int64_t previous = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t id = 0, ttl = 0, expiry = 0;
    if (!in.ReadVarint64(id) || !in.ReadVarint64(ttl) || !in.ReadVarint64(expiry)) {
      return bad("lease " + std::to_string(i) + " truncated");
    }
    Lease lease;
    lease.id = static_cast<std::int64_t>(id);
    lease.ttl_s = static_cast<std::int64_t>(ttl);
    lease.expiry_ms = expiry;
    if (lease.id == 0) return bad("lease " + std::to_string(i) + " has id 0");
    if (!first && lease.id <= previous) {
      return bad("lease " + std::to_string(lease.id) + " out of order or repeated");
    }
    // Not min_ttl_s: a member restarted with a shorter election timeout must
    // still read the leases granted under the longer one.
    if (lease.ttl_s < 1 || lease.ttl_s > kMaxLeaseTtlSeconds) {
      return bad("lease " + std::to_string(lease.id) + " has TTL " + std::to_string(lease.ttl_s) +
                 " s, outside [1, " + std::to_string(kMaxLeaseTtlSeconds) + "]");
    }
    first = false;
    previous = lease.id;
    table.by_expiry_.insert({lease.expiry_ms, lease.id});
    table.leases_.emplace(lease.id, std::move(lease));
  }
  return table;
}

Status LeaseTable::AttachKeys(
    const std::vector<std::pair<std::string, std::int64_t>>& leased_keys) {
  for (const auto& [key, lease] : leased_keys) {
    auto it = leases_.find(lease);
    if (it == leases_.end()) {
      return InvalidArgument("rsm snapshot: key '" + key + "' is attached to lease " +
                             std::to_string(lease) + ", which does not exist");
    }
    if (it->second.keys.size() >= options_.max_keys_per_lease) {
      return InvalidArgument("rsm snapshot: lease " + std::to_string(lease) + " has more than " +
                             std::to_string(options_.max_keys_per_lease) + " keys");
    }
    it->second.keys.insert(key);
  }
  return Status::Ok();
}

}  // namespace tri::rsm
