"""Shared core of the face model zoo: images, .bin files, msame/atc runners, metrics, demo data.

Nothing here imports tensorflow or paddle at import time; `common.tf` holds the TensorFlow code.
"""
