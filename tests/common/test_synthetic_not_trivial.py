"""The synthetic SFEW task is learnable but not trivial, checked cheaply with a linear model.

On clean renders (no pose, light, noise or blur) the expressions sit at fixed pixels, and a
ridge classifier on raw pixels of people it never saw reaches about 0.41 (seed 0, 60 train /
15 val faces per class at 48x48; chance 0.143). At the default nuisance the same model falls to
about 0.25: telling the classes apart takes a model that copes with pose and light, which is
what the CovPoolFER training test and demo show a CNN doing. The test pins both margins.
"""

import numpy as np
from sklearn.linear_model import RidgeClassifier

from common import synthetic
from common.images import class_folders, list_images, load_rgb

CHANCE = 1 / 7


def _pixels(root):
    x, y = [], []
    for label, folder in enumerate(class_folders(root)):
        for f in list_images(folder):
            x.append(load_rgb(f).reshape(-1) / 255)
            y.append(label)
    return np.array(x, np.float32), np.array(y)


def _linear_val_accuracy(root) -> float:
    (xtr, ytr), (xva, yva) = _pixels(root / "Train"), _pixels(root / "val")
    return RidgeClassifier(alpha=10).fit(xtr, ytr).score(xva, yva)


def test_expressions_are_in_the_pixels_and_nuisance_hides_them_from_a_linear_model(tmp_path):
    def accuracy(nuisance):
        root = synthetic.make_sfew(tmp_path / f"n{nuisance}", train_per_class=60, val_per_class=15, size=48,
                                   seed=0, nuisance=nuisance)
        return _linear_val_accuracy(root)

    clean, default = accuracy(0.0), accuracy(1.0)
    print(f"ridge on raw pixels, unseen people: clean {clean:.3f}, default nuisance {default:.3f}")
    assert clean >= CHANCE + 0.2          # a real signal: the expressions change the face
    assert default < 0.35                 # not solvable by a linear model on pixels
    assert clean - default >= 0.1         # and it is the nuisance that makes it hard
