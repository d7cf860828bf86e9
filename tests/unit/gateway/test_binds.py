"""The path walk behind safe bind mounts (the mount itself needs root and a lab: see the
integration tests)."""

import os
import socket
from pathlib import Path

import pytest

from labs.gateway import binds
from labs.gateway.policy import Refused


@pytest.fixture
def lab_root(tmp_path):
    """A stand-in for a lab container's root: /home/student with a site, links and odd files."""
    home = tmp_path / "home" / "student"
    (home / "site").mkdir(parents=True)
    (home / "site" / "index.html").write_text("hi")
    os.symlink("/", home / "root-link")
    os.symlink("/etc", home / "site" / "etc")
    os.symlink("index.html", home / "site" / "alias.html")
    os.mkfifo(home / "fifo")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(home / "sock"))
    fd = os.open(tmp_path, os.O_PATH | os.O_DIRECTORY)
    yield fd
    os.close(fd)


def opened(fd: int) -> Path:
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    finally:
        os.close(fd)


def test_walk_opens_directories_and_files_below_the_root(lab_root, tmp_path):
    assert opened(binds.walk(lab_root, "/home/student/site")) == tmp_path / "home/student/site"
    assert opened(binds.walk(lab_root, "/home/student/site/index.html")) == tmp_path / "home/student/site/index.html"


@pytest.mark.parametrize(
    "path",
    [
        "/home/student/root-link",  # the final component is a symlink
        "/home/student/root-link/etc",  # a symlink on the way
        "/home/student/site/etc/passwd",  # a symlink deeper on the way
        "/home/student/site/alias.html",  # even one that stays inside
    ],
)
def test_walk_never_follows_symlinks(lab_root, path):
    with pytest.raises(Refused, match="symbolic link"):
        binds.walk(lab_root, path)


@pytest.mark.parametrize("path", ["/home/student/fifo", "/home/student/sock"])
def test_walk_refuses_what_is_not_a_file_or_directory(lab_root, path):
    with pytest.raises(Refused, match="not a directory or a regular file"):
        binds.walk(lab_root, path)


def test_walk_refuses_dotdot_and_reports_missing(lab_root):
    with pytest.raises(Refused):
        binds.walk(lab_root, "/home/student/../../etc")
    with pytest.raises(FileNotFoundError):
        binds.walk(lab_root, "/home/student/nope")


def test_binds_live_beside_the_gateway_folder_not_inside(tmp_path):
    assert binds.binds_root(tmp_path / "var" / "gateway") == tmp_path / "var" / "gateway-binds"


def test_session_binds_bookkeeping_without_mounts(tmp_path):
    session = binds.SessionBinds(tmp_path / "gateway-binds", "ab" * 16)
    assert session.sources() == []
    with pytest.raises(Refused):
        session.make(lab_pid=1, lab_id="x", path="/etc")  # refused before anything is touched
    session.dir.mkdir(parents=True)
    (session.dir / "0123").mkdir()  # a mount point whose mount is gone already
    assert session.release_unused(set(), grace=0) == 1 and session.sources() == []
    session.release_all()
    assert not session.dir.exists()
    assert binds.release_stale(tmp_path / "gateway-binds", set()) == []
