# Two commands for a fresh Debian machine:
#   make run    install what is missing, build, start `sluice serve` with the examples
#   make test   install what is missing, build, run every test and the short reliability suite
#   make reliability   the full reliability suite of issue 21 (about an hour; reliability/run.sh)
SHELL := /bin/bash
APT_PACKAGES := libsqlite3-dev libcurl4-openssl-dev pkg-config
DB ?= sluice.sqlite
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build run test reliability bench floors clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	swift build -c release

run: build
	.build/release/sluice serve --db $(DB) --definitions examples

# The short reliability suite runs on the debug binary the tests already built (a release
# build from scratch would add minutes): kill loops, power cut, disk full, fuzz.
test: deps
	swift build --build-tests
	swift test --skip-build
	bash reliability/run.sh short .build/debug/sluice

# The full suite: 10,000 executions x 20 SIGKILLs twice, 180 power cuts, disk full, the
# malformed corpus, schemathesis, five minutes of fuzzing per parser.
reliability: build
	swift build --build-tests
	bash reliability/run.sh full .build/release/sluice

bench: build
	.build/release/sluice bench queue --jobs 20000 --concurrency 8
	.build/release/sluice bench claim

# libcurl and SQLite alone (bench/floors), next to wrk: the floor under `sluice bench http`.
floors: deps
	bash bench/floors/run.sh $(URL)

clean:
	rm -rf .build
