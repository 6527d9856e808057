// RapidCheck: the state machine's leases against a plain model (a map of
// leases with TTL and expiry, and a map of live keys to their lease), over
// random grants, revokes, keep-alives, expires, promotes, puts, deletes,
// snapshots and time steps.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "rsm/command.h"
#include "rsm/kv_codec.h"
#include "rsm/lease_codec.h"
#include "rsm/state_machine.h"
#include "rsm_test_util.h"

namespace tri::rsm {
namespace {

struct ModelLease {
  std::int64_t ttl_s = 0;
  std::uint64_t expiry_ms = 0;
};

struct Model {
  std::map<std::int64_t, ModelLease> leases;
  std::map<std::string, std::int64_t> keys;  // live key -> lease (0: none)
  std::int64_t revision = 1;

  void Revoke(const std::vector<std::int64_t>& ids) {
    bool deleted = false;
    for (const std::int64_t id : ids) {
      for (auto it = keys.begin(); it != keys.end();) {
        if (it->second == id) {
          it = keys.erase(it);
          deleted = true;
        } else {
          ++it;
        }
      }
      leases.erase(id);
    }
    if (deleted) ++revision;
  }
};

constexpr std::int64_t kMinTtl = 3;

RC_GTEST_PROP(LeaseModel, StateMachineLeasesBehaveLikeThePlainModel, ()) {
  auto sm = std::make_unique<StateMachine>(KvOptions{}, SagaOptions{},
                                           LeaseOptions{.min_ttl_s = kMinTtl});
  Model model;
  std::uint64_t index = 0;
  std::uint64_t now = 1000;
  auto apply = [&](CommandKind kind, std::string payload) {
    ++index;
    return sm->Apply(index, EncodeCommand(Command{kind, index, now, std::move(payload)}));
  };
  const auto gen_id = rc::gen::inRange<std::int64_t>(1, 5);
  const int steps = *rc::gen::inRange(1, 80);
  for (int step = 0; step < steps; ++step) {
    const int op = *rc::gen::inRange(0, 9);
    if (op == 0) {
      const std::int64_t id = *gen_id;
      const std::int64_t ttl = *rc::gen::inRange<std::int64_t>(-1, 20);
      Applied a = apply(CommandKind::kLease, EncodeLeaseCommand(LeaseGrant{id, ttl}));
      if (model.leases.count(id) != 0) {
        RC_ASSERT(!a.result.ok());
        RC_ASSERT(a.result.error() == ErrLeaseExist());
      } else {
        const std::int64_t granted = std::max(ttl, kMinTtl);
        RC_ASSERT(a.result.ok());
        RC_ASSERT(a.lease->ttl_s == granted);
        model.leases[id] = ModelLease{granted, now + static_cast<std::uint64_t>(granted) * 1000};
      }
    } else if (op == 1) {
      const std::int64_t id = *gen_id;
      Applied a = apply(CommandKind::kLease, EncodeLeaseCommand(LeaseRevoke{id}));
      RC_ASSERT(a.result.ok() == (model.leases.count(id) != 0));
      if (a.result.ok()) model.Revoke({id});
    } else if (op == 2) {
      const auto ids = *rc::gen::container<std::vector<std::int64_t>>(gen_id);
      Applied a = apply(CommandKind::kLease, EncodeLeaseCommand(LeaseKeepAlive{ids}));
      RC_ASSERT(a.result.ok());
      RC_ASSERT(a.lease->renewed.size() == ids.size());
      for (std::size_t i = 0; i < ids.size(); ++i) {
        auto it = model.leases.find(ids[i]);
        const bool alive = it != model.leases.end() && it->second.expiry_ms > now;
        RC_ASSERT(a.lease->renewed[i].ttl_s == (alive ? it->second.ttl_s : 0));
        if (alive) it->second.expiry_ms = now + static_cast<std::uint64_t>(it->second.ttl_s) * 1000;
      }
    } else if (op == 3) {
      const auto ids = *rc::gen::container<std::vector<std::int64_t>>(gen_id);
      Applied a = apply(CommandKind::kLease, EncodeLeaseCommand(LeaseExpire{ids}));
      RC_ASSERT(a.result.ok());
      std::vector<std::int64_t> due;
      for (const std::int64_t id : ids) {
        auto it = model.leases.find(id);
        if (it != model.leases.end() && it->second.expiry_ms <= now &&
            std::find(due.begin(), due.end(), id) == due.end()) {
          due.push_back(id);
        }
      }
      RC_ASSERT(a.lease->revoked == due);
      model.Revoke(due);
    } else if (op == 4) {
      RC_ASSERT(apply(CommandKind::kLease, EncodeLeaseCommand(LeasePromote{})).result.ok());
      for (auto& [id, l] : model.leases) {
        l.expiry_ms = std::max(l.expiry_ms, now + static_cast<std::uint64_t>(l.ttl_s) * 1000);
      }
    } else if (op == 5 || op == 6) {
      const std::string key(1, static_cast<char>('a' + *rc::gen::inRange(0, 4)));
      const std::int64_t lease = *rc::gen::inRange<std::int64_t>(0, 5);
      PutRequest put = testing::PutReq(key, "v");
      put.lease = lease;
      Applied a = apply(CommandKind::kKv, EncodeKvRequest(put));
      const bool known = lease == 0 || model.leases.count(lease) != 0;
      RC_ASSERT(a.result.ok() == known);
      if (known) {
        model.keys[key] = lease;
        ++model.revision;
      }
    } else if (op == 7) {
      const std::string key(1, static_cast<char>('a' + *rc::gen::inRange(0, 4)));
      RC_ASSERT(apply(CommandKind::kKv, EncodeKvRequest(testing::DeleteReq(key))).result.ok());
      if (model.keys.erase(key) != 0) ++model.revision;
    } else if (op == 8) {
      auto restored = std::make_unique<StateMachine>(KvOptions{}, SagaOptions{},
                                                     LeaseOptions{.min_ttl_s = kMinTtl});
      RC_ASSERT(restored->Restore(sm->Snapshot()).ok());
      sm = std::move(restored);
    } else {
      now += *rc::gen::inRange<std::uint64_t>(0, 15000);
    }

    // The whole lease state matches the model after every step.
    RC_ASSERT(sm->store().current_revision() == model.revision);
    RC_ASSERT(sm->leases().size() == model.leases.size());
    for (const auto& [id, l] : model.leases) {
      const Lease* got = sm->leases().Find(id);
      RC_ASSERT(got != nullptr);
      RC_ASSERT(got->ttl_s == l.ttl_s);
      RC_ASSERT(got->expiry_ms == l.expiry_ms);
      std::set<std::string, std::less<>> keys;
      for (const auto& [key, lease] : model.keys) {
        if (lease == id) keys.insert(key);
      }
      RC_ASSERT(got->keys == keys);
    }
    auto live = sm->Range(testing::RangeReq("a", "\xff"));
    RC_ASSERT(live.ok());
    RC_ASSERT(live->count == static_cast<std::int64_t>(model.keys.size()));
    for (const KeyValue& kv : live->kvs) {
      RC_ASSERT(model.keys.count(kv.key) == 1);
      RC_ASSERT(kv.lease == model.keys[kv.key]);
    }
  }
}

}  // namespace
}  // namespace tri::rsm
