"""Reading course folders (see content/README.md) into plain specs, with errors that name the
file and line. Nothing here touches the database: courses.services applies a valid spec."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ContentError(Exception):
    """One or more problems in a course folder; each names a file and, when known, a line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


class Problems:
    """Collects problems so one import run reports all of them, not just the first."""

    def __init__(self, root: Path):
        self.root = root
        self.items: list[Problem] = []

    def add(self, path: Path | str, line: int | None, message: str) -> None:
        self.items.append(Problem(self.rel(path), line, message))

    def rel(self, path: Path | str) -> str:
        try:
            return str(Path(path).relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def raise_if_any(self) -> None:
        if self.items:
            raise ContentError(self.items)


# --- YAML with line numbers ---------------------------------------------------------------------


class LineDict(dict):
    """A mapping from YAML that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise yaml.constructor.ConstructorError(None, None, "keys must be plain values", key_node.start_mark)
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str, *, path: Path, problems: Problems, line_offset: int = 0) -> Any:
    """Parse YAML; on a syntax error record it with its line and return None."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = (mark.line + 1 + line_offset) if mark is not None else None
        message = getattr(exc, "problem", None) or str(exc)
        problems.add(path, line, f"invalid YAML: {message}")
        return None


class Fields:
    """Typed reads from a LineDict that record a problem (with the key's line) instead of raising."""

    def __init__(self, data: Any, *, path: Path, problems: Problems, what: str, line_offset: int = 0):
        self.path, self.problems, self.what, self.offset = path, problems, what, line_offset
        self.broken = data is None  # the YAML did not parse: that problem is reported already
        if not isinstance(data, dict) and not self.broken:
            problems.add(path, 1 + line_offset, f"{what} must be a mapping of keys to values")
        if not isinstance(data, dict):
            data = LineDict()
            data.key_lines = {}
        self.data = data
        self.used: set[str] = set()

    def line(self, key: str | None = None) -> int:
        if isinstance(self.data, LineDict):
            return (self.data.line_of(key) if key else self.data.line) + self.offset
        return 1 + self.offset

    def error(self, key: str | None, message: str) -> None:
        self.problems.add(self.path, self.line(key), message)

    def get(self, key: str, kind: type | tuple, *, required: bool = False, default: Any = None) -> Any:
        self.used.add(key)
        if key not in self.data or self.data[key] is None:
            if required and not self.broken:
                self.problems.add(self.path, self.line(), f"{self.what}: missing required key '{key}'")
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.error(key, f"{self.what}: '{key}' must be {_article(names)}, not {type(value).__name__}")
            return default
        return value

    def text(self, key: str, *, required: bool = False, default: str = "", max_length: int = 200) -> str:
        value = self.get(key, str, required=required, default=default)
        value = value.strip() if isinstance(value, str) else default
        if required and key in self.data and not value:
            self.error(key, f"{self.what}: '{key}' must not be empty")
        if len(value) > max_length:
            self.error(key, f"{self.what}: '{key}' is longer than {max_length} characters")
        return value

    def reject_unknown(self) -> None:
        for key in self.data:
            if key not in self.used:
                self.error(key, f"{self.what}: unknown key '{key}'")


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


# --- Specs ----------------------------------------------------------------------------------------

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NUMBERED_RE = re.compile(r"^(\d+)-([a-z0-9]+(?:-[a-z0-9]+)*)$")
FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.S)


@dataclass
class LessonSpec:
    slug: str
    title: str
    summary: str
    minutes: int | None
    position: int
    lab_slug: str | None
    body: str
    path: Path
    body_line: int  # the line of the file where the Markdown body starts


@dataclass
class ModuleSpec:
    slug: str
    title: str
    summary: str
    position: int
    path: Path
    lessons: list[LessonSpec] = field(default_factory=list)


@dataclass
class CourseSpec:
    slug: str
    title: str
    summary: str
    description: str
    path: Path
    modules: list[ModuleSpec] = field(default_factory=list)
    labs: list = field(default_factory=list)  # labs.content.LabSpec

    @property
    def lessons(self) -> list[LessonSpec]:
        return [lesson for module in self.modules for lesson in module.lessons]


def read_text(path: Path, problems: Problems) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.add(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    except OSError as exc:
        problems.add(path, None, f"cannot read: {exc.strerror}")
    return None


def load_course(path: Path | str) -> CourseSpec:
    """Read and validate a whole course folder; raise ContentError listing every problem."""
    root = Path(path).resolve()
    problems = Problems(root)
    if not (root / "course.yaml").is_file():
        problems.add(root / "course.yaml", None, "missing: a course folder needs a course.yaml")
        problems.raise_if_any()

    text = read_text(root / "course.yaml", problems) or ""
    fields = Fields(
        load_yaml(text, path=root / "course.yaml", problems=problems),
        path=root / "course.yaml",
        problems=problems,
        what="course",
    )
    slug = fields.text("slug", required=True, max_length=80)
    if slug and not SLUG_RE.match(slug):
        fields.error("slug", f"course: slug '{slug}' may use only a-z, 0-9 and single dashes")
    course = CourseSpec(
        slug=slug,
        title=fields.text("title", required=True),
        summary=fields.text("summary", max_length=1000),
        description=fields.text("description", max_length=20000),
        path=root,
    )
    fields.reject_unknown()

    module_dirs = sorted(p for p in root.iterdir() if p.is_dir() and p.name != "labs" and not p.name.startswith("."))
    seen_modules: dict[str, Path] = {}
    seen_lessons: dict[str, Path] = {}
    for module_dir in module_dirs:
        match = NUMBERED_RE.match(module_dir.name)
        if not match:
            problems.add(module_dir, None, "module folders are named NN-slug (e.g. 01-fundamentals)")
            continue
        module = _load_module(module_dir, int(match.group(1)), match.group(2), problems)
        if module.slug in seen_modules:
            problems.add(
                module_dir,
                None,
                f"duplicate module slug '{module.slug}' (also {problems.rel(seen_modules[module.slug])})",
            )
        seen_modules[module.slug] = module_dir
        for lesson in module.lessons:
            if lesson.slug in seen_lessons:
                problems.add(
                    lesson.path,
                    1,
                    f"duplicate lesson slug '{lesson.slug}' (also {problems.rel(seen_lessons[lesson.slug])})",
                )
            seen_lessons[lesson.slug] = lesson.path
        course.modules.append(module)
    if not course.modules:
        problems.add(root, None, "a course needs at least one module folder")

    from labs.content import load_labs  # labs are part of the course folder

    course.labs = load_labs(root / "labs", course=course, problems=problems)
    # Labs follow the course: in the order of the lessons they complete, the others after.
    order = {
        f"{m.slug}/{lesson.slug}": i
        for i, (m, lesson) in enumerate((m, lesson) for m in course.modules for lesson in m.lessons)
    }
    course.labs.sort(key=lambda lab: (order.get(lab.lesson_ref or "", len(order)), lab.slug))
    for position, lab in enumerate(course.labs, start=1):
        lab.position = position
    problems.raise_if_any()
    return course


def _load_module(module_dir: Path, position: int, slug: str, problems: Problems) -> ModuleSpec:
    meta_path = module_dir / "module.yaml"
    title, summary = slug.replace("-", " ").title(), ""
    if meta_path.is_file():
        text = read_text(meta_path, problems) or ""
        fields = Fields(
            load_yaml(text, path=meta_path, problems=problems), path=meta_path, problems=problems, what="module"
        )
        title = fields.text("title", required=True) or title
        summary = fields.text("summary", max_length=1000)
        fields.reject_unknown()
    else:
        problems.add(meta_path, None, "missing: each module folder needs a module.yaml with its title")
    module = ModuleSpec(slug=slug, title=title, summary=summary, position=position, path=module_dir)
    for lesson_path in sorted(module_dir.glob("*.md")):
        match = NUMBERED_RE.match(lesson_path.stem)
        if not match:
            problems.add(lesson_path, None, "lesson files are named NN-slug.md (e.g. 01-what-is-a-container.md)")
            continue
        lesson = _load_lesson(lesson_path, int(match.group(1)), match.group(2), problems)
        if lesson:
            module.lessons.append(lesson)
    if not module.lessons:
        problems.add(module_dir, None, "a module needs at least one lesson (NN-slug.md)")
    return module


def _load_lesson(path: Path, position: int, slug: str, problems: Problems) -> LessonSpec | None:
    text = read_text(path, problems)
    if text is None:
        return None
    match = FRONT_MATTER_RE.match(text)
    if not match:
        problems.add(path, 1, "a lesson starts with YAML front matter between '---' lines (title at least)")
        return None
    fields = Fields(
        load_yaml(match.group(1), path=path, problems=problems, line_offset=1),
        path=path,
        problems=problems,
        what="front matter",
        line_offset=1,
    )
    title = fields.text("title", required=True)
    summary = fields.text("summary", max_length=1000)
    minutes = fields.get("minutes", int)
    if minutes is not None and not 1 <= minutes <= 600:
        fields.error("minutes", "front matter: 'minutes' must be between 1 and 600")
        minutes = None
    lab_slug = fields.text("lab", max_length=80) or None
    if lab_slug and not SLUG_RE.match(lab_slug):
        fields.error("lab", f"front matter: lab '{lab_slug}' is not a valid slug")
    fields.reject_unknown()
    body = text[match.end() :]
    body_line = text[: match.end()].count("\n") + 1
    return LessonSpec(
        slug=slug,
        title=title,
        summary=summary,
        minutes=minutes,
        position=position,
        lab_slug=lab_slug,
        body=body,
        path=path,
        body_line=body_line,
    )


_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h)?$")
_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmg])?b?$", re.I)


def parse_duration(value: Any) -> int | None:
    """'90s', '20m', '1.5h' or a number of seconds → seconds; None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = _DURATION_RE.match(str(value).strip())
    if not match:
        return None
    return int(float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"])


def parse_size(value: Any) -> int | None:
    """'256m', '1g', '64k' or a number of bytes → bytes; None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = _SIZE_RE.match(str(value).strip())
    if not match:
        return None
    unit = (match.group(2) or "").lower()
    return int(float(match.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit])
