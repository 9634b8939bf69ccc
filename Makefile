# Chat message system: build, run and test from the repository root.
SHELL := /bin/bash
.DEFAULT_GOAL := help

EDGE_PORT ?= 8080
MESSAGE_PORT ?= 8081

.PHONY: help install build run test test-only generate check-generated lint-proto

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 20

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json ## Install dependencies (npm ci)

build: install ## Compile every workspace package to dist/
	npm run build

run: build ## Run the edge (:8080) and the message service (:8081); in-memory storage unless REDIS_URL or REDIS_CLUSTER_NODES is set
	@trap 'kill 0' EXIT INT TERM; \
	PORT=$(MESSAGE_PORT) node services/message/dist/main.js & \
	PORT=$(EDGE_PORT) MESSAGE_SERVICE_URL=http://127.0.0.1:$(MESSAGE_PORT) node services/edge/dist/main.js & \
	wait

generate: install ## Regenerate TypeScript from proto/ with buf
	npx buf generate

check-generated: install ## Fail when the committed generated code differs from what buf generates
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	npx buf generate --output $$tmp && \
	diff -r $$tmp/packages/proto/src/gen packages/proto/src/gen && echo "generated code is up to date"

lint-proto: install ## buf lint the contracts
	npx buf lint

test: build lint-proto check-generated ## Everything CI checks: build, proto lint, generated code, all tests (starts its own Redis)
	test/harness/ensure-redis.sh
	npx vitest run

test-only: ## Run the tests without rebuilding (pass ARGS=path/to/file to narrow)
	npx vitest run $(ARGS)

# --- deployment: images, Helm chart, kind --------------------------------------------
