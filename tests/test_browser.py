"""Real-browser test: JupyterLab + headless Chromium run a widget cell, move a slider, see the figure change.

Select with `-m browser`. JupyterLab listens on a random free 127.0.0.1 port with a token, in temporary
Jupyter config/runtime/data folders, on copies of the notebooks (nothing in the repository is saved).
Chromium is Debian's (`apt-get install chromium`, done here when missing and we are root), driven by
Playwright's Python package; it resolves no host but 127.0.0.1 and Playwright aborts any other request.
Screenshots go to a temporary folder whose path the test prints.
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
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
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
# The lessons whose widget cells the test drives (the cells are found by widget_cells()).
LESSON_WIDGETS = ["02_soft_labels_and_loss.ipynb", "03_distillation_loop.ipynb"]
WAIT_MS = 30_000  # any single UI wait
RUN_MS = 480_000  # running a lesson up to its widget cell, or a Train press (a bound for a busy machine)
PAGE_ERRORS: dict[int, list[str]] = {}  # uncaught JavaScript errors, per page
SLIDER_SELECTOR = ".noUi-handle, .ui-slider-handle"  # ipywidgets 8 (noUiSlider) / 7 (jQuery UI)

TINY_SOURCE = '''\
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

def draw(freq):
    """A sine wave whose frequency the slider sets."""
    x = np.linspace(0, 1, 200)
    fig, ax = plt.subplots(figsize=(4, 2.5))
    ax.plot(x, np.sin(2 * np.pi * freq * x))
    ax.set_title(f"freq = {freq:.1f}")
    plt.show()

slider = widgets.FloatSlider(value=1.0, min=0.5, max=5.0, step=0.5, description="freq")
display(widgets.VBox([slider, widgets.interactive_output(draw, {"freq": slider})]))
'''
# The playground's pattern: sliders, then a button that draws into an Output widget.
TINY_BUTTON_SOURCE = """\
amplitude = widgets.FloatSlider(value=1.0, min=0.5, max=3.0, step=0.25, description="amplitude")
button, out = widgets.Button(description="Draw"), widgets.Output()

def on_click(_):
    with out:
        out.clear_output(wait=True)
        fig, ax = plt.subplots(figsize=(4, 2.5))
        ax.bar(["a", "b"], [1.0, amplitude.value])
        ax.set_ylim(0, 3)
        plt.show()

button.on_click(on_click)
display(widgets.VBox([amplitude, button, out]))
"""


def _run(cmd, timeout):
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    )


def _ensure_chromium() -> str:
    """Debian's Chromium, installed with apt-get when missing (root only); skip when impossible."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    if not shutil.which("apt-get"):
        pytest.skip(f"no browser: {CHROMIUM} is missing and there is no apt-get to install it")
    if os.geteuid() != 0:
        pytest.skip(f"no browser: {CHROMIUM} is missing; install it with `sudo apt-get install chromium`")
    try:
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
            done = _run(cmd, timeout=600)
            if done.returncode:
                pytest.skip(f"no browser: `{' '.join(cmd)}` failed: {done.stderr.strip()[-500:]}")
    except subprocess.TimeoutExpired as err:
        pytest.skip(f"no browser: `{' '.join(err.cmd)}` took over {err.timeout} s")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no browser: apt-get installed chromium but {CHROMIUM} is not there")
    return CHROMIUM


def _ensure_playwright():
    """Playwright's Python package (in the `dev` extra), pip-installed into this env when missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        try:
            done = _run([sys.executable, "-m", "pip", "install", "-q", "playwright"], timeout=300)
        except subprocess.TimeoutExpired:
            pytest.skip("no browser driver: `pip install playwright` took over 300 s")
        if done.returncode:
            pytest.skip(f"no browser driver: `pip install playwright` failed: {done.stderr[-500:]}")
        from playwright.sync_api import sync_playwright
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(config_dir: Path) -> None:
    """JupyterLab user settings: all cells in the DOM, no autosave, no news/update/extension fetches."""
    settings = {
        "notebook-extension/tracker": {"windowingMode": "none"},
        "docmanager-extension/plugin": {"autosave": False},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "extensionmanager-extension/plugin": {"enabled": False},
    }
    for name, values in settings.items():
        path = config_dir / "lab" / "user-settings" / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _tiny_notebook(path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Widget smoke test"),
        nbformat.v4.new_code_cell(TINY_SOURCE),
        nbformat.v4.new_code_cell(TINY_BUTTON_SOURCE),
    ]
    nbformat.write(nb, str(path))


def _die_with_parent() -> None:
    """In the JupyterLab child: get SIGTERM when pytest dies, even by SIGKILL (Linux prctl)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}: stopping JupyterLab and Chromium")


def _stop(proc: subprocess.Popen) -> None:
    """Terminate JupyterLab and every process it started (kernels), by pid; kill what lingers."""
    import psutil

    try:
        procs = [psutil.Process(proc.pid)] + psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        procs = []
    for p in procs:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=10)
    for p in alive:
        p.kill()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def artifacts(request):
    """A temporary folder for screenshots; its path is printed so CI can keep it."""
    folder = Path(tempfile.mkdtemp(prefix="kdcourse-browser-"))
    yield folder
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is not None and reporter is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\nbrowser test screenshots: {folder}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1:<random port> serving copies of the lessons and a tiny widget notebook."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "root"
    (root / "lessons").mkdir(parents=True)
    (root / "tiny").mkdir()
    for nb in (ROOT / "lessons").glob("*.ipynb"):
        shutil.copy(nb, root / "lessons" / nb.name)
    _tiny_notebook(root / "tiny" / "widget_demo.ipynb")
    for sub in ("config", "runtime", "data", "ipython"):
        (base / sub).mkdir()
    _write_settings(base / "config")
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "IPYTHONDIR": str(base / "ipython"),
        "KDCOURSE_PROFILE": "smoke",
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        # what Jupyter uses for students; make test sets Agg, which would draw nothing inline
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        "--allow-root",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.extension_manager=readonly",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = open(base / "jupyterlab.log", "w")
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a CI timeout's SIGTERM still runs `finally`
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with {proc.returncode}:\n" + (base / "jupyterlab.log").read_text()[-3000:]
                )
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        "JupyterLab did not answer within 90 s:\n" + (base / "jupyterlab.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.5)
        yield {"url": url, "token": token, "root": root, "log": base / "jupyterlab.log"}
    finally:
        _stop(proc)
        log.close()
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium (fresh profile) via Playwright; only 127.0.0.1 is reachable."""
    executable = _ensure_chromium()
    sync_playwright = _ensure_playwright()
    profile = tempfile.mkdtemp(prefix="kdcourse-chromium-")
    pw = sync_playwright().start()
    context = None
    try:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
            timeout=60_000,
        )
        context.set_default_timeout(WAIT_MS)
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(("http://127.0.0.1:", "data:", "blob:"))
                else route.abort()
            ),
        )
        yield context
    finally:
        if context is not None:
            context.close()
        pw.stop()
        shutil.rmtree(profile, ignore_errors=True)


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# The kdcourse.viz modules that define lesson widgets (lesson 02, 03 and 06).
WIDGET_MODULES = ("explorers", "playground", "kl_direction")
# Where they are imported from: kdcourse.viz; plain kdcourse while lesson 06 still imports the old name.
WIDGET_PACKAGES = ("kdcourse.viz",)


def _widget_names(tree: ast.AST, modules: set, functions: set, objects: set) -> bool:
    """Record names bound to the widget modules, their functions and objects they made; True if a call uses one."""
    dotted = {f"{package}.{m}" for package in WIDGET_PACKAGES for m in WIDGET_MODULES}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in WIDGET_PACKAGES:
            modules |= {a.asname or a.name for a in node.names if a.name in WIDGET_MODULES}
        elif isinstance(node, ast.ImportFrom) and node.module in dotted:
            functions |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            modules |= {a.asname for a in node.names if a.name in dotted and a.asname}

    def from_widgets(call) -> bool:
        f = call.func
        if isinstance(f, ast.Name):
            return f.id in functions or f.id in objects
        if isinstance(f, ast.Attribute):
            owner = ast.unparse(f.value)
            return owner in modules or owner in dotted or owner in objects
        return False

    uses = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and from_widgets(node.value):
            objects |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        if isinstance(node, ast.Call) and from_widgets(node):
            uses = True
    return uses


def widget_cells(path: Path) -> list[int]:
    """Code cells that show a kdcourse widget: they call a widget module (kdcourse.viz.explorers,
    .playground, .kl_direction; directly or through an object it made, found by following the imports and
    assignments) and a stored output is a widget view."""
    from IPython.core.inputtransformer2 import TransformerManager

    nb = json.loads(path.read_text())
    modules, functions, objects = set(), set(), set()
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse(TransformerManager().transform_cell("".join(cell["source"])))
        except SyntaxError:
            continue
        if _widget_names(tree, modules, functions, objects):
            if any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", [])):
                cells.append(i)
    return cells


def _errors(page, upto: int) -> list[str]:
    """Errors in the outputs of cells 0..upto (tracebacks, also inside Output widgets) and widget failures."""
    return page.evaluate(
        """(upto) => {
        const nb = window.jupyterapp.shell.currentWidget.content;
        const found = [];
        nb.widgets.slice(0, upto + 1).forEach((cell, i) => {
            if (cell.model.type !== 'code') return;
            const outs = cell.model.outputs;
            for (let k = 0; k < outs.length; k++) {
                const o = outs.get(k).toJSON();
                if (o.output_type === 'error') found.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
            }
            cell.node.querySelectorAll('.widget-output [data-mime-type="application/vnd.jupyter.stderr"]')
                .forEach(n => found.push(`cell ${i} widget output: ${n.innerText.slice(0, 2000)}`));
            if (/Error displaying widget|Error rendering output/.test(cell.node.innerText))
                found.push(`cell ${i}: ${cell.node.innerText.slice(0, 500)}`);
        });
        return found;
    }""",
        upto,
    )


def _open(browser, lab, relpath: str):
    page = browser.new_page()
    page.on("pageerror", lambda err: PAGE_ERRORS.setdefault(id(page), []).append(str(err)))
    page.goto(f"{lab['url']}/lab/tree/{relpath}?reset&token={lab['token']}", wait_until="domcontentloaded")
    page.wait_for_function(
        """() => window.jupyterapp && window.jupyterapp.shell.currentWidget
        && window.jupyterapp.shell.currentWidget.sessionContext
        && window.jupyterapp.shell.currentWidget.sessionContext.session
        && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel
        && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'""",
        timeout=90_000,
    )
    return page


def _run_through(page, index: int) -> None:
    """Select cell `index`, run every cell above it (Run menu command), then Shift+Enter it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.locator(".jp-InputPrompt").click()
    # not awaited: the command's promise settles only when the cells finish; the wait below is bounded
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-above'); }")
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Shift+Enter")
    try:
        page.wait_for_function(
            """(index) => {
            const w = window.jupyterapp.shell.currentWidget;
            const cells = w.content.widgets.slice(0, index + 1).filter(c => c.model.type === 'code');
            for (const c of cells)
                for (let k = 0; k < c.model.outputs.length; k++)
                    if (c.model.outputs.get(k).type === 'error') return true;   // reported by _errors
            return cells.every(c => c.model.executionCount !== null)
                && w.sessionContext.session.kernel.status === 'idle';
        }""",
            arg=index,
            timeout=RUN_MS,
        )
    except PlaywrightTimeout as err:
        pending = page.evaluate(
            """(index) => window.jupyterapp.shell.currentWidget.content.widgets
            .slice(0, index + 1).map((c, i) => [i, c]).filter(([i, c]) => c.model.type === 'code'
            && c.model.executionCount === null).map(([i, c]) => i)""",
            index,
        )
        raise AssertionError(
            f"cells up to {index} did not finish within {RUN_MS // 1000} s (not yet run: {pending})"
        ) from err


FIGURES_JS = """async (el) => {
    // The cell's figures as SHA-256 of their bytes (data: URLs from matplotlib, blob: URLs from
    // widgets.Image), or an error printed in an Output widget; hashes is null while an image loads.
    const err = el.querySelector('.widget-output [data-mime-type="application/vnd.jupyter.stderr"]');
    if (err) return {error: err.innerText.trim().split('\\n').filter(l => l.trim()).slice(-1)[0]};
    const hashes = [];
    for (const img of el.querySelectorAll('.jp-OutputArea img')) {
        if (!img.complete || !img.naturalWidth) return {hashes: null};
        try {
            const bytes = await (await fetch(img.src)).arrayBuffer();
            const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
            hashes.push([...digest].map(b => b.toString(16).padStart(2, '0')).join(''));
        } catch (e) { return {hashes: null}; }   // a blob URL revoked by a newer image
    }
    return {hashes};
}"""


def _poll(cell, done, timeout_ms: int):
    """Evaluate FIGURES_JS on the cell every 250 ms until done(result) or the timeout; the last result."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        result = cell.evaluate(FIGURES_JS)
        if done(result) or time.monotonic() > deadline:
            return result, done(result)
        time.sleep(0.25)


def _drive_slider(page, index: int, shots: Path, name: str) -> None:
    """Move the first slider of cell `index` with the keyboard (then press the widget's button, if it
    has one, e.g. Train) and assert that its figure is redrawn with different pixels, without an error."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.locator(".jupyter-widgets").first.wait_for(state="visible")
    handle = cell.locator(SLIDER_SELECTOR).first
    if not handle.count():
        raise AssertionError(f"{name}: the widget shows no slider (looked for {SLIDER_SELECTOR})")
    button = cell.locator(".jp-OutputArea button.jupyter-button, .jp-OutputArea button.widget-button").first
    has_button = bool(button.count())
    if has_button:  # e.g. Train: the figure comes after the click
        before = cell.evaluate(FIGURES_JS)
    else:  # a slider widget draws its figure at once
        before, ok = _poll(cell, lambda r: r.get("error") or r.get("hashes"), WAIT_MS)
        if not ok or before.get("error"):
            raise AssertionError(f"{name}: the widget drew no figure: {before}; screenshots in {shots}")
    cell.scroll_into_view_if_needed()
    cell.screenshot(path=str(shots / f"{name}-before.png"))
    readout = cell.locator(".widget-readout").first
    value_before = readout.inner_text() if readout.count() else None
    handle.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    if value_before is not None:
        try:
            page.wait_for_function("([el, v]) => el.innerText !== v", arg=[readout.element_handle(), value_before])
        except PlaywrightTimeout as err:
            raise AssertionError(
                f"{name}: ArrowRight on the slider did not change its value ({value_before}); screenshots in {shots}"
            ) from err
    if has_button:
        button.click()
    wait_ms = RUN_MS if has_button else WAIT_MS  # a Train button runs real training (smoke: seconds)
    after, ok = _poll(
        cell, lambda r: r.get("error") or (r.get("hashes") and r["hashes"] != before.get("hashes")), wait_ms
    )
    cell.screenshot(path=str(shots / f"{name}-after.png"))
    if after.get("error"):
        raise AssertionError(
            f"{name}: moving the slider printed an error instead of a new figure:\n"
            f"{after['error']}\nscreenshots in {shots}"
        )
    if not ok:
        value_after = readout.inner_text() if readout.count() else "?"
        pressed = " and the button was pressed" if has_button else ""
        raise AssertionError(
            f"{name}: the slider moved ({value_before} -> {value_after}){pressed} but the "
            f"figure was not redrawn (same pixels) within {wait_ms // 1000} s; "
            f"screenshots in {shots}"
        )


def _log(artifacts: Path, message: str) -> None:
    """Timestamped steps in steps.log beside the screenshots (what a slow or hung CI run was doing)."""
    with open(artifacts / "steps.log", "a") as log:
        log.write(f"{time.strftime('%H:%M:%S')} {message}\n")


def _check_notebook(browser, lab, artifacts, relpath: str, cells: list[int]) -> None:
    _log(artifacts, f"{relpath}: open, widget cells {cells}")
    page = _open(browser, lab, relpath)
    name = Path(relpath).stem
    try:
        _log(artifacts, f"{relpath}: kernel idle; run cells 0..{cells[-1]}")
        _run_through(page, cells[-1])
        _log(artifacts, f"{relpath}: cells ran")
        errors = _errors(page, cells[-1])
        assert not errors, f"{relpath}: errors after running the cells:\n" + "\n".join(errors)
        for index in cells:
            _drive_slider(page, index, artifacts, f"{name}-cell{index}")
            _log(artifacts, f"{relpath}: cell {index} redrew its figure")
        errors = _errors(page, cells[-1]) + [f"page error: {e}" for e in PAGE_ERRORS.get(id(page), [])]
        assert not errors, f"{relpath}: errors after moving the sliders:\n" + "\n".join(errors)
    except BaseException:
        page.screenshot(path=str(artifacts / f"{name}-failure.png"), full_page=True)
        raise
    finally:
        page.close()


@pytest.mark.browser
def test_widget_machinery_on_a_tiny_notebook(browser, lab, artifacts):
    """FloatSlider + interactive_output + matplotlib, and slider + button + Output (the playground's
    pattern), in a real browser: the machinery, independent of the lessons."""
    _check_notebook(browser, lab, artifacts, "tiny/widget_demo.ipynb", [1, 2])


@pytest.mark.browser
@pytest.mark.parametrize("lesson", LESSON_WIDGETS)
def test_lesson_widgets_redraw(browser, lab, artifacts, lesson):
    path = ROOT / "lessons" / lesson
    if not path.exists():
        pytest.skip(f"lessons/{lesson} is not written yet")
    cells = widget_cells(path)
    assert cells, (
        f"lessons/{lesson}: no cell that calls a kdcourse widget module has a stored widget output "
        "(a widget lesson shows one; stored outputs come from `make notebooks`)"
    )
    before = path.read_bytes()
    _check_notebook(browser, lab, artifacts, f"lessons/{lesson}", cells)
    assert path.read_bytes() == before, "the browser test changed a lesson in the repository"


def test_widget_cell_selector(tmp_path):
    """The selector follows imports and assignments, and keeps only cells whose stored output is a widget."""
    import nbformat

    view = nbformat.v4.new_output("display_data", data={WIDGET_VIEW: {"model_id": "x"}, "text/plain": "VBox()"})
    sources = [
        ("%pip install x\nimport kdcourse\nfrom kdcourse.viz import explorers", []),
        ("import ipywidgets as widgets_ui\nwidgets_ui.FloatSlider()", [view]),  # not kdcourse's
        ("from kdcourse.viz import explorers as kw\nkw.temperature_explorer(logits)", [view]),  # 2: shown
        ("from kdcourse.viz import playground\npg = playground.DistillationPlayground(make, ds)", []),  # not shown
        ("pg.train(2.0, 0.5)\nfig = pg.figure()", []),  # headless use
        ("pg.show()", [view]),  # 5: shown
        ("from kdcourse.viz.explorers import loss_explorer\nloss_explorer()", [view]),  # 6: shown
        ("import kdcourse.viz.kl_direction as kd\nkd.KLDirectionExplorer().show()", [view]),  # 7: shown
        ("from kdcourse.viz.playground import DistillationPlayground as DP\nDP(m, d).show()", [view]),  # 8: shown
        ("from kdcourse.viz import plots\nplots.bubble_plot(rows)", [view]),  # plots: no widget
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(src, outputs=outs, execution_count=i + 1) for i, (src, outs) in enumerate(sources)
    ]
    nbformat.write(nb, str(tmp_path / "nb.ipynb"))
    assert widget_cells(tmp_path / "nb.ipynb") == [2, 5, 6, 7, 8]
