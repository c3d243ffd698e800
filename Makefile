# Berth: two commands on a fresh Debian 12 machine, as root.
#   make demo   installs what is missing, builds, runs a container end to end
#   make test   installs what is missing, builds, runs every test
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

# Debian packages the build, the tests and the benchmarks use.
PACKAGES := busybox-static podman containerd runc crun hyperfine time iproute2 gcc libseccomp-dev pkg-config python3 python3-venv bsdutils libarchive-dev zstd libsqlite3-dev docker-registry apache2-utils openssl containernetworking-plugins iptables
# The independent CRI client the tests drive berthd with (PyPI), in a venv of our own.
PYTHON_PACKAGES := container-runtime-interface-api grpcio protobuf
VENV := .build/venv
RELEASE_FLAGS := -c release
BERTH := .build/release/berth
PROBE := .build/release/berth-probe

.PHONY: all deps python-deps build demo test unit-test bench clean

all: build

deps:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v swift >/dev/null || { echo "swift 6 is required (expected at /opt/swift/usr/bin)"; exit 1; }

python-deps: deps
	@[ -x $(VENV)/bin/python ] && $(VENV)/bin/python -c 'import cri_api.v1.api_pb2, grpc' 2>/dev/null || { \
	  echo "installing into $(VENV): $(PYTHON_PACKAGES)"; \
	  python3 -m venv $(VENV) && $(VENV)/bin/pip install -q $(PYTHON_PACKAGES); }

PAUSE := .build/release/berth-pause

build: deps
	swift build $(RELEASE_FLAGS) --product berth
	swift build $(RELEASE_FLAGS) --product berth-probe
	gcc -static -Os -s -o $(PAUSE) tools/pause/pause.c
	@./scripts/tidy-swiftpm-tmp.sh

# The whole stack: berth, berth-shim and berth-pause in release; berthd and berthctl in
# the debug build `swift test` shares (a release build of gRPC and NIO takes a quarter
# of an hour on two cores).
demo: build
	swift build $(RELEASE_FLAGS) --product berth-shim
	swift build --product berthd
	swift build --product berthctl
	./scripts/demo.sh .build/debug .build/release

# Integration tests find the release binaries and the CRI client through these variables
# (berthd is the debug build swift test makes).
# The whole run is bounded (TEST_TIMEOUT) so a hang fails with its log instead of running
# into CI's limit; grep is line-buffered so CI's log shows how far the run got. The first
# `ip netns add` of the tests leaves iproute2's /run/netns bind mount: removed when empty.
TEST_TIMEOUT := 45m
test: build python-deps
	BERTH_BINARY=$(CURDIR)/$(BERTH) BERTH_PROBE=$(CURDIR)/$(PROBE) BERTH_PAUSE=$(CURDIR)/$(PAUSE) CRI_PYTHON=$(CURDIR)/$(VENV)/bin/python timeout --kill-after=30s $(TEST_TIMEOUT) swift test 2>&1 | tee .build/test.log | grep --line-buffered -vE '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Linking|Build|Applying|Wrapping)'; \
	  status=$${PIPESTATUS[0]}; ./scripts/tidy-swiftpm-tmp.sh; \
	  if [ -z "$$(ip netns list 2>/dev/null)" ] && grep -q ' /run/netns ' /proc/mounts; then umount /run/netns; fi; \
	  if [ $$status -eq 124 ] || [ $$status -eq 137 ]; then echo "make test: stopped after $(TEST_TIMEOUT); the last tests started are at the end of .build/test.log"; fi; \
	  exit $$status

bench: build python-deps
	swift build $(RELEASE_FLAGS) --product berthd
	swift build $(RELEASE_FLAGS) --product berthctl
	swift build $(RELEASE_FLAGS) --product berth-shim
	./bench/run-start.sh $(BERTH)
	./bench/run-exec.sh $(BERTH)
	./bench/run-pull.sh .build/release
	./bench/run-pod.sh .build/release

clean:
	rm -rf .build
