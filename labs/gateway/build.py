"""`docker build` through the gateway: the Dockerfile's image references and the context stream.

The classic builder resolves `FROM x` and `COPY --from=x` against every image on the host (and
pulls what is missing), so the gateway rewrites those references before the engine sees them:
an image the session built (`myapp`) becomes its host repository (`<ns>/myapp`); a platform base
image stays as it is; anything else is refused. Stage names are left alone. After every FROM a
LABEL line with the session's labels is added: every layer of the build is then the session's
(found and removed at the end), and its cache can never be shared with another session's build.

Both steps are pure: `plan_dockerfile` parses (the way moby's parser does: escape directive, line
continuations, comments, builder flags, ARG expansion in FROM) and lists the references;
`render_dockerfile` writes the new text from the resolved names. `TarRewriter` finds the
Dockerfile in the streamed context tar (no temporary files) and lets the caller swap its content.
"""

from __future__ import annotations

import bz2
import json
import lzma
import posixpath
import re
import zlib
from dataclasses import dataclass, field

from .policy import Refused

_WS = re.compile(r"[\t\v\f\r ]+")
_ESCAPE_DIRECTIVE = re.compile(r"^#[ \t]*escape[ \t]*=[ \t]*(.).*$")
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_.]*$")
MAX_DOCKERFILE = 1024 * 1024


# --- Dockerfile -----------------------------------------------------------------------------------


@dataclass
class Instruction:
    start: int  # index of its first line
    end: int  # index of its last line (inclusive)
    keyword: str  # lowercase
    args: str  # the rest of the joined line (after the keyword)


@dataclass
class FromRef:
    instruction: int  # index into plan.instructions
    flags: list[str]
    image: str  # expanded
    stage: str | None  # "AS name" (lowercase) or None
    kind: str  # "image" | "stage" | "scratch"


@dataclass
class CopyFromRef:
    instruction: int
    onbuild: bool
    flags: list[str]
    rest: str
    value: str
    kind: str  # "image" | "stage"


@dataclass
class DockerfilePlan:
    lines: list[str]
    escape: str
    instructions: list[Instruction]
    froms: list[FromRef] = field(default_factory=list)
    copies: list[CopyFromRef] = field(default_factory=list)

    @property
    def image_refs(self) -> list[str]:
        """Every image (not stage, not scratch) the build would use, in order, without repeats."""
        refs = [f.image for f in self.froms if f.kind == "image"] + [c.value for c in self.copies if c.kind == "image"]
        return list(dict.fromkeys(refs))


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    return lines


def parse_instructions(text: str) -> tuple[list[str], str, list[Instruction]]:
    """moby/buildkit's dockerfile parser (as vendored in Engine 20.10), reduced to what we need:
    logical instructions with their keyword, arguments and line span."""
    lines = _split_lines(text)
    escape = "\\"
    directives_done = False
    instructions: list[Instruction] = []

    def continuation(line: str) -> tuple[str, bool]:
        match = re.search(re.escape(escape) + r"[ \t]*$", line)
        if match:
            return line[: match.start()], False
        return line, True

    i = 0
    while i < len(lines):
        raw = lines[i]
        stripped = raw.lstrip()
        if not directives_done:
            match = _ESCAPE_DIRECTIVE.match(stripped.lower())
            if match:
                if match.group(1) not in ("\\", "`"):
                    raise Refused(f"invalid ESCAPE '{match.group(1)}'. Must be ` or \\", status=400)
                escape = match.group(1)
                i += 1
                continue
            directives_done = True
        start = i
        line = "" if stripped.startswith("#") else stripped
        line, end_of_line = continuation(line)
        i += 1
        if end_of_line and line.strip() == "":
            continue
        while not end_of_line and i < len(lines):
            raw_next = lines[i]
            i += 1
            trimmed = raw_next.lstrip()
            if trimmed.startswith("#"):
                continue
            if trimmed == "":
                continue
            part, end_of_line = continuation(raw_next)
            line += part
        words = _WS.split(line.strip(), maxsplit=1)
        if not words or not words[0]:
            continue
        instructions.append(
            Instruction(start=start, end=i - 1, keyword=words[0].lower(), args=words[1] if len(words) > 1 else "")
        )
    return lines, escape, instructions


def extract_flags(line: str) -> tuple[str, list[str]]:
    """moby's extractBuilderFlags: leading `--flag[=value]` words (with quotes), and the rest."""
    words: list[str] = []
    phase, word, quote, blank_ok = "spaces", "", "", False
    pos = 0
    n = len(line)
    while pos <= n:
        ch = line[pos] if pos < n else ""
        if phase == "spaces":
            if pos == n:
                break
            if ch.isspace():
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or line[pos + 1] != "-":
                return line[pos:], words
            phase = "word"
        if phase in ("word", "quote") and pos == n:
            if word != "--" and (blank_ok or word):
                words.append(word)
            break
        if phase == "word":
            if ch.isspace():
                phase = "spaces"
                if word == "--":
                    return line[pos:], words
                if blank_ok or word:
                    words.append(word)
                word, blank_ok = "", False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote, blank_ok, phase = ch, True, "quote"
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word += ch
            pos += 1
            continue
        if phase == "quote":
            if ch == quote:
                phase = "word"
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    phase = "word"
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word += ch
            pos += 1
    return "", words


class _Lexer:
    """moby's shell.Lex.ProcessWord: quotes, escapes and ${VAR}, ${VAR:-x}, ${VAR:+x}."""

    def __init__(self, word: str, env: dict[str, str], escape: str):
        self.s, self.i, self.env, self.escape = word, 0, env, escape

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def next(self) -> str:
        ch = self.peek()
        self.i += 1 if ch else 0
        return ch

    def process(self) -> str:
        return self._until("")

    def _until(self, stop: str) -> str:
        out = []
        while True:
            ch = self.peek()
            if not ch:
                if stop:
                    raise Refused(f"unexpected end of statement while looking for matching {stop}", status=400)
                return "".join(out)
            if stop and ch == stop:
                self.next()
                return "".join(out)
            if ch == "'":
                self.next()
                out.append(self._single())
            elif ch == '"':
                self.next()
                out.append(self._double())
            elif ch == "$":
                self.next()
                out.append(self._dollar())
            elif ch == self.escape:
                self.next()
                nxt = self.next()
                out.append(nxt)
            else:
                out.append(self.next())

    def _single(self) -> str:
        out = []
        while True:
            ch = self.next()
            if not ch:
                raise Refused("unexpected end of statement while looking for matching single-quote", status=400)
            if ch == "'":
                return "".join(out)
            out.append(ch)

    def _double(self) -> str:
        out = []
        while True:
            ch = self.peek()
            if not ch:
                raise Refused("unexpected end of statement while looking for matching double-quote", status=400)
            if ch == '"':
                self.next()
                return "".join(out)
            if ch == "$":
                self.next()
                out.append(self._dollar())
                continue
            self.next()
            if ch == self.escape and self.peek() in ('"', "$", self.escape):
                ch = self.next()
            out.append(ch)

    def _name(self) -> str:
        start = self.i
        while self.peek() and (self.peek().isalnum() or self.peek() == "_"):
            self.next()
        return self.s[start : self.i]

    def _dollar(self) -> str:
        if self.peek() != "{":
            name = self._name()
            return self.env.get(name, "") if name else "$"
        self.next()
        name = self._name()
        ch = self.next()
        if ch == "}":
            return self.env.get(name, "")
        if ch == ":":
            modifier = self.next()
            word = self._until("}")
            value = self.env.get(name, "")
            if modifier == "-":
                return value if value else word
            if modifier == "+":
                return word if value else ""
            raise Refused(f"unsupported modifier ({modifier}) in substitution", status=400)
        raise Refused("missing ':' in substitution", status=400)


def process_word(word: str, env: dict[str, str], escape: str = "\\") -> str:
    return _Lexer(word, env, escape).process()


def plan_dockerfile(text: str, *, build_args: dict[str, str | None] | None = None) -> DockerfilePlan:
    """Parse the Dockerfile and find the images it uses (FROM after ARG expansion; COPY --from)."""
    lines, escape, instructions = parse_instructions(text)
    plan = DockerfilePlan(lines=lines, escape=escape, instructions=instructions)
    build_args = build_args or {}
    meta: dict[str, str] = {}
    stages: list[str | None] = []
    seen_from = False
    for index, ins in enumerate(instructions):
        if ins.keyword == "arg" and not seen_from:
            for word in _WS.split(ins.args.strip()):
                if not word:
                    continue
                key, eq, default = word.partition("=")
                value = build_args.get(key)
                if value is None:
                    value = process_word(default, meta, escape) if eq else ""
                meta[key] = value
            continue
        if ins.keyword == "from":
            seen_from = True
            rest, flags = extract_flags(ins.args)
            args = [a for a in _WS.split(rest.strip()) if a]
            if len(args) == 3 and args[1].lower() == "as":
                stage = args[2].lower()
                if not _STAGE_NAME.match(stage):
                    raise Refused(
                        f"invalid name for build stage: {args[2]!r}, name can't start with a number or contain symbols",
                        status=400,
                    )
            elif len(args) == 1:
                stage = None
            else:
                raise Refused("FROM requires either one or three arguments", status=400)
            image = process_word(args[0], meta, escape)
            if not image:
                raise Refused(f"FROM {args[0]}: the image name is empty after expanding build arguments", status=400)
            if image.lower() in [s for s in stages if s]:
                kind = "stage"
            elif image == "scratch":
                kind = "scratch"
            else:
                kind = "image"
            plan.froms.append(FromRef(instruction=index, flags=flags, image=image, stage=stage, kind=kind))
            stages.append(stage)
            continue
        inner_keyword, inner_args, onbuild = ins.keyword, ins.args, False
        if ins.keyword == "onbuild":
            words = _WS.split(ins.args.strip(), maxsplit=1)
            inner_keyword, inner_args, onbuild = words[0].lower(), (words[1] if len(words) > 1 else ""), True
            if inner_keyword in ("from", "onbuild", "maintainer"):
                raise Refused(f"{inner_keyword.upper()} isn't allowed as an ONBUILD trigger", status=400)
        if inner_keyword in ("copy", "add"):
            rest, flags = extract_flags(inner_args)
            for flag in flags:
                if flag.lower().startswith("--from="):
                    value = flag.split("=", 1)[1]
                    if value.isdigit() or value.lower() in [s for s in stages[:-1] if s]:
                        kind = "stage"
                    else:
                        kind = "image"
                    if onbuild:
                        kind = "image"  # a trigger runs in another build, where these stages do not exist
                    plan.copies.append(
                        CopyFromRef(instruction=index, onbuild=onbuild, flags=flags, rest=rest, value=value, kind=kind)
                    )
    return plan


def _quote_flag(word: str) -> str:
    if re.fullmatch(r"--[A-Za-z0-9_.\-]+(=[^\s'\"\\]*)?", word):
        return word
    key, eq, value = word.partition("=")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}{eq}"{escaped}"'


def label_line(labels: dict[str, str]) -> str:
    return "LABEL " + " ".join(f"{json.dumps(k)}={json.dumps(v)}" for k, v in sorted(labels.items()))


def render_dockerfile(
    plan: DockerfilePlan,
    mapping: dict[str, str],
    *,
    labels: dict[str, str],
    extra_labels: dict[str, dict[str, str]] | None = None,
) -> str:
    """The Dockerfile with image references replaced by `mapping` (expanded ref -> host ref) and
    the session's LABEL line after every FROM. `extra_labels[host ref]` adds labels for that base
    (used to blank the platform's own labels a base image carries)."""
    replace: dict[int, list[str]] = {}
    for ref in plan.froms:
        ins = plan.instructions[ref.instruction]
        image = mapping.get(ref.image, ref.image) if ref.kind == "image" else ref.image
        parts = ["FROM"] + [_quote_flag(f) for f in ref.flags] + [image]
        if ref.stage:
            parts += ["AS", ref.stage]
        stage_labels = dict((extra_labels or {}).get(image, {}))
        stage_labels.update(labels)
        replace[ins.start] = [" ".join(parts), label_line(stage_labels)]
    for ref in plan.copies:
        if ref.kind != "image":
            continue
        ins = plan.instructions[ref.instruction]
        flags = [
            f"--from={mapping.get(ref.value, ref.value)}" if f.lower().startswith("--from=") else f for f in ref.flags
        ]
        keyword = ins.args.split(None, 1)[0].upper() if ref.onbuild else ins.keyword.upper()
        line = " ".join([keyword] + [_quote_flag(f) for f in flags] + ([ref.rest] if ref.rest else []))
        replace[ins.start] = [("ONBUILD " + line) if ref.onbuild else line]
    out: list[str] = []
    skip_until = -1
    spans = {
        plan.instructions[r.instruction].start: plan.instructions[r.instruction].end
        for r in [*plan.froms, *plan.copies]
    }
    for index, line in enumerate(plan.lines):
        if index <= skip_until:
            continue
        if index in replace:
            out.extend(replace[index])
            skip_until = spans[index]
            continue
        out.append(line)
    return "\n".join(out) + "\n"  # the escape directive, if any, is still the first line


# --- the context tar ------------------------------------------------------------------------------

BLOCK = 512
_HEADER_ONLY = set(b"123456")  # links, devices, directories, fifos: no data (as Go's archive/tar reads them)
_KNOWN_TYPES = set(b"0123456\x007xgLK")


def _octal(field: bytes) -> int:
    if field and field[0] & 0x80:  # base-256
        value = field[0] & 0x7F
        for byte in field[1:]:
            value = (value << 8) | byte
        return value
    text = field.split(b"\x00", 1)[0].strip(b" \x00")
    return int(text or b"0", 8)


def _checksum_ok(header: bytes) -> bool:
    try:
        stored = _octal(header[148:156])
    except ValueError:
        return False
    blank = header[:148] + b" " * 8 + header[156:]
    unsigned = sum(blank)
    signed = sum(b - 256 if b > 127 else b for b in blank)
    return stored in (unsigned, signed)


def _with_checksum(header: bytearray) -> bytes:
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\x00 " % sum(header)
    return bytes(header)


def _cstr(field: bytes) -> str:
    return field.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")


def _parse_pax(data: bytes) -> list[tuple[str, str]]:
    records = []
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError as exc:
            raise Refused("the build context has an invalid tar header", status=400) from exc
        record = data[space + 1 : pos + length]
        if length <= 0 or not record.endswith(b"\n"):
            raise Refused("the build context has an invalid tar header", status=400)
        key, _, value = record[:-1].partition(b"=")
        records.append((key.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape")))
        pos += length
    return records


def _render_pax(records: list[tuple[str, str]]) -> bytes:
    out = b""
    for key, value in records:
        body = f" {key}={value}\n".encode("utf-8", "surrogateescape")
        length = len(body) + 1
        while len(str(length).encode()) + len(body) != length:
            length = len(str(length).encode()) + len(body)
        out += str(length).encode() + body
    return out


def _padded(size: int) -> int:
    return (size + BLOCK - 1) // BLOCK * BLOCK


def clean_member_name(name: str) -> str:
    name = name.lstrip("/")
    clean = posixpath.normpath(name) if name else ""
    return "" if clean == "." else clean


@dataclass
class Captured:
    """A member the caller asked for (the Dockerfile), held back until it gives the new content."""

    name: str
    header: bytes
    pax: list[tuple[str, str]] | None  # the pax records that preceded it (None: no pax header)
    pax_header: bytes | None
    other: bytes  # GNU long name blocks that preceded it, passed through unchanged
    data: bytes


class TarRewriter:
    """Streams a tar archive through, holding back the members named in `targets`.

    feed() returns a list of bytes (to pass on) and Captured items (call render() with the new
    content, in order). Refuses what the engine would read differently from us: a wanted member
    that is not a regular file, a wanted path reached through a symlink, sparse files, bad headers."""

    def __init__(self, targets: set[str], *, max_capture: int = MAX_DOCKERFILE):
        self.targets = set(targets)
        self.max_capture = max_capture
        self.buf = bytearray()
        self.state = "header"
        self.remaining = 0  # bytes of member data (with padding) to pass through
        self.meta_kind = b""
        self.meta_size = 0
        self.pending_pax: tuple[bytes, bytes] | None = None  # (header, data)
        self.pending_other = b""
        self.long_name: str | None = None
        self.capture: dict | None = None
        self.symlinks: set[str] = set()
        self.found = 0
        self.ended = False

    def feed(self, data: bytes) -> list:
        self.buf += data
        out: list = []
        while True:
            if self.state == "tail":
                if self.buf:
                    out.append(bytes(self.buf))
                    self.buf.clear()
                return out
            if self.state == "data":
                if not self.buf:
                    return out
                take = min(self.remaining, len(self.buf))
                out.append(bytes(self.buf[:take]))
                del self.buf[:take]
                self.remaining -= take
                if self.remaining == 0:
                    self.state = "header"
                continue
            if self.state == "meta":
                need = _padded(self.meta_size)
                if len(self.buf) < need:
                    return out
                self._meta_done(bytes(self.buf[:need]))
                del self.buf[:need]
                self.state = "header"
                continue
            if self.state == "capture":
                need = _padded(self.capture["size"])
                if len(self.buf) < need:
                    return out
                cap = self.capture
                out.append(
                    Captured(
                        name=cap["name"],
                        header=cap["header"],
                        pax=cap["pax"],
                        pax_header=cap["pax_header"],
                        other=cap["other"],
                        data=bytes(self.buf[: cap["size"]]),
                    )
                )
                del self.buf[:need]
                self.capture = None
                self.state = "header"
                continue
            # header
            if len(self.buf) < BLOCK:
                return out
            header = bytes(self.buf[:BLOCK])
            del self.buf[:BLOCK]
            if header == b"\x00" * BLOCK:
                out.extend(self._flush_pending())
                out.append(header)
                self.state = "tail"
                self.ended = True
                continue
            out.extend(self._header(header))

    def _flush_pending(self) -> list:
        out = []
        if self.pending_other:
            out.append(self.pending_other)
        if self.pending_pax:
            out.append(self.pending_pax[0] + self.pending_pax[1])
        self.pending_other, self.pending_pax, self.long_name = b"", None, None
        return out

    def _meta_done(self, block: bytes) -> None:
        data = block[: self.meta_size]
        if self.meta_kind == b"x":
            self.pending_pax = (self._meta_header, block)
        else:
            self.pending_other += self._meta_header + block
            if self.meta_kind == b"L":
                self.long_name = data.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")

    def _header(self, header: bytes) -> list:
        if not _checksum_ok(header):
            raise Refused("the build context is not a valid tar archive", status=400)
        kind = header[156:157] or b"\x00"
        if kind[0] not in _KNOWN_TYPES:
            raise Refused(f"the build context has a tar entry of unsupported type {kind!r}", status=400)
        try:
            size = _octal(header[124:136])
        except ValueError as exc:
            raise Refused("the build context is not a valid tar archive", status=400) from exc
        if kind in (b"x", b"L", b"K"):
            if size > self.max_capture:
                raise Refused("the build context has an oversized tar header", status=400)
            self._meta_header, self.meta_kind, self.meta_size = header, kind, size
            self.state = "meta"
            return []
        pax = _parse_pax(self.pending_pax[1][: _octal(self.pending_pax[0][124:136])]) if self.pending_pax else None
        for key, _ in pax or []:
            if key.startswith("GNU.sparse"):
                raise Refused("sparse files are not supported in a build context", status=400)
        name = _cstr(header[0:100])
        if header[257:263] == b"ustar\x00":
            prefix = _cstr(header[345:500])
            if prefix:
                name = f"{prefix}/{name}"
        if self.long_name is not None:
            name = self.long_name
        pax_size = None
        for key, value in pax or []:
            if key == "path":
                name = value
            elif key == "size":
                try:
                    pax_size = int(value)
                except ValueError as exc:
                    raise Refused("the build context has an invalid tar header", status=400) from exc
        if pax_size is not None:
            size = pax_size
        if kind[0] in _HEADER_ONLY:
            size = 0
        clean = clean_member_name(name)
        for parent in _parents(clean):
            if parent in self.symlinks:
                raise Refused(f"the build context has a path through a symbolic link ({name})", status=400)
        if kind == b"2":
            self.symlinks.add(clean)
            if clean in self.targets or any(t.startswith(clean + "/") for t in self.targets):
                raise Refused("the Dockerfile must be a regular file in the build context, not a link", status=400)
        is_wanted = clean in self.targets
        if is_wanted and kind not in (b"0", b"\x00", b"7"):
            raise Refused("the Dockerfile must be a regular file in the build context", status=400)
        if is_wanted and not name.endswith("/"):
            if size > self.max_capture:
                raise Refused("the Dockerfile is too large (at most 1 MiB)", status=400)
            self.found += 1
            self.capture = {
                "name": clean,
                "header": header,
                "size": size,
                "pax": pax,
                "pax_header": self.pending_pax[0] if self.pending_pax else None,
                "other": self.pending_other,
            }
            self.pending_other, self.pending_pax, self.long_name = b"", None, None
            self.state = "capture"
            return []
        out = self._flush_pending()
        out.append(header)
        self.remaining = _padded(size)
        self.state = "data" if self.remaining else "header"
        return out

    def render(self, captured: Captured, content: bytes) -> bytes:
        """The bytes that replace a captured member: its headers with the new size, then the content."""
        out = captured.other
        if captured.pax is not None:
            records = [(k, v) for k, v in captured.pax if k != "size"]
            data = _render_pax(records)
            pax_header = bytearray(captured.pax_header)
            pax_header[124:136] = b"%011o\x00" % len(data)
            out += _with_checksum(pax_header) + data + b"\x00" * (_padded(len(data)) - len(data))
        header = bytearray(captured.header)
        header[124:136] = b"%011o\x00" % len(content)
        out += _with_checksum(header) + content + b"\x00" * (_padded(len(content)) - len(content))
        return out

    def finish(self) -> list:
        """The end of the stream: what is still held back, then a proper end of archive.

        The docker CLI appends a Dockerfile from outside the context (as .dockerfile.<hex>) and
        ends the stream without padding that last member or writing the end blocks; the engine
        reads such an archive, so the gateway completes it instead of refusing it."""
        out: list = []
        if self.state == "capture" and len(self.buf) >= self.capture["size"]:
            self.buf += b"\x00" * (_padded(self.capture["size"]) - len(self.buf))
            out = self.feed(b"")
        elif self.state == "data" and len(self.buf) == 0 and self.remaining < BLOCK:
            out, self.remaining, self.state = [b"\x00" * self.remaining], 0, "header"
        if self.state in ("meta", "capture") or (self.state == "data" and self.remaining) or self.buf:
            raise Refused("the build context ended in the middle of a file", status=400)
        if not self.ended:
            out.append(b"\x00" * (2 * BLOCK))
            self.ended = True
        return out


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


class Decompressor:
    """The engine accepts gzip, bzip2 and xz contexts; the gateway reads them as plain tar."""

    def __init__(self):
        self.kind: str | None = None
        self.head = b""
        self.obj = None

    def feed(self, data: bytes) -> bytes:
        if self.kind is None:
            self.head += data
            if len(self.head) < 6:
                return b""
            data, self.head = self.head, b""
            if data.startswith(b"\x1f\x8b"):
                self.kind, self.obj = "gzip", zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif data.startswith(b"BZh"):
                self.kind, self.obj = "bzip2", bz2.BZ2Decompressor()
            elif data.startswith(b"\xfd7zXZ\x00"):
                self.kind, self.obj = "xz", lzma.LZMADecompressor()
            else:
                self.kind = "plain"
        if self.kind == "plain":
            return data
        try:
            return self.obj.decompress(data)
        except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
            raise Refused(f"the build context could not be decompressed ({self.kind})", status=400) from exc

    def flush(self) -> bytes:
        if self.kind is None:
            data, self.head = self.head, b""
            self.kind = "plain"
            return data
        if self.kind == "gzip":
            return self.obj.flush()
        return b""


def dockerfile_names(dockerfile: str) -> set[str]:
    """Which context members are the Dockerfile (the engine's rules: the default name, then lowercase)."""
    name = clean_member_name(dockerfile or "Dockerfile")
    if name in ("Dockerfile", ""):
        return {"Dockerfile", "dockerfile"}
    return {name}
