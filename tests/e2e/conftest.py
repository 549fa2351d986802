"""Real server + real headless Chromium. Skips without Chromium, unless DLPLAY_REQUIRE_E2E=1 (set by .ci/run)."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("DLPLAY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _need_chromium():
    if Path(CHROMIUM).exists():
        return
    msg = f"no Chromium at {CHROMIUM} (install Debian's `chromium` package: apt-get install -y chromium)"
    if os.environ.get("DLPLAY_REQUIRE_E2E") == "1":
        pytest.fail(msg + "; DLPLAY_REQUIRE_E2E=1 makes the browser tests mandatory")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def server():
    _need_chromium()
    from bench.server import Server

    ARTIFACTS.mkdir(exist_ok=True)
    s = Server(log=ARTIFACTS / "server.log").start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def browser(server):
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()
