#pragma once

// PeerTransport: Raft messages between the nodes of one cluster over TCP (behaviour,
// bounds, metrics and log lines in docs/net.md).
//
// One io_context runs on the transport's own thread. For every peer added with
// AddPeer, one long-lived outbound connection carries our messages to it (hello
// first, then kRaftMessages frames, many messages per write); it reconnects with
// exponential backoff. The listener accepts the peers' outbound connections and
// delivers their messages to `on_messages`. An inbound hello is accepted only from
// a known peer (AddPeer first, also for a member being added), for our cluster id
// and addressed to us; otherwise the acceptor sends a reject with the reason and
// closes. Messages are best effort: Raft retransmits, so a full queue, a
// disconnected peer or an unknown destination drops the message and counts it.
//
// Thread safety: every public method may be called from any thread. The callbacks
// run on the transport thread, never under an internal lock (they may call Send).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/frame.h"
#include "net/raft_codec.h"
#include "raft/types.h"

namespace tri::net {

// TLS on every peer connection, both ways (PEM text, not file names).
struct PeerTlsOptions {
  // Our certificate chain and key: presented when accepting and when dialling.
  std::string cert_pem;
  std::string key_pem;
  // CAs that peers' certificates must chain to; empty: the system's CAs. A dialled
  // peer's certificate must also name the host dialled (IP or DNS subjectAltName).
  std::string trusted_ca_pem;
  // Accepted connections must present a certificate that chains to trusted_ca_pem
  // (etcd's --peer-client-cert-auth); without it any client, or none, is accepted at
  // the TLS layer (the hello still has to name a known peer).
  bool require_client_cert = false;
};

struct PeerTransportOptions {
  // Every node of a cluster uses the same id; a hello with another id is rejected.
  // 0 means "not known yet" (a member joining an existing cluster, which learns the id
  // with the leader's state and then calls SetClusterId); hellos with id 0 are accepted
  // from known peers, as are any ids while ours is 0.
  std::uint64_t cluster_id = 0;
  raft::NodeId self = raft::kNoNode;
  // An IP literal (no name resolution for the listener). Port 0 picks a free port.
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 0;
  // Largest frame payload sent or accepted; at least 4 KiB and below 4 GiB. Must exceed
  // raft max_msg_size_bytes and max_snapshot_chunk_bytes plus their headers.
  std::uint64_t max_frame_bytes = kDefaultMaxFrameBytes;
  // Per-peer send queue; a message that would exceed either bound is dropped.
  std::uint64_t max_queued_messages_per_peer = 4096;
  std::uint64_t max_queued_bytes_per_peer = 64u << 20;
  // Messages gathered into one frame (one write) at most.
  std::uint64_t max_messages_per_frame = 1024;
  // A write that does not complete in this time closes the connection (slow reader).
  std::chrono::milliseconds write_timeout{5000};
  // Time for a new connection to complete the hello exchange.
  std::chrono::milliseconds handshake_timeout{5000};
  // Delay before reconnecting: min after a failure, doubling up to max; reset by a
  // successful handshake.
  std::chrono::milliseconds reconnect_backoff_min{50};
  std::chrono::milliseconds reconnect_backoff_max{5000};
  // Interval of RTT pings on each established outbound connection.
  std::chrono::milliseconds ping_interval{1000};
  // SO_SNDBUF of outbound sockets; 0 keeps the system default.
  std::uint32_t socket_send_buffer_bytes = 0;
  // Accepted connections open at once (handshaking or established); more are closed.
  std::uint64_t max_inbound_connections = 1024;
  RaftCodecLimits codec_limits;
  // Unset: plain TCP. Set: TLS, whose handshake counts against handshake_timeout.
  std::optional<PeerTlsOptions> tls;
};

// Counters of one peer since it was added.
struct PeerMetrics {
  std::uint64_t bytes_sent = 0;  // frame bytes written on the outbound connection
  std::uint64_t frames_sent = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t bytes_received = 0;  // frame bytes read from the peer (both connections)
  std::uint64_t frames_received = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t messages_dropped = 0;  // queue full, not connected, or too large to frame
  std::uint64_t connects = 0;          // outbound handshakes completed
  std::uint64_t disconnects = 0;       // established outbound connections lost
  std::optional<std::chrono::nanoseconds> last_rtt;
  bool connected = false;  // the outbound connection is established
};

struct TransportMetrics {
  std::map<raft::NodeId, PeerMetrics> peers;
  std::uint64_t messages_dropped_unknown_peer = 0;
  std::uint64_t inbound_rejected = 0;  // hellos refused (cluster, address, unknown peer), failed
                                       // TLS handshakes
  std::uint64_t inbound_protocol_errors = 0;  // connections closed for a bad frame or message
};

// Called on the transport thread with the messages of one frame, in order.
using OnMessages = std::function<void(raft::NodeId from, std::vector<raft::Message> messages)>;
// Called on the transport thread when the outbound connection to `peer` is
// established (true) or lost (false). Not called by Stop().
using OnPeerStatus = std::function<void(raft::NodeId peer, bool connected)>;

class PeerTransport {
 public:
  // Validates the options, binds the listener and starts the transport thread.
  static Result<std::unique_ptr<PeerTransport>> Start(PeerTransportOptions options,
                                                      OnMessages on_messages,
                                                      OnPeerStatus on_status);
  ~PeerTransport();
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // The bound port (the ephemeral one when listen_port was 0).
  std::uint16_t listen_port() const;

  // Starts connecting to a peer. Errors: self or 0 (kInvalidArgument), an id already
  // added (kAlreadyExists), after Stop (kFailedPrecondition).
  Status AddPeer(raft::NodeId id, const std::string& host, std::uint16_t port);
  // Changes a peer's address: the outbound connection is closed and redialled.
  Status UpdatePeer(raft::NodeId id, const std::string& host, std::uint16_t port);
  // Forgets a peer: its queue is dropped and its connections closed.
  Status RemovePeer(raft::NodeId id);

  // Queues each message for the peer `m.to`; never blocks on the network. Messages
  // to unknown peers, to peers not connected, over the queue bounds or too large
  // for one frame are dropped and counted. Local message types are dropped too.
  void Send(std::vector<raft::Message> messages);

  // Sets the cluster id once a joining member has learned it (see
  // PeerTransportOptions::cluster_id). Established connections stay.
  void SetClusterId(std::uint64_t cluster_id);
  std::uint64_t cluster_id() const;

  // Closes every connection and joins the thread. Idempotent; the destructor calls it.
  void Stop();

  TransportMetrics metrics() const;

  class Impl;

 private:
  explicit PeerTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tri::net
