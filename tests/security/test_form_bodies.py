"""Category 4: form-encoded bodies.

The engine reads most query parameters with Go's `r.FormValue` / `r.Form`, which for a body sent
as `Content-Type: application/x-www-form-urlencoded` parses the BODY too, and body values come
first. A gateway that rewrites the query string (tags under the session, network none, no remote
context) and forwards the body is walked around by a body `t=busybox:latest&networkmode=host`.
JSON endpoints take application/json only; build takes a tar: anything else is refused (400),
the platform's images keep their ids, and nothing reaches a URL the student named.
"""

from __future__ import annotations

import pytest

from . import engine_view, tars
from .raw import describe, request
from .raw import raw as _raw

pytestmark = [pytest.mark.docker, pytest.mark.django_db(transaction=True)]

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def platform_images(docker_lab):
    """{tag: image id} of the platform's base images, before the test."""
    return {tag: engine_view.image_id(tag) for tag in docker_lab.policy["base_images"]}


@pytest.fixture
def made(docker_lab, scratch):
    name = scratch.name("made")
    client = docker_lab.client()
    try:
        client.containers.create("busybox", "true", name=name)
    finally:
        client.close()
    return name


def raw(lab, data: bytes, *, timeout: float = 15):
    """raw(), with a gateway that never answers reported as such (a hang is no refusal)."""
    try:
        return _raw(lab, data, timeout=timeout)
    except TimeoutError:
        return "no answer"


def _verdict(lab, scratch, resp, what, *, listener=None, images=None, tag_fragment=None) -> list[str]:
    problems = []
    if resp == "no answer":
        problems.append(f"{what}: no answer from the gateway (it hangs)")
    elif resp is None or resp.status != 400:
        problems.append(f"{what}: the gateway answered {describe(resp)}")
    if listener is not None and (listener.connections or listener.seen):
        problems.append(f"{what}: the engine fetched the student's URL: {listener.seen or listener.connections}")
    for tag, before in (images or {}).items():
        after = engine_view.image_id(tag)
        if after != before:
            problems.append(f"{what}: the platform image {tag} is now {after} (was {before})")
    if tag_fragment:
        tags = [t for i in engine_view.engine().api.images() for t in i.get("RepoTags") or [] if tag_fragment in t]
        if tags:
            problems.append(f"{what}: the engine now has the tags {tags}")
    problems += engine_view.problems(lab, scratch.since)
    return problems


def test_build_with_a_form_body_is_refused(docker_lab, scratch, http_listener, platform_images):
    body = f"remote={http_listener.url('/ctx.tar')}&networkmode=host&t=busybox:latest"
    resp = raw(docker_lab, request("POST", "/v1.41/build?t=mine", body=body, content_type=FORM), timeout=30)
    problems = _verdict(docker_lab, scratch, resp, "build form", listener=http_listener, images=platform_images)
    assert not problems, "\n".join(problems)


def test_build_with_a_tar_that_is_also_a_form_is_refused(docker_lab, scratch, http_listener, platform_images):
    """A valid tar (FROM busybox) whose bytes also parse as a form: Go's ParseQuery splits the
    whole body on '&' and keeps every `key=value` it can read."""
    tag = scratch.name("formtag")
    form = f"&remote={http_listener.url('/Dockerfile')}&t=busybox:latest&t={tag}:latest&networkmode=host&"
    context = tars.member("Dockerfile", b"FROM busybox\n") + tars.member("form.txt", form.encode()) + tars.end()
    resp = raw(docker_lab, request("POST", "/v1.41/build?t=mine", body=context, content_type=FORM), timeout=60)
    problems = _verdict(
        docker_lab,
        scratch,
        resp,
        "build tar+form",
        listener=http_listener,
        images=platform_images,
        tag_fragment=tag,
    )
    assert not problems, "\n".join(problems)


def test_image_pull_with_a_form_body_is_refused(docker_lab, scratch, http_listener, platform_images):
    body = f"fromImage=127.0.0.1:{http_listener.port}/evil&tag=latest"
    resp = raw(
        docker_lab,
        request("POST", "/v1.41/images/create?fromImage=busybox&tag=latest", body=body, content_type=FORM),
        timeout=30,
    )
    problems = _verdict(docker_lab, scratch, resp, "pull form", listener=http_listener, images=platform_images)
    assert not problems, "\n".join(problems)


def test_image_import_with_a_form_body_is_refused(docker_lab, scratch, http_listener, platform_images):
    body = f"fromSrc={http_listener.url('/rootfs.tar')}&repo=busybox&tag=latest"
    resp = raw(
        docker_lab,
        request("POST", "/v1.41/images/create?fromSrc=-&repo=mine&tag=1", body=body, content_type=FORM),
        timeout=30,
    )
    problems = _verdict(docker_lab, scratch, resp, "import form", listener=http_listener, images=platform_images)
    assert not problems, "\n".join(problems)


def test_image_tag_with_a_form_body_is_refused(docker_lab, scratch, platform_images):
    tag = scratch.name("tag")
    body = f"repo=busybox&tag={tag}"
    resp = raw(
        docker_lab, request("POST", "/v1.41/images/busybox:latest/tag?repo=mine&tag=1", body=body, content_type=FORM)
    )
    problems = _verdict(docker_lab, scratch, resp, "tag form", images=platform_images, tag_fragment=tag)
    assert not problems, "\n".join(problems)


def test_commit_with_a_form_body_is_refused(docker_lab, scratch, made, platform_images):
    tag = scratch.name("commit")
    body = f"repo=busybox&tag={tag}"
    resp = raw(
        docker_lab,
        request("POST", f"/v1.41/commit?container={made}&repo=mine&tag=1", body=body, content_type=FORM),
        timeout=30,
    )
    problems = _verdict(docker_lab, scratch, resp, "commit form", images=platform_images, tag_fragment=tag)
    assert not problems, "\n".join(problems)


def test_container_create_with_a_form_body_is_refused(docker_lab, scratch):
    name = scratch.name("form-create")
    body = "Image=busybox&Cmd=true&HostConfig.Privileged=true&name=" + scratch.name("form-name")
    resp = raw(docker_lab, request("POST", f"/v1.41/containers/create?name={name}", body=body, content_type=FORM))
    problems = _verdict(docker_lab, scratch, resp, "create form")
    made = [n for x in scratch.names for n in engine_view.containers_named_like(x)]
    if made:
        problems.append(f"the engine now has {made}")
    assert not problems, "\n".join(problems)
