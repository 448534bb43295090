"""Installs are reproducible: every dependency, direct or not, is pinned in constraints.txt and installed at that version."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", line)
        assert match, f"constraints.txt: {line!r} is not an exact pin (name==version)"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _closure() -> set[str]:
    """Every distribution paymap[test] needs, following requirements down (markers evaluated here)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    todo = [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["test"]]]
    seen: set[str] = set()
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        for sub in metadata.requires(req.name) or []:
            sub_req = Requirement(sub)
            if sub_req.marker is None or sub_req.marker.evaluate({"extra": ""}) or any(
                sub_req.marker.evaluate({"extra": extra}) for extra in req.extras
            ):
                todo.append(sub_req)
    return seen


def test_every_dependency_is_pinned_and_installed_at_its_pin() -> None:
    pins = _pins()
    missing = sorted(_closure() - set(pins))
    assert not missing, f"not pinned in constraints.txt (regenerate it, see its header): {missing}"
    wrong = {name: (pin, metadata.version(name)) for name, pin in pins.items() if metadata.version(name) != pin}
    assert not wrong, f"installed versions differ from constraints.txt (run make setup): {wrong}"


def test_make_setup_installs_from_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q -c constraints.txt -e '.[test]'" in makefile
    assert re.search(r"^\$\(STAMP\): .*constraints\.txt", makefile, re.MULTILINE)
