# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint run bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/python -m aggregator.demo

test: install
	$(BIN)/ruff check aggregator tests bench
	$(BIN)/python -m pytest -n 2 -q

lint: install
	$(BIN)/ruff check aggregator tests bench
	$(BIN)/ruff format --check aggregator tests bench

run: install
	$(BIN)/aggregator run

bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/classify.py
	$(BIN)/python bench/stories.py

clean:
	rm -rf $(VENV) var .pytest_cache
