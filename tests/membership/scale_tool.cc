// membership_scale: quick goal measurements of the membership core alone, on an
// in-process network (1-4 ms latency, seeded loss, stalls); the simulator
// (`tri-sim swim`) is the measurement of record. Not a ctest. Usage:
//   membership_scale detect N SEED CRASHES   1% loss; one crash every 25 s: time to the
//                                           first death declaration and to every member
//   membership_scale dissem N SEED TRIALS    10% loss; one metadata update every 5 s: time
//                                           until every member has it; bandwidth
//   membership_scale stall  N SEED SECONDS   5% loss; every 10th member stalls 0.5-2 s
//                                           about every 10 s: false deaths
// PLAIN=1 turns Lifeguard's three parts off.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "base/rng.h"
#include "membership/member.h"
using namespace tri;
using namespace tri::membership;

struct Sim {
  struct Node {
    std::unique_ptr<SeededRng> rng;
    std::unique_ptr<Member> m;
    bool crashed = false;
    Millis stalled_until = 0;
    std::uint64_t gen = 0;
  };
  struct Ev {
    Millis at;
    std::uint64_t order;
    int kind;
    int to;
    int from;
    std::uint64_t gen;
    std::shared_ptr<std::vector<std::uint8_t>> bytes;
    bool operator>(const Ev& o) const { return at != o.at ? at > o.at : order > o.order; }
  };
  std::vector<Node> nodes;
  std::map<std::string, int> idx;
  SeededRng rng;
  Config cfg;
  Millis now = 0;
  double loss = 0;
  std::uint64_t order = 0;
  std::priority_queue<Ev, std::vector<Ev>, std::greater<>> q;
  std::uint64_t bytes = 0, packets = 0;
  std::vector<std::pair<int, Event>> events;
  Sim(int n, std::uint64_t seed, Config c) : rng(seed), cfg(c) {
    nodes.resize(n);
    for (int i = 0; i < n; ++i) {
      nodes[i].rng = std::make_unique<SeededRng>(rng.Fork());
      std::string name = "node-" + std::to_string(i);
      Metadata md;
      md.address = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":7946";
      md.zone = "z" + std::to_string(i % 3);
      nodes[i].m = std::make_unique<Member>(
          Member::Create(cfg, MemberInfo{name, md}, nodes[i].rng.get(), 0).value());
      idx[name] = i;
    }
  }
  void Sched(int i) {
    auto& n = nodes[i];
    Millis d = n.m->NextDeadline();
    if (d == INT64_MAX) return;
    d = std::max(d, n.stalled_until);
    q.push(Ev{d, order++, 0, i, -1, ++n.gen, nullptr});
  }
  void Drain(int i) {
    for (auto& p : nodes[i].m->TakePackets()) {
      packets++;
      bytes += p.bytes.size() + 28;
      if (rng.Bernoulli(loss)) continue;
      int to = idx.at(p.to);
      q.push(Ev{now + 1 + (Millis)rng.Uniform(4), order++, 1, to, i, 0,
                std::make_shared<std::vector<std::uint8_t>>(std::move(p.bytes))});
    }
    for (auto& e : nodes[i].m->TakeEvents())
      events.emplace_back(i, std::move(e));
    Sched(i);
  }
  void Run(Millis until) {
    while (!q.empty() && q.top().at <= until) {
      Ev e = q.top();
      q.pop();
      now = std::max(now, e.at);
      auto& n = nodes[e.to];
      if (n.crashed) continue;
      if (n.stalled_until > now) {
        e.at = n.stalled_until;
        e.order = order++;
        if (e.kind == 0) continue;
        q.push(e);
        continue;
      }
      if (e.kind == 0) {
        if (e.gen != n.gen) continue;
        n.m->Tick(now);
        Drain(e.to);
      } else {
        auto s = n.m->Receive(nodes[e.from].m->Name(), *e.bytes, now);
        if (!s.ok()) {
          printf("ERR %s\n", s.ToString().c_str());
          exit(1);
        }
        Drain(e.to);
      }
    }
    now = until;
  }
  void Stall(int i, Millis until) {
    nodes[i].stalled_until = until;
    q.push(Ev{until, order++, 0, i, -1, ++nodes[i].gen, nullptr});
  }
};

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: membership_scale detect|dissem|stall N [SEED] [COUNT]\n");
    return 2;
  }
  std::string mode = argv[1];
  int n = atoi(argv[2]);
  std::uint64_t seed = argc > 3 ? atoll(argv[3]) : 1;
  Config cfg;
  if (getenv("PLAIN")) {
    cfg.lifeguard_dogpile = cfg.lifeguard_buddy = cfg.lifeguard_local_health = false;
  }
  Sim sim(n, seed, cfg);
  sim.nodes[0].m->Join({}, 0);
  sim.Drain(0);
  for (int i = 1; i < n; ++i) {
    sim.nodes[i].m->Join({"node-0"}, (i % 100) * 10);
    sim.Drain(i);
  }
  sim.Run(30000);
  int alive_views = 0;
  for (auto& nd : sim.nodes)
    alive_views += nd.m->AliveCount();
  printf("after 30s: avg alive count %.1f; dead events %zu\n", (double)alive_views / n,
         std::count_if(sim.events.begin(), sim.events.end(),
                       [](auto& e) { return e.second.kind == Event::Kind::kDead; }));
  if (mode == "detect") {
    sim.loss = 0.01;
    sim.events.clear();
    int crashes = argc > 4 ? atoi(argv[4]) : 20;
    if (crashes >= n - 1) {
      fprintf(stderr, "CRASHES must be below N - 1\n");
      return 2;
    }
    std::vector<double> first, all;
    std::uint64_t b0 = sim.bytes;
    Millis t0 = sim.now;
    for (int c = 0; c < crashes; ++c) {
      int x = 1 + (int)sim.rng.Uniform(n - 1);
      while (sim.nodes[x].crashed)
        x = 1 + (int)sim.rng.Uniform(n - 1);
      sim.nodes[x].crashed = true;
      Millis at = sim.now;
      std::string name = sim.nodes[x].m->Name();
      size_t e0 = sim.events.size();
      sim.Run(sim.now + 25000);
      Millis f = -1;
      int seen = 0;
      Millis last = -1;
      for (size_t k = e0; k < sim.events.size(); ++k) {
        auto& e = sim.events[k].second;
        if (e.kind == Event::Kind::kDead && e.member == name) {
          if (f < 0) f = e.at;
          seen++;
          last = e.at;
        }
      }
      int live = 0;
      for (auto& nd : sim.nodes)
        live += !nd.crashed;
      first.push_back(f < 0 ? 1e9 : (f - at) / 1000.0);
      all.push_back(seen >= live ? (last - at) / 1000.0 : 1e9);
    }
    int fp = 0;
    for (auto& [o, e] : sim.events)
      if (e.kind == Event::Kind::kDead && !sim.nodes[sim.idx[e.member]].crashed) fp++;
    std::sort(first.begin(), first.end());
    std::sort(all.begin(), all.end());
    auto pct = [](std::vector<double>& v, double p) {
      return v[std::min(v.size() - 1, (size_t)(p * v.size()))];
    };
    printf(
        "N=%d crashes=%d first-dead median %.2fs p99 %.2fs max %.2f | all-know median %.2fs p99 "
        "%.2fs | false deaths %d | %.1f kbit/s/member\n",
        n, crashes, pct(first, .5), pct(first, .99), first.back(), pct(all, .5), pct(all, .99), fp,
        (sim.bytes - b0) * 8.0 / 1000 / ((sim.now - t0) / 1000.0) / n);
  } else if (mode == "dissem") {
    sim.loss = 0.10;
    int trials = argc > 4 ? atoi(argv[4]) : 10;
    std::vector<double> t9999;
    std::uint64_t p0 = sim.packets;
    std::uint64_t b0 = sim.bytes;
    Millis t0 = sim.now;
    for (int t = 0; t < trials; ++t) {
      int x = (int)sim.rng.Uniform(n);
      Metadata md = sim.nodes[x].m->Members()[0].metadata;
      md.load = 1000 + t;
      (void)sim.nodes[x].m->UpdateMetadata(md, sim.now);
      sim.Drain(x);
      Millis at = sim.now;
      std::string name = sim.nodes[x].m->Name();
      Millis done = -1;
      for (Millis s = 10; s <= 5000; s += 10) {
        sim.Run(at + s);
        int have = 0;
        for (auto& nd : sim.nodes) {
          auto* v = nd.m->Find(name);
          have += v && v->metadata.load == md.load;
        }
        if (have >= n) {
          done = s;
          break;
        }
      }
      t9999.push_back(done < 0 ? 1e9 : done / 1000.0);
      sim.Run(at + 5000);
    }
    std::sort(t9999.begin(), t9999.end());
    printf(
        "N=%d dissemination to all: median %.2fs max %.2fs | %.1f kbit/s/member incl. 28B UDP/IP "
        "per packet, %.1f without; %.1f packets/s/member\n",
        n, t9999[t9999.size() / 2], t9999.back(),
        (sim.bytes - b0) * 8.0 / 1000 / ((sim.now - t0) / 1000.0) / n,
        (sim.bytes - b0 - 28.0 * (sim.packets - p0)) * 8.0 / 1000 / ((sim.now - t0) / 1000.0) / n,
        (sim.packets - p0) / ((sim.now - t0) / 1000.0) / n);
    int fp = 0;
    for (auto& [o, e] : sim.events)
      if (e.kind == Event::Kind::kDead) fp++;
    printf("deaths %d\n", fp);
  } else if (mode == "stall") {
    sim.loss = 0.05;
    sim.events.clear();
    Millis dur = (argc > 4 ? atoi(argv[4]) : 600) * 1000LL;
    Millis t0 = sim.now;
    std::uint64_t b0 = sim.bytes;
    // 10% of members stall 0.5-2 s, each about every 10 s.
    int stalls = 0;
    for (Millis t = sim.now; t < t0 + dur; t += 100) {
      for (int i = 0; i < n / 10; ++i)
        if (sim.rng.Bernoulli(0.01)) {
          int x = (int)(i * 10 % n);
          if (sim.nodes[x].stalled_until <= t) {
            sim.Stall(x, t + sim.rng.Range(500, 2000));
            stalls++;
          }
        }
      sim.Run(t + 100);
    }
    int fp = 0;
    for (auto& [o, e] : sim.events)
      if (e.kind == Event::Kind::kDead) {
        if (fp < 5)
          printf("  %s: %s dead: %s\n", sim.nodes[o].m->Name().c_str(), e.member.c_str(),
                 e.cause.c_str());
        fp++;
      }
    int susp = 0;
    for (auto& [o, e] : sim.events)
      susp += e.kind == Event::Kind::kSuspected;
    printf(
        "N=%d %lld s, %d stalls: dead events %d, suspected events %d, %.1f node-hours | %.1f "
        "kbit/s/member\n",
        n, (long long)dur / 1000, stalls, fp, susp, n * dur / 3.6e6,
        (sim.bytes - b0) * 8.0 / 1000 / ((sim.now - t0) / 1000.0) / n);
  }
}
