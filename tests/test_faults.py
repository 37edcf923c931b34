"""Saves killed part-way: the target is always a complete model, and no temporary file stays behind.

A helper process imports the library once and forks writers on request (a
fork costs milliseconds, a fresh interpreter a large part of a second). Each
writer saves a 4 MB model over and over, every entry of ``W1`` equal to the
save's number, which the description repeats. Once its first save is complete
it is killed after a random delay of up to twice the time one save takes here,
so most kills land in the middle of a later save.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dnn_xp.saving import read_model, write_model

from conftest import REPO

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs fork and POSIX signals")
SHAPE = (500, 1000)

FORK_SERVER = r"""
import os, sys
import numpy as np
from dnn_xp.saving import write_model

SHAPE = (500, 1000)

def write_forever(path, first, ready):
    W1 = np.empty(SHAPE)
    number = first
    while True:
        number += 1
        W1.fill(number)
        write_model(path, {"W1": W1}, {"number": number})
        if ready is not None:  # the first save is complete: from now on, it is always saving
            os.write(ready, b"1")
            os.close(ready)
            ready = None

for line in sys.stdin:
    command, argument = line.split(maxsplit=1)
    if command == "fork":
        ready_read, ready_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            sys.stdin.close()
            os.close(ready_read)
            try:
                write_forever(argument.strip(), 1000 * os.getpid(), ready_write)
            except KeyboardInterrupt:
                os._exit(130)
        os.close(ready_write)
        os.read(ready_read, 1)
        os.close(ready_read)
        print(pid, flush=True)
    elif command == "reap":
        _, status = os.waitpid(int(argument), 0)
        print(os.waitstatus_to_exitcode(status), flush=True)
"""


@pytest.fixture
def fork_server():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = subprocess.Popen([sys.executable, "-c", FORK_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env)

    def ask(command, argument):
        server.stdin.write(f"{command} {argument}\n")
        server.stdin.flush()
        return int(server.stdout.readline())

    yield ask
    server.stdin.close()
    server.wait(timeout=60)
    server.stdout.close()


def _temporaries(folder, name="model.npz"):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}.") and p.name.endswith(".tmp"))


def _check_complete(path):
    """The model at ``path`` is one whole save: every entry of W1 is the number its description names."""
    arrays, meta = read_model(path)
    W1 = arrays["W1"]
    assert W1.shape == SHAPE
    assert W1.min() == W1.max() == meta["number"], "a mixture of two saves"
    return meta["number"]


def _kill_while_saving(fork_server, path, signum, rounds, rng):
    """Start a writer, let it run a random time, send ``signum``; ``rounds`` times.

    Returns the exit codes, the number of the model found after each round, and how
    many rounds left a temporary file (a writer's next save removes those of dead ones).
    """
    started = time.perf_counter()
    write_model(f"{path}.timing", {"W1": np.zeros(SHAPE)}, {})
    one_save = time.perf_counter() - started
    os.remove(f"{path}.timing")
    codes, numbers, interrupted = [], [], 0
    for _ in range(rounds):
        pid = fork_server("fork", path)
        time.sleep(rng.uniform(0, 2) * one_save)
        os.kill(pid, signum)
        codes.append(fork_server("reap", pid))
        numbers.append(_check_complete(path))
        interrupted += bool(_temporaries(Path(path).parent))
    return codes, numbers, interrupted


def test_kill_9_mid_save_leaves_the_old_or_the_new_model_and_the_next_save_cleans_up(fork_server, tmp_path):
    path = tmp_path / "model.npz"
    write_model(path, {"W1": np.full(SHAPE, 7.0)}, {"number": 7})
    codes, numbers, interrupted = _kill_while_saving(fork_server, str(path), signal.SIGKILL, 50, random.Random(8))
    assert codes == [-signal.SIGKILL] * 50
    assert len(set(numbers)) == 50 and 7 not in numbers  # each writer completed at least one save
    assert interrupted >= 10, "the kills should land in the middle of saves"  # measured: 36 of 50
    write_model(path, {"W1": np.full(SHAPE, 8.0)}, {"number": 8})
    assert _temporaries(tmp_path) == [] and _check_complete(path) == 8


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, 130)],
                         ids=["SIGTERM", "SIGINT"])
def test_sigterm_and_sigint_mid_save_remove_the_temporary_file(fork_server, tmp_path, signum, code):
    path = tmp_path / "model.npz"
    write_model(path, {"W1": np.full(SHAPE, 7.0)}, {"number": 7})
    codes, numbers, interrupted = _kill_while_saving(fork_server, str(path), signum, 10, random.Random(9))
    assert codes == [code] * 10 and len(set(numbers)) == 10
    assert interrupted == 0  # each writer removed its own temporary file before it ended


def test_a_stale_temporary_is_removed_only_when_its_process_is_gone(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    hex32 = "0" * 32
    stale = tmp_path / f".model.npz.{dead_pid}.{hex32}.tmp"
    alive = tmp_path / f".model.npz.{os.getppid()}.{hex32}.tmp"  # the process running pytest's parent
    other_target = tmp_path / f".other.npz.{dead_pid}.{hex32}.tmp"
    not_ours = tmp_path / f".model.npz.{dead_pid}.partial"
    for file in (stale, alive, other_target, not_ours):
        file.write_bytes(b"x")
    write_model(tmp_path / "model.npz", {"W1": np.ones((2, 2))}, {})
    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert remaining == sorted([alive.name, other_target.name, not_ours.name, "model.npz"])
