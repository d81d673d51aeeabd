"""``mlpfit report``: the page's sections, its statistics and figures, escaping, the splits it re-derives, bad input
refused in one line, and the page as a real browser renders it."""

import base64
import contextlib
import csv
import hashlib
import html
import io
import os
import re
import shutil

import numpy as np
import pytest

import mlpfit
from mlpfit import EnsembleRegressor, NeuralRegressor, report
from mlpfit._columns import RawInputs
from mlpfit.assessment import assess, held_out_rows
from mlpfit.cli import main

pytest.importorskip("matplotlib")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(0)
DOSE = RNG.uniform(0, 10, 50)
RESPONSE = np.sqrt(DOSE) + 0.05 * RNG.normal(size=50)
HOSTILE_X = "<img src=x onerror=alert(1)>"
HOSTILE_Y = 'a&b "quoted" </table>'
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def write_csv(path, header, rows):
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows([header, *rows])
    return str(path)


def run(argv):
    """``(exit code, stdout)`` of ``mlpfit ARGV`` in-process."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """A model fitted with a test split on columns with hostile names, and its report: ``(folder, html)``."""
    folder = tmp_path_factory.mktemp("report")
    data = write_csv(folder / "data.csv", [HOSTILE_X, HOSTILE_Y], zip(DOSE, RESPONSE))
    fit = ["fit", data, "--x", HOSTILE_X, "--y", HOSTILE_Y, "--hidden", "6", "--max-iter", "30", "--seed", "0"]
    assert run([*fit, "--test-fraction", "0.2", "--early-stopping", "-q", "-o", str(folder / "model.npz")])[0] == 0
    code, out = run(["report", str(folder / "model.npz"), data, "-o", str(folder / "report.html")])
    assert code == 0 and out == f"report written to {folder / 'report.html'}\n"
    return folder, (folder / "report.html").read_text()


@pytest.fixture
def undrawn(monkeypatch):
    """Figures built but not rendered (a stand-in PNG), for tests about the rest of the page: rendering is most of
    a report's time, and the tests above render every figure."""
    monkeypatch.setattr(mlpfit.plot, "png_bytes", lambda figure, dpi=100: PNG_SIGNATURE)


def section(page, key):
    """The HTML of section ``key`` of a report."""
    return re.search(rf'<section id="{key}">(.*?)</section>', page, flags=re.DOTALL).group(1)


def test_the_page_has_every_section_in_order_and_loads_nothing_from_outside(reported):
    _, page = reported
    positions = [page.index(f'<section id="{key}">') for key in report.SECTIONS]
    assert positions == sorted(positions) and page.count("<section ") == len(report.SECTIONS)
    assert "<script" not in page.lower()
    assert re.findall(r'(?:src|href)="(?!data:image/png;base64,|#)', page) == []
    assert f'content="{report.CONTENT_SECURITY_POLICY}"' in page


def test_hostile_column_names_are_escaped_everywhere(reported):
    _, page = reported
    assert HOSTILE_X not in page and "<img src=x" not in page and '</table>"' not in page
    escaped = "&lt;img src=x onerror=alert(1)&gt;"
    assert escaped in page.split("<main>")[0] and escaped in section(page, "data")
    assert "a&amp;b &quot;quoted&quot; &lt;/table&gt;" in section(reported[1], "statistics")


def text_of(html_text):
    """The words of some HTML, tags dropped and entities read, one space apart."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", html_text)).split())


def test_the_statistics_are_those_of_the_same_train_and_test_rows_as_the_fit(reported):
    folder, page = reported
    model = mlpfit.load(folder / "model.npz")
    test = np.zeros(50, dtype=bool)
    test[held_out_rows(50, 0.2, 0)] = True
    X, y = DOSE[:, None], RESPONSE
    expected = assess(model, {"train": (X[~test], y[~test]), "test": (X[test], y[test])}, y_names=[HOSTILE_Y])
    assert [split.name for split in expected.splits] == ["train", "validation", "test"]
    statistics = text_of(section(page, "statistics"))
    header, rows = expected.table()
    assert " ".join([*header, *rows[0], *rows[1], *rows[2]]) in statistics
    assert "the rows are not kept, so MAE, R^2 and coverage are not known" in statistics


def test_every_figure_is_an_embedded_png_with_its_caption(reported):
    _, page = reported
    figures = section(page, "figures")
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', figures)
    assert len(images) == len(report.FIGURES)
    assert all(base64.b64decode(image).startswith(PNG_SIGNATURE) for image in images)
    for name, (caption, _) in report.FIGURES.items():
        assert f'<figure id="figure-{name}">' in figures and caption in text_of(figures)


def test_the_plan_shows_every_auto_and_what_it_chose(reported):
    folder, page = reported
    model = mlpfit.load(folder / "model.npz")
    rows = re.findall(r'<tr( class="auto")?><td>(\w+)</td><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td><td>(.*?)</td>', page)
    plan = {field: (bool(auto), *map(html.unescape, cells)) for auto, field, *cells in rows}
    assert plan["solver"] == (True, "'auto'", repr(model.plan_.solver), model.plan_.reasons["solver"])
    assert plan["hidden_layer_sizes"][:3] == (False, "(6,)", "(6,)")  # --hidden 6: asked for, not auto
    params = model.get_params()
    assert {field for field, (auto, *_) in plan.items() if auto} == {
        field for field in plan if params.get(field) == "auto"
    }


def test_the_diagnosis_and_provenance_name_the_files_by_their_hash(reported):
    folder, page = reported
    model_hash = hashlib.sha256((folder / "model.npz").read_bytes()).hexdigest()
    data_hash = hashlib.sha256((folder / "data.csv").read_bytes()).hexdigest()
    provenance = section(page, "provenance")
    assert model_hash in provenance and data_hash in provenance and f"mlpfit {mlpfit.__version__}" in provenance
    assert "0.2 of 50 rows of data.csv, seed 0" in provenance
    assert re.search(r"report written at</th><td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", provenance)
    diagnosis = section(page, "diagnosis")
    assert "No problems found." in diagnosis or "<strong>Fix:</strong>" in diagnosis


def test_other_data_is_assessed_as_one_split_and_the_page_says_why(reported, tmp_path, undrawn):
    folder, _ = reported
    other = write_csv(tmp_path / "other.csv", [HOSTILE_X, HOSTILE_Y], zip(DOSE[:40], RESPONSE[:40]))
    assert run(["report", str(folder / "model.npz"), other, "-o", str(tmp_path / "r.html")])[0] == 0
    page = (tmp_path / "r.html").read_text()
    assert "other.csv differs (40 usable rows" in page and "every row is assessed as one split" in page
    rows = re.findall(r"<tr><td>(\w+)</td>", section(page, "statistics"))
    assert rows == ["data", "validation"]


def test_a_model_without_a_test_split_is_reported_on_all_rows(tmp_path, undrawn):
    data = write_csv(tmp_path / "data.csv", ["dose", "response"], zip(DOSE, RESPONSE))
    assert (
        run(["fit", data, "--x", "dose", "--y", "response", "--hidden", "4", "-q", "-o", str(tmp_path / "m")])[0] == 0
    )
    assert run(["report", str(tmp_path / "m"), data, "-o", str(tmp_path / "r.html"), "--title", "Dose <1>"])[0] == 0
    page = (tmp_path / "r.html").read_text()
    assert "<title>Dose &lt;1&gt;</title>" in page and "records no test split" in page
    assert re.findall(r"<tr><td>(\w+)</td>", section(page, "statistics")) == ["data"]


def test_an_ensemble_of_dates_and_text_with_two_outputs_gets_coverage_and_partial_dependence(undrawn):
    n = 60
    dates = np.datetime64("2024-01-01") + RNG.integers(0, 300, n).astype("timedelta64[D]")
    region = np.array(RNG.choice(["north", "<south>"], n), dtype=object)
    a = RNG.normal(size=n)
    Y = np.column_stack([a + (region == "north"), a**2])
    X = RawInputs((a, dates, region))
    model = EnsembleRegressor(NeuralRegressor(4, max_iter=15), n_estimators=2, random_state=0).fit(X[:45], Y[:45])
    splits = {"train": (X[:45], Y[:45]), "test": (X[45:], Y[45:])}
    page = report.html_report(model, splits, x_names=["a", "day", "region"], y_names=["p", "q"], coverage=0.9)
    statistics = section(page, "statistics")
    assert "<th>coverage (90% interval)</th>" in statistics and statistics.count("<tr><td>") == 4
    assert "2 categories: &lt;south&gt;, north" in section(page, "data")
    assert "An ensemble of 2 networks" in section(page, "plan") and "member 1: " in section(page, "plan")
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == len(report.FIGURES)


def test_html_report_needs_a_split():
    with pytest.raises(ValueError, match="splits must name at least one set of rows"):
        report.html_report(NeuralRegressor(), {})


# --- bad input: exit code 2, one line, no file ---------------------------------------------------------------


@pytest.fixture
def curves_model(tmp_path):
    rows = [[f"s{i % 2}", t, np.sin(t) + i % 2] for i, t in enumerate(np.linspace(0, 3, 24))]
    data = write_csv(tmp_path / "long.csv", ["sensor", "t", "value"], rows)
    fit = ["fit", data, "--group", "sensor", "--x", "t", "--y", "value", "--hidden", "3", "--max-iter", "5", "-q"]
    assert run([*fit, "-o", str(tmp_path / "curves.npz")])[0] == 0
    return str(tmp_path / "curves.npz"), data


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing model", "model file nomodel.npz does not exist"),
        ("model of curves", "a model of curves (fit --group) holds a fit per curve"),
        ("report over the data", "cannot write the report to data.csv: it is also the data input."),
        ("bad coverage", "--coverage must be a number between 0 and 1; got 1.5."),
        ("missing column", "has no column 'weight'; available columns:"),
        ("missing directory", "cannot write the report to nodir/r.html: directory"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    reported, curves_model, tmp_path, monkeypatch, capsys, case, message
):
    folder, _ = reported
    shutil.copy(folder / "model.npz", tmp_path / "model.npz")
    shutil.copy(folder / "data.csv", tmp_path / "data.csv")
    monkeypatch.chdir(tmp_path)
    argv = {
        "missing model": ["nomodel.npz", "data.csv", "-o", "r.html"],
        "model of curves": [*curves_model, "-o", "r.html"],
        "report over the data": ["model.npz", "data.csv", "-o", "data.csv"],
        "bad coverage": ["model.npz", "data.csv", "-o", "r.html", "--coverage", "1.5"],
        "missing column": ["model.npz", "data.csv", "-o", "r.html", "--y", "weight"],
        "missing directory": ["model.npz", "data.csv", "-o", "nodir/r.html"],
    }[case]
    before = sorted(os.listdir(tmp_path))
    assert main(["report", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("mlpfit report: error: ") and message in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert sorted(os.listdir(tmp_path)) == before


def test_a_failure_while_drawing_leaves_an_existing_report_as_it_was(reported, tmp_path, monkeypatch, capsys):
    folder, _ = reported
    (tmp_path / "r.html").write_text("the old report")

    def failing(figure, dpi=100):
        raise ValueError("the figure could not be drawn")

    monkeypatch.setattr(mlpfit.plot, "png_bytes", failing)
    assert main(["report", str(folder / "model.npz"), str(folder / "data.csv"), "-o", str(tmp_path / "r.html")]) == 2
    assert "the figure could not be drawn" in capsys.readouterr().err
    assert (tmp_path / "r.html").read_text() == "the old report"


# --- the page in a real browser --------------------------------------------------------------------------------


def test_the_page_renders_in_headless_chromium_with_every_image_decoded(reported, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent (Debian's chromium package; CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the test extra)")
    folder, _ = reported
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems, requests = [], []
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto((folder / "report.html").as_uri(), wait_until="load")
            headings = page.eval_on_selector_all("section > h2", "nodes => nodes.map(node => node.textContent)")
            images = page.eval_on_selector_all(
                "img", "nodes => nodes.map(node => [node.complete, node.naturalWidth, node.naturalHeight])"
            )
            boxes = page.eval_on_selector_all(
                "img, svg",
                "nodes => nodes.map(node => node.getBoundingClientRect()).map(box => [box.width, box.height])",
            )
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert headings == list(report.SECTIONS.values())
    assert len(images) == len(report.FIGURES) and all(
        done and width > 0 and height > 0 for done, width, height in images
    )
    assert boxes and all(width > 0 and height > 0 for width, height in boxes)
    assert problems == []
    assert all(url.startswith(("file:", "data:")) for url in requests)
    assert (tmp_path / "report.png").read_bytes().startswith(PNG_SIGNATURE)
