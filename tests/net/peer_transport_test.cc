#include "net/peer_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "net/handshake.h"
#include "net/raft_message_gen.h"

namespace tri::net {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kCluster = 0xc1;

// Polls `done` every few milliseconds for up to 20 s; the bound only stops a broken
// test from hanging, it asserts nothing about timing.
bool WaitFor(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// Collects the log lines written while it is installed on the default logger.
class CapturedLog {
 public:
  CapturedLog() : sink_(std::make_shared<Sink>()) {
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~CapturedLog() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  bool Contains(std::string_view text) const {
    std::lock_guard lock(sink_->lines_mu);
    for (const auto& line : sink_->lines) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

 private:
  struct Sink : spdlog::sinks::base_sink<std::mutex> {
    void sink_it_(const spdlog::details::log_msg& msg) override {
      std::lock_guard lock(lines_mu);
      lines.emplace_back(msg.payload.data(), msg.payload.size());
    }
    void flush_() override {}
    mutable std::mutex lines_mu;
    std::vector<std::string> lines;
  };
  std::shared_ptr<Sink> sink_;
};

// One transport and everything its callbacks saw.
class Node {
 public:
  static std::unique_ptr<Node> Start(raft::NodeId id, std::uint16_t port = 0,
                                     std::uint64_t cluster = kCluster,
                                     std::function<void(PeerTransportOptions&)> tweak = {}) {
    auto node = std::make_unique<Node>();
    PeerTransportOptions options;
    options.cluster_id = cluster;
    options.self = id;
    options.listen_port = port;
    options.reconnect_backoff_min = 5ms;
    options.reconnect_backoff_max = 50ms;
    options.ping_interval = 20ms;
    if (tweak) tweak(options);
    Node* raw = node.get();
    auto transport = PeerTransport::Start(
        options,
        [raw](raft::NodeId from, std::vector<raft::Message> messages) {
          std::lock_guard lock(raw->mu_);
          for (auto& m : messages)
            raw->received_.emplace_back(from, std::move(m));
        },
        [raw](raft::NodeId peer, bool connected) {
          std::lock_guard lock(raw->mu_);
          raw->statuses_.emplace_back(peer, connected);
        });
    EXPECT_TRUE(transport.ok()) << transport.status().ToString();
    if (!transport.ok()) return nullptr;
    node->transport = std::move(transport).value();
    return node;
  }

  std::vector<std::pair<raft::NodeId, raft::Message>> received() const {
    std::lock_guard lock(mu_);
    return received_;
  }
  std::size_t received_count() const {
    std::lock_guard lock(mu_);
    return received_.size();
  }
  std::vector<std::pair<raft::NodeId, bool>> statuses() const {
    std::lock_guard lock(mu_);
    return statuses_;
  }
  bool Connected(raft::NodeId peer) const {
    auto m = transport->metrics();
    return m.peers.count(peer) != 0 && m.peers.at(peer).connected;
  }
  std::uint16_t port() const { return transport->listen_port(); }

  // Stops the transport before the state its callbacks write to goes away.
  ~Node() { transport.reset(); }

  std::unique_ptr<PeerTransport> transport;

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<raft::NodeId, raft::Message>> received_;
  std::vector<std::pair<raft::NodeId, bool>> statuses_;
};

// A heartbeat whose commit field carries a sequence number.
raft::Message Heartbeat(raft::NodeId from, raft::NodeId to, std::uint64_t seq) {
  raft::Message m;
  m.type = raft::MessageType::kHeartbeat;
  m.from = from;
  m.to = to;
  m.term = 1;
  m.commit = seq;
  return m;
}

void Connect(Node& a, raft::NodeId a_id, Node& b, raft::NodeId b_id) {
  ASSERT_TRUE(a.transport->AddPeer(b_id, "127.0.0.1", b.port()).ok());
  ASSERT_TRUE(b.transport->AddPeer(a_id, "127.0.0.1", a.port()).ok());
  ASSERT_TRUE(WaitFor([&] { return a.Connected(b_id) && b.Connected(a_id); }));
}

// Sends `count` sequenced heartbeats in Send calls of up to 7 messages.
void SendSequence(Node& node, raft::NodeId from, raft::NodeId to, std::uint64_t count) {
  std::vector<raft::Message> batch;
  for (std::uint64_t seq = 1; seq <= count; ++seq) {
    batch.push_back(Heartbeat(from, to, seq));
    if (batch.size() == 7 || seq == count) node.transport->Send(std::move(batch)), batch.clear();
  }
}

// The sequence numbers received from `from`, in arrival order.
std::vector<std::uint64_t> SequenceFrom(const Node& node, raft::NodeId from) {
  std::vector<std::uint64_t> seqs;
  for (const auto& [peer, m] : node.received()) {
    if (peer == from) seqs.push_back(m.commit);
  }
  return seqs;
}

std::vector<std::uint64_t> OneTo(std::uint64_t n) {
  std::vector<std::uint64_t> v(n);
  for (std::uint64_t i = 0; i < n; ++i)
    v[i] = i + 1;
  return v;
}

TEST(PeerTransport, StartReportsTheEphemeralPortAndRefusesBadOptions) {
  auto node = Node::Start(1);
  ASSERT_TRUE(node);
  EXPECT_NE(node->port(), 0);
  PeerTransportOptions options;
  EXPECT_EQ(PeerTransport::Start(options, {}, {}).status().code(), StatusCode::kInvalidArgument);
  options.self = 1;
  options.listen_host = "localhost";
  EXPECT_NE(PeerTransport::Start(options, {}, {}).status().message().find("not an IP address"),
            std::string::npos);
  options.listen_host = "127.0.0.1";
  options.listen_port = node->port();
  EXPECT_EQ(PeerTransport::Start(options, {}, {}).status().code(), StatusCode::kUnavailable);
}

TEST(PeerTransport, PeerManagementErrorsNameThePeer) {
  auto node = Node::Start(1);
  ASSERT_TRUE(node);
  EXPECT_EQ(node->transport->AddPeer(1, "127.0.0.1", 1).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(node->transport->AddPeer(2, "127.0.0.1", 1).ok());
  EXPECT_EQ(node->transport->AddPeer(2, "127.0.0.1", 1).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(node->transport->UpdatePeer(3, "127.0.0.1", 1).code(), StatusCode::kNotFound);
  EXPECT_TRUE(node->transport->RemovePeer(2).ok());
  EXPECT_EQ(node->transport->RemovePeer(2).code(), StatusCode::kNotFound);
  node->transport->Stop();
  node->transport->Stop();  // idempotent
  EXPECT_EQ(node->transport->AddPeer(4, "127.0.0.1", 1).code(), StatusCode::kFailedPrecondition);
}

TEST(PeerTransport, TwoTransportsExchangeMessagesInOrder) {
  auto a = Node::Start(1);
  auto b = Node::Start(2);
  ASSERT_TRUE(a && b);
  Connect(*a, 1, *b, 2);
  SendSequence(*a, 1, 2, 2000);
  SendSequence(*b, 2, 1, 500);
  ASSERT_TRUE(WaitFor([&] { return b->received_count() == 2000 && a->received_count() == 500; }));
  EXPECT_EQ(SequenceFrom(*b, 1), OneTo(2000));
  EXPECT_EQ(SequenceFrom(*a, 2), OneTo(500));
  for (const auto& [from, m] : b->received()) {
    EXPECT_EQ(m.from, 1u);
    EXPECT_EQ(m.to, 2u);
  }
  const auto sent = a->transport->metrics().peers.at(2);
  const auto got = b->transport->metrics().peers.at(1);
  EXPECT_EQ(sent.messages_sent, 2000u);
  EXPECT_EQ(got.messages_received, 2000u);
  EXPECT_EQ(sent.messages_dropped, 0u);
  EXPECT_EQ(sent.connects, 1u);
  EXPECT_GT(sent.bytes_sent, 0u);
  EXPECT_GT(got.bytes_received, 0u);
  ASSERT_TRUE(WaitFor([&] { return a->transport->metrics().peers.at(2).last_rtt.has_value(); }));
  const auto statuses = a->statuses();
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.front(), std::make_pair(raft::NodeId{2}, true));
}

TEST(PeerTransport, ThreeTransportsExchangeMessagesInOrder) {
  std::vector<std::unique_ptr<Node>> nodes;
  for (raft::NodeId id = 1; id <= 3; ++id)
    nodes.push_back(Node::Start(id));
  for (const auto& n : nodes)
    ASSERT_TRUE(n);
  for (raft::NodeId i = 1; i <= 3; ++i) {
    for (raft::NodeId j = 1; j <= 3; ++j) {
      if (i == j) continue;
      ASSERT_TRUE(nodes[i - 1]->transport->AddPeer(j, "127.0.0.1", nodes[j - 1]->port()).ok());
    }
  }
  ASSERT_TRUE(WaitFor([&] {
    for (raft::NodeId i = 1; i <= 3; ++i) {
      for (raft::NodeId j = 1; j <= 3; ++j) {
        if (i != j && !nodes[i - 1]->Connected(j)) return false;
      }
    }
    return true;
  }));
  for (raft::NodeId i = 1; i <= 3; ++i) {
    for (raft::NodeId j = 1; j <= 3; ++j) {
      if (i != j) SendSequence(*nodes[i - 1], i, j, 300);
    }
  }
  ASSERT_TRUE(WaitFor([&] {
    return std::all_of(nodes.begin(), nodes.end(),
                       [](const auto& n) { return n->received_count() == 600; });
  }));
  for (raft::NodeId i = 1; i <= 3; ++i) {
    for (raft::NodeId j = 1; j <= 3; ++j) {
      if (i == j) continue;
      EXPECT_EQ(SequenceFrom(*nodes[j - 1], i), OneTo(300)) << i << " -> " << j;
    }
  }
}

TEST(PeerTransport, LargeSnapshotChunksArriveWholeWithinTheFrameBound) {
  const auto small_frames = [](PeerTransportOptions& o) { o.max_frame_bytes = 3u << 20; };
  auto a = Node::Start(1, 0, kCluster, small_frames);
  auto b = Node::Start(2, 0, kCluster, small_frames);
  ASSERT_TRUE(a && b);
  Connect(*a, 1, *b, 2);
  std::vector<raft::Message> chunks;
  const std::uint64_t chunk_bytes = 1u << 20;
  for (std::uint64_t i = 0; i < 12; ++i) {
    raft::Message m = Heartbeat(1, 2, i + 1);
    m.type = raft::MessageType::kSnap;
    m.snapshot = testing::Chunk(100, 3, {1, 2}, i * chunk_bytes, 12 * chunk_bytes,
                                std::string(chunk_bytes, char('a' + i)));
    chunks.push_back(std::move(m));
  }
  a->transport->Send(chunks);
  ASSERT_TRUE(WaitFor([&] { return b->received_count() == 12; }));
  const auto received = b->received();
  for (std::uint64_t i = 0; i < 12; ++i) {
    ASSERT_TRUE(received[i].second.snapshot.has_value());
    EXPECT_EQ(received[i].second.snapshot->offset_bytes, i * chunk_bytes);
    EXPECT_EQ(received[i].second.snapshot->data, chunks[i].snapshot->data);
  }
  // At most two 1 MiB chunks fit in one 3 MiB frame.
  EXPECT_GE(a->transport->metrics().peers.at(2).frames_sent, 6u);
}

TEST(PeerTransport, MessageLargerThanAFrameIsDroppedAndCounted) {
  auto a = Node::Start(1);
  auto b = Node::Start(2);
  ASSERT_TRUE(a && b);
  Connect(*a, 1, *b, 2);
  raft::Message big = Heartbeat(1, 2, 1);
  big.context.assign(kDefaultMaxFrameBytes, 'x');
  a->transport->Send({big, Heartbeat(1, 2, 2)});
  ASSERT_TRUE(WaitFor([&] { return b->received_count() == 1; }));
  EXPECT_EQ(b->received()[0].second.commit, 2u);
  EXPECT_EQ(a->transport->metrics().peers.at(2).messages_dropped, 1u);
}

TEST(PeerTransport, ReconnectsAfterThePeerRestartsOnTheSamePort) {
  auto a = Node::Start(1);
  auto b = Node::Start(2);
  ASSERT_TRUE(a && b);
  Connect(*a, 1, *b, 2);
  const std::uint16_t b_port = b->port();
  b->transport->Stop();
  ASSERT_TRUE(
      WaitFor([&] { return a->statuses().back() == std::make_pair(raft::NodeId{2}, false); }));
  EXPECT_FALSE(a->Connected(2));
  // While the peer is away, messages to it are dropped and counted.
  a->transport->Send({Heartbeat(1, 2, 0)});
  EXPECT_GE(a->transport->metrics().peers.at(2).messages_dropped, 1u);

  b = Node::Start(2, b_port);
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->transport->AddPeer(1, "127.0.0.1", a->port()).ok());
  ASSERT_TRUE(WaitFor([&] { return a->Connected(2) && b->Connected(1); }));
  SendSequence(*a, 1, 2, 100);
  ASSERT_TRUE(WaitFor([&] { return b->received_count() == 100; }));
  EXPECT_EQ(SequenceFrom(*b, 1), OneTo(100));
  const auto m = a->transport->metrics().peers.at(2);
  EXPECT_EQ(m.connects, 2u);
  EXPECT_EQ(m.disconnects, 1u);
  EXPECT_EQ(a->statuses().back(), std::make_pair(raft::NodeId{2}, true));
}

TEST(PeerTransport, UpdatePeerRedialsTheNewAddress) {
  auto a = Node::Start(1);
  auto b = Node::Start(2);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->transport->AddPeer(2, "127.0.0.1", 1).ok());  // nothing listens on port 1
  ASSERT_TRUE(b->transport->AddPeer(1, "127.0.0.1", a->port()).ok());
  ASSERT_TRUE(a->transport->UpdatePeer(2, "127.0.0.1", b->port()).ok());
  ASSERT_TRUE(WaitFor([&] { return a->Connected(2); }));
  a->transport->Send({Heartbeat(1, 2, 7)});
  ASSERT_TRUE(WaitFor([&] { return b->received_count() == 1; }));
}

TEST(PeerTransport, WrongClusterIdIsRejectedAndLoggedWhileOthersAreServed) {
  CapturedLog log;
  auto a = Node::Start(1);
  auto b = Node::Start(2);
  auto stranger = Node::Start(3, 0, /*cluster=*/0xbad);
  ASSERT_TRUE(a && b && stranger);
  ASSERT_TRUE(a->transport->AddPeer(3, "127.0.0.1", stranger->port()).ok());
  ASSERT_TRUE(stranger->transport->AddPeer(1, "127.0.0.1", a->port()).ok());
  Connect(*a, 1, *b, 2);
  ASSERT_TRUE(WaitFor([&] {
    return a->transport->metrics().inbound_rejected >= 1 &&
           stranger->transport->metrics().inbound_rejected >= 1;
  }));
  EXPECT_TRUE(log.Contains("rejected: cluster id mismatch (want 193, got 2989)"));
  EXPECT_TRUE(log.Contains("rejected by the peer: cluster id mismatch (want 2989, got 193)"));
  EXPECT_FALSE(a->Connected(3));
  EXPECT_FALSE(stranger->Connected(1));
  SendSequence(*b, 2, 1, 50);
  ASSERT_TRUE(WaitFor([&] { return a->received_count() == 50; }));
  EXPECT_TRUE(stranger->statuses().empty());
}

TEST(PeerTransport, HelloFromAnUnknownPeerIsRejected) {
  CapturedLog log;
  auto a = Node::Start(1);
  auto b = Node::Start(2);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(b->transport->AddPeer(1, "127.0.0.1", a->port()).ok());  // a does not know b
  ASSERT_TRUE(WaitFor([&] { return a->transport->metrics().inbound_rejected >= 1; }));
  EXPECT_TRUE(log.Contains("rejected: node 2 is not a known peer"));
  // Once a adds b (a member being added), b's next dial is accepted.
  ASSERT_TRUE(a->transport->AddPeer(2, "127.0.0.1", b->port()).ok());
  ASSERT_TRUE(WaitFor([&] { return b->Connected(1) && a->Connected(2); }));
}

TEST(PeerTransport, RemovePeerClosesBothDirectionsAndRefusesItsRedials) {
  auto a = Node::Start(1);
  auto b = Node::Start(2);
  ASSERT_TRUE(a && b);
  Connect(*a, 1, *b, 2);
  ASSERT_TRUE(a->transport->RemovePeer(2).ok());
  ASSERT_TRUE(
      WaitFor([&] { return a->statuses().back() == std::make_pair(raft::NodeId{2}, false); }));
  // b loses its connection to a, redials, and is refused as no longer known.
  ASSERT_TRUE(WaitFor([&] { return a->transport->metrics().inbound_rejected >= 1; }));
  EXPECT_FALSE(b->Connected(1));
  EXPECT_EQ(a->transport->metrics().peers.count(2), 0u);
  a->transport->Send({Heartbeat(1, 2, 1)});
  EXPECT_EQ(a->transport->metrics().messages_dropped_unknown_peer, 1u);
}

// --- raw sockets -----------------------------------------------------------

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

sockaddr_in Loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

int RawConnect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in addr = Loopback(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until the peer closes (true) or 20 s pass (false).
bool ReadsUntilClosed(int fd) {
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return true;
  }
  return false;
}

void WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    ASSERT_GT(n, 0);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

TEST(PeerTransport, GarbageFromARawSocketClosesOnlyThatConnection) {
  CapturedLog log;
  auto a = Node::Start(1);
  auto b = Node::Start(2);
  ASSERT_TRUE(a && b);
  Connect(*a, 1, *b, 2);

  Fd garbage(RawConnect(a->port()));
  ASSERT_GE(garbage.fd, 0);
  WriteAll(garbage.fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(ReadsUntilClosed(garbage.fd));

  Fd oversized(RawConnect(a->port()));
  ASSERT_GE(oversized.fd, 0);
  WriteAll(oversized.fd, EncodeFrameHeader(FrameType::kHello, 0xfffffff0u, 0));
  EXPECT_TRUE(ReadsUntilClosed(oversized.fd));

  Fd bad_crc(RawConnect(a->port()));
  ASSERT_GE(bad_crc.fd, 0);
  std::string hello;
  AppendFrame(hello, FrameType::kHello, EncodeHello({kProtocolVersion, kCluster, 2, 1}));
  hello.back() ^= 0x40;
  WriteAll(bad_crc.fd, hello);
  EXPECT_TRUE(ReadsUntilClosed(bad_crc.fd));

  EXPECT_GE(a->transport->metrics().inbound_protocol_errors, 3u);
  EXPECT_TRUE(log.Contains("above max_frame_bytes"));
  EXPECT_TRUE(log.Contains("bad checksum"));
  // The established peer connection is untouched and the listener still serves.
  EXPECT_TRUE(a->Connected(2));
  EXPECT_TRUE(b->Connected(1));
  SendSequence(*b, 2, 1, 20);
  ASSERT_TRUE(WaitFor([&] { return a->received_count() == 20; }));
  EXPECT_EQ(a->transport->metrics().peers.at(2).disconnects, 0u);
}

TEST(PeerTransport, SendQueueOverflowDropsAndCounts) {
  auto a = Node::Start(1, 0, kCluster,
                       [](PeerTransportOptions& o) { o.max_queued_messages_per_peer = 8; });
  auto b = Node::Start(2);
  ASSERT_TRUE(a && b);
  Connect(*a, 1, *b, 2);
  std::vector<raft::Message> burst;
  for (std::uint64_t seq = 1; seq <= 1000; ++seq)
    burst.push_back(Heartbeat(1, 2, seq));
  a->transport->Send(std::move(burst));  // one call: the queue cannot drain meanwhile
  EXPECT_EQ(a->transport->metrics().peers.at(2).messages_dropped, 992u);
  ASSERT_TRUE(WaitFor([&] { return b->received_count() == 8; }));
  EXPECT_EQ(SequenceFrom(*b, 1), OneTo(8));

  a->transport->Send({Heartbeat(1, 99, 1)});
  EXPECT_EQ(a->transport->metrics().messages_dropped_unknown_peer, 1u);
}

TEST(PeerTransport, QueueByteBoundDropsAndCounts) {
  auto a = Node::Start(1, 0, kCluster,
                       [](PeerTransportOptions& o) { o.max_queued_bytes_per_peer = 10000; });
  auto b = Node::Start(2);
  ASSERT_TRUE(a && b);
  Connect(*a, 1, *b, 2);
  std::vector<raft::Message> burst;
  for (std::uint64_t seq = 1; seq <= 10; ++seq) {
    burst.push_back(Heartbeat(1, 2, seq));
    burst.back().context.assign(3000, 'c');  // three fit in 10000 bytes
  }
  a->transport->Send(std::move(burst));
  EXPECT_EQ(a->transport->metrics().peers.at(2).messages_dropped, 7u);
  ASSERT_TRUE(WaitFor([&] { return b->received_count() == 3; }));
}

TEST(PeerTransport, APeerThatNeverReadsIsClosedByTheWriteTimeout) {
  CapturedLog log;
  // A raw listener with a tiny receive buffer that answers the hello and then never
  // reads again.
  Fd listener(::socket(AF_INET, SOCK_STREAM, 0));
  const int small = 4096;
  ASSERT_EQ(::setsockopt(listener.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  sockaddr_in addr = Loopback(0);
  ASSERT_EQ(::bind(listener.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.fd, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::uint16_t port = ntohs(addr.sin_port);

  auto a = Node::Start(1, 0, kCluster, [](PeerTransportOptions& o) {
    o.write_timeout = 200ms;
    o.socket_send_buffer_bytes = 4096;
    o.reconnect_backoff_min = 10s;  // one connection is enough for this test
    o.reconnect_backoff_max = 10s;
  });
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->transport->AddPeer(2, "127.0.0.1", port).ok());
  Fd conn(::accept(listener.fd, nullptr, nullptr));
  ASSERT_GE(conn.fd, 0);
  FrameDecoder decoder;
  std::optional<Frame> hello;
  while (!hello) {
    char buf[256];
    const ssize_t n = ::read(conn.fd, buf, sizeof buf);
    ASSERT_GT(n, 0);
    decoder.Feed(std::string_view(buf, static_cast<std::size_t>(n)));
    auto next = decoder.Next();
    ASSERT_TRUE(next.ok());
    hello = std::move(next).value();
  }
  ASSERT_EQ(hello->type, FrameType::kHello);
  std::string ack;
  AppendFrame(ack, FrameType::kHello, EncodeHello({kProtocolVersion, kCluster, 2, 1}));
  WriteAll(conn.fd, ack);
  ASSERT_TRUE(WaitFor([&] { return a->Connected(2); }));

  std::vector<raft::Message> bulk;
  for (std::uint64_t seq = 1; seq <= 32; ++seq) {
    bulk.push_back(Heartbeat(1, 2, seq));
    bulk.back().context.assign(256 << 10, 'z');
  }
  a->transport->Send(std::move(bulk));
  ASSERT_TRUE(
      WaitFor([&] { return a->statuses().back() == std::make_pair(raft::NodeId{2}, false); }));
  EXPECT_FALSE(a->Connected(2));
  EXPECT_EQ(a->transport->metrics().peers.at(2).disconnects, 1u);
  EXPECT_TRUE(log.Contains("peer 2 disconnected: write timed out after 200 ms (peer not reading)"));
  EXPECT_TRUE(ReadsUntilClosed(conn.fd));
}

}  // namespace
}  // namespace tri::net
