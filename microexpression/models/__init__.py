"""The micro-expression classifier (resnet.py: paddle.vision's ResNets, local weights, trained models)."""

ARCHS = ("resnet50", "resnet18", "resnet34")
