"""Procedural face renderer behind the synthetic datasets.

A face is three parameter sets: identity (face shape, skin, eye spacing, nose, mouth, hair,
glasses), expression (brows, eyes, mouth, nose wrinkle) and nuisance (pose, scale, light,
noise, blur, background). Each is drawn from a numpy Generator, so a seed fixes the pixels.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# Expression templates: offsets from neutral. brow_raise/brow_tilt in face units (+ = up /
# inner ends up), eye_open as a factor, mouth_curve (+ = corners up), mouth_open 0..1,
# mouth_width as a factor, wrinkle 0..1 (nose), lip_raise 0..1 (one-sided upper lip).
NEUTRAL = dict(brow_raise=0.0, brow_tilt=0.0, eye_open=1.0, mouth_curve=0.0, mouth_open=0.0,
               mouth_width=1.0, wrinkle=0.0, lip_raise=0.0)
EXPRESSIONS = {
    "neutral": dict(NEUTRAL),
    "angry": dict(NEUTRAL, brow_raise=-0.6, brow_tilt=-1.0, eye_open=0.75, mouth_curve=-0.25,
                  mouth_width=0.8),
    "disgust": dict(NEUTRAL, brow_raise=-0.3, brow_tilt=-0.3, eye_open=0.65, mouth_curve=-0.5,
                    wrinkle=1.0, lip_raise=1.0),
    "fear": dict(NEUTRAL, brow_raise=0.6, brow_tilt=0.9, eye_open=1.5, mouth_curve=-0.3,
                 mouth_open=0.45, mouth_width=1.2),
    "happy": dict(NEUTRAL, brow_raise=0.1, eye_open=0.7, mouth_curve=1.0, mouth_open=0.3,
                  mouth_width=1.3),
    "sad": dict(NEUTRAL, brow_raise=0.1, brow_tilt=1.0, eye_open=0.8, mouth_curve=-0.9,
                mouth_width=0.9),
    "surprise": dict(NEUTRAL, brow_raise=1.0, eye_open=1.6, mouth_open=1.0, mouth_width=0.7),
    # CASME II's extra classes: pressed lips (repression) and an unspecific small movement.
    "repression": dict(NEUTRAL, brow_raise=-0.15, mouth_curve=-0.2, mouth_width=0.75,
                       lip_raise=0.3),
    "others": dict(NEUTRAL, brow_raise=0.35, brow_tilt=-0.4, mouth_curve=0.35, mouth_width=0.85),
}

# Identity datasets show people with varied, milder expressions.
EXPRESSIONS_FOR_IDENTITY = ["neutral", "happy", "sad", "surprise", "angry", "neutral"]

SKIN = np.array([[255, 224, 196], [241, 194, 157], [224, 172, 125], [198, 134, 90],
                 [141, 85, 54], [92, 58, 40]], dtype=np.float64)
HAIR = np.array([[20, 16, 14], [70, 45, 25], [140, 95, 50], [200, 170, 110], [160, 60, 30],
                 [150, 150, 150]], dtype=np.float64)


def sample_identity(rng: np.random.Generator) -> dict:
    """Stable per-person traits."""
    skin = SKIN[rng.integers(len(SKIN))] + rng.normal(0, 8, 3)
    return dict(
        face_w=rng.uniform(0.50, 0.64), face_h=rng.uniform(0.68, 0.84),
        jaw=rng.uniform(0.0, 1.0),                     # 0 = round chin, 1 = square
        skin=np.clip(skin, 30, 255),
        eye_dx=rng.uniform(0.13, 0.19), eye_y=rng.uniform(-0.10, -0.03),
        eye_w=rng.uniform(0.050, 0.075), eye_h=rng.uniform(0.022, 0.034),
        iris=np.clip(rng.uniform(20, 140, 3), 0, 255),
        brow_gap=rng.uniform(0.045, 0.075), brow_thick=rng.uniform(0.012, 0.026),
        brow_len=rng.uniform(0.08, 0.12),
        nose_len=rng.uniform(0.09, 0.16), nose_w=rng.uniform(0.03, 0.06),
        mouth_w=rng.uniform(0.09, 0.14), mouth_y=rng.uniform(0.17, 0.25),
        lip=np.clip(rng.normal([170, 80, 80], 20), 40, 255),
        hair=np.clip(HAIR[rng.integers(len(HAIR))] + rng.normal(0, 10, 3), 0, 255),
        hair_style=int(rng.integers(4)),               # 0 short, 1 long, 2 bald, 3 fringe
        glasses=bool(rng.random() < 0.25),
        glasses_color=np.clip(rng.uniform(0, 90, 3), 0, 255),
    )


def sample_expression(rng: np.random.Generator, name: str, amplitude: float = 1.0,
                      jitter: float = 0.12) -> dict:
    """Template ``name`` scaled by ``amplitude`` (micro-expressions use a fraction) plus noise."""
    template = EXPRESSIONS[name]
    intensity = amplitude * rng.uniform(0.7, 1.1)
    out = {}
    for key, neutral in NEUTRAL.items():
        value = neutral + (template[key] - neutral) * intensity
        out[key] = value + rng.normal(0, jitter * (0.3 if key in ("eye_open", "mouth_width") else 1.0))
    out["eye_open"] = max(out["eye_open"], 0.25)
    out["mouth_open"] = max(out["mouth_open"], 0.0)
    out["wrinkle"] = max(out["wrinkle"], 0.0)
    out["lip_raise"] = max(out["lip_raise"], 0.0)
    return out


def sample_nuisance(rng: np.random.Generator, strength: float = 1.0) -> dict:
    """Per-image conditions: pose, scale, position, light, background, noise, blur."""
    return dict(
        angle=rng.uniform(-12, 12) * strength,
        scale=1.0 + rng.uniform(-0.12, 0.08) * strength,
        dx=rng.uniform(-0.07, 0.07) * strength, dy=rng.uniform(-0.06, 0.06) * strength,
        yaw=rng.uniform(-0.06, 0.06) * strength,
        light_dir=rng.uniform(0, 2 * math.pi), light_amp=rng.uniform(0.0, 0.35) * strength,
        gain=rng.uniform(0.75, 1.2), bg=rng.uniform(30, 230, 3), bg2=rng.uniform(30, 230, 3),
        bg_blobs=int(rng.integers(0, 4)), noise=rng.uniform(1, 7) * strength,
        blur=rng.uniform(0, 1.0) * strength, seed=int(rng.integers(2**31)),
    )


def _c(rgb) -> tuple[int, int, int]:
    return tuple(int(round(v)) for v in np.clip(rgb, 0, 255))


def _draw_face(ident: dict, expr: dict, size: int, yaw: float) -> Image.Image:
    """The face alone on a transparent square canvas of ``size`` pixels (face units = size)."""
    s = size
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    cx, cy = s / 2 + yaw * s, s / 2
    fw, fh = ident["face_w"] * s / 2, ident["face_h"] * s / 2
    skin, hair = _c(ident["skin"]), _c(ident["hair"])

    if ident["hair_style"] == 1:  # long hair behind the face
        d.rounded_rectangle([cx - fw * 1.15, cy - fh * 1.1, cx + fw * 1.15, cy + fh * 0.9],
                            radius=int(fw * 0.8), fill=hair)
    # Face: an ellipse, with a squarer jaw blended in by a rounded rectangle.
    d.ellipse([cx - fw, cy - fh, cx + fw, cy + fh], fill=skin)
    if ident["jaw"] > 0.5:
        r = int(fw * (1.6 - ident["jaw"]))
        d.rounded_rectangle([cx - fw * 0.92, cy - fh * 0.2, cx + fw * 0.92, cy + fh * 0.93],
                            radius=r, fill=skin)
    if ident["hair_style"] in (0, 1, 3):
        d.chord([cx - fw * 1.05, cy - fh * 1.08, cx + fw * 1.05, cy + fh * 0.35], 180, 360, fill=hair)
        if ident["hair_style"] == 3:  # fringe
            d.rectangle([cx - fw * 0.8, cy - fh * 0.75, cx + fw * 0.8, cy - fh * 0.45], fill=hair)

    # Eyes
    ey = cy + ident["eye_y"] * s
    ew, eh = ident["eye_w"] * s, ident["eye_h"] * s * expr["eye_open"]
    for side in (-1, 1):
        ex = cx + side * ident["eye_dx"] * s
        d.ellipse([ex - ew, ey - eh, ex + ew, ey + eh], fill=(250, 250, 250))
        ir = min(ew * 0.5, eh * 1.2)
        d.ellipse([ex - ir, ey - ir, ex + ir, ey + ir], fill=_c(ident["iris"]))
        d.ellipse([ex - ir * 0.45, ey - ir * 0.45, ex + ir * 0.45, ey + ir * 0.45], fill=(10, 10, 10))
        # Eyelids: skin bands trimming the eye to its opening.
        d.ellipse([ex - ew, ey - eh, ex + ew, ey + eh], outline=_c(ident["skin"] * 0.6),
                  width=max(1, int(s * 0.006)))
        # Brows: a thick segment, inner end moved by tilt, whole brow by raise.
        by = ey - ident["brow_gap"] * s - expr["brow_raise"] * 0.06 * s
        inner = (ex - side * ident["brow_len"] * s * 0.15, by - expr["brow_tilt"] * 0.045 * s)
        outer = (ex + side * ident["brow_len"] * s * 0.85, by + expr["brow_tilt"] * 0.01 * s)
        d.line([inner, outer], fill=_c(ident["hair"] * 0.8),
               width=max(1, int(ident["brow_thick"] * s)))

    # Nose, with wrinkles for disgust
    nx, ny = cx, ey + ident["nose_len"] * s
    dark = _c(ident["skin"] * 0.62)
    d.line([(nx, ey + 0.02 * s), (nx + ident["nose_w"] * s * 0.4, ny)], fill=dark,
           width=max(1, int(s * 0.01)))
    d.line([(nx - ident["nose_w"] * s, ny), (nx + ident["nose_w"] * s, ny)], fill=dark,
           width=max(1, int(s * 0.012)))
    for k in range(int(round(3 * min(expr["wrinkle"], 1.5)))):
        wy = ey + (0.01 + 0.018 * k) * s
        d.line([(nx - 0.035 * s, wy), (nx + 0.035 * s, wy - 0.006 * s)], fill=dark,
               width=max(1, int(s * 0.007)))

    # Mouth: corners raised by curve, opened by mouth_open, one side lifted by lip_raise.
    my = cy + ident["mouth_y"] * s
    mw = ident["mouth_w"] * s * expr["mouth_width"]
    lift = expr["mouth_curve"] * 0.07 * s
    n = 24
    xs = np.linspace(-1, 1, n)
    upper = [(cx + x * mw, my - lift * x * x - expr["lip_raise"] * 0.02 * s * max(x, 0)) for x in xs]
    lip = _c(ident["lip"])
    if expr["mouth_open"] > 0.08:
        depth = expr["mouth_open"] * 0.1 * s
        lower = [(cx + x * mw, my - lift * x * x + depth * (1 - x * x)) for x in xs[::-1]]
        d.polygon(upper + lower, fill=(60, 20, 25), outline=lip)
        d.line(upper, fill=lip, width=max(1, int(s * 0.014)))
        d.line(lower, fill=lip, width=max(1, int(s * 0.014)))
    else:
        d.line(upper, fill=lip, width=max(2, int(s * 0.028)))

    if ident["glasses"]:
        gc, gw = _c(ident["glasses_color"]), max(1, int(s * 0.012))
        r = ident["eye_w"] * s * 1.5
        for side in (-1, 1):
            ex = cx + side * ident["eye_dx"] * s
            d.ellipse([ex - r, ey - r * 0.8, ex + r, ey + r * 0.8], outline=gc, width=gw)
        d.line([(cx - ident["eye_dx"] * s + r, ey), (cx + ident["eye_dx"] * s - r, ey)], fill=gc, width=gw)
    return img


def render(ident: dict, expr: dict, nuis: dict, height: int, width: int) -> np.ndarray:
    """Render one face as an RGB uint8 array of shape (height, width, 3)."""
    side = 2 * max(height, width)  # draw at 2x, then downsample: cheap anti-aliasing
    rng = np.random.default_rng(nuis["seed"])

    yy, xx = np.mgrid[0:side, 0:side] / side
    t = (xx * math.cos(nuis["light_dir"]) + yy * math.sin(nuis["light_dir"]))[..., None]
    bg = nuis["bg"] * (1 - t) + nuis["bg2"] * t
    canvas = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8), "RGB")
    cd = ImageDraw.Draw(canvas)
    for _ in range(nuis["bg_blobs"]):
        x0, y0 = rng.uniform(0, side, 2)
        r = rng.uniform(0.05, 0.25) * side
        cd.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=_c(rng.uniform(20, 235, 3)))

    face = _draw_face(ident, expr, side, nuis["yaw"])
    face = face.rotate(nuis["angle"], resample=Image.BICUBIC, center=(side / 2, side / 2))
    scaled = max(8, int(side * nuis["scale"]))
    face = face.resize((scaled, scaled), Image.BICUBIC)
    ox = int((side - scaled) / 2 + nuis["dx"] * side)
    oy = int((side - scaled) / 2 + nuis["dy"] * side)
    canvas.paste(face, (ox, oy), face)

    # The face occupies a portrait crop when height != width (e.g. 112x96 aligned faces).
    crop_w = side * width / max(height, width)
    crop_h = side * height / max(height, width)
    left, top = (side - crop_w) / 2, (side - crop_h) / 2
    canvas = canvas.crop((int(left), int(top), int(left + crop_w), int(top + crop_h)))
    if nuis["blur"] > 0.05:
        canvas = canvas.filter(ImageFilter.GaussianBlur(nuis["blur"] * 2))
    canvas = canvas.resize((width, height), Image.LANCZOS)

    arr = np.asarray(canvas, dtype=np.float64)
    yy, xx = np.mgrid[0:height, 0:width]
    light = 1 + nuis["light_amp"] * ((xx / width - 0.5) * math.cos(nuis["light_dir"])
                                     + (yy / height - 0.5) * math.sin(nuis["light_dir"]))
    arr = arr * nuis["gain"] * light[..., None] + rng.normal(0, nuis["noise"], arr.shape)
    return np.clip(np.round(arr), 0, 255).astype(np.uint8)
