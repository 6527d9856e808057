#include "sim/workload.h"

#include "base/assert.h"

namespace tri::sim {

Workload::Workload(const WorkloadConfig& config, std::vector<SimNodeId> nodes, Rng* rng)
    : config_(config), nodes_(std::move(nodes)), rng_(rng) {
  TRI_ASSERT(rng_ != nullptr);
  TRI_ASSERT(!nodes_.empty());
  TRI_ASSERT(config_.clients > 0 && config_.keys > 0 && config_.max_attempts > 0);
  clients_.resize(config_.clients);
  for (Client& c : clients_)
    c.wake_us = rng_->Range(0, config_.think_time_max_us);
  last_seen_value_.assign(config_.keys, kAbsent);
}

bool Workload::Idle() const {
  for (const Client& c : clients_) {
    if (c.phase != Phase::kThinking) return false;
  }
  return true;
}

void Workload::StartOperation(Client& client, SimTimeUs now_us) {
  const auto client_id = static_cast<std::uint32_t>(&client - clients_.data());
  KvCommand cmd;
  cmd.client_id = client_id;
  cmd.seq = ++client.seq;
  cmd.key = static_cast<KvKey>(rng_->Uniform(config_.keys));
  const double dice = rng_->NextDouble();
  if (dice < config_.put_fraction) {
    cmd.kind = OpKind::kPut;
    cmd.value = next_unique_value_++;
  } else if (dice < config_.put_fraction + config_.cas_fraction) {
    cmd.kind = OpKind::kCas;
    cmd.expected = last_seen_value_[cmd.key];
    cmd.value = next_unique_value_++;
  } else {
    cmd.kind = OpKind::kGet;
  }
  client.command = cmd;
  client.attempts = 0;
  client.maybe_applied = false;
  client.history_slot = history_.size();

  KvOperation op;
  op.id = history_.size();
  op.client_id = client_id;
  op.kind = cmd.kind;
  op.key = cmd.key;
  op.value = cmd.value;
  op.expected = cmd.expected;
  op.outcome = OpOutcome::kUnknown;
  op.call_time = event_counter_++;
  op.call_sim_us = now_us;
  op.return_time = kNeverReturned;
  history_.push_back(op);
  dropped_.push_back(false);
  ++stats_.issued;
}

void Workload::Attempt(Client& client, SimTimeUs now_us, KvCluster& cluster) {
  TRI_ASSERT(client.attempts < config_.max_attempts);
  ++client.attempts;
  ++stats_.attempts;
  const SimNodeId node = nodes_[rng_->Uniform(nodes_.size())];
  if (cluster.Submit(node, client.command)) {
    client.maybe_applied = true;
    client.phase = Phase::kWaiting;
    client.wake_us = now_us + config_.attempt_timeout_us;
    return;
  }
  ++stats_.refusals;
  if (client.attempts >= config_.max_attempts) {
    GiveUp(client, now_us);
    return;
  }
  client.phase = Phase::kBackingOff;
  client.wake_us = now_us + rng_->Range(config_.retry_backoff_us / 2, config_.retry_backoff_us);
}

void Workload::GiveUp(Client& client, SimTimeUs now_us) {
  if (client.maybe_applied) {
    ++stats_.timed_out;  // stays kUnknown, returning at infinity
  } else {
    ++stats_.refused;
    dropped_[client.history_slot] = true;
  }
  client.phase = Phase::kThinking;
  client.wake_us = now_us + rng_->Range(0, config_.think_time_max_us);
}

void Workload::Tick(SimTimeUs now_us, KvCluster& cluster) {
  TRI_ASSERT(!finished_);
  for (Client& client : clients_) {
    if (now_us < client.wake_us) continue;
    switch (client.phase) {
      case Phase::kThinking:
        if (AllIssued()) break;
        StartOperation(client, now_us);
        Attempt(client, now_us, cluster);
        break;
      case Phase::kBackingOff:
        Attempt(client, now_us, cluster);
        break;
      case Phase::kWaiting:
        // The attempt timed out; the command may still be in some log.
        if (client.attempts >= config_.max_attempts) {
          GiveUp(client, now_us);
        } else {
          Attempt(client, now_us, cluster);
        }
        break;
    }
  }
}

void Workload::OnResponse(std::uint32_t client_id, std::uint64_t seq, const KvResult& result,
                          SimTimeUs now_us) {
  if (finished_ || client_id >= clients_.size()) return;
  Client& client = clients_[client_id];
  if (client.seq != seq || client.phase == Phase::kThinking) return;  // late or duplicate
  KvOperation& op = history_[client.history_slot];
  TRI_ASSERT(op.outcome == OpOutcome::kUnknown);
  TRI_ASSERT(result.outcome == OpOutcome::kOk || result.outcome == OpOutcome::kCasFailed);
  TRI_ASSERT(result.outcome != OpOutcome::kCasFailed || op.kind == OpKind::kCas);
  op.outcome = result.outcome;
  op.read_value = result.read_value;
  op.return_time = event_counter_++;
  op.return_sim_us = now_us;
  if (op.kind == OpKind::kGet) last_seen_value_[op.key] = result.read_value;
  if (op.kind != OpKind::kGet && result.outcome == OpOutcome::kOk) {
    last_seen_value_[op.key] = op.value;
  }
  ++stats_.completed;
  last_completion_us_ = now_us;
  client.phase = Phase::kThinking;
  client.wake_us = now_us + rng_->Range(0, config_.think_time_max_us);
}

void Workload::Finish() {
  if (finished_) return;
  for (Client& client : clients_) {
    if (client.phase != Phase::kThinking) GiveUp(client, 0);
  }
  finished_ = true;
  final_history_.clear();
  for (std::size_t i = 0; i < history_.size(); ++i) {
    if (!dropped_[i]) final_history_.push_back(history_[i]);
  }
}

}  // namespace tri::sim
