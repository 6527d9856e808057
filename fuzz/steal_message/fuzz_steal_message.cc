// Arbitrary bytes as a work-stealing message from the network: through
// DecodeStealMessage, then, when accepted, into a StealNode's Receive. Nothing may
// crash, hang or assert. Checked properties:
//   - an accepted message is a decode-encode-decode fixed point;
//   - Receive either refuses the message and leaves the node's queue unchanged,
//     or accepts it: every task that came in is queued or goes out again, a
//     grant adds exactly its tasks, an offer (share) is kept or declined back to
//     its sender whole, a request takes at most half of the stealable tasks
//     rounded up (and answers exactly once).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "base/rng.h"
#include "routing/steal_codec.h"
#include "routing/steal_node.h"

namespace {

using tri::routing::DecodeStealMessage;
using tri::routing::EncodeStealMessage;
using tri::routing::StealKind;
using tri::routing::StealMessage;
using tri::routing::StealNode;

bool Same(const StealMessage& a, const StealMessage& b) {
  return a.kind == b.kind && a.from == b.from && a.to == b.to && a.steal_id == b.steal_id &&
         a.max_tasks == b.max_tasks && a.queued == b.queued && a.tasks == b.tasks;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = DecodeStealMessage(bytes);
  if (!decoded.ok()) return 0;
  const StealMessage& m = *decoded;
  auto again = DecodeStealMessage(EncodeStealMessage(m));
  TRI_ASSERT(again.ok());
  TRI_ASSERT(Same(*again, m));

  if (m.to == "peer-a" || m.to == "peer-b") return 0;  // the harness's own peers
  tri::SeededRng rng(size);
  tri::routing::StealOptions options;
  options.max_queued_tasks = 1000;
  auto node = StealNode::Create(options, {m.to, "z"}, &rng);
  TRI_ASSERT(node.ok());
  // peer-a is fast: a declined offer may be offered to it again.
  TRI_ASSERT(node->SetPeers({{"peer-a", "z", 4.0}, {"peer-b", "y"}}).ok());
  for (std::uint64_t id = 1; id <= 7; ++id) {
    TRI_ASSERT(node->Enqueue({id, id * 3, id % 3 == 0}, 0).ok());
  }
  node->TakeMessages();
  const std::size_t queued = node->queue().size();
  const std::size_t stealable = node->queue().stealable();
  const tri::Status st = node->Receive(m, 1);
  if (!st.ok()) {
    TRI_ASSERT(node->queue().size() == queued);
    TRI_ASSERT(node->TakeMessages().empty());
    return 0;
  }
  const auto out = node->TakeMessages();
  // Every task is in one place: what came in is queued or goes out again.
  std::size_t sent = 0;
  for (const StealMessage& o : out)
    sent += o.tasks.size();
  TRI_ASSERT(node->queue().size() + sent == queued + m.tasks.size());
  if (m.kind == StealKind::kGrant) {
    TRI_ASSERT(node->queue().size() == queued + m.tasks.size());
  }
  if (m.kind == StealKind::kShare) {
    // Kept, or declined back to its sender.
    TRI_ASSERT(sent == 0 || (out.size() == 1 && out.front().kind == StealKind::kDecline &&
                             out.front().to == m.from && out.front().tasks == m.tasks));
  }
  if (m.kind == StealKind::kRequest) {
    TRI_ASSERT(!out.empty() && out.front().to == m.from);
    TRI_ASSERT(out.front().tasks.size() <= (stealable + 1) / 2);
    TRI_ASSERT(node->queue().size() + out.front().tasks.size() == queued);
  }
  return 0;
}
