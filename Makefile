# Thin wrapper over CMake. `make run` and `make test` are the two set-up commands.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 60
DEMO_DIR   ?= $(BUILD)/demo

.PHONY: all deps build run test asan bench fuzz install clean demo

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@$(BUILD)/sm-gen demo $(DEMO_DIR) >/dev/null

# Scan the generated demo sounds into the default catalog, then serve them:
# the URL and, on the first start, the admin login are printed.
run: deps build demo
	$(BUILD)/samplemind analyze --pretty $(DEMO_DIR)/*.wav
	$(BUILD)/samplemind scan $(DEMO_DIR)
	$(BUILD)/samplemind serve --roots $(abspath $(DEMO_DIR))

test: deps build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSM_ASAN=ON -DSM_UBSAN=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)

bench: deps build
	bash bench/run.sh $(BUILD)

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DSM_FUZZ=ON -DSM_ASAN=ON -DSM_UBSAN=ON -DSM_TESTS=OFF -DSM_WERROR=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_analyze
	bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
