#include "net/peer_transport.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <asio.hpp>
#include <atomic>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "base/assert.h"
#include "base/crc32c.h"
#include "net/handshake.h"
#include "net/peer_stream.h"

namespace tri::net {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kReadChunkBytes = 64 << 10;
// A batch header is a version byte and a count varint.
constexpr std::uint64_t kBatchHeaderMaxBytes = 1 + 10;
// Control frames (pongs, the hello acknowledgement) an inbound connection may have
// waiting to be written; a peer that pings without reading is closed beyond it.
constexpr std::size_t kMaxPendingControlFrames = 64;

std::uint64_t NowNs() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

std::string EndpointText(const tcp::socket& socket) {
  asio::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown address";
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

Status ValidateOptions(const PeerTransportOptions& o) {
  if (o.self == raft::kNoNode) return InvalidArgument("peer transport: self id must not be 0");
  if (o.max_frame_bytes < 4096 || o.max_frame_bytes > UINT32_MAX) {
    return InvalidArgument(fmt::format("peer transport: max_frame_bytes {} outside [4096, {}]",
                                       o.max_frame_bytes, UINT32_MAX));
  }
  if (o.max_queued_messages_per_peer == 0 || o.max_queued_bytes_per_peer == 0 ||
      o.max_messages_per_frame == 0 || o.max_inbound_connections == 0) {
    return InvalidArgument(
        "peer transport: max_queued_messages_per_peer, max_queued_bytes_per_peer, "
        "max_messages_per_frame and max_inbound_connections must be positive");
  }
  if (o.write_timeout.count() <= 0 || o.handshake_timeout.count() <= 0 ||
      o.ping_interval.count() <= 0 || o.reconnect_backoff_min.count() <= 0 ||
      o.reconnect_backoff_max < o.reconnect_backoff_min) {
    return InvalidArgument(
        "peer transport: timeouts and intervals must be positive and "
        "reconnect_backoff_min <= reconnect_backoff_max");
  }
  return Status::Ok();
}

}  // namespace

class Outbound;
class Inbound;

// State shared between callers and the transport thread lives in PeerState under
// mu_; the connection objects are touched only on the transport thread.
class PeerTransport::Impl {
 public:
  struct PeerState {
    std::string host;
    std::uint16_t port = 0;
    std::deque<std::string> queue;  // encoded messages (raft_codec AppendMessage)
    std::uint64_t queued_bytes = 0;
    bool pump_posted = false;  // a Pump is posted or a write will look at the queue
    PeerMetrics metrics;
  };

  Impl(PeerTransportOptions options, OnMessages on_messages, OnPeerStatus on_status)
      : options_(std::move(options)),
        cluster_id_(options_.cluster_id),
        on_messages_(std::move(on_messages)),
        on_status_(std::move(on_status)),
        acceptor_(io_),
        accept_retry_(io_),
        work_(asio::make_work_guard(io_)) {}

  Status Listen();
  // Loads the TLS contexts when options().tls is set.
  Status SetUpTls() {
    if (!options_.tls) return Status::Ok();
    TRI_ASSIGN_OR_RETURN(tls_, PeerTlsContexts::Create(*options_.tls));
    return Status::Ok();
  }
  // Null without TLS.
  PeerTlsContexts* tls() { return tls_.get(); }
  void Run() {
    thread_ = std::thread([this] { io_.run(); });
  }
  void Stop();

  Status AddPeer(raft::NodeId id, const std::string& host, std::uint16_t port);
  Status UpdatePeer(raft::NodeId id, const std::string& host, std::uint16_t port);
  Status RemovePeer(raft::NodeId id);
  void Send(std::vector<raft::Message> messages);
  TransportMetrics metrics() const;
  std::uint16_t listen_port() const { return bound_port_; }

  // --- transport thread only, used by the connections ---
  const PeerTransportOptions& options() const { return options_; }
  std::uint64_t cluster_id() const { return cluster_id_.load(std::memory_order_acquire); }
  void SetClusterId(std::uint64_t id) { cluster_id_.store(id, std::memory_order_release); }
  // A joining member does not know the cluster id until it has the leader's state:
  // id 0 on either side is accepted (the peer must still be a known one, which the
  // acceptor checks separately); any other pair of ids must be equal.
  bool ClusterIdAcceptable(std::uint64_t theirs) const {
    const std::uint64_t ours = cluster_id();
    return theirs == ours || theirs == 0 || ours == 0;
  }
  asio::io_context& io() { return io_; }
  bool stopping() const { return stopping_; }

  bool IsKnownPeer(raft::NodeId id) const {
    std::lock_guard lock(mu_);
    return peers_.count(id) != 0;
  }
  std::optional<std::pair<std::string, std::uint16_t>> PeerAddress(raft::NodeId id) const {
    std::lock_guard lock(mu_);
    auto it = peers_.find(id);
    if (it == peers_.end()) return std::nullopt;
    return std::make_pair(it->second.host, it->second.port);
  }
  // Moves up to max_messages_per_frame queued messages (at most `max_bytes` in all)
  // into `out`; clears pump_posted when the queue is left empty.
  std::uint64_t TakeBatch(raft::NodeId id, std::uint64_t max_bytes, std::vector<std::string>& out);
  void SetConnected(raft::NodeId id, bool connected);
  void CountSent(raft::NodeId id, std::uint64_t bytes, std::uint64_t frames,
                 std::uint64_t messages);
  void CountReceived(raft::NodeId id, std::uint64_t bytes, std::uint64_t frames,
                     std::uint64_t messages);
  void SetRtt(raft::NodeId id, std::chrono::nanoseconds rtt);
  void CountRejected() { rejected_.fetch_add(1); }
  void CountProtocolError() { protocol_errors_.fetch_add(1); }
  void ReportStatus(raft::NodeId id, bool connected) {
    if (on_status_ && !stopping_) on_status_(id, connected);
  }
  void Deliver(raft::NodeId from, std::vector<raft::Message> messages) {
    if (on_messages_ && !stopping_) on_messages_(from, std::move(messages));
  }
  void Forget(const std::shared_ptr<Inbound>& inbound) { inbounds_.erase(inbound); }

 private:
  void Accept();
  void Pump(raft::NodeId id);

  const PeerTransportOptions options_;
  std::atomic<std::uint64_t> cluster_id_;
  const OnMessages on_messages_;
  const OnPeerStatus on_status_;
  std::unique_ptr<PeerTlsContexts> tls_;

  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::uint16_t bound_port_ = 0;
  std::atomic<bool> stop_requested_{false};
  bool stopping_ = false;  // transport thread only

  // Transport thread only.
  std::map<raft::NodeId, std::shared_ptr<Outbound>> outbounds_;
  std::set<std::shared_ptr<Inbound>> inbounds_;

  mutable std::mutex mu_;
  std::map<raft::NodeId, PeerState> peers_;  // guarded by mu_
  std::uint64_t dropped_unknown_ = 0;        // guarded by mu_
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> protocol_errors_{0};
};

// The long-lived connection that carries our messages to one peer. Every
// asynchronous operation captures the epoch it was started in; a completion from an
// older epoch (a closed connection) is ignored.
class Outbound : public std::enable_shared_from_this<Outbound> {
 public:
  Outbound(PeerTransport::Impl& t, raft::NodeId peer)
      : t_(t),
        peer_(peer),
        stream_(std::make_shared<PeerStream>(t.io(), nullptr, "")),
        resolver_(t.io()),
        timer_(t.io()),
        write_timer_(t.io()),
        ping_timer_(t.io()),
        decoder_(t.options().max_frame_bytes),
        backoff_(t.options().reconnect_backoff_min) {}

  void Dial() {
    auto address = t_.PeerAddress(peer_);
    if (!address || t_.stopping() || shut_down_) return;
    state_ = State::kConnecting;
    // A fresh stream per connection: a TLS session is not reused. Handlers keep the
    // stream they started on alive (a Close abandons them, they still complete).
    stream_ = std::make_shared<PeerStream>(t_.io(), t_.tls(), address->first);
    const std::uint64_t epoch = epoch_;
    resolver_.async_resolve(
        address->first, std::to_string(address->second),
        [self = shared_from_this(), epoch](asio::error_code ec, tcp::resolver::results_type r) {
          if (self->Stale(epoch)) return;
          if (ec) return self->Fail(fmt::format("resolve failed: {}", ec.message()));
          asio::async_connect(
              self->stream_->socket(), r,
              [self, epoch, stream = self->stream_](asio::error_code ec, const tcp::endpoint&) {
                if (self->Stale(epoch)) return;
                if (ec) {
                  return self->Fail(fmt::format("connect failed: {}", ec.message()));
                }
                self->Handshake();
              });
        });
  }

  // Closes the current connection and dials again at once (a new address).
  void Redial() {
    Close(/*lost=*/"address changed");
    backoff_ = t_.options().reconnect_backoff_min;
    Dial();
  }

  // Closes for good (peer removed or transport stopping).
  void Shutdown() {
    Close(/*lost=*/t_.stopping() ? "" : "peer removed");
    shut_down_ = true;
  }

  // More messages are queued.
  void Pump() {
    if (state_ != State::kConnected || writing_) {
      if (state_ != State::kConnected) {
        std::vector<std::string> discard;
        t_.TakeBatch(peer_, 0, discard);  // clears pump_posted; nothing is taken
      }
      return;
    }
    std::vector<std::string> pieces;
    std::uint64_t frames = 0;
    if (ping_due_) {
      ping_due_ = false;
      std::string ping;
      AppendFrame(ping, FrameType::kPing, EncodePing(NowNs()));
      pieces.push_back(std::move(ping));
      ++frames;
    }
    std::vector<std::string> messages;
    const std::uint64_t count =
        t_.TakeBatch(peer_, t_.options().max_frame_bytes - kBatchHeaderMaxBytes, messages);
    if (count > 0) {
      std::string batch_header = EncodeBatchHeader(count);
      std::uint64_t payload_bytes = batch_header.size();
      std::uint32_t crc = crc32c::Extend(FrameCrcStart(FrameType::kRaftMessages),
                                         batch_header.data(), batch_header.size());
      for (const std::string& m : messages) {
        payload_bytes += m.size();
        crc = crc32c::Extend(crc, m.data(), m.size());
      }
      TRI_ASSERT(payload_bytes <= t_.options().max_frame_bytes);
      pieces.push_back(EncodeFrameHeader(FrameType::kRaftMessages,
                                         static_cast<std::uint32_t>(payload_bytes), crc));
      pieces.push_back(std::move(batch_header));
      for (std::string& m : messages)
        pieces.push_back(std::move(m));
      ++frames;
    }
    if (pieces.empty()) return;
    Write(std::move(pieces), frames, count);
  }

 private:
  enum class State { kIdle, kConnecting, kHandshaking, kConnected, kBackoff };

  bool Stale(std::uint64_t epoch) const { return epoch != epoch_ || shut_down_; }

  // TLS (when configured), then the hello exchange, both within handshake_timeout.
  void Handshake() {
    asio::error_code ignored;
    tcp::socket& socket = stream_->socket();
    socket.set_option(tcp::no_delay(true), ignored);
    if (t_.options().socket_send_buffer_bytes > 0) {
      socket.set_option(asio::socket_base::send_buffer_size(
                            static_cast<int>(t_.options().socket_send_buffer_bytes)),
                        ignored);
    }
    state_ = State::kHandshaking;
    const std::uint64_t epoch = epoch_;
    timer_.expires_after(t_.options().handshake_timeout);
    timer_.async_wait([self = shared_from_this(), epoch](asio::error_code ec) {
      if (ec || self->Stale(epoch) || self->state_ != State::kHandshaking) return;
      self->Fail(fmt::format("no {}hello acknowledgement within {} ms",
                             self->stream_->tls() ? "TLS handshake or " : "",
                             self->t_.options().handshake_timeout.count()));
    });
    stream_->AsyncHandshake(
        /*dialling=*/true,
        [self = shared_from_this(), epoch, stream = stream_](asio::error_code ec) {
          if (self->Stale(epoch)) return;
          if (ec) {
            // A refused certificate is an operator's problem: always worth a warning.
            spdlog::warn("peer connection to {} failed: TLS handshake: {}", self->peer_,
                         ec.message());
            return self->Fail("TLS handshake failed", /*quiet=*/true);
          }
          self->SendHello();
        });
  }

  void SendHello() {
    std::string hello;
    AppendFrame(hello, FrameType::kHello,
                EncodeHello({kProtocolVersion, t_.cluster_id(), t_.options().self, peer_}));
    std::vector<std::string> pieces;
    pieces.push_back(std::move(hello));
    Write(std::move(pieces), 1, 0);
    Read();
  }

  void Write(std::vector<std::string> pieces, std::uint64_t frames, std::uint64_t messages) {
    TRI_ASSERT(!writing_);
    writing_ = true;
    // The handler owns the bytes: they must outlive the operation even when a Close
    // abandons it.
    auto owned = std::make_shared<std::vector<std::string>>(std::move(pieces));
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(owned->size());
    for (const std::string& p : *owned)
      buffers.push_back(asio::buffer(p));
    const std::uint64_t epoch = epoch_;
    write_timer_.expires_after(t_.options().write_timeout);
    write_timer_.async_wait([self = shared_from_this(), epoch](asio::error_code ec) {
      if (ec || self->Stale(epoch) || !self->writing_) return;
      self->Fail(fmt::format("write timed out after {} ms (peer not reading)",
                             self->t_.options().write_timeout.count()));
    });
    stream_->AsyncWrite(buffers, [self = shared_from_this(), owned, epoch, frames, messages,
                                  stream = stream_](asio::error_code ec, std::size_t n) {
      if (self->Stale(epoch)) return;
      self->writing_ = false;
      self->write_timer_.cancel();
      if (ec) return self->Fail(fmt::format("write failed: {}", ec.message()));
      self->t_.CountSent(self->peer_, n, frames, messages);
      self->Pump();
    });
  }

  void Read() {
    const std::uint64_t epoch = epoch_;
    stream_->AsyncReadSome(asio::buffer(read_buffer_), [self = shared_from_this(), epoch,
                                                        stream = stream_](asio::error_code ec,
                                                                          std::size_t n) {
      if (self->Stale(epoch)) return;
      if (ec) {
        return self->Fail(ec == asio::error::eof ? std::string("closed by peer")
                                                 : fmt::format("read failed: {}", ec.message()));
      }
      self->decoder_.Feed(std::string_view(self->read_buffer_.data(), n));
      if (!self->DrainFrames()) return;
      self->Read();
    });
  }

  // Handles every complete frame; false when the connection was closed.
  bool DrainFrames() {
    const std::uint64_t epoch = epoch_;
    while (true) {
      auto next = decoder_.Next();
      if (!next.ok()) {
        t_.CountProtocolError();
        Fail(next.status().message());
        return false;
      }
      if (!next->has_value()) return true;
      const Frame& frame = **next;
      if (state_ == State::kHandshaking) {
        if (!HandleHandshakeReply(frame)) return false;
      } else if (frame.type == FrameType::kPong) {
        auto sent = DecodePing(frame.payload);
        if (!sent.ok()) {
          t_.CountProtocolError();
          Fail(sent.status().message());
          return false;
        }
        t_.CountReceived(peer_, kFrameHeaderBytes + frame.payload.size(), 1, 0);
        t_.SetRtt(peer_, std::chrono::nanoseconds(NowNs() - *sent));
      } else {
        t_.CountProtocolError();
        Fail(fmt::format("unexpected {} frame on an outbound connection",
                         FrameTypeName(frame.type)));
        return false;
      }
      if (Stale(epoch)) return false;
    }
  }

  bool HandleHandshakeReply(const Frame& frame) {
    if (frame.type == FrameType::kReject) {
      spdlog::warn("peer connection to {} rejected by the peer: {}", peer_,
                   DecodeReject(frame.payload));
      Fail("", /*quiet=*/true);
      return false;
    }
    if (frame.type != FrameType::kHello) {
      t_.CountProtocolError();
      Fail(fmt::format("expected a hello acknowledgement, got a {} frame",
                       FrameTypeName(frame.type)));
      return false;
    }
    auto hello = DecodeHello(frame.payload);
    std::string problem;
    if (!hello.ok()) {
      problem = hello.status().message();
    } else if (!t_.ClusterIdAcceptable(hello->cluster_id) || hello->from != peer_ ||
               hello->to != t_.options().self || hello->protocol_version != kProtocolVersion) {
      problem = fmt::format(
          "hello acknowledgement does not match (cluster {}, from {}, to {}, version {})",
          hello->cluster_id, hello->from, hello->to, hello->protocol_version);
    }
    if (!problem.empty()) {
      t_.CountProtocolError();
      Fail(problem);
      return false;
    }
    timer_.cancel();
    state_ = State::kConnected;
    backoff_ = t_.options().reconnect_backoff_min;
    t_.SetConnected(peer_, true);
    spdlog::info("peer {} connected: {} (outbound{})", peer_, EndpointText(stream_->socket()),
                 stream_->tls() ? ", TLS" : "");
    t_.ReportStatus(peer_, true);
    SchedulePing();
    Pump();
    return true;
  }

  void SchedulePing() {
    const std::uint64_t epoch = epoch_;
    ping_timer_.expires_after(t_.options().ping_interval);
    ping_timer_.async_wait([self = shared_from_this(), epoch](asio::error_code ec) {
      if (ec || self->Stale(epoch)) return;
      self->ping_due_ = true;
      if (!self->writing_) self->Pump();
      self->SchedulePing();
    });
  }

  // Closes the socket and invalidates outstanding operations. `lost` is the reason
  // logged when an established connection is lost (empty: no log line).
  void Close(std::string_view lost) {
    const bool was_connected = state_ == State::kConnected;
    ++epoch_;
    stream_->Close();
    resolver_.cancel();
    timer_.cancel();
    write_timer_.cancel();
    ping_timer_.cancel();
    writing_ = false;
    ping_due_ = false;
    decoder_ = FrameDecoder(t_.options().max_frame_bytes);
    state_ = State::kIdle;
    if (was_connected) {
      t_.SetConnected(peer_, false);
      if (!lost.empty()) spdlog::warn("peer {} disconnected: {}", peer_, lost);
      t_.ReportStatus(peer_, false);
    }
  }

  // Closes and dials again after the backoff. A failure of an established connection
  // is logged at warn by Close; failed attempts while the peer is away at debug.
  void Fail(std::string reason, bool quiet = false) {
    const bool was_connected = state_ == State::kConnected;
    Close(reason);
    if (!was_connected && !quiet) {
      spdlog::debug("peer {} connection attempt failed: {}; retrying in {} ms", peer_, reason,
                    backoff_.count());
    }
    if (t_.stopping() || shut_down_) return;
    state_ = State::kBackoff;
    const std::uint64_t epoch = epoch_;
    timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, t_.options().reconnect_backoff_max);
    timer_.async_wait([self = shared_from_this(), epoch](asio::error_code ec) {
      if (ec || self->Stale(epoch)) return;
      self->Dial();
    });
  }

  PeerTransport::Impl& t_;
  const raft::NodeId peer_;
  std::shared_ptr<PeerStream> stream_;  // the current connection's
  tcp::resolver resolver_;
  asio::steady_timer timer_;  // handshake timeout or reconnect backoff
  asio::steady_timer write_timer_;
  asio::steady_timer ping_timer_;
  FrameDecoder decoder_;
  std::array<char, kReadChunkBytes> read_buffer_{};
  std::chrono::milliseconds backoff_;
  std::uint64_t epoch_ = 0;
  State state_ = State::kIdle;
  bool writing_ = false;
  bool ping_due_ = false;
  bool shut_down_ = false;
};

// An accepted connection: hello, then the peer's messages (and its pings).
class Inbound : public std::enable_shared_from_this<Inbound> {
 public:
  Inbound(PeerTransport::Impl& t, tcp::socket socket)
      : t_(t),
        remote_(EndpointText(socket)),
        stream_(std::move(socket), t.tls()),
        handshake_timer_(t.io()),
        write_timer_(t.io()),
        decoder_(t.options().max_frame_bytes) {}

  // TLS (when configured), then the hello, both within handshake_timeout.
  void Start() {
    asio::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    handshake_timer_.expires_after(t_.options().handshake_timeout);
    handshake_timer_.async_wait([self = shared_from_this()](asio::error_code ec) {
      if (ec || self->closed_ || self->peer_ != raft::kNoNode) return;
      spdlog::warn("peer connection from {} closed: no {}hello within {} ms", self->remote_,
                   self->stream_.tls() ? "TLS handshake or " : "",
                   self->t_.options().handshake_timeout.count());
      self->Close();
    });
    stream_.AsyncHandshake(/*dialling=*/false, [self = shared_from_this()](asio::error_code ec) {
      if (self->closed_) return;
      if (ec) {
        self->t_.CountRejected();
        spdlog::warn("peer connection from {} rejected: TLS handshake: {}", self->remote_,
                     ec.message());
        return self->Close();
      }
      self->Read();
    });
  }

  raft::NodeId peer() const { return peer_; }

  void Close() {
    if (closed_) return;
    closed_ = true;
    stream_.Close();
    handshake_timer_.cancel();
    write_timer_.cancel();
    t_.Forget(shared_from_this());
  }

 private:
  void Read() {
    stream_.AsyncReadSome(asio::buffer(read_buffer_), [self = shared_from_this()](
                                                          asio::error_code ec, std::size_t n) {
      if (self->closed_) return;
      if (ec) {
        if (self->peer_ != raft::kNoNode) {
          spdlog::info("peer {} inbound connection from {} closed: {}", self->peer_, self->remote_,
                       ec == asio::error::eof ? "closed by peer" : ec.message());
        }
        return self->Close();
      }
      self->decoder_.Feed(std::string_view(self->read_buffer_.data(), n));
      if (!self->DrainFrames()) return;
      self->Read();
    });
  }

  bool ProtocolError(std::string_view what) {
    t_.CountProtocolError();
    spdlog::warn("peer {} connection from {} closed: {}",
                 peer_ == raft::kNoNode ? std::string("(unidentified)") : std::to_string(peer_),
                 remote_, what);
    Close();
    return false;
  }

  bool DrainFrames() {
    while (!closed_ && !rejecting_) {
      auto next = decoder_.Next();
      if (!next.ok()) return ProtocolError(next.status().message());
      if (!next->has_value()) return true;
      Frame& frame = **next;
      if (peer_ == raft::kNoNode) {
        if (frame.type != FrameType::kHello) {
          return ProtocolError(
              fmt::format("expected a hello, got a {} frame", FrameTypeName(frame.type)));
        }
        if (!HandleHello(frame.payload)) return false;
        continue;
      }
      const std::uint64_t frame_bytes = kFrameHeaderBytes + frame.payload.size();
      if (frame.type == FrameType::kPing) {
        t_.CountReceived(peer_, frame_bytes, 1, 0);
        if (pending_.size() >= kMaxPendingControlFrames) {
          return ProtocolError("too many unanswered pings (peer not reading)");
        }
        std::string pong;
        AppendFrame(pong, FrameType::kPong, frame.payload);
        Enqueue(std::move(pong));
        continue;
      }
      if (frame.type != FrameType::kRaftMessages) {
        return ProtocolError(
            fmt::format("unexpected {} frame on an inbound connection", FrameTypeName(frame.type)));
      }
      auto messages = DecodeMessages(frame.payload, t_.options().codec_limits);
      if (!messages.ok()) return ProtocolError(messages.status().message());
      for (const raft::Message& m : *messages) {
        if (m.from != peer_ || m.to != t_.options().self) {
          return ProtocolError(fmt::format("{} from {} to {} on the connection of peer {} to {}",
                                           raft::MessageTypeName(m.type), m.from, m.to, peer_,
                                           t_.options().self));
        }
      }
      t_.CountReceived(peer_, frame_bytes, 1, messages->size());
      t_.Deliver(peer_, std::move(messages).value());
    }
    return !closed_;
  }

  bool HandleHello(std::string_view payload) {
    auto hello = DecodeHello(payload);
    if (!hello.ok()) return ProtocolError(hello.status().message());
    const PeerTransportOptions& o = t_.options();
    std::string reason;
    if (hello->protocol_version != kProtocolVersion) {
      reason = fmt::format("protocol version mismatch (want {}, got {})", kProtocolVersion,
                           hello->protocol_version);
    } else if (!t_.ClusterIdAcceptable(hello->cluster_id)) {
      reason =
          fmt::format("cluster id mismatch (want {}, got {})", t_.cluster_id(), hello->cluster_id);
    } else if (hello->to != o.self) {
      reason = fmt::format("addressed to node {}, this is node {}", hello->to, o.self);
    } else if (hello->from == raft::kNoNode || hello->from == o.self ||
               !t_.IsKnownPeer(hello->from)) {
      reason = fmt::format("node {} is not a known peer", hello->from);
    }
    if (!reason.empty()) {
      t_.CountRejected();
      spdlog::warn("peer connection from {} rejected: {}", remote_, reason);
      std::string reject;
      AppendFrame(reject, FrameType::kReject, EncodeReject(reason));
      rejecting_ = true;  // closes once the reject is written
      Enqueue(std::move(reject));
      return false;
    }
    peer_ = hello->from;
    handshake_timer_.cancel();
    spdlog::info("peer {} inbound connection from {} accepted", peer_, remote_);
    std::string ack;
    AppendFrame(ack, FrameType::kHello,
                EncodeHello({kProtocolVersion, t_.cluster_id(), o.self, peer_}));
    Enqueue(std::move(ack));
    return true;
  }

  void Enqueue(std::string frame) {
    pending_.push_back(std::move(frame));
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    if (closed_) return;
    if (pending_.empty()) {
      if (rejecting_) Close();
      return;
    }
    writing_ = true;
    write_timer_.expires_after(t_.options().write_timeout);
    write_timer_.async_wait([self = shared_from_this()](asio::error_code ec) {
      if (ec || self->closed_ || !self->writing_) return;
      self->ProtocolError(fmt::format("write timed out after {} ms (peer not reading)",
                                      self->t_.options().write_timeout.count()));
    });
    stream_.AsyncWrite(asio::buffer(pending_.front()),
                       [self = shared_from_this()](asio::error_code ec, std::size_t) {
                         if (self->closed_) return;
                         self->writing_ = false;
                         self->write_timer_.cancel();
                         self->pending_.pop_front();
                         if (ec) return self->Close();
                         self->WriteNext();
                       });
  }

  PeerTransport::Impl& t_;
  const std::string remote_;
  PeerStream stream_;
  asio::steady_timer handshake_timer_;
  asio::steady_timer write_timer_;
  FrameDecoder decoder_;
  std::array<char, kReadChunkBytes> read_buffer_{};
  std::deque<std::string> pending_;  // control frames to write, front in flight
  raft::NodeId peer_ = raft::kNoNode;
  bool writing_ = false;
  bool rejecting_ = false;
  bool closed_ = false;
};

// ---------------------------------------------------------------------------

Status PeerTransport::Impl::Listen() {
  asio::error_code ec;
  const auto address = asio::ip::make_address(options_.listen_host, ec);
  if (ec) {
    return InvalidArgument(
        fmt::format("peer transport: listen host '{}' is not an IP address", options_.listen_host));
  }
  const tcp::endpoint endpoint(address, options_.listen_port);
  const auto where =
      fmt::format("peer transport: listen on {}:{}", options_.listen_host, options_.listen_port);
  if (acceptor_.open(endpoint.protocol(), ec); ec) {
    return Unavailable(fmt::format("{}: open: {}", where, ec.message()));
  }
  acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (acceptor_.bind(endpoint, ec); ec) {
    return Unavailable(fmt::format("{}: bind: {}", where, ec.message()));
  }
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return Unavailable(fmt::format("{}: listen: {}", where, ec.message()));
  }
  bound_port_ = acceptor_.local_endpoint(ec).port();
  spdlog::info("peer transport of node {} (cluster {}) listening on {}:{}", options_.self,
               options_.cluster_id, options_.listen_host, bound_port_);
  asio::post(io_, [this] { Accept(); });
  return Status::Ok();
}

void PeerTransport::Impl::Accept() {
  acceptor_.async_accept([this](asio::error_code ec, tcp::socket socket) {
    if (stopping_) return;
    if (ec) {
      // Out of descriptors and the like: wait a little rather than spin.
      spdlog::warn("peer transport: accept failed: {}", ec.message());
      accept_retry_.expires_after(std::chrono::milliseconds(100));
      accept_retry_.async_wait([this](asio::error_code ec) {
        if (!ec && !stopping_) Accept();
      });
      return;
    }
    if (inbounds_.size() >= options_.max_inbound_connections) {
      spdlog::warn("peer connection from {} refused: {} inbound connections open (the limit)",
                   EndpointText(socket), inbounds_.size());
      asio::error_code ignored;
      socket.close(ignored);
    } else {
      auto inbound = std::make_shared<Inbound>(*this, std::move(socket));
      inbounds_.insert(inbound);
      inbound->Start();
    }
    Accept();
  });
}

void PeerTransport::Impl::Stop() {
  TRI_ASSERT_MSG(std::this_thread::get_id() != thread_.get_id(),
                 "PeerTransport::Stop called from a transport callback");
  if (stop_requested_.exchange(true)) return;
  asio::post(io_, [this] {
    stopping_ = true;
    asio::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
    for (auto& [id, outbound] : outbounds_)
      outbound->Shutdown();
    outbounds_.clear();
    // Close() removes each from inbounds_.
    while (!inbounds_.empty())
      (*inbounds_.begin())->Close();
  });
  work_.reset();
  if (thread_.joinable()) thread_.join();
}

Status PeerTransport::Impl::AddPeer(raft::NodeId id, const std::string& host, std::uint16_t port) {
  if (id == raft::kNoNode || id == options_.self) {
    return InvalidArgument(
        fmt::format("peer transport: cannot add peer {} (self is {})", id, options_.self));
  }
  {
    std::lock_guard lock(mu_);
    if (stop_requested_) return FailedPrecondition("peer transport: stopped");
    if (peers_.count(id) != 0) {
      return AlreadyExists(fmt::format("peer transport: peer {} already added", id));
    }
    PeerState& peer = peers_[id];
    peer.host = host;
    peer.port = port;
  }
  asio::post(io_, [this, id] {
    if (stopping_ || !IsKnownPeer(id) || outbounds_.count(id) != 0) return;
    auto outbound = std::make_shared<Outbound>(*this, id);
    outbounds_[id] = outbound;
    outbound->Dial();
  });
  return Status::Ok();
}

Status PeerTransport::Impl::UpdatePeer(raft::NodeId id, const std::string& host,
                                       std::uint16_t port) {
  {
    std::lock_guard lock(mu_);
    if (stop_requested_) return FailedPrecondition("peer transport: stopped");
    auto it = peers_.find(id);
    if (it == peers_.end()) return NotFound(fmt::format("peer transport: no peer {}", id));
    it->second.host = host;
    it->second.port = port;
  }
  asio::post(io_, [this, id] {
    auto it = outbounds_.find(id);
    if (!stopping_ && it != outbounds_.end()) it->second->Redial();
  });
  return Status::Ok();
}

Status PeerTransport::Impl::RemovePeer(raft::NodeId id) {
  {
    std::lock_guard lock(mu_);
    if (stop_requested_) return FailedPrecondition("peer transport: stopped");
    if (peers_.erase(id) == 0) return NotFound(fmt::format("peer transport: no peer {}", id));
  }
  asio::post(io_, [this, id] {
    if (stopping_) return;
    if (auto it = outbounds_.find(id); it != outbounds_.end()) {
      it->second->Shutdown();
      outbounds_.erase(it);
    }
    std::vector<std::shared_ptr<Inbound>> from_peer;
    for (const auto& inbound : inbounds_) {
      if (inbound->peer() == id) from_peer.push_back(inbound);
    }
    for (const auto& inbound : from_peer)
      inbound->Close();
  });
  return Status::Ok();
}

void PeerTransport::Impl::Send(std::vector<raft::Message> messages) {
  // Encode outside the lock; the caller's thread pays for it, not the transport's.
  std::vector<std::string> encoded(messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (!raft::IsLocalMessage(messages[i].type)) AppendMessage(encoded[i], messages[i]);
  }
  std::vector<raft::NodeId> to_pump;
  std::vector<std::pair<raft::NodeId, std::size_t>> too_large;
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < messages.size(); ++i) {
      auto it = peers_.find(messages[i].to);
      if (it == peers_.end()) {
        ++dropped_unknown_;
        continue;
      }
      PeerState& peer = it->second;
      const std::uint64_t size = encoded[i].size();
      if (size == 0 || size > options_.max_frame_bytes - kBatchHeaderMaxBytes) {
        if (size != 0) too_large.emplace_back(messages[i].to, size);
        ++peer.metrics.messages_dropped;
        continue;
      }
      if (!peer.metrics.connected || peer.queue.size() >= options_.max_queued_messages_per_peer ||
          peer.queued_bytes + size > options_.max_queued_bytes_per_peer) {
        ++peer.metrics.messages_dropped;
        continue;
      }
      peer.queued_bytes += size;
      peer.queue.push_back(std::move(encoded[i]));
      if (!peer.pump_posted) {
        peer.pump_posted = true;
        to_pump.push_back(messages[i].to);
      }
    }
  }
  for (const auto& [peer, size] : too_large) {
    spdlog::error(
        "peer {}: dropped a {}-byte raft message, larger than max_frame_bytes {} allows "
        "(raise max_frame_bytes above raft's message and snapshot chunk sizes)",
        peer, size, options_.max_frame_bytes);
  }
  for (raft::NodeId id : to_pump)
    asio::post(io_, [this, id] { Pump(id); });
}

void PeerTransport::Impl::Pump(raft::NodeId id) {
  auto it = outbounds_.find(id);
  if (it != outbounds_.end() && !stopping_) {
    it->second->Pump();
    return;
  }
  std::vector<std::string> discard;
  TakeBatch(id, 0, discard);
}

std::uint64_t PeerTransport::Impl::TakeBatch(raft::NodeId id, std::uint64_t max_bytes,
                                             std::vector<std::string>& out) {
  std::lock_guard lock(mu_);
  auto it = peers_.find(id);
  if (it == peers_.end()) return 0;
  PeerState& peer = it->second;
  std::uint64_t bytes = 0;
  while (!peer.queue.empty() && out.size() < options_.max_messages_per_frame &&
         bytes + peer.queue.front().size() <= max_bytes) {
    bytes += peer.queue.front().size();
    peer.queued_bytes -= peer.queue.front().size();
    out.push_back(std::move(peer.queue.front()));
    peer.queue.pop_front();
  }
  // With max_bytes 0 nothing is taken: the caller cannot write now, and the queue is
  // left for the next write (or cleared on disconnect).
  if (peer.queue.empty() || max_bytes == 0) peer.pump_posted = false;
  return out.size();
}

void PeerTransport::Impl::SetConnected(raft::NodeId id, bool connected) {
  std::lock_guard lock(mu_);
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  PeerState& peer = it->second;
  peer.metrics.connected = connected;
  if (connected) {
    ++peer.metrics.connects;
  } else {
    ++peer.metrics.disconnects;
    peer.metrics.messages_dropped += peer.queue.size();
    peer.queue.clear();
    peer.queued_bytes = 0;
  }
}

void PeerTransport::Impl::CountSent(raft::NodeId id, std::uint64_t bytes, std::uint64_t frames,
                                    std::uint64_t messages) {
  std::lock_guard lock(mu_);
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  it->second.metrics.bytes_sent += bytes;
  it->second.metrics.frames_sent += frames;
  it->second.metrics.messages_sent += messages;
}

void PeerTransport::Impl::CountReceived(raft::NodeId id, std::uint64_t bytes, std::uint64_t frames,
                                        std::uint64_t messages) {
  std::lock_guard lock(mu_);
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  it->second.metrics.bytes_received += bytes;
  it->second.metrics.frames_received += frames;
  it->second.metrics.messages_received += messages;
}

void PeerTransport::Impl::SetRtt(raft::NodeId id, std::chrono::nanoseconds rtt) {
  std::lock_guard lock(mu_);
  auto it = peers_.find(id);
  if (it != peers_.end()) it->second.metrics.last_rtt = rtt;
}

TransportMetrics PeerTransport::Impl::metrics() const {
  TransportMetrics out;
  std::lock_guard lock(mu_);
  for (const auto& [id, peer] : peers_)
    out.peers[id] = peer.metrics;
  out.messages_dropped_unknown_peer = dropped_unknown_;
  out.inbound_rejected = rejected_.load();
  out.inbound_protocol_errors = protocol_errors_.load();
  return out;
}

// ---------------------------------------------------------------------------

PeerTransport::PeerTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PeerTransport::~PeerTransport() {
  Stop();
}

Result<std::unique_ptr<PeerTransport>> PeerTransport::Start(PeerTransportOptions options,
                                                            OnMessages on_messages,
                                                            OnPeerStatus on_status) {
  TRI_RETURN_IF_ERROR(ValidateOptions(options));
  auto impl =
      std::make_unique<Impl>(std::move(options), std::move(on_messages), std::move(on_status));
  TRI_RETURN_IF_ERROR(impl->SetUpTls());
  TRI_RETURN_IF_ERROR(impl->Listen());
  impl->Run();
  return std::unique_ptr<PeerTransport>(new PeerTransport(std::move(impl)));
}

std::uint16_t PeerTransport::listen_port() const {
  return impl_->listen_port();
}

Status PeerTransport::AddPeer(raft::NodeId id, const std::string& host, std::uint16_t port) {
  return impl_->AddPeer(id, host, port);
}

Status PeerTransport::UpdatePeer(raft::NodeId id, const std::string& host, std::uint16_t port) {
  return impl_->UpdatePeer(id, host, port);
}

Status PeerTransport::RemovePeer(raft::NodeId id) {
  return impl_->RemovePeer(id);
}

void PeerTransport::Send(std::vector<raft::Message> messages) {
  impl_->Send(std::move(messages));
}

void PeerTransport::SetClusterId(std::uint64_t cluster_id) {
  impl_->SetClusterId(cluster_id);
}

std::uint64_t PeerTransport::cluster_id() const {
  return impl_->cluster_id();
}

void PeerTransport::Stop() {
  impl_->Stop();
}

TransportMetrics PeerTransport::metrics() const {
  return impl_->metrics();
}

}  // namespace tri::net
