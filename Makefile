# Two commands, each working on a fresh clone with nothing installed: each creates the
# environment (.venv) when it is missing and installs the package only when pyproject.toml
# changed since the last install, then runs its job.
#
#   make figure   the main job: the Ringmaster ASGD quadratic figure (--quick) into out/
#   make test     the test suite (extra pytest options: make test PYTEST_ARGS="-x tests/cli/test_command_line.py")

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Test modules run in parallel processes (pytest-xdist), one per core up to 4: JAX compilation
# dominates the suite and each compile runs on one core. PARALLEL= runs them in one process.
PARALLEL ?= -n auto --maxprocesses 4 --dist worksteal

.PHONY: test figure install

# Two passes: the suite compiled without LLVM optimization (fast; see tests/conftest.py), then
# the tests of bit-identity across batch shapes at XLA's default optimization (none selected
# by PYTEST_ARGS is fine there; the first pass must collect tests).
test: $(STAMP)
	@$(VENV)/bin/python -m pytest -q $(PARALLEL) $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; fi; \
	if [ $$rc -ne 0 ]; then exit $$rc; fi; \
	JAXSIM_TEST_XLA=default $(VENV)/bin/python -m pytest -q $(PARALLEL) -m xla_default $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then rc=0; fi; exit $$rc

figure: $(STAMP)
	$(VENV)/bin/jaxsim figure ringmaster-quadratic --quick --out out/

install: $(STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# (re)install when the stamp is missing or older than pyproject.toml
$(STAMP): pyproject.toml | $(VENV)/bin/python
	-$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install -e ".[test]"
	touch $@
