"""The table of models: one entry per model pipeline, read by the console commands, `make demo`,
`make bench` and the tests (parametrised over it). Adding a model is one entry here plus its
package (models/, data readers, one module per stage, train.sh).

Entries name code as ``"module:function"`` strings, so reading the table imports no framework;
``resolve`` imports one when it is needed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

# facenet's get_dataset sorts the class folders: the order the original CovPoolFER Logits were trained in.
SFEW_CLASSES = ("Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise")
# The original micro-expression notebook's LABEL_MAP (CASME II's emotions in its order).
CASME2_CLASSES = ("disgust", "others", "sadness", "happiness", "surprise", "repression", "fear")


@dataclass(frozen=True)
class Model:
    name: str  # the package, and its console command
    framework: str  # "tensorflow" or "paddle" (never both in one process)
    summary: str
    input: str  # what the network takes
    input_name: str  # the frozen graph's (or exported model's) input
    input_shape: tuple[int, ...]  # one image, in the layout the network takes
    pixel_norm: tuple[float, float] | None  # (mean, scale): it takes (pixels - mean) * scale; None: see `input`
    outputs: tuple[str, ...]  # its outputs, by default
    classes: tuple[str, ...] | None  # class names in logit order (None: an embedding model)
    build: str  # "module:function" of the network
    restore: str  # "module:function": checkpoint path -> (model, config, prefix)
    checkpoints: str  # what `restore` accepts
    frozen: str = ""  # the file ckpt2pb / export writes by default
    stages: dict[str, str] = field(default_factory=dict)  # stage name -> module
    trainers: tuple[str, ...] = ()  # the stages that train (resumable, tf.distribute or paddle.distributed)


MODELS: dict[str, Model] = {m.name: m for m in (
    Model(
        name="covpoolfer", framework="tensorflow",
        summary="facial expressions with covariance pooling and SPD-manifold layers (SFEW 2.0, RAF-DB)",
        input="100x100 RGB faces, raw 0-255 float32 (prewhitening is inside the graph)",
        input_name="inputImage", input_shape=(100, 100, 3), pixel_norm=(0.0, 1.0),
        outputs=("output",), classes=SFEW_CLASSES, frozen="CovPoolFER.pb",
        build="covpoolfer.models.covpoolnet:build_model",
        restore="covpoolfer.models.checkpoints:restore_model",
        checkpoints="a `train` run folder or ckpt-N prefix; the author's TF1 checkpoints (CovPoolNetwork, "
                    "CovPool2, DLP-CNN scopes) as released",
        stages={"prepare": "covpoolfer.prepare", "convert_checkpoint": "covpoolfer.convert_checkpoint",
                "train": "covpoolfer.train", "ckpt2pb": "covpoolfer.ckpt2pb", "pic2bin": "covpoolfer.pic2bin",
                "atc": "covpoolfer.atc", "msame": "covpoolfer.msame", "getAcc": "covpoolfer.getAcc",
                "classify": "covpoolfer.classify", "predict": "covpoolfer.predict",
                "features": "covpoolfer.features", "tempPoolTrain": "covpoolfer.tempPoolTrain",
                "softmaxClassifier": "covpoolfer.softmaxClassifier",
                "demo": "covpoolfer.demo", "demo_video": "covpoolfer.demo_video",
                "bench": "covpoolfer.bench"},
        trainers=("covpoolfer.train", "covpoolfer.tempPoolTrain")),
    Model(
        name="pfe", framework="tensorflow",
        summary="probabilistic face embeddings: a sphere net and an uncertainty head trained with MLS (LFW, IJB-A/B/C, YouTube Faces)",
        input="112x96 RGB aligned faces, (x - 127.5) / 128",
        input_name="input", input_shape=(112, 96, 3), pixel_norm=(127.5, 1 / 128),
        outputs=("mu", "sigma_sq"), classes=None, frozen="PFE.pb",
        build="pfe.models.sphere_net:build_base",
        restore="pfe.models.checkpoints:restore_model",
        checkpoints="a `train` run folder or ckpt-N prefix (base + head); the original PFE checkpoints "
                    "(sphere64_casia_am base, PFE_sphere64_casia_am) as released",
        stages={"convert_checkpoint": "pfe.convert_checkpoint", "train_base": "pfe.train_base", "train": "pfe.train",
                "ckpt2pb": "pfe.ckpt2pb", "inf_input2bin": "pfe.inf_input2bin", "pb2om": "pfe.pb2om",
                "om_inf": "pfe.om_inf", "msame": "common.msame", "atc": "common.atc",
                "om_output_inf": "pfe.om_output_inf", "om_output_acc": "pfe.om_output_inf",
                "eval_lfw": "pfe.eval_lfw", "eval_ijb": "pfe.eval_ijb", "eval_ytf": "pfe.eval_ytf", "verify": "pfe.verify",
                "demo": "pfe.demo", "demo_video": "pfe.demo_video",
                "bench": "pfe.bench"},
        trainers=("pfe.train_base", "pfe.train")),
    Model(
        name="mobilefacenet", framework="tensorflow",
        summary="MobileFaceNet face verification with a margin softmax (MS1M TFRecords, LFW/CFP/AgeDB .bin)",
        input="112x112 RGB aligned faces, (x - 127.5) * 0.0078125",
        input_name="Placeholder", input_shape=(112, 112, 3), pixel_norm=(127.5, 0.0078125),
        outputs=("the_outputs",), classes=None, frozen="MobileFaceNet.pb",
        build="mobilefacenet.models.mobilefacenet:build_model",
        restore="mobilefacenet.models.checkpoints:restore_model",
        checkpoints="a `train_nets` run folder, its best/ folder or a ckpt-N prefix; the MobileFaceNet_TF "
                    "release (MobileFaceNet_TF.ckpt)",
        stages={"convert_checkpoint": "mobilefacenet.convert_checkpoint",
                "convert_recordio": "mobilefacenet.convert_recordio", "train_nets": "mobilefacenet.train_nets",
                "inference": "mobilefacenet.inference", "verify": "mobilefacenet.verify",
                "search": "mobilefacenet.search", "ckpt2pb": "mobilefacenet.ckpt2pb",
                "image2bin": "mobilefacenet.image2bin", "atc": "mobilefacenet.atc",
                "om_eval": "mobilefacenet.om_eval", "msame": "common.msame",
                "calculate_om_acc": "mobilefacenet.calculate_om_acc", "demo": "mobilefacenet.demo",
                "demo_video": "mobilefacenet.demo_video",
                "bench": "mobilefacenet.bench"},
        trainers=("mobilefacenet.train_nets",)),
    Model(
        name="microexpression", framework="paddle",
        summary="micro-expressions with a PaddlePaddle ResNet50 (CASME II, SAMM; leave-one-subject-out)",
        input="3x224x224 RGB apex frames, ImageNet mean/std",
        input_name="image", input_shape=(3, 224, 224), pixel_norm=None,
        outputs=("logits",), classes=CASME2_CLASSES, frozen="MicroExpression.json",
        build="microexpression.models.resnet:build_model",
        restore="microexpression.models.checkpoints:restore_model",
        checkpoints="a `train` model_save_dir prefix (.pdparams + .json); the original notebook's "
                    "paddle.Model.save (.pdparams alone)",
        stages={"annotate": "microexpression.annotate", "train": "microexpression.train",
                "loso": "microexpression.loso", "evaluate": "microexpression.evaluate",
                "predict": "microexpression.predict", "export": "microexpression.export",
                "infer": "microexpression.infer", "onnx": "microexpression.export_onnx",
                "lite": "microexpression.lite", "msame": "common.msame", "demo": "microexpression.demo",
                "bench": "microexpression.bench"},
        trainers=("microexpression.train", "microexpression.loso")),
)}


def resolve(target: str):
    """The function a ``"module:function"`` entry names (its module imported now)."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
