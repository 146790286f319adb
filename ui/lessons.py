"""Lessons: plain YAML files in lessons/ that a teacher steps through while the class follows (issue 20).

A lesson is a title, a line about it, and an ordered list of steps; a step is a share link (the page and its widget
values, exactly what the address bar of a tab shows, e.g. `reconstructions?model=pretrained/conv-ae-2&rec_n=16`),
a line for the teacher to say, and optionally a question asked on the step's map (ui/questions.py). Going to a step
opens its link in the teacher's tab as a link would open (values that do not fit are dropped with a note), and the
class, following, moves with it. Files are read with yaml.safe_load (no objects, no code) and checked here, once,
where they enter: a file that does not fit is listed with what is wrong, and the others still work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import yaml

from ui.shell import ROOT, page_file

FOLDER = ROOT / "lessons"
MAX_BYTES, MAX_STEPS, MAX_SAY = 64_000, 60, 600


class LessonError(ValueError):
    """A lesson file that cannot be used, and why."""


@dataclass(frozen=True)
class Question:
    """What a lesson step may ask: `ask` and either a test `image` (with `noise`) or a `label` (a class name)."""

    ask: str
    image: int | None = None
    noise: float = 0.0
    label: str | None = None


def parse_question(i: int, raw: object) -> Question:
    """A step's `question:` entry; ValueError says what does not fit (ui/lessons.py turns it into a LessonError)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("ask"), str) or set(raw) - {"ask", "image", "noise",
                                                                                        "class"}:
        raise ValueError(f"step {i}: a question has `ask` and one of `image` (a test image's number, with an "
                         "optional `noise` level) or `class` (a class name)")
    image, label, noise = raw.get("image"), raw.get("class"), raw.get("noise", 0.0)
    if (image is None) == (label is None):
        raise ValueError(f"step {i}: a question asks about one `image` or one `class`")
    if image is not None and (not isinstance(image, int) or image < 0):
        raise ValueError(f"step {i}: `image` is a test image's number (0, 1, ...)")
    if not isinstance(noise, (int, float)) or not 0 <= noise <= 1:
        raise ValueError(f"step {i}: `noise` is a level between 0 and 1")
    return Question(ask=raw["ask"].strip()[:300], image=image, noise=float(noise),
                    label=None if label is None else str(label))


@dataclass(frozen=True)
class Step:
    page: str  # a page's url_path ("" is Home)
    params: dict[str, str]  # the link's dataset, model and widget values
    say: str
    question: Question | None = None  # a question the teacher may ask on this step's map (ui/questions.py)


@dataclass(frozen=True)
class Lesson:
    key: str  # the file's name without .yaml
    title: str
    about: str
    steps: tuple[Step, ...]


def parse_step(i: int, raw: object) -> Step:
    if not isinstance(raw, dict) or set(raw) - {"link", "say", "question"} or not isinstance(raw.get("link"), str):
        raise LessonError(f"step {i} needs a `link` (a page and its settings) and a `say`, and may have a "
                          "`question`; nothing else")
    say = raw.get("say", "")
    if not isinstance(say, str) or len(say) > MAX_SAY:
        raise LessonError(f"step {i}: `say` is a line of text of at most {MAX_SAY} characters")
    parts = urlsplit(raw["link"].strip())
    if parts.scheme or parts.netloc:
        raise LessonError(f"step {i}: the link is a page of this app (`latent_space?model=...`), not a whole URL")
    page = parts.path.strip("/")
    if page_file(page) is None:
        raise LessonError(f"step {i}: there is no page `{page}`")
    try:
        question = parse_question(i, raw["question"]) if "question" in raw else None
    except ValueError as e:
        raise LessonError(str(e)) from e
    return Step(page="" if page == "home" else page, params=dict(parse_qsl(parts.query)), say=say.strip(),
                question=question)


def parse_lesson(key: str, text: str) -> Lesson:
    """A lesson from a file's text; LessonError says what does not fit."""
    if len(text.encode()) > MAX_BYTES:
        raise LessonError(f"the file is over {MAX_BYTES // 1000} kB; a lesson is a few dozen lines")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise LessonError(f"not YAML ({str(e).splitlines()[0]})") from e
    if not isinstance(raw, dict) or not isinstance(raw.get("title"), str) or not isinstance(raw.get("steps"), list):
        raise LessonError("a lesson has a `title` and a list of `steps`")
    if not 1 <= len(raw["steps"]) <= MAX_STEPS:
        raise LessonError(f"a lesson has 1 to {MAX_STEPS} steps")
    steps = tuple(parse_step(i, s) for i, s in enumerate(raw["steps"], 1))
    return Lesson(key=key, title=raw["title"].strip(), about=str(raw.get("about", "")).strip(), steps=steps)


def read_lessons(folder: Path = FOLDER) -> tuple[dict[str, Lesson], dict[str, str]]:
    """(the lessons that can be used, by key; the files that cannot, with why)."""
    good, bad = {}, {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            good[path.stem] = parse_lesson(path.stem, path.read_text(encoding="utf-8"))
        except (LessonError, OSError, UnicodeDecodeError) as e:
            bad[path.name] = str(e)
    return good, bad
