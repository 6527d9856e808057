"""The lock chaos test (docs/coordination.md, "Lock chaos test"): 16 clients
(lock_chaos_client, C++) contend for a lock guarding a fenced counter on a
3-member cluster while a nemesis partitions members through the FaultProxy,
stops them (SIGSTOP / SIGCONT) and kills them (kill -9, restart), and
clients themselves stall past their lease's TTL between reading and writing
(zombie holders, whose late writes the fence must refuse).

Each client acquires the lock, reads the counter and writes counter + 1 with a
Txn fenced by its hold (native locks: value(fence key) == token; etcd's
v3lock: create_revision(lock key) == the key's creation revision). The Txn
also writes an `applied/<client>/<seq>` marker, so the increments that applied
can be read back in log order (mod revision). Checked:

- no double holding: in log order the applied increments wrote 1, 2, 3, ...
  (two increments under overlapping holds would read the same value and
  write it twice), and their tokens never decrease (no lower token succeeding
  after a higher one);
- no lost increment: the final counter equals the number of applied
  increments, every increment a client saw acknowledged applied, none it saw
  refused did (an increment without an answer may have applied or not).

TRI_SERVER_KIND=tri uses Trinity's native Locks service, or etcd's v3lock API
when only that is served (TRI_LOCK_CHAOS_API=native|etcd picks one), and
skips when neither is; with etcd it runs the v3lock path against real etcd.
TRI_LOCK_CHAOS_SECONDS (default 90) is the
length of the faulty run; TRI_LOCK_CHAOS_SEED fixes the nemesis's choices.
"""

import json
import os
import random
import subprocess
import threading
import time

import etcd3
import pytest

from faultproxy import wait_until

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLIENTS = 16
LOCKS = 1
LEASE_TTL_S = 3
PREFIX = "chaos"
MIN_ACKED = 10


# ---- the check, on plain data ------------------------------------------------

def check_history(log_records, applied, final_counters):
    """Problems found (empty: the history is correct).

    log_records: the clients' lines (client, seq, lock, token, read, wrote,
    outcome). applied: lock -> [(mod_revision, client, seq, wrote, token)] read
    back from the markers. final_counters: lock -> the counter's value."""
    problems = []
    logged = {(r["lock"], r["client"], r["seq"]): r for r in log_records}
    for lock, marks in applied.items():
        marks = sorted(marks)
        expected = 1
        last_token = 0
        for revision, client, seq, wrote, token in marks:
            if wrote != expected:
                problems.append(
                    "lock %d: at revision %d client %d seq %d wrote %d, expected %d "
                    "(double holding or a lost increment)" % (lock, revision, client, seq, wrote,
                                                               expected))
                expected = wrote
            if token < last_token:
                problems.append(
                    "lock %d: at revision %d client %d succeeded with token %d after token %d"
                    % (lock, revision, client, token, last_token))
            last_token = max(last_token, token)
            expected += 1
            record = logged.get((lock, client, seq))
            if record is None:
                problems.append("lock %d: increment client %d seq %d applied but was never sent"
                                % (lock, client, seq))
            elif record["outcome"] == "refused":
                problems.append("lock %d: increment client %d seq %d applied but was answered "
                                "refused" % (lock, client, seq))
            elif (record["wrote"], record["token"]) != (wrote, token):
                problems.append("lock %d: increment client %d seq %d applied as (%d, token %d), "
                                "sent as (%d, token %d)" % (lock, client, seq, wrote, token,
                                                            record["wrote"], record["token"]))
        if final_counters.get(lock, 0) != len(marks):
            problems.append("lock %d: final counter %d, but %d increments applied"
                            % (lock, final_counters.get(lock, 0), len(marks)))
    applied_keys = {(lock, m[1], m[2]) for lock, marks in applied.items() for m in marks}
    for key, record in logged.items():
        if record["outcome"] == "ok" and key not in applied_keys:
            problems.append("lock %d: acknowledged increment client %d seq %d (wrote %d) is lost"
                            % (key[0], key[1], key[2], record["wrote"]))
    return problems


def _rec(client, seq, token, wrote, outcome="ok", lock=0):
    return {"client": client, "seq": seq, "lock": lock, "token": token, "read": wrote - 1,
            "wrote": wrote, "outcome": outcome}


@pytest.mark.no_server
def test_check_accepts_a_correct_history_with_an_unanswered_increment():
    log = [_rec(0, 0, 10, 1), _rec(1, 0, 20, 2, "unknown"), _rec(2, 0, 30, 3),
           _rec(3, 0, 5, 3, "refused"), _rec(4, 0, 40, 4, "unknown")]
    applied = {0: [(100, 0, 0, 1, 10), (101, 1, 0, 2, 20), (102, 2, 0, 3, 30)]}
    assert check_history(log, applied, {0: 3}) == []


@pytest.mark.no_server
def test_check_catches_two_holders_writing_the_same_value():
    log = [_rec(0, 0, 10, 1), _rec(1, 0, 11, 1)]
    applied = {0: [(100, 0, 0, 1, 10), (101, 1, 0, 1, 11)]}
    assert any("double holding" in p for p in check_history(log, applied, {0: 1}))


@pytest.mark.no_server
def test_check_catches_a_lower_token_succeeding_after_a_higher_one():
    log = [_rec(0, 0, 20, 1), _rec(1, 0, 10, 2)]
    applied = {0: [(100, 0, 0, 1, 20), (101, 1, 0, 2, 10)]}
    assert any("after token 20" in p for p in check_history(log, applied, {0: 2}))


@pytest.mark.no_server
def test_check_catches_a_lost_acknowledged_increment():
    log = [_rec(0, 0, 10, 1), _rec(1, 0, 20, 2)]
    applied = {0: [(100, 0, 0, 1, 10)]}
    problems = check_history(log, applied, {0: 1})
    assert any("is lost" in p for p in problems)


@pytest.mark.no_server
def test_check_catches_a_refused_increment_that_applied_and_a_counter_off_by_one():
    log = [_rec(0, 0, 10, 1, "refused")]
    applied = {0: [(100, 0, 0, 1, 10)]}
    problems = check_history(log, applied, {0: 2})
    assert any("answered refused" in p for p in problems)
    assert any("final counter 2" in p for p in problems)


# ---- the run -----------------------------------------------------------------

def chaos_client_binary():
    path = os.environ.get("TRI_LOCK_CHAOS_CLIENT") or os.path.join(
        REPO_ROOT, "build", "release", "tests", "integration", "lock_chaos_client")
    if not os.access(path, os.X_OK):
        pytest.skip("lock_chaos_client not built at '%s' (set TRI_LOCK_CHAOS_CLIENT)" % path)
    return path


def choose_api(binary, server, endpoints):
    """native, or etcd, whichever the server serves (native first); skips when
    it serves neither."""
    candidates = ["etcd"] if server.kind == "etcd" else ["native", "etcd"]
    forced = os.environ.get("TRI_LOCK_CHAOS_API")
    if forced:
        if forced not in candidates:
            raise AssertionError("TRI_LOCK_CHAOS_API=%s: use one of %s" % (forced, candidates))
        candidates = [forced]
    for api in candidates:
        code = subprocess.run([binary, "--endpoints", endpoints, "--api", api, "--probe"],
                              capture_output=True, timeout=60).returncode
        if code == 0:
            return api
        if code != 3:
            raise AssertionError("lock_chaos_client --probe --api %s failed (exit %d)"
                                 % (api, code))
    pytest.skip("the server serves neither trinity.v1.Locks nor v3lockpb.Lock")


class Nemesis:
    """One fault at a time, each undone before the next: isolate a member
    (partition), SIGSTOP it (often the leader), or kill -9 and restart it."""

    def __init__(self, cluster, rng):
        self.cluster = cluster
        self.rng = rng
        self.stop_event = threading.Event()
        self.done = {"partition": 0, "pause": 0, "kill": 0}
        self.errors = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_event.set()
        self.thread.join(timeout=60)

    def _sleep(self, seconds):
        self.stop_event.wait(seconds)

    def _victim(self):
        members = list(self.cluster.members.values())
        if self.rng.random() < 0.5:
            try:
                return self.cluster[self.cluster.leader(timeout_s=5)]
            except Exception:  # no agreed leader right now: any member will do
                pass
        return self.rng.choice(members)

    def _run(self):
        try:
            self._sleep(2.0)
            while not self.stop_event.is_set():
                action = self.rng.choice(["partition", "pause", "kill"])
                victim = self._victim()
                if action == "partition":
                    self.cluster.proxy.isolate(victim.name)
                    self._sleep(self.rng.uniform(1.0, 4.0))
                    self.cluster.proxy.heal()
                elif action == "pause":
                    victim.pause()
                    self._sleep(self.rng.uniform(0.5, 5.0))
                    victim.resume()
                else:
                    victim.kill()
                    self._sleep(self.rng.uniform(0.5, 3.0))
                    victim.start(wait=False)
                    victim.wait_healthy(timeout_s=30)
                self.done[action] += 1
                self._sleep(self.rng.uniform(1.0, 3.0))
        except Exception as error:  # reported by the test
            self.errors.append(repr(error))
        finally:
            self.cluster.proxy.heal()
            for member in self.cluster.members.values():
                member.resume()


def read_back(cluster):
    """lock -> [(mod_revision, client, seq, wrote, token)], lock -> counter."""
    def attempt():
        for member in cluster.running_members():
            client = etcd3.client(host="127.0.0.1", port=member.client_port, timeout=5)
            try:
                applied, counters = {}, {}
                for value, meta in client.get_prefix(PREFIX + "/"):
                    parts = meta.key.decode().split("/")
                    if len(parts) == 3 and parts[2] == "counter":
                        counters[int(parts[1])] = int(value.decode())
                    elif len(parts) == 5 and parts[2] == "applied":
                        wrote, token = (int(x) for x in value.decode().split())
                        applied.setdefault(int(parts[1]), []).append(
                            (meta.mod_revision, int(parts[3]), int(parts[4]), wrote, token))
                return applied, counters
            except Exception:
                continue
            finally:
                client.close()
        return None

    return wait_until(attempt, 30, interval_s=0.5, message="the counters to be readable")


def run_clients(cluster, server, tmp_path, seconds, nemesis=None, extra_args=()):
    """Runs lock_chaos_client for `seconds` (beside the nemesis, if any) and
    reads the result back: (api, records, applied, counters, outcomes)."""
    binary = chaos_client_binary()
    endpoints = ",".join(m.endpoint for m in cluster.members.values())
    api = choose_api(binary, server, endpoints)
    log_path = str(tmp_path / "chaos.jsonl")
    if nemesis is not None:
        nemesis.start()
    try:
        run = subprocess.run(
            [binary, "--endpoints", endpoints, "--api", api, "--log", log_path,
             "--clients", str(CLIENTS), "--locks", str(LOCKS), "--seconds", str(seconds),
             "--lease-ttl", str(LEASE_TTL_S), "--prefix", PREFIX] + list(extra_args),
            capture_output=True, text=True, timeout=seconds + 120)
    finally:
        if nemesis is not None:
            nemesis.stop()
    assert run.returncode == 0, "lock_chaos_client failed (%d): %s" % (run.returncode, run.stderr)
    assert nemesis is None or not nemesis.errors, "the nemesis failed: %s" % nemesis.errors
    for member in cluster.members.values():
        if not member.running():
            member.start()
    cluster.leader(timeout_s=30)
    with open(log_path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    applied, counters = read_back(cluster)
    outcomes = {o: sum(1 for r in records if r["outcome"] == o)
                for o in ("ok", "refused", "unknown")}
    return api, records, applied, counters, outcomes


def test_check_catches_unfenced_zombie_writes_on_a_real_cluster(make_cluster, server, tmp_path):
    """The same clients without the fence compare, one in ten increments a
    zombie: a zombie's late write of a stale value must be caught."""
    cluster = make_cluster(3)
    api, records, applied, counters, outcomes = run_clients(
        cluster, server, tmp_path, 20, extra_args=["--no-fence", "--zombie-percent", "10"])
    problems = check_history(records, applied, counters)
    print("unfenced (%s API): increments %s; %d problems found" % (api, outcomes, len(problems)))
    assert any("double holding" in p for p in problems), \
        "unfenced zombie writes were not caught: %s" % outcomes


def test_fenced_counter_survives_partitions_pauses_and_kills(make_cluster, server, tmp_path):
    seconds = int(os.environ.get("TRI_LOCK_CHAOS_SECONDS", "90"))
    seed = int(os.environ.get("TRI_LOCK_CHAOS_SEED", str(int(time.time()))))
    print("lock chaos: seed %d (TRI_LOCK_CHAOS_SEED), %d s of faults" % (seed, seconds))
    cluster = make_cluster(3)
    nemesis = Nemesis(cluster, random.Random(seed))
    api, records, applied, counters, outcomes = run_clients(cluster, server, tmp_path, seconds,
                                                            nemesis=nemesis)
    unknown_applied = sum(len(m) for m in applied.values()) - outcomes["ok"]
    print("lock chaos (%s API): faults %s; increments %s, %d unanswered ones applied; "
          "final counters %s" % (api, nemesis.done, outcomes, unknown_applied, counters))
    problems = check_history(records, applied, counters)
    assert not problems, "\n".join(problems[:30])
    assert outcomes["ok"] >= MIN_ACKED, "too little progress: %s" % outcomes
    assert sum(nemesis.done.values()) >= 3, "too few faults injected: %s" % nemesis.done
    assert outcomes["refused"] >= 1, "no zombie holder was fenced off: %s" % outcomes
