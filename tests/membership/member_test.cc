// One member's rules, driven by hand-made packets.

#include "membership/member.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "base/rng.h"
#include "membership/wire.h"

namespace tri::membership {
namespace {

using wire::Message;

// Nothing answers a harness member's probes, so out-of-turn confirmation probes
// would add suspicions of their own; tests that want them say so.
Config Quiet() {
  Config config;
  config.confirmation_probes = 0;
  return config;
}

struct Harness {
  explicit Harness(Config c = Quiet(), const std::string& name = "a") : rng(7), config(c) {
    auto created = Member::Create(config, MemberInfo{name, {}}, &rng, 0);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    member.emplace(std::move(created).value());
  }

  // Runs the timers due first, as a driver would, then delivers one packet.
  void Feed(const std::string& from, const std::vector<Message>& messages, Millis now) {
    RunUntil(now);
    const Status s = member->Receive(from, wire::EncodePacket(messages), now);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Makes the member know peers `names` (alive, incarnation 0).
  void Know(const std::vector<std::string>& names, Millis now) {
    for (const std::string& n : names)
      Feed(n, {wire::Alive{n, 1, false, {}}}, now);
  }

  // Runs every timer up to `until`, calling Tick exactly at each deadline, and
  // keeps what was sent. `answer` acks every ping at once.
  void RunUntil(Millis until, bool answer = false) {
    for (;;) {
      const Millis next = member->NextDeadline();
      if (next > until) break;
      member->Tick(next);
      Collect(next, answer);
    }
  }

  void Collect(Millis now, bool answer) {
    for (Packet& p : member->TakePackets()) {
      auto decoded = wire::DecodePacket(p.bytes, wire::Limits::From(config));
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      sent.push_back(Sent{now, p.to, *decoded});
      if (answer) {
        for (const Message& m : *decoded) {
          if (const auto* ping = std::get_if<wire::Ping>(&m)) {
            Feed(p.to, {wire::Ack{ping->seq}}, now);
          }
        }
      }
    }
    for (Event& e : member->TakeEvents())
      events.push_back(std::move(e));
  }

  struct Sent {
    Millis at;
    std::string to;
    std::vector<Message> messages;
  };

  template <typename T>
  std::vector<Sent> SentWith() const {
    std::vector<Sent> out;
    for (const Sent& s : sent) {
      if (std::any_of(s.messages.begin(), s.messages.end(),
                      [](const Message& m) { return std::holds_alternative<T>(m); })) {
        out.push_back(s);
      }
    }
    return out;
  }

  SeededRng rng;
  Config config;
  std::optional<Member> member;
  std::vector<Sent> sent;
  std::vector<Event> events;
};

TEST(MemberCreate, AnInvalidConfigIsRefusedNamingTheField) {
  SeededRng rng(1);
  Config config;
  config.probe_timeout = config.probe_interval;
  auto m = Member::Create(config, MemberInfo{"a", {}}, &rng, 0);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("probe_timeout"), std::string::npos);
  config = Config{};
  config.gossip_fanout = 0;
  m = Member::Create(config, MemberInfo{"a", {}}, &rng, 0);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("gossip_fanout"), std::string::npos);
  config = Config{};
  config.max_packet_bytes = 100;
  m = Member::Create(config, MemberInfo{"a", {}}, &rng, 0);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("max_packet_bytes"), std::string::npos);
}

TEST(MemberCreate, AnEmptyNameOrBadMetadataIsRefused) {
  SeededRng rng(1);
  auto m = Member::Create(Config{}, MemberInfo{"", {}}, &rng, 0);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("member name: empty"), std::string::npos);
  Metadata meta;
  meta.capacity = 0;
  m = Member::Create(Config{}, MemberInfo{"a", meta}, &rng, 0);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("metadata.capacity"), std::string::npos);
  meta = Metadata{};
  meta.address.assign(600, 'x');
  m = Member::Create(Config{}, MemberInfo{"a", meta}, &rng, 0);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("max_metadata_bytes"), std::string::npos);
  m = Member::Create(Config{}, MemberInfo{"a", {}}, nullptr, 0);
  EXPECT_FALSE(m.ok());
}

TEST(MemberRules, ARefutationRaisesTheIncarnationAndTellsTheAccuserDirectly) {
  Harness h;
  h.member->Join({}, 0);
  h.Know({"b", "c"}, 0);
  const std::uint64_t before = h.member->Incarnation();
  h.Feed("c", {wire::Suspect{"a", before, "b"}}, 10);
  EXPECT_EQ(h.member->Incarnation(), before + 1);
  h.Collect(10, false);
  auto alive_sent = h.SentWith<wire::Alive>();
  ASSERT_FALSE(alive_sent.empty());
  EXPECT_EQ(alive_sent.front().to, "b");
  const auto& alive = std::get<wire::Alive>(alive_sent.front().messages.front());
  EXPECT_EQ(alive.name, "a");
  EXPECT_EQ(alive.incarnation, before + 1);
  // An older accusation changes nothing.
  h.Feed("c", {wire::Suspect{"a", before, "c"}}, 20);
  EXPECT_EQ(h.member->Incarnation(), before + 1);
  // A death is refuted the same way.
  h.Feed("c", {wire::Dead{"a", before + 1, "c"}}, 30);
  EXPECT_EQ(h.member->Incarnation(), before + 2);
  EXPECT_EQ(h.member->Find("a")->state, State::kAlive);
}

TEST(MemberRules, WithoutConfirmationsASuspicionTimesOutAtTheMaximum) {
  Harness h;  // not joined: no probing in turn, only the suspicion runs
  h.Know({"b", "c", "d", "e", "f", "g", "h", "i", "j"}, 0);
  h.Feed("b", {wire::Suspect{"c", 1, "b"}}, 1000);
  EXPECT_EQ(h.member->Find("c")->state, State::kSuspect);
  EXPECT_EQ(h.member->Find("c")->lifecycle, Lifecycle::kDegraded);
  // 10 live members: min 1500 ms, max 9000 ms.
  h.RunUntil(9999);
  EXPECT_EQ(h.member->Find("c")->state, State::kSuspect);
  h.RunUntil(10000);
  EXPECT_EQ(h.member->Find("c")->state, State::kDead);
  const auto dead = std::find_if(h.events.begin(), h.events.end(),
                                 [](const Event& e) { return e.kind == Event::Kind::kDead; });
  ASSERT_NE(dead, h.events.end());
  EXPECT_EQ(dead->member, "c");
  EXPECT_EQ(dead->at, 10000);
  EXPECT_NE(dead->cause.find("suspicion started by b at 1000 ms, 0 of 3 confirmations"),
            std::string::npos)
      << dead->cause;
  EXPECT_NE(dead->cause.find("after 9000 ms"), std::string::npos) << dead->cause;
  // The death is gossiped.
  h.RunUntil(10100);
  bool gossiped = false;
  for (const auto& s : h.sent) {
    for (const Message& m : s.messages) {
      if (const auto* d = std::get_if<wire::Dead>(&m)) gossiped |= d->name == "c" && d->from == "a";
    }
  }
  EXPECT_TRUE(gossiped);
}

// When "a" declares "c" dead after a suspicion by "b" at 1000 ms and `confirmers`
// confirming it 2 ms later.
Millis DeathTime(const std::vector<std::string>& confirmers, std::string* cause) {
  Harness h;
  h.Know({"b", "c", "d", "e", "f", "g", "h", "i", "j"}, 0);
  h.Feed("b", {wire::Suspect{"c", 1, "b"}}, 1000);
  for (const std::string& from : confirmers)
    h.Feed(from, {wire::Suspect{"c", 1, from}}, 1002);
  h.RunUntil(20000);
  for (const Event& e : h.events) {
    if (e.kind == Event::Kind::kDead) {
      *cause = e.cause;
      return e.at;
    }
  }
  return -1;
}

TEST(MemberRules, IndependentConfirmationsShrinkTheSuspicionTimeout) {
  std::string cause;
  // 10 live members: min 1500 ms, max 9000 ms, k = 3.
  EXPECT_EQ(DeathTime({}, &cause), 10000);
  EXPECT_EQ(DeathTime({"d"}, &cause), 1000 + 5250);
  EXPECT_EQ(DeathTime({"d", "e"}, &cause), 1000 + 3056);
  EXPECT_EQ(DeathTime({"d", "e", "f"}, &cause), 2500);
  EXPECT_NE(cause.find("3 of 3 confirmations (d, e, f)"), std::string::npos) << cause;
  Harness h;
  h.Know({"b", "c", "d", "e", "f", "g", "h", "i", "j"}, 0);
  h.Feed("b", {wire::Suspect{"c", 1, "b"}}, 1000);
  h.Feed("e", {wire::Suspect{"c", 1, "e"}}, 1002);
  h.RunUntil(20000);
  const auto dead = std::find_if(h.events.begin(), h.events.end(),
                                 [](const Event& e) { return e.kind == Event::Kind::kDead; });
  ASSERT_NE(dead, h.events.end());
  EXPECT_EQ(dead->accusers, (std::vector<std::string>{"b", "e"}));
  EXPECT_EQ(dead->suspicion_started, 1000);
  EXPECT_EQ(dead->suspicion_timeout, 5250);
  // Neither the first suspecter again nor a repeated confirmer counts; more than k
  // confirmations change nothing.
  EXPECT_EQ(DeathTime({"b", "d", "d"}, &cause), 1000 + 5250);
  EXPECT_EQ(DeathTime({"d", "e", "f", "g", "h"}, &cause), 2500);
}

TEST(MemberRules, ASuspectThatAnswersTheVerificationProbeIsNotDeclaredDead) {
  Harness h;
  h.Know({"b", "c", "d", "e", "f", "g", "h", "i", "j"}, 0);
  h.Feed("b", {wire::Suspect{"c", 1, "b"}}, 1000);
  // One probe interval before its own timeout (10000 ms) the member probes the
  // suspect itself, telling it of the suspicion first.
  h.RunUntil(9000);
  std::optional<Harness::Sent> verify;
  for (const auto& s : h.sent) {
    if (s.to == "c" && s.at == 9000) verify = s;
  }
  ASSERT_TRUE(verify.has_value());
  ASSERT_GE(verify->messages.size(), 2u);
  EXPECT_EQ(std::get<wire::Suspect>(verify->messages[0]).name, "c");
  const auto seq = std::get<wire::Ping>(verify->messages[1]).seq;
  // Only the ack comes back (its refutation was lost): the member still does not
  // declare a member that answered it, and starts a new cycle.
  h.Feed("c", {wire::Ack{seq}}, 9100);
  h.RunUntil(12000);
  EXPECT_EQ(h.member->Find("c")->state, State::kSuspect);
  for (const Event& e : h.events)
    EXPECT_NE(e.kind, Event::Kind::kDead);
  // The refutation arrives.
  h.Feed("c", {wire::Alive{"c", 2, false, {}}}, 12000);
  EXPECT_EQ(h.member->Find("c")->state, State::kAlive);
}

TEST(MemberRules, AStaleAccusationIsAnsweredWithTheCurrentIncarnation) {
  Harness h;
  h.member->Join({}, 0);
  h.Know({"b", "c"}, 0);
  h.Feed("b", {wire::Suspect{"a", 1, "b"}}, 10);  // refuted: incarnation 2
  ASSERT_EQ(h.member->Incarnation(), 2u);
  h.Collect(10, false);
  h.sent.clear();
  // "c" still gossips the old suspicion: it gets the refutation directly.
  h.Feed("c", {wire::Suspect{"a", 1, "b"}}, 20);
  h.Collect(20, false);
  ASSERT_FALSE(h.sent.empty());
  EXPECT_EQ(h.sent.front().to, "c");
  EXPECT_EQ(std::get<wire::Alive>(h.sent.front().messages.front()).incarnation, 2u);
  EXPECT_EQ(h.member->Incarnation(), 2u);
}

TEST(MemberRules, ARefutationEndsTheSuspicion) {
  Harness h;
  h.Know({"b", "c", "d", "e", "f"}, 0);
  h.Feed("b", {wire::Suspect{"c", 1, "b"}}, 1000);
  h.Feed("c", {wire::Alive{"c", 2, false, {}}}, 1100);
  EXPECT_EQ(h.member->Find("c")->state, State::kAlive);
  EXPECT_EQ(h.member->Find("c")->incarnation, 2u);
  h.RunUntil(60000);
  EXPECT_EQ(h.member->Find("c")->state, State::kAlive);
  h.Collect(60000, false);
  EXPECT_TRUE(std::any_of(h.events.begin(), h.events.end(), [](const Event& e) {
    return e.kind == Event::Kind::kAlive && e.member == "c";
  }));
}

// Runs `h` (joined, knowing b, c, d) until its first suspicion; returns the time.
Millis RunUntilFirstSuspicion(Harness& h) {
  for (Millis t = 0; t < 20000; t += 1) {
    h.RunUntil(t);
    for (const Event& e : h.events) {
      if (e.kind == Event::Kind::kSuspected) return e.at;
    }
  }
  return -1;
}

TEST(MemberRules, WithTheBuddySystemASuspectedMemberIsToldFirst) {
  Harness h;
  h.member->Join({}, 0);
  h.Know({"b", "c", "d", "e", "f", "g"}, 0);
  const Millis at = RunUntilFirstSuspicion(h);
  ASSERT_GE(at, 0);
  const std::string target = h.events.back().member;
  // The first packet after the ping-reqs of that tick goes to the target and starts
  // with the suspicion.
  std::vector<Harness::Sent> that_tick;
  for (const auto& s : h.sent) {
    if (s.at == at) that_tick.push_back(s);
  }
  ASSERT_FALSE(that_tick.empty());
  EXPECT_EQ(that_tick.front().to, target);
  const auto* suspect = std::get_if<wire::Suspect>(&that_tick.front().messages.front());
  ASSERT_NE(suspect, nullptr);
  EXPECT_EQ(suspect->name, target);
  EXPECT_EQ(suspect->from, "a");
}

TEST(MemberRules, AProbeWithoutAnAckGoesIndirectThenSuspects) {
  Harness h;
  h.member->Join({}, 0);
  h.Know({"b", "c", "d", "e"}, 0);
  const Millis at = RunUntilFirstSuspicion(h);
  ASSERT_GE(at, 0);
  const std::string target = h.events.back().member;
  const auto ping_reqs = h.SentWith<wire::PingReq>();
  ASSERT_EQ(ping_reqs.size(), 3u);  // k = indirect_checks
  for (const auto& s : ping_reqs) {
    EXPECT_NE(s.to, target);
    EXPECT_EQ(std::get<wire::PingReq>(s.messages.front()).target, target);
  }
  const auto pings = h.SentWith<wire::Ping>();
  ASSERT_FALSE(pings.empty());
  EXPECT_EQ(ping_reqs.front().at - pings.front().at, h.config.probe_timeout);
  EXPECT_EQ(at - pings.front().at, h.config.probe_interval);
  EXPECT_NE(h.events.back().cause.find("direct and 3 indirect"), std::string::npos);
}

TEST(MemberRules, AnAckedProbeRaisesNoSuspicion) {
  Harness h;
  h.member->Join({}, 0);
  h.Know({"b", "c", "d", "e"}, 0);
  h.RunUntil(20000, /*answer=*/true);
  for (const Event& e : h.events)
    EXPECT_NE(e.kind, Event::Kind::kSuspected) << e.member;
  EXPECT_GE(h.SentWith<wire::Ping>().size(), 15u);
  EXPECT_EQ(h.member->HealthScore(), 0);
}

TEST(MemberRules, ARelayForwardsTheAckOrNacksInTime) {
  Harness h;  // not joined: it probes no one itself
  h.Know({"b", "c"}, 0);
  h.Feed("b", {wire::PingReq{77, "c"}}, 100);
  h.Collect(100, false);
  const auto pings = h.SentWith<wire::Ping>();
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].to, "c");
  const auto relay_seq = std::get<wire::Ping>(pings[0].messages[0]).seq;
  h.Feed("c", {wire::Ack{relay_seq}}, 150);
  h.Collect(150, false);
  auto acks = h.SentWith<wire::Ack>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].to, "b");
  EXPECT_EQ(std::get<wire::Ack>(acks[0].messages[0]).seq, 77u);
  // A second request that gets no ack is nacked after 80% of the probe timeout.
  h.sent.clear();
  h.Feed("b", {wire::PingReq{78, "c"}}, 200);
  h.RunUntil(200 + h.config.probe_timeout);
  const auto nacks = h.SentWith<wire::Nack>();
  ASSERT_EQ(nacks.size(), 1u);
  EXPECT_EQ(nacks[0].to, "b");
  EXPECT_EQ(nacks[0].at, 200 + h.config.probe_timeout * 4 / 5);
}

TEST(MemberRules, MissingNacksRaiseTheLocalHealthScore) {
  Harness h;
  h.member->Join({}, 0);
  h.Know({"b", "c", "d", "e"}, 0);
  ASSERT_GE(RunUntilFirstSuspicion(h), 0);
  // Three helpers asked, none nacked: the member doubts itself by 3.
  EXPECT_EQ(h.member->HealthScore(), 3);
}

// Drives a joined member with peers whose pings are answered; stalls it for
// `stall` ms at `stall_at` and returns the time of the first in-turn ping after.
Millis FirstPingAfterStall(Config config, int* health_after) {
  Harness h(config);
  h.member->Join({}, 0);
  h.Know({"b", "c", "d", "e"}, 0);
  h.RunUntil(5000, true);
  const Millis wake = h.member->NextDeadline() + 3000;
  h.member->Tick(wake);
  *health_after = h.member->HealthScore();
  h.sent.clear();
  h.Collect(wake, true);
  h.RunUntil(wake + 10000, true);
  const auto pings = h.SentWith<wire::Ping>();
  return pings.empty() ? -1 : pings.front().at - wake;
}

TEST(MemberRules, LocalHealthSlowsProbingAfterAStall) {
  int health = 0;
  const Millis with_lha = FirstPingAfterStall(Quiet(), &health);
  EXPECT_EQ(health, 1);
  EXPECT_EQ(with_lha, 2000);  // probe_interval * (score + 1)
  Config plain = Quiet();
  plain.lifeguard_local_health = false;
  const Millis without = FirstPingAfterStall(plain, &health);
  EXPECT_EQ(health, 0);
  EXPECT_EQ(without, 1000);
}

TEST(MemberRules, AProbeCutShortByAStallRaisesNoSuspicion) {
  Harness h;
  h.member->Join({}, 0);
  h.Know({"b", "c", "d", "e"}, 0);
  // Run until the first ping leaves, then stall past its whole probe.
  for (Millis t = 0; h.SentWith<wire::Ping>().empty(); t += 10)
    h.RunUntil(t);
  const std::uint64_t incarnation = h.member->Incarnation();
  h.member->Tick(h.member->NextDeadline() + 2000);
  h.Collect(0, false);
  for (const Event& e : h.events)
    EXPECT_NE(e.kind, Event::Kind::kSuspected);
  EXPECT_TRUE(h.SentWith<wire::PingReq>().empty());
  // It may have been suspected itself: it refutes pre-emptively.
  EXPECT_EQ(h.member->Incarnation(), incarnation + 1);
}

TEST(MemberRules, ASuspicionDueDuringAStallWaitsForTheInbox) {
  Harness h;
  h.Know({"b", "c", "d", "e", "f"}, 0);
  h.Feed("b", {wire::Suspect{"c", 1, "b"}}, 1000);
  const Millis due = 1000 + 9000;  // 6 live members, no confirmations: the maximum
  h.RunUntil(due - 1);
  ASSERT_EQ(h.member->NextDeadline(), due);
  // The process wakes long after the suspicion was due; the refutation is in its inbox.
  h.member->Tick(due + 5000);
  EXPECT_EQ(h.member->Find("c")->state, State::kSuspect);
  h.Feed("c", {wire::Alive{"c", 2, false, {}}}, due + 5000);
  h.RunUntil(due + 20000);
  EXPECT_EQ(h.member->Find("c")->state, State::kAlive);
}

TEST(MemberRules, ALeaveIsGossipedAndPeersMarkTheMemberLeft) {
  Harness h;
  h.member->Join({}, 0);
  h.Know({"b", "c"}, 0);
  h.member->Leave(100);
  EXPECT_EQ(h.member->Find("a")->state, State::kLeft);
  EXPECT_EQ(h.member->Find("a")->lifecycle, Lifecycle::kLeaving);
  h.RunUntil(200);
  const auto leaves = h.SentWith<wire::Leave>();
  ASSERT_FALSE(leaves.empty());
  // A left member probes no one.
  h.sent.clear();
  h.RunUntil(10000);
  EXPECT_TRUE(h.SentWith<wire::Ping>().empty());

  Harness peer(Quiet(), "b");
  peer.Know({"a", "c"}, 0);
  const Message* leave = nullptr;
  for (const Message& m : leaves.front().messages) {
    if (std::holds_alternative<wire::Leave>(m)) leave = &m;
  }
  ASSERT_NE(leave, nullptr);
  peer.Feed("a", {*leave}, 300);
  EXPECT_EQ(peer.member->Find("a")->state, State::kLeft);
  EXPECT_EQ(peer.member->Find("a")->lifecycle, Lifecycle::kLeaving);
  peer.Collect(300, false);
  EXPECT_EQ(peer.events.back().kind, Event::Kind::kLeft);
  EXPECT_FALSE(h.member->UpdateMetadata(Metadata{}, 400).ok());
}

TEST(MemberRules, JoiningThroughASeedSendsStateAndCompletesOnTheReply) {
  Harness h;
  EXPECT_EQ(h.member->Find("a")->lifecycle, Lifecycle::kJoining);
  h.member->Join({"seed"}, 0);
  h.Collect(0, false);
  const auto requests = h.SentWith<wire::PushPull>();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].to, "seed");
  const auto& request = std::get<wire::PushPull>(requests[0].messages[0]);
  EXPECT_TRUE(request.join);
  EXPECT_TRUE(request.reply_wanted);
  ASSERT_EQ(request.entries.size(), 1u);
  EXPECT_TRUE(request.entries[0].joining);
  // No reply yet: the request is repeated.
  h.sent.clear();
  h.RunUntil(h.config.join_retry_interval);
  EXPECT_EQ(h.SentWith<wire::PushPull>().size(), 1u);
  EXPECT_EQ(h.member->Find("a")->lifecycle, Lifecycle::kJoining);
  // The seed's state arrives: joined, active, known to the seed's peers.
  wire::PushPull reply{false,
                       false,
                       {wire::StateEntry{"seed", 3, State::kAlive, false, {}},
                        wire::StateEntry{"x", 1, State::kAlive, false, {}}}};
  h.Feed("seed", {reply}, 1500);
  EXPECT_EQ(h.member->Find("a")->lifecycle, Lifecycle::kActive);
  EXPECT_EQ(h.member->Incarnation(), 1u);
  ASSERT_NE(h.member->Find("x"), nullptr);
  EXPECT_EQ(h.member->AliveCount(), 3u);
  // The reply asked for nothing back.
  h.sent.clear();
  h.Collect(1500, false);
  EXPECT_TRUE(h.SentWith<wire::PushPull>().empty());
}

TEST(MemberRules, ASeedAnswersAJoinWithItsWholeStateAndGossipsTheJoiner) {
  Harness h(Quiet(), "seed");
  h.member->Join({}, 0);
  h.Know({"b", "c"}, 0);
  wire::PushPull request{true, true, {wire::StateEntry{"new", 0, State::kAlive, true, {}}}};
  h.Feed("new", {request}, 100);
  h.Collect(100, false);
  const auto replies = h.SentWith<wire::PushPull>();
  ASSERT_EQ(replies.size(), 1u);
  const auto& reply = std::get<wire::PushPull>(replies[0].messages[0]);
  EXPECT_FALSE(reply.reply_wanted);
  EXPECT_EQ(reply.entries.size(), 4u);
  EXPECT_EQ(h.member->Find("new")->lifecycle, Lifecycle::kJoining);
  EXPECT_TRUE(std::any_of(h.events.begin(), h.events.end(), [](const Event& e) {
    return e.kind == Event::Kind::kJoined && e.member == "new";
  }));
}

TEST(MemberRules, ALargeStateIsSentInChunksWithinThePacketBound) {
  Harness h(Quiet(), "seed");
  h.member->Join({}, 0);
  std::vector<std::string> names;
  for (int i = 0; i < 300; ++i)
    names.push_back("member-with-a-long-name-" + std::to_string(i));
  h.Know(names, 0);
  h.Feed("new", {wire::PushPull{true, true, {}}}, 100);
  for (Packet& p : h.member->TakePackets())
    EXPECT_LE(p.bytes.size(), h.config.max_packet_bytes);
  h.sent.clear();
  h.Feed("new", {wire::PushPull{true, false, {}}}, 200);
  h.Collect(200, false);
  const auto chunks = h.SentWith<wire::PushPull>();
  ASSERT_GT(chunks.size(), 1u);
  std::size_t entries = 0;
  for (const auto& c : chunks) {
    const auto& pp = std::get<wire::PushPull>(c.messages[0]);
    EXPECT_FALSE(pp.reply_wanted);
    entries += pp.entries.size();
  }
  EXPECT_EQ(entries, 301u);
}

TEST(MemberRules, ARemoteDeathInAPushPullIsOnlyASuspicionHere) {
  Harness h;
  h.member->Join({}, 0);
  h.Know({"b", "c", "d"}, 0);
  h.Feed("b", {wire::PushPull{false, false, {wire::StateEntry{"c", 1, State::kDead, false, {}}}}},
         100);
  EXPECT_EQ(h.member->Find("c")->state, State::kSuspect);
}

TEST(MemberRules, AGossipedDeathNamesWhoDeclaredIt) {
  Harness h;
  h.Know({"b", "c", "d"}, 0);
  h.Feed("b", {wire::Dead{"c", 1, "d"}}, 100);
  h.Collect(100, false);
  EXPECT_EQ(h.member->Find("c")->state, State::kDead);
  EXPECT_EQ(h.member->Find("c")->lifecycle, Lifecycle::kFailed);
  EXPECT_EQ(h.events.back().kind, Event::Kind::kDead);
  EXPECT_EQ(h.events.back().cause, "declared dead by d");
  EXPECT_EQ(h.member->AliveCount(), 3u);
  // Older news about a dead member changes nothing; a newer alive brings it back.
  h.Feed("b", {wire::Alive{"c", 1, false, {}}}, 200);
  EXPECT_EQ(h.member->Find("c")->state, State::kDead);
  h.Feed("c", {wire::Alive{"c", 2, false, {}}}, 300);
  EXPECT_EQ(h.member->Find("c")->state, State::kAlive);
}

TEST(MemberRules, MetadataUpdatesRaiseTheIncarnationAndDeriveTheLifecycle) {
  Harness h;
  h.member->Join({}, 0);
  Metadata meta;
  meta.role = Role::kLearner;
  meta.load = 5;
  meta.syncing = true;
  ASSERT_TRUE(h.member->UpdateMetadata(meta, 10).ok());
  EXPECT_EQ(h.member->Incarnation(), 2u);  // join completion, then the update
  EXPECT_EQ(h.member->Find("a")->lifecycle, Lifecycle::kSyncing);
  Metadata bad;
  bad.capacity = 0;
  EXPECT_FALSE(h.member->UpdateMetadata(bad, 20).ok());
  EXPECT_EQ(h.member->Incarnation(), 2u);

  Harness peer(Quiet(), "b");
  peer.Know({"a", "c"}, 0);
  peer.Feed("a", {wire::Alive{"a", 2, false, meta}}, 30);
  EXPECT_EQ(peer.member->Find("a")->metadata, meta);
  EXPECT_EQ(peer.member->Find("a")->lifecycle, Lifecycle::kSyncing);
  peer.Collect(30, false);
  EXPECT_EQ(peer.events.back().kind, Event::Kind::kUpdated);
  peer.Feed("c", {wire::Suspect{"a", 2, "c"}}, 40);
  EXPECT_EQ(peer.member->Find("a")->lifecycle, Lifecycle::kDegraded);
}

TEST(MemberRules, AMalformedPacketIsRefusedAndChangesNothing) {
  Harness h;
  h.member->Join({}, 0);
  h.Know({"b", "c"}, 0);
  const auto members = h.member->Members();
  const Millis deadline = h.member->NextDeadline();
  const std::size_t pending = h.member->PendingBroadcasts();
  (void)h.member->TakePackets();
  auto bytes = wire::EncodePacket(std::vector<Message>{wire::Alive{"z", 1, false, {}}});
  bytes.back() = 0x7f;  // bad metadata flags
  const Status s = h.member->Receive("b", bytes, 50);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("metadata.flags"), std::string::npos) << s.ToString();
  EXPECT_EQ(h.member->Members().size(), members.size());
  EXPECT_EQ(h.member->NextDeadline(), deadline);
  EXPECT_EQ(h.member->PendingBroadcasts(), pending);
  EXPECT_TRUE(h.member->TakePackets().empty());
  EXPECT_FALSE(h.member->Receive("", bytes, 50).ok());
  EXPECT_FALSE(
      h.member->Receive("a", wire::EncodePacket(std::vector<Message>{wire::Ack{1}}), 50).ok());
  std::vector<std::uint8_t> huge(h.config.max_packet_bytes + 1, 0);
  EXPECT_NE(h.member->Receive("b", huge, 50).message().find("max_packet_bytes"), std::string::npos);
}

TEST(MemberRules, TheMemberTableIsBoundedByMaxMembers) {
  Config config = Quiet();
  config.max_members = 3;
  Harness h(config);
  h.Know({"b", "c", "d", "e"}, 0);
  EXPECT_EQ(h.member->Members().size(), 3u);
  EXPECT_EQ(h.member->Find("d"), nullptr);
}

TEST(MemberRules, AMisdirectedPingIsNotAcked) {
  Harness h;
  h.Feed("b", {wire::Ping{5, "someone-else"}}, 10);
  EXPECT_TRUE(h.member->TakePackets().empty());
  h.Feed("b", {wire::Ping{6, "a"}}, 20);
  const auto packets = h.member->TakePackets();
  ASSERT_EQ(packets.size(), 1u);
  auto decoded = wire::DecodePacket(packets[0].bytes, wire::Limits{});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(std::get<wire::Ack>(decoded->front()).seq, 6u);
}

}  // namespace
}  // namespace tri::membership
