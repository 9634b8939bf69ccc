# Chat message system: build, run and test from the repository root.
SHELL := /bin/bash
.DEFAULT_GOAL := help

EDGE_PORT ?= 8080
MESSAGE_PORT ?= 8081
EDGE_METRICS_PORT ?= 9464
MESSAGE_METRICS_PORT ?= 9465

# Extra environment of the processes `make run` starts: both of them, or one.
RUN_ENV ?=
RUN_EDGE_ENV ?=
RUN_MESSAGE_ENV ?=

# `make run-auth` and `make token`: a development HS256 secret, made on first use, kept in .tmp/ (gitignored).
DEV_JWT_SECRET ?= .tmp/dev-jwt-secret
DEV_AUTH_ENV = AUTH_MODE=jwt AUTH_JWT_SECRET_FILE=$(DEV_JWT_SECRET) AUTH_ISSUER=chat-dev AUTH_AUDIENCE=chat-api
# The key the edge signs its calls to the message service with under AUTH_MODE=jwt (both read it).
SERVICE_AUTH_DEV_KEY := .tmp/service-auth-dev-key
SERVICE_AUTH_DEV_ENV = SERVICE_AUTH_KEYS_FILE=$(SERVICE_AUTH_DEV_KEY) SERVICE_AUTH_KEY_FILE=$(SERVICE_AUTH_DEV_KEY)

.PHONY: help node node-path install build run run-auth token docs typecheck test test-only screenshots generate check-generated lint-proto

# Everything here (run, tests, the bench) runs on the images' Node version (the Dockerfiles'
# NODE_IMAGE), so what is tested and measured is what is deployed. Where the machine's node
# is another major, `make node` installs that version into .tmp/ from the npm registry's
# `node` package (the official binaries), and this PATH puts it first.
NODE_VERSION := 24.20.0
LOCAL_NODE := $(CURDIR)/.tmp/node-$(NODE_VERSION)
export PATH := $(LOCAL_NODE)/node_modules/.bin:$(PATH)

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 20

node: ## Make sure node $(NODE_VERSION)'s major is the one on PATH (installed into .tmp/ when the machine has another)
	@major=$(firstword $(subst ., ,$(NODE_VERSION))); \
	current=$$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none); \
	if [[ $$current != "$$major" ]]; then \
	  echo "node $(NODE_VERSION): installing it into .tmp/ (this machine's node is $$current)" >&2; \
	  npm install --prefix "$(LOCAL_NODE)" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node@$(NODE_VERSION)" >/dev/null; \
	fi; \
	node --version >/dev/null

node-path: ## Print the folder make puts first on PATH for node (for scripts outside make)
	@echo "$(LOCAL_NODE)/node_modules/.bin"

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node node_modules/.package-lock.json ## Install dependencies (npm ci)

build: install ## Compile every workspace package to dist/
	npm run build

# Starts the message service, then the edge; Ctrl-C or SIGTERM stops both (each drains and
# exits 0), and when one of them ends the other is stopped too. A process that Ctrl-C reaches
# before its signal handlers are in place dies of SIGINT (status 130): a stop, not a failure.
# Pretty logs on a terminal.
define run-stack
if [[ -t 1 ]]; then format=$${LOG_FORMAT:-pretty}; else format=$${LOG_FORMAT:-json}; fi; \
stop() { kill -TERM $$message $$edge 2>/dev/null; wait; }; \
trap 'stop; exit 0' INT TERM; \
env LOG_FORMAT=$$format PORT=$(MESSAGE_PORT) METRICS_PORT=$(MESSAGE_METRICS_PORT) $(RUN_ENV) $(RUN_MESSAGE_ENV) \
  node --import ./services/message/dist/instrumentation.js services/message/dist/main.js & message=$$!; \
env LOG_FORMAT=$$format PORT=$(EDGE_PORT) METRICS_PORT=$(EDGE_METRICS_PORT) MESSAGE_SERVICE_URL=http://127.0.0.1:$(MESSAGE_PORT) \
  $(RUN_ENV) $(RUN_EDGE_ENV) node --import ./services/edge/dist/instrumentation.js services/edge/dist/main.js & edge=$$!; \
echo "chat page and REST API on http://localhost:$(EDGE_PORT)/, message service on :$(MESSAGE_PORT). Try it from a second terminal; Ctrl-C stops both."; \
wait -n; status=$$?; stop; \
case $$status in 130|143) exit 0;; *) exit $$status;; esac
endef

run: build ## Run the edge (:8080) and the message service (:8081); in-memory storage unless REDIS_URL or REDIS_CLUSTER_NODES is set
	@$(run-stack)

run-auth: override RUN_EDGE_ENV += $(DEV_AUTH_ENV)
run-auth: override RUN_MESSAGE_ENV += AUTH_REQUIRE_USER=true
run-auth: override RUN_ENV += $(SERVICE_AUTH_DEV_ENV)
run-auth: build $(DEV_JWT_SECRET) $(SERVICE_AUTH_DEV_KEY) ## Same as run, with bearer JWTs required (AUTH_MODE=jwt, a development secret); see make token
	@$(run-stack)

token: install $(DEV_JWT_SECRET) ## Print a development JWT that make run-auth accepts: make -s token USER=alice
	@env $(DEV_AUTH_ENV) npx tsx services/edge/scripts/dev-token.ts "$(USER)"

$(DEV_JWT_SECRET):
	@mkdir -p $(@D)
	@umask 077 && node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))' > $@.new && mv $@.new $@

docs: build ## Regenerate the configuration references (docs/configuration/) and the chart's values table (charts/chat/README.md)
	npx tsx test/docs/generate.ts

# With AUTH_MODE=jwt (make run-auth, or make run AUTH_MODE=jwt ...) the message service
# authenticates the edge's calls: both processes get one development key (kid=base64url, made
# once; .tmp/ is not committed).
ifeq ($(AUTH_MODE),jwt)
run: override RUN_ENV += $(SERVICE_AUTH_DEV_ENV)
run: $(SERVICE_AUTH_DEV_KEY)
endif

$(SERVICE_AUTH_DEV_KEY):
	@mkdir -p $(@D) && umask 077 && \
	node -e "process.stdout.write('dev=' + require('node:crypto').randomBytes(32).toString('base64url') + '\n')" > $@

generate: install ## Regenerate TypeScript from proto/ with buf
	npx buf generate

check-generated: install ## Fail when the committed generated code differs from what buf generates
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	npx buf generate --output $$tmp && \
	diff -r $$tmp/packages/proto/src/gen packages/proto/src/gen && echo "generated code is up to date"

lint-proto: install ## buf lint the contracts
	npx buf lint

typecheck: build ## Type-check the tests and the bench (vitest runs tests without checking their types; the build checks the services)
	npx tsc -p test
	npx tsc -p bench

test: build lint-proto check-generated typecheck ## Everything CI checks: build, proto lint, generated code, types of tests and bench, all tests (starts its own Redis)
	test/harness/ensure-redis.sh
	test/harness/ensure-chromium.sh
	npx vitest run $(VITEST_ARGS)

screenshots: build ## Retake the web client's screenshots in docs/screenshots/ (needs Chromium)
	test/harness/ensure-chromium.sh
	npx tsx test/browser/take-screenshots.ts

test-only: ## Run the tests without rebuilding (pass ARGS=path/to/file to narrow)
	npx vitest run $(ARGS)

# --- deployment: images, Helm chart, kind --------------------------------------------
# Images are built from the repository root; CONTAINER_TOOL=podman works too.
CONTAINER_TOOL ?= docker
IMAGE_TAG ?= dev

.PHONY: images chart-check kind-up kind-down

images: ## Build the edge and message service images (IMAGE_TAG=dev, CONTAINER_TOOL=docker|podman)
	$(CONTAINER_TOOL) build -f services/edge/Dockerfile -t chat-edge:$(IMAGE_TAG) .
	$(CONTAINER_TOOL) build -f services/message/Dockerfile -t chat-message:$(IMAGE_TAG) .

chart-check: install ## Lint and render the Helm chart, test its scripts (shellcheck when installed)
	@if command -v shellcheck >/dev/null; then \
	  shellcheck k8s/*.sh charts/chat/charts/redis-cluster/files/*.sh && echo "shellcheck: ok"; \
	else echo "shellcheck not installed: skipped"; fi
	npx vitest run test/chart

kind-up: ## Create a kind cluster, build and load the images, deploy everything, run the smoke test
	CONTAINER_TOOL=$(CONTAINER_TOOL) IMAGE_TAG=$(IMAGE_TAG) k8s/kind-up.sh

kind-down: ## Delete the kind cluster
	CONTAINER_TOOL=$(CONTAINER_TOOL) k8s/kind-down.sh

# --- benchmarks -----------------------------------------------------------------------
# Not part of `make test`. Each run starts its own redis-server, the single-process baseline
# and the stack on loopback ports, and stops them at the end. BENCH_DURATION (s per run),
# BENCH_RUNS and the rest are read from the environment: see bench/README.md.
.PHONY: bench bench-quick bench-profile

bench: build ## Benchmark the stack against the single-process baseline (~10 min); JSON and an SVG chart in bench/results/
	test/harness/ensure-redis.sh
	npx tsx bench/run.ts

bench-quick: build ## Every benchmark scenario once, briefly, on smaller data (< 2 min): a smoke test
	test/harness/ensure-redis.sh
	BENCH_DURATION=$${BENCH_DURATION:-2} BENCH_RUNS=$${BENCH_RUNS:-1} BENCH_WARMUP=$${BENCH_WARMUP:-1} \
	BENCH_LARGE_HISTORY=$${BENCH_LARGE_HISTORY:-100000} BENCH_MEMORY_MESSAGES=$${BENCH_MEMORY_MESSAGES:-10000} \
	BENCH_MEMORY_CHATS=$${BENCH_MEMORY_CHATS:-2000} npx tsx bench/run.ts

bench-profile: build ## CPU-profile both services under the send load; print their top self-time functions
	test/harness/ensure-redis.sh
	bench/profile.sh

# --- security -------------------------------------------------------------------------
# `make test` runs the fuzz suite with FUZZ_RUNS=200 cases per property; this runs more.
# A failure prints its seed: FUZZ_SEED=<seed> make fuzz replays it.
.PHONY: fuzz audit

fuzz: build ## Fuzz the REST API against real processes: FUZZ_RUNS (2000) cases per property
	test/harness/ensure-redis.sh
	FUZZ_RUNS=$${FUZZ_RUNS:-2000} npx vitest run test/fuzz

audit: ## npm audit of production dependencies: fails on a known high or critical vulnerability
	.ci/npm-audit.sh
