"""The fork server gives each script what a fresh `python script.py` would: its output, its exit
status, its traceback, the signal that killed it, a timeout, and globals of its own."""
import signal
import subprocess

import pytest

from fork_server import ForkServer


@pytest.fixture(scope="module")
def server():
    started = ForkServer({"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})
    yield started
    started.close()


def _run(server, tmp_path, source, timeout=60):
    script = tmp_path / "script.py"
    script.write_text(source, encoding="utf-8")
    return server.run(script, tmp_path, timeout)


def test_output_and_exit_status(server, tmp_path):
    run = _run(server, tmp_path, "import sys, os\nprint('out', os.getcwd())\nprint('err', file=sys.stderr)\nsys.exit(3)\n")
    assert (run.returncode, run.stdout, run.stderr) == (3, f"out {tmp_path}\n", "err\n")


def test_an_exception_is_exit_1_with_its_traceback(server, tmp_path):
    run = _run(server, tmp_path, "x = 1\nraise ValueError('boom %d' % x)\n")
    assert run.returncode == 1 and "ValueError: boom 1" in run.stderr


def test_a_signal_is_a_negative_status(server, tmp_path):
    run = _run(server, tmp_path, "import os, signal\nprint('before', flush=True)\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    assert (run.returncode, run.stdout) == (-signal.SIGSEGV, "before\n")


def test_a_hang_times_out_and_the_server_goes_on(server, tmp_path):
    with pytest.raises(subprocess.TimeoutExpired):
        _run(server, tmp_path, "import time\ntime.sleep(60)\n", timeout=0.5)
    assert _run(server, tmp_path, "print('next')\n").stdout == "next\n"


def test_scripts_do_not_share_globals(server, tmp_path):
    assert _run(server, tmp_path, "import tensorflow as tf\nSEEN = 1\nprint(tf.constant(2.5).numpy() * 2)\n").stdout == "5.0\n"
    assert _run(server, tmp_path, "print('SEEN' in globals())\n").stdout == "False\n"
