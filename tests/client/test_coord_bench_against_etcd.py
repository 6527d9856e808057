"""tri bench lock|watch|lease against a real single-member etcd 3.4 (the
etcd v3lock API, watches and lease keep-alives are etcd's own): each runs
without errors and reports what it measured; flags beyond their bounds exit 2
naming the flag; a lock API the server does not serve fails the run (exit 1).
Skips (with a message) when `etcd` or `etcdctl` is not installed (the
fixture's module skips).
"""
import json

from test_against_etcd import etcd, etcdctl, tri  # noqa: F401 (etcd is a fixture)


def test_bench_lock_measures_cycles_and_hand_overs_on_one_contended_lock(etcd):
    ours = tri(etcd, "bench", "lock", "--api", "etcd", "--clients", "4", "--conns", "4",
               "--locks", "1", "--cycles", "80", "--json")
    assert ours.returncode == 0, ours.stderr
    report = json.loads(ours.stdout)
    assert report["api"] == "etcd"
    assert report["completed"] == 80 and report["errors"] == 0
    assert report["cycles_per_s"] > 0
    cycle = report["cycle_latency"]
    assert cycle["count"] == 80
    assert 0 < cycle["p50_ms"] <= cycle["p99_ms"] <= cycle["max_ms"]
    # With 4 clients on one lock, most grants follow a waiting client's release.
    assert report["handover_latency"]["count"] > 0
    # Every session lease was revoked, so nothing is left holding a lock.
    left = etcdctl(etcd, "get", "tri-bench-lock/", "--prefix", "--keys-only")
    assert left.returncode == 0 and left.stdout.strip() == ""


def test_bench_lock_on_distinct_locks_sees_no_hand_over(etcd):
    ours = tri(etcd, "bench", "lock", "--clients", "4", "--conns", "4", "--locks", "4",
               "--cycles", "40", "--json")
    assert ours.returncode == 0, ours.stderr
    report = json.loads(ours.stdout)
    assert report["completed"] == 40
    assert report["handover_latency"]["count"] == 0


def test_bench_lock_native_api_fails_where_it_is_not_served(etcd):
    ours = tri(etcd, "bench", "lock", "--api", "native", "--cycles", "2", "--json")
    assert ours.returncode == 1
    report = json.loads(ours.stdout)
    assert report["completed"] == 0 and "UNIMPLEMENTED" in report["first_error"]


def test_bench_watch_delivers_every_event_to_every_watcher(etcd):
    ours = tri(etcd, "bench", "watch", "--watchers", "50", "--streams", "5", "--conns", "2",
               "--events", "10", "--watch-key", "bench-watch-test", "--json")
    assert ours.returncode == 0, ours.stderr
    report = json.loads(ours.stdout)
    assert report["deliveries"] == 500 and report["missing"] == 0 and report["errors"] == 0
    latency = report["delivery_latency"]
    assert latency["count"] == 500 and 0 < latency["p50_ms"] <= latency["p99_ms"]


def test_bench_lease_counts_answered_keep_alives(etcd):
    ours = tri(etcd, "bench", "lease", "--clients", "2", "--conns", "2", "--duration", "1s",
               "--json")
    assert ours.returncode == 0, ours.stderr
    report = json.loads(ours.stdout)
    assert report["keepalives"] > 0 and report["errors"] == 0
    assert report["keepalive_latency"]["count"] == report["keepalives"]
    assert etcdctl(etcd, "lease", "list").stdout.startswith("found 0 leases")


def test_bench_flags_beyond_their_bounds_exit_2_naming_the_flag(etcd):
    for args, flag in [
        (["lock", "--clients", "2", "--locks", "3"], "--locks"),
        (["lock", "--api", "zookeeper"], "--api"),
        (["lock", "--cycles", "0"], "--cycles"),
        (["watch", "--watchers", "0"], "--watchers"),
        (["watch", "--watchers", "2", "--streams", "3"], "--streams"),
        (["lease", "--duration", "0s"], "--duration"),
        (["lease", "--clients", "2", "--conns", "3"], "--conns"),
    ]:
        ours = tri(etcd, "bench", *args)
        assert ours.returncode == 2, (args, ours.stdout, ours.stderr)
        assert flag in ours.stderr, (args, ours.stderr)
