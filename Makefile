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

.PHONY: deps test-deps bench-deps install demo test build release validate bench

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

test: test-deps
	swift test

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
