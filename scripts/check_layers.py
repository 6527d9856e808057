#!/usr/bin/env python3
"""Checks the layer rule on the #include lines of src/ (ctest: layer_rule_test).

The layers are TRI_LAYERS in src/CMakeLists.txt, bottom to top. A file under
src/<layer>/ may include "x/..." only when x is its own layer or a layer listed
before it. A core (a deterministic state machine: no I/O, threads, clock or
randomness) is stricter: it includes only base/ and its own directory, plus
standard C++ headers, and none of the standard headers that do I/O, threads or
randomness. Headers under <layer>/internal/ are private to that layer (its
white-box tests, outside src/, may include them). Layers in TRI_LAYERS without a
directory are tolerated; a quoted
include whose first directory is not under src/ is a generated header (protobuf
output such as "etcdserverpb/rpc.pb.h") and is allowed outside cores.

The link side of the rule (layers link only earlier layers; no core reaches
spdlog) is checked when CMake configures (cmake/TriLayerRules.cmake).

Usage: check_layers.py [--root REPO]   exit 0: clean; 1: violations (listed);
2: the checker could not read the tree.
"""

import argparse
import pathlib
import re
import sys

# Cores and the parts of their directories that are not core. saga/dsl/ is the
# saga front end (YAML/JSON parser, library tri_saga_dsl), not the orchestrator;
# txn/parallel/ is the thread pool and schedulers (tri_txn_parallel), not the
# transaction model and serial reference.
CORES = {
    "raft": (),
    "rsm": (),
    "saga": ("saga/dsl",),
    "txn": ("txn/parallel",),
    "crdt": (),
    "membership": (),
    "routing": (),
}

# Pure headers outside the cores that a core may include: the saga front end's
# parser is a function from text to a spec (no I/O), which the replicated state
# machine runs on every replica to apply a registered definition.
CORE_ALLOWED_HEADERS = {"saga/dsl/parser.h"}

# Headers under base/ that cores must not include: driver-side facilities kept in
# the base directory but built into their own library (tri_log links spdlog).
DRIVER_ONLY_BASE_HEADERS = {"base/log.h"}

# Standard headers a core must not include: I/O, threads, randomness.
CORE_FORBIDDEN_STD = {
    "thread", "mutex", "shared_mutex", "condition_variable", "future", "stop_token",
    "semaphore", "latch", "barrier", "fstream", "iostream", "filesystem", "random",
    "cstdio", "ctime", "csignal",
}

# The C++20 standard library headers (and the C library under <cxxx> names).
STD_HEADERS = {
    "algorithm", "any", "array", "atomic", "barrier", "bit", "bitset", "charconv",
    "chrono", "codecvt", "compare", "complex", "concepts", "condition_variable",
    "coroutine", "deque", "exception", "execution", "expected", "filesystem", "format",
    "forward_list", "fstream", "functional", "future", "initializer_list", "iomanip",
    "ios", "iosfwd", "iostream", "istream", "iterator", "latch", "limits", "list",
    "locale", "map", "memory", "memory_resource", "mutex", "new", "numbers", "numeric",
    "optional", "ostream", "queue", "random", "ranges", "ratio", "regex",
    "scoped_allocator", "semaphore", "set", "shared_mutex", "source_location", "span",
    "sstream", "stack", "stdexcept", "stop_token", "streambuf", "string", "string_view",
    "syncstream", "system_error", "thread", "tuple", "type_traits", "typeindex",
    "typeinfo", "unordered_map", "unordered_set", "utility", "valarray", "variant",
    "vector", "version",
    "cassert", "cctype", "cerrno", "cfenv", "cfloat", "cinttypes", "climits", "clocale",
    "cmath", "csetjmp", "csignal", "cstdarg", "cstddef", "cstdint", "cstdio", "cstdlib",
    "cstring", "ctime", "cuchar", "cwchar", "cwctype",
}

SOURCE_SUFFIXES = {".h", ".hpp", ".cc", ".cpp"}
LAYERS_RE = re.compile(r"set\s*\(\s*TRI_LAYERS\s+([^)]*)\)")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def parse_layers(cmake_text):
    """The layer names of `set(TRI_LAYERS ...)`, bottom to top."""
    match = LAYERS_RE.search(cmake_text)
    if not match:
        raise ValueError("no set(TRI_LAYERS ...) found")
    layers = match.group(1).split()
    if not layers:
        raise ValueError("TRI_LAYERS is empty")
    return layers


def core_of(rel_path):
    """The core a path under src/ belongs to, or None (rel_path like 'saga/x.h')."""
    top = rel_path.split("/", 1)[0]
    if top not in CORES:
        return None
    for excluded in CORES[top]:
        if rel_path.startswith(excluded + "/"):
            return None
    return top


def check_file(rel_path, text, layers, src_dirs):
    """Violations in one file under src/ (rel_path relative to src/); src_dirs are the
    names of the directories directly under src/."""
    layer = rel_path.split("/", 1)[0]
    if layer not in layers:
        return [f"src/{rel_path}: directory '{layer}' is not a layer in TRI_LAYERS"]
    own = layers.index(layer)
    core = core_of(rel_path)
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = INCLUDE_RE.match(line)
        if not match:
            continue
        kind, header = match.groups()
        where = f"src/{rel_path}:{number}"
        if kind == "<":
            if core and header not in STD_HEADERS:
                problems.append(f"{where}: core '{core}' includes <{header}>, "
                                "which is not a standard C++ header")
            elif core and header in CORE_FORBIDDEN_STD:
                problems.append(f"{where}: core '{core}' includes <{header}> "
                                "(I/O, threads or randomness belong in drivers)")
            continue
        if "/" not in header:
            problems.append(f'{where}: include "{header}" must name its layer ("layer/...")')
            continue
        target = header.split("/", 1)[0]
        if target not in layers:
            if core:
                problems.append(f'{where}: core "{core}" includes "{header}"; '
                                f"a core includes only base/ and {core}/")
            elif target in src_dirs:
                problems.append(f'{where}: include "{header}" names src/{target}/, '
                                "which is not a layer in TRI_LAYERS")
            # Otherwise a generated header outside src/ (e.g. "etcdserverpb/rpc.pb.h").
            continue
        if "/internal/" in header and target != layer:
            problems.append(f'{where}: include "{header}" is internal to layer "{target}" '
                            "(use its public headers)")
            continue
        if layers.index(target) > own:
            problems.append(f'{where}: layer "{layer}" includes "{header}" from the later '
                            f'layer "{target}" (order: {" ".join(layers)})')
            continue
        if core:
            if target == "base" and header in DRIVER_ONLY_BASE_HEADERS:
                problems.append(f'{where}: core "{core}" includes the driver-side "{header}"')
            elif (target != "base" and core_of(header) is None
                  and (header not in CORE_ALLOWED_HEADERS or target == core)):
                problems.append(f'{where}: core "{core}" includes "{header}"; '
                                f"a core includes only base/, cores and pure parsers")
    return problems


def check_tree(root):
    """Violations in every source file under root/src."""
    src = pathlib.Path(root) / "src"
    layers = parse_layers((src / "CMakeLists.txt").read_text())
    src_dirs = {p.name for p in src.iterdir() if p.is_dir()}
    problems = []
    for path in sorted(src.rglob("*")):
        if path.is_file() and path.suffix in SOURCE_SUFFIXES:
            rel = path.relative_to(src).as_posix()
            text = path.read_text(errors="replace")
            problems.extend(check_file(rel, text, layers, src_dirs))
    return layers, problems


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=pathlib.Path(__file__).resolve().parent.parent)
    args = parser.parse_args(argv)
    try:
        layers, problems = check_tree(args.root)
    except (OSError, ValueError) as error:
        print(f"check_layers: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_layers: {len(problems)} violation(s) of the layer rule", file=sys.stderr)
        return 1
    print(f"check_layers: clean ({' '.join(layers)})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
