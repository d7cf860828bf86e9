"""The gateway's property test at scale: tests/security/test_fuzz.py with many more examples.

    .venv/bin/python bench/gateway_fuzz.py [--examples 500] [--baseline 20]

Runs pytest on that one test with BERTH_FUZZ_EXAMPLES=N (a real Docker lab session through the
platform path, a gateway in a thread, the host engine; the same needs as `make test`: PostgreSQL,
Redis and Docker running), then measures a same-run baseline on the host engine alone, and prints
one JSON object as its last line:

    {"examples": N, "failures": F, "seconds": S, "examples_per_s": R, "baseline_examples_per_s": B}

- examples: the examples Hypothesis ran in its generate phase (fewer than asked when it stopped
  at a failure);
- failures: failing tests (0 or 1: Hypothesis stops at the first failing example and shrinks it);
- seconds: the whole pytest run, lab start and stop (and shrinking a failure) included;
- examples_per_s: examples over the seconds of Hypothesis's generate phase alone;
- baseline_examples_per_s: create + inspect + remove of one plain busybox container straight on
  the engine, per second: the engine's own floor for one example (an example also goes through
  the gateway, checks every container and exec of the session, and cleans up).

Exit status 1 when the property failed (pytest's output is on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEST = "tests/security/test_fuzz.py"


def run_fuzz(examples: int) -> tuple[int, int, int, float, float, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    env.setdefault("DATABASE_URL", "postgres://berth:berth@127.0.0.1:5432/berth")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
    env["BERTH_FUZZ_EXAMPLES"] = str(examples)
    cmd = [sys.executable, "-m", "pytest", TEST, "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics"]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)  # noqa: S603
    seconds = time.monotonic() - started
    output = proc.stdout + proc.stderr
    generate = re.search(
        r"during generate phase \(([\d.]+) seconds\).*?(\d+) passing(?: examples?)?, (\d+) failing", output, re.S
    )
    ran = int(generate.group(2)) + int(generate.group(3)) if generate else 0
    generate_seconds = float(generate.group(1)) if generate else 0.0
    failed = re.search(r"(\d+) failed", output)
    errors = re.search(r"(\d+) errors?\b", output)
    failures = (int(failed.group(1)) if failed else 0) + (int(errors.group(1)) if errors else 0)
    if proc.returncode not in (0, 1) and not failures:
        failures = 1  # pytest itself failed (collection, usage): nothing was proven
    return ran, failures, proc.returncode, seconds, generate_seconds, output


def baseline(n: int) -> float:
    """Examples per second of the engine alone: create + inspect + remove of a plain container."""
    import docker

    api = docker.from_env(version="1.41").api
    api.inspect_image("busybox:latest")
    started = time.monotonic()
    for i in range(n):
        container = api.create_container(
            "busybox",
            ["true"],
            name=f"sectest-bench-{os.getpid()}-{i}",
            labels={"org.berth.test": "gateway-fuzz-bench"},
        )
        api.inspect_container(container["Id"])
        api.remove_container(container["Id"], force=True)
    return n / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--baseline", type=int, default=20, help="containers for the engine-only baseline")
    args = parser.parse_args()

    ran, failures, returncode, seconds, generate_seconds, output = run_fuzz(args.examples)
    sys.stderr.write(output[-6000:])
    base = baseline(args.baseline)
    result = {
        "examples": ran,
        "examples_asked": args.examples,
        "failures": failures,
        "seconds": round(seconds, 1),
        "examples_per_s": round(ran / generate_seconds, 2) if generate_seconds else 0.0,
        "baseline_examples_per_s": round(base, 2),
        "pytest_returncode": returncode,
    }
    print(json.dumps(result))
    sys.exit(1 if failures or returncode != 0 else 0)


if __name__ == "__main__":
    main()
