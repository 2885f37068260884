# The two commands that matter: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint typecheck bench soak clean readme-settings

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/feeds serve

lint: $(STAMP)
	$(BIN)/ruff check feeds tests bench app.py
	$(BIN)/ruff format --check feeds tests bench app.py

typecheck: $(STAMP)
	$(BIN)/mypy

# The suite runs on SQLite; when FEEDS_TEST_DATABASE_URL names a PostgreSQL database it
# runs a second time there.
test: lint typecheck
	FEEDS_TEST_DATABASE_URL= $(BIN)/pytest
	@if [ -n "$$FEEDS_TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		$(BIN)/pytest; \
	fi

# Every figure is a ratio to a baseline measured in the same run; results are appended to
# bench/RESULTS.md. BENCH_QUICK=1 finishes in under two minutes.
bench: $(STAMP)
	$(BIN)/python bench/render.py
	$(BIN)/python bench/publish.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/memory.py

# The production shape under load (web workers, scheduler, nginx) on SQLite and, when
# FEEDS_TEST_DATABASE_URL names PostgreSQL, there too; exits non-zero on any failure.
SOAK_SECONDS ?= 60
soak: $(STAMP)
	$(BIN)/python bench/soak.py --seconds $(SOAK_SECONDS) --database sqlite
	@if [ -n "$$FEEDS_TEST_DATABASE_URL" ]; then \
		$(BIN)/python bench/soak.py --seconds $(SOAK_SECONDS) --database "$$FEEDS_TEST_DATABASE_URL"; \
	else \
		echo "soak: FEEDS_TEST_DATABASE_URL is not set; PostgreSQL not soaked"; \
	fi

# The README's settings table is generated from feeds/settings.py.
readme-settings: $(STAMP)
	$(BIN)/python -m feeds.settings

clean:
	rm -rf $(VENV) var/*.db var/*.db-* .pytest_cache .mypy_cache .ruff_cache
