"""`make demo`: every pipeline end to end on the embedded synthetic data, one process per step.

TensorFlow and Paddle never share a process, so each step is a subprocess. Numbers printed
here are measured on synthetic data.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.models import MODELS  # noqa: E402


def steps(out: Path):
    """Each model of the table runs its `demo` stage, which makes its own synthetic data under its
    folder; the msame round trip reuses CovPoolFER's."""
    py = sys.executable
    yield "demo data: preview", [py, "-m", "common.synthetic", "preview", "--out", str(out / "preview.png")]
    for name in MODELS:
        yield f"{name} demo", [py, "-m", name, "demo", "--workdir", str(out / name)]
        if name == "covpoolfer":
            yield "msame round trip", [py, "scripts/msame_roundtrip.py", "--data",
                                       str(out / "covpoolfer" / "data" / "SFEW_100"), "--out", str(out / "roundtrip")]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", default="demo_out")
    a = p.parse_args(argv)
    out = Path(a.out)
    for name, cmd in steps(out):
        print(f"\n=== {name}: {' '.join(cmd)}", flush=True)
        start = time.time()
        r = subprocess.run(cmd, cwd=ROOT)
        if r.returncode != 0:
            print(f"demo failed at step '{name}' (exit {r.returncode})", file=sys.stderr)
            return 1
        print(f"=== {name}: done in {time.time() - start:.1f} s", flush=True)
    print(f"\ndemo finished; outputs under {out}/ (all numbers synthetic)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
