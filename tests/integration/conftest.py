"""Fixtures of the multi-process integration tests (see docs/testing.md).

The server under test is chosen by `--server-kind` or TRI_SERVER_KIND
(etcd | tri, default etcd); with tri, TRI_BINARY (or --tri-binary) is the
`tri` binary and the server is `tri server ...`; a binary without a working
`tri server` fails the session (it is never silently skipped). Tests marked
`tri_only` (Trinity's fault seams, the `tri` CLI) are skipped for etcd.
TRI_SIM (or --tri-sim) is the `tri-sim` binary for the linearizability checks.
"""

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from cluster import Cluster, ServerKind  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def pytest_addoption(parser):
    group = parser.getgroup("trinity")
    group.addoption("--server-kind", default=os.environ.get("TRI_SERVER_KIND", "etcd"),
                    choices=["etcd", "tri"], help="server under test (TRI_SERVER_KIND)")
    group.addoption("--tri-binary", default=os.environ.get("TRI_BINARY", ""),
                    help="path of the tri binary (TRI_BINARY)")
    group.addoption("--tri-sim", default=os.environ.get("TRI_SIM", ""),
                    help="path of the tri-sim binary (TRI_SIM)")


def pytest_configure(config):
    config.addinivalue_line("markers", "tri_only: Trinity-only behaviour; skipped for etcd")
    config.addinivalue_line("markers", "no_server: needs no server (runs even when tri server is absent)")


def _tri_server_available(binary):
    if not binary or not os.access(binary, os.X_OK):
        return False, "TRI_BINARY '%s' is not an executable" % binary
    try:
        result = subprocess.run([binary, "server", "--help"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, "'%s server --help' failed: %s" % (binary, error)
    # CLI11 prints the top-level help (exit 0) for an unknown subcommand with
    # --help, so the server's own flags must be in the text.
    text = (result.stdout + result.stderr).decode(errors="replace")
    if result.returncode != 0 or "--initial-cluster" not in text:
        return False, "'%s server --help' does not describe the server (exit %d)" % (
            binary, result.returncode)
    return True, ""


def pytest_collection_modifyitems(config, items):
    kind = config.getoption("--server-kind")
    if kind == "tri":
        available, why = _tri_server_available(config.getoption("--tri-binary"))
        if not available:
            raise pytest.UsageError(why)
        return
    skip_tri_only = pytest.mark.skip(reason="Trinity-only behaviour (server kind is etcd)")
    for item in items:
        if "tri_only" in item.keywords:
            item.add_marker(skip_tri_only)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "report_" + report.when, report)


def _failed(request):
    return any(
        getattr(request.node, "report_" + when, None) is not None
        and getattr(request.node, "report_" + when).failed
        for when in ("setup", "call")
    )


@pytest.fixture(scope="session")
def server(pytestconfig):
    kind = pytestconfig.getoption("--server-kind")
    return ServerKind(kind, tri_binary=os.path.abspath(pytestconfig.getoption("--tri-binary"))
                      if kind == "tri" else None)


@pytest.fixture(scope="session")
def etcd_server():
    """Real etcd, the reference of the differential tests."""
    return ServerKind("etcd")


def _cluster_fixture(request, tmp_path, server_kind):
    clusters = []

    def make(size=1, extra_flags=(), env=None, start=True, token="trinity-test", kind=None,
             tokens=None, wait=True):
        workdir = tmp_path / ("cluster%d" % len(clusters))
        workdir.mkdir()
        cluster = Cluster(kind or server_kind, str(workdir), token=token)
        clusters.append(cluster)
        if start:
            cluster.start(size, extra_flags=extra_flags, env=env, tokens=tokens, wait=wait)
        return cluster

    def finish():
        failed = _failed(request)
        for cluster in clusters:
            try:
                cluster.close()
            finally:
                if failed:
                    print("\n==== member logs of %s ====\n%s" % (cluster.workdir, cluster.logs()))

    request.addfinalizer(finish)
    return make


@pytest.fixture
def make_cluster(request, tmp_path, server):
    """make_cluster(size, extra_flags=(), env=None, start=True, kind=None, tokens=None,
    wait=True) -> Cluster (see Cluster.start).

    Every cluster made is killed (process groups, SIGKILL) when the test ends;
    member logs are printed when it failed."""
    return _cluster_fixture(request, tmp_path, server)


@pytest.fixture
def tri_sim(pytestconfig):
    path = pytestconfig.getoption("--tri-sim") or os.path.join(
        REPO_ROOT, "build", "release", "src", "sim", "tri-sim")
    if not os.access(path, os.X_OK):
        pytest.skip("tri-sim not found at '%s' (set TRI_SIM)" % path)
    return path
