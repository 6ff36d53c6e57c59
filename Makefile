# make dev  — emulators + server for development (Ctrl-C stops everything)
# make test — the whole suite against fresh emulators on free ports
SHELL := /bin/bash
PORT ?= 8080
CORS_ORIGINS ?= http://localhost:5173,http://localhost:3000
# -p 1: one package at a time. The stress test and the process tests
# (server binaries, a private Firestore emulator) each load both cores;
# run side by side they starve each other into timeouts.
GO_TEST_FLAGS ?= -race -count=1 -p 1 -timeout 14m

.PHONY: dev test build bench vet

dev:
	@PORT=$(PORT) CORS_ORIGINS=$(CORS_ORIGINS) dev/with-emulators.sh dev/serve.sh

# The suite, then every fuzz target for FUZZ_SECONDS (dev/fuzz.sh), all
# against one pair of fresh emulators.
FUZZ_SECONDS ?= 5

test:
	dev/with-emulators.sh bash -c 'go test $(GO_TEST_FLAGS) ./... && dev/fuzz.sh $(FUZZ_SECONDS)'

bench:
	dev/with-emulators.sh go test -run '^$$' -bench . -benchtime 3s ./...

build:
	go build -o bin/server ./cmd/server

vet:
	gofmt -l . | (! grep .) && go vet ./...
