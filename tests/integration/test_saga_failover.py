"""Durable sagas over three `tri server` processes: 100 sagas whose exec steps
append their idempotency key to a file, the leader `kill -9`ed three times
during the run (and restarted). Every saga must reach a terminal state; the
file must show every attempt the sagas report at least once, and no effect of
a forward step that its saga reports as never started (nothing ran after a
saga began to stop). Finished sagas are then swept by retention."""

import json
import os
import subprocess
import threading
import time

import pytest

from faultproxy import wait_until

SAGAS = 100
ABORTED = 20  # of them aborted right after their start
RETENTION_S = 6


def saga_document(effects_path):
    # A diamond of exec steps; each records "forward KEY" / "compensate KEY".
    def step(step_id, needs, sleep_s):
        record = "echo \"forward $TRI_IDEMPOTENCY_KEY\" >> %s; sleep %s" % (effects_path, sleep_s)
        undo = "echo \"compensate $TRI_IDEMPOTENCY_KEY\" >> %s" % effects_path
        lines = ["  - id: %s" % step_id]
        if needs:
            lines.append("    needs: [%s]" % ", ".join(needs))
        lines += [
            "    run: {exec: {shell: true, argv: [%s]}}" % json.dumps(record),
            "    compensate: {exec: {shell: true, argv: [%s]}}" % json.dumps(undo),
            "    retry: {max_attempts: 3, backoff: {initial: 50ms}}",
        ]
        return "\n".join(lines)

    return "\n".join([
        "name: effects",
        "deadline: 120s",
        "steps:",
        step("reserve", [], "0.2"),
        step("charge", ["reserve"], "0.3"),
        step("pack", ["reserve"], "0.3"),
        step("ship", ["charge", "pack"], "0.2"),
    ]) + "\n"


class Tri:
    def __init__(self, binary, cluster):
        self.binary = binary
        self.cluster = cluster

    def run(self, *args, check=True, timeout_s=20.0):
        endpoints = ",".join(m.endpoint for m in self.cluster.running_members())
        command = [self.binary, "saga"] + list(args) + ["--endpoints", endpoints]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
        if check and result.returncode != 0:
            raise AssertionError("%s failed (%d): %s%s" % (
                " ".join(command), result.returncode, result.stdout, result.stderr))
        return result

    def get(self, saga_id):
        result = self.run("get", saga_id, "-w", "json", check=False)
        if result.returncode != 0:
            return None
        return json.loads(result.stdout)


@pytest.mark.tri_only
def test_sagas_survive_three_leader_kills(make_cluster, server, tmp_path):
    effects = str(tmp_path / "effects.log")
    document = tmp_path / "effects.yaml"
    document.write_text(saga_document(effects))
    cluster = make_cluster(3, extra_flags=["--saga-redispatch-grace", "1s",
                                           "--saga-retention", "%ds" % RETENTION_S])
    tri = Tri(server.tri_binary, cluster)
    tri.run("define", str(document))

    def start(saga_id):
        # A start that meets a failover is simply repeated: the id makes it
        # idempotent (the second answers the saga the first created).
        for _ in range(20):
            if tri.run("start", "effects", "--id", saga_id, check=False).returncode == 0:
                return
            time.sleep(0.3)
        raise AssertionError("saga %s could not be started" % saga_id)

    def kill_leader_three_times():
        for _ in range(3):
            time.sleep(1.0)
            leader = cluster.leader()
            cluster[leader].kill()
            cluster.leader(not_in=(leader,))
            cluster[leader].start()

    terminal = {"completed", "compensated", "compensation_failed", "failed"}
    ids = ["effects-%03d" % i for i in range(SAGAS)]
    started = []
    views = {}
    stop_polling = threading.Event()

    def poll_views():
        # Each saga's view is taken as soon as it is terminal, while the others
        # are still being started: retention drops a finished saga after
        # RETENTION_S, which is shorter than starting all of them may take.
        while not stop_polling.is_set():
            for saga_id in list(started):
                if saga_id in views:
                    continue
                view = tri.get(saga_id)
                if view is not None and view["state"] in terminal:
                    views[saga_id] = view
            time.sleep(0.2)

    poller = threading.Thread(target=poll_views)
    poller.start()
    killer = threading.Thread(target=kill_leader_three_times)
    killer.start()
    try:
        for i, saga_id in enumerate(ids):
            start(saga_id)
            started.append(saga_id)
            if i < ABORTED:
                tri.run("abort", saga_id, check=False)  # may already have finished
        killer.join()
        wait_until(lambda: len(views) == len(ids), 120, interval_s=0.5,
                   message="every saga terminal")
    finally:
        stop_polling.set()
        poller.join()

    with open(effects) as f:
        lines = [line.split() for line in f.read().splitlines() if line.strip()]
    seen = {(kind, key) for kind, key in lines}
    completed = 0
    for saga_id, view in views.items():
        completed += view["state"] == "completed"
        for step in view["steps"]:
            prefix = "%s/%s/" % (saga_id, step["id"])
            ran = [k for kind, k in lines if kind == "forward" and k.startswith(prefix)]
            if step["forward_state"] == "succeeded":
                # Every attempt of a step that succeeded ran (the earlier ones failed).
                for attempt in range(1, step["attempts"] + 1):
                    assert prefix + str(attempt) in ran, "attempt %s%d never ran" % (prefix, attempt)
            if not step.get("started_ms"):
                # Never really started (its dispatch never committed, e.g. it came
                # after the abort): none of its effects may exist.
                assert not ran, "step %s never started, yet it ran: %s" % (prefix, ran)
            if step["state"] == "compensated":
                assert any(kind == "compensate" and k.startswith(prefix + "compensate/")
                           for kind, k in lines), step
    assert completed >= SAGAS - ABORTED - 5, "only %d sagas completed" % completed

    # Retention: every finished saga is dropped once its time is up.
    wait_until(lambda: all(tri.get(i) is None for i in ids[-5:]), RETENTION_S + 30,
               interval_s=1.0, message="finished sagas swept by retention")
    logs = cluster.logs(tail_bytes=200000)
    assert "dropped: retention" in logs
