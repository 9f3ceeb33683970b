# kdcourse: `make demo`, `make test`, `make lab`. Each sets up .venv first if needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.kdcourse-installed
# A CPU-only torch wheel if pip can see one locally, else torch>=2.10 (see tools/torch_spec.py).
TORCH_SPEC ?= $(shell $(PYTHON) tools/torch_spec.py)
# Tests run the smoke profile: every lesson end to end on tiny subsets.
TEST_PROFILE ?= smoke
PYTEST_ARGS ?=
# How pytest runs the lessons (nbval): `test` and `test-lessons` share them.
NBVAL_ARGS := --nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
	--nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: install assets demo lint test test-unit test-lessons test-colab test-lowest bench lab notebooks html readme classroom clean

install: $(STAMP)

$(STAMP): pyproject.toml solutions/pyproject.toml tools/torch_spec.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[dev]" -e ./solutions
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (kdcourse)" >/dev/null
	@touch $(STAMP)

assets: install
	$(PY) -m kdcourse fetch

demo: assets
	$(PY) -m kdcourse demo

# Lint and format check (ruff, configured in pyproject.toml) and the package's import layers
# (import-linter), the GitHub workflows against their schema (check-jsonschema) and the types of
# kdcourse/ (mypy, configured in pyproject.toml); about a minute, so every test target starts with it.
lint: install
	$(VENV)/bin/ruff check kdcourse solutions tests tools benchmarks
	$(VENV)/bin/ruff format --check kdcourse solutions tests tools benchmarks
	$(VENV)/bin/lint-imports
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/mypy

# The main suite (lint and the package's import layers, unit, widget and browser tests, every lesson under
# nbval), then the unit and widget tests again on Colab's versions (test-colab) and on the lowest
# versions pyproject.toml allows (test-lowest).
test: assets lint
	KDCOURSE_PROFILE=$(TEST_PROFILE) MPLBACKEND=Agg $(PY) -m pytest tests lessons \
		$(NBVAL_ARGS) -p no:cacheprovider --durations=15 $(PYTEST_ARGS)
	$(MAKE) test-colab
	$(MAKE) test-lowest

# A second env pinned to what Colab ships (tools/colab-constraints.txt: ipywidgets 7.7.1,
# transformers, datasets, matplotlib) with the static extra that lesson 07's Colab cell installs; no
# JupyterLab there, so no browser test and no nbval.
COLAB_VENV ?= .venv-colab
COLAB_PYTEST_ARGS ?=
COLAB_PY := $(COLAB_VENV)/bin/python
COLAB_STAMP := $(COLAB_VENV)/.kdcourse-installed

$(COLAB_STAMP): pyproject.toml solutions/pyproject.toml tools/torch_spec.py tools/colab-constraints.txt
	@test -x $(COLAB_PY) || $(PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_PY) -m pip install -q --upgrade pip
	$(COLAB_PY) -m pip install -q "$(TORCH_SPEC)" -c tools/colab-constraints.txt
	$(COLAB_PY) -m pip install -q -c tools/colab-constraints.txt -e ".[static]" -e ./solutions \
		"pytest>=8" "hypothesis>=6.100" "nbformat>=5.9" ipykernel
	@touch $(COLAB_STAMP)

test-colab: $(COLAB_STAMP) assets
	@$(COLAB_PY) -c "import ipywidgets, matplotlib, transformers, datasets, torch; print('Colab versions:', \
		'ipywidgets', ipywidgets.__version__, '| transformers', transformers.__version__, '| datasets', \
		datasets.__version__, '| matplotlib', matplotlib.__version__, '| torch', torch.__version__)"
	KDCOURSE_PROFILE=$(TEST_PROFILE) MPLBACKEND=Agg $(COLAB_PY) -m pytest tests -m "not browser" \
		-p no:cacheprovider $(COLAB_PYTEST_ARGS)

# A third env with every direct dependency at exactly its lower bound in pyproject.toml
# (tools/lowest_constraints.py; setuptools too), so each ">=" is a version the tests ran on. torch
# stays the CPU build TORCH_SPEC names: PyPI's Linux torch wheels of the floor bundle CUDA (gigabytes).
LOWEST_VENV ?= .venv-lowest
LOWEST_PYTEST_ARGS ?=
LOWEST_PY := $(LOWEST_VENV)/bin/python
LOWEST_STAMP := $(LOWEST_VENV)/.kdcourse-installed

$(LOWEST_STAMP): $(STAMP) pyproject.toml tools/torch_spec.py tools/lowest_constraints.py
	@test -x $(LOWEST_PY) || $(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_PY) -m pip install -q --upgrade pip
	$(LOWEST_PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) tools/lowest_constraints.py > $(LOWEST_VENV)/constraints.txt
	echo "$(TORCH_SPEC)" >> $(LOWEST_VENV)/constraints.txt  # else pip may swap in a CUDA torch while resolving
	$(PY) tools/lowest_constraints.py --build > $(LOWEST_VENV)/build-constraints.txt
	$(LOWEST_PY) -m pip install -q --no-cache-dir -c $(LOWEST_VENV)/constraints.txt \
		--build-constraint $(LOWEST_VENV)/build-constraints.txt -e ".[static]" -e ./solutions \
		"pytest>=8" "hypothesis>=6.100" "nbformat>=5.9" ipykernel
	@touch $(LOWEST_STAMP)

test-lowest: $(LOWEST_STAMP) assets
	@$(LOWEST_PY) tools/lowest_constraints.py --installed
	KDCOURSE_PROFILE=$(TEST_PROFILE) MPLBACKEND=Agg $(LOWEST_PY) -m pytest tests -m "not browser" \
		-p no:cacheprovider $(LOWEST_PYTEST_ARGS)

# The import layers, the unit, widget and browser tests only (no lessons, no Colab env).
test-unit: assets lint
	KDCOURSE_PROFILE=$(TEST_PROFILE) MPLBACKEND=Agg $(PY) -m pytest tests $(PYTEST_ARGS)

# Every lesson top to bottom under nbval, as in `test`, without the unit tests.
test-lessons: assets
	KDCOURSE_PROFILE=$(TEST_PROFILE) MPLBACKEND=Agg $(PY) -m pytest lessons \
		$(NBVAL_ARGS) -p no:cacheprovider --durations=15 $(PYTEST_ARGS)

# Every script in benchmarks/ with its own defaults (results under benchmarks/results/); gpu_check.py
# only where CUDA is available. Long, and timings need a quiet machine.
bench: assets
	@for script in benchmarks/*.py; do \
		case "$$script" in \
		*/common.py) ;; \
		*/gpu_check.py) \
			if $(PY) -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then \
				echo "== $$script"; KDCOURSE_PROFILE=gpu $(PY) "$$script" || exit 1; \
			else echo "== $$script: skipped (no CUDA device)"; fi ;; \
		*) echo "== $$script"; $(PY) "$$script" || exit 1 ;; \
		esac; \
	done
	@echo "results in benchmarks/results/"

lab: assets
	$(VENV)/bin/jupyter lab lessons/

# Re-execute every lesson in place so the stored outputs students read on GitHub are real. The caches are
# warmed first, so each stored run times a rerun; tools/lesson_table.py adds what a first run spends building
# them (lessons/first_run.json) to the **Time:** lines it writes at the end.
NOTEBOOK_PROFILE ?= cpu
notebooks: assets
	$(PY) -m kdcourse prepare --profile $(NOTEBOOK_PROFILE)
	for nb in lessons/*.ipynb; do \
		KDCOURSE_PROFILE=$(NOTEBOOK_PROFILE) MPLBACKEND=module://matplotlib_inline.backend_inline \
		$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=1800 "$$nb" || exit 1; \
	done
	$(PY) tools/lesson_table.py --write

# Static pages that need no network (MathJax copied beside them, no widget manager, alt text on every figure).
html: install
	$(PY) tools/site_build.py _site
	$(PY) tools/site_index.py _site
	@echo "static course pages in _site/ (start at _site/index.html)"

readme: install
	$(PY) tools/lesson_table.py --write

# The classroom release (README, "For instructors"): student copies without solutions, the lessons as they
# are for the instructor, and one otter-grader autograder per lesson. Grade with
# `$(PY) tools/classroom.py grade $(CLASSROOM)/autograder/NN/autograder.zip SUBMISSIONS...`.
CLASSROOM ?= dist/classroom
classroom: install
	$(PY) tools/classroom.py build $(CLASSROOM)

clean:
	rm -rf $(VENV) $(COLAB_VENV) $(LOWEST_VENV) _site .pytest_cache
