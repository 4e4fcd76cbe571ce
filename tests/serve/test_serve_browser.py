"""The page in a real headless Chromium against a real ``gankit serve`` process: a seed set and
generate clicked give exactly the images ``gankit sample`` writes for that seed.

Runs in the default suite when a Chromium is found (``make test``), and skips with the reason
otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess

import pytest
from browser import environment, find_chromium, gankit_command, running_server

CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no Chromium found (apt-get install chromium, or set GANKIT_CHROMIUM)",
    ),
]
playwright = pytest.importorskip("playwright.sync_api", reason="needs playwright (the dev extra)")

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_page_draws_what_gankit_sample_draws(browser, model_dirs, tmp_path):
    seed, n = 11, 6
    subprocess.run(
        gankit_command(
            "sample",
            str(model_dirs["digits"]),
            "--seed",
            str(seed),
            "-n",
            str(n),
            "--out-dir",
            str(tmp_path / "cli"),
        ),  # fmt: skip
        env=environment(),
        check=True,
        capture_output=True,
    )
    expected = [_sha256(path.read_bytes()) for path in sorted((tmp_path / "cli").iterdir())]
    with running_server([model_dirs["digits"], model_dirs["table"], model_dirs["sr"]]) as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        page.select_option("#model", "digits")
        # Only what this model takes is shown: no text, columns or upload for an image generator.
        for control in ("#text-field", "#columns-field", "#apply-form"):
            assert page.is_hidden(control)
        page.fill("#seed", str(seed))
        page.fill("#count", str(n))
        page.click("#generate")
        # Locators, not wait_for_function: the page's CSP (rightly) forbids eval.
        page.locator("#results img").nth(n - 1).wait_for()
        sources = page.eval_on_selector_all("#results img", "imgs => imgs.map(i => i.src)")
        arrived = [_sha256(base64.b64decode(src.partition(",")[2])) for src in sources]
        assert arrived == expected
        assert page.text_content("#status") == f"{n} samples, seed {seed}"
        # A table: a preview of rows; an error shows its message, not a stack trace.
        page.select_option("#model", "table")
        page.fill("#count", "5")
        page.click("#generate")
        page.wait_for_selector("#results table")
        assert page.eval_on_selector_all("#results tr", "rows => rows.length") == 6
        page.fill("#count", "100000")
        page.click("#generate")
        page.wait_for_selector("#status.error")
        assert "at most" in page.text_content("#status")
        # Phone width: nothing sticks out sideways.
        page.set_viewport_size(PHONE)
        page.select_option("#model", "digits")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
