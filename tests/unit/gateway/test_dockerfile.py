"""labs.gateway.dockerfile: what a Dockerfile uses, and the canonical Dockerfile the engine gets."""

import io

import pytest
from dockerfile_parse import DockerfileParser

from labs.gateway import dockerfile as df
from labs.gateway.policy import Refused

LABELS = {"org.berth.session": "s-1", "org.berth.kind": "student"}
LABEL_LINE = 'LABEL "org.berth.kind"="student" "org.berth.session"="s-1"'


def plan(text, **kwargs):
    return df.plan_dockerfile(text, **kwargs)


def parsed(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, value) as dockerfile-parse reads a text, comments left out."""
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode()), env_replace=False)
    return [(s["instruction"], s["value"].strip()) for s in parser.structure if s["instruction"] != "COMMENT"]


def refused(text, match, status=None, **kwargs):
    with pytest.raises(Refused, match=match) as exc:
        plan(text, **kwargs)
    if status:
        assert exc.value.status == status
    return exc.value


# --- the plan ------------------------------------------------------------------------------------


def test_froms_stages_scratch_and_copy_from():
    p = plan(
        "FROM busybox AS base\n"
        "RUN echo hi\n"
        "FROM --platform=linux/amd64 myapp:1\n"
        "COPY --from=base /a /a\n"
        "COPY --from=0 /b /b\n"
        "COPY --chown=1:1 --from=other/img /c /c\n"
        "from BASE\n"
        "FROM scratch\n"
    )
    assert [(f.image, f.kind, f.stage, f.flags) for f in p.froms] == [
        ("busybox", "image", "base", []),
        ("myapp:1", "image", None, ["--platform=linux/amd64"]),
        ("base", "stage", None, []),  # a stage reference is the stage's (lower-case) name
        ("scratch", "scratch", None, []),
    ]
    assert [(c.value, c.kind) for c in p.copies] == [("base", "stage"), ("0", "stage"), ("other/img", "image")]
    assert p.image_refs == ["busybox", "myapp:1", "other/img"]


def test_a_stage_is_only_what_came_before():
    p = plan("FROM later\nCOPY --from=later /x /x\nFROM busybox AS later\nFROM later\nCOPY --from=later /y /y\n")
    assert [(f.image, f.kind) for f in p.froms] == [("later", "image"), ("busybox", "image"), ("later", "stage")]
    assert [(c.value, c.kind) for c in p.copies] == [("later", "image"), ("later", "stage")]
    # the current stage is not yet a stage to COPY --from (moby looks it up as an image)
    assert [c.kind for c in plan("FROM busybox AS me\nCOPY --from=me /a /b\n").copies] == ["image"]


@pytest.mark.parametrize(
    "value, kind",
    [("1", "stage"), ("+1", "stage"), ("-1", "stage"), ("99999999999999999999", "image"), ("1x", "image")],
)
def test_copy_from_indexes_as_moby_reads_them(value, kind):
    # strconv.ParseInt: what it cannot read (out of range) is looked up as an image
    assert plan(f"FROM busybox\nCOPY --from={value} /a /b\n").copies[0].kind == kind


def test_arg_expansion_in_from_with_and_without_build_args():
    text = "ARG TAG=1.35\nARG REPO=busybox\nFROM ${REPO}:${TAG}\nARG LATE=x\nFROM $REPO\n"
    assert plan(text).image_refs == ["busybox:1.35", "busybox"]
    assert plan(text, build_args={"REPO": "nginx"}).image_refs == ["nginx:1.35", "nginx"]
    assert plan(text, build_args={"REPO": None, "TAG": "2"}).image_refs == ["busybox:2", "busybox"]  # None: default
    assert plan(text, build_args={"LATE": "evil"}).image_refs == ["busybox:1.35", "busybox"]
    # an ARG after the first FROM is not visible to FROM, even with a build arg
    assert plan("FROM busybox\nARG IMG=x\nFROM alpine$IMG\n", build_args={"IMG": "y"}).image_refs == [
        "busybox",
        "alpine",
    ]
    assert plan("ARG REPO\nFROM ${REPO}box\n", build_args={"REPO": "busy"}).image_refs == ["busybox"]
    assert plan('ARG V="1.36"\nFROM "busy"box:$V\n').image_refs == ["busybox:1.36"]  # quotes go, as in moby
    assert plan("ARG B=scratch\nFROM $B\n").froms[0].kind == "scratch"
    assert plan("FROM busybox AS base\nARG S=base\nFROM base\n").froms[1].kind == "stage"


def test_from_expansions_dockerfile_parse_cannot_do_are_refused():
    refused("ARG REPO\nFROM ${REPO:-busybox}\n", r"\$\{VAR:-default\} substitutions are not supported")
    refused("ARG X=1\nFROM busybox:${X:+latest}\n", "substitutions are not supported")
    refused("FROM $NOPE\n", "empty after expanding build arguments")
    refused("ARG A=busybox\nARG B=$A\nFROM $B\n", "invalid reference format")  # defaults are not expanded
    refused("FROM busybox extra\n", "one or three arguments")
    refused("FROM busybox AS 1bad\n", "invalid name for build stage")
    refused("FROM busybox AS a\nFROM busybox AS A\n", "duplicate name for build stage")
    refused("FROM --pull=always busybox\n", "unknown flag --pull")


def test_the_parser_follows_continuations_comments_blank_lines_and_the_escape_directive():
    text = "# escape=`\nFROM `\n  # a comment inside the instruction\n\n  myapp `\n  AS built\nRUN echo C:\\path\n"
    p = plan(text)
    assert p.escape == "`" and p.froms[0].image == "myapp" and p.froms[0].stage == "built"
    assert p.instructions[1] == df.Instruction("RUN", "echo C:\\path")
    assert plan("FROM \\\n   busybox\n").image_refs == ["busybox"]
    assert plan("# FROM evil\nFROM busybox\n").image_refs == ["busybox"]  # a comment is not an instruction
    # moby skips a blank line inside a continuation (dockerfile-parse alone would end the RUN there)
    p = plan("FROM busybox\nRUN apt-get update && \\\n\n    apt-get install -y curl\n")
    assert p.instructions[1] == df.Instruction("RUN", "apt-get update &&     apt-get install -y curl")
    # a continuation at the very end still ends the instruction
    assert plan("FROM busybox\nRUN echo a \\\n").instructions[1] == df.Instruction("RUN", "echo a")
    # a BOM and CRLF line ends
    assert plan("\ufeffFROM busybox\r\nRUN echo hi \\\r\n  there\r\n").instructions[1].value == "echo hi   there"


def test_onbuild_and_its_triggers_in_the_dockerfile():
    p = plan("FROM busybox\nONBUILD COPY --from=helper /x /x\nONBUILD COPY --from=1 /y /y\nonbuild  run   echo\n")
    assert p.image_refs == ["busybox", "helper"]  # a trigger's name is an image (its build has other stages)
    assert [(c.value, c.kind, c.onbuild) for c in p.copies] == [("helper", "image", True), ("1", "stage", True)]
    assert p.instructions[3] == df.Instruction("ONBUILD", "RUN echo")
    refused("FROM busybox\nONBUILD FROM evil\n", "isn't allowed as an ONBUILD trigger")
    refused("FROM busybox\nONBUILD ONBUILD RUN x\n", "isn't allowed as an ONBUILD trigger")
    refused("FROM busybox\nONBUILD --x RUN x\n", "ONBUILD takes no flags")


@pytest.mark.parametrize(
    "line",
    [
        "ADD http://127.0.0.1:8080/x /x",
        "ADD https://example.com/x.tgz /x",
        "ADD HTTP://EXAMPLE.COM/x /x",
        "ADD git@github.com:org/repo.git /repo",
        "ADD --chown=1:1 http://example.com/x /x",
        "ADD a.txt http://example.com/x /dir/",
        'ADD ["http://example.com/x", "/x"]',
        'ADD ["http:\\/\\/example.com/x", "/x"]',  # JSON escapes
        'ADD ["http:\\u002f\\u002fexample.com/x", "/x"]',
        'ADD "http"://example.com/x /x',  # quotes the engine removes
        "ADD 'ht'tp://example.com/x /x",
        "ADD http:\\//example.com/x /x",  # an escape the engine removes
        "ADD \\\n  http://example.com/x \\\n  /x",  # continuation lines
        "ONBUILD ADD http://example.com/x /x",
        "onbuild add http://example.com/x /x",
        "COPY http://example.com/x /x",
        "ONBUILD COPY https://example.com/x /x",
    ],
)
def test_remote_sources_are_refused(line):
    exc = refused(f"FROM busybox\n{line}\n", "not available in this lab|cannot download URLs", status=403)
    if "ADD" in line.upper().split()[:2]:
        assert "the engine would download it on the host's network; download inside a RUN step" in exc.message


@pytest.mark.parametrize(
    "text",
    [
        "FROM busybox\nARG SRC=http://127.0.0.1/x\nADD $SRC /x\n",
        "FROM busybox\nENV U=http:/\nADD ${U}/host/x /x\n",
        'FROM busybox\nADD ["$SRC", "/x"]\n',
        "FROM busybox\nONBUILD ADD $SRC /x\n",
    ],
)
def test_variables_in_add_sources_are_refused(text):
    refused(text, "a variable in an ADD source is not available", status=403)


def test_local_add_and_copy_still_work():
    p = plan(
        "# escape=`\nFROM busybox\nADD rootfs.tar.gz /\nADD --chown=1:1 a.txt b.txt $APP_HOME/\n"
        'COPY ${JAR_FILE} app.jar\nCOPY ["a b.txt", "/dst/"]\nADD files/ c:\\dst\\\n'
    )
    assert [i.keyword for i in p.instructions] == ["FROM", "ADD", "ADD", "COPY", "COPY", "ADD"]
    refused('FROM busybox\nADD ["a", 1]\n', "JSON form must be an array of strings", status=400)


def test_heredocs_are_refused():
    for line in ("RUN <<EOF", "RUN cat 0<<-'EOT' > /x", "COPY <<EOF /x", "ONBUILD RUN <<EOF"):
        refused(f"FROM busybox\n{line}\necho hi\nEOF\n", "heredocs", status=400)
    assert plan("FROM busybox\nRUN cat <<<hi && echo 'a<<b'\n").instructions[1].keyword == "RUN"


def test_what_the_engine_would_read_differently_is_refused():
    # moby reads builder flags byte by byte: 0xA0 (inside "à") is a space to it, so this is
    # --chown=1? and then --from=evil
    refused("FROM busybox\nCOPY --chown=1à--from=evil /a /b\n", "builder flags must be ASCII")
    # Go lower-cases U+0130 to "i": this is ONBUILD to the engine
    refused("FROM busybox\nONBUİLD COPY --from=evil /a /b\n", "unknown instruction")
    refused("FROM busybox\nFR\\OM evil\n", "unknown instruction")
    refused("FROM busybox\nCOPY --from=a --from=b /a /b\n", "only be given once")
    refused("FROM busybox\nCOPY --from=$IMG /a /b\n", "variables in --from are not supported")
    refused("FROM busybox\nRUN echo \\\\\n", "ends with a line continuation")
    refused("FROM busybox\n" + "RUN true\n" * 150_000, "too large", status=400)


def test_sizes_that_would_make_the_parse_slow_are_refused():
    # dockerfile-parse joins continuations and expands words in quadratic time
    refused("FROM busybox\nRUN a \\\n" + "# c\n  b \\\n" * 2001 + "  c\n", "more than 2000 lines")
    plan("FROM busybox\nRUN a \\\n" + "  b \\\n" * 1999 + "  c\n" + "# note\n" * 5000)
    refused("FROM busybox\n" + "ENV A=1\n" * 5000, "more than 5000 instructions")
    refused("FROM busybox:" + "1" * 1100 + "\n", "longer than 1024")
    refused("ARG A=" + "a" * 17_000 + "\nFROM busybox\n", "ARG instructions before FROM are longer")
    plan("FROM busybox\nARG A=" + "a" * 17_000 + "\n")  # after FROM, dockerfile-parse does not expand it
    # a unicode space between keyword and flags: read (and rendered) as COPY --from=evil
    assert plan("FROM busybox\nCOPY\u00a0--from=evil /a /b\n").image_refs == ["busybox", "evil"]


def test_extract_flags_like_moby():
    assert df.extract_flags("--platform=linux/amd64 busybox AS b") == (
        ["--platform=linux/amd64"],
        "busybox AS b",
        False,
    )
    assert df.extract_flags('--from="my img" /a /b') == (["--from=my img"], "/a /b", False)
    assert df.extract_flags("-- busybox") == ([], " busybox", True)
    assert df.extract_flags("--a='x\\'y' --b=\\ c rest") == (["--a=x'y", "--b= c"], "rest", False)
    assert df.extract_flags("--a=x\\") == (["--a=x"], "", False)
    assert df.extract_flags("") == ([], "", False)


@pytest.mark.parametrize("flag", ["--from=a", "--from=my img", '--chown="x"', "--x=a\\b", "--y='", "--z"])
def test_rendered_flags_read_back(flag):
    assert df.extract_flags(df._quote_flag(flag) + " /a /b") == ([flag], "/a /b", False)


# --- rendering -----------------------------------------------------------------------------------


def test_render_replaces_references_and_labels_every_stage():
    p = plan(
        "# syntax=docker/dockerfile:1\n# a comment\nFROM busybox AS b\nRUN true\nFROM \\\n  myapp\n"
        "COPY --from=b /x /x\nCOPY --chown=1:1 --from=lib:1 /y /y\nONBUILD COPY --from=lib:1 -- /z /z\n"
    )
    out = df.render_dockerfile(
        p,
        {"busybox": "busybox", "myapp": "ns/myapp:latest", "lib:1": "ns/lib:1"},
        labels=LABELS,
        extra_labels={"busybox": {"org.berth.platform-image": ""}},
    )
    assert out.splitlines() == [
        "FROM busybox AS b",
        'LABEL "org.berth.kind"="student" "org.berth.platform-image"="" "org.berth.session"="s-1"',
        "RUN true",
        "FROM ns/myapp:latest",
        LABEL_LINE,
        "COPY --from=b /x /x",
        "COPY --chown=1:1 --from=ns/lib:1 /y /y",
        "ONBUILD COPY --from=ns/lib:1 -- /z /z",
    ]


def test_render_keeps_the_escape_directive_and_the_variables():
    text = (
        "# escape=`\nARG BASE=busybox\nFROM --platform=$BUILDPLATFORM $BASE AS build\n"
        'ENV DIR="C:\\app" `\n  HOME=$DIR\nRUN echo $HOME `\n  && dir C:\\\nFROM build\n'
    )
    out = df.render_dockerfile(plan(text), {"busybox": "ns/busybox:1"}, labels=LABELS)
    assert out.splitlines() == [
        "# escape=`",
        "ARG BASE=busybox",
        "FROM --platform=$BUILDPLATFORM ns/busybox:1 AS build",
        LABEL_LINE,
        'ENV DIR="C:\\app"   HOME=$DIR',
        "RUN echo $HOME   && dir C:\\",
        "FROM build",
        LABEL_LINE,
    ]


def test_render_never_passes_an_image_through_unmapped():
    p = plan("FROM busybox\nCOPY --from=other /a /b\n")
    with pytest.raises(ValueError):
        df.render_dockerfile(p, {"busybox": "busybox"}, labels=LABELS)
    with pytest.raises(ValueError):
        df.render_dockerfile(p, {"busybox": "busybox", "other": "x y"}, labels=LABELS)
    with pytest.raises(ValueError):
        df.render_dockerfile(p, {"busybox": "$EVIL", "other": "o"}, labels=LABELS)


def test_label_line():
    assert df.label_line({"b": "2", "a": "x y"}) == 'LABEL "a"="x y" "b"="2"'
    for bad in ({"a": "$HOME"}, {"a": 'x"y'}, {"a": "x\\y"}, {"a": "x`y"}, {"a": "x\ny"}, {"": "x"}):
        with pytest.raises(ValueError):
            df.label_line(bad)


REAL_WORLD = {
    "go-multistage": (
        "# syntax=docker/dockerfile:1\n"
        "ARG GO_VERSION=1.21\n"
        "FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-alpine AS build\n"
        "WORKDIR /src\n"
        "COPY go.mod go.sum ./\n"
        "RUN --mount=type=cache,target=/go/pkg/mod go mod download\n"
        "COPY . .\n"
        "RUN CGO_ENABLED=0 go build -ldflags='-s -w' -o /out/app ./cmd/app\n"
        "FROM scratch\n"
        "COPY --from=build /out/app /app\n"
        'ENTRYPOINT ["/app"]\n',
        {"golang:1.21-alpine": "ns/golang:1.21-alpine"},
        [
            "FROM --platform=$BUILDPLATFORM ns/golang:1.21-alpine AS build",
            "FROM scratch",
        ],
    ),
    "python-continuations-with-comments": (
        "FROM python:3.11-slim\n"
        "ENV PYTHONDONTWRITEBYTECODE=1 \\\n"
        "    PYTHONUNBUFFERED=1 \\\n"
        '    APP_HOME="/srv/my app"\n'
        "RUN apt-get update \\\n"
        "    # build dependencies, removed below\n"
        "    && apt-get install -y --no-install-recommends gcc libpq-dev \\\n"
        "  # another comment\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "WORKDIR $APP_HOME\n"
        "COPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        "COPY . .\n"
        'LABEL org.opencontainers.image.title="My App" maintainer="Jane Doe <jane@example.com>" \\\n'
        "      version=1.0\n"
        "EXPOSE 8000\n"
        "HEALTHCHECK --interval=30s --timeout=3s CMD curl -f http://localhost:8000/ || exit 1\n"
        "USER 1000:1000\n"
        'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app.wsgi:application"]\n',
        {"python:3.11-slim": "python:3.11-slim"},
        ["FROM python:3.11-slim"],
    ),
    "windows-style-escape": (
        "# escape=`\n"
        "FROM busybox\n"
        "COPY testfile.txt c:\\\n"
        "RUN dir c:\\\n"
        'ENV PATH="C:\\tools;${PATH}"\n'
        "RUN echo one `\n"
        "    two `\n"
        "    three\n"
        'CMD ["cmd", "/S", "/C", "echo \\"quoted\\""]\n',
        {"busybox": "busybox"},
        ["FROM busybox"],
    ),
    "node-args-and-stages": (
        "ARG NODE_VERSION=20\n"
        "FROM node:${NODE_VERSION}-alpine AS deps\n"
        "WORKDIR /app\n"
        "COPY package.json package-lock.json* ./\n"
        "RUN npm ci --omit=dev\n"
        "FROM node:${NODE_VERSION}-alpine\n"
        "ENV NODE_ENV=production PORT=3000 GREETING='hello $USER'\n"
        "WORKDIR /app\n"
        "COPY --from=deps /app/node_modules ./node_modules\n"
        "COPY --chown=node:node . .\n"
        "USER node\n"
        'CMD ["node", "server.js"]\n',
        {"node:20-alpine": "ns/node:20"},
        ["FROM ns/node:20 AS deps", "FROM ns/node:20"],
    ),
    "nginx-onbuild-shell-json": (
        "FROM nginx:1.25\n"
        "ARG SITE=default\n"
        "ENV SITE_DIR=/usr/share/nginx/html/$SITE\n"
        'RUN mkdir -p "$SITE_DIR" && echo \'hello "world"\' > "$SITE_DIR/index.html"\n'
        "COPY nginx.conf /etc/nginx/conf.d/default.conf\n"
        "ONBUILD COPY site/ /usr/share/nginx/html/\n"
        "ONBUILD RUN echo built\n"
        "STOPSIGNAL SIGQUIT\n"
        'SHELL ["/bin/sh", "-c"]\n'
        'VOLUME ["/var/cache/nginx"]\n',
        {"nginx:1.25": "nginx:1.25"},
        ["FROM nginx:1.25"],
    ),
    "crlf-lowercase-tabs": (
        'from busybox\r\nrun\techo hi \\\r\n\t&& echo there\r\nlabel description="a b"\r\ncmd echo $HOME\r\n',
        {"busybox": "ns/busybox"},
        ["FROM ns/busybox"],
    ),
}


@pytest.mark.parametrize("case", list(REAL_WORLD))
def test_rendered_real_world_dockerfiles_read_back_the_same(case):
    text, mapping, rendered_froms = REAL_WORLD[case]
    p = plan(text)
    out = df.render_dockerfile(p, mapping, labels=LABELS)
    original = parsed(text)
    again = parsed(out)
    # after each FROM, our LABEL; otherwise the same instructions and values, comments gone
    labels = [i + 1 for i, (keyword, _) in enumerate(again) if keyword == "FROM"]
    assert all(again[i] == tuple(LABEL_LINE.split(" ", 1)) for i in labels)
    again = [ins for i, ins in enumerate(again) if i not in labels]
    assert [f"FROM {v}" for k, v in again if k == "FROM"] == rendered_froms
    assert [ins for ins in again if ins[0] != "FROM"] == [ins for ins in original if ins[0] != "FROM"]
    assert len(again) == len(original)
    comments = [line for line in out.splitlines() if line.startswith("#")]
    assert comments == (["# escape=`"] if "# escape=`" in text else [])
    assert not comments or out.startswith("# escape=`\n")
    assert "\r" not in out and all(line for line in out.splitlines())
    # and the plan of the rendered text names only the host references
    assert set(plan(out).image_refs) <= set(mapping.values())


# --- ONBUILD triggers of base images, the Dockerfile's name --------------------------------------


def test_check_onbuild_triggers():
    allowed = {"ns/helper:1", "busybox"}.__contains__
    df.check_onbuild_triggers(
        ["RUN echo hi", "COPY --from=ns/helper:1 /a /a", "COPY --from=0 /b /b", "COPY . /app", "# note"], allowed
    )
    for trigger, match in [
        ("COPY --from=evil /a /a", "ONBUILD COPY --from=evil this lab cannot use"),
        ("copy --chown=1 --from=evil /a /a", "--from=evil"),
        ("ADD http://127.0.0.1/x /x", "the engine would download it"),
        ("ADD $URL /x", "a variable in an ADD source"),
        ('ADD "http"://127.0.0.1/x /x', "the engine would download it"),
        ("RUN a\nCOPY --from=evil /a /a", "over several lines"),
        ("ONBUILD COPY --from=evil /a /a", "cannot check"),
        ("COPY\u00a0--from=evil /a /a", "--from=evil"),
        ("COPY --from=é /a /a", "ASCII"),
        ("ONBUİLD RUN x", "cannot check"),
    ]:
        with pytest.raises(Refused, match=match):
            df.check_onbuild_triggers([trigger], allowed, image="base:1")


def test_dockerfile_names():
    assert df.dockerfile_names("") == ["Dockerfile", "dockerfile"]
    assert df.dockerfile_names("Dockerfile") == ["Dockerfile", "dockerfile"]
    assert df.dockerfile_names("./Dockerfile") == ["Dockerfile"]  # moby falls back only for the literal name
    assert df.dockerfile_names(".dockerfile.abc") == [".dockerfile.abc"]
    assert df.dockerfile_names("/ci//Dockerfile") == ["ci/Dockerfile"]
    assert df.dockerfile_names("./sub/./Dockerfile.dev") == ["sub/Dockerfile.dev"]
    for bad in ("../../etc/passwd", "a/../Dockerfile", "/", "./", "a\x00b"):
        with pytest.raises(Refused) as exc:
            df.dockerfile_names(bad)
        assert exc.value.status == 400
