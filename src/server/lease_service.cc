#include "server/lease_service.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "server/node.h"

namespace tri::server {

NodeLeases::NodeLeases(Node& node, LeaseExecutorOptions options)
    : node_(node), executor_(options, this, [this]() -> const rsm::LeaseTable& {
        TRI_ASSERT(core_ != nullptr);
        return core_->state_machine().leases();
      }) {}

void NodeLeases::AfterRound(NodeCore& core, std::uint64_t now_ms) {
  core_ = &core;
  proposed_ = false;
  core.SetTime(now_ms);
  FlushKeepAlives(core);
  executor_.Round(core.LeaderReady(), core.term(), now_ms);
}

void NodeLeases::Stop() {
  auto waiting = std::move(keep_alives_);
  keep_alives_.clear();
  keep_alive_order_.clear();
  for (auto& [id, dones] : waiting) {
    for (auto& done : dones)
      done(Unavailable("etcdserver: server stopped"), 0);
  }
}

void NodeLeases::Propose(NodeCore& core, const rsm::LeaseCommand& command,
                         std::function<void(Status, const rsm::Applied*)> done) {
  core_ = &core;
  ProposeLease(rsm::EncodeLeaseCommand(command), std::move(done));
}

void NodeLeases::ProposeLease(std::string payload,
                              std::function<void(Status, const rsm::Applied*)> done) {
  TRI_ASSERT(core_ != nullptr);
  const RequestToken token = node_.Track([done = std::move(done)](NodeCore&, const Completion& c) {
    if (!c.status.ok()) return done(c.status, nullptr);
    if (!c.applied.has_value()) return done(Internal("no apply result"), nullptr);
    done(Status::Ok(), &*c.applied);
  });
  core_->Propose(token, rsm::CommandKind::kLease, std::move(payload));
  proposed_ = true;
}

void NodeLeases::KeepAlive(std::int64_t id, std::function<void(Status, std::int64_t)> done) {
  ++keep_alives_received_;
  auto [it, inserted] = keep_alives_.try_emplace(id);
  if (inserted) keep_alive_order_.push_back(id);
  it->second.push_back(std::move(done));
}

void NodeLeases::FlushKeepAlives(NodeCore& core) {
  if (keep_alive_order_.empty()) return;
  const std::size_t per_entry = core.state_machine().leases().options().max_ids_per_command;
  for (std::size_t begin = 0; begin < keep_alive_order_.size(); begin += per_entry) {
    const std::size_t end = std::min(keep_alive_order_.size(), begin + per_entry);
    rsm::LeaseKeepAlive command;
    command.ids.assign(keep_alive_order_.begin() + static_cast<std::ptrdiff_t>(begin),
                       keep_alive_order_.begin() + static_cast<std::ptrdiff_t>(end));
    auto waiting = std::make_shared<
        std::map<std::int64_t, std::vector<std::function<void(Status, std::int64_t)>>>>();
    for (const std::int64_t id : command.ids)
      (*waiting)[id] = std::move(keep_alives_[id]);
    ++keep_alive_entries_;
    Propose(core, command, [waiting](Status status, const rsm::Applied* applied) {
      if (status.ok() && !applied->result.ok()) status = rsm::ToStatus(applied->result.error());
      if (status.ok() && !applied->lease.has_value())
        status = Internal("keep-alive without a reply");
      std::map<std::int64_t, std::int64_t> ttls;
      if (status.ok()) {
        for (const rsm::LeaseTtl& t : applied->lease->renewed)
          ttls[t.id] = t.ttl_s;
      }
      for (auto& [id, dones] : *waiting) {
        for (auto& done : dones)
          done(status, status.ok() ? ttls[id] : 0);
      }
    });
  }
  keep_alives_.clear();
  keep_alive_order_.clear();
}

}  // namespace tri::server
