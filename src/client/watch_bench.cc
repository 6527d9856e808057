#include "client/watch_bench.h"

#include <grpcpp/client_context.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "client/etcd_client.h"
#include "client/failover.h"
#include "client/grpc_status.h"

namespace tri::client {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t Nanos(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// Shared between the writer and the stream readers.
struct Progress {
  std::vector<std::atomic<std::int64_t>> sent_ns;  // per event: when its put was sent
  std::vector<double> latency_ms;                  // watchers * events, -1 = not received
  std::vector<std::atomic<int>> delivered;         // per event: watchers that got it
  std::mutex mu;
  std::condition_variable all_delivered;

  Progress(std::uint64_t events, int watchers)
      : sent_ns(events),
        latency_ms(events * static_cast<std::uint64_t>(watchers), -1),
        delivered(events) {}
};

struct Stream {
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
      rw;
  // watch id -> this bench's watcher number.
  std::vector<std::pair<std::int64_t, int>> watcher_of_id;
};

// Finishes every stream (a synchronous stream must be finished before it is
// destroyed); cancel them first, and join their readers, if any.
void FinishStreams(std::vector<Stream>& streams) {
  for (Stream& st : streams)
    if (st.rw) (void)st.rw->Finish();
}

void CancelStreams(std::vector<Stream>& streams) {
  for (Stream& st : streams)
    if (st.context) st.context->TryCancel();
}

}  // namespace

Status ValidateWatchBenchOptions(const WatchBenchOptions& o) {
  if (o.endpoints.empty()) return InvalidArgument("bench watch: --endpoints is empty");
  if (o.watchers < 1 || o.watchers > kMaxWatchBenchWatchers)
    return InvalidArgument("bench watch: --watchers must be in 1.." +
                           std::to_string(kMaxWatchBenchWatchers));
  if (o.streams < 1 || o.streams > kMaxWatchBenchStreams || o.streams > o.watchers)
    return InvalidArgument("bench watch: --streams must be in 1..min(--watchers, " +
                           std::to_string(kMaxWatchBenchStreams) + ")");
  if (o.conns < 1 || o.conns > kMaxWatchBenchConns || o.conns > o.streams)
    return InvalidArgument("bench watch: --conns must be in 1..min(--streams, " +
                           std::to_string(kMaxWatchBenchConns) + ")");
  if (o.events < 1 || o.events > kMaxWatchBenchEvents)
    return InvalidArgument("bench watch: --events must be in 1.." +
                           std::to_string(kMaxWatchBenchEvents));
  if (o.events * static_cast<std::uint64_t>(o.watchers) > kMaxWatchBenchSamples)
    return InvalidArgument("bench watch: --watchers times --events must be at most " +
                           std::to_string(kMaxWatchBenchSamples));
  if (o.key.empty()) return InvalidArgument("bench watch: --watch-key is empty");
  if (o.request_timeout.count() <= 0)
    return InvalidArgument("bench watch: --request-timeout must be positive");
  return Status::Ok();
}

Result<WatchBenchReport> RunWatchBench(const WatchBenchOptions& o) {
  TRI_RETURN_IF_ERROR(ValidateWatchBenchOptions(o));
  ClientOptions copts;
  copts.endpoints = o.endpoints;
  copts.tls = o.tls;
  copts.dial_timeout = o.dial_timeout;
  copts.command_timeout = o.request_timeout;
  TRI_ASSIGN_OR_RETURN(auto kv, EtcdClient::Connect(copts));

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<etcdserverpb::Watch::Stub>> stubs;
  for (int c = 0; c < o.conns; ++c) {
    const std::string& target = o.endpoints[static_cast<std::size_t>(c) % o.endpoints.size()];
    channels.push_back(DialChannel(target, c, ClientOptions{}.max_receive_message_bytes, o.tls));
    if (!channels.back()->WaitForConnected(std::chrono::system_clock::now() + o.dial_timeout))
      return DeadlineExceeded("bench watch: connection " + std::to_string(c) + " to " + target +
                              " not established within the dial timeout");
    stubs.push_back(etcdserverpb::Watch::NewStub(channels.back()));
  }

  // Open the streams and create every watcher (watcher w on stream w % streams),
  // each answered by its created response before the clock starts.
  std::vector<Stream> streams(static_cast<std::size_t>(o.streams));
  for (int s = 0; s < o.streams; ++s) {
    Stream& st = streams[static_cast<std::size_t>(s)];
    st.context = std::make_unique<grpc::ClientContext>();
    st.rw = stubs[static_cast<std::size_t>(s % o.conns)]->Watch(st.context.get());
  }
  for (int w = 0; w < o.watchers; ++w) {
    Stream& st = streams[static_cast<std::size_t>(w % o.streams)];
    etcdserverpb::WatchRequest req;
    req.mutable_create_request()->set_key(o.key);
    etcdserverpb::WatchResponse resp;
    if (!st.rw->Write(req) || !st.rw->Read(&resp) || !resp.created() || resp.canceled()) {
      CancelStreams(streams);
      FinishStreams(streams);
      return Unavailable("bench watch: watcher " + std::to_string(w) + " on stream " +
                         std::to_string(w % o.streams) + " not created" +
                         (resp.cancel_reason().empty() ? "" : ": " + resp.cancel_reason()));
    }
    st.watcher_of_id.emplace_back(resp.watch_id(), w);
  }

  Progress progress(o.events, o.watchers);
  std::atomic<std::uint64_t> errors{0};
  std::mutex error_mu;
  std::string first_error;
  auto record_error = [&](const std::string& what) {
    errors.fetch_add(1);
    std::lock_guard lock(error_mu);
    if (first_error.empty()) first_error = what;
  };

  auto reader = [&](Stream& st) {
    etcdserverpb::WatchResponse resp;
    while (st.rw->Read(&resp)) {
      const std::int64_t now = Nanos(Clock::now());
      int watcher = -1;
      for (const auto& [id, w] : st.watcher_of_id)
        if (id == resp.watch_id()) watcher = w;
      if (watcher < 0) continue;
      for (const auto& ev : resp.events()) {
        // The value is the event's number; other writers' values are ignored.
        std::uint64_t k = 0;
        if (std::sscanf(ev.kv().value().c_str(), "%llu",
                        reinterpret_cast<unsigned long long*>(&k)) != 1 ||
            k >= o.events)
          continue;
        progress.latency_ms[k * static_cast<std::uint64_t>(o.watchers) +
                            static_cast<std::uint64_t>(watcher)] =
            static_cast<double>(now - progress.sent_ns[k].load()) / 1e6;
        if (progress.delivered[k].fetch_add(1) + 1 == o.watchers) {
          std::lock_guard lock(progress.mu);
          progress.all_delivered.notify_all();
        }
      }
    }
  };
  std::vector<std::thread> readers;
  for (Stream& st : streams)
    readers.emplace_back(reader, std::ref(st));

  const Clock::time_point begin = Clock::now();
  for (std::uint64_t k = 0; k < o.events; ++k) {
    etcdserverpb::PutRequest put;
    put.set_key(o.key);
    put.set_value(std::to_string(k));
    progress.sent_ns[k].store(Nanos(Clock::now()));
    auto done = kv->Put(put);
    if (!done.ok()) {
      record_error("put " + std::to_string(k) + ": " + done.status().ToString());
      continue;
    }
    std::unique_lock lock(progress.mu);
    if (!progress.all_delivered.wait_for(
            lock, o.request_timeout, [&] { return progress.delivered[k].load() >= o.watchers; }))
      record_error("event " + std::to_string(k) + ": " +
                   std::to_string(o.watchers - progress.delivered[k].load()) +
                   " watchers did not receive it within --request-timeout");
  }
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - begin).count();
  CancelStreams(streams);
  for (auto& t : readers)
    t.join();
  FinishStreams(streams);

  WatchBenchReport r;
  r.watchers = o.watchers;
  r.streams = o.streams;
  r.events = o.events;
  std::vector<double> samples;
  samples.reserve(progress.latency_ms.size());
  for (double v : progress.latency_ms)
    if (v >= 0) samples.push_back(v);
  r.deliveries = samples.size();
  r.missing = progress.latency_ms.size() - samples.size();
  r.errors = errors.load();
  r.first_error = first_error;
  r.elapsed_s = elapsed_s;
  r.deliveries_per_s = elapsed_s > 0 ? static_cast<double>(r.deliveries) / elapsed_s : 0;
  r.delivery = Summarize(samples);
  return r;
}

std::string WatchBenchReportJson(const WatchBenchReport& r) {
  return nlohmann::json{{"op", "watch"},
                        {"watchers", r.watchers},
                        {"streams", r.streams},
                        {"events", r.events},
                        {"deliveries", r.deliveries},
                        {"missing", r.missing},
                        {"errors", r.errors},
                        {"first_error", r.first_error},
                        {"elapsed_s", r.elapsed_s},
                        {"deliveries_per_s", r.deliveries_per_s},
                        {"delivery_latency", LatencySummaryJson(r.delivery)}}
      .dump();
}

std::string WatchBenchReportText(const WatchBenchReport& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "watch: %d watchers on %d streams, %llu events: %llu delivered, %llu missing, "
                "%llu errors in %.2fs\n"
                "  deliveries/s:\t%.1f\n",
                r.watchers, r.streams, static_cast<unsigned long long>(r.events),
                static_cast<unsigned long long>(r.deliveries),
                static_cast<unsigned long long>(r.missing),
                static_cast<unsigned long long>(r.errors), r.elapsed_s, r.deliveries_per_s);
  std::string out = buf;
  out += "  put -> event:\t" + LatencySummaryText(r.delivery) + "\n";
  if (!r.first_error.empty()) out += "  first error:\t" + r.first_error + "\n";
  return out;
}

}  // namespace tri::client
