"""MobileFaceNet's losses: CosFace (s 64, m 0.35, the Ascend port's cos_loss) and ArcFace (s 64,
m 0.5, the paper's), as normalised-weight margin heads shared with PFE (common/tf/margin.py)."""

from common.tf.margin import DEFAULTS, MarginHead, margin_loss

__all__ = ["DEFAULTS", "MarginHead", "margin_loss"]
