"""Run standalone scripts each in a process of its own, forked from a server that has already
imported numpy and tensorflow.

Why: the divergence scripts (tests/test_divergence_scripts.py) are over a hundred, and a fresh
interpreter spends about 4 s importing TensorFlow before the script's first line of its own,
which made them the largest share of the harness's own tests. A forked child still gets its
own process: its own globals (the script runs as __main__ through runpy), its own stdout and
stderr, its own exit status, and the signal that kills it. What it shares with the server is
only what the import did, and `tf.keras` is not touched by the server, so a Keras 2 script is
served by a second server started with TF_USE_LEGACY_KERAS=1, as a fresh process would be.

The server reads one JSON request per line on stdin ({"script", "cwd", "stdout", "stderr",
"timeout"}) and answers one JSON line {"returncode": int, "timed_out": bool}; the return code
is negative for a signal, as subprocess reports it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

POLL_SECONDS = 0.02


class ForkServer:
    """One server process; `run` a script in a forked child of it and wait for its end."""

    def __init__(self, env: dict):
        self.process = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        env=env, text=True, bufsize=1)

    def run(self, script: Path, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
        stdout, stderr = cwd / "stdout.txt", cwd / "stderr.txt"
        request = {"script": str(script), "cwd": str(cwd), "stdout": str(stdout), "stderr": str(stderr),
                   "timeout": timeout}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fork server ended (exit {self.process.wait()}) while running {script}")
        answer = json.loads(line)
        if answer["timed_out"]:
            raise subprocess.TimeoutExpired([str(script)], timeout)
        return subprocess.CompletedProcess([str(script)], answer["returncode"],
                                           stdout.read_text(encoding="utf-8", errors="replace"),
                                           stderr.read_text(encoding="utf-8", errors="replace"))

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _child(request: dict) -> None:
    """In the forked child: become the script's process, run it as __main__, exit with its status."""
    import runpy
    import traceback

    os.chdir(request["cwd"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
    sys.argv = [request["script"]]
    sys.path[0] = str(Path(request["script"]).parent)
    code = 0
    try:
        runpy.run_path(request["script"], run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, (int, type(None))):
            print(exc.code, file=sys.stderr)
    except BaseException:  # the script's own failure, reported as the interpreter would
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _wait(pid: int, timeout: float) -> tuple[int, bool]:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return (-os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)), False
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            return -9, True
        time.sleep(POLL_SECONDS)


def serve() -> None:
    import numpy  # noqa: F401  (the imports every script makes, paid once)
    import tensorflow  # noqa: F401

    answers = os.fdopen(os.dup(1), "w", buffering=1)
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(request)
        code, timed_out = _wait(pid, request["timeout"])
        answers.write(json.dumps({"returncode": code, "timed_out": timed_out}) + "\n")


if __name__ == "__main__":
    serve()
