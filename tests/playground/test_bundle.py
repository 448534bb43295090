"""The committed front-end bundle is built from the committed sources, and ships in the package."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
STATIC = REPO / "runtime" / "web" / "static"


def source_hash() -> str:
    """What web/build.mjs records in the bundle's first line (keep the two in step)."""
    files = ["build.mjs", "package.json", "package-lock.json", *(f"src/{p.name}" for p in (WEB / "src").iterdir())]
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(f.encode() + b"\0")
        h.update((WEB / f).read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def test_the_bundle_was_built_from_the_current_sources() -> None:
    expected = source_hash()
    for name in ("playground.js", "playground.css"):
        first = (STATIC / name).read_text(encoding="utf-8").split("\n", 1)[0]
        found = re.search(r"sources sha256 ([0-9a-f]{64})", first)
        assert found, f"runtime/web/static/{name} has no source hash: rebuild it with scripts/build_web.sh"
        assert found.group(1) == expected, (
            f"runtime/web/static/{name} is stale: web/ changed since it was built; run `make web` and commit it")


def test_the_page_loads_only_local_files() -> None:
    html = (STATIC / "playground.html").read_text(encoding="utf-8")
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(r.startswith("/static/") for r in refs), refs
    for ref in refs:
        assert (STATIC / ref.removeprefix("/static/")).is_file(), ref
    bundle = (STATIC / "playground.js").read_text(encoding="utf-8")
    assert not re.search(r"https?://(?:cdn|unpkg|fonts\.)", bundle)


def test_the_static_files_are_package_data() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = config["tool"]["setuptools"]
    assert {"runtime.playground", "runtime.web", "runtime.web.static"} <= set(setuptools["packages"])
    shipped = setuptools["package-data"]["runtime.web.static"]
    for f in STATIC.iterdir():
        assert any(f.match(pattern) for pattern in shipped), f"{f.name} is not package data"
    assert (WEB / "package-lock.json").is_file()
