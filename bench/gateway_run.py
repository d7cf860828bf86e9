"""What the Docker API gateway costs: `docker run --rm busybox true` through a lab session's
gateway socket versus straight on the host engine, with the same client (docker-py
`containers.run(remove=True)`: create, start, wait, logs, remove) on the host.

    .venv/bin/python bench/gateway_run.py [--n 15]

Self-contained: starts `manage.py run_gateway` on a temporary folder, a Docker lab container the
way provisioning does (its cgroup parent, network and gateway folder, the policy labs.gateway.registry
writes), measures N runs of each path interleaved (after two warm-up runs each), removes
everything, and prints one JSON object as its last line:
{"gateway_run_p50_ms", "direct_run_p50_ms", "ratio", "same_config_ratio", ...}. The baseline is the
same container config run straight on the engine (the lab's network, cgroup parent and limits):
the target is same_config_ratio <= 1.1, i.e. the gateway itself (strict parsing, rebuilt requests,
the inspect-and-check after create) adds at most 10%.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("BERTH_INSTANCE", "berthgwbench")  # its own: other benches clean up "berthbench"


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=15)
    args = parser.parse_args()

    import django

    django.setup()
    import docker
    from django.conf import settings

    from labs.gateway import registry
    from labs.runtime import SandboxSpec, cgroups, get_backend

    instance = settings.BERTH_INSTANCE
    backend = get_backend()
    base = Path(tempfile.mkdtemp(prefix="bgwb", dir="/tmp"))
    root = base / "gateway"
    root.mkdir()
    session_id = uuid.uuid4()
    name = f"{instance}-lab-{session_id.hex}"
    labels = {
        "org.berth.instance": instance,
        "org.berth.kind": "lab",
        "org.berth.session": str(session_id),
        "org.berth.user": "0",
        "org.berth.lab": "bench/gateway",
    }
    spec = SandboxSpec(
        name=name,
        image="berth/lab-docker:1",
        labels=labels,
        memory_bytes=1024**3,
        cpus=1.0,
        pids_limit=512,
        disk_bytes=256 * 1024**2,
        hostname="bench",
        network=f"{name}-net",
        cgroup_parent=f"/berth/{instance}/{session_id.hex}",
        gateway_dir=str(root / session_id.hex),
    )
    fake_session = SimpleNamespace(
        id=session_id, lab=SimpleNamespace(memory_bytes=spec.memory_bytes, cpus=spec.cpus, pids_limit=spec.pids_limit)
    )
    folder = root / session_id.hex
    folder.mkdir()
    os.chmod(folder, 0o755)  # noqa: S103 - as the platform makes it
    (folder / "policy.json").write_text(json.dumps(registry.session_policy(session=fake_session, spec=spec)))

    env = dict(os.environ)
    gateway = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "run_gateway", "--root", str(root)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    direct = docker.DockerClient(base_url=settings.BERTH_DOCKER_URL, version="1.41", timeout=120)
    through = None
    results: dict = {}
    try:
        sock = folder / "docker.sock"
        deadline = time.monotonic() + 20
        while not sock.exists() and time.monotonic() < deadline:
            if gateway.poll() is not None:
                raise SystemExit(f"the gateway exited: {gateway.stderr.read().decode(errors='replace')}")
            time.sleep(0.05)
        handle = backend.start(spec)
        through = docker.DockerClient(base_url=f"unix://{sock}", version="1.41", timeout=120)
        through.ping()

        def run(client) -> float:
            started = time.perf_counter()
            client.containers.run("busybox", "true", remove=True)
            return (time.perf_counter() - started) * 1000

        # The same container config the gateway makes (the lab's network, cgroup parent, limits),
        # straight on the engine: separates the gateway's own cost from the engine's cost of that config.
        same_config = dict(
            network=spec.network,
            cgroup_parent=spec.cgroup_parent,
            mem_limit=spec.memory_bytes,
            memswap_limit=spec.memory_bytes,
            pids_limit=spec.pids_limit,
            security_opt=["no-new-privileges"],
            labels={"org.berth.instance": instance},
            log_config={"Type": "json-file", "Config": {"max-size": "1m", "max-file": "1"}},
        )

        def run_same(client) -> float:
            started = time.perf_counter()
            client.containers.run("busybox", "true", remove=True, **same_config)
            return (time.perf_counter() - started) * 1000

        for _ in range(2):  # warm-up: page cache, engine, gateway connections
            run(direct)
            run(through)
            run_same(direct)
        direct_ms, gateway_ms, same_ms = [], [], []
        for i in range(args.n):  # interleaved, rotating which goes first
            trio = [(run, direct, direct_ms), (run, through, gateway_ms), (run_same, direct, same_ms)]
            for fn, client, out in trio[i % 3 :] + trio[: i % 3]:
                out.append(fn(client))
        usage = cgroups.usage(spec.cgroup_parent)
        results = {
            "gateway_run_p50_ms": round(statistics.median(gateway_ms), 1),
            "direct_run_p50_ms": round(statistics.median(direct_ms), 1),
            "ratio": round(statistics.median(gateway_ms) / statistics.median(direct_ms), 3),
            "direct_same_config_p50_ms": round(statistics.median(same_ms), 1),
            "gateway_overhead_p50_ms": round(statistics.median(gateway_ms) - statistics.median(same_ms), 1),
            "same_config_ratio": round(statistics.median(gateway_ms) / statistics.median(same_ms), 3),
            "gateway_run_p90_ms": round(p(gateway_ms, 0.9), 1),
            "direct_run_p90_ms": round(p(direct_ms, 0.9), 1),
            "n": args.n,
            "client": f"docker-py {docker.__version__} containers.run(remove=True), on the host",
            "engine": backend.ping()["version"],
            "lab_container": handle.name,
            "lab_cgroup_pids_after": usage["pids"],
        }
    finally:
        if through is not None:
            through.close()
        direct.close()
        backend.stop(name, now=True)
        registry_folder = folder
        shutil.rmtree(registry_folder, ignore_errors=True)
        time.sleep(0.3)  # the gateway notices the folder is gone and closes the socket
        backend.remove_session_objects(str(session_id))
        gateway.send_signal(signal.SIGTERM)
        try:
            gateway.wait(10)
        except subprocess.TimeoutExpired:
            gateway.kill()
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
