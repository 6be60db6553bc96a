# qdistill — every target first builds the virtual environment .venv from pyproject.toml.
#
#   make firmware   reference QDistillNet → hls4ml C simulation (golden check) → da4ml RTL +
#                   Verilator (bit-exact check) → synthesis (--flow auto; its reports are saved in
#                   the project) → the resource/latency table read back by qdistill report
#   make test       ruff + the whole pytest suite
#   make pipeline   the whole chain from event generation to physics evaluation (SCALE=quick|paper)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
QD := $(BIN)/qdistill
PROJECT ?= firmware_projects/qdistillnet
PART ?= xcvu13p-flga2577-2-e
# real Delphes output for tests/test_delphes.py, fetched from coffea's sdist and checked by sha256
DELPHES_SAMPLE := tests/fixtures/delphes/delphes.root

.PHONY: venv test lint firmware pipeline clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' || \
	  { echo "qdistill needs Python 3.11 or 3.12 ($(PYTHON) is not); run e.g. make PYTHON=python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check qdistill tests benchmarks scripts
	$(BIN)/ruff format --check qdistill tests benchmarks scripts

$(DELPHES_SAMPLE): $(STAMP) scripts/fetch_delphes_sample.py
	$(BIN)/python scripts/fetch_delphes_sample.py $@

test: lint $(DELPHES_SAMPLE)
	$(BIN)/pytest -q

firmware: $(STAMP)
	$(QD) csim $(PROJECT)
	$(QD) rtl $(PROJECT)
	$(QD) synth $(PROJECT) --part $(PART) --flow auto --json > /dev/null
	$(QD) report $(PROJECT)

pipeline: $(STAMP)
	SCALE=$(or $(SCALE),quick) bash scripts/pipeline.sh

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
