#include "server/saga_http.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "client/saga_json.h"
#include "server/http_listen.h"
#include "server/tls_context.h"

namespace tri::server {

// Shared by the server and every callback the backend holds: a callback that
// arrives after its request gave up, or after the server is gone, still finds it.
// One mutex and one condition variable for all waiters: requests are few and
// short, and Stop() must wake every one of them.
struct SagaHttpServer::Hub {
  explicit Hub(SagaBackend& b, SagaHttpOptions o) : backend(b), options(std::move(o)) {}
  SagaBackend& backend;
  const SagaHttpOptions options;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
};

namespace {

using Hub = SagaHttpServer::Hub;
using json = nlohmann::json;

constexpr const char* kJson = "application/json";

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(client::DumpJson(body) + "\n", kJson);
}

void ReplyError(httplib::Response& res, const Status& status) {
  res.status = HttpStatusOf(status.code());
  res.set_content(ErrorBody(status) + "\n", kJson);
}

// Waits on a handler thread for one backend answer.
template <typename T>
class Waiter {
 public:
  explicit Waiter(std::shared_ptr<Hub> hub)
      : hub_(std::move(hub)), result_(std::make_shared<std::optional<Result<T>>>()) {}

  std::function<void(Result<T>)> Callback() const {
    return [hub = hub_, result = result_](Result<T> r) {
      {
        std::lock_guard lock(hub->mu);
        *result = std::move(r);
      }
      hub->cv.notify_all();
    };
  }

  Result<T> Wait() {
    std::unique_lock lock(hub_->mu);
    const bool answered = hub_->cv.wait_for(lock, hub_->options.request_timeout,
                                            [&] { return result_->has_value() || hub_->stopping; });
    if (result_->has_value()) return std::move(**result_);
    if (!answered)
      return DeadlineExceeded(fmt::format("the node did not answer within {}ms",
                                          hub_->options.request_timeout.count()));
    return Unavailable("the server is stopping");
  }

 private:
  std::shared_ptr<Hub> hub_;
  std::shared_ptr<std::optional<Result<T>>> result_;
};

Result<bool> ParseBool(std::string_view name, const std::string& value) {
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  return InvalidArgument(fmt::format("{}: \"{}\" is not true or false", name, value));
}

Result<std::uint64_t> ParseUint(std::string_view name, std::string_view value) {
  std::uint64_t out = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size() || value.empty())
    return InvalidArgument(fmt::format("{}: \"{}\" is not a non-negative integer", name, value));
  return out;
}

// Refuses parameters other than `allowed` and any given twice.
Status CheckParams(const QueryParams& params, std::initializer_list<std::string_view> allowed) {
  std::set<std::string, std::less<>> seen;
  for (const auto& [name, value] : params) {
    bool known = false;
    for (std::string_view a : allowed)
      known = known || a == name;
    if (!known) {
      std::string names;
      for (std::string_view a : allowed)
        names += fmt::format("{}{}", names.empty() ? "" : ", ", a);
      return InvalidArgument(fmt::format("unknown query parameter \"{}\" (known: {})", name,
                                         names.empty() ? "none" : names));
    }
    if (!seen.insert(name).second)
      return InvalidArgument(fmt::format("query parameter \"{}\" is given twice", name));
  }
  return Status::Ok();
}

Result<bool> SerializableParam(const QueryParams& params) {
  TRI_RETURN_IF_ERROR(CheckParams(params, {"serializable"}));
  auto it = params.find("serializable");
  if (it == params.end()) return false;
  return ParseBool("serializable", it->second);
}

// One event stream's state, guarded by Hub::mu.
struct WatchStream {
  std::deque<trinity::v1::SagaEvent> events;
  std::optional<Status> end;        // ok after the terminal event
  std::uint64_t next_position = 0;  // the first position not yet written
  bool started = false;
  WatchId id = 0;
  bool backend_done = false;
};

void ServeEvents(const std::shared_ptr<Hub>& hub, const std::string& saga_id, std::uint64_t from,
                 httplib::Response& res) {
  // The saga must exist (and this answers 404 with a status, not an event).
  Waiter<SagaView> exists(hub);
  hub->backend.GetSaga(saga_id, /*serializable=*/false, exists.Callback());
  if (auto view = exists.Wait(); !view.ok()) return ReplyError(res, view.status());

  auto stream = std::make_shared<WatchStream>();
  stream->next_position = from;
  const std::size_t max_events = hub->options.max_watch_queue_events;
  const WatchId id = hub->backend.WatchSaga(
      saga_id, from,
      [hub, stream, max_events, saga_id](std::vector<SagaEventView> batch, bool finished) {
        {
          std::lock_guard lock(hub->mu);
          if (finished) stream->backend_done = true;
          if (stream->end) return;
          if (stream->events.size() + batch.size() > max_events) {
            stream->events.clear();
            stream->end = ResourceExhausted(fmt::format(
                "watch of saga {}: the reader fell {} events behind; resume from position {}",
                saga_id, max_events, stream->next_position));
          } else {
            for (const SagaEventView& e : batch)
              ToProto(e, &stream->events.emplace_back());
            if (finished) stream->end = Status::Ok();
          }
        }
        hub->cv.notify_all();
      },
      [hub, stream](Status status) {
        {
          std::lock_guard lock(hub->mu);
          stream->backend_done = true;
          if (!stream->end) stream->end = status;
        }
        hub->cv.notify_all();
      });
  {
    std::lock_guard lock(hub->mu);
    stream->started = true;
    stream->id = id;
  }

  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [hub, stream](std::size_t, httplib::DataSink& sink) {
        std::unique_lock lock(hub->mu);
        hub->cv.wait_for(lock, hub->options.keepalive_interval, [&] {
          return !stream->events.empty() || stream->end.has_value() || hub->stopping;
        });
        std::deque<trinity::v1::SagaEvent> events;
        events.swap(stream->events);
        if (!events.empty()) stream->next_position = events.back().position() + 1;
        std::optional<Status> end = stream->end;
        if (!end && hub->stopping) {
          end = Unavailable(stream->next_position == 0
                                ? std::string("the server is stopping; reconnect to resume")
                                : fmt::format("the server is stopping; reconnect with "
                                              "Last-Event-ID: {} to resume",
                                              stream->next_position - 1));
        }
        lock.unlock();
        std::string out;
        for (const trinity::v1::SagaEvent& e : events)
          out += SseFrame(e);
        if (end && !end->ok()) out += "event: error\ndata: " + ErrorBody(*end) + "\n\n";
        if (out.empty()) out = ": keepalive\n\n";
        if (!sink.write(out.data(), out.size())) return false;
        if (end) sink.done();
        return true;
      },
      [hub, stream](bool) {
        bool cancel = false;
        WatchId watch = 0;
        {
          std::lock_guard lock(hub->mu);
          cancel = stream->started && !stream->backend_done;
          watch = stream->id;
          stream->backend_done = true;
        }
        if (cancel) hub->backend.CancelWatch(watch);
      });
}

void InstallRoutes(httplib::Server& server, const std::shared_ptr<Hub>& hub) {
  const SagaApiLimits& limits = hub->options.limits;

  server.Post(
      "/v1/definitions", [hub, &limits](const httplib::Request& req, httplib::Response& res) {
        const QueryParams query = QueryOf(req.target);
        if (Status st = CheckParams(query, {"source"}); !st.ok()) return ReplyError(res, st);
        trinity::v1::DefineSagaRequest proto;
        proto.set_document(req.body);
        const auto source = query.find("source");
        proto.set_source_name(source != query.end() ? source->second : "request body");
        auto request = FromProto(proto, limits);
        if (!request.ok()) return ReplyError(res, request.status());
        Waiter<SagaDefineReply> waiter(hub);
        hub->backend.DefineSaga(std::move(*request), waiter.Callback());
        auto reply = waiter.Wait();
        if (!reply.ok()) return ReplyError(res, reply.status());
        trinity::v1::DefineSagaResponse out;
        ToProto(*reply, &out);
        Reply(res, reply->already_existed ? 200 : 201, client::DefineSagaResponseToJson(out));
      });

  server.Post("/v1/sagas", [hub, &limits](const httplib::Request& req, httplib::Response& res) {
    if (Status st = CheckParams(QueryOf(req.target), {}); !st.ok()) return ReplyError(res, st);
    auto proto = ParseStartSagaBody(req.body);
    if (!proto.ok()) return ReplyError(res, proto.status());
    auto request = FromProto(*proto, limits);
    if (!request.ok()) return ReplyError(res, request.status());
    Waiter<SagaStartReply> waiter(hub);
    hub->backend.StartSaga(std::move(*request), waiter.Callback());
    auto reply = waiter.Wait();
    if (!reply.ok()) return ReplyError(res, reply.status());
    trinity::v1::StartSagaResponse out;
    ToProto(*reply, &out);
    res.set_header("Location", "/v1/sagas/" + reply->saga_id);
    Reply(res, reply->already_existed ? 200 : 201, client::StartSagaResponseToJson(out));
  });

  server.Get("/v1/sagas", [hub, &limits](const httplib::Request& req, httplib::Response& res) {
    auto proto = ParseListSagasQuery(QueryOf(req.target));
    if (!proto.ok()) return ReplyError(res, proto.status());
    auto request = FromProto(*proto, limits);
    if (!request.ok()) return ReplyError(res, request.status());
    Waiter<SagaListReply> waiter(hub);
    hub->backend.ListSagas(std::move(*request), waiter.Callback());
    auto reply = waiter.Wait();
    if (!reply.ok()) return ReplyError(res, reply.status());
    trinity::v1::ListSagasResponse out;
    ToProto(*reply, &out);
    Reply(res, 200, client::ListSagasResponseToJson(out));
  });

  server.Get(R"(/v1/sagas/([^/]+))", [hub](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    if (Status st = CheckSagaId(id); !st.ok()) return ReplyError(res, st);
    auto serializable = SerializableParam(QueryOf(req.target));
    if (!serializable.ok()) return ReplyError(res, serializable.status());
    Waiter<SagaView> waiter(hub);
    hub->backend.GetSaga(id, *serializable, waiter.Callback());
    auto view = waiter.Wait();
    if (!view.ok()) return ReplyError(res, view.status());
    trinity::v1::Saga out;
    ToProto(*view, &out);
    Reply(res, 200, client::SagaToJson(out));
  });

  server.Post(R"(/v1/sagas/([^/]+)/abort)",
              [hub](const httplib::Request& req, httplib::Response& res) {
                const std::string id = req.matches[1];
                if (Status st = CheckSagaId(id); !st.ok()) return ReplyError(res, st);
                if (Status st = CheckParams(QueryOf(req.target), {}); !st.ok())
                  return ReplyError(res, st);
                Waiter<SagaView> waiter(hub);
                hub->backend.AbortSaga(id, waiter.Callback());
                auto view = waiter.Wait();
                if (!view.ok()) return ReplyError(res, view.status());
                trinity::v1::Saga out;
                ToProto(*view, &out);
                Reply(res, 200, client::SagaToJson(out));
              });

  server.Get(
      R"(/v1/sagas/([^/]+)/events)", [hub](const httplib::Request& req, httplib::Response& res) {
        const std::string id = req.matches[1];
        if (Status st = CheckSagaId(id); !st.ok()) return ReplyError(res, st);
        auto from = ParseWatchStart(QueryOf(req.target), req.get_header_value("Last-Event-ID"));
        if (!from.ok()) return ReplyError(res, from.status());
        ServeEvents(hub, id, *from, res);
      });

  // Errors cpp-httplib answers itself (no route, body too large) get the JSON shape too.
  server.set_error_handler(httplib::Server::HandlerWithResponse([hub](const httplib::Request& req,
                                                                      httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::size_t max_body = hub->options.max_body_bytes;
    // cpp-httplib refuses a body over the bound before routing, as a plain 400 or 413.
    const auto length = ParseUint("Content-Length", req.get_header_value("Content-Length"));
    if (res.status == 404) {
      ReplyError(res, NotFound(fmt::format("no route {} {}", req.method, req.path)));
    } else if ((res.status == 400 || res.status == 413) && length.ok() && *length > max_body) {
      ReplyError(res, InvalidArgument(fmt::format(
                          "request body of {} bytes is larger than {} bytes", *length, max_body)));
      res.status = 413;
    } else {
      res.set_content(
          ErrorBody(Status(StatusCode::kInvalidArgument, fmt::format("HTTP {}", res.status))) +
              "\n",
          kJson);
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
}

}  // namespace

int HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return 400;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 412;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kCancelled:
      return 499;  // client closed the request (as grpc-gateway answers)
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kInternal:
    case StatusCode::kDataLoss:
    case StatusCode::kIoError:
    case StatusCode::kCorruption:
      return 500;
  }
  return 500;
}

std::string_view ErrorCodeName(StatusCode code) {
  // The gRPC service maps these two onto gRPC codes (saga_convert.h).
  if (code == StatusCode::kIoError) return "INTERNAL";
  if (code == StatusCode::kCorruption) return "DATA_LOSS";
  return StatusCodeName(code);
}

std::string ErrorBody(const Status& status) {
  return client::DumpJson(
      json{{"error",
            {{"code", std::string(ErrorCodeName(status.code()))}, {"message", status.message()}}}});
}

QueryParams QueryOf(std::string_view target) {
  QueryParams out;
  const auto question = target.find('?');
  if (question == std::string_view::npos) return out;
  const auto decode = [](std::string_view text) {
    std::string decoded;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      int hi = 0;
      int lo = 0;
      const auto hex = [](char h, int& v) {
        if (h >= '0' && h <= '9')
          v = h - '0';
        else if (h >= 'a' && h <= 'f')
          v = h - 'a' + 10;
        else if (h >= 'A' && h <= 'F')
          v = h - 'A' + 10;
        else
          return false;
        return true;
      };
      if (c == '%' && i + 2 < text.size() && hex(text[i + 1], hi) && hex(text[i + 2], lo)) {
        decoded += static_cast<char>(hi * 16 + lo);
        i += 2;
      } else {
        decoded += c == '+' ? ' ' : c;
      }
    }
    return decoded;
  };
  std::string_view rest = target.substr(question + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    out.emplace(decode(item.substr(0, eq)),
                eq == std::string_view::npos ? std::string() : decode(item.substr(eq + 1)));
  }
  return out;
}

Result<trinity::v1::StartSagaRequest> ParseStartSagaBody(std::string_view body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument("body: not valid JSON");
  if (!doc.is_object())
    return InvalidArgument(
        "body: expected a JSON object with definition, version, document, inputs, id");
  trinity::v1::StartSagaRequest out;
  for (const auto& [key, value] : doc.items()) {
    if (key == "definition" || key == "document" || key == "id") {
      if (!value.is_string()) return InvalidArgument(fmt::format("{}: expected a string", key));
      const std::string& text = value.get_ref<const std::string&>();
      if (key == "definition") out.set_definition_name(text);
      if (key == "document") out.set_document(text);
      if (key == "id") out.set_saga_id(text);
    } else if (key == "wait") {
      if (!value.is_boolean()) return InvalidArgument("wait: expected true or false");
      out.set_wait(value.get<bool>());
    } else if (key == "version") {
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() > UINT32_MAX)
        return InvalidArgument("version: expected a definition version (1, 2, ...; 0 = newest)");
      out.set_definition_version(value.get<std::uint32_t>());
    } else if (key == "inputs") {
      if (!value.is_object())
        return InvalidArgument("inputs: expected an object of input names to values");
      for (const auto& [name, v] : value.items()) {
        // Inputs are text; numbers and booleans are taken as they are written.
        if (v.is_string())
          (*out.mutable_inputs())[name] = v.get<std::string>();
        else if (v.is_number() || v.is_boolean())
          (*out.mutable_inputs())[name] = v.dump();
        else
          return InvalidArgument(fmt::format(
              "inputs.{}: expected a string, number or boolean, got {}", name, v.type_name()));
      }
    } else {
      return InvalidArgument(fmt::format(
          "body: unknown field \"{}\" (known: definition, version, document, inputs, id, wait)",
          key));
    }
  }
  return out;
}

Result<trinity::v1::ListSagasRequest> ParseListSagasQuery(const QueryParams& params) {
  TRI_RETURN_IF_ERROR(CheckParams(params, {"state", "definition", "created_after", "created_before",
                                           "page_token", "limit", "serializable"}));
  trinity::v1::ListSagasRequest out;
  for (const auto& [name, value] : params) {
    if (name == "state") {
      out.set_state(value);
    } else if (name == "definition") {
      out.set_definition_name(value);
    } else if (name == "page_token") {
      out.set_page_token(value);
    } else if (name == "serializable") {
      TRI_ASSIGN_OR_RETURN(const bool s, ParseBool(name, value));
      out.set_serializable(s);
    } else {
      TRI_ASSIGN_OR_RETURN(const std::uint64_t n, ParseUint(name, value));
      if (name == "created_after") out.set_created_after_ms(n);
      if (name == "created_before") out.set_created_before_ms(n);
      if (name == "limit") {
        if (n > UINT32_MAX) return InvalidArgument(fmt::format("limit: {} is too large", n));
        out.set_limit(static_cast<std::uint32_t>(n));
      }
    }
  }
  return out;
}

Result<std::uint64_t> ParseWatchStart(const QueryParams& params, std::string_view last_event_id) {
  TRI_RETURN_IF_ERROR(CheckParams(params, {"from"}));
  if (!last_event_id.empty()) {
    TRI_ASSIGN_OR_RETURN(const std::uint64_t last, ParseUint("Last-Event-ID", last_event_id));
    if (last == UINT64_MAX) return InvalidArgument("Last-Event-ID: out of range");
    return last + 1;
  }
  auto it = params.find("from");
  if (it == params.end()) return std::uint64_t{0};
  return ParseUint("from", it->second);
}

std::string SseFrame(const trinity::v1::SagaEvent& event) {
  // The JSON is one line (no raw newlines), as a data: field requires.
  return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", event.position(), event.event(),
                     client::DumpJson(client::SagaEventToJson(event)));
}

Result<std::unique_ptr<SagaHttpServer>> SagaHttpServer::Start(SagaBackend& backend,
                                                              const std::vector<Url>& urls,
                                                              SagaHttpOptions options) {
  std::unique_ptr<SagaHttpServer> out(new SagaHttpServer());
  out->hub_ = std::make_shared<Hub>(backend, std::move(options));
  const SagaHttpOptions& o = out->hub_->options;
  for (const Url& url : urls) {
    std::unique_ptr<httplib::Server> server;
    if (url.scheme == "https") {
      if (!o.tls) {
        out->Stop();
        return InvalidArgument(
            fmt::format("--listen-http-urls: {} needs --cert-file and --key-file", url.ToString()));
      }
      auto ssl = std::make_unique<httplib::SSLServer>(
          [&tls = *o.tls](SSL_CTX& ctx) { return ConfigureServerContext(ctx, tls); });
      if (!ssl->is_valid()) {
        out->Stop();
        return InvalidArgument(fmt::format(
            "--listen-http-urls: {}: the TLS certificate or key was refused", url.ToString()));
      }
      server = std::move(ssl);
    } else {
      server = std::make_unique<httplib::Server>();
    }
    const std::size_t threads = o.threads;
    server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server->set_payload_max_length(o.max_body_bytes);
    InstallRoutes(*server, out->hub_);
    auto port = BindExclusive(*server, url, "--listen-http-urls");
    if (!port.ok()) {
      out->Stop();
      return port.status();
    }
    out->ports_.push_back(*port);
    httplib::Server* raw = server.get();
    out->servers_.push_back(std::move(server));
    out->threads_.emplace_back([raw] { raw->listen_after_bind(); });
    // stop() only takes effect once the server runs: wait for it, so an early Stop() ends it.
    for (int i = 0; i < 5000 && !raw->is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return out;
}

SagaHttpServer::~SagaHttpServer() {
  Stop();
}

void SagaHttpServer::Stop() {
  if (hub_) {
    {
      std::lock_guard lock(hub_->mu);
      hub_->stopping = true;
    }
    hub_->cv.notify_all();
  }
  for (auto& s : servers_)
    s->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace tri::server
