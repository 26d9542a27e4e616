# The portal's tasks. `make test` is what CI runs (.ci/run): it installs what the tests
# need on a fresh machine, and skips each step that is already done on a warm one.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

PORT ?= 5000
MAIL_SINK_PORT ?= 8025
INBOUND_MAIL_PORT ?= 8027
WEBHOOK_SINK_PORT ?= 8026
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_HOST := 127.0.0.1
PG_PORT := 5432
# Root needs no sudo (and a container often has none).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_GET := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get
# bench/ is not tracked while it is empty: lint it only once it exists.
LINT_PATHS := portal tests $(wildcard bench)
# Two workers on this 2-core box: 52-61 s against 66 s for one process (measured with
# other work running). The tests wait on PostgreSQL, chromium and subprocesses, which
# a second worker overlaps. Browser tests share one worker (xdist_group "browser", set
# in tests/conftest.py). `make test PYTEST_XDIST=` runs in one process.
PYTEST_XDIST ?= -n 2 --dist loadgroup
PYTEST_ARGS ?=
# pip-audit lives apart from the project's venv: its own dependencies are not ours.
PIP_AUDIT_VERSION := 2.10.1
AUDIT_VENV := .venv-audit
AUDIT_STAMP := $(AUDIT_VENV)/.installed-$(PIP_AUDIT_VERSION)

.PHONY: venv run test-deps lint audit test test-calendar bench clean

## venv: the virtualenv, reinstalled only when pyproject.toml or constraints.txt change
venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || python3 -m venv $(VENV) || { \
	  echo "python3 -m venv failed: installing python3-venv"; \
	  $(APT_GET) update -qq && $(APT_GET) install -y -qq --no-install-recommends python3-venv; \
	  rm -rf $(VENV); python3 -m venv $(VENV); }
	@echo "Installing Python packages (constraints.txt) into $(VENV)..."
	@$(BIN)/python -m pip install --quiet --quiet --disable-pip-version-check \
	  -c constraints.txt -e '.[test]'
	@touch $@

## run: migrate, load the demo data once, serve on http://127.0.0.1:$(PORT) with the
## scheduler process beside it; without PORTAL_SMTP_HOST, mail goes to a local sink
## (read it at /admin/mail); replies to cases go to the inbound mail listener on
## $(INBOUND_MAIL_PORT); the demo webhook endpoint posts to a local receiver on
## $(WEBHOOK_SINK_PORT) (its log at /settings/webhooks). Ctrl-C stops them all, the
## scheduler before the sinks.
run: export PORTAL_SECURE_COOKIES = 0
run: export PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)
# The demo's webhook receiver is on loopback: allowed for these processes only, never by
# default (the setting is off everywhere else).
run: export PORTAL_WEBHOOKS_ALLOW_PRIVATE ?= 1
# Admins see (and sent e-mails keep) the private links in /admin/mail, so a developer can
# follow them; off everywhere else, where only the recipient ever sees one.
run: export PORTAL_MAIL_VIEWER_SHOWS_LINKS ?= 1
run: venv
	$(BIN)/portal migrate
	$(BIN)/portal demo --webhook-url http://127.0.0.1:$(WEBHOOK_SINK_PORT)/portal-events
	@pids=(); \
	stop() { for ((i = $${#pids[@]} - 1; i >= 0; i--)); do \
	  kill "$${pids[i]}" 2>/dev/null || true; wait "$${pids[i]}" 2>/dev/null || true; done; }; \
	trap stop EXIT; trap 'exit 130' INT TERM; \
	if [ -z "$${PORTAL_SMTP_HOST:-}" ]; then \
	  export PORTAL_SMTP_HOST=127.0.0.1 PORTAL_SMTP_PORT=$(MAIL_SINK_PORT); \
	  $(BIN)/portal mail-sink --port $(MAIL_SINK_PORT) & pids+=($$!); \
	  for _ in $$(seq 1 50); do \
	    (exec 3<>/dev/tcp/127.0.0.1/$(MAIL_SINK_PORT)) 2>/dev/null && break; sleep 0.2; \
	  done; \
	  echo "No PORTAL_SMTP_HOST: e-mail goes to a local sink on 127.0.0.1:$(MAIL_SINK_PORT)."; \
	  echo "Read every message at http://127.0.0.1:$(PORT)/admin/mail (admin@demo.test, password demo)."; \
	fi; \
	$(BIN)/portal inbound-mail --port $(INBOUND_MAIL_PORT) & pids+=($$!); \
	for _ in $$(seq 1 50); do \
	  (exec 3<>/dev/tcp/127.0.0.1/$(INBOUND_MAIL_PORT)) 2>/dev/null && break; sleep 0.2; \
	done; \
	echo "Replies to cases (case+TOKEN@...) go to the inbound mail listener on 127.0.0.1:$(INBOUND_MAIL_PORT)."; \
	$(BIN)/portal webhook-sink --port $(WEBHOOK_SINK_PORT) & pids+=($$!); \
	for _ in $$(seq 1 50); do \
	  (exec 3<>/dev/tcp/127.0.0.1/$(WEBHOOK_SINK_PORT)) 2>/dev/null && break; sleep 0.2; \
	done; \
	echo "Demo webhooks go to a local receiver on 127.0.0.1:$(WEBHOOK_SINK_PORT); see the log at"; \
	echo "http://127.0.0.1:$(PORT)/settings/webhooks (manager@demo.test, password demo)."; \
	$(BIN)/portal scheduler & pids+=($$!); \
	$(BIN)/flask --app portal.app run --host 127.0.0.1 --port $(PORT)

## test-deps: Debian packages (java among them), PostgreSQL running, npm packages (each
## only when missing or, for npm, older than package-lock.json)
test-deps:
	@packages=""; \
	if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/pdftoppm ] \
	   || ! dpkg -s libharfbuzz-subset0 >/dev/null 2>&1; then \
	  packages="chromium poppler-utils libharfbuzz-subset0"; \
	fi; \
	: "java runs the Nu HTML Checker (node_modules/vnu-jar) after the browser tests"; \
	if ! command -v java >/dev/null; then packages="$$packages default-jre-headless"; fi; \
	fresh_postgresql=""; \
	if ! command -v pg_ctlcluster >/dev/null; then \
	  packages="$$packages postgresql"; fresh_postgresql=1; \
	fi; \
	if [ -n "$$packages" ]; then \
	  echo "Installing Debian packages:$$packages"; \
	  $(APT_GET) update -qq; \
	  $(APT_GET) install -y -qq --no-install-recommends $$packages >/dev/null; \
	fi; \
	if [ -n "$$fresh_postgresql" ]; then \
	  : "A new cluster asks TCP clients for a password; the tests connect as postgres"; \
	  : "on loopback without one, as on the development machines."; \
	  for hba in /etc/postgresql/*/main/pg_hba.conf; do \
	    $(SUDO) sed -i '1i host all postgres 127.0.0.1/32 trust' "$$hba"; \
	  done; \
	  $(SUDO) pg_ctlcluster --skip-systemctl-redirect \
	    "$$(ls /etc/postgresql | sort -V | tail -n 1)" main reload 2>/dev/null || true; \
	fi
	@if ! pg_isready -q -h $(PG_HOST) -p $(PG_PORT); then \
	  version=$$(ls /etc/postgresql | sort -V | tail -n 1); \
	  echo "Starting PostgreSQL $$version..."; \
	  $(SUDO) pg_ctlcluster --skip-systemctl-redirect "$$version" main start || true; \
	  for _ in $$(seq 1 30); do \
	    pg_isready -q -h $(PG_HOST) -p $(PG_PORT) && break; sleep 1; \
	  done; \
	  pg_isready -h $(PG_HOST) -p $(PG_PORT); \
	fi
	@: "Again whenever package-lock.json is newer than what npm ci last installed from it."; \
	: "No install scripts: vnu-jar's would fetch a Java runtime from the internet."; \
	if [ ! -f node_modules/.package-lock.json ] \
	   || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  echo "Installing npm packages (package-lock.json)..."; \
	  npm ci --no-audit --no-fund --loglevel=error --ignore-scripts; \
	fi

## lint: ruff's checks and its formatting, on our code and tests; bandit on the portal
## (each finding is fixed, or answered on its line with `# nosec BXXX` and the reason)
lint: venv
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/bandit --quiet --recursive portal
	$(BIN)/lint-imports --no-cache

## audit: pip-audit over the pinned dependencies (constraints.txt, every one pinned, so
## --no-deps) from a tool venv of its own. It asks a vulnerability service over the
## network, so it is not part of `make test`; --strict fails when a pin cannot be checked.
## PIP_AUDIT_ARGS="-s osv" asks OSV instead of PyPI.
PIP_AUDIT_ARGS ?=
audit: $(AUDIT_STAMP)
	$(AUDIT_VENV)/bin/pip-audit --strict --no-deps --disable-pip $(PIP_AUDIT_ARGS) -r constraints.txt

$(AUDIT_STAMP):
	@rm -rf $(AUDIT_VENV)
	python3 -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
	  pip-audit==$(PIP_AUDIT_VERSION)
	@touch $@

## test: lint, then every test (SQLite, PostgreSQL, browser); no test run is a failure. After
## the browser tests the Nu HTML Checker reads every page they loaded: an error fails the run
## (tests/browser/html_check.py)
test: venv test-deps lint
	@status=0; $(BIN)/pytest -W error $(PYTEST_XDIST) $(PYTEST_ARGS) || status=$$?; \
	if [ "$$status" -eq 5 ]; then echo "pytest ran no test: that is a failure"; exit 1; fi; \
	exit "$$status"

## test-calendar: pytest alone (no installs: run `make test` once first) with the portal's
## clock moved (PORTAL_CLOCK_OFFSET) to other moments: the whole suite at a Saturday 10:00
## and on 31 December 23:50, the tests marked `clock` at a Sunday night, a Friday evening
## and the eves of the clock changes in London and New York; each run checks the clock
## reached the live server and the scheduler process (tests/calendar_runs.py).
## CALENDAR_ARGS='--only "Sunday 23:30"' runs one moment.
CALENDAR_ARGS ?=
test-calendar:
	@test -x $(BIN)/pytest || { echo "no $(VENV): run make test first"; exit 1; }
	$(BIN)/python tests/calendar_runs.py $(CALENDAR_ARGS)

## bench: run each bench script (bench/*.py with a __main__ block); each prints name=value lines
bench: venv test-deps
	@scripts=($$(grep -l '^if __name__ == "__main__":' bench/*.py 2>/dev/null || true)); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "bench/ has no scripts yet"; exit 0; fi; \
	for script in "$${scripts[@]}"; do \
	  echo "# $$script"; $(BIN)/python "$$script"; \
	done

## clean: what the tools leave behind (not .venv, node_modules or instance/)
clean:
	rm -rf artifacts test-results .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -path ./.venv -prune -o -path ./node_modules -prune -o \
	  -name __pycache__ -type d -print0 | xargs -0 rm -rf
