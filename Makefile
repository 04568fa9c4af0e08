# Drumbeat: `make demo` runs it on the embedded default, `make test` tests it.
# Both create .venv and install the project (with its dev extras) when needed.

PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-stamp

.PHONY: test demo lint bench clean help

help:
	@echo "make demo   - create var/drumbeat.sqlite, import the example company, show it,"
	@echo "              send this week's agendas into var/maildir, reply and forward notes"
	@echo "              over SMTP, and send this quarter's evaluation digests"
	@echo "make test   - lint and run the test suite (real SQLite, PostgreSQL and Redis)"
	@echo "make bench  - run the benchmarks in bench/ against the local PostgreSQL and Redis"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Drumbeat needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/drumbeat db upgrade
	$(BIN)/drumbeat import people examples/northwind/people.csv
	$(BIN)/drumbeat import plan examples/northwind/plan.yaml
	$(BIN)/drumbeat status
	$(BIN)/drumbeat status --person marcus.bell@northwind.example
	$(BIN)/drumbeat agendas preview grace.kim@northwind.example
	DRUMBEAT_AGENDA_LEAD_HOURS=168 $(BIN)/drumbeat scheduler --once
	@echo "The week's agendas are in var/maildir/new (one file per email)."
	$(BIN)/python examples/demo_replies.py
	$(BIN)/drumbeat digest --all
	$(BIN)/drumbeat digest --preview > /dev/null
	@echo "This quarter's evaluation digests are in var/maildir/new; HR's is also in var/ as"
	@echo "an HTML file to open in a browser (and its CSV): ls var/digest-*"
	$(BIN)/drumbeat inbox --limit 5

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/import_org.py
	$(BIN)/python bench/agendas.py
	$(BIN)/python bench/replies.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
