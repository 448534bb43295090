# Two entry points for a fresh machine: `make run` (the relay) and `make test` (everything CI runs).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

DEV_SECRET := paymap-data/dev-webhook-secret

.PHONY: setup run sample test lint bench mutation clean browser postgres web screenshots playground

# Installs the exact versions in constraints.txt (what CI tested); see docs/relay.md "Dependencies".
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# The relay. Uses DODO_PAYMENTS_WEBHOOK_KEY when set (the signing secret from Dodo's dashboard);
# otherwise a local secret kept in $(DEV_SECRET), so a first try still verifies every signature.
run: $(STAMP)
	@if [ -z "$$DODO_PAYMENTS_WEBHOOK_KEY" ]; then \
	  mkdir -p -m 700 paymap-data; \
	  [ -s $(DEV_SECRET) ] || (umask 077; echo "whsec_$$(head -c 32 /dev/urandom | base64)" > $(DEV_SECRET)); \
	  echo "paymap: DODO_PAYMENTS_WEBHOOK_KEY is not set; using the local secret in $(DEV_SECRET)"; \
	  echo "        (try it: make sample; for Dodo, set DODO_PAYMENTS_WEBHOOK_KEY to your endpoint's secret)"; \
	  DODO_PAYMENTS_WEBHOOK_KEY=$$(cat $(DEV_SECRET)) exec $(BIN)/paymap serve mappings/; \
	else \
	  exec $(BIN)/paymap serve mappings/; \
	fi

# The playground: edit mappings/ in the browser and see the Inngest events as you type (docs/playground.md).
playground: $(STAMP)
	$(BIN)/paymap playground mappings/

# Sends a signed sample payment.succeeded webhook to the relay started by `make run`.
sample: $(STAMP)
	@KEY="$${DODO_PAYMENTS_WEBHOOK_KEY:-$$(cat $(DEV_SECRET) 2>/dev/null)}"; \
	DODO_PAYMENTS_WEBHOOK_KEY="$$KEY" $(BIN)/paymap send-sample $${TYPE:-payment.succeeded} && \
	DODO_PAYMENTS_WEBHOOK_KEY="$$KEY" $(BIN)/paymap status

lint: $(STAMP)
	$(BIN)/ruff check prelude dsl runtime grammar samples tests bench scripts docs/examples
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: $(STAMP) lint browser postgres
	$(BIN)/python -m pytest -q

# The browser tests (playground, relay console) drive Debian's chromium (Playwright's own download cannot work here).
browser:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# The relay's PostgreSQL tests need a server on 127.0.0.1:5432 (database `test`; this machine kind
# runs one). Start the local cluster if it is installed and not running; without one the PostgreSQL
# tests fail under CI and are skipped, with the reason, elsewhere.
postgres:
	@if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null; then \
	  pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql | head -1)" main start || true; \
	  for _ in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
	fi

# Rebuild the playground's front-end bundle from web/ (needs Node; users get the committed bundle).
web:
	scripts/build_web.sh

# Retake the screenshots in docs/img/ (the browser tests take them; this keeps them).
screenshots: $(STAMP) browser
	PAYMAP_SCREENSHOTS=docs/img $(BIN)/python -m pytest -q tests/playground/test_browser.py tests/relay/test_console_browser.py

bench: $(STAMP)
	$(BIN)/python -m bench

# Mutation testing of the delivery, routing and money core (slow: not part of `make test`); one
# module at a time, `make mutation TARGETS="store sender"` for some. Report: docs/mutation.md.
$(VENV)/.mutation-installed: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,mutation]'
	touch $@

mutation: $(VENV)/.mutation-installed
	nice $(BIN)/python scripts/mutation.py $(TARGETS)

clean:
	rm -rf $(VENV) build *.egg-info
