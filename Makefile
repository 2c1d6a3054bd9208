# fbs — see README.md. Every target that needs host tools installs them first.

# Debian packages fbs runs (fbs doctor lists them with what each is for),
# those aarch64 media need on an x86_64 host (qemu-user-static's binfmt_misc
# entries run the image root's programs; AAVMF boots them), then those only
# the tests use (the web UI's browser test: chromium, a font; rpm2cpio's
# rpm2archive reads the aarch64 demo's RPMs; nasm checks the accelerator
# probe against its source).
PKGS := dnf rpm createrepo-c squashfs-tools erofs-utils xorriso grub-common mtools dosfstools postgresql \
	qemu-system-x86 ovmf kmod busybox-static isomd5sum apt dpkg procps ca-certificates bc curl python3 \
	e2fsprogs mount systemd python3-pyftpdlib \
	qemu-user-static binfmt-support qemu-system-arm qemu-efi-aarch64 rpm2cpio \
	chromium fonts-dejavu-core nasm

GO ?= go
BIN := bin/fbs

# The tests' cache of Debian packages and demo repos, shared across runs
# (the unit tests' aarch64 demo repo, the end-to-end tests' repos).
export FBS_TEST_CACHE ?= /var/cache/fbs-test

.PHONY: all deps build demo test unit lint-api fuzz e2e bench clean

all: build

# deps installs the host tools (as root), once: nothing happens when they are there.
# The aarch64 demo distro is made of Debian's arm64 packages: apt must know that
# architecture. binfmt_misc is mounted where the machine has not (a container),
# and qemu-user-static's entries registered (binfmt-support's postinst cannot
# when it is not mounted), their interpreters made unchangeable by builds
# (deploy/harden-binfmt.sh says why).
deps:
	@dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && apt-get update -qq; }
	@missing=$$(for p in $(PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ] || [ -z "$$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v -e lock -e partial -e auxfiles)" ]; then \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@[ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || true
	@[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 || true
	@deploy/harden-binfmt.sh

build:
	$(GO) build -o $(BIN) ./cmd/fbs

# demo: the main job. Builds the demo distro's repo, a live ISO from it, and boots it in QEMU.
demo: deps build
	./$(BIN) demo

unit:
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e
	$(GO) test ./...

# lint-api checks the API's OpenAPI document with Redocly's recommended rules,
# warnings as errors (internal/api/redocly.yaml). npx fetches the pinned CLI
# from the npm registry once and caches it; it needs Node.js 20.19 or later.
REDOCLY := @redocly/cli@2.77.0
lint-api:
	@command -v npx >/dev/null || { echo "lint-api needs Node.js >= 20.19 and npm (npx)"; exit 1; }
	npx --yes $(REDOCLY) lint --config internal/api/redocly.yaml internal/api/openapi.json

# fuzz runs each parser's fuzz target for a bounded number of inputs (a count,
# not a duration: Go 1.26's fuzz coordinator can fail a duration run at its end,
# go.dev/issue/75804); crashers land in testdata/fuzz. FUZZX=1 for a quick run.
FUZZX ?= 10
fuzz:
	$(GO) test ./internal/spec -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZX)0000x
	$(GO) test ./internal/spec -run '^$$' -fuzz '^FuzzVolumeID$$' -fuzztime $(FUZZX)0000x
	$(GO) test ./internal/kickstart -run '^$$' -fuzz '^FuzzKickstart$$' -fuzztime $(FUZZX)0000x
	$(GO) test ./internal/kickstart -run '^$$' -fuzz '^FuzzSplitArgs$$' -fuzztime $(FUZZX)0000x
	$(GO) test ./internal/api -run '^$$' -fuzz '^FuzzSubmit$$' -fuzztime $(FUZZX)000x
	$(GO) test ./internal/koji -run '^$$' -fuzz '^FuzzHubAnswer$$' -fuzztime $(FUZZX)000x
	$(GO) test ./internal/rpmrepo -run '^$$' -fuzz '^FuzzComps$$' -fuzztime $(FUZZX)00x
	$(GO) test ./internal/rpmrepo -run '^$$' -fuzz '^FuzzPrimarySums$$' -fuzztime $(FUZZX)00x
	$(GO) test ./internal/rpmrepo -run '^$$' -fuzz '^FuzzMetalink$$' -fuzztime $(FUZZX)000x
	$(GO) test ./internal/web -run '^$$' -fuzz '^FuzzForm$$' -fuzztime $(FUZZX)00x
	$(GO) test ./internal/squashfs -run '^$$' -fuzz '^FuzzOpen$$' -fuzztime $(FUZZX)000x

e2e: deps
	$(GO) test -tags e2e -count=1 -timeout 60m ./e2e

# test: everything CI runs: unit tests, the API document's lint, bounded fuzzing, then the end-to-end tests (real builds, QEMU boots).
test: deps unit lint-api fuzz e2e

bench: deps build
	bench/live.sh
	bench/types.sh
	bench/queue.sh
	bench/large.sh

clean:
	rm -rf bin
