"""CovPoolFER image models (covpoolnet.py): `covpoolnet` (fc_1 -> fc_2 -> bottleneck) and
`covpoolnet2` (fc_1 -> bottleneck); original.py reads the author's TF1 checkpoints."""

MODEL_DEFS = ("covpoolnet", "covpoolnet2")
