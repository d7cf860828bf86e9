#!/usr/bin/env python
"""Cold start of a lab: "Start lab" → container running → first shell prompt in the terminal.

Berth's path: lab_session_start (dispatch + provision, Celery eager so the work is timed), then
the terminal's exec into tmux, until the prompt appears. Baseline, measured in the same run on
the same image with the same hardening: raw docker-py `containers.run` + an exec of bash with a
TTY, until the prompt appears. Also: a Docker lab (sandbox + its own Docker API through the
gateway) until the student's first `docker` command answers. Prints one JSON object last:
  p50_ms, p95_ms, raw_p50_ms, raw_p95_ms, ratio_p50 (target <= 1.3), docker_lab_ready_p50_ms, n
Usage: .venv/bin/python bench/lab_start.py [--n 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _harness import bench_lab, eager_celery, finish, remove_labelled, setup_django, summary

INSTANCE = "berthbench"


async def first_prompt(base_url: str, container: str, cmd: list[str], *, timeout: float = 20) -> None:
    from labs.runtime.tty import open_tty

    tty = await open_tty(base_url, container, cmd, user="student", cols=120, rows=32, env={"TERM": "xterm-256color"})
    try:
        seen = b""
        deadline = time.monotonic() + timeout
        while b"$ " not in seen:
            chunk = await asyncio.wait_for(tty.read(), max(0.1, deadline - time.monotonic()))
            if not chunk:
                raise RuntimeError(f"shell ended before a prompt: {seen[-200:]!r}")
            seen += chunk
    finally:
        await tty.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    args = parser.parse_args()
    setup_django(INSTANCE)
    eager_celery()
    from django.conf import settings

    from labs import services, terminal
    from labs.models import LabSession
    from labs.runtime import get_backend
    from labs.runtime.spec import container_config
    from tests import factories

    cohort, lab = bench_lab(INSTANCE)
    backend = get_backend()
    url = settings.BERTH_DOCKER_URL
    berth_ms, raw_ms = [], []
    try:
        # one warm-up of each path (image layers in the page cache), not counted
        for i in range(args.n + 1):
            user = factories.make_user(f"bench{i}")
            factories.enrol(user, cohort)
            started = time.perf_counter()
            session = services.lab_session_start(user=user, lab=lab)
            session = LabSession.objects.get(pk=session.pk)
            assert session.state == "running", session.error
            asyncio.run(first_prompt(url, session.container_id, terminal.tmux_command("main", observe=False)))
            elapsed = (time.perf_counter() - started) * 1000
            services.lab_session_stop(session=session)
            if i:
                berth_ms.append(elapsed)

            spec = services.sandbox_spec_for(session)
            config = container_config(spec)
            config["name"] = f"{spec.name}-raw"
            started = time.perf_counter()
            container = backend.client.containers.run(**config)
            asyncio.run(first_prompt(url, container.id, ["bash", "-l"]))
            elapsed = (time.perf_counter() - started) * 1000
            container.remove(force=True)
            if i:
                raw_ms.append(elapsed)
            print(f"run {i}: berth {berth_ms[-1] if i else 0:.0f} ms, raw {raw_ms[-1] if i else 0:.0f} ms", flush=True)
    finally:
        remove_labelled(INSTANCE)
    docker_ms = docker_lab_ready(args.n)
    berth, raw, docker = summary(berth_ms), summary(raw_ms), summary(docker_ms)
    finish(
        {
            "bench": "lab_start",
            "n": args.n,
            "p50_ms": berth["p50"],
            "p95_ms": berth["p95"],
            "raw_p50_ms": raw["p50"],
            "raw_p95_ms": raw["p95"],
            "ratio_p50": round(berth["p50"] / raw["p50"], 3),
            "docker_lab_ready_p50_ms": docker["p50"],
            "docker_lab_ready_p95_ms": docker["p95"],
            "baseline": "docker-py containers.run (same image and hardening) + exec bash -l with a TTY "
            "to the first prompt",
        }
    )


def docker_lab_ready(n: int) -> list[float]:
    """Start a Docker lab and time until `docker version` answers as the student, via the gateway."""
    from courses.services import course_import
    from labs import services
    from labs.gateway import embedded
    from labs.models import Lab, LabSession
    from labs.runtime import get_backend
    from tests import factories

    course = course_import(path=factories.FIXTURES / "courses" / "dockerlab").course
    cohort = factories.make_cohort(course, "bench-docker")
    lab = Lab.objects.get(course=course, slug="docker")
    gateway = embedded.start_if_not_running()
    backend = get_backend()
    times = []
    try:
        for i in range(n + 1):
            user = factories.make_user(f"bench-docker{i}")
            factories.enrol(user, cohort)
            started = time.perf_counter()
            session = LabSession.objects.get(pk=services.lab_session_start(user=user, lab=lab).pk)
            assert session.state == "running", session.error
            version = ["docker", "version", "--format", "{{.Server.Version}}"]
            result = backend.exec(session.container_id, version, user="student", timeout=30)
            assert result.exit_code == 0, result.output
            elapsed = (time.perf_counter() - started) * 1000
            services.lab_session_stop(session=session)
            if i:
                times.append(elapsed)
                print(f"docker lab {i}: ready in {elapsed:.0f} ms", flush=True)
    finally:
        if gateway is not None:
            gateway.stop()
    return times


if __name__ == "__main__":
    main()
