"""CovPoolFER image models: `covpoolnet` (fc_1 -> fc_2 -> bottleneck) and `covpoolnet2`."""

from covpoolfer.models.covpoolnet import build_model, restore_model

MODEL_DEFS = ("covpoolnet", "covpoolnet2")

__all__ = ["MODEL_DEFS", "build_model", "restore_model"]
