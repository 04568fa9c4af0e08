# Drumbeat: `make demo` runs it on the embedded default, `make test` tests it.
# Both create .venv and install the project (with its dev extras) when needed.

PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-stamp

.PHONY: test demo lint bench bench-deps bench-scale clean help catalogs

help:
	@echo "make demo   - a simulated quarter of the example company in about a minute:"
	@echo "              agendas, replies and forwarded notes over SMTP, answers, digests"
	@echo "              (everything in var/demo)"
	@echo "make test   - lint and run the test suite (real SQLite, PostgreSQL and Redis)"
	@echo "make bench  - run the benchmarks in bench/ against the local PostgreSQL and Redis,"
	@echo "              then one table: each figure, its target, met or missed (RECORD=1 logs it)"
	@echo "make bench-scale - agendas, answers and digest at 1,000, 10,000 and 30,000 people"
	@echo "              (SIZES=...): time, memory, CPU a message, and the growth targets"
	@echo "make catalogs - extract the words of the mail (templates, mail/, workers/) and"
	@echo "              update every language's catalog in templates/locales/"

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

DEMO = var/demo
DEMO_ENV = DRUMBEAT_DATABASE_URL=sqlite:///$(DEMO)/drumbeat.sqlite \
	DRUMBEAT_MAILDIR=$(DEMO)/maildir DRUMBEAT_MAIL_DOMAIN=northwind.example \
	DRUMBEAT_REVIEW_PERIODS=quarter \
	DRUMBEAT_REVIEW_SCALE="1-5:Unsatisfactory,Needs improvement,Meets,Exceeds,Outstanding"

demo: $(STAMP)
	rm -rf $(DEMO)
	$(DEMO_ENV) $(BIN)/drumbeat db upgrade
	$(DEMO_ENV) $(BIN)/drumbeat import people examples/northwind/people.csv --tracking-from 2026-09-28
	$(DEMO_ENV) $(BIN)/drumbeat import plan examples/northwind/plan.yaml
	$(DEMO_ENV) DRUMBEAT_DEMO_DIR=$(DEMO) $(BIN)/python examples/demo_quarter.py
	$(DEMO_ENV) $(BIN)/drumbeat digest --period 2026-Q4 --today 2027-01-04 --preview > /dev/null
	$(DEMO_ENV) $(BIN)/drumbeat status --person lukas.novak@northwind.example --today 2026-12-31
	$(DEMO_ENV) $(BIN)/drumbeat review status --period 2026-Q4

# make bench [RECORD=1] [ONLY="digest replies"] [BENCH_ARGS='--args digest="--people 1000"']
# runs every benchmark (bench/summary.py) and ends with one table: figure, target, met or
# missed. make bench-scale [SIZES=1000,10000,30000] runs agendas, intake and digest at each
# size (bench/scale.py) and judges the growth targets. RECORD=1 adds the runs to
# bench/README.md's runs table.
SIZES ?= 1000,10000,30000
BENCH_FLAGS = $(if $(RECORD),--record) $(if $(ONLY),--only $(ONLY)) $(BENCH_ARGS)

bench-deps: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'

bench: bench-deps
	$(BIN)/python bench/summary.py $(BENCH_FLAGS)

bench-scale: bench-deps
	$(BIN)/python bench/scale.py --sizes $(SIZES) $(if $(RECORD),--record) $(BENCH_ARGS)

# The gettext catalogs: extracted with Babel from babel.cfg's files into the template
# (.pot), then merged into each language's .po (new words empty, for a translator to
# fill; tests/test_catalogs.py fails until they are). The .po files are compiled in
# memory at run time (mail/write/language.py): no .mo in git, nothing to build.
LOCALES = templates/locales
catalogs: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --add-location=file --sort-by-file \
		--project=Drumbeat --copyright-holder="The Drumbeat authors" \
		-o $(LOCALES)/drumbeat.pot .
	for po in $(LOCALES)/*.po; do \
		lang=$$(basename $$po .po); \
		$(BIN)/pybabel update -i $(LOCALES)/drumbeat.pot -o $$po -l $$lang \
			--ignore-obsolete --update-header-comment || exit 1; \
	done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
