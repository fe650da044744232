# `make demo` and `make test` work on a fresh Debian machine: they install the
# system libraries the build links against when they are missing, then run.

DEBIAN_PACKAGES := libcurl4-openssl-dev libsqlite3-dev libssl-dev libxml2-dev libpq-dev
# The tests also check reports with real consumers: xmllint validates JUnit against an
# XSD, Chromium renders the HTML pages; nginx serves HTTP/2 and mutual TLS, with
# certificates the openssl CLI makes; PostgreSQL's server runs a throwaway cluster for the
# team history's tests.
TEST_PACKAGES := libxml2-utils chromium nginx-light openssl postgresql
# The benchmark compares with wrk on nginx and on the mock; GNU time reads peak memory;
# valgrind (callgrind) counts instructions; postgresql serves the team history's load.
BENCH_PACKAGES := wrk time nginx-light valgrind postgresql
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps test-deps bench-deps packages install check-install demo test build release validate bench fuzz fuzz-build

deps:
	@$(MAKE) --no-print-directory packages PACKAGES="$(DEBIAN_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory packages PACKAGES="$(DEBIAN_PACKAGES) $(TEST_PACKAGES)"

bench-deps:
	@$(MAKE) --no-print-directory packages PACKAGES="$(DEBIAN_PACKAGES) $(BENCH_PACKAGES)"

# Installs the Debian packages in PACKAGES that are missing.
packages:
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

# A release binary with the Swift runtime linked in (--static-swift-stdlib): it runs on a
# Debian machine without a Swift toolchain, needing only libcurl, libsqlite3 and libssl. With
# it, a man page (swift-argument-parser's generate-manual plugin) and shell completions.
# The plugin builds every product to read their help; in debug, which `swift test` has built
# already (a release build of its own would compile everything a second time).
PREFIX ?= /usr/local
MANUAL := .build/plugins/GenerateManual/outputs/sonde/sonde.1
install: deps
	swift package generate-manual --configuration debug
	swift build -c release --product sonde --static-swift-stdlib
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -s -m 0755 .build/release/sonde $(DESTDIR)$(PREFIX)/bin/sonde
	install -m 0644 $(MANUAL) $(DESTDIR)$(PREFIX)/share/man/man1/sonde.1
	.build/release/sonde --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/sonde
	.build/release/sonde --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_sonde
	.build/release/sonde --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/sonde.fish
	@echo "installed $(DESTDIR)$(PREFIX)/bin/sonde, its man page and completions (bash, zsh, fish)"

# `make install` into a temporary PREFIX, checked as on a machine without Swift (Scripts/check-install).
check-install: deps
	Scripts/check-install

# The tests, then every fuzz target for a short smoke run, so that no harness rots, then
# `make install` checked as on a machine without Swift.
test: test-deps
	swift test
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)
	Scripts/check-install

FUZZ_SMOKE_SECONDS ?= 30

build: deps
	swift build

release: deps
	swift build -c release

validate: build
	swift run sonde validate collections

# Speed figures (release build, the Swift runtime linked in as `make install` links it: the
# same objects, and the start-up users get); see the README. SECTIONS picks some of parse,
# runner, callgrind, history, team (TEAM_RUNS: runs per process of the team load, 500). SONDE_INSTALLED=PATH (a binary `make install` wrote) adds its
# cold start beside this build's.
bench: bench-deps
	swift build -c release --product sonde --static-swift-stdlib
	swift build -c release --product sonde-bench --static-swift-stdlib
	swift build -c release --product curl-loop --static-swift-stdlib
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
