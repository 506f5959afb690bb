# make demo / make test / make bench / make lint: each creates .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo demo-video test test-tf test-paddle bench bench-quick lint venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[tf,paddle,test]'
	touch $(STAMP)

# TensorFlow and Paddle segfault in one process: their tests run in separate pytest processes.
# The TensorFlow tests run in two workers, one test file each at a time (much of a test is
# single-threaded graph tracing); each worker holds up to ~7 GB.
test: $(STAMP)
	$(PY) -m pytest tests --ignore=tests/microexpression -q -n 2 --dist loadfile
	@if [ -d tests/microexpression ]; then $(PY) -m pytest tests/microexpression -q; fi

demo: $(STAMP)
	$(PY) scripts/demo.py

# after `make demo`: CovPoolFER on a real clip and the AFEW chain on synthetic clips; PFE on synthetic
# YouTube Faces and clips; MobileFaceNet finding people in clips (about 4 min)
demo-video: $(STAMP)
	$(PY) -m covpoolfer demo_video --workdir demo_out/covpoolfer_video
	$(PY) -m pfe demo_video --workdir demo_out/pfe_video
	$(PY) -m mobilefacenet demo_video --workdir demo_out/mobilefacenet_video

bench: $(STAMP)
	$(PY) scripts/bench.py $(BENCH_ARGS)

# under 5 minutes on 2 CPU cores: no XLA rows, one batch of PFE's inference
bench-quick: $(STAMP)
	$(PY) scripts/bench.py --quick

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) demo_out .pytest_cache
