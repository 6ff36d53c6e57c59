# make dev  — emulators + server + web client for development (Ctrl-C stops everything)
# make test — the whole suite against fresh emulators on free ports
SHELL := /bin/bash
PORT ?= 8080
CORS_ORIGINS ?= http://127.0.0.1:5173,http://localhost:5173
# -p 1: one package at a time. The stress test and the process tests
# (server binaries, a private Firestore emulator) each load both cores;
# run side by side they starve each other into timeouts.
GO_TEST_FLAGS ?= -race -count=1 -p 1 -timeout 14m

.PHONY: dev test build bench vet screenshot load

dev:
	@PORT=$(PORT) CORS_ORIGINS=$(CORS_ORIGINS) dev/with-emulators.sh dev/serve.sh

# The Go suite, every fuzz target for FUZZ_SECONDS (dev/fuzz.sh), then the
# web client's unit tests and its browser test in Debian's Chromium, all
# against one set of fresh emulators.
FUZZ_SECONDS ?= 5

test:
	dev/install-web.sh
	dev/install-browser.sh
	dev/with-emulators.sh bash -c 'go test $(GO_TEST_FLAGS) ./... && dev/fuzz.sh $(FUZZ_SECONDS) && dev/web-test.sh'

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
