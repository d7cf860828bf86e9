#!/usr/bin/env python
"""Cold start of a lab: "Start lab" → container running → first shell prompt in the terminal.

Berth's path: lab_session_start (dispatch + provision, Celery eager so the work is timed), then
the terminal's exec into tmux, until the prompt appears. Baseline, measured in the same run on
the same image with the same hardening: raw docker-py `containers.run` + an exec of bash with a
TTY, until the prompt appears. Prints one JSON object as its last line:
  p50_ms, p95_ms, raw_p50_ms, raw_p95_ms, ratio_p50 (target <= 1.3), n
Usage: .venv/bin/python bench/lab_start.py [--n 10]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _harness import eager_celery, finish, remove_labelled, setup_django, summary

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

    remove_labelled(INSTANCE)
    course = factories.import_mini_course()
    cohort = factories.make_cohort(course, "bench")
    lab = course.labs.get(slug="first")
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
    berth, raw = summary(berth_ms), summary(raw_ms)
    finish(
        {
            "bench": "lab_start",
            "n": args.n,
            "p50_ms": berth["p50"],
            "p95_ms": berth["p95"],
            "raw_p50_ms": raw["p50"],
            "raw_p95_ms": raw["p95"],
            "ratio_p50": round(berth["p50"] / raw["p50"], 3),
            "baseline": "docker-py containers.run (same image and hardening) + exec bash -l with a TTY "
            "to the first prompt",
        }
    )


if __name__ == "__main__":
    main()
