"""A run opens no network connection: the sample, run once with a socket guard in every process.

The guard is a ``sitecustomize`` on ``PYTHONPATH``, so it loads in the runner and in every
kernel (they inherit the environment). It refuses and records any connection, datagram or name
lookup that would leave the machine; loopback and Unix sockets stay allowed (the kernels'
own ZMQ channels). Proxy variables point at a dead local port, so a library that honours them
fails instead of reaching out.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from kamlib import paths

GUARD = r'''
import errno, ipaddress, json, os, socket

_LOG = os.environ["KAM_NET_LOG"]


def _record(kind, detail):
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"pid": os.getpid(), "kind": kind, "detail": detail}) + "\n")


def _local_host(host):
    if host in (None, "", "localhost") or isinstance(host, bytes) and host == b"localhost":
        return True
    try:
        return ipaddress.ip_address(host.decode() if isinstance(host, bytes) else host).is_loopback
    except ValueError:
        return False


def _local(sock, address):
    if sock.family == getattr(socket, "AF_UNIX", None) or sock.family == getattr(socket, "AF_NETLINK", None):
        return True
    return _local_host(address[0] if isinstance(address, tuple) else address)


def _guard(name):
    original = getattr(socket.socket, name)

    def guarded(self, address, *args):
        target = args[-1] if name == "sendto" and args else address
        if not _local(self, target):
            _record(name, repr(target))
            raise OSError(errno.ENETUNREACH, "network refused by the test guard")
        return original(self, address, *args)

    setattr(socket.socket, name, guarded)


for _name in ("connect", "connect_ex", "sendto"):
    _guard(_name)

_getaddrinfo = socket.getaddrinfo


def _numeric(host):
    try:
        ipaddress.ip_address(host.decode() if isinstance(host, bytes) else host)
        return True
    except (ValueError, TypeError):
        return False


def getaddrinfo(host, *args, **kwargs):  # a numeric address needs no lookup: connect judges it
    if not (_local_host(host) or _numeric(host)):
        _record("getaddrinfo", repr(host))
        raise socket.gaierror(socket.EAI_NONAME, "name lookup refused by the test guard")
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = getaddrinfo

import subprocess  # every program a process starts (a browser or an office suite would show)

_popen_init = subprocess.Popen.__init__


def _popen(self, args, *rest, **kwargs):
    program = args if isinstance(args, (str, bytes, os.PathLike)) else args[0]
    _record("spawn", os.fsdecode(program))
    return _popen_init(self, args, *rest, **kwargs)


subprocess.Popen.__init__ = _popen
with open("/proc/self/cmdline", "rb") as _fh:  # sys.argv is not set yet
    _record("loaded", _fh.read().replace(b"\0", b" ").decode(errors="replace"))
'''


_LISTENER = socket.socket()


def _listening_port() -> int:
    """A loopback port that accepts (the probe's allowed connection)."""
    if _LISTENER.getsockname()[1] == 0:
        _LISTENER.bind(("127.0.0.1", 0))
        _LISTENER.listen()
    return _LISTENER.getsockname()[1]


def _dead_port() -> int:
    with socket.socket() as sock:  # bound and closed again: nothing listens there
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def guarded_run(tmp_path_factory):
    """The whole sample, run once under the guard; its exit code, stderr and the guard's log."""
    root = tmp_path_factory.mktemp("network")
    (root / "guard").mkdir()
    (root / "guard" / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    (root / "tmp").mkdir()
    proxy = f"http://127.0.0.1:{_dead_port()}"
    env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
    env.update({"PYTHONPATH": str(root / "guard"), "KAM_NET_LOG": str(root / "net.log"),
                "KAM_REPORTS_DIR": str(root / "reports"), "TMPDIR": str(root / "tmp"),
                **{k: proxy for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy",
                                      "https_proxy", "all_proxy")}})
    done = subprocess.run([sys.executable, "-m", "kamlib.cli", "run", "--no-progress"], env=env,
                          cwd=paths.REPO_ROOT, capture_output=True, text=True, timeout=900)
    return done, _read_log(root / "net.log"), root, env


def _read_log(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_guard_refuses_and_records_what_leaves_the_machine(guarded_run):
    _done, _log, root, env = guarded_run
    probe = ("import socket\n"
             "socket.create_connection(('127.0.0.1', %d), timeout=5).close()\n" % _listening_port()
             + "for target in (('192.0.2.1', 80), ('example.org', 443)):\n"
             "    try:\n        socket.create_connection(target, timeout=5)\n"
             "    except OSError:\n        pass\n")
    log = root / "probe.log"
    subprocess.run([sys.executable, "-c", probe], env={**env, "KAM_NET_LOG": str(log)},
                   check=True, timeout=120)
    refused = [(e["kind"], e["detail"]) for e in _read_log(log) if e["kind"] != "loaded"]
    assert refused == [("connect", "('192.0.2.1', 80)"), ("getaddrinfo", "'example.org'")]


def test_the_guard_was_in_the_runner_and_in_every_kernel(guarded_run):
    done, log, _root, _env = guarded_run
    assert done.returncode == 0, done.stderr
    loaded = {entry["pid"]: entry["detail"] for entry in log if entry["kind"] == "loaded"}
    kernels = [d for d in loaded.values() if "ipykernel_launcher" in d]
    assert any("kamlib.cli" in d for d in loaded.values())
    assert len(kernels) >= len(paths.step_notebooks())  # a kernel per step notebook


def test_a_run_opens_no_network_connection(guarded_run):
    _done, log, _root, _env = guarded_run
    assert [entry for entry in log if entry["kind"] not in ("loaded", "spawn")] == []


def test_a_run_starts_no_program_but_its_kernels_and_git(guarded_run):
    """The deck (python-pptx), the pages and the workbooks are written in-process: no browser,
    office suite or converter is started by a run (Chromium and LibreOffice are test tools)."""
    done, log, root, _env = guarded_run
    assert done.returncode == 0, done.stderr
    assert list((root / "reports").rglob("deck.pptx"))  # the deck was written under the guard
    programs = {os.path.basename(e["detail"]) for e in log if e["kind"] == "spawn"}
    machine = {"uname", "lscpu"}  # libraries asking about the machine (platform, CPU count)
    assert programs <= {"git", *machine, os.path.basename(sys.executable)}, programs


def test_a_successful_run_leaves_no_temp_folder(guarded_run):
    _done, _log, root, _env = guarded_run
    assert os.listdir(root / "tmp") == []  # no kam-run-*, kam-duckdb-* or kernel file left
