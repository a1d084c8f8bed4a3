# dashd build. `make run` and `make test` are the two commands a fresh clone needs.
GO       ?= go
PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/dashd
DATASTAR := node_modules/@starfederation/datastar/dist/datastar.js
VENDORED := ui/static/vendor/datastar.js

.PHONY: all run build assets templ templ-check vet lint test fuzz bench bench-fanout bench-fanout-daemon bench-footprint bench-alerts bench-fleet install uninstall clean

all: build

# npm ci only when the lock file changed or node_modules is missing.
$(DATASTAR): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(VENDORED): $(DATASTAR)
	cp $(DATASTAR) $@

assets: $(VENDORED)

# Regenerate templ code after editing *.templ (commit the result).
templ:
	$(GO) tool templ generate

# Fails when committed *_templ.go files are stale.
templ-check:
	$(GO) tool templ generate -check

build: assets templ-check
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/dashd

run: build
	./$(BIN) --config config.yaml

vet: assets
	$(GO) vet ./...

# staticcheck, pinned in go.mod as a tool (no separate install). It must stay
# clean: fix what it finds, or, only where the code is right and the check
# wrong, silence that one line with //lint:ignore CHECK reason.
lint: assets
	$(GO) tool staticcheck ./...

test: assets templ-check vet lint
	$(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) fuzz

# The fuzz targets, briefly: the config decoder and Datastar signal parsing
# take input from files and clients that may be hostile.
FUZZTIME ?= 10s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz '^FuzzReadSignals$$' -fuzztime $(FUZZTIME) ./hub

bench: assets
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Fan-out load figures for the SSE hub (see README "Performance").
bench-fanout: assets
	$(GO) run ./cmd/dashd-bench fanout -n 10000 -duration 30s

# The real broadcast path: N dashboard streams on a real dashd (its scheduler's
# own ticks) against a bare-socket loop replaying the same bytes, at 2,000 and
# 10,000 clients. Loader, daemon and floor share the machine: run it twice.
bench-fanout-daemon: build
	$(GO) run ./cmd/dashd-bench fanout -mode daemon -bin $(BIN) -n 2000 -duration 30s
	$(GO) run ./cmd/dashd-bench fanout -mode daemon -bin $(BIN) -n 10000 -duration 30s

# Whole-daemon CPU, RSS and dashboard bytes/s with 20 checks (README "Performance").
bench-footprint: build
	$(GO) run ./cmd/dashd-bench footprint -bin $(BIN) -checks 20 -interval 10s -duration 60s

# Alert delivery figures (issue #14): latency, a storm, kill -9 during a
# storm, a receiver down then back, the footprint alerting adds. A short run
# by default (about 8 minutes); BENCH_ALERTS= (empty) runs the full one
# (the receiver down for 10 minutes, 20 kills: about 25 minutes).
BENCH_ALERTS ?= -down 1m -kills 5 -footprint 30s
bench-alerts: build
	$(GO) run ./cmd/dashd-bench alerts -bin $(BIN) $(BENCH_ALERTS)

# Fleet figures (issue #18): a real hub and N simulated agents on real NATS
# connections (they share the machine's cores), at 100 and 1,000 agents,
# plus a real `dashd agent`'s footprint against `dashd serve`.
bench-fleet: build
	$(GO) run ./cmd/dashd-bench fleet -bin $(BIN) -n 100
	$(GO) run ./cmd/dashd-bench fleet -bin $(BIN) -n 1000

# Installs the binary built by `make build` (built now if missing).
install:
	@test -x $(BIN) || $(MAKE) build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/dashd
	install -d $(DESTDIR)/etc/systemd/system
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/dashd/README.md
	install -D -m 0644 docs/ARCHITECTURE.md $(DESTDIR)$(PREFIX)/share/doc/dashd/ARCHITECTURE.md
	install -D -m 0644 config.yaml $(DESTDIR)$(PREFIX)/share/doc/dashd/config.yaml.example
	sed -e 's#/usr/local/bin/dashd#$(PREFIX)/bin/dashd#g' -e 's#/usr/local/share/doc/dashd#$(PREFIX)/share/doc/dashd#g' \
		systemd/dashd.service > $(DESTDIR)/etc/systemd/system/dashd.service
	chmod 0644 $(DESTDIR)/etc/systemd/system/dashd.service
	@if [ -e $(DESTDIR)/etc/dashd/config.yaml ]; then \
		echo "keeping existing $(DESTDIR)/etc/dashd/config.yaml"; \
	else \
		install -D -m 0644 config.yaml $(DESTDIR)/etc/dashd/config.yaml; \
	fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/dashd $(DESTDIR)/etc/systemd/system/dashd.service
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/dashd
	@echo "left $(DESTDIR)/etc/dashd and /var/lib/dashd in place (your configuration and history)"

clean:
	rm -rf bin $(VENDORED)
