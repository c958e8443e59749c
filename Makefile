# spencer-signage: `make run` starts the product in demo mode, `make test` checks everything.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
PKGS    := ./...
CONFIG  ?= config.toml
BIN     ?= bin/signage

.PHONY: run build generate check-generated lint test test-deps bench fuzz screenshots browsers clean

# run: the product on config.toml (demo mode) until Ctrl-C. It builds, then the shell execs
# the server, so that Ctrl-C and a SIGTERM to make reach the server itself (make passes
# SIGTERM on to its child); `go run` would die of a SIGTERM and leave the server running.
run: build
	exec $(BIN) -config $(CONFIG)

# build: the static binary, exactly as the Dockerfile builds it.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/signage

generate:
	$(GO) tool templ generate -path views

# check-generated: the committed *_templ.go must be what `templ generate` makes of the
# committed *.templ; generating into a copy leaves the work tree alone.
check-generated:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	cp views/*.templ "$$tmp"/ && $(GO) tool templ generate -path "$$tmp" >/dev/null 2>&1 && \
	for f in "$$tmp"/*_templ.go; do \
		if ! cmp -s "$$f" "views/$$(basename $$f)"; then \
			echo "views/$$(basename $$f) is out of date: run make generate and commit it"; exit 1; \
		fi; \
	done && echo "generated templ code is current"

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@$(GO) mod tidy -diff >/dev/null || { echo "go mod tidy would change go.mod/go.sum: run it and commit the result"; $(GO) mod tidy -diff; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	@# the screen's scripts and styles against the TVs' old engines (esbuild's Go API, no Node)
	$(GO) test -count=1 -run '^TestOldEngines' ./static/

# test-deps: the Debian packages the tests need (.ci/test-packages): installed when root,
# else named in one line with the command that installs them.
test-deps:
	@.ci/test-deps

# test: the skips asked for by name (SIGNAGE_SKIP_BROWSER=1, …) are said first and last.
test: test-deps check-generated lint
	$(GO) test -race -count=1 -timeout 30m $(PKGS); status=$$?; .ci/test-deps skipped; exit $$status

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./spencerclient/ ./server/ ./server/screens/
	$(GO) run ./cmd/signage-bench

# screenshots: refresh testdata/screenshots (the README shows some) from the browser tests.
screenshots:
	SIGNAGE_UPDATE_SCREENSHOTS=1 $(GO) test -count=1 -run 'TestBrowserScreenshots|TestBrowserAdminReloadsScreens' ./server/

# browsers: fetch the old Chromium builds the engine tests run on (into
# ~/.cache/spencer-signage, or $SIGNAGE_BROWSER_CACHE) and check that every engine starts,
# answers and reports script errors.
browsers:
	$(GO) test -count=1 -run '^TestEngines$$' ./server/browsertest/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./spencerclient/

clean:
	rm -rf bin
