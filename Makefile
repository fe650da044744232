# `make demo` and `make test` work on a fresh Debian machine: they install the
# system libraries the build links against when they are missing, then run.

DEBIAN_PACKAGES := libcurl4-openssl-dev libsqlite3-dev libssl-dev
# The tests also check reports with real consumers: xmllint validates JUnit against an
# XSD, Chromium renders the HTML pages.
TEST_PACKAGES := libxml2-utils chromium
# The benchmark compares with wrk on nginx and on the mock; GNU time reads peak memory;
# valgrind (callgrind) counts instructions.
BENCH_PACKAGES := wrk time nginx-light valgrind
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps test-deps bench-deps install demo test build release validate bench fuzz fuzz-build

deps:
	@$(MAKE) --no-print-directory install PACKAGES="$(DEBIAN_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory install PACKAGES="$(DEBIAN_PACKAGES) $(TEST_PACKAGES)"

bench-deps:
	@$(MAKE) --no-print-directory install PACKAGES="$(DEBIAN_PACKAGES) $(BENCH_PACKAGES)"

install:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

demo: deps
	swift run sonde demo

# The tests, then every fuzz target for a short smoke run, so that no harness rots.
test: test-deps
	swift test
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

FUZZ_SMOKE_SECONDS ?= 30

build: deps
	swift build

release: deps
	swift build -c release

validate: build
	swift run sonde validate collections

# Speed figures (release build); see the README.
bench: bench-deps
	swift build -c release --product sonde
	swift build -c release --product sonde-bench
	swift build -c release --product curl-loop
	.build/release/sonde-bench $(SECTIONS)

# The libFuzzer targets (Sources/sonde-fuzz), AddressSanitizer on, in a build of their own:
# each for FUZZ_SECONDS (default 3 minutes), FUZZ_JOBS at a time. See Fuzz/run.
FUZZ_SECONDS ?= 180
FUZZ_BUILD := swift build -c release --product sonde-fuzz --scratch-path .build-fuzz \
	-Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -g -Xcc -fsanitize=fuzzer-no-link

fuzz-build: deps
	$(FUZZ_BUILD)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) Fuzz/run
