# The protocol book's commands. `make book` and `make test` set everything up on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := book

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALLED := $(VENV)/.installed
FHIR_VALIDATOR := exports/fhir_validator
# The chapters' outputs depend on the packages, study.yaml, the cases and (the traceability
# appendix) the tests, which jupyter-cache and Sphinx do not track: when any of these change,
# the next build starts clean.
BOOK_INPUTS := $(wildcard protocol/*.py protocol/*.yaml protocol/registry/*.json dosing/*.py prescreen/*.py exports/*.py \
	book/cases/*.yaml book/screening/*.yaml examples/*.yaml tests/*.py _ext/*.py _static/* _search/* _config.yml _toc.yml) \
	$(INSTALLED)
INPUTS_STAMP := _build/.inputs-stamp
NOTEBOOKS := $(shell find book -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)
PORT ?= 8000

.PHONY: book binder test lint unit nbval built notebooks serve clean venv mutation bytecode

venv: $(INSTALLED)

$(INSTALLED): requirements.txt requirements-nodeps.txt pyproject.toml $(FHIR_VALIDATOR)/package-lock.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=python3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@# the FHIR validator (Medplum's, on Node.js) at the versions of its lock file
	npm ci --prefix $(FHIR_VALIDATOR) --no-audit --no-fund --loglevel=error
	touch $@

# The project's own modules compiled ahead: where PYTHONDONTWRITEBYTECODE is set (as on these
# machines) every `trialbook` command otherwise compiles them again (about 40 ms of `screen`'s
# 0.35 s). Python checks each file's stamp, so a module edited later is simply compiled anew.
bytecode: $(INSTALLED)
	$(PY) -m compileall -q protocol dosing prescreen exports trialbook binder

$(INPUTS_STAMP): $(BOOK_INPUTS)
	rm -rf _build/html _build/.doctrees _build/.jupyter_cache _build/jupyter_execute
	mkdir -p _build
	touch $@

## book: set up, check study.yaml against the record, execute the chapters, build HTML (-W)
book: $(INSTALLED) $(INPUTS_STAMP) bytecode
	$(BIN)/trialbook registry-check --quiet
	$(PY) tools/execute_in_parallel.py $(NOTEBOOKS)
	@# a failed build leaves an environment the next run would call up to date: start afresh
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going \
		|| { rm -f $(INPUTS_STAMP); exit 1; }
	@echo "The book: $(CURDIR)/_build/html/index.html"

## binder: the book as one PDF, the eligibility checklist and pocket cards (_build/binder/)
binder: book
	$(PY) -m binder

## test: lint, unit/property/cross-check tests, nbval over every chapter, the book and binder
test: lint unit nbval book binder built

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: $(INSTALLED) bytecode
	@# across every core (pytest-xdist): the suite is independent tests, and on a two-core
	@# machine it took 11.5 minutes in one process, 6 in two
	$(PY) -m pytest tests --ignore=tests/built -q -n auto
	@# the examples in the modules' docstrings run as written
	$(PY) -m pytest -q -p no:randomly --doctest-modules protocol dosing binder prescreen exports

nbval: $(INSTALLED)
	@# each chapter's cells in order on one core (a kernel per chapter), the chapters side by side
	$(PY) -m pytest -q -p no:randomly --nbval --nbval-current-env -n auto --dist loadfile \
		--nbval-sanitize-with tests/nbval_sanitize.cfg $(NOTEBOOKS)

built: $(INSTALLED)
	@# each file's tests on one core (they share its browser and server), the files side by side
	$(PY) -m pytest tests/built -q -n auto --dist loadfile

## notebooks: regenerate the criteria page's headings, re-execute every chapter in place
notebooks: $(INSTALLED)
	$(PY) tools/write_criteria_cells.py
	$(PY) tools/write_exports.py
	$(PY) tools/execute_notebooks.py $(NOTEBOOKS)

## mutation: mutation testing of the rule modules (long; not part of `make test`)
mutation: $(INSTALLED)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-mutation.txt
	rm -rf mutants
	time $(BIN)/mutmut run --max-children 2
	$(PY) tools/mutation_report.py

## serve: serve the built book on http://127.0.0.1:$(PORT)
serve:
	@test -f _build/html/index.html || { echo "no book yet: run 'make book'"; exit 2; }
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build
