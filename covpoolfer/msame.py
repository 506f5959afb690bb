"""msame for CovPoolFER: .om through the real tool, CovPoolFER.pb/.onnx portably (see common.msame)."""

import sys

from common.msame import main

if __name__ == "__main__":
    from common.cli import run

    sys.exit(run(main))
