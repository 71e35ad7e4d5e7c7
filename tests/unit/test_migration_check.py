"""`atbridge check`: forms found in sources and captures, statuses from the compatibility data."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bridge.bridging.compatibility import load as load_tables
from bridge.app.migration.captures import collect
from bridge.app.migration.check import CARRIED, NOT_CARRIED, UNKNOWN, best_row, check
from bridge.app.migration.commands import check_command

# A firmware file written for this test, in the style of N58 drivers (RT-Thread at_device n58):
# printf format strings, \r\n line ends, one escaped quote.
FIRMWARE_C = r'''
#include <stdio.h>
static int n58_boot(at_client_t c) {
    at_exec_cmd(c, resp, "AT+XIIC=1\r\n");
    at_exec_cmd(c, resp, "AT+CDNSGIP=\"%s\"\r\n", host);
    snprintf(buf, sizeof buf, "AT+HTTPPARA=url,%s\r\n", url);
    snprintf(buf, sizeof buf, "AT+HTTPACTION=99,%d\r\n", len);
    at_exec_cmd(c, resp, "AT+CSQ\r\n");
    at_exec_cmd(c, resp, "AT+QIACT=1\r\n");   /* a Quectel command, known to no table */
    return 0;
}
'''
TEMPLATES = ["AT+XIIC=1", "AT+CDNSGIP=<name>", "AT+HTTPPARA=url,<value>", "AT+HTTPACTION=99,<length_or_offset>",
             "AT+CSQ", "AT+QIACT=<p1>"]


def _source(tmp_path: Path) -> Path:
    path = tmp_path / "n58_http.c"
    path.write_text(FIRMWARE_C)
    return path


def test_every_command_template_in_a_c_file_is_found_with_its_line(tmp_path):
    seen = list(collect(None, _source(tmp_path), "neoway"))
    assert [s.form for s in seen] == TEMPLATES
    assert [s.first_at for s in seen] == [f"n58_http.c:{n}" for n in (4, 5, 6, 7, 8, 9)]


def test_statuses_come_from_the_compatibility_rows(tmp_path):
    report = check(collect(None, _source(tmp_path), "neoway"), "neoway", "onemo")
    status = {f.seen.form: f.status for f in report.findings}
    assert status["AT+CDNSGIP=<name>"] == NOT_CARRIED  # its row is "refused: `ERROR`"
    assert status["AT+QIACT=<p1>"] == UNKNOWN
    assert status["AT+CSQ"] == CARRIED  # a 3GPP basic: passed through
    tables = [t for t in load_tables().values() if t.host == "neoway" and t.module == "onemo"]
    for finding in report.findings:
        row = best_row(finding.seen, tables)
        if row is not None:
            assert finding.becomes == row.cells[1] and finding.detail == row.status


def test_the_row_chosen_agrees_with_the_enumerated_parameters(tmp_path):
    (tmp_path / "fw.c").write_text('a("AT+HTTPACTION=0\\r\\n"); b("AT+HTTPACTION=99,%d\\r\\n", n);')
    report = check(collect(None, tmp_path / "fw.c", "neoway"), "neoway", "onemo")
    first_cells = [best_row(f.seen, [t for t in load_tables().values() if t.name == "neoway-on-onemo-commands"]).cells[0]
                   for f in report.findings]
    assert "HTTPACTION=0`" in first_cells[0] and "99" in first_cells[1]


def test_a_raw_capture_counts_forms_and_the_urcs_the_firmware_consumed(tmp_path):
    (tmp_path / "host.bin").write_bytes(b'AT+HTTPPARA=url,"a.example/x"\rAT+HTTPACTION=0\rAT+HTTPACTION=0\r')
    (tmp_path / "module.bin").write_bytes(b"\r\nOK\r\n\r\n+HTTPRECV: 5,hello\r\n\r\n+HTTPCLOSED: HTTP Link Closed\r\n")
    seen = {s.form: s for s in collect(tmp_path / "host.bin", None, "neoway", tmp_path / "module.bin")}
    assert seen["AT+HTTPACTION=0"].count == 2
    assert {"+HTTPRECV", "+HTTPCLOSED"} <= set(seen)


def test_a_trace_is_read_as_firmware_bytes_and_bytes_to_the_firmware(tmp_path):
    records = [{"t": 0.0, "dir": "host->bridge", "data": "AT+MHTTPCREATE=\"http://a\"\r"},
               {"t": 0.1, "dir": "bridge->host", "data": "\r\n+MHTTPURC: \"err\",0,2\r\n"},
               {"t": 0.2, "dir": "bridge->module", "data": "AT+HTTPSETUP\r"}]
    path = tmp_path / "trace.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    forms = [s.form for s in collect(path, None, "onemo")]
    assert forms == ['AT+MHTTPCREATE=<host>', '+MHTTPURC "err"']


def test_strict_exits_non_zero_on_a_form_that_is_not_carried(tmp_path):
    (tmp_path / "host.bin").write_bytes(b'AT+CDNSGIP="a.example"\r')
    runner = CliRunner()
    lenient = runner.invoke(check_command, [str(tmp_path / "host.bin"), "--from", "neoway", "--to", "onemo"])
    strict = runner.invoke(check_command, [str(tmp_path / "host.bin"), "--from", "neoway", "--to", "onemo", "--strict"])
    assert lenient.exit_code == 0 and "[not carried] AT+CDNSGIP" in lenient.output
    assert strict.exit_code == 1


def test_every_format_carries_the_summary_and_every_row(tmp_path):
    source = _source(tmp_path)
    for fmt in ("text", "markdown", "json", "html"):
        out = tmp_path / f"report.{fmt}"
        result = CliRunner().invoke(check_command, ["--source", str(source), "--from", "neoway", "--to", "onemo",
                                                     "--format", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        text = out.read_text()
        assert "Not ready" in text
        assert all(t.split("=")[0] in text for t in TEMPLATES)
    parsed = json.loads((tmp_path / "report.json").read_text())
    assert parsed["forms"] == len(TEMPLATES) and parsed["counts"][UNKNOWN] == 1
