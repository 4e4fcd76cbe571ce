"""The web page of ``gankit serve`` in headless Chromium: the screenshots in docs/serving.md.

Trains a small class-conditional digits model (a few hundred steps, so the digits are legible),
serves it with ``gankit serve``, generates in the page at laptop and phone width, and writes
``docs/img/serve-laptop.png`` and ``docs/img/serve-phone.png``. Needs playwright and a system
Chromium (``GANKIT_CHROMIUM`` or ``chromium`` on the PATH).

    python bench/serve_screenshots.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import ROOT  # noqa: E402
from serve_load import _serve  # noqa: E402

from gankit import ImageGAN  # noqa: E402
from gankit.data import load_digits  # noqa: E402

SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def main() -> None:
    chromium = os.environ.get("GANKIT_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        raise SystemExit("no Chromium: apt-get install chromium, or set GANKIT_CHROMIUM")
    out = ROOT / "docs" / "img"
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "digits"
        gan = ImageGAN("default-cond", resolution=16, batch_size=32)
        gan.fit(load_digits(16), steps=600, out=model_dir, quiet=True)
        server = _serve(model_dir, 8766)
        try:
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                for name, size in SIZES.items():
                    page = browser.new_page(viewport=size)
                    page.goto("http://127.0.0.1:8766/")
                    page.wait_for_selector("body[data-ready=true]")
                    page.fill("#seed", "3")
                    page.fill("#count", "40")
                    page.click("#generate")
                    page.locator("#results img").nth(39).wait_for()
                    page.screenshot(path=str(out / f"serve-{name}.png"), full_page=True)
                browser.close()
        finally:
            server.terminate()
            server.wait(30)
    print(f"wrote {out}/serve-laptop.png and serve-phone.png")


if __name__ == "__main__":
    main()
