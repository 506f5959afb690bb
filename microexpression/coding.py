"""CASME II and SAMM as distributed: their coding sheets (.xlsx), frame folders and class sets.

CASME II: `sub01/EP02_01f/img46.jpg` (RAW_selected) or `reg_img46.jpg` (Cropped), coding columns
Subject, Filename, OnsetFrame, ApexFrame, OffsetFrame, Estimated Emotion. SAMM: `006/006_1_2/
006_05562.jpg`, its FACS sheet (title rows above the header) with Subject, Filename, Onset Frame,
Apex Frame, Offset Frame, Estimated Emotion. A frame is found by the number its file name ends with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from common.cli import StageError
from common.images import IMAGE_SUFFIXES
from microexpression.config import CONFIG

# The class sets of the field: CASME II's own seven (the original notebook's LABEL_MAP), the five
# CASME II publishes results on, and MEGC 2019's three for composite (cross-dataset) LOSO.
CLASS_SETS = {
    7: list(CONFIG["LABEL_MAP"]),
    5: ["happiness", "surprise", "disgust", "repression", "others"],
    3: ["negative", "positive", "surprise"],
}
# Each dataset's "Estimated Emotion" -> class, per class set; None leaves the clip out (counted).
_CASME2 = ["happiness", "surprise", "disgust", "repression", "others", "sadness", "fear"]
_SAMM = ["anger", "contempt", "disgust", "fear", "happiness", "other", "sadness", "surprise"]
EMOTIONS = {
    "casme2": {
        7: {e: e for e in _CASME2},
        5: {e: (e if e in CLASS_SETS[5] else None) for e in _CASME2},
        # MEGC 2019: CASME II's negative = disgust and repression; others, sadness, fear are not used
        3: {"happiness": "positive", "surprise": "surprise", "disgust": "negative", "repression": "negative",
            "others": None, "sadness": None, "fear": None},
    },
    "samm": {
        7: {"happiness": "happiness", "surprise": "surprise", "disgust": "disgust", "fear": "fear",
            "sadness": "sadness", "other": "others", "anger": None, "contempt": None},
        5: {"happiness": "happiness", "surprise": "surprise", "disgust": "disgust", "other": "others",
            "anger": None, "contempt": None, "fear": None, "sadness": None},
        # MEGC 2019: SAMM's negative = anger, contempt, disgust, fear, sadness
        3: {"happiness": "positive", "surprise": "surprise", "anger": "negative", "contempt": "negative",
            "disgust": "negative", "fear": "negative", "sadness": "negative", "other": None},
    },
}
COLUMNS = ("subject", "filename", "onsetframe", "apexframe", "offsetframe", "estimatedemotion")


@dataclass
class Clip:
    dataset: str      # casme2 or samm
    subject: str      # sub01 (CASME II) or 006 (SAMM)
    name: str         # EP02_01f or 006_1_2
    emotion: str      # the sheet's, lower case
    frames: dict      # frame number -> path, every frame of the clip's folder
    onset: int
    apex: int
    offset: int
    where: str        # sheet:row, for messages
    apex_estimated: bool = False


def _key(cell) -> str:
    return re.sub(r"[^a-z]", "", str(cell).lower()) if cell is not None else ""


def read_sheet(path: Path) -> list[tuple[int, dict]]:
    """(sheet row number, {column: value}) for every filled row under the header, the header being
    the first row (of the first 30) that names a Subject and a Filename column."""
    import openpyxl

    if not path.is_file():
        raise StageError(f"{path}: expected the coding sheet (.xlsx), found nothing")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # zipfile.BadZipFile, KeyError, InvalidFileException: not an .xlsx
        raise StageError(f"{path}: expected an .xlsx coding sheet, found a file openpyxl cannot read "
                         f"({type(err).__name__})") from None
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    book.close()
    headers = [h for h, row in enumerate(rows[:30]) if {"subject", "filename"} <= {_key(c) for c in row}]
    if not headers:
        raise StageError(f"{path}: expected a header row with Subject and Filename columns, found none in the first 30 rows")
    h = headers[0]
    names = [_key(c) for c in rows[h]]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise StageError(f"{path}:{h + 1}: expected the columns {', '.join(COLUMNS)} (any case and spacing), "
                         f"found no {', '.join(missing)}")
    index = {c: names.index(c) for c in COLUMNS}
    return [(h + 2 + k, {c: row[i] if i < len(row) else None for c, i in index.items()})
            for k, row in enumerate(rows[h + 1:]) if any(v not in (None, "") for v in row)]


def _frame_number(value) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(float(text)) if re.fullmatch(r"\d+(\.0+)?", text) else None


def _frames(folder: Path) -> dict[int, Path]:
    """Frame number (the digits a file name ends with) -> image path."""
    found = {}
    for p in folder.iterdir():
        m = re.search(r"(\d+)$", p.stem)
        if m and p.suffix.lower() in IMAGE_SUFFIXES:
            found[int(m.group(1))] = p
    return found


def read_clips(dataset: str, root: Path, sheet: Path) -> list[Clip]:
    """The clips of a coding sheet, each with its frame folder checked; stops at the first row that
    names a clip, a frame or an emotion that is not there, with the row number."""
    if not root.is_dir():
        raise StageError(f"{root}: expected the {dataset} frame folders (subject/clip/frames), found nothing")
    known = EMOTIONS[dataset][7]
    clips = []
    for row, cells in read_sheet(sheet):
        where = f"{sheet}:{row}"
        subject_no = _frame_number(re.sub(r"(?i)^sub", "", str(cells["subject"] or "")))
        if subject_no is None:
            raise StageError(f"{where}: expected a subject number, found '{cells['subject']}'")
        subject = f"sub{subject_no:02d}" if dataset == "casme2" else f"{subject_no:03d}"
        name = str(cells["filename"] or "").strip()
        emotion = str(cells["estimatedemotion"] or "").strip().lower()
        if emotion not in known:
            raise StageError(f"{where}: expected an Estimated Emotion of {dataset} ({', '.join(known)}), found '{emotion}'")
        folder = root / subject / name
        if not name or not folder.is_dir():
            raise StageError(f"{where}: expected the clip folder {folder}, found nothing")
        onset, apex, offset = (_frame_number(cells[c]) for c in ("onsetframe", "apexframe", "offsetframe"))
        if onset is None:
            raise StageError(f"{where}: expected an OnsetFrame number, found '{cells['onsetframe']}'")
        estimated = apex is None
        if estimated:  # CASME II leaves some apexes blank or '/': the middle of the clip stands in
            if not offset or offset < onset:
                raise StageError(f"{where}: expected an ApexFrame, or an OffsetFrame to estimate it from, found "
                                 f"'{cells['apexframe']}' and '{cells['offsetframe']}'")
            apex = (onset + offset) // 2
        clip = Clip(dataset, subject, name, emotion, _frames(folder), onset, apex, offset or apex, where, estimated)
        for label, frame in (("onset", onset), ("apex", apex)):
            if frame not in clip.frames:
                raise StageError(f"{where}: expected the {label} frame {frame} in {folder}, found no file ending in {frame}")
        clips.append(clip)
    if not clips:
        raise StageError(f"{sheet}: expected at least one coded clip, found none")
    return clips


def frames_of(clip: Clip, which: str) -> list[tuple[int, Path]]:
    """The frames a sample set uses: the apex, onset and apex, or every frame onset..offset."""
    if which == "apex":
        numbers = [clip.apex]
    elif which == "onset_apex":
        numbers = [clip.onset, clip.apex]
    else:
        numbers = list(range(clip.onset, clip.offset + 1))
        missing = [n for n in numbers if n not in clip.frames]
        if missing:
            raise StageError(f"{clip.where}: expected frames {clip.onset}..{clip.offset} of {clip.subject}/{clip.name}, "
                             f"found no file for {missing[:5]}")
    return [(n, clip.frames[n]) for n in numbers]
