"""Helpers shared by the command-line tests: run ``dnn-xp`` in-process and read its ``name: value`` lines."""

from __future__ import annotations

import pytest

from dnn_xp.backend import ENV_VAR
from dnn_xp.cli import main


@pytest.fixture(autouse=True)
def default_backend(monkeypatch):
    """Every CLI test starts from the default backend, whatever the caller's environment says."""
    monkeypatch.delenv(ENV_VAR, raising=False)


def run(capsys, *argv):
    """``(exit code, stdout lines, stderr lines)`` of ``dnn-xp argv``."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def value(lines, name):
    """The number on the one line ``name: number`` of ``lines``."""
    (line,) = [line for line in lines if line.startswith(f"{name}: ")]
    return float(line.split(": ")[1])
