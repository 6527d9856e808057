# Trinity: the two commands that matter are `make demo` and `make test`.
PRESET ?= release
BUILD_DIR := build/$(PRESET)
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
export CCACHE_MAXSIZE ?= 5G
# Cache hits across clones in different directories (CI builds a fresh clone).
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1

SOURCES = $(shell git ls-files '*.cc' '*.h' 2>/dev/null)

.PHONY: all deps configure build demo test tsan-txn bench fuzz fmt fmt-check lint clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

demo: build
	$(BUILD_DIR)/src/cli/tri demo

test: build
	ctest --preset $(PRESET) -j $(JOBS)

# The parallel transaction executor under ThreadSanitizer: only its stress
# test is built in the tsan preset (docs/transactions.md; TXN_STRESS_BATCHES in
# the environment sets the batches per test).
tsan-txn: deps
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan -j $(JOBS) --target txn_stress_test
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build/tsan/tests/txn/txn_stress_test

bench: build
	scripts/run-bench.sh $(BUILD_DIR)

fuzz: deps
	scripts/fuzz-smoke.sh $(FUZZ_SECONDS)

fmt:
	clang-format -i $(SOURCES)

fmt-check:
	clang-format --dry-run -Werror $(SOURCES)

lint: configure fmt-check
	@command -v clang-tidy >/dev/null && \
	  clang-tidy -p $(BUILD_DIR) --quiet $(filter %.cc,$(filter src/%,$(SOURCES))) || true

clean:
	rm -rf build
