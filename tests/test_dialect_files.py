"""The dialect files load, validate, and declare what the manuals declare."""
import pytest
import yaml

from bridge.at.dialect import DialectError, available, load, parse
from bridge.model import ErrorKind

ONEMO_COMMANDS = ["MHTTPCREATE", "MHTTPCFG", "MHTTPHEADER", "MHTTPCONTENT", "MHTTPREQUEST", "MHTTPREAD",
                  "MHTTPDEL", "MHTTPTERM", "MHTTPDLFILE", "MSSLCERTWR", "MSSLCFG"]
NEOWAY_COMMANDS = ["HTTPPARA", "HTTPSETUP", "HTTPACTION", "HTTPCLOSE", "HTTPGET", "HTTPGETSTAT", "HTTPSCFG",
                   "HTTPSPARA", "HTTPSSETUP", "HTTPSACTION", "HTTPSCLOSE", "HTTPSGET", "HTTPSGETSTAT",
                   "FILEHTTPACTION", "FILEHTTPSACTION"]
NEOWAY_URCS = ["+HTTPRECV", "+HTTPSRECV", "+HTTPCLOSED", "+HTTPSCLOSED", "+HTTPCLOSE", "+HTTPSCLOSE",
               "+HTTPGETRPT", "+HTTPSGETRPT", "+FILEHTTPSTAT"]


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
    assert spec.forms["test"].response == f"+{command}: ({low}-{high})"


def test_every_common_command_is_answered_by_the_basics():
    """common.yaml declares what bridge/roles/basics.py answers: no declared command without an answer,
    no answered command undeclared."""
    from bridge.roles.basics import _HANDLERS

    declared = {"" if name == "AT" else name for name in load("common").commands}
    assert declared == set(_HANDLERS)
