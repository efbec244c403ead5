# Every target bootstraps its own virtualenv: on a fresh machine `make run` and
# `make test` are all you need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CDK := npx --yes aws-cdk@2
ARGS ?=
PYTEST_ARGS ?=

.PHONY: help venv run token test test-unit test-integration test-infra test-e2e lint format \
        openapi fuzz lock audit bench synth deploy clean console

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): pyproject.toml sdk/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,cli]" -e ./sdk
	touch $(STAMP)

venv: $(STAMP)  ## Create the virtualenv and install everything

# The web console (console/): npm ci from its lockfile, then API types from openapi.json,
# type check, unit tests and bundle into console/dist (see console/README.md).
CONSOLE_DEPS := console/node_modules/.installed
CONSOLE_BUILT := console/dist/index.html
CONSOLE_SOURCES := $(shell find console/src console/public console/tests -type f -not -name '*.gen.ts') \
	console/index.html console/build.mjs console/tsconfig.json console/headers.json \
	layers/licensing_core/python/licensing_core/openapi.json

$(CONSOLE_DEPS): console/package-lock.json console/package.json
	cd console && npm ci --no-audit --no-fund
	touch $@

$(CONSOLE_BUILT): $(CONSOLE_DEPS) $(CONSOLE_SOURCES)
	cd console && node build.mjs

console: $(CONSOLE_BUILT)  ## Build the web console into console/dist (run and test do it when needed)

run: $(STAMP) $(CONSOLE_BUILT)  ## Serve the API locally on 127.0.0.1:8000 over an embedded moto (ARGS="--help")
	$(BIN)/python -m local $(ARGS)

token: $(STAMP)  ## Print a fresh admin bearer token for the running local server
	@$(BIN)/python -m local token

test: $(STAMP) $(CONSOLE_BUILT)  ## Run every test suite: unit, integration, infra, e2e
	$(BIN)/python -m pytest --durations=15 $(PYTEST_ARGS)

test-unit test-integration test-infra test-e2e: test-%: $(STAMP)
	$(BIN)/python -m pytest tests/$* $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff, mypy and the import contracts (pyproject.toml [tool.importlinter])
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/licensing_core/python functions local cdk cli sdk/src
	$(BIN)/lint-imports --no-logo --no-cache

format: $(STAMP)  ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

openapi: $(STAMP)  ## Regenerate the committed OpenAPI document from the route table
	$(BIN)/python -m licensing_core.openapi --write

fuzz: $(STAMP)  ## Long, random fuzzing from the OpenAPI document, and seat properties
	FUZZ_RANDOM=1 FUZZ_MAX_EXAMPLES=200 FUZZ_PHASES=examples,coverage,fuzzing PROPERTY_EXAMPLES=300 \
	$(BIN)/python -m pytest tests/fuzz tests/security/test_properties.py -p no:cacheprovider $(PYTEST_ARGS)

lock: $(STAMP)  ## Re-pin the runtime dependencies: the dependency layer's lock, wheel hashes of every platform
	$(BIN)/uv pip compile pyproject.toml --quiet --upgrade --universal --python-version 3.11 \
		--only-binary :all: --generate-hashes --custom-compile-command "make lock" \
		-o layers/dependencies/requirements.txt

audit: $(STAMP)  ## Known vulnerabilities in the locked runtime dependencies (what the Lambda layer ships)
	$(BIN)/pip-audit --progress-spinner off --disable-pip --require-hashes -r layers/dependencies/requirements.txt

bench: $(STAMP)  ## Benchmarks: hot paths vs their floor, cold starts, contention, SDK, cost (ARGS=--quick)
	$(BIN)/python -m bench $(ARGS)

synth: $(STAMP)  ## Synthesize the CloudFormation template offline (no AWS credentials needed)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(CDK) synth --quiet

deploy: $(STAMP) $(CONSOLE_BUILT)  ## Deploy to the AWS account of your current credentials (the console built first)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(CDK) deploy $(ARGS)

clean:  ## Remove build output and local data
	rm -rf cdk.out .build .local .pytest_cache .mypy_cache .ruff_cache console/dist console/.build
