"""The dialect files load, validate, and declare what the manuals declare."""
from importlib import resources

import pytest
import yaml

from bridge.at.dialect import DialectError, available, load, parse
from bridge.model import ErrorKind
from support.manual_names import NEOWAY_COMMANDS, NEOWAY_URCS, ONEMO_COMMANDS


def test_both_dialects_are_shipped():
    assert available() == ["neoway", "onemo"]


def test_onemo_declares_the_manual():
    onemo = load("onemo")
    assert set(ONEMO_COMMANDS) <= set(onemo.commands)
    assert set(onemo.frames["+MHTTPURC"].variants) == {"header", "content", "err", "recv", "ind", "download"}
    assert len(onemo.commands["MHTTPCFG"].settings) == 9
    assert {str(c) for c in [3, 23, 50, *range(650, 659)]} <= set(onemo.sync_errors)
    assert {str(c) for c in [*range(1, 11), 255]} <= set(onemo.async_errors)
    assert onemo.model("MN319").get("instances") == 2 and onemo.model().get("instances") == 4
    assert onemo.model("MN318").get("ssl") is False


def test_neoway_declares_the_chapter():
    neoway = load("neoway")
    assert set(NEOWAY_COMMANDS) <= set(neoway.commands)
    assert set(NEOWAY_URCS) <= set(neoway.frames)
    assert neoway.commands["HTTPACTION"].timeout == 30


@pytest.mark.parametrize("name", ["onemo", "neoway"])
def test_every_error_kind_maps_both_ways(name):
    dialect = load(name)
    for channel, table in (("sync", dialect.sync_errors), ("async", dialect.async_errors)):
        for kind in ErrorKind:
            token = dialect.report_token(channel, kind)
            assert token in table  # kind -> a code the dialect has
        for token, spec in table.items():
            assert dialect.error_kind(channel, token) is spec.kind  # code -> its kind


def test_a_fault_names_file_key_path_and_problem():
    data = yaml.safe_load('commands: {X: {forms: {set: {params: [{name: "a", range: [5, 1]}]}}}}')
    with pytest.raises(DialectError, match=r"bad\.yaml: commands\.X\.forms\.set\.params\[0\]\.range: low 5 is above high 1"):
        parse("bad", data, "bad.yaml")


def test_an_unquoted_yaml_token_is_caught():
    data = yaml.safe_load("enums: {onoff: {on: 'enabled'}}")  # YAML 1.1 reads `on` as True
    with pytest.raises(DialectError, match=r"enums.onoff: key True must be a quoted string"):
        parse("bad", data, "bad.yaml")


def test_an_unknown_error_kind_is_caught():
    data = yaml.safe_load('errors: {sync: {"1": {kind: "exploded"}}}')
    with pytest.raises(DialectError, match=r"errors\.sync\.1\.kind: 'exploded' is not an error kind"):
        parse("bad", data, "bad.yaml")


def test_unknown_dialect():
    with pytest.raises(DialectError, match="no such dialect"):
        load("quectel")


STARTUP_BASICS = ["CGMI", "GMI", "CGMM", "GMM", "CGMR", "GMR", "CGSN", "CIMI", "CFUN", "COPS", "CREG", "CGREG", "CEREG"]


@pytest.mark.parametrize("name", ["onemo", "neoway"])
def test_common_declares_the_startup_basics(name):
    spec = load(name)
    assert set(STARTUP_BASICS) <= set(spec.commands)
    for prefix in ("+CFUN", "+COPS", "+CGREG", "+CEREG", "+CREG"):
        assert prefix in spec.frames


@pytest.mark.parametrize("command", ["CMEE", "CREG", "CGREG", "CEREG"])
def test_common_test_answers_agree_with_the_set_ranges(command):
    """The literal test answer (what the emulators print) names the range the set form accepts."""
    spec = load("common").command(command)
    low, high = spec.forms["set"].params[0].range
    assert spec.forms["test"].answer == f"+{command}: ({low}-{high})"


def test_every_common_command_is_answered_by_the_basics():
    """common.yaml declares what bridge/roles/basics.py answers: no declared command without an answer,
    no answered command undeclared."""
    from bridge.roles.basics import _HANDLERS

    declared = {"" if name == "AT" else name for name in load("common").commands}
    assert declared == set(_HANDLERS)


# ---- the schema's meanings, families and exact answers (dialects/SCHEMA.md) -------------------


@pytest.mark.parametrize("source, complaint", [
    ('enums: {m: {"1": {text: "GET", means: "Method.FETCH"}}}', r"enums\.m\.1\.means: 'Method\.FETCH': Method has no member 'FETCH'"),
    ('enums: {m: {"1": {text: "x", means: "Colour.RED"}}}', r"enums\.m\.1\.means: 'Colour\.RED': no model type 'Colour'"),
    ('enums: {m: {"1": {text: "x", means: "sideways"}}}', r"enums\.m\.1\.means: 'sideways' is no model member"),
    ('enums: {m: {"1": {text: "a", means: true}, "2": {text: "b", means: true}}}', r"enums\.m: '2' and '1' both mean True|enums\.m: '1' and '2' both mean True"),
    ('commands: {X: {forms: {test: {answer: "+Y: (0-1)", responses: ["+X"]}}}}', r"commands\.X\.forms\.test\.answer: line '\+Y: \(0-1\)' does not start with a prefix of `responses`"),
    ('commands: {X: {forms: {test: {answer: "0-1 and more prose"}}}}', r"commands\.X\.forms\.test\.answer: line '0-1 and more prose'"),
    ('commands: {X: {forms: {execute: {}}, error_means: "+X: FAIL"}}', r"commands\.X\.error_means: '\+X: FAIL' is not declared"),
    ('commands: {X: {forms: {execute: {}}}}\nfamilies: {commands: {"X": "XS"}}', r"families\.commands\.X: 'XS' is not declared"),
    ('urcs: {"+A": {fields: ["t"]}, "+AS": {fields: ["t"]}}\nfamilies: {lines: {"+A": "+AS"}, tokens: {"+A: x": "+AS: y"}}',
     r"families\.tokens\.\+A: x: '\+A: x' is not declared"),
    ('families: {verbs: {}}', r"families: unknown keys \['verbs'\]"),
])
def test_a_fault_in_the_new_keys_names_file_key_path_and_problem(source, complaint):
    with pytest.raises(DialectError, match=r"bad\.yaml: " + complaint):
        parse("bad", yaml.safe_load(source), "bad.yaml")


def test_meanings_map_both_ways():
    from bridge.model import Method, VerifyMode

    neoway, onemo = load("neoway"), load("onemo")
    assert neoway.means("action_mode").token(Method.HEAD) == "1" and neoway.means("action_mode").token("raw_request") == "99"
    assert onemo.means("method").token(Method.HEAD) == "5" and onemo.means("method").meaning("3") is Method.PUT
    for dialect, enum in ((neoway, "authmode"), (onemo, "cert_verify")):  # both manuals: 0 none, 1 server, 2 mutual
        assert [dialect.means(enum).meaning(code) for code in ("0", "1", "2")] == list(VerifyMode)
    assert neoway.means("keepalive").token(True) == "1" and neoway.means("onoff").meaning("0") is False  # common's too
    with pytest.raises(DialectError, match=r"dialects/neoway\.yaml: enums\.post_type: .*`means`"):
        neoway.means("post_type")


def test_every_neoway_http_command_has_its_https_twin():
    neoway = load("neoway")
    families = neoway.families
    assert {families.command(name, True) for name in families.commands} == {
        "HTTPSPARA", "HTTPSSETUP", "HTTPSACTION", "HTTPSCLOSE", "HTTPSGET", "HTTPSGETSTAT", "FILEHTTPSACTION"}
    assert families.token("+HTTPCLOSED: HTTP Link Closed", True) == "+HTTPSCLOSED: HTTPS Link Closed"
    assert families.token("+HTTPSCLOSED: HTTPS Link Closed", False) == "+HTTPCLOSED: HTTP Link Closed"
    assert families.token("+HTTPGETRPT: 31", True) == "+HTTPSGETRPT: 31"
    assert families.token("+HTTPSEND: ERROR", True) is None  # 9.13: HTTPSACTION knows only OK / ERROR
    assert families.token("+FILEHTTPSTAT: 0,1413", True) == "+FILEHTTPSTAT: 0,1413"  # no family of its own
    assert families.plain_line("+HTTPSSETUP") == "+HTTPSETUP" and families.secure_of("HTTPSGET") is True
    assert not load("onemo").families


def test_tls_versions_are_meanings_of_both_version_enums():
    """Neoway 9.10 sslversion 0-3 and OneMO MSSLCFG "version" 0-3 name the same versions; OneMO's
    255 pins none.  A request's version is read whichever way it is written."""
    from bridge.model import TlsVersion

    pinned = [TlsVersion.SSL3, TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_2]
    for dialect, enum in ((load("neoway"), "sslversion"), (load("onemo"), "ssl_version")):
        assert [dialect.means(enum).meaning(code) for code in ("0", "1", "2", "3")] == pinned
    assert load("onemo").means("ssl_version").meaning("255") == "all_versions"
    assert [TlsVersion.named(text) for text in ("TLSv1.2", "TLS1.2", "tls 1.2", "TLSv1", "SSL3.0", "TLS1.4", "")] == [
        TlsVersion.TLS1_2, TlsVersion.TLS1_2, TlsVersion.TLS1_2, TlsVersion.TLS1_0, TlsVersion.SSL3, None, None]
    assert TlsVersion.newest([TlsVersion.TLS1_1, TlsVersion.TLS1_2, TlsVersion.SSL3]) is TlsVersion.TLS1_2


def test_an_https_report_spelled_out_in_families_has_its_http_twins_kind():
    """9.14: "+HTTPSCLOSE: HTTPS Link Closed" is not under errors.async; its HTTP twin is (cancelled)."""
    from bridge.at.errors import ErrorTable
    from bridge.at.frames import Info

    table = ErrorTable(load("neoway"))

    def kind(line: bytes):
        return table.line_kind(Info(line.decode().partition(":")[0], raw=line))

    assert kind(b"+HTTPSCLOSE: HTTPS Link Closed") is ErrorKind.CANCELLED
    assert kind(b"+HTTPCLOSE: HTTP Link Closed") is ErrorKind.CANCELLED
    assert kind(b"+HTTPSCLOSE: ERROR") is ErrorKind.UNKNOWN  # its HTTP twin's, by the shared prefix
    assert kind(b"+HTTPSCLOSED: HTTPS Link Closed") is ErrorKind.CONNECTION_CLOSED


def test_dialect_files_are_read_by_a_safe_loader_as_safe_load_reads_them():
    """The loader constructs plain data only (a Python tag is refused, not run) and reads every
    shipped file exactly as yaml.safe_load does -- YAML 1.1's `on` and `012` included."""
    from bridge.at import dialect

    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.load("x: !!python/object/apply:os.getpid []", Loader=dialect._SAFE_LOADER)
    assert yaml.load("a: on\nb: 012\nc: '012'", Loader=dialect._SAFE_LOADER) == {"a": True, "b": 10, "c": "012"}
    for name in ["common", *available()]:
        text = (resources.files("bridge.dialects") / f"{name}.yaml").read_text(encoding="utf-8")
        assert yaml.load(text, Loader=dialect._SAFE_LOADER) == yaml.safe_load(text)
