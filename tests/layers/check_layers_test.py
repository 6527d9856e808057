#!/usr/bin/env python3
"""The layer checker (scripts/check_layers.py) against small trees, good and bad
(ctest: layer_rule_checker_test). Proves the checker fails on each kind of
violation, so that layer_rule_test passing means something."""

import contextlib
import io
import pathlib
import sys
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "scripts"))
import check_layers  # noqa: E402

LAYERS_CMAKE = """# comment
set(TRI_LAYERS base io raft saga rsm
    sim cli)
"""


class Tree:
    """A throwaway repository root with src/CMakeLists.txt and the given files."""

    def __init__(self, files, cmake=LAYERS_CMAKE):
        self._dir = tempfile.TemporaryDirectory()
        self.root = pathlib.Path(self._dir.name)
        (self.root / "src").mkdir()
        if cmake is not None:
            (self.root / "src" / "CMakeLists.txt").write_text(cmake)
        for rel, text in files.items():
            path = self.root / "src" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    def problems(self):
        return check_layers.check_tree(self.root)[1]

    def exit_code(self):
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            return check_layers.main(["--root", str(self.root)])

    def close(self):
        self._dir.cleanup()


GOOD = {
    "base/status.h": "#include <string>\n",
    "raft/raft.h": '#include <vector>\n#include "base/status.h"\n#include "raft/internal/x.h"\n',
    "raft/internal/x.h": '#include "raft/types.h"\n',
    "saga/spec.h": '#include <chrono>\n#include "base/status.h"\n',
    "saga/dsl/parser.cc": ('#include <yaml-cpp/yaml.h>\n#include <fstream>\n'
                           '#include "saga/spec.h"\n#include "io/file.h"\n'),
    "sim/cluster.cc": ('#include <thread>\n#include "raft/raft.h"\n#include "io/file.h"\n'
                       '#include "base/log.h"\n'),
    "cli/main.cc": '#include "sim/cluster.h"\n#include "base/log.h"\n',
}


class CheckLayersTest(unittest.TestCase):
    def check(self, extra, expected_fragment, count=1):
        """The good tree plus `extra` files has `count` violations, one naming the fragment."""
        files = dict(GOOD)
        files.update(extra)
        tree = Tree(files)
        try:
            problems = tree.problems()
            self.assertEqual(len(problems), count, problems)
            self.assertTrue(any(expected_fragment in p for p in problems), problems)
            self.assertEqual(tree.exit_code(), 1)
        finally:
            tree.close()

    def test_parses_layers_across_lines_and_tolerates_inserted_layers(self):
        self.assertEqual(check_layers.parse_layers(LAYERS_CMAKE),
                         ["base", "io", "raft", "saga", "rsm", "sim", "cli"])
        self.assertEqual(
            check_layers.parse_layers("set(TRI_LAYERS base api client server)"),
            ["base", "api", "client", "server"])

    def test_a_good_tree_passes_even_with_layers_that_have_no_directory(self):
        tree = Tree(GOOD)  # io has no directory
        try:
            self.assertEqual(tree.problems(), [])
            self.assertEqual(tree.exit_code(), 0)
        finally:
            tree.close()

    def test_a_layer_including_a_later_layer_fails(self):
        self.check({"sim/bad.cc": '#include "cli/main.h"\n'},
                   'src/sim/bad.cc:1: layer "sim" includes "cli/main.h" from the later layer')

    def test_a_core_including_an_earlier_non_base_layer_fails(self):
        self.check({"raft/bad.cc": '#include "base/status.h"\n#include "io/file.h"\n'},
                   'src/raft/bad.cc:2: core "raft" includes "io/file.h"')

    def test_a_core_including_earlier_cores_and_a_pure_parser_passes(self):
        # The replicated state machine drives the saga orchestrator and parses
        # registered definitions: cores build on cores and pure parsers below them.
        files = dict(GOOD)
        files["rsm/ok.cc"] = '#include "saga/plan.h"\n#include "saga/dsl/parser.h"\n'
        tree = Tree(files)
        try:
            self.assertEqual(tree.problems(), [])
        finally:
            tree.close()

    def test_a_core_including_another_front_end_header_fails(self):
        self.check({"rsm/bad.cc": '#include "saga/dsl/template.h"\n'},
                   'core "rsm" includes "saga/dsl/template.h"')

    def test_a_core_including_its_non_core_front_end_fails(self):
        self.check({"saga/bad.h": '#include "saga/dsl/parser.h"\n'},
                   'core "saga" includes "saga/dsl/parser.h"')

    def test_a_core_including_a_third_party_header_fails(self):
        self.check({"raft/bad.cc": "#include <spdlog/spdlog.h>\n"},
                   "core 'raft' includes <spdlog/spdlog.h>, which is not a standard C++ header")

    def test_a_core_including_a_threading_or_io_header_fails(self):
        self.check({"saga/bad.cc": "#include <thread>\n"}, "core 'saga' includes <thread>")
        self.check({"raft/bad.cc": "  #  include <fstream>\n"}, "core 'raft' includes <fstream>")

    def test_another_layer_including_an_internal_header_fails(self):
        self.check({"sim/bad.cc": '#include "raft/internal/x.h"\n'},
                   'include "raft/internal/x.h" is internal to layer "raft"')

    def test_a_core_including_the_logging_setup_fails(self):
        self.check({"raft/bad.cc": '#include "base/log.h"\n'},
                   'core "raft" includes the driver-side "base/log.h"')

    def test_an_include_of_a_source_directory_that_is_not_a_layer_fails(self):
        self.check({"sim/bad.cc": '#include "coord/kv.h"\n', "coord/kv.h": ""},
                   'include "coord/kv.h" names src/coord/, which is not a layer', count=2)
        self.check({"sim/bad.cc": '#include "helper.h"\n'}, "must name its layer")

    def test_generated_headers_are_allowed_in_drivers_but_not_in_cores(self):
        self.check({"sim/api.cc": '#include "etcdserverpb/rpc.pb.h"\n',
                    "raft/bad.cc": '#include "etcdserverpb/rpc.pb.h"\n'},
                   'src/raft/bad.cc:1: core "raft" includes "etcdserverpb/rpc.pb.h"')

    def test_a_directory_that_is_not_a_layer_fails(self):
        self.check({"coord/kv.h": '#include "base/status.h"\n'},
                   "src/coord/kv.h: directory 'coord' is not a layer in TRI_LAYERS")

    def test_a_tree_without_layer_list_is_an_error_not_a_pass(self):
        tree = Tree(GOOD, cmake="add_subdirectory(base)\n")
        try:
            self.assertEqual(tree.exit_code(), 2)
        finally:
            tree.close()
        tree = Tree(GOOD, cmake=None)
        try:
            self.assertEqual(tree.exit_code(), 2)
        finally:
            tree.close()


if __name__ == "__main__":
    unittest.main()
