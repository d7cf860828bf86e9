"""Reading course folders: every problem is reported with its file and line, nothing is written."""

import shutil
from pathlib import Path

import pytest

from courses.content import ContentError, load_course, parse_duration, parse_size

MINI = Path(__file__).resolve().parents[2] / "fixtures" / "courses" / "mini"


@pytest.fixture
def course_dir(tmp_path):
    target = tmp_path / "mini"
    shutil.copytree(MINI, target)
    return target


def problems_of(path) -> list[str]:
    with pytest.raises(ContentError) as info:
        load_course(path)
    return [str(p) for p in info.value.problems]


def test_the_fixture_course_loads(course_dir):
    spec = load_course(course_dir)
    assert [m.slug for m in spec.modules] == ["basics", "more"]
    assert [lesson.slug for lesson in spec.lessons] == ["hello", "second", "more"]
    assert spec.lessons[0].lab_slug == "first"
    lab = spec.labs[0]
    assert lab.slug == "first" and lab.memory_bytes == 256 * 1024**2 and lab.ttl_seconds == 1800
    assert [t.slug for t in lab.tasks] == ["make-file", "say-hello"]
    assert lab.tasks[1].needs == ["make-file"] and lab.tasks[1].timeout_seconds == 5


def test_the_real_course_loads():
    spec = load_course(Path(__file__).resolve().parents[3] / "content" / "docker-crash-course")
    assert len(spec.modules) == 6
    assert all(len(m.lessons) >= 3 for m in spec.modules)


def test_bad_yaml_names_file_and_line(course_dir):
    (course_dir / "01-basics" / "module.yaml").write_text("title: Basics\nsummary: [unclosed\n")
    (problem,) = problems_of(course_dir)
    assert problem.startswith("mini/01-basics/module.yaml:")
    assert "invalid YAML" in problem


def test_front_matter_errors_point_at_the_key_line(course_dir):
    lesson = course_dir / "01-basics" / "02-second.md"
    lesson.write_text("---\ntitle: Second\nminutes: lots\ncolour: blue\n---\nbody\n")
    problems = problems_of(course_dir)
    assert "mini/01-basics/02-second.md:3: front matter: 'minutes' must be an int, not str" in problems
    assert "mini/01-basics/02-second.md:4: front matter: unknown key 'colour'" in problems


def test_missing_title_and_front_matter(course_dir):
    (course_dir / "01-basics" / "02-second.md").write_text("no front matter here\n")
    (course_dir / "02-more" / "01-more.md").write_text("---\nsummary: x\n---\n")
    problems = problems_of(course_dir)
    assert any(p.startswith("mini/01-basics/02-second.md:1: a lesson starts with YAML front matter") for p in problems)
    assert any("02-more/01-more.md:2: front matter: missing required key 'title'" in p for p in problems)


def test_duplicate_lesson_slugs_across_modules(course_dir):
    shutil.copy(course_dir / "01-basics" / "02-second.md", course_dir / "02-more" / "02-second.md")
    problems = problems_of(course_dir)
    assert any("duplicate lesson slug 'second'" in p for p in problems)


def test_lab_unknown_keys_and_impossible_values(course_dir):
    lab = course_dir / "labs" / "first" / "lab.yaml"
    text = lab.read_text().replace("memory: 256m", "memory: 64t").replace("pids: 128", "pids: 1")
    text = text.replace("ttl: 30m", "ttl: 30m\nflavour: mint")
    lab.write_text(text)
    problems = problems_of(course_dir)
    assert any("labs/first/lab.yaml:5: limits: 'memory' must be a size" in p for p in problems), problems
    assert any("labs/first/lab.yaml:7: limits: 'pids' must be between" in p for p in problems), problems
    assert any("labs/first/lab.yaml:10: lab: unknown key 'flavour'" in p for p in problems), problems


def test_lab_image_must_be_allowed(course_dir):
    lab = course_dir / "labs" / "first" / "lab.yaml"
    lab.write_text(lab.read_text().replace("image: berth/lab-base:1", "image: ubuntu:latest"))
    problems = problems_of(course_dir)
    assert any("lab.yaml:3: lab: image 'ubuntu:latest' is not allowed" in p for p in problems)


def test_task_needs_must_be_earlier_tasks_and_files_must_exist(course_dir):
    lab = course_dir / "labs" / "first" / "lab.yaml"
    lab.write_text(lab.read_text().replace("needs: [make-file]", "needs: [later-task]"))
    (course_dir / "labs" / "first" / "tasks" / "make-file" / "check.sh").unlink()
    problems = problems_of(course_dir)
    assert any("needs 'later-task', which is not an earlier task" in p for p in problems)
    assert any("tasks/make-file/check.sh: missing" in p for p in problems)


def test_lesson_pointing_to_unknown_lab(course_dir):
    lesson = course_dir / "01-basics" / "01-hello.md"
    lesson.write_text(lesson.read_text().replace("lab: first", "lab: nope"))
    assert any("front matter: lab 'nope' does not exist" in p for p in problems_of(course_dir))


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("20m", 1200), ("1.5h", 5400), (45, 45), ("x", None)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "size"),
    [("256m", 256 * 1024**2), ("1g", 1024**3), ("64k", 65536), (10, 10), ("1gb", 1024**3), ("lots", None)],
)
def test_parse_size(text, size):
    assert parse_size(text) == size
