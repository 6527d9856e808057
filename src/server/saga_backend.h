#pragma once

// What the saga API calls: the gRPC service trinity.v1.Sagas, the HTTP/JSON
// API, `tri dev` and `tri demo`. Implemented by the node (server/node.h) over
// the replicated saga table (rsm/saga_table.h); any member serves every call
// (writes go through the Raft log and are forwarded to the leader; reads are
// linearizable unless `serializable`).
//
// Every call is asynchronous: the callback runs exactly once, on the node's
// loop thread — keep it short and never block in it (hand the result to a gRPC
// reactor or another thread). Errors are Status codes the API maps 1:1:
//   kInvalidArgument     bad document (the validator's located messages,
//                        one per line), bad inputs, bad id, bad filter
//   kNotFound            unknown saga or definition
//   kResourceExhausted   too many running sagas, too many watchers
//   kFailedPrecondition  the saga already finished (abort)
//   kOutOfRange          watch from a position whose events were dropped
//   kUnavailable / kDeadlineExceeded   no leader, request timed out

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace tri::server {

struct SagaDefineRequest {
  std::string document;     // YAML or JSON (JSON when it starts with '{')
  std::string source_name;  // named in error messages, e.g. "order.yaml"
};
struct SagaDefineReply {
  std::string name;
  std::uint32_t version = 0;     // 1, 2, ... per name
  bool already_existed = false;  // the same document was the newest version already
};

struct SagaStartRequest {
  // Either a registered definition (version 0 = the newest) or an inline document.
  std::string definition_name;
  std::uint32_t definition_version = 0;
  std::string inline_document;
  std::map<std::string, std::string> inputs;
  std::string saga_id;  // empty: the node generates a ULID
  // Reply once the saga reached its terminal state (state in the reply), not
  // when it was started.
  bool wait = false;
};
struct SagaStartReply {
  std::string saga_id;
  bool already_existed = false;  // a saga with this id exists: it is returned, not started again
  std::string state;             // with `wait`: the terminal state
};

struct SagaStepView {
  std::string id;
  std::string state;          // saga::StepStateName
  std::string forward_state;  // how the forward phase ended
  std::uint32_t attempts = 0;
  std::uint32_t compensation_attempts = 0;
  int code = 0;  // last failure code of the current phase, 0 if none
  std::string message;
  std::string output;
  std::uint64_t started_ms = 0;   // first forward attempt really started (unix ms), 0 if never
  std::uint64_t finished_ms = 0;  // forward phase ended, 0 if not yet
};

struct SagaView {
  std::string id;
  std::string definition_name;
  std::uint32_t definition_version = 0;  // 0 for an inline definition
  std::string state;                     // saga::SagaOutcomeName: running, completed, ...
  std::string stop_cause;                // saga::StopCauseName
  bool compensating = false;
  std::uint64_t created_ms = 0;
  std::uint64_t finished_ms = 0;  // 0 while running
  std::map<std::string, std::string> inputs;
  std::vector<std::string> compensation_failed_steps;
  std::uint64_t events = 0;  // events recorded so far (the next watch position)
  // Statistics (saga::SagaStats, durations in milliseconds).
  std::uint64_t attempts = 0;
  std::uint64_t retries = 0;
  std::uint64_t compensation_attempts = 0;
  std::uint64_t stale_results_dropped = 0;
  std::uint32_t max_parallelism = 0;  // peak forward attempts running at once
  double avg_parallelism = 0.0;       // busy time / wall time
  std::uint64_t wall_us = 0;          // start to finish (or to the last event), log time
  std::vector<SagaStepView> steps;    // empty in list replies
};

struct SagaListRequest {
  std::string state;                    // empty = any; else a SagaOutcomeName
  std::string definition_name;          // empty = any
  std::uint64_t created_after_ms = 0;   // inclusive; 0 = no bound
  std::uint64_t created_before_ms = 0;  // exclusive; 0 = no bound
  std::string page_token;               // from the previous reply; empty = first page
  std::uint32_t limit = 100;            // bounded by the node (max 1000)
  bool serializable = false;
};
struct SagaListReply {
  std::vector<SagaView> sagas;  // ordered by id; without steps
  std::string next_page_token;  // empty on the last page
};

// One transition, as saga::TraceRecord names it (saga::TraceEventName).
struct SagaEventView {
  std::uint64_t position = 0;  // 0-based, dense per saga: resume from position + 1
  std::uint64_t time_ms = 0;   // log time (unix ms)
  std::string event;           // "step_started", "saga_completed", ...
  std::string step;            // step id; empty for saga-level events
  std::uint32_t attempt = 0;
  int code = 0;
};

using WatchId = std::uint64_t;

class SagaBackend {
 public:
  virtual ~SagaBackend() = default;

  virtual void DefineSaga(SagaDefineRequest request,
                          std::function<void(Result<SagaDefineReply>)> done) = 0;
  virtual void StartSaga(SagaStartRequest request,
                         std::function<void(Result<SagaStartReply>)> done) = 0;
  virtual void GetSaga(std::string saga_id, bool serializable,
                       std::function<void(Result<SagaView>)> done) = 0;
  virtual void ListSagas(SagaListRequest request,
                         std::function<void(Result<SagaListReply>)> done) = 0;
  // Requests the abort; replies with the saga as it is once the abort is applied.
  virtual void AbortSaga(std::string saga_id, std::function<void(Result<SagaView>)> done) = 0;

  // Streams the saga's events from `from_position`: first those already
  // recorded, then each batch as it is applied, in order, without gaps.
  // `on_events(batch, finished)`: finished = the saga reached its terminal
  // state and this batch ends with its last event (no call follows).
  // `on_error` ends the watch with an error (unknown saga, position dropped,
  // this member stopping). Both run on the loop thread. CancelWatch stops it
  // (no call after CancelWatch returns on the loop thread; from another thread
  // at most one call may still be in flight).
  virtual WatchId WatchSaga(
      std::string saga_id, std::uint64_t from_position,
      std::function<void(std::vector<SagaEventView>, bool finished)> on_events,
      std::function<void(Status)> on_error) = 0;
  virtual void CancelWatch(WatchId id) = 0;
};

}  // namespace tri::server
