#pragma once

// NodeSagas: the node's saga service — the SagaBackend the saga API calls, the
// leader's SagaExecutor with the real action runner (child processes and HTTP
// requests on a blocking pool), and the watchers of saga events. Lives on the
// node's loop thread: every public SagaBackend call posts itself there.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/rng.h"
#include "server/node_core.h"
#include "server/saga_backend.h"
#include "server/saga_executor.h"

namespace tri::server {

class Node;

struct NodeSagasOptions {
  SagaExecutorOptions executor;
  std::uint32_t blocking_threads = 64;  // exec/http actions running at once
  std::size_t max_watchers = 10'000;
  std::uint32_t max_list_limit = 1000;
};

class NodeSagas final : public SagaBackend, public SagaProposer {
 public:
  NodeSagas(Node& node, NodeSagasOptions options);
  ~NodeSagas() override;

  // Loop thread, after every Process(): watchers and the executor see what changed.
  void AfterRound(NodeCore& core, std::uint64_t now_ms);
  // When AfterRound wants to run again without other input (UINT64_MAX: never).
  std::uint64_t next_wake_ms() const;
  // Loop thread, when the node stops: watchers end, running actions are cancelled.
  void Stop(NodeCore& core);

  const SagaExecutorStats& executor_stats() const { return executor_->stats(); }

  // SagaBackend.
  void DefineSaga(SagaDefineRequest request,
                  std::function<void(Result<SagaDefineReply>)> done) override;
  void StartSaga(SagaStartRequest request,
                 std::function<void(Result<SagaStartReply>)> done) override;
  void GetSaga(std::string saga_id, bool serializable,
               std::function<void(Result<SagaView>)> done) override;
  void ListSagas(SagaListRequest request, std::function<void(Result<SagaListReply>)> done) override;
  void AbortSaga(std::string saga_id, std::function<void(Result<SagaView>)> done) override;
  WatchId WatchSaga(std::string saga_id, std::uint64_t from_position,
                    std::function<void(std::vector<SagaEventView>, bool finished)> on_events,
                    std::function<void(Status)> on_error) override;
  void CancelWatch(WatchId id) override;

  // SagaProposer (loop thread).
  void ProposeSaga(std::string payload,
                   std::function<void(Status, const rsm::SagaReply*)> done) override;

 private:
  class Runner;
  struct Watcher {
    std::string saga_id;
    std::uint64_t next_position = 0;
    std::function<void(std::vector<SagaEventView>, bool)> on_events;
    std::function<void(Status)> on_error;
  };

  // Proposes `command` and calls `done` with the reply or the error (loop thread).
  void Propose(NodeCore& core, const rsm::SagaCommand& command,
               std::function<void(Result<rsm::SagaReply>)> done);
  // Runs `read` after a linearizable read point (or at once when serializable).
  void Read(NodeCore& core, bool serializable, std::function<void(Status)> read);
  // Sends a watcher what is new; false when it ended.
  bool Feed(NodeCore& core, WatchId id, Watcher& watcher);

  Node& node_;
  const NodeSagasOptions options_;
  NodeCore* core_ = nullptr;  // set on the first loop-thread call
  std::unique_ptr<Runner> runner_;
  std::unique_ptr<SagaExecutor> executor_;
  SeededRng ids_rng_;
  // Start requests that wait for their saga's terminal state, by saga id.
  std::multimap<std::string, std::function<void(Result<SagaStartReply>)>> finish_waiters_;
  // Answers the waiters of `saga_id` once it finished (or is gone).
  void FinishWaiters(NodeCore& core, const std::string& saga_id);
  std::map<WatchId, Watcher> watchers_;
  std::multimap<std::string, WatchId> watchers_by_saga_;
  std::atomic<std::uint64_t> next_watch_id_{1};  // handed out on any thread
  std::uint64_t now_ms_ = 0;
  bool proposed_ = false;  // since the last AfterRound
};

// The view of a saga the API returns (with steps unless `summary`).
SagaView MakeSagaView(const rsm::SagaInstance& instance, bool summary);

}  // namespace tri::server
