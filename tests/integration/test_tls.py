"""TLS with etcd's flags, against the server under test (etcd or tri): clients over
https with client-certificate auth, peers over mutual TLS; a client without a
certificate, or one that does not trust the CA, is refused; a member whose peer
certificate comes from another CA cannot join. Certificates are made by the openssl
CLI in the test's temporary directory."""

import json
import os
import ssl
import subprocess
import time
import urllib.request

import pytest

from faultproxy import wait_until


def _openssl(directory, command):
    subprocess.run(command, shell=True, cwd=directory, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("certs")

    def ca(name):
        _openssl(directory, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                            "-nodes -keyout %s.key -out %s.crt -days 2 -subj '/CN=%s'"
                 % (name, name, name))

    def issue(name, by):
        _openssl(directory,
                 "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > %s.ext && "
                 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                 "-keyout %s.key -out %s.csr -subj '/CN=%s' && "
                 "openssl x509 -req -in %s.csr -CA %s.crt -CAkey %s.key -CAcreateserial "
                 "-out %s.crt -days 2 -extfile %s.ext"
                 % (name, name, name, name, name, by, by, name, name))

    ca("ca")
    ca("other-ca")
    for name in ("server", "client", "peer"):
        issue(name, "ca")
    issue("stranger", "other-ca")
    return lambda name: str(directory / name)


def server_flags(certs, peer_cert="peer", peer_ca="ca"):
    return [
        "--cert-file", certs("server.crt"), "--key-file", certs("server.key"),
        "--trusted-ca-file", certs("ca.crt"), "--client-cert-auth",
        "--peer-cert-file", certs(peer_cert + ".crt"),
        "--peer-key-file", certs(peer_cert + ".key"),
        "--peer-trusted-ca-file", certs(peer_ca + ".crt"), "--peer-client-cert-auth",
    ]


def client_flags(certs, cert="client", cacert="ca.crt"):
    flags = []
    if cacert:
        flags += ["--cacert", certs(cacert)]
    if cert:
        flags += ["--cert", certs(cert + ".crt"), "--key", certs(cert + ".key")]
    return flags


def tls_cluster(make_cluster, certs, size, flags_of=None):
    """A cluster with https client and peer URLs; `flags_of(name)` overrides the
    server flags of one member. Waits for the members with the default flags."""
    cluster = make_cluster(start=False)
    cluster.client_scheme = "https"
    cluster.peer_scheme = "https"
    cluster.http_scheme = "https"
    cluster.etcdctl_flags = client_flags(certs)
    names = ["m%d" % (i + 1) for i in range(size)]
    for name in names:
        cluster.new_member(name).extra_flags = (flags_of and flags_of(name)) or server_flags(certs)
    initial = cluster.initial_cluster_string(names)
    for name in names:
        cluster[name].initial_cluster = initial
        cluster[name].start(wait=False)
    for name in names:
        if not (flags_of and flags_of(name)):
            cluster[name].wait_healthy()
    return cluster


def tri_binary(server):
    return server.tri_binary or os.environ.get("TRI_BINARY", "")


def tri_kv(server, endpoint, certs, *args, **client):
    binary = tri_binary(server)
    command = [binary, "kv"] + list(args) + [
        "--endpoints", endpoint, "--dial-timeout", "2s"] + client_flags(certs, **client)
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


def etcdctl(cluster, member, certs, *args, **client):
    command = ["etcdctl", "--endpoints", member.endpoint, "--dial-timeout", "2s",
               "--command-timeout", "5s"] + client_flags(certs, **client) + list(args)
    return subprocess.run(command, capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, ETCDCTL_API="3"))


def test_three_members_with_peer_mtls_serve_tls_clients(make_cluster, certs, server):
    cluster = tls_cluster(make_cluster, certs, 3)
    cluster.etcdctl("put", "tls/key", "over-tls")
    # Written through one member, read from each: the log travels over peer TLS.
    for member in cluster.members.values():
        out = cluster.etcdctl("get", "tls/key", "--print-value-only", endpoints=[member])
        assert out.stdout.strip() == "over-tls"
    if not tri_binary(server):
        return
    m2 = cluster["m2"]
    put = tri_kv(server, "https://" + m2.endpoint, certs, "put", "tls/tri", "from-tri")
    assert put.returncode == 0, put.stderr
    # A bare host:port endpoint is dialled with TLS too once --cacert is given.
    get = tri_kv(server, cluster["m3"].endpoint, certs, "get", "tls/tri", "--print-value-only")
    assert get.returncode == 0, get.stderr
    assert get.stdout.strip() == "from-tri"
    if server.kind != "tri":
        return
    # The saga API of a member: gRPC (tri saga) and HTTP/JSON, both over TLS.
    sagas = subprocess.run(
        [server.tri_binary, "saga", "list", "--endpoints", "https://" + m2.endpoint,
         "-w", "json"] + client_flags(certs), capture_output=True, text=True, timeout=30)
    assert sagas.returncode == 0, sagas.stderr
    context = ssl.create_default_context(cafile=certs("ca.crt"))
    context.load_cert_chain(certs("client.crt"), certs("client.key"))
    url = "https://127.0.0.1:%d/v1/sagas" % m2.http_port
    with urllib.request.urlopen(url, context=context, timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read())["sagas"] == []
    without_cert = ssl.create_default_context(cafile=certs("ca.crt"))
    with pytest.raises(Exception):
        urllib.request.urlopen(url, context=without_cert, timeout=5).read()


def test_clients_without_a_trusted_certificate_or_trust_in_the_ca_are_refused(
        make_cluster, certs, server):
    cluster = tls_cluster(make_cluster, certs, 1)
    member = cluster["m1"]
    assert etcdctl(cluster, member, certs, "put", "k", "v").returncode == 0
    refused = {
        "no client certificate": dict(cert=None),
        "a client certificate from another CA": dict(cert="stranger"),
        "no trust in the server's CA": dict(cacert=None),
    }
    for why, client in refused.items():
        result = etcdctl(cluster, member, certs, "get", "k", **client)
        assert result.returncode != 0, "etcdctl with %s was served" % why
        if tri_binary(server):
            result = tri_kv(server, "https://" + member.endpoint, certs, "get", "k", **client)
            assert result.returncode != 0, "tri with %s was served" % why
            assert "context deadline exceeded" in result.stderr or "Error" in result.stderr


def test_a_member_with_a_peer_certificate_from_another_ca_cannot_join(
        make_cluster, certs, server):
    # m3 presents a certificate from another CA (and trusts only that CA).
    def flags_of(name):
        return server_flags(certs, "stranger", "other-ca") if name == "m3" else None

    cluster = tls_cluster(make_cluster, certs, 3, flags_of)
    cluster.etcdctl("put", "quorum/of/two", "yes", endpoints=[cluster["m1"], cluster["m2"]])
    m3 = cluster["m3"]
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        assert not m3.healthy(), "m3 joined with a certificate from another CA"
        time.sleep(0.2)
    out = etcdctl(cluster, m3, certs, "get", "quorum/of/two", "--consistency", "s",
                  "--print-value-only")
    assert out.stdout.strip() != "yes"
    if server.kind == "tri":
        wait_until(lambda: "TLS handshake" in cluster["m1"].log_text(), 10,
                   message="m1 to log the refused TLS handshake")


@pytest.mark.tri_only
def test_https_urls_without_certificates_are_refused_naming_the_flag(server, tmp_path):
    result = subprocess.run(
        [server.tri_binary, "server", "--data-dir", str(tmp_path / "d"),
         "--listen-client-urls", "https://127.0.0.1:0",
         "--advertise-client-urls", "https://127.0.0.1:2379"],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "--listen-client-urls: https://127.0.0.1:0 needs a TLS certificate" in result.stderr
    result = subprocess.run(
        [server.tri_binary, "server", "--data-dir", str(tmp_path / "d"),
         "--listen-client-urls", "https://127.0.0.1:0",
         "--cert-file", str(tmp_path / "missing.crt"), "--key-file", str(tmp_path / "k")],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "--cert-file: cannot read %s" % (tmp_path / "missing.crt") in result.stderr
