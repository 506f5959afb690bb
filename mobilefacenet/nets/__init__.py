"""MobileFaceNet networks."""

from mobilefacenet.nets.mobilefacenet import build_model

__all__ = ["build_model"]
