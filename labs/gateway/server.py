"""The gateway process: one Docker API socket per Docker lab session.

    python manage.py run_gateway            (make run starts it; it must run as root on the Docker host)

It watches BERTH_GATEWAY_DIR (labs.gateway.registry writes `<dir>/<session hex>/policy.json`),
serves `docker.sock` (mode 0666, so the lab's student can use it) in every session folder, closes
it when the folder disappears (and releases the session's bind mounts and port forwarders), and
on start re-serves the folders that exist: the folders are the whole state, so a restart loses
nothing. One asyncio loop; blocking work (the bind-mount helper) runs in worker threads.

A single engine event stream (containers of this instance) drives the port forwarders: `die`
stops them, `start` (re)starts them (restart policies, `docker start`, a lab reset).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
from pathlib import Path

from labs.runtime.engine import EngineAddress

from . import binds, hostnet
from .api import serve_connection
from .names import KIND_STUDENT, LABEL_INSTANCE, LABEL_KIND, LABEL_SESSION
from .quota import QuotaMonitor
from .session import Session
from .upstream import Upstream

log = logging.getLogger(__name__)

SOCKET_NAME = "docker.sock"


class GatewayServer:
    def __init__(
        self,
        root: str | os.PathLike,
        engine_url: str,
        *,
        instance: str,
        poll_interval: float = 0.1,
        quota_interval: float = 5.0,
    ):
        self.root = Path(root)
        self.engine = EngineAddress.parse(engine_url)
        self.instance = instance
        self.poll_interval = poll_interval
        self.binds_root = binds.binds_root(self.root)
        self.sessions: dict[str, Session] = {}
        self.stopping: asyncio.Event | None = None
        self.started = threading.Event()
        self._tasks: list[asyncio.Task] = []
        self.quota = QuotaMonitor(self, interval=quota_interval)

    # --- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        self.stopping = asyncio.Event()
        _raise_nofile()
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = _exclusive_lock(self.root / ".gateway.lock")
        await asyncio.get_running_loop().run_in_executor(None, hostnet.ensure_input_drop)
        live = {p.name for p in self.root.iterdir() if (p / "policy.json").exists()} if self.root.is_dir() else set()
        released = await asyncio.get_running_loop().run_in_executor(None, binds.release_stale, self.binds_root, live)
        if released:
            log.info("released the bind mounts of %d ended session(s)", len(released))
        await self.scan()
        self._tasks = [
            asyncio.create_task(self._watch()),
            asyncio.create_task(self._events()),
            asyncio.create_task(self.quota.run()),
        ]
        log.info(
            "gateway serving %s (engine %s, instance %s)",
            self.root,
            self.engine.unix_path or f"{self.engine.host}:{self.engine.port}",
            self.instance,
        )
        self.started.set()

    async def run(self) -> None:
        await self.start()
        try:
            await self.stopping.wait()
        finally:
            await self.close()

    def request_stop(self) -> None:
        if self.stopping is not None:
            self.stopping.set()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # Stop serving, but leave forwarders and bind mounts in place: a restarted gateway adopts
        # them (and the containers using the binds keep working meanwhile).
        for session in list(self.sessions.values()):
            if session.server is not None:
                session.server.close()
            for task in list(session.connections) + list(session.tasks):
                task.cancel()
            await asyncio.gather(*session.connections, *session.tasks, return_exceptions=True)
        self.sessions.clear()
        if getattr(self, "_lock", None) is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    # --- session folders -----------------------------------------------------------------------
    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self.scan()
            except Exception:  # noqa: BLE001 - keep serving the others
                log.exception("scanning %s failed", self.root)

    async def scan(self) -> None:
        present: dict[str, Path] = {}
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            entries = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and os.path.exists(os.path.join(entry.path, "policy.json")):
                present[entry.name] = Path(entry.path)
        for hex_id in [h for h in self.sessions if h not in present]:
            await self.drop(hex_id)
        for hex_id, folder in present.items():
            session = self.sessions.get(hex_id)
            if session is None:
                await self.serve(folder)
                continue
            try:
                mtime = (folder / "policy.json").stat().st_mtime
            except FileNotFoundError:
                continue
            if mtime != session.policy_mtime:
                try:
                    session.load(Session.read_policy(folder))
                    session.policy_mtime = mtime
                except (OSError, ValueError, KeyError) as exc:
                    log.warning("session %s: policy not reloaded: %s", hex_id, exc)
            if not (folder / SOCKET_NAME).exists():
                await self.drop(hex_id)  # the socket was removed under us: serve it again
                await self.serve(folder)

    async def serve(self, folder: Path) -> Session | None:
        try:
            mtime = (folder / "policy.json").stat().st_mtime
            policy = Session.read_policy(folder)
            session = Session(folder, policy, engine=self.engine, binds_root=self.binds_root)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("session folder %s: cannot read policy.json yet: %s", folder.name, exc)
            return None
        session.policy_mtime = mtime
        sock = bind_socket(folder / SOCKET_NAME)
        session.server = await asyncio.start_unix_server(
            lambda r, w: serve_connection(session, r, w), sock=sock, limit=256 * 1024
        )
        self.sessions[folder.name] = session
        session.spawn(session.recover())
        log.info("serving session %s (%s)", folder.name, session.prefix)
        return session

    async def drop(self, hex_id: str) -> None:
        session = self.sessions.pop(hex_id, None)
        if session is None:
            return
        await session.close()
        log.info("closed session %s", hex_id)

    def session_for(self, session_id: str) -> Session | None:
        for session in self.sessions.values():
            if session.session_id == session_id:
                return session
        return None

    # --- engine events ----------------------------------------------------------------------------
    async def _events(self) -> None:
        filters = {
            "label": [f"{LABEL_INSTANCE}={self.instance}"],
            "type": ["container"],
            "event": ["start", "die", "destroy"],
        }
        while True:
            upstream = Upstream(self.engine)
            try:
                answer = await upstream.open("GET", "/events", query={"filters": json.dumps(filters)})
                if answer.status != 200:
                    raise ConnectionError(f"events: HTTP {answer.status}")
                buf = b""
                async for chunk in answer.chunks():
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        if line.strip():
                            self._on_event(line)
            except asyncio.CancelledError:
                upstream.close()
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect
                log.warning("engine events: %s; reconnecting", exc)
            upstream.close()
            await asyncio.sleep(1)

    def _on_event(self, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return
        attrs = (event.get("Actor") or {}).get("Attributes") or {}
        session = self.session_for(attrs.get(LABEL_SESSION, ""))
        if session is None or session.closed:
            return
        action = (event.get("Action") or event.get("status") or "").split(":")[0]
        container_id = (event.get("Actor") or {}).get("ID") or event.get("id") or ""
        kind = attrs.get(LABEL_KIND)
        if kind == KIND_STUDENT:
            session.spawn(session.on_container_event(action, container_id, event.get("timeNano")))
        elif kind == "lab" and action == "start":
            session.spawn(session.on_lab_start())


class AlreadyServed(RuntimeError):
    """Another gateway process serves this folder."""


def _exclusive_lock(path: Path):
    """Hold an flock on the folder's lock file for the gateway's lifetime: one gateway per folder."""
    import fcntl

    fh = open(path, "a+")  # noqa: SIM115 - kept open while serving
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise AlreadyServed(f"another gateway already serves {path.parent}") from None
    return fh


def _raise_nofile() -> None:
    """Every client connection holds two descriptors (client and engine): use the hard limit."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


def bind_socket(path: Path) -> socket.socket:
    """A listening unix socket at `path`, usable by everyone (the lab's student is uid 1000).

    Long paths (> 100 bytes, e.g. under pytest's tmp dirs) are bound through /proc/self/fd."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if len(os.fsencode(str(path))) < 100:
            sock.bind(str(path))
        else:
            dir_fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
            try:
                sock.bind(f"/proc/self/fd/{dir_fd}/{path.name}")
            finally:
                os.close(dir_fd)
        os.chmod(path, 0o666)  # noqa: S103 - the lab user (uid 1000) connects; the folder is its own
        sock.listen(128)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def run(root: str | os.PathLike, engine_url: str, *, instance: str) -> None:
    """Run the gateway until SIGINT/SIGTERM (the run_gateway command)."""
    import signal

    async def main():
        server = GatewayServer(root, engine_url, instance=instance)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.request_stop)
        await server.run()

    asyncio.run(main())


class GatewayThread:
    """The gateway on a loop in a background thread (tests, and embedding in another process)."""

    def __init__(
        self,
        root: str | os.PathLike,
        engine_url: str,
        *,
        instance: str,
        poll_interval: float = 0.05,
        quota_interval: float = 5.0,
    ):
        self.server = GatewayServer(
            root, engine_url, instance=instance, poll_interval=poll_interval, quota_interval=quota_interval
        )
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, name="berth-gateway", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(self.server.run())
        except BaseException as exc:  # noqa: BLE001 - reported by start()
            self.error = exc
            self.server.started.set()
        finally:
            self.loop.close()

    def start(self, timeout: float = 10) -> GatewayThread:
        self.thread.start()
        if not self.server.started.wait(timeout) or self.error:
            raise RuntimeError(f"the gateway did not start: {self.error}")
        return self

    def stop(self, timeout: float = 10) -> None:
        if self.loop is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.server.request_stop)
        self.thread.join(timeout)

    def call(self, coro, timeout: float = 30):
        """Run a coroutine on the gateway's loop (tests)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)
