# Strand: `make run` installs what is missing, builds and starts Strand on embedded
# defaults (data under ./data); `make test` installs, builds and runs every test.

BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_FLAGS ?=

# ccache: paths under the checkout are hashed relative to it, and the build directory is
# left out of the hash (-g would otherwise put it in), so a fresh clone reuses the cache
# that another clone filled.
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1

.PHONY: all deps build web run test unit-test bench-smoke asan-configure asan-test asan-run fuzz-test fuzz-run e2e-test k8s-test traceql-grammar-test bench clean format

all: build

deps:
	@scripts/install-deps.sh

deps-npm:
	@scripts/install-deps.sh --npm

# Release build with line tables (-g1: symbolized backtraces and profiles; a third less
# compile time than full -g).
$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" $(CMAKE_FLAGS)

# The web UI (TypeScript, npm) is built first; cmake embeds web/dist into the binary.
WEB_SOURCES := $(shell find web -path web/node_modules -prune -o -path web/dist -prune -o -type f -print 2>/dev/null)

web/dist/index.html: $(WEB_SOURCES)
	@if [ -f web/package.json ]; then cd web && npm run build --silent; fi

web: deps-npm
	@if [ -f web/package.json ]; then $(MAKE) --no-print-directory web/dist/index.html; fi

build: deps web $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/strand

# make test builds two trees: the release binary (build/, gcc) that the end-to-end,
# Kubernetes and grammar suites drive, and the sanitizer tree (build-asan/, clang) for the
# unit tests, benchmarks (compiled only) and fuzzers. The suites run while the sanitizer
# tree compiles at low priority (scripts/test.sh); then the unit tests under the
# sanitizers and the fuzzers run.
test: deps web $(BUILD)/build.ninja asan-configure
	@BUILD=$(BUILD) BUILD_ASAN=$(BUILD_ASAN) JOBS=$(JOBS) scripts/test.sh

# The unit tests and benchmark smoke runs in the release tree (not part of make test,
# which runs the unit tests under the sanitizers).
unit-test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench-smoke: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L benchmark

# One clang build serves the sanitizer run and the fuzzers: AddressSanitizer +
# UndefinedBehaviorSanitizer, -Wthread-safety -Werror on our sources, and the libFuzzer
# targets beside the unit tests (the code they fuzz carries libFuzzer's coverage).
# (A directory configured earlier with another compiler is reconfigured from scratch:
# CMake would otherwise drop the cache and stop halfway, failing once.)
asan-configure:
	@if [ -f $(BUILD_ASAN)/CMakeCache.txt ] && \
	  ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++$$' $(BUILD_ASAN)/CMakeCache.txt; then \
	  echo "asan-configure: $(BUILD_ASAN) was configured with another compiler; starting afresh"; \
	  rm -rf $(BUILD_ASAN)/CMakeCache.txt $(BUILD_ASAN)/CMakeFiles; \
	fi
	cmake -S . -B $(BUILD_ASAN) -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only \
	  -DSTRAND_SANITIZE=ON -DSTRAND_FUZZ=ON -DSTRAND_WERROR=ON $(CMAKE_FLAGS) >/dev/null

# The unit tests under the sanitizers (asan-run: only run them, already built).
asan-test: asan-configure
	cmake --build $(BUILD_ASAN) -j $(JOBS) --target strand_unit_tests
	@$(MAKE) --no-print-directory asan-run

asan-run:
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit

# The libFuzzer targets, each run briefly over its seed corpus (fuzz-run: only run them).
fuzz-test: asan-configure
	cmake --build $(BUILD_ASAN) -j $(JOBS) --target strand_fuzzers
	@$(MAKE) --no-print-directory fuzz-run

fuzz-run:
	FUZZ_JOBS=$(JOBS) tests/fuzz/run.sh $(BUILD_ASAN)

# End-to-end tests: the real binary driven by real OpenTelemetry SDKs (Node.js).
e2e-test:
	cd tests/e2e && STRAND_BIN=$(CURDIR)/$(BUILD)/strand npm test

# Kubernetes: every Kustomize overlay rendered by kubectl and validated against the API
# schemas; the webhook's patch applied to a Node.js service that then traces into Strand.
k8s-test:
	cd tests/k8s && STRAND_BIN=$(CURDIR)/$(BUILD)/strand npm test

# The TraceQL conformance cases parsed by Grafana's own grammar (@grafana/lezer-traceql).
traceql-grammar-test:
	cd tests/traceql/lezer && npm test

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)

format:
	find src tools bench tests -name '*.cc' -o -name '*.h' | xargs clang-format -i
