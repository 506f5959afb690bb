"""The sidecar ``<model>.json``: ordered inputs and outputs (name, shape, dtype) of a model, and
a loaded model (``Backend``) that runs on them.

``ckpt2pb`` writes it beside the frozen graph; ``msame`` and ``atc`` read it, so the portable
runner knows input sizes and the output dtypes the om would have (e.g. float16, int32).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from common.cli import StageError
from common.files import write_text_atomic


@dataclass
class TensorSpec:
    name: str
    shape: list[int | None]
    dtype: str = "float32"

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def nbytes(self, batch: int | None = None) -> int | None:
        dims = list(self.shape)
        if dims and dims[0] in (None, -1) and batch is not None:
            dims[0] = batch
        if any(d in (None, -1) for d in dims):
            return None
        return int(np.prod(dims, dtype=np.int64)) * self.np_dtype.itemsize


@dataclass
class ModelSpec:
    inputs: list[TensorSpec] = field(default_factory=list)
    outputs: list[TensorSpec] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"inputs": [asdict(t) for t in self.inputs],
                           "outputs": [asdict(t) for t in self.outputs]}, indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict, source: str = "<spec>") -> ModelSpec:
        try:
            return cls([TensorSpec(t["name"], list(t["shape"]), t.get("dtype", "float32"))
                        for t in data["inputs"]],
                       [TensorSpec(t["name"], list(t["shape"]), t.get("dtype", "float32"))
                        for t in data["outputs"]])
        except (KeyError, TypeError) as err:
            raise StageError(f"{source}: expected {{'inputs': [...], 'outputs': [...]}} with "
                             f"name/shape/dtype entries, found a malformed spec ({err})") from None


def sidecar_path(model: str | os.PathLike) -> Path:
    """``CovPoolFER.pb`` -> ``CovPoolFER.json``."""
    return Path(model).with_suffix(".json")


def write_sidecar(model: str | os.PathLike, spec: ModelSpec) -> Path:
    path = sidecar_path(model)
    write_text_atomic(path, spec.to_json())
    return path


def read_spec(path: str | os.PathLike) -> ModelSpec:
    """A spec file written by ``ModelSpec.to_json``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise StageError(f"{path}: expected JSON model spec, found invalid JSON ({err})") from None
    return ModelSpec.from_dict(data, str(path))


def read_sidecar(model: str | os.PathLike) -> ModelSpec | None:
    """The spec beside ``model`` (``X.json``, or ``X.pb.json``), or None when there is none."""
    for path in (sidecar_path(model), Path(str(model) + ".json")):
        if path.is_file():
            return read_spec(path)
    return None


@dataclass
class Backend:
    """A loaded model: ordered input/output specs and a forward function on numpy arrays."""
    name: str
    spec: ModelSpec
    forward: Callable[[list[np.ndarray]], list[np.ndarray]]

    def __call__(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        return self.forward(inputs)
