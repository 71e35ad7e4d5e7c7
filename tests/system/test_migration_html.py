"""The HTML migration report in a real headless browser (Debian's Chromium, installed by
tools/test-deps.sh): its rows and status colours as the browser renders them, and a screenshot
kept as a test artifact (.artifacts/migration-report.png)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from bridge.app.migration.report import COLOURS
from bridge.app.migration.commands import check_command
from support.paths import REPO

ROOT = REPO
ARTIFACTS = ROOT / ".artifacts"
FIRMWARE_C = r'''
void boot(void) {
    send("AT+XIIC=1\r\n");
    send("AT+CDNSGIP=\"%s\"\r\n", host);
    send("AT+HTTPPARA=url,%s\r\n", url);
    send("AT+HTTPSETUP\r\n");
    send("AT+QIACT=1\r\n");
}
'''
# Appended to a copy of the report: writes each status cell's computed background into the DOM.
PROBE = """<script>
for (const cell of document.querySelectorAll('td.status')) {
  cell.setAttribute('data-computed', getComputedStyle(cell).backgroundColor);
}
</script>"""
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is missing: run tools/test-deps.sh (the README's test command does)")
    return found


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_the_html_report_renders_its_rows_in_their_colours(tmp_path):
    chromium = _chromium()
    (tmp_path / "fw.c").write_text(FIRMWARE_C)
    report = tmp_path / "report.html"
    result = CliRunner().invoke(check_command, ["--source", str(tmp_path / "fw.c"), "--from", "neoway", "--to", "onemo",
                                                "--format", "html", "-o", str(report)])
    assert result.exit_code == 0, result.output
    probed = tmp_path / "probed.html"
    probed.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    profile = tmp_path / "profile"
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", probed.as_uri()],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    rows = re.findall(r'<tr class="([a-z-]+)">(.*?)</tr>', dom, re.S)
    assert len(rows) == 5
    forms = [re.search(r'<td class="form">(.*?)</td>', body).group(1) for _, body in rows]
    assert forms == ["AT+XIIC=1", "AT+CDNSGIP=&lt;name&gt;", "AT+HTTPPARA=url,&lt;value&gt;", "AT+HTTPSETUP",
                     "AT+QIACT=&lt;p1&gt;"]
    computed = re.findall(r'data-computed="(rgb\([^)]*\))"', dom)
    statuses = [re.search(r'<td class="status"[^>]*>(.*?)</td>', body).group(1) for _, body in rows]
    assert computed == [_rgb(COLOURS[s]) for s in statuses]
    assert len(set(computed)) == 4  # carried, different, not carried, unknown: four colours
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "migration-report.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1400,700",
                    f"--screenshot={shot}", report.as_uri()], capture_output=True, timeout=60, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
