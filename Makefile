# Sluice - the two commands a newcomer needs: `make demo` and `make test`.
# Everything goes through CMake; this file only names the common flows.
JOBS ?= 2
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all setup build demo test test-release test-asan memcheck bench bench-gateway fuzz fuzz-smoke clean

all: build

setup:
	@./scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@./scripts/demo.sh $(BUILD)/sluice

# Every test: the release build, the same suite under ASan+UBSan, then the unit
# and conformance tests under valgrind memcheck.
test: test-release test-asan memcheck

test-release: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# (the crash test runs a smaller set under ASan: 400 files, 15 kills)
test-asan: setup
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSL_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  SLUICE_CRASH_FILES=400 SLUICE_CRASH_KILLS=15 SLUICE_CRASH_NTH=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

memcheck: build
	@./tests/memcheck.sh $(BUILD)

# libFuzzer targets (clang-14): `make fuzz` runs each for FUZZ_SECONDS and folds
# new finds into the committed corpora; `make fuzz-smoke` is CI's short run.
FUZZ_SECONDS ?= 300
fuzz:
	@./scripts/setup.sh --fuzz
	@./tests/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke:
	@./scripts/setup.sh --fuzz
	@SL_FUZZ_MERGE=0 ./tests/fuzz/run.sh 60

bench: build
	@./bench/run.sh $(BUILD)

# the gateway service's floors (small files, a large file, latency)
bench-gateway: build
	@./bench/gateway.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
