# qdistill — every target first builds the virtual environment .venv from pyproject.toml.
#
#   make firmware   reference QDistillNet → hls4ml C simulation (golden check) → da4ml RTL +
#                   Verilator (bit-exact check) → synthesis (--flow auto) → resource/latency table
#   make test       ruff + the whole pytest suite
#   make pipeline   the whole chain from event generation to physics evaluation (SCALE=quick|paper)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
QD := $(BIN)/qdistill
PROJECT ?= firmware_projects/qdistillnet
PART ?= xcvu13p-flga2577-2-e

.PHONY: venv test lint firmware pipeline clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check qdistill tests benchmarks
	$(BIN)/ruff format --check qdistill tests benchmarks

test: lint
	$(BIN)/pytest -q

firmware: $(STAMP)
	$(QD) csim $(PROJECT)
	$(QD) rtl $(PROJECT)
	$(QD) synth $(PROJECT) --part $(PART) --flow auto
	$(QD) report $(PROJECT)

pipeline: $(STAMP)
	SCALE=$(or $(SCALE),quick) bash scripts/pipeline.sh

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
