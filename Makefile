# Two commands for a fresh Debian machine:
#   make run    install what is missing, build, start `sluice serve` with the examples
#   make test   install what is missing, build, run every test
SHELL := /bin/bash
APT_PACKAGES := libsqlite3-dev libcurl4-openssl-dev pkg-config
DB ?= sluice.sqlite
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build run test bench floors clean

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

test: deps
	swift build --build-tests
	swift test --skip-build

bench: build
	.build/release/sluice bench queue --jobs 20000 --concurrency 8
	.build/release/sluice bench claim

# libcurl and SQLite alone (bench/floors), next to wrk: the floor under `sluice bench http`.
floors: deps
	bash bench/floors/run.sh $(URL)

clean:
	rm -rf .build
