#pragma once

// A SagaBackend for tests of the saga API without a node: sagas are records the
// test writes, and every callback runs on the fake's own loop thread, as the
// contract (server/saga_backend.h) says the node's do. Definitions are kept by
// the name in a "name: X" first line of the document (enough for the API's
// tests; the DSL is not consulted).

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/saga_backend.h"

namespace tri::server::testing {

class FakeSagaBackend final : public SagaBackend {
 public:
  FakeSagaBackend() : loop_([this] { Run(); }) {}
  ~FakeSagaBackend() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    loop_.join();
  }

  // ---- What tests set up and observe (any thread) ----

  // Adds or replaces a saga (its `events` count is kept by AppendEvents).
  void PutSaga(SagaView view) {
    Post([this, view = std::move(view)]() mutable {
      Record& r = sagas_[view.id];
      const std::uint64_t events = r.events.size();
      r.view = std::move(view);
      r.view.events = events;
    });
    Sync();
  }
  // Records events (positions are assigned) and hands them to the watchers;
  // `finished` ends the saga with `final_state`.
  void AppendEvents(const std::string& id, std::vector<SagaEventView> events, bool finished,
                    std::string final_state = "completed") {
    Post([this, id, events = std::move(events), finished, final_state]() mutable {
      Record& r = sagas_[id];
      for (SagaEventView& e : events) {
        e.position = r.events.size();
        r.events.push_back(e);
      }
      r.view.events = r.events.size();
      if (finished) {
        r.finished = true;
        r.view.state = final_state;
      }
      for (auto& [wid, w] : watchers_) {
        if (w.saga_id != id) continue;
        w.on_events(events, finished);
      }
      if (finished)
        std::erase_if(watchers_, [&](const auto& kv) { return kv.second.saga_id == id; });
    });
    Sync();
  }
  // Every later call fails with `status` (ok: calls work again).
  void FailCallsWith(Status status) {
    std::lock_guard lock(mu_);
    fail_with_ = std::move(status);
  }
  std::size_t watchers() {
    std::size_t n = 0;
    Post([&] { n = watchers_.size(); });
    Sync();
    return n;
  }
  std::size_t cancels() {
    std::lock_guard lock(mu_);
    return cancels_;
  }
  std::vector<SagaStartRequest> starts() {
    std::lock_guard lock(mu_);
    return starts_;
  }
  SagaListRequest last_list() {
    std::lock_guard lock(mu_);
    return last_list_;
  }
  // Waits until every task posted so far has run.
  void Sync() {
    std::mutex m;
    std::condition_variable done_cv;
    bool done = false;
    Post([&] {
      std::lock_guard lock(m);
      done = true;
      done_cv.notify_all();
    });
    std::unique_lock lock(m);
    done_cv.wait(lock, [&] { return done; });
  }

  // ---- SagaBackend ----

  void DefineSaga(SagaDefineRequest request,
                  std::function<void(Result<SagaDefineReply>)> done) override {
    Post([this, request = std::move(request), done = std::move(done)] {
      if (Status st = Failure(); !st.ok()) return done(st);
      const std::string prefix = "name: ";
      if (request.document.rfind(prefix, 0) != 0)
        return done(InvalidArgument(request.source_name + ":1:1: name: missing"));
      const std::string name =
          request.document.substr(prefix.size(), request.document.find('\n') - prefix.size());
      auto& versions = definitions_[name];
      SagaDefineReply reply;
      reply.name = name;
      if (!versions.empty() && versions.back() == request.document) {
        reply.version = static_cast<std::uint32_t>(versions.size());
        reply.already_existed = true;
      } else {
        versions.push_back(request.document);
        reply.version = static_cast<std::uint32_t>(versions.size());
      }
      done(reply);
    });
  }

  void StartSaga(SagaStartRequest request,
                 std::function<void(Result<SagaStartReply>)> done) override {
    Post([this, request = std::move(request), done = std::move(done)] {
      if (Status st = Failure(); !st.ok()) return done(st);
      {
        std::lock_guard lock(mu_);
        starts_.push_back(request);
      }
      if (!request.definition_name.empty() && !definitions_.count(request.definition_name))
        return done(NotFound("definition \"" + request.definition_name + "\" is not registered"));
      SagaStartReply reply;
      reply.saga_id =
          request.saga_id.empty() ? "01GENERATED" + std::to_string(++generated_) : request.saga_id;
      if (sagas_.count(reply.saga_id)) {
        reply.already_existed = true;
        return done(reply);
      }
      Record& r = sagas_[reply.saga_id];
      r.view.id = reply.saga_id;
      r.view.definition_name = request.definition_name;
      r.view.definition_version = request.definition_version;
      r.view.state = "running";
      r.view.inputs = request.inputs;
      done(reply);
    });
  }

  void GetSaga(std::string saga_id, bool, std::function<void(Result<SagaView>)> done) override {
    Post([this, saga_id = std::move(saga_id), done = std::move(done)] {
      if (Status st = Failure(); !st.ok()) return done(st);
      auto it = sagas_.find(saga_id);
      if (it == sagas_.end()) return done(NotFound("saga " + saga_id + " not found"));
      done(it->second.view);
    });
  }

  void ListSagas(SagaListRequest request,
                 std::function<void(Result<SagaListReply>)> done) override {
    Post([this, request = std::move(request), done = std::move(done)] {
      if (Status st = Failure(); !st.ok()) return done(st);
      {
        std::lock_guard lock(mu_);
        last_list_ = request;
      }
      SagaListReply reply;
      for (auto it = sagas_.upper_bound(request.page_token); it != sagas_.end(); ++it) {
        const SagaView& v = it->second.view;
        if (!request.state.empty() && v.state != request.state) continue;
        if (!request.definition_name.empty() && v.definition_name != request.definition_name)
          continue;
        if (reply.sagas.size() == request.limit) {
          reply.next_page_token = reply.sagas.back().id;
          break;
        }
        SagaView copy = v;
        copy.steps.clear();
        reply.sagas.push_back(std::move(copy));
      }
      done(reply);
    });
  }

  void AbortSaga(std::string saga_id, std::function<void(Result<SagaView>)> done) override {
    Post([this, saga_id = std::move(saga_id), done = std::move(done)] {
      if (Status st = Failure(); !st.ok()) return done(st);
      auto it = sagas_.find(saga_id);
      if (it == sagas_.end()) return done(NotFound("saga " + saga_id + " not found"));
      if (it->second.finished)
        return done(FailedPrecondition("saga " + saga_id + " already finished"));
      it->second.view.stop_cause = "abort";
      it->second.view.compensating = true;
      done(it->second.view);
    });
  }

  WatchId WatchSaga(std::string saga_id, std::uint64_t from_position,
                    std::function<void(std::vector<SagaEventView>, bool)> on_events,
                    std::function<void(Status)> on_error) override {
    WatchId id = 0;
    {
      std::lock_guard lock(mu_);
      id = ++next_watch_;
    }
    Post([this, id, saga_id = std::move(saga_id), from_position, on_events = std::move(on_events),
          on_error = std::move(on_error)]() mutable {
      if (Status st = Failure(); !st.ok()) return on_error(st);
      auto it = sagas_.find(saga_id);
      if (it == sagas_.end()) return on_error(NotFound("saga " + saga_id + " not found"));
      const Record& r = it->second;
      if (from_position > r.events.size())
        return on_error(OutOfRange("position " + std::to_string(from_position) +
                                   " is past the saga's last event"));
      std::vector<SagaEventView> recorded(r.events.begin() + static_cast<long>(from_position),
                                          r.events.end());
      if (!recorded.empty() || r.finished) on_events(std::move(recorded), r.finished);
      if (!r.finished) watchers_[id] = Watcher{saga_id, std::move(on_events)};
    });
    return id;
  }

  void CancelWatch(WatchId id) override {
    {
      std::lock_guard lock(mu_);
      ++cancels_;
    }
    Post([this, id] { watchers_.erase(id); });
  }

 private:
  struct Record {
    SagaView view;
    std::vector<SagaEventView> events;
    bool finished = false;
  };
  struct Watcher {
    std::string saga_id;
    std::function<void(std::vector<SagaEventView>, bool)> on_events;
  };

  void Post(std::function<void()> fn) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(fn));
    }
    cv_.notify_all();
  }

  Status Failure() {
    std::lock_guard lock(mu_);
    return fail_with_;
  }

  void Run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  // Loop thread only.
  std::map<std::string, Record> sagas_;
  std::map<std::string, std::vector<std::string>> definitions_;
  std::map<WatchId, Watcher> watchers_;
  int generated_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  Status fail_with_;
  std::size_t cancels_ = 0;
  WatchId next_watch_ = 0;
  std::vector<SagaStartRequest> starts_;
  SagaListRequest last_list_;
  std::thread loop_;
};

}  // namespace tri::server::testing
