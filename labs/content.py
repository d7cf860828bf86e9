"""Reading labs/<slug>/ folders of a course (see content/README.md) into specs, with file:line
errors. Called by courses.content.load_course; applied by courses.services.course_import."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings

from courses.content import SLUG_RE, Fields, LineDict, Problems, load_yaml, parse_duration, parse_size, read_text
from labs.runtime.spec import RELAXABLE

# Bounds that keep a typo from asking for an impossible sandbox.
LIMITS = {
    "memory": (32 * 1024**2, 16 * 1024**3),
    "cpus": (0.1, 8.0),
    "pids": (16, 8192),
    "disk": (8 * 1024**2, 8 * 1024**3),
    "ttl": (60, 12 * 3600),
    "idle_timeout": (60, 12 * 3600),
    "extension": (60, 8 * 3600),
    "max_extensions": (0, 20),
    "timeout": (1, 300),
    "points": (0, 1000),
}
MAX_SCRIPT_BYTES = 64 * 1024


@dataclass
class TaskSpec:
    slug: str
    title: str
    position: int
    instructions: str
    check_script: str
    solution_script: str
    solution_markdown: str
    hints: list[str]
    points: int
    needs: list[str]
    timeout_seconds: int
    path: Path


@dataclass
class LabSpec:
    slug: str
    title: str
    position: int
    intro: str
    lesson_ref: str | None  # "<module>/<lesson>"
    image: str
    docker_enabled: bool
    memory_bytes: int
    cpus: float
    pids_limit: int
    disk_bytes: int
    ttl_seconds: int
    idle_timeout_seconds: int
    max_extensions: int
    extension_seconds: int
    check_user: str
    collect_paths: list[str]
    relax: list[str]
    path: Path
    tasks: list[TaskSpec] = field(default_factory=list)


def allowed_images() -> tuple[str, ...]:
    return tuple(settings.BERTH_ALLOWED_IMAGES)


def load_labs(labs_dir: Path, *, course, problems: Problems) -> list[LabSpec]:
    if not labs_dir.is_dir():
        return []
    labs = []
    for position, lab_dir in enumerate(sorted(p for p in labs_dir.iterdir() if p.is_dir()), start=1):
        if not SLUG_RE.match(lab_dir.name):
            problems.add(lab_dir, None, "lab folders are named by their slug (a-z, 0-9, dashes)")
            continue
        lab = _load_lab(lab_dir, position, problems)
        if lab is not None:
            labs.append(lab)
    lesson_refs = {f"{m.slug}/{lesson.slug}" for m in course.modules for lesson in m.lessons}
    lab_slugs = {lab.slug for lab in labs}
    for lab in labs:
        if lab.lesson_ref and lab.lesson_ref not in lesson_refs:
            problems.add(
                lab.path / "lab.yaml",
                None,
                f"lab: lesson '{lab.lesson_ref}' is not a lesson of this course (use <module>/<lesson>)",
            )
    for lesson in course.lessons:
        if lesson.lab_slug and lesson.lab_slug not in lab_slugs:
            problems.add(lesson.path, 2, f"front matter: lab '{lesson.lab_slug}' does not exist in labs/")
    return labs


def _bounded(fields: Fields, key: str, value, bound: str):
    low, high = LIMITS[bound]
    if value is not None and not low <= value <= high:
        fields.error(key, f"{fields.what}: '{key}' must be between {low} and {high}")
        return None
    return value


def _duration(fields: Fields, key: str, default: int, bound: str) -> int:
    raw = fields.get(key, (str, int), default=None)
    if raw is None:
        return default
    seconds = parse_duration(raw)
    if seconds is None:
        fields.error(key, f"lab: '{key}' must be a duration like 90s, 20m or 1h, not {raw!r}")
        return default
    low, high = LIMITS[bound]
    if not low <= seconds <= high:
        fields.error(key, f"lab: '{key}' must be between {low}s and {high // 3600}h")
        return default
    return seconds


def _load_lab(lab_dir: Path, position: int, problems: Problems) -> LabSpec | None:
    path = lab_dir / "lab.yaml"
    if not path.is_file():
        problems.add(path, None, "missing: each lab folder needs a lab.yaml")
        return None
    text = read_text(path, problems)
    if text is None:
        return None
    f = Fields(load_yaml(text, path=path, problems=problems), path=path, problems=problems, what="lab")
    image = f.text("image", required=True)
    if image and image not in allowed_images():
        f.error("image", f"lab: image '{image}' is not allowed; allowed: {', '.join(allowed_images())}")

    limits = Fields(f.get("limits", dict, default=LineDict()), path=path, problems=problems, what="limits")
    memory = _size(limits, "memory", 512 * 1024**2)
    disk = _size(limits, "disk", 256 * 1024**2)
    cpus = _bounded(limits, "cpus", limits.get("cpus", float, default=1.0), "cpus") or 1.0
    pids = _bounded(limits, "pids", limits.get("pids", int, default=256), "pids") or 256
    limits.reject_unknown()

    ttl = _duration(f, "ttl", 3600, "ttl")
    idle = _duration(f, "idle_timeout", min(1200, ttl), "idle_timeout")
    if idle > ttl:
        f.error("idle_timeout", "lab: 'idle_timeout' cannot be longer than 'ttl'")
    collect = f.get("collect", list, default=[])
    for item in collect:
        if not isinstance(item, str) or not item.startswith("/") or ".." in PurePosixPath(item).parts:
            f.error("collect", f"lab: collect paths must be absolute paths without '..', not {item!r}")
    if len(collect) > 20:
        f.error("collect", "lab: at most 20 files can be collected")
    relax = f.get("relax", list, default=[])
    for name in relax:
        if name not in RELAXABLE:
            f.error("relax", f"lab: cannot relax {name!r}; relaxable defaults: {', '.join(sorted(RELAXABLE))}")
    check_user = f.text("check_user", default="student", max_length=32)
    if not SLUG_RE.match(check_user or "x"):
        f.error("check_user", "lab: 'check_user' must be a plain user name")
    lesson_ref = f.text("lesson", max_length=170) or None
    if lesson_ref and lesson_ref.count("/") != 1:
        f.error("lesson", "lab: 'lesson' is written <module>/<lesson>, e.g. fundamentals/lab-first-containers")

    lab = LabSpec(
        slug=lab_dir.name,
        title=f.text("title", required=True),
        position=position,
        intro=(read_text(lab_dir / "intro.md", problems) or "") if (lab_dir / "intro.md").is_file() else "",
        lesson_ref=lesson_ref,
        image=image,
        docker_enabled=f.get("docker", bool, default=False),
        memory_bytes=memory,
        cpus=float(cpus),
        pids_limit=int(pids),
        disk_bytes=disk,
        ttl_seconds=ttl,
        idle_timeout_seconds=idle,
        max_extensions=_bounded(f, "max_extensions", f.get("max_extensions", int, default=2), "max_extensions") or 0,
        extension_seconds=_duration(f, "extension", 1800, "extension"),
        check_user=check_user or "student",
        collect_paths=[c for c in collect if isinstance(c, str)],
        relax=[r for r in relax if r in RELAXABLE],
        path=lab_dir,
    )
    tasks_raw = f.get("tasks", list, default=[])
    f.reject_unknown()
    seen: dict[str, int] = {}
    for index, raw in enumerate(tasks_raw, start=1):
        task = _load_task(lab_dir, path, raw, index, seen, problems)
        if task is not None:
            lab.tasks.append(task)
            seen[task.slug] = index
    return lab


def _size(fields: Fields, key: str, default: int) -> int:
    raw = fields.get(key, (str, int), default=None)
    if raw is None:
        return default
    size = parse_size(raw)
    if size is None:
        fields.error(key, f"limits: '{key}' must be a size like 256m or 1g, not {raw!r}")
        return default
    low, high = LIMITS[key]
    if not low <= size <= high:
        fields.error(key, f"limits: '{key}' must be between {low // 1024**2}m and {high // 1024**3}g")
        return default
    return size


def _load_task(lab_dir: Path, path: Path, raw, position: int, seen: dict, problems: Problems) -> TaskSpec | None:
    f = Fields(raw, path=path, problems=problems, what=f"task #{position}")
    slug = f.text("id", required=True, max_length=80)
    if slug and not SLUG_RE.match(slug):
        f.error("id", f"task: id '{slug}' may use only a-z, 0-9 and single dashes")
        return None
    if slug in seen:
        f.error("id", f"task: duplicate id '{slug}'")
        return None
    title = f.text("title", required=True)
    points = _bounded(f, "points", f.get("points", int, default=10), "points")
    needs = f.get("needs", list, default=[])
    for need in needs:
        if need not in seen:
            f.error("needs", f"task: needs '{need}', which is not an earlier task of this lab")
    timeout = parse_duration(f.get("timeout", (str, int), default=10))
    if timeout is None or not LIMITS["timeout"][0] <= timeout <= LIMITS["timeout"][1]:
        f.error("timeout", "task: 'timeout' must be a duration between 1s and 300s")
        timeout = 10
    hints = f.get("hints", list, default=[])
    for hint in hints:
        if not isinstance(hint, str) or not hint.strip():
            f.error("hints", "task: each hint is a non-empty string (Markdown)")
    f.reject_unknown()
    if not slug:
        return None

    task_dir = lab_dir / "tasks" / slug
    files = {}
    for name, required in (
        ("instructions.md", True),
        ("check.sh", True),
        ("solution.sh", True),
        ("solution.md", False),
    ):
        file = task_dir / name
        if not file.is_file():
            if required:
                problems.add(file, None, f"missing: task '{slug}' needs tasks/{slug}/{name}")
            files[name] = ""
            continue
        content = read_text(file, problems) or ""
        if name.endswith(".sh") and len(content.encode()) > MAX_SCRIPT_BYTES:
            problems.add(file, None, f"script is larger than {MAX_SCRIPT_BYTES // 1024} KiB")
        files[name] = content
    return TaskSpec(
        slug=slug,
        title=title,
        position=position,
        instructions=files["instructions.md"],
        check_script=files["check.sh"],
        solution_script=files["solution.sh"],
        solution_markdown=files["solution.md"],
        hints=[h for h in hints if isinstance(h, str)],
        points=points if points is not None else 10,
        needs=[n for n in needs if isinstance(n, str)],
        timeout_seconds=timeout,
        path=task_dir,
    )
