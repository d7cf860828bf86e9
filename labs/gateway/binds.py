"""Bind mounts from inside the lab: `docker run -v ~/site:/usr/share/nginx/html nginx`.

The student's home and /tmp are tmpfs mounts inside the lab container's mount namespace; the
host sees them only through /proc/<pid>/root, and a path through there (or any path a student
names) may contain symlinks that lead anywhere on the host. So the engine never gets a path the
student chose. Instead, for each bind source the gateway (root on the Docker host):

1. forks a single-threaded helper, which joins the lab container's mount namespace (setns);
2. walks the path from that namespace's root one component at a time with
   openat(O_PATH | O_NOFOLLOW [| O_DIRECTORY]): `..`, symlinks, devices, sockets are refused, and
   nothing can be swapped in between the check and the use, because what is used is the fd;
3. clones exactly that directory or file as a detached mount (open_tree(OPEN_TREE_CLONE)),
   returns to the host's mount namespace and attaches it (move_mount) on a directory the gateway
   owns: `<BERTH_GATEWAY_DIR>/../gateway-binds/<session hex>/<token>`;
4. gives the engine that directory as the bind source.

The mounts are released (lazy unmount, then removed) when no container of the session uses them
any more, when the session's folder disappears, and on gateway start for sessions that are gone.
Needs Linux >= 5.2 (open_tree/move_mount) and CAP_SYS_ADMIN: the gateway runs as root on the host.
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import secrets
import stat
import time
from pathlib import Path

from .policy import BIND_REFUSED, Refused, check_bind_source

log = logging.getLogger(__name__)

CLONE_NEWNS = 0x00020000
OPEN_TREE_CLONE = 1
OPEN_TREE_CLOEXEC = os.O_CLOEXEC
AT_EMPTY_PATH = 0x1000
AT_FDCWD = -100
MOVE_MOUNT_F_EMPTY_PATH = 0x00000004
MNT_DETACH = 2
UMOUNT_NOFOLLOW = 8
# x86_64 and aarch64 share the numbers of the new mount syscalls.
SYS_OPEN_TREE = 428
SYS_MOVE_MOUNT = 429
MAX_BINDS_PER_SESSION = 64

_libc = ctypes.CDLL(None, use_errno=True)


def binds_root(gateway_dir: str | os.PathLike) -> Path:
    """Where the gateway attaches its bind mounts: beside (not inside) the folder labs can see."""
    return Path(gateway_dir).resolve().parent / "gateway-binds"


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def walk(root_fd: int, path: str) -> int:
    """Open `path` (absolute, already normalized) below `root_fd` without following any symlink.

    Returns an O_PATH fd of the final directory or regular file. Raises Refused for symlinks and
    anything that is not a directory or a regular file; FileNotFoundError when a part is missing."""
    parts = [p for p in path.split("/") if p]
    fd = os.dup(root_fd)
    try:
        for index, part in enumerate(parts):
            if part in (".", ".."):
                raise Refused(f"{BIND_REFUSED} (no '..' in paths): {path}")
            last = index == len(parts) - 1
            flags = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC | (0 if last else os.O_DIRECTORY)
            try:
                nfd = os.open(part, flags, dir_fd=fd)
            except NotADirectoryError as exc:  # a symlink (or a file) where a directory should be
                raise Refused(
                    f"{BIND_REFUSED}; {'/' + '/'.join(parts[: index + 1])} is a symbolic link or not a "
                    "directory (links are not followed)"
                ) from exc
            os.close(fd)
            fd = nfd
            if last:
                mode = os.fstat(fd).st_mode
                if stat.S_ISLNK(mode):
                    raise Refused(f"{BIND_REFUSED}; {path} is a symbolic link (links are not followed)")
                if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                    raise Refused(f"{BIND_REFUSED}; {path} is not a directory or a regular file")
        return fd
    except BaseException:
        os.close(fd)
        raise


def _child_clone(lab_pid: int, lab_id: str, path: str, target: str, report: int) -> None:
    """Runs in the forked helper (single-threaded): never returns."""
    code = 0
    try:
        host_ns = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
        proc = os.open(f"/proc/{lab_pid}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        # The pid must still be the lab container's (not a recycled pid): check through the same fd.
        cgroup_fd = os.open("cgroup", os.O_RDONLY | os.O_CLOEXEC, dir_fd=proc)
        cgroup = os.read(cgroup_fd, 65536).decode(errors="replace")
        os.close(cgroup_fd)
        if lab_id not in cgroup:
            raise Refused("the lab container is not running")
        lab_ns = os.open("ns/mnt", os.O_RDONLY | os.O_CLOEXEC, dir_fd=proc)
        _check(_libc.setns(lab_ns, CLONE_NEWNS), "setns(lab)")
        root = os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        fd = walk(root, path)
        is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
        tree = _check(
            _libc.syscall(SYS_OPEN_TREE, fd, b"", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH), "open_tree"
        )
        _check(_libc.setns(host_ns, CLONE_NEWNS), "setns(host)")
        if is_dir:
            os.mkdir(target, 0o755)
        else:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o644))
        _check(
            _libc.syscall(SYS_MOVE_MOUNT, tree, b"", AT_FDCWD, os.fsencode(target), MOVE_MOUNT_F_EMPTY_PATH),
            "move_mount",
        )
        os.write(report, b"ok")
    except Refused as exc:
        os.write(report, json.dumps({"refused": exc.message}).encode())
        code = 1
    except FileNotFoundError:
        os.write(report, json.dumps({"missing": path}).encode())
        code = 1
    except BaseException as exc:  # noqa: BLE001 - everything is reported to the parent
        os.write(report, json.dumps({"error": str(exc)}).encode())
        code = 2
    os._exit(code)


def clone_into(*, lab_pid: int, lab_id: str, path: str, target: Path) -> None:
    """Mount the lab's `path` (its exact inode) on `target`. Blocking: call from a worker thread."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(target.parent.parent, 0o700)
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the helper
            os.close(read_end)
            _child_clone(lab_pid, lab_id, path, str(target), write_end)
        os.close(write_end)
        write_end = -1
        chunks = []
        while chunk := os.read(read_end, 65536):
            chunks.append(chunk)
        os.waitpid(pid, 0)
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    answer = b"".join(chunks)
    if answer == b"ok":
        return
    _remove_target(target)
    try:
        info = json.loads(answer or b"{}")
    except ValueError:
        info = {"error": answer.decode(errors="replace")}
    if "refused" in info:
        raise Refused(info["refused"])
    if "missing" in info:
        # Docker makes a missing bind source; here it is the student's own folder, so say so.
        raise Refused(f"bind source path does not exist in your lab: {info['missing']}", status=400)
    raise OSError(errno.EIO, f"bind mount failed: {info.get('error', 'unknown error')}")


def _remove_target(target: Path) -> None:
    try:
        if target.is_dir():
            target.rmdir()
        else:
            target.unlink()
    except OSError:
        pass


def unmount(target: Path) -> bool:
    """Lazily unmount a gateway bind and remove its mount point; True when it is gone."""
    result = _libc.umount2(os.fsencode(str(target)), MNT_DETACH | UMOUNT_NOFOLLOW)
    if result != 0:
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOENT):  # EINVAL: not a mount point (any more)
            log.warning("cannot unmount %s: %s", target, os.strerror(err))
            return False
    _remove_target(target)
    return not target.exists()


class SessionBinds:
    """The bind mounts of one session, under `<root>/<session hex>/`."""

    def __init__(self, root: Path, session_hex: str):
        self.dir = Path(root) / session_hex
        self.created: dict[str, float] = {}

    def make(self, *, lab_pid: int, lab_id: str, path: str) -> str:
        """A host path the engine can bind, holding exactly the lab's `path`. Blocking."""
        clean = check_bind_source(path)
        if self.dir.exists() and sum(1 for _ in self.dir.iterdir()) >= MAX_BINDS_PER_SESSION:
            raise Refused(f"too many bind mounts in this lab (at most {MAX_BINDS_PER_SESSION}); remove some containers")
        target = self.dir / secrets.token_hex(8)
        clone_into(lab_pid=lab_pid, lab_id=lab_id, path=clean, target=target)
        self.created[str(target)] = time.monotonic()
        return str(target)

    def sources(self) -> list[str]:
        if not self.dir.is_dir():
            return []
        return [str(p) for p in self.dir.iterdir()]

    def release_unused(self, in_use: set[str], *, grace: float = 60) -> int:
        """Unmount the binds no container uses (those made in the last `grace` seconds are kept:
        their container may still be being created)."""
        now = time.monotonic()
        released = 0
        for source in self.sources():
            if source in in_use or now - self.created.get(source, 0) < grace:
                continue
            if unmount(Path(source)):
                self.created.pop(source, None)
                released += 1
        return released

    def release_all(self) -> None:
        for source in self.sources():
            unmount(Path(source))
        try:
            self.dir.rmdir()
        except OSError:
            pass
        self.created.clear()


def release_stale(root: Path, live_hexes: set[str]) -> list[str]:
    """Release the binds of sessions that no longer have a folder (after a gateway restart)."""
    released = []
    if not Path(root).is_dir():
        return released
    for folder in Path(root).iterdir():
        if folder.is_dir() and folder.name not in live_hexes:
            SessionBinds(Path(root), folder.name).release_all()
            released.append(folder.name)
    return released
