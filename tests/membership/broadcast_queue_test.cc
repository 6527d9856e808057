// The piggyback queue's order and retransmission limits.

#include "membership/broadcast_queue.h"

#include <gtest/gtest.h>

#include <string>

#include "membership/wire.h"

namespace tri::membership {
namespace {

// How many packets of room for everything carry `member`'s update before it is dropped.
int TransmissionsUntilDropped(BroadcastQueue& queue, const std::string& member, int limit) {
  int sent = 0;
  while (queue.Contains(member)) {
    wire::PacketBuilder packet(1400);
    queue.Fill(packet, limit);
    ++sent;
    EXPECT_LE(sent, 1000) << "an update is never dropped";
    if (sent > 1000) break;
  }
  return sent;
}

TEST(BroadcastQueueTest, UpdateIsDroppedAfterLimitTransmissions) {
  BroadcastQueue queue;
  queue.Enqueue("m1", wire::EncodeMessage(wire::Alive{"m1", 1, false, {}}));
  EXPECT_EQ(TransmissionsUntilDropped(queue, "m1", 5), 5);
  EXPECT_TRUE(queue.empty());
}

TEST(BroadcastQueueTest, LimitFactorMultipliesTheTransmissions) {
  BroadcastQueue queue;
  queue.Enqueue("m1", wire::EncodeMessage(wire::Alive{"m1", 2, false, {}}), 3);
  EXPECT_EQ(TransmissionsUntilDropped(queue, "m1", 5), 15);
}

TEST(BroadcastQueueTest, NewerUpdateReplacesOlderAndRestartsItsCount) {
  BroadcastQueue queue;
  queue.Enqueue("m1", wire::EncodeMessage(wire::Alive{"m1", 1, false, {}}));
  wire::PacketBuilder first(1400);
  EXPECT_EQ(queue.Fill(first, 2), 1);
  queue.Enqueue("m1", wire::EncodeMessage(wire::Alive{"m1", 2, false, {}}));
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(TransmissionsUntilDropped(queue, "m1", 2), 2);
}

TEST(BroadcastQueueTest, LeastTransmittedThenNewestGoFirst) {
  BroadcastQueue queue;
  const std::string old_update = wire::EncodeMessage(wire::Alive{"old", 1, false, {}});
  queue.Enqueue("old", old_update);
  // Room for exactly one update per packet.
  const std::size_t room = 1 + 1 + old_update.size();
  wire::PacketBuilder first(room);
  ASSERT_EQ(queue.Fill(first, 10), 1);  // "old" now sent once
  queue.Enqueue("new1", wire::EncodeMessage(wire::Alive{"new", 1, false, {}}));
  queue.Enqueue("new2", wire::EncodeMessage(wire::Alive{"new", 2, false, {}}));
  wire::PacketBuilder second(room);
  ASSERT_EQ(queue.Fill(second, 10), 1);
  // new2 (never sent, newest) went first; new1 and old are still waiting.
  EXPECT_TRUE(queue.Contains("new1"));
  EXPECT_TRUE(queue.Contains("old"));
  EXPECT_EQ(second.Finish(), wire::EncodePacket(std::vector<std::string>{
                                 wire::EncodeMessage(wire::Alive{"new", 2, false, {}})}));
}

}  // namespace
}  // namespace tri::membership
