#include "sim/node_cluster.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <variant>

#include "base/assert.h"
#include "rsm/command.h"
#include "rsm/kv_codec.h"
#include "rsm/kv_types.h"

namespace tri::sim {
namespace {

constexpr std::uint64_t kClusterId = 42;
constexpr std::uint64_t kFirstWallClockMs = 1'700'000'000'000;
// The state hash (a digest of the whole MVCC store) is taken at most this often
// per node while it applies; at the end every node is hashed at the same index.
constexpr SimTimeUs kHashIntervalUs = 30'000;
constexpr const char* kDataDir = "/data";

}  // namespace

std::string NodeSimKey(KvKey key) {
  return "k" + std::to_string(key);
}
std::string NodeSimValue(KvValue value) {
  return std::to_string(value);
}

void NodeCluster::Outbox::Send(std::vector<raft::Message> messages) {
  for (raft::Message& m : messages)
    pending.push_back(std::move(m));
}

NodeCluster::NodeCluster(const NodeSimOptions& options, Rng* rng, Workload* workload,
                         ReplicaAgreement* agreement, SerializableReadCheck* serializable,
                         NodeClusterHooks* hooks)
    : options_(options),
      rng_(rng),
      workload_(workload),
      agreement_(agreement),
      serializable_(serializable),
      hooks_(hooks),
      network_(
          [&] {
            std::vector<SimNodeId> ids;
            for (int i = 1; i <= options.nodes; ++i)
              ids.push_back(static_cast<SimNodeId>(i));
            return ids;
          }(),
          NetworkConfig{}, rng) {
  TRI_ASSERT(options_.nodes >= 1);
  if (options_.parallel_apply_threads > 0) {
    auto executor = txn::ParallelExecutor::Create(options_.parallel_apply_threads);
    TRI_ASSERT_MSG(executor.ok(), executor.status().ToString().c_str());
    apply_executor_ = std::move(executor).value();
  }
  for (int i = 1; i <= options_.nodes; ++i) {
    server::Member m;
    m.id = static_cast<std::uint64_t>(i);
    m.name = "n" + std::to_string(i);
    m.peer_urls = {"http://127.0.0.1:" + std::to_string(2380 + i)};
    founders_.push_back(m);
  }
  for (int i = 1; i <= options_.nodes; ++i) {
    const auto id = static_cast<SimNodeId>(i);
    Node& n = nodes_[id];
    n.id = id;
    n.rng = std::make_unique<SeededRng>(rng_->Next());
    n.fs = std::make_unique<io::SimFileSystem>(*n.rng);
    n.clock = std::make_unique<TickClock>(SimTimeUs{kNodeTickMs} * 1000, 0.0,
                                          rng_->Range(1, SimTimeUs{kNodeTickMs} * 1000));
    n.local_ms = kFirstWallClockMs + static_cast<std::uint64_t>(rng_->Range(0, 5'000));
    const Status st = Open(n);
    TRI_ASSERT_MSG(st.ok(), st.ToString().c_str());
  }
}

NodeCluster::~NodeCluster() = default;

NodeCluster::Node& NodeCluster::node(SimNodeId id) {
  auto it = nodes_.find(id);
  TRI_ASSERT(it != nodes_.end());
  return it->second;
}

const NodeCluster::Node& NodeCluster::node(SimNodeId id) const {
  auto it = nodes_.find(id);
  TRI_ASSERT(it != nodes_.end());
  return it->second;
}

Status NodeCluster::Open(Node& n) {
  storage::WalRaftStorageOptions so;
  so.wal.segment_size_bytes = 256 << 10;
  raft::ConfState cs;
  for (const server::Member& m : founders_)
    cs.voters.insert(m.id);
  so.bootstrap = cs;
  so.bootstrap_data = server::NodeCore::FoundingSnapshotData(founders_, kClusterId, {});
  so.testing_bugs.ack_before_sync = options_.bug == NodeInjectedBug::kAckBeforeSync;
  auto storage = storage::WalRaftStorage::Open(*n.fs, kDataDir, so);
  if (!storage.ok()) return storage.status().WithContext("opening the storage");
  server::NodeCoreOptions o;
  o.id = n.id;
  o.cluster_id = kClusterId;
  o.election_ticks = 10;
  o.heartbeat_ticks = 1;
  o.tick_ms = kNodeTickMs;
  o.snapshot_count = options_.snapshot_count;
  o.snapshot_catchup_entries = 16;
  o.request_timeout_ms = 1'500;
  // Even-numbered nodes apply one by one, so the replica hash check compares
  // the two ways of applying (a one-member cluster uses the executor).
  o.parallel_apply.executor = n.id % 2 == 1 ? apply_executor_.get() : nullptr;
  o.parallel_apply.min_batch = options_.parallel_apply_min_batch;
  o.parallel_apply.scheduler = options_.parallel_apply_scheduler;
  o.parallel_apply.stats = &parallel_apply_stats_;
  if (hooks_ != nullptr) hooks_->ConfigureNode(n.id, o);
  auto core = server::NodeCore::Create(o, storage->get(), &n.outbox, n.rng.get(), n.local_ms);
  if (!core.ok()) return core.status().WithContext("creating the node core");
  n.storage = std::move(*storage);
  n.core = std::move(*core);
  n.outbox.pending.clear();
  n.checked_commit = 0;  // re-check everything the disk still holds as committed
  n.hashed_applied = 0;
  n.last_hash_us = -1;
  n.dirty = true;
  network_.links().SetUp(n.id, true);
  if (hooks_ != nullptr) hooks_->OnNodeUp(n.id);
  return Status::Ok();
}

bool NodeCluster::IsUp(SimNodeId id) const {
  return node(id).core != nullptr;
}

std::vector<SimNodeId> NodeCluster::node_ids() const {
  std::vector<SimNodeId> ids;
  for (const auto& [id, n] : nodes_)
    ids.push_back(id);
  return ids;
}

const server::NodeCore* NodeCluster::core(SimNodeId id) const {
  return node(id).core.get();
}

TickClock& NodeCluster::clock(SimNodeId id) {
  return *node(id).clock;
}

std::uint64_t NodeCluster::max_term() const {
  std::uint64_t term = 0;
  for (const auto& [id, n] : nodes_) {
    if (n.core) term = std::max<std::uint64_t>(term, n.core->term());
  }
  return term;
}

std::optional<SimNodeId> NodeCluster::Leader() const {
  std::optional<SimNodeId> leader;
  std::uint64_t term = 0;
  for (const auto& [id, n] : nodes_) {
    if (n.core && n.core->leader() == id && n.core->term() >= term) {
      leader = id;
      term = n.core->term();
    }
  }
  return leader;
}

bool NodeCluster::Settled() const {
  const auto leader = Leader();
  if (!leader) return false;
  const std::uint64_t commit = node(*leader).core->committed_index();
  for (const auto& [id, n] : nodes_) {
    if (!n.core || n.core->applied_index() != commit || n.core->leader() != *leader) return false;
  }
  return true;
}

void NodeCluster::SetDiskFaults(const io::SimFaults& faults) {
  disk_faults_ = faults;
  for (auto& [id, n] : nodes_)
    n.fs->SetFaults(faults);
}

bool NodeCluster::Submit(SimNodeId id, const KvCommand& command) {
  Node& n = node(id);
  if (!n.core) return false;  // down: the client's connection is refused
  const server::RequestToken token = ++next_token_;
  const std::string key = NodeSimKey(command.key);
  switch (command.kind) {
    case OpKind::kGet:
      n.core->ReadLinearizable(token);
      break;
    case OpKind::kPut: {
      rsm::PutRequest put;
      put.key = key;
      put.value = NodeSimValue(command.value);
      n.core->Propose(token, rsm::CommandKind::kKv, rsm::EncodeKvRequest(rsm::KvRequest(put)));
      break;
    }
    case OpKind::kCas: {
      // Compare-and-swap as etcd clients write it: a txn comparing the value (or,
      // for "absent", the version against 0: a value compare on a missing key fails).
      rsm::Compare cmp;
      cmp.key = key;
      cmp.result = rsm::Compare::EQUAL;
      if (command.expected == kAbsent) {
        cmp.target = rsm::Compare::VERSION;
        cmp.version = 0;
      } else {
        cmp.target = rsm::Compare::VALUE;
        cmp.value = NodeSimValue(command.expected);
      }
      rsm::PutRequest put;
      put.key = key;
      put.value = NodeSimValue(command.value);
      rsm::TxnRequest txn;
      txn.compare.push_back(cmp);
      txn.success.push_back(rsm::RequestOp{put});
      n.core->Propose(token, rsm::CommandKind::kKv, rsm::EncodeKvRequest(rsm::KvRequest(txn)));
      break;
    }
  }
  n.pending[token] = Pending{Pending::What::kClientOp, command, command.key};
  n.dirty = true;
  return true;
}

namespace {

// The value of `key` in `sm` now (kAbsent when missing); -1 for bytes that are
// not a value this simulator wrote (the linearizability check then fails).
KvValue ReadValue(const rsm::StateMachine& sm, KvKey key) {
  rsm::RangeRequest r;
  r.key = NodeSimKey(key);
  auto resp = sm.Range(r);
  if (!resp.ok()) return -1;
  if (resp.value().kvs.empty()) return kAbsent;
  const std::string& text = resp.value().kvs[0].value;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || v <= 0) return -1;
  return v;
}

}  // namespace

void NodeCluster::ServeSerializableRead(SimNodeId id, KvKey key) {
  Node& n = node(id);
  if (!n.core) return;
  rsm::RangeRequest r;
  r.key = NodeSimKey(key);
  r.serializable = true;
  auto resp = n.core->state_machine().Range(r);
  if (!resp.ok()) return;
  sim::SerializableRead read;
  read.node = id;
  read.key = r.key;
  read.revision = resp.value().header.revision;
  if (!resp.value().kvs.empty()) read.value = resp.value().kvs[0].value;
  serializable_->Record(std::move(read));
}

std::optional<std::uint64_t> NodeCluster::StartFinalRead(SimNodeId id, KvKey key) {
  Node& n = node(id);
  if (!n.core) return std::nullopt;
  const server::RequestToken token = ++next_token_;
  n.core->ReadLinearizable(token);
  Pending p;
  p.what = Pending::What::kFinalRead;
  p.key = key;
  n.pending[token] = p;
  final_reads_[token] = FinalRead{};
  n.dirty = true;
  return token;
}

void NodeCluster::Crash(SimNodeId id, bool power_loss, SimTimeUs now_us) {
  Node& n = node(id);
  if (!n.core) return;
  ++crashes_;
  if (options_.verbose) {
    fmt::print("  crash node {} ({})\n", id, power_loss ? "power loss" : "process stop");
  }
  // Pending requests die with the process; their clients time out (outcome
  // unknown) and final reads count as failed.
  for (const auto& [token, p] : n.pending) {
    if (p.what == Pending::What::kFinalRead) final_reads_[token].done = true;
  }
  n.pending.clear();
  n.core.reset();
  n.storage.reset();
  n.outbox.pending.clear();
  n.crash_after_process = false;
  if (power_loss) n.fs->Crash();
  n.down_since_us = now_us;
  network_.links().SetUp(id, false);
  if (hooks_ != nullptr) hooks_->OnNodeDown(id);
}

void NodeCluster::ArmCrashAfterProcess(SimNodeId id) {
  node(id).crash_after_process = true;
}

void NodeCluster::RecoveryViolation(std::string details) {
  if (!recovery_violation_) recovery_violation_ = ReplicaViolation{"recovery", std::move(details)};
}

bool NodeCluster::Restart(SimNodeId id, SimTimeUs now_us) {
  Node& n = node(id);
  if (n.core) return true;
  // The wall clock ran on while the node was down (ticks stopped, time did not):
  // the core derives its request ids from it, like etcd, and relies on that.
  if (!options_.restart_clock_frozen) {
    n.local_ms +=
        static_cast<std::uint64_t>(std::max<SimTimeUs>(0, now_us - n.down_since_us) / 1000);
  }
  n.down_since_us = now_us;
  const Status st = Open(n);
  if (!st.ok()) {
    n.storage.reset();
    const bool faults_on = disk_faults_.write_error_probability > 0 ||
                           disk_faults_.sync_error_probability > 0 ||
                           disk_faults_.short_write_probability > 0;
    if (!faults_on) {
      RecoveryViolation(fmt::format("node {} cannot restart from its disk: {}", id, st.ToString()));
    }
    return false;
  }
  if (options_.verbose) fmt::print("  restart node {}\n", id);
  n.clock->ResumeAt(now_us + SimTimeUs{kNodeTickMs} * 1000);
  return true;
}

void NodeCluster::Step(SimTimeUs now_us) {
  SimNetwork<raft::Message>::Delivery d;
  while (network_.PopDue(now_us, &d)) {
    Node& n = node(d.to);
    if (!n.core) continue;
    n.core->Step(std::move(d.message));
    n.dirty = true;
  }
  for (auto& [id, n] : nodes_) {
    if (!n.core) continue;
    while (n.clock->Due(now_us)) {
      n.clock->OnTick();
      n.local_ms += kNodeTickMs;
      n.core->Tick(n.local_ms);
      n.dirty = true;
    }
    if (hooks_ != nullptr && hooks_->NextWakeMs(id) <= n.local_ms) n.dirty = true;
  }
  for (auto& [id, n] : nodes_) {
    if (n.core && n.dirty) Process(n, now_us);
  }
}

void NodeCluster::Process(Node& n, SimTimeUs now_us) {
  n.dirty = false;
  server::ProcessOutput out = n.core->Process();
  if (hooks_ != nullptr) hooks_->OnProcessed(n.id, *n.core);
  std::vector<raft::Message> messages;
  messages.swap(n.outbox.pending);
  if (n.crash_after_process && !messages.empty()) {
    // The process dies after its writes, before the transport sends anything.
    Crash(n.id, rng_->Bernoulli(0.5), now_us);
    return;
  }
  for (raft::Message& m : messages) {
    const SimNodeId to = m.to;
    // The peer transport (TCP streams) never duplicates a message. Raft's own
    // messages are idempotent, so the dup fault copies them anyway; a forwarded
    // client proposal is not (the rsm has no client sessions): a copy is appended
    // and applied twice. Only --dup-proposals lets the network copy those.
    NetworkConfig& net = network_.config();
    const double dup = net.duplicate_probability;
    if (m.type == raft::MessageType::kProp && !options_.duplicate_proposals) {
      net.duplicate_probability = 0;
    }
    network_.Send(n.id, to, std::move(m), now_us);
    net.duplicate_probability = dup;
  }
  for (server::Completion& c : out.completions)
    Complete(n, std::move(c), now_us);
  if (hooks_ != nullptr && n.core && out.fatal.ok()) {
    if (hooks_->AfterProcess(n.id, *n.core, n.local_ms)) n.dirty = true;
  }
  CheckReplica(n, now_us);
  if (!out.fatal.ok()) {
    ++fatal_stops_;
    if (options_.verbose) fmt::print("  node {} stops: {}\n", n.id, out.fatal.ToString());
    Crash(n.id, rng_->Bernoulli(0.5), now_us);
  }
}

void NodeCluster::Complete(Node& n, server::Completion c, SimTimeUs now_us) {
  auto it = n.pending.find(c.token);
  if (it == n.pending.end()) {
    if (hooks_ != nullptr) hooks_->OnCompletion(n.id, std::move(c));
    return;
  }
  const Pending p = it->second;
  n.pending.erase(it);
  if (p.what == Pending::What::kFinalRead) {
    FinalRead& fr = final_reads_[c.token];
    fr.done = true;
    fr.ok = c.status.ok();
    if (fr.ok) fr.value = ReadValue(n.core->state_machine(), p.key);
    return;
  }
  // A failed request (timed out, no leader, stopping) may or may not have taken
  // effect: the client hears nothing and records the outcome as unknown.
  if (!c.status.ok()) return;
  KvResult result;
  switch (p.command.kind) {
    case OpKind::kGet:
      result.read_value = ReadValue(n.core->state_machine(), p.command.key);
      break;
    case OpKind::kPut:
      if (!c.applied || !c.applied->result.ok()) return;
      break;
    case OpKind::kCas: {
      if (!c.applied || !c.applied->result.ok()) return;
      const auto* txn = std::get_if<rsm::TxnResponse>(&c.applied->result.value());
      if (txn == nullptr) return;
      result.outcome = txn->succeeded ? OpOutcome::kOk : OpOutcome::kCasFailed;
      break;
    }
  }
  workload_->OnResponse(p.command.client_id, p.command.seq, result, now_us);
}

void NodeCluster::CheckReplica(Node& n, SimTimeUs now_us) {
  if (!n.core) return;
  const std::uint64_t commit = n.core->committed_index();
  const std::uint64_t first = n.storage->FirstIndex();
  for (std::uint64_t i = std::max(n.checked_commit + 1, first); i <= commit; ++i) {
    auto term = n.storage->TermAt(i);
    if (term.ok()) agreement_->RecordCommittedTerm(n.id, i, *term);
  }
  n.checked_commit = std::max(n.checked_commit, commit);
  const std::uint64_t applied = n.core->applied_index();
  if (applied != n.hashed_applied &&
      (n.last_hash_us < 0 || now_us - n.last_hash_us >= kHashIntervalUs)) {
    agreement_->RecordStateHash(n.id, applied, n.core->state_machine().StateHash());
    n.hashed_applied = applied;
    n.last_hash_us = now_us;
  }
}

void NodeCluster::RecordAllStateHashes() {
  for (auto& [id, n] : nodes_) {
    if (!n.core) continue;
    agreement_->RecordStateHash(id, n.core->applied_index(), n.core->state_machine().StateHash());
  }
}

std::string NodeCluster::Describe() const {
  std::string out;
  for (const auto& [id, n] : nodes_) {
    if (!out.empty()) out += "; ";
    if (!n.core) {
      out += fmt::format("n{} down", id);
      continue;
    }
    out += fmt::format("n{} term {} leader {} commit {} applied {} log {}..{}", id, n.core->term(),
                       n.core->leader(), n.core->committed_index(), n.core->applied_index(),
                       n.storage->FirstIndex(), n.storage->LastIndex());
  }
  return out;
}

}  // namespace tri::sim
