#pragma once

// The saga API over HTTP/JSON (docs/sagas-api.md), on --listen-http-urls, with
// cpp-httplib. The same operations and checks as the gRPC service
// (saga_grpc_service.h), over the same SagaBackend:
//
//   POST /v1/definitions[?source=NAME]  body: the YAML or JSON document
//   POST /v1/sagas                      {"definition","version","document","inputs","id"}
//   GET  /v1/sagas/{id}[?serializable=true]
//   GET  /v1/sagas?state=&definition=&created_after=&created_before=&page_token=&limit=
//   POST /v1/sagas/{id}/abort
//   GET  /v1/sagas/{id}/events?from=N   Server-Sent Events; `id:` is the event's
//                                       position, Last-Event-ID resumes after it;
//                                       the stream ends after the terminal event
//
// Replies are JSON (client/saga_json.h). Errors are
// {"error": {"code": "NOT_FOUND", "message": "..."}} with the gRPC code's name
// and a matching HTTP status (HttpStatusOf). Handlers run on cpp-httplib's
// worker threads and wait there for the backend's answer (bounded by
// request_timeout); an event stream holds its worker thread while it is open.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "server/config.h"
#include "server/saga_backend.h"
#include "server/saga_convert.h"
#include "trinity/v1/sagas.pb.h"

namespace httplib {
class Server;
}

namespace tri::server {

struct SagaHttpOptions {
  SagaApiLimits limits;
  // A request body: a saga document plus room for JSON escaping and inputs.
  std::size_t max_body_bytes = saga::SagaLimits{}.max_document_bytes + (1 << 20);
  // How long a handler waits for the backend before answering 504.
  std::chrono::milliseconds request_timeout{60000};
  // Worker threads per listener: requests served at once, open event streams included.
  std::size_t threads = 32;
  // Events queued for one event stream before it is ended as too slow.
  std::size_t max_watch_queue_events = 1 << 16;
  // An idle event stream sends a comment this often (finds closed connections).
  std::chrono::milliseconds keepalive_interval{15000};
  // Certificates for https:// URLs (the client set, --cert-file ...); required when a
  // URL is https.
  std::optional<TlsMaterial> tls;
};

class SagaHttpServer {
 public:
  // Listens on every URL (port 0: one the OS picks, see ports()); the error
  // names the URL that cannot be bound. `backend` must outlive the server.
  static Result<std::unique_ptr<SagaHttpServer>> Start(SagaBackend& backend,
                                                       const std::vector<Url>& urls,
                                                       SagaHttpOptions options = {});
  ~SagaHttpServer();
  SagaHttpServer(const SagaHttpServer&) = delete;
  SagaHttpServer& operator=(const SagaHttpServer&) = delete;

  // Ends open event streams and waiting requests (503), then stops listening
  // and joins the threads. Idempotent; never waits for the backend.
  void Stop();

  // The bound port of each URL, in order.
  const std::vector<std::uint16_t>& ports() const { return ports_; }

  struct Hub;

 private:
  SagaHttpServer() = default;

  std::shared_ptr<Hub> hub_;
  std::vector<std::unique_ptr<httplib::Server>> servers_;
  std::vector<std::thread> threads_;
  std::vector<std::uint16_t> ports_;
};

// ---- The parts without a server (tested on their own) ----

// The HTTP status for an error code: 400 bad request, 404, 409 already exists
// or aborted, 412 failed precondition, 429 resource exhausted, 503
// unavailable, 504 deadline exceeded, 500 otherwise.
int HttpStatusOf(StatusCode code);
// The gRPC name of the code the gRPC service would answer ("NOT_FOUND").
std::string_view ErrorCodeName(StatusCode code);
// {"error": {"code": ..., "message": ...}}
std::string ErrorBody(const Status& status);

using QueryParams = std::multimap<std::string, std::string>;

// The query of a request target ("/v1/sagas?state=running&limit=5"),
// percent-decoded. (cpp-httplib's req.params also holds the fields of a
// form-encoded body, what `curl -d` sends by default: not query parameters.)
QueryParams QueryOf(std::string_view target);

// POST /v1/sagas's body; errors name the field.
Result<trinity::v1::StartSagaRequest> ParseStartSagaBody(std::string_view body);
// GET /v1/sagas's query; unknown and repeated parameters are errors.
Result<trinity::v1::ListSagasRequest> ParseListSagasQuery(const QueryParams& params);
// The first position an event stream sends: after Last-Event-ID when the
// client resumes (it wins), else `from`, else 0.
Result<std::uint64_t> ParseWatchStart(const QueryParams& params, std::string_view last_event_id);
// One Server-Sent Event: "id: <position>\nevent: <event>\ndata: <json>\n\n".
std::string SseFrame(const trinity::v1::SagaEvent& event);

}  // namespace tri::server
