"""`docker build` through the gateway: what a Dockerfile uses, and the Dockerfile the engine gets.

The classic builder resolves `FROM x` and `COPY --from=x` against every image on the host (and
pulls what is missing), and fetches `ADD <url>` itself on the host's network. So the engine never
reads the student's text. `plan_dockerfile` parses it with dockerfile-parse (a maintained parser:
escape directive, continuation lines, comments inside them) and lists what the build would use:
every FROM (ARG-expanded by dockerfile-parse's `parent_images`) and every `COPY --from`; it refuses
what the lab cannot allow (`ADD <url>`, heredocs). `render_dockerfile` then writes a canonical
Dockerfile from that parsed structure: the escape directive, then one line per instruction
(`KEYWORD value`, continuations joined, comments dropped), FROM and `COPY --from` naming the host
references the caller resolved, and the session's LABEL after every FROM. What the engine parses
is therefore exactly what was checked, whatever the student's text looked like.

Three things dockerfile-parse does not do, reproduced from moby here because they decide which
image or source a line names: builder flags (`extractBuilderFlags`, with its quoting),
the JSON (exec) form of COPY/ADD arguments, and ONBUILD's inner instruction. Builder flags
with non-ASCII characters are refused: moby reads them byte by byte.

Pure: no I/O, no Django.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from dockerfile_parse import DockerfileParser
from dockerfile_parse.parser import image_from

from .policy import Refused

MAX_DOCKERFILE = 1024 * 1024
# dockerfile-parse joins continuation lines and expands ARG/FROM words in time quadratic in their
# length: bounds far above real Dockerfiles keep one build's parse well under a second.
MAX_CONTINUED_LINES = 2000  # lines of one instruction
MAX_INSTRUCTIONS = 5000
MAX_FROM = 1024  # characters of a FROM instruction
MAX_META_ARGS = 16 * 1024  # characters of the ARG instructions before the first FROM
DEFAULT_NAME = "Dockerfile"

ADD_URL_REFUSED = (
    "ADD {source} is not available in this lab: the engine would download it on the host's network; "
    "download inside a RUN step instead (RUN wget ... or RUN curl ...)"
)
ADD_VARIABLE_REFUSED = (
    "ADD {source}: a variable in an ADD source is not available in this lab (it could name a URL the "
    "engine would download on the host's network); use COPY for files of the build context"
)

# dockerfile-parse's own directive patterns (DockerfileParser.structure): the escape character it
# parsed with is the one the rendered file declares.
_ESCAPE_DIRECTIVE = re.compile(r"^\s*#\s*escape\s*=\s*(\\|`)\s*$", re.I)
_SYNTAX_DIRECTIVE = re.compile(r"^\s*#\s*syntax\s*=\s*(.*)\s*$", re.I)
_KEYWORD = re.compile(r"[A-Z]+")  # ASCII only: Go lower-cases `ONBUİLD` to `onbuild`
_STAGE_NAME = re.compile(r"[a-z][a-z0-9-_.]*")  # moby's rule for `AS name`
_SAFE_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]*")  # read literally by moby's word processing
_SUBSTITUTION = re.compile(r"\$\{[A-Za-z0-9_]*[^A-Za-z0-9_}]")  # ${VAR:-x}, ${VAR+x}: not in dockerfile-parse
_HEREDOC = re.compile(r"^[0-9]*<<(?!<)")  # a word moby's parser would read as a heredoc (<<< is a herestring)
_GO_SPACE = " \t\n\v\f\r"  # unicode.IsSpace on the ASCII bytes moby's flag parser sees
_FLAG_PLAIN = re.compile(r"--[A-Za-z0-9_.-]+(=[^\s'\"\\]*)?")
_LABEL_SAFE = re.compile(r"[A-Za-z0-9 ._:/@+,=-]*")  # no quote, escape, $ or control character
_STAGE_INDEX_MAX = 2**63  # moby's strconv.ParseInt: beyond it the word is an image name


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case, ASCII letters
    value: str  # dockerfile-parse's joined value, stripped (for ONBUILD: the canonical "KEYWORD value")


@dataclass
class FromRef:
    instruction: int  # index into plan.instructions
    flags: list[str]  # builder flags as moby reads them (only --platform=...)
    image: str  # expanded (build args applied); for a stage reference, the stage's name
    stage: str | None  # "AS name" (lower case) or None
    kind: str  # "image" | "stage" | "scratch"


@dataclass
class CopyFromRef:
    instruction: int
    onbuild: bool  # inside an ONBUILD (a trigger runs in another build: a name there is an image)
    keyword: str  # COPY (or ADD, which has no --from; kept so nothing slips past)
    flags: list[str]
    rest: str  # the arguments after the flags, as written
    terminated: bool  # the flags ended with a `--` word
    value: str
    kind: str  # "image" | "stage"


@dataclass
class DockerfilePlan:
    escape: str | None  # the escape directive's character, None when there was none
    instructions: list[Instruction]
    froms: list[FromRef] = field(default_factory=list)
    copies: list[CopyFromRef] = field(default_factory=list)

    @property
    def image_refs(self) -> list[str]:
        """Every image (not a stage, not scratch) the build would use, in order, without repeats."""
        refs = [(f.instruction, f.image) for f in self.froms if f.kind == "image"]
        refs += [(c.instruction, c.value) for c in self.copies if c.kind == "image"]
        return list(dict.fromkeys(ref for _, ref in sorted(refs, key=lambda r: r[0])))


# --- parsing ----------------------------------------------------------------------------------------


def _parser(text: str, *, build_args: dict[str, str] | None = None) -> DockerfileParser:
    return DockerfileParser(
        fileobj=io.BytesIO(text.encode("utf-8")), env_replace=False, build_args=dict(build_args or {})
    )


def _prepare(text: str) -> str:
    """The text dockerfile-parse reads: no BOM, no blank lines, one blank line at the end.

    moby skips blank lines everywhere, inside continuations too; dockerfile-parse ends an
    instruction at one. The final blank line closes an instruction continued at the end of the
    file (dockerfile-parse would drop it); it ends with a continuation, which is refused."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = [line for line in text.split("\n") if line.strip()]
    return "\n".join(lines) + "\n\n"


def _escape_of(lines: list[str]) -> str | None:
    """The escape directive dockerfile-parse honoured (same patterns, same place: the first lines)."""
    escape = None
    for line in lines:
        match = _ESCAPE_DIRECTIVE.match(line)
        if match:
            escape = match.group(1)
        elif not _SYNTAX_DIRECTIVE.match(line):
            break
    return escape


def extract_flags(line: str) -> tuple[list[str], str, bool]:
    """moby's extractBuilderFlags: the leading `--flag[=value]` words (quotes and backslashes
    processed), the rest of the line, and whether a `--` word ended the flags.

    moby walks the line byte by byte (a UTF-8 byte 0x85 or 0xA0 is a space to it), so a
    non-ASCII character inside a flag is refused rather than guessed."""
    words: list[str] = []
    phase, word, quote, blank_ok = "spaces", "", "", False
    pos, n = 0, len(line)
    while pos <= n:
        ch = line[pos] if pos < n else ""
        if phase == "spaces":
            if pos == n:
                break
            if ch in _GO_SPACE:
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or line[pos + 1] != "-":
                return words, line[pos:], False
            phase = "word"
        if pos == n:
            if word != "--" and (blank_ok or word):
                words.append(word)
            break
        if ch == "\\" and pos + 1 < n:
            pos += 1
            escaped, ch = True, line[pos]
        else:
            escaped = False
        if not ch.isascii():
            raise Refused(f"builder flags must be ASCII text: {line.strip()[:80]}", status=400)
        if phase == "word":
            if not escaped and ch in _GO_SPACE:
                phase = "spaces"
                if word == "--":
                    return words, line[pos:], True
                if blank_ok or word:
                    words.append(word)
                word, blank_ok = "", False
            elif not escaped and ch in ("'", '"'):
                quote, blank_ok, phase = ch, True, "quote"
            elif not (ch == "\\" and not escaped):  # a backslash ending the line is dropped
                word += ch
        elif not escaped and ch == quote:
            phase = "word"
        elif ch == "\\" and not escaped:  # a backslash ending the line, inside quotes
            phase = "word"
        else:
            word += ch
        pos += 1
    return words, "", False


def _arguments(rest: str) -> list[list[str]]:
    """The ways moby may read COPY/ADD arguments: the JSON form (its decoder reads the first JSON
    value and ignores what follows; [] here when it is not an array of strings) and the
    whitespace-split form. Checks look at both."""
    readings = []
    text = rest.strip()
    if text.startswith("["):
        try:
            value, _ = json.JSONDecoder().raw_decode(text)
        except ValueError:
            value = None
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        readings.append(value if ok else [])
    readings.append(rest.split())
    return readings


def _plain(word: str) -> str:
    """The word without any quote or escape character (either escape: an ONBUILD trigger is parsed
    again with the default one). moby's word processing, with no `$` left, only deletes some of
    those, so a URL prefix it would produce is still a prefix here."""
    return re.sub("[\"'\\\\`]", "", word)


def _is_url(word: str) -> bool:
    for candidate in (word, _plain(word)):
        if "://" in candidate or candidate.startswith("git@"):
            return True
    return False


def _check_sources(keyword: str, rest: str) -> None:
    """Refuse ADD/COPY sources the engine could download (the last argument is the destination)."""
    readings = _arguments(rest)
    if keyword == "ADD" and rest.strip().startswith("[") and not readings[0]:
        raise Refused(f"ADD {rest.strip()[:80]}: the JSON form must be an array of strings", status=400)
    for args in readings:
        for source in args[:-1] if len(args) > 1 else args:
            if _is_url(source):
                if keyword == "ADD":
                    raise Refused(ADD_URL_REFUSED.format(source=source), status=403)
                raise Refused(f"COPY {source}: COPY cannot download URLs; download inside a RUN step", status=403)
            if keyword == "ADD" and "$" in source:
                raise Refused(ADD_VARIABLE_REFUSED.format(source=source), status=403)


def _check_heredoc(keyword: str, value: str) -> None:
    if keyword in ("RUN", "COPY", "ADD") and any(_HEREDOC.match(word) for word in value.split()):
        raise Refused(
            f"{keyword} {value[:60]}: heredocs (<<) are not supported by this lab's builder; "
            "put the text in a file of the build context",
            status=400,
        )


def _split_keyword(text: str) -> tuple[str, str]:
    match = re.match(r"\s*(\S+)\s*(.*)$", text, re.S)
    if not match:
        return "", ""
    return match.group(1).upper(), match.group(2).strip()


def _check_keyword(keyword: str) -> None:
    if not _KEYWORD.fullmatch(keyword):
        raise Refused(f"unknown instruction: {keyword[:40]}", status=400)


def _is_stage_index(value: str) -> bool:
    return bool(re.fullmatch(r"[+-]?[0-9]+", value)) and -_STAGE_INDEX_MAX <= int(value) < _STAGE_INDEX_MAX


def _copy_from(index: int, keyword: str, value: str, *, onbuild: bool, stages: list[str]) -> CopyFromRef | None:
    """Check one COPY/ADD (top level or ONBUILD); its `--from`, if any."""
    _check_heredoc(keyword, value)
    flags, rest, terminated = extract_flags(value)
    _check_sources(keyword, rest)
    froms = [f for f in flags if f.lower().startswith("--from=")]
    if len(froms) > 1:
        raise Refused(f"{keyword} {value[:80]}: --from can only be given once", status=400)
    source = froms[0].split("=", 1)[1] if froms else ""
    if not source:
        return None  # moby: an empty --from is no --from
    if "$" in source:
        raise Refused(f"{keyword} --from={source}: variables in --from are not supported in this lab", status=400)
    if _is_stage_index(source):
        kind = "stage"
    elif not onbuild and source.lower() in stages:
        kind = "stage"
    else:
        kind = "image"  # in a trigger, a name is looked up in another build: treat it as an image
    return CopyFromRef(
        instruction=index,
        onbuild=onbuild,
        keyword=keyword,
        flags=flags,
        rest=rest.strip(_GO_SPACE),
        terminated=terminated,
        value=source,
        kind=kind,
    )


def _build_args(build_args: dict[str, str | None] | None) -> dict[str, str]:
    out = {}
    for key, value in (build_args or {}).items():
        if value is None:
            continue  # moby: an arg without a value keeps the ARG's default
        if not isinstance(key, str) or not isinstance(value, str):
            raise Refused("build arguments must be strings", status=400)
        out[key] = value
    return out


def _check_continuations(text: str) -> None:
    """Bound the lines of one instruction (either escape character; comment lines do not count)."""
    run = 0
    for line in text.split("\n"):
        if line.rstrip().endswith(("\\", "`")):
            run += 1
            if run > MAX_CONTINUED_LINES:
                raise Refused(f"a Dockerfile instruction has more than {MAX_CONTINUED_LINES} lines", status=400)
        elif not line.lstrip().startswith("#"):
            run = 0


def _check_sizes(structure: list[dict]) -> None:
    if len(structure) > MAX_INSTRUCTIONS:
        raise Refused(f"the Dockerfile has more than {MAX_INSTRUCTIONS} instructions", status=400)
    meta_args, seen_from = 0, False
    for item in structure:
        if item["instruction"] == "FROM":
            seen_from = True
            if len(item["value"]) > MAX_FROM:
                raise Refused(f"a FROM instruction is longer than {MAX_FROM} characters", status=400)
        elif item["instruction"] == "ARG" and not seen_from:
            meta_args += len(item["value"])
    if meta_args > MAX_META_ARGS:
        raise Refused(f"the ARG instructions before FROM are longer than {MAX_META_ARGS} characters", status=400)


def plan_dockerfile(text: str, *, build_args: dict[str, str | None] | None = None) -> DockerfilePlan:
    """Parse the Dockerfile (dockerfile-parse) and list the images it uses: every FROM after ARG
    expansion with `build_args`, every COPY --from (ONBUILD ones too). Refuses (`Refused`) what
    the lab cannot build: ADD/COPY of URLs, variables in ADD sources, heredocs, a Dockerfile over
    1 MiB, instructions whose keyword is not plain ASCII letters."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DOCKERFILE:
        raise Refused("the Dockerfile is too large (at most 1 MiB)", status=400)
    try:
        prepared = _prepare(text)
        _check_continuations(prepared)
        parser = _parser(prepared, build_args=_build_args(build_args))
        escape = _escape_of(parser.lines)
        structure = [s for s in parser.structure if s["instruction"] != "COMMENT"]
        _check_sizes(structure)
        parents = parser.parent_images
    except (UnicodeError, ValueError, IndexError) as exc:  # dockerfile-parse's ARG parsing raises these
        raise Refused(f"the Dockerfile cannot be parsed: {exc}", status=400) from exc
    esc = escape or "\\"
    plan = DockerfilePlan(escape=escape, instructions=[])
    stages: list[str] = []  # names of the stages before the current one
    current_stage: str | None = None
    parent_index = 0
    for index, item in enumerate(structure):
        keyword, value = item["instruction"], item["value"].strip()
        _check_keyword(keyword)
        if re.search(re.escape(esc) + r"[ \t]*$", value):
            raise Refused(f"{keyword} {value[:60]}: the Dockerfile ends with a line continuation ({esc})", status=400)
        if keyword == "FROM":
            if current_stage is not None:
                stages.append(current_stage)
            ref = _from(index, value, parents, parent_index, stages)
            parent_index += 1
            plan.froms.append(ref)
            current_stage = ref.stage or ""
        elif keyword in ("COPY", "ADD"):
            ref = _copy_from(index, keyword, value, onbuild=False, stages=[s for s in stages if s])
            if ref:
                plan.copies.append(ref)
        elif keyword == "ONBUILD":
            flags, rest, _ = extract_flags(value)
            if flags:
                raise Refused(f"ONBUILD {value[:60]}: ONBUILD takes no flags", status=400)
            inner, inner_value = _split_keyword(rest)
            _check_keyword(inner)
            if inner in ("ONBUILD", "FROM", "MAINTAINER"):
                raise Refused(f"{inner} isn't allowed as an ONBUILD trigger", status=400)
            _check_heredoc(inner, inner_value)
            if inner in ("COPY", "ADD"):
                ref = _copy_from(index, inner, inner_value, onbuild=True, stages=[])
                if ref:
                    plan.copies.append(ref)
            value = f"{inner} {inner_value}".strip()
        else:
            _check_heredoc(keyword, value)
        if "\n" in value:  # cannot happen after joining; the rendered file depends on it
            raise Refused("the Dockerfile has an instruction over several lines", status=400)
        plan.instructions.append(Instruction(keyword=keyword, value=value))
    return plan


def _from(index: int, value: str, parents: list[str], parent_index: int, stages: list[str]) -> FromRef:
    flags, rest, terminated = extract_flags(value)
    for flag in flags:
        if not flag.startswith("--platform="):
            raise Refused(f"FROM {value[:80]}: unknown flag {flag.split('=', 1)[0]}", status=400)
    args = rest.split()
    if terminated or len(args) not in (1, 3) or (len(args) == 3 and args[1].lower() != "as"):
        raise Refused("FROM requires either one or three arguments (FROM image [AS name])", status=400)
    stage = None
    if len(args) == 3:
        stage = args[2].lower()
        if not _STAGE_NAME.fullmatch(stage):
            raise Refused(
                f"invalid name for build stage: {args[2]!r}, name can't start with a number or contain symbols",
                status=400,
            )
        if stage in stages:
            raise Refused(f"duplicate name for build stage: {args[2]!r}", status=400)
    # dockerfile-parse expands the image of each FROM it can read, in order: it must be this word.
    if image_from(value)[0] != args[0] or parent_index >= len(parents):
        raise Refused(f"FROM {value[:80]}: this form of FROM is not supported in this lab", status=400)
    if _SUBSTITUTION.search(args[0]):
        raise Refused(
            f"FROM {args[0]}: ${{VAR:-default}} substitutions are not supported in this lab; "
            "give the ARG a default instead (ARG VAR=default)",
            status=400,
        )
    image = parents[parent_index]
    if not image:
        raise Refused(f"FROM {args[0]}: the image name is empty after expanding build arguments", status=400)
    if not _SAFE_REF.fullmatch(image):
        raise Refused(f"FROM {args[0]}: invalid reference format ({image!r})", status=400)
    if image.lower() in [s for s in stages if s]:
        return FromRef(instruction=index, flags=flags, image=image.lower(), stage=stage, kind="stage")
    kind = "scratch" if image == "scratch" else "image"
    return FromRef(instruction=index, flags=flags, image=image, stage=stage, kind=kind)


# --- rendering --------------------------------------------------------------------------------------


def _quote_flag(word: str) -> str:
    """A flag written so that moby's extractBuilderFlags reads `word` back."""
    if _FLAG_PLAIN.fullmatch(word):
        return word
    key, eq, value = word.partition("=")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}{eq}"{escaped}"'


def label_line(labels: dict[str, str]) -> str:
    """`LABEL "k"="v" ...` (sorted), read literally by the engine whatever the escape character."""
    for key, value in labels.items():
        if not key or not _LABEL_SAFE.fullmatch(key) or not _LABEL_SAFE.fullmatch(value):
            raise ValueError(f"label {key!r}={value!r} has characters the Dockerfile parser would process")
    return "LABEL " + " ".join(f"{json.dumps(k)}={json.dumps(v)}" for k, v in sorted(labels.items()))


def _host_ref(mapping: dict[str, str], ref: str) -> str:
    host = mapping.get(ref)
    if host is None or not _SAFE_REF.fullmatch(host):
        raise ValueError(f"no usable host reference for image {ref!r}: {host!r}")
    return host


def render_dockerfile(
    plan: DockerfilePlan,
    mapping: dict[str, str],
    *,
    labels: dict[str, str],
    extra_labels: dict[str, dict[str, str]] | None = None,
) -> str:
    """The Dockerfile the engine gets, written from the plan (never the student's text).

    `mapping` gives the host reference of every entry of `plan.image_refs` (a missing one is a
    ValueError: nothing is passed through unmapped). After every FROM a LABEL line carries
    `labels`, plus `extra_labels[host ref]` for that base (used to blank the platform's own
    labels a base image carries)."""
    froms = {f.instruction: f for f in plan.froms}
    copies = {c.instruction: c for c in plan.copies}
    lines = [f"# escape={plan.escape}"] if plan.escape else []
    for index, ins in enumerate(plan.instructions):
        if index in froms:
            ref = froms[index]
            image = _host_ref(mapping, ref.image) if ref.kind == "image" else ref.image
            parts = ["FROM", *[_quote_flag(f) for f in ref.flags], image]
            if ref.stage:
                parts += ["AS", ref.stage]
            lines.append(" ".join(parts))
            lines.append(label_line({**(extra_labels or {}).get(image, {}), **labels}))
        elif index in copies and copies[index].kind == "image":
            ref = copies[index]
            host = _host_ref(mapping, ref.value)
            flags = [f[: len("--from=")] + host if f.lower().startswith("--from=") else f for f in ref.flags]
            words = [ref.keyword, *[_quote_flag(f) for f in flags], *(["--"] if ref.terminated else []), ref.rest]
            lines.append(("ONBUILD " if ref.onbuild else "") + " ".join(w for w in words if w))
        else:
            lines.append(f"{ins.keyword} {ins.value}".strip())
    escape = plan.escape or "\\"
    body = lines[1:] if plan.escape else lines
    for line in body:
        if "\n" in line or re.search(re.escape(escape) + r"[ \t]*$", line):
            raise ValueError(f"cannot render {line[:80]!r} on one line")
    text = "\n".join(lines) + "\n"
    _check_rendered(text, body)
    if _escape_of(text.split("\n")) != plan.escape:
        raise ValueError("the rendered Dockerfile's escape directive does not read back")
    return text


def _check_rendered(text: str, lines: list[str]) -> None:
    """dockerfile-parse must read the rendered text back as the lines written, one instruction each."""
    parser = _parser(text)
    structure = [s for s in parser.structure if s["instruction"] != "COMMENT"]
    wanted = [tuple(line.split(" ", 1)) if " " in line else (line, "") for line in lines]
    if [(s["instruction"], s["value"]) for s in structure] != wanted:
        raise ValueError("the rendered Dockerfile does not read back as written")


# --- images' ONBUILD triggers, the context's Dockerfile name ---------------------------------------


def check_onbuild_triggers(triggers: list[str], allowed: Callable[[str], bool], *, image: str = "the image") -> None:
    """Refuse a base image whose ONBUILD triggers (Config.OnBuild) would, in the student's build,
    download a URL or copy from an image `allowed` rejects. The engine parses each trigger on its
    own with the default escape character; one line each (anything else is refused)."""
    for trigger in triggers or []:
        if not isinstance(trigger, str) or "\n" in trigger or "\r" in trigger:
            raise Refused(f"{image} has an ONBUILD trigger over several lines this lab cannot check", status=403)
        structure = [s for s in _parser(trigger + "\n").structure if s["instruction"] != "COMMENT"]
        if not structure:
            continue  # a comment: the engine refuses it itself
        keyword, value = structure[0]["instruction"], structure[0]["value"].strip()
        written = trigger.split()[0]  # Go lower-cases `İ` to `i`: the keyword as written must be ASCII
        if not (_KEYWORD.fullmatch(keyword) and written.isascii()) or keyword in ("ONBUILD", "FROM", "MAINTAINER"):
            raise Refused(f"{image} has an ONBUILD trigger this lab cannot check: {trigger[:80]}", status=403)
        _check_heredoc(keyword, value)
        if keyword not in ("COPY", "ADD"):
            continue
        ref = _copy_from(0, keyword, value, onbuild=True, stages=[])
        if ref and ref.kind == "image" and not allowed(ref.value):
            raise Refused(f"{image} has an ONBUILD {keyword} --from={ref.value} this lab cannot use", status=403)


def dockerfile_names(dockerfile_param: str) -> list[str]:
    """The context members the classic builder reads as the Dockerfile for the `dockerfile` query
    parameter, in its order of preference: "Dockerfile" then "dockerfile" for the default (empty
    or "Dockerfile", as moby does), else the one path, cleaned (no leading ./ or /). A path with
    `..` is refused: the engine resolves it through the context's symlinks, not as written."""
    param = dockerfile_param or ""
    if param in ("", DEFAULT_NAME):
        return [DEFAULT_NAME, DEFAULT_NAME.lower()]
    parts = [p for p in param.split("/") if p not in ("", ".")]
    if "\x00" in param or ".." in parts or not parts:
        raise Refused(f"the Dockerfile must be a file inside the build context (not {param[:100]!r})", status=400)
    return ["/".join(parts)]
