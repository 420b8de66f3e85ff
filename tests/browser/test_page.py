"""The page in a real browser: Debian's chromium driven by Playwright (no browser download).

It types the seed calls and checks the shapes shown, the drawing's cells, a refusal in
#error, a number field that edits the call, a clicked cell's worksheet and a shared URL
that restores the state; the screenshot is kept in build/artifacts/page.png.
"""

import re
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import expect, sync_playwright

import convarith
from convarith.web.app import create_app

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "artifacts"
SEED = [
    f"keras.layers.Conv2DTranspose(filters=3, kernel_size=3, strides={s}, padding='{p}')"
    for p, s in (("valid", 1), ("valid", 2), ("same", 1), ("same", 2), ("same", 3))
]


def tuple_text(shape) -> str:
    return str(tuple(shape))


@pytest.fixture(scope="module")
def server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def page(server):
    assert Path(CHROMIUM).exists(), "Debian chromium is missing: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server + "/")
        yield page
        browser.close()


def cell_counts(svg: str) -> dict:
    return {name: len(re.findall(rf'<rect[^>]*class="{name}"', svg)) for name in ("input", "output", "kernel")}


def test_seed_calls(page):
    for expr in SEED:
        page.fill("#expr", expr)
        page.fill("#input", "1,96,128,3")
        expect(page.locator("#shape")).to_have_text(tuple_text(convarith.output_shape(expr, (1, 96, 128, 3))))
        expect(page.locator("#error")).to_be_hidden()
        assert "transposed convolution" in page.inner_text("#explanation")
        page.wait_for_function("document.querySelector('#drawing svg') !== null")
        drawn = page.inner_html("#drawing")
        library = convarith.draw(expr, (1, 96, 128, 3))
        assert cell_counts(drawn) == cell_counts(library)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page.png"), full_page=True)


def test_small_conv_cells(page):
    """Input 5x5, padding 1 per side, stride 2: 25 input cells, 3x3 outputs, 9 kernel taps."""
    page.fill("#expr", "nn.Conv2d(1, 1, 3, stride=2, padding=1)")
    page.fill("#input", "1,1,5,5")
    expect(page.locator("#shape")).to_have_text("(1, 1, 3, 3)")
    page.wait_for_function("document.querySelectorAll('#drawing rect.output').length === 9")
    assert page.locator("#drawing rect.input").count() == 25
    assert page.locator("#drawing rect.kernel").count() == 9
    assert page.locator("#drawing rect.pad-before").count() + page.locator("#drawing rect.pad-after").count() == 49 - 25


def test_refusal_shown(page):
    page.fill("#expr", "nn.Conv2d(3, 8, 3, stride=2, padding='same')")
    page.fill("#input", "1,3,9,9")
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#error")).to_contain_text("padding='same' needs stride=1")
    expect(page.locator("#shape")).to_have_text("")


def test_number_field_edits_the_call(page):
    page.fill("#expr", "nn.Conv2d(3, 8, 3)")
    page.fill("#input", "1,3,32,32")
    expect(page.locator("#shape")).to_have_text("(1, 8, 30, 30)")
    page.fill("#knob-stride", "2")
    page.dispatch_event("#knob-stride", "change")
    expect(page.locator("#expr")).to_have_value("nn.Conv2d(3, 8, 3, stride=2)")
    expect(page.locator("#shape")).to_have_text("(1, 8, 15, 15)")


def test_clicked_cell_shows_its_worksheet(page):
    page.fill("#expr", "nn.Conv2d(1, 1, 3, stride=2, padding=1)")
    page.fill("#input", "1,1,5,5")
    page.wait_for_function("document.querySelectorAll('#drawing rect.output').length === 9")
    page.locator("#drawing rect.output").nth(4).click()
    expect(page.locator("#worksheet")).to_contain_text("output(0, 0, 1, 1): 9 terms")
    page.select_option("#values", "random")
    page.locator("#drawing rect.output").nth(4).click()
    expect(page.locator("#worksheet")).to_contain_text("equals forward")


def test_shared_url_restores_the_state(page, server):
    page.fill("#expr", "F.max_pool2d(x, 3, stride=2, ceil_mode=True)")
    page.fill("#input", "")
    page.fill("#shapes", "x=1,3,10,10")
    expect(page.locator("#shape")).to_have_text("(1, 3, 5, 5)")
    url = page.url
    assert "expr=" in url and "shapes=" in url
    page.goto(server + "/")
    page.goto(url)
    expect(page.locator("#expr")).to_have_value("F.max_pool2d(x, 3, stride=2, ceil_mode=True)")
    expect(page.locator("#shape")).to_have_text("(1, 3, 5, 5)")


def test_compare_shows_each_framework(page):
    """#compare: one row per framework with the library's calls and shape, or its refusal; emptied with the rest."""
    expr = SEED[3]
    page.fill("#expr", expr)
    page.fill("#input", "1,96,128,3")
    expect(page.locator("#compare tbody tr")).to_have_count(5)
    for entry in convarith.compare(expr, (1, 96, 128, 3)).entries:
        row = page.locator(f'#compare tr[data-framework="{entry.name}"]')
        if entry.refusal:
            expect(row.locator("td.call")).to_have_text(entry.refusal)
            expect(row).to_have_class("refused")
        else:
            expect(row.locator("td.call")).to_have_text("\n".join(entry.calls))
            expect(row.locator("td.shape")).to_have_text(tuple_text(entry.output_shape))
    expect(page.locator('#compare tr[data-framework="keras"] td.shape')).to_have_text("(1, 192, 256, 3)")
    page.fill("#expr", "nn.Conv2d(3, 8, 3, stride=2, padding='same')")
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#compare tbody tr")).to_have_count(0)
