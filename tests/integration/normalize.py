"""Normalizes etcdctl output so that two servers' answers can be compared.

What differs between two correct servers (and between two runs of one) is
replaced: member and cluster ids, raft terms and indexes, database sizes,
server versions, ports, and absolute revisions (made relative to the
revision at the start of the sequence, so the revision arithmetic itself
is still compared).
"""

import json
import re

_OPAQUE_JSON_FIELDS = {
    "cluster_id", "member_id", "raft_term", "ID", "leader", "raftIndex", "raftTerm",
    "raftAppliedIndex", "dbSize", "dbSizeInUse",
}
_REVISION_JSON_FIELDS = {"revision", "create_revision", "mod_revision", "compact_revision"}
_PORT = re.compile(r"127\.0\.0\.1:\d+")
_HEX_ID = re.compile(r"\b[0-9a-f]{14,16}\b")


def _ports(text):
    return _PORT.sub("127.0.0.1:<port>", text)


def normalize_json(value, base_revision, parent=None):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in _OPAQUE_JSON_FIELDS:
                out[key] = "<%s>" % key
            elif key in _REVISION_JSON_FIELDS and isinstance(item, int):
                out[key] = "<base%+d>" % (item - base_revision)
            elif key == "version" and parent == "Status":
                out[key] = "<server version>"
            else:
                out[key] = normalize_json(item, base_revision, parent=key)
        return out
    if isinstance(value, list):
        return [normalize_json(item, base_revision, parent=parent) for item in value]
    if isinstance(value, str):
        return _ports(value)
    return value


def normalize_stderr(text):
    """Keeps the user-facing error lines; drops the client's retry logging
    (JSON lines with time stamps and connection ids)."""
    lines = [line for line in text.splitlines() if line.startswith("Error")]
    return "\n".join(_ports(line) for line in lines)


def normalize_simple(text, base_revision):
    text = _ports(_HEX_ID.sub("<id>", text))
    return re.sub(
        r"compacted revision (\d+)",
        lambda m: "compacted revision <base%+d>" % (int(m.group(1)) - base_revision), text)


def normalize_endpoint_status_simple(text):
    """endpoint, id, version, db size, is leader, is learner, term, index,
    applied index, errors: keeps endpoint, is leader, is learner, errors."""
    rows = []
    for line in text.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) >= 10:
            rows.append(", ".join([_ports(fields[0]), "<id>", "<version>", "<size>", fields[4],
                                   fields[5], "<term>", "<index>", "<applied>", fields[9]]))
        else:
            rows.append(_ports(line))
    return "\n".join(rows)


def normalize(stdout, stderr, returncode, output_format, base_revision, kind="default"):
    if kind == "endpoint_status_simple":
        out = normalize_endpoint_status_simple(stdout)
    elif output_format == "json" and stdout.strip():
        out = json.dumps(normalize_json(json.loads(stdout), base_revision), indent=1,
                         sort_keys=True)
    else:
        out = normalize_simple(stdout, base_revision)
    return {"exit": returncode, "stdout": out, "stderr": normalize_stderr(stderr)}
