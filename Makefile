# The two commands of the README: `make run` (the whole product) and `make test` (everything CI
# checks). Both need only Python 3.11+ and make; they build .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# Debian's postgresql package keeps initdb and pg_ctl out of PATH: the PostgreSQL test run finds
# them there (tests/pg.py looks in the same place)
PG_BIN := $(lastword $(sort $(wildcard /usr/lib/postgresql/*/bin)))
ifneq ($(PG_BIN),)
export PATH := $(PATH):$(PG_BIN)
endif

.PHONY: run test test-sqlite test-postgresql test-system lint install clean messages histories

run: $(STAMP)
	$(BIN)/recupero run

# lint, then four passes side by side: the real-process tests (`-m system`: Temporal dev servers,
# workers and `recupero api` killed and restarted, load, schemathesis, the console in Chromium; they
# run the embedded default, SQLite), the tests that never open the read model (`database_free`:
# the pure domain, the workflows on the time-skipping server, the histories' replay, the
# simulator), and the rest of the suite twice, on SQLite and on a throwaway PostgreSQL cluster.
# The passes mostly wait (on Temporal's timers, the browser, the databases), so side by side they
# take little more than the longest; the others' output is kept in .test-system.log,
# .test-free.log and .test-postgresql.log and printed after the foreground pass's. Each pass lists
# its 15 slowest tests: CI has 25 minutes, and this is where they go.
test: $(STAMP) lint
	@RECUPERO_TEST_DATABASE=postgresql $(BIN)/pytest -m "not system and not database_free" \
		-p no:cacheprovider --durations=15 > .test-postgresql.log 2>&1 & postgresql=$$!; \
	RECUPERO_TEST_DATABASE=sqlite $(BIN)/pytest -m system -p no:cacheprovider --durations=15 \
		> .test-system.log 2>&1 & system=$$!; \
	RECUPERO_TEST_DATABASE=sqlite $(BIN)/pytest -m database_free -p no:cacheprovider \
		--durations=15 > .test-free.log 2>&1 & free=$$!; \
	RECUPERO_TEST_DATABASE=sqlite $(BIN)/pytest -m "not system and not database_free" \
		--durations=15; sqlite=$$?; \
	wait $$system; sys=$$?; \
	wait $$free; fr=$$?; \
	wait $$postgresql; pg=$$?; \
	echo "=== the real-process pass (.test-system.log) ==="; cat .test-system.log; \
	echo "=== the database-free pass (.test-free.log) ==="; cat .test-free.log; \
	echo "=== the PostgreSQL pass (.test-postgresql.log) ==="; cat .test-postgresql.log; \
	echo "=== what failed in the side passes (the foreground pass's own list is above) ==="; \
	grep -H "^FAILED\|^ERROR" .test-system.log .test-free.log .test-postgresql.log; \
	echo "=== SQLite: exit $$sqlite; real processes: exit $$sys; database-free: exit $$fr;" \
		"PostgreSQL: exit $$pg ==="; \
	test $$sqlite -eq 0 && test $$sys -eq 0 && test $$fr -eq 0 && test $$pg -eq 0

test-sqlite: $(STAMP)
	RECUPERO_TEST_DATABASE=sqlite $(BIN)/pytest -m "not system"

test-postgresql: $(STAMP)
	RECUPERO_TEST_DATABASE=postgresql $(BIN)/pytest -m "not system"

test-system: $(STAMP)
	$(BIN)/pytest -m system

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# the console's texts: extract them from api/console and templates/console (babel.cfg), then
# merge them into the catalogues; translate the new Italian entries in locale/it/.../messages.po.
# No compile step: the app compiles the .po files in memory when it starts (api/console/i18n.py)
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k translate:2 --no-location --sort-output \
		--omit-header -o locale/messages.pot .
	$(BIN)/pybabel update -i locale/messages.pot -d locale \
		--ignore-obsolete --no-fuzzy-matching
	# the letters', e-mails' and SMS texts (domain "letters", Italian source: no it catalogue);
	# translate the new entries in locale/{en,de,fr,es}/LC_MESSAGES/letters.po
	$(BIN)/pybabel extract -F babel-letters.cfg -k N_ --no-location --sort-output \
		--omit-header -o locale/letters.pot .
	$(BIN)/pybabel update -D letters -i locale/letters.pot -d locale \
		--ignore-obsolete --no-fuzzy-matching

# a release's workflow histories, every path of a practice recorded on the code checked out now
# (tests/histories/record.py): run once before tagging RELEASE and commit the folder; CI replays
# every release's histories on the current code (tests/histories/test_replay_releases.py)
histories: $(STAMP)
	@test -n "$(RELEASE)" || (echo "usage: make histories RELEASE=2026.12" && exit 1)
	$(BIN)/python -m tests.histories.record $(RELEASE)

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "Recupero needs Python 3.11 or newer" && exit 1)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
