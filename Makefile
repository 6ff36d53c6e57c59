# make dev  — emulators + server + web client for development (Ctrl-C stops everything)
# make test — the whole suite against fresh emulators on free ports
SHELL := /bin/bash
PORT ?= 8080
CORS_ORIGINS ?= http://127.0.0.1:5173,http://localhost:5173
# Every test has a Firestore database of its own (chattest.Database), so
# tests and packages running side by side do not slow each other's
# queries: two packages at a time (-p 2), four parallel tests in each
# (-parallel 4); the tests that measure the process's heap or goroutines
# do not call t.Parallel and run alone in theirs. ./handlers/ is named
# first: the longest package starts first (README, "Tests").
GO_TEST_FLAGS ?= -race -count=1 -p 2 -parallel 4 -timeout 14m

.PHONY: dev test build bench vet screenshot load

dev:
	@PORT=$(PORT) CORS_ORIGINS=$(CORS_ORIGINS) dev/with-emulators.sh dev/serve.sh

# The Go suite, then every fuzz target for FUZZ_SECONDS (dev/fuzz.sh) beside
# the web client's unit tests and its browser test in Debian's Chromium
# (dev/fuzz-and-web.sh), all against one set of fresh emulators.
FUZZ_SECONDS ?= 5

test:
	dev/install-web.sh
	dev/install-browser.sh
	dev/with-emulators.sh bash -c 'go test $(GO_TEST_FLAGS) ./handlers/ ./... && dev/fuzz-and-web.sh $(FUZZ_SECONDS)'

# load: the load tool against fresh emulators; LOAD_FLAGS as in
# docs/performance.md (e.g. LOAD_FLAGS="-instances 2 -rate 50").
LOAD_FLAGS ?=
load:
	go build -o bin/server ./cmd/server
	dev/with-emulators.sh go run ./cmd/chatload $(LOAD_FLAGS)

bench:
	dev/with-emulators.sh go test -run '^$$' -bench . -benchtime 3s ./...

build:
	go build -o bin/server ./cmd/server
	dev/install-web.sh && cd web && npm run -s build

# screenshot: the browser test, keeping its picture for the README.
screenshot:
	dev/install-web.sh
	dev/install-browser.sh
	CHATAPP_SCREENSHOT=$(CURDIR)/docs/web-client.png dev/with-emulators.sh dev/web-test.sh

vet:
	gofmt -l . | (! grep .) && go vet ./...
