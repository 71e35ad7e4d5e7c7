"""The 3GPP / V.250 start-up commands public firmware sends, against both emulators over real
ptys.  Each answer is checked the way the firmware that sends it parses it:

- esp-ml307 (github 78/esp-ml307, src/at_modem.cc): AT+CGMM's answer line must start with the
  model ("ML307"); AT+CEREG=2 then AT+CEREG? -> arguments split at commas, the second one (an int)
  is <stat>, then "<tac>","<ci>",<AcT>; AT+COPS? needs >= 4 arguments and takes the third as the
  operator; AT+CFUN=4 / AT+CFUN=1 for flight mode.
- RT-Thread at_device class n58 (at_device_n58.c): "+CREG: %s" / "+CEREG: %s" compared with
  "0,1" or "0,5"; AT+COPS=3,0 then "+COPS: %*[^\\"]\\"%[^\\"]" (the quoted operator); "+CSQ: %s"
  not "99,99".
- 3GPP TS 27.007 for the rest (AT+CIMI 15 digits, +CFUN: <fun>, the registration formats).
"""
from __future__ import annotations

import re

import pytest

from support.emulated import emulator

DIALECTS = ["onemo", "neoway"]
FINAL = re.compile(r"^(OK|ERROR|\+CME ERROR: .*)$")


def info(answer: bytes) -> list[str]:
    """The information lines of an answer (no empty lines, no final result)."""
    return [line for line in answer.decode().split("\r\n") if line and not FINAL.match(line)]


def final(answer: bytes) -> str:
    return [line for line in answer.decode().split("\r\n") if FINAL.match(line)][-1]


def arguments(line: str, prefix: str) -> list[str]:
    """The comma-separated arguments after `prefix: `, quotes kept (as esp-ml307's AtUart splits)."""
    assert line.startswith(prefix + ": "), line
    return re.findall(r'"[^"]*"|[^,]+|(?<=,)(?=,|$)', line[len(prefix) + 2:])


def one(host, command: str, prefix: str) -> list[str]:
    answer = host.transact(command)
    assert final(answer) == "OK", answer
    lines = [line for line in info(answer) if line.startswith(prefix + ":")]
    assert len(lines) == 1, answer
    return arguments(lines[0], prefix)


def identity_value(line: str, command: str, dialect: str) -> str:
    """The value of an identification answer line.  OneMO: the plain 27.007 line (esp-ml307 needs
    AT+CGMM's line to start with "ML307").  Neoway N58 prefixes some ("+CGSN: <imei>", which
    RT-Thread's n58 class parses); its firmware takes either."""
    prefix = f"+{command}: "
    if dialect == "neoway" and line.startswith(prefix):
        return line[len(prefix):]
    return line


def is_error(answer: bytes) -> bool:
    return final(answer) == "ERROR" or final(answer).startswith("+CME ERROR:")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_identification_lines_as_firmware_reads_them(dialect, tmp_path):
    with emulator(dialect, tmp_path) as (host, runner):
        model = runner.side.profile.name
        def value(command: str) -> str:
            answer = host.transact(f"AT+{command}")
            assert final(answer) == "OK" and len(info(answer)) == 1, answer
            return identity_value(info(answer)[0], command, dialect)

        for command in ("CGMM", "GMM"):
            assert value(command).startswith(model)  # esp-ml307: find(model) == 0
        for command in ("CGMI", "GMI", "CGMR", "GMR"):
            assert value(command).strip()
        assert value("CGMR") == value("GMR")
        assert re.fullmatch(r"460\d{12}", value("CIMI"))  # MCC 460, 15 digits
        assert re.fullmatch(r"\d{15}", value("CGSN"))
        for command in ("AT+CGMM=?", "AT+CIMI=?", "AT+GMR=?"):
            assert final(host.transact(command)) == "OK"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_registration_read_forms_follow_the_set_level(dialect, tmp_path):
    with emulator(dialect, tmp_path) as (host, _):
        # RT-Thread n58: a fresh module answers "0,1" (or "0,5") to both.
        assert one(host, "AT+CREG?", "+CREG")[:2] in (["0", "1"], ["0", "5"])
        assert one(host, "AT+CEREG?", "+CEREG")[:2] in (["0", "1"], ["0", "5"])
        assert one(host, "AT+CGREG?", "+CGREG")[:2] in (["0", "1"], ["0", "5"])
        assert final(host.transact("AT+CEREG=2")) == "OK"
        fields = one(host, "AT+CEREG?", "+CEREG")  # esp-ml307: n, stat, "tac", "ci", AcT
        assert fields[0] == "2" and fields[1] in ("1", "5")
        assert re.fullmatch(r'"[0-9A-F]{4}"', fields[2]) and re.fullmatch(r'"[0-9A-F]{1,8}"', fields[3]), fields
        assert fields[4] == "7"  # E-UTRAN
        assert final(host.transact("AT+CREG=2")) == "OK"
        creg = one(host, "AT+CREG?", "+CREG")
        assert creg[0] == "2" and creg[1] in ("1", "5") and len(creg) >= 4
        assert final(host.transact("AT+CEREG=0")) == "OK"
        assert one(host, "AT+CEREG?", "+CEREG") in (["0", "1"], ["0", "5"])
        assert one(host, "AT+CREG?", "+CREG")[0] == "2"  # each command keeps its own level


@pytest.mark.parametrize("dialect", DIALECTS)
def test_levels_and_contexts_the_yaml_allows_are_accepted(dialect, tmp_path):
    with emulator(dialect, tmp_path) as (host, _):
        assert final(host.transact("AT+CEREG=4")) == "OK"
        assert one(host, "AT+CEREG?", "+CEREG")[0] == "4"
        assert final(host.transact("AT+CREG=3")) == "OK"
        assert final(host.transact('AT+CGDCONT=20,"IP","iot.example"')) == "OK"
        contexts = [arguments(line, "+CGDCONT") for line in info(host.transact("AT+CGDCONT?"))]
        assert ["20", '"IP"', '"iot.example"'] in [c[:3] for c in contexts]
        assert one(host, "AT+CEREG=?", "+CEREG") == ["(0-5)"]  # 27.007 10.1.22
        assert is_error(host.transact("AT+CEREG=6"))
        assert is_error(host.transact("AT+CGDCONT=25,\"IP\",\"x\""))


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("value", ["\u00b2", "1" * 5000, "-1", "1x"])
def test_malformed_numbers_get_the_dialects_error(dialect, value, tmp_path):
    with emulator(dialect, tmp_path) as (host, _):
        for command in (f"AT+CEREG={value}", f"AT+CFUN={value}", f"AT+CGDCONT={value},\"IP\"", f"AT+CGPADDR={value}",
                        f"AT+COPS={value}", f"AT+CMEE={value}"):
            answer = host.transact(command)
            expected = "ERROR" if dialect == "neoway" else "+CME ERROR:"
            assert final(answer).startswith(expected), (command[:40], answer[-80:])
        assert final(host.transact("AT")) == "OK"  # still serving


@pytest.mark.parametrize("dialect", DIALECTS)
def test_operator_read_set_and_formats(dialect, tmp_path):
    with emulator(dialect, tmp_path) as (host, _):
        assert final(host.transact("AT+COPS=3,0")) == "OK"  # RT-Thread n58 sends this first
        cops = one(host, "AT+COPS?", "+COPS")
        assert len(cops) >= 4 and cops[2].startswith('"') and "CHINA" in cops[2].upper(), cops  # esp-ml307: >= 4 args
        assert cops[3] == "7"
        assert final(host.transact("AT+COPS=3,2")) == "OK"
        assert one(host, "AT+COPS?", "+COPS")[1:3] == ["2", '"46000"']
        assert final(host.transact("AT+COPS=0")) == "OK"
        assert one(host, "AT+COPS?", "+COPS")[0] == "0"
        test = host.transact("AT+COPS=?")
        assert final(test) == "OK" and '"46000"' in info(test)[0] and info(test)[0].startswith("+COPS: (")
        assert final(host.transact("AT+COPS=2")) == "OK"  # deregister
        assert one(host, "AT+COPS?", "+COPS") == ["2"]
        assert one(host, "AT+CEREG?", "+CEREG")[1] == "0"
        assert final(host.transact("AT+COPS=0")) == "OK"
        assert one(host, "AT+CEREG?", "+CEREG")[1] in ("1", "5")
        assert is_error(host.transact('AT+COPS=1,2,"31026"'))  # a network that is not there


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cfun_takes_the_module_off_the_network_and_back(dialect, tmp_path):
    with emulator(dialect, tmp_path) as (host, _):
        assert one(host, "AT+CFUN?", "+CFUN") == ["1"]
        assert one(host, "AT+CFUN=?", "+CFUN")[0].startswith("(")
        assert final(host.transact("AT+CEREG=2")) == "OK"
        answer = host.transact("AT+CFUN=4")  # esp-ml307 SetFlightMode(true)
        assert final(answer) == "OK"
        host.expect(r"\r\n\+CEREG: 0\r\n")  # unsolicited: <stat> only, no <n>
        assert one(host, "AT+CFUN?", "+CFUN") == ["4"]
        assert one(host, "AT+CEREG?", "+CEREG")[:2] == ["2", "0"]
        assert one(host, "AT+CGATT?", "+CGATT") == ["0"]
        assert one(host, "AT+COPS?", "+COPS") == ["0"]
        assert one(host, "AT+CSQ", "+CSQ") == ["99", "99"]
        assert final(host.transact("AT+CFUN=1")) == "OK"
        urc = host.expect(r'\r\n\+CEREG: ([^\r]*)\r\n')
        fields = arguments("+CEREG: " + urc.group(1).decode(), "+CEREG")
        assert fields[0] in ("1", "5") and len(fields) == 4 and fields[3] == "7", fields
        assert one(host, "AT+CGATT?", "+CGATT") == ["1"]
        assert one(host, "AT+CSQ", "+CSQ") != ["99", "99"]
        assert is_error(host.transact("AT+CFUN=2"))  # not a level these modules have


@pytest.mark.parametrize("dialect", DIALECTS)
def test_no_unsolicited_registration_lines_at_level_0(dialect, tmp_path):
    with emulator(dialect, tmp_path) as (host, _):
        start = host.cursor
        assert final(host.transact("AT+CFUN=0")) == "OK"
        assert final(host.transact("AT+CFUN=1")) == "OK"
        assert final(host.transact("AT")) == "OK"
        assert b"REG:" not in bytes(host.seen[start:])


@pytest.mark.parametrize("host_dialect,module_dialect", [("onemo", "neoway"), ("neoway", "onemo")])
def test_through_the_bridge_the_module_answers(host_dialect, module_dialect, tmp_path):
    """Bridged, the 3GPP commands reach the module: its settings, its identity (in the form the
    firmware's own module writes it), its unsolicited registration lines.  The MODEL is the one the
    firmware was written for (the host dialect's default model; firmware picks its driver by it),
    the IMEI the module's."""
    from support.bridged import bridged
    from bridge.at.dialect import load

    with bridged(host_dialect, module_dialect, tmp_path) as (fw, _, module):
        answer = fw.transact("AT+CGMM")
        assert final(answer) == "OK"
        assert identity_value(info(answer)[0], "CGMM", host_dialect).startswith(load(host_dialect).model().name)
        answer = fw.transact("AT+CGSN")
        assert final(answer) == "OK"
        assert identity_value(info(answer)[0], "CGSN", host_dialect) == module.side.identity.imei
        assert final(fw.transact("AT+CEREG=2")) == "OK"
        assert module.side.identity.reg_report["CEREG"] == 2  # remembered by the module itself
        fields = one(fw, "AT+CEREG?", "+CEREG")
        assert fields[:2] in (["2", "1"], ["2", "5"]) and len(fields) == 5
        assert final(fw.transact("AT+COPS=3,0")) == "OK"
        assert "CHINA" in one(fw, "AT+COPS?", "+COPS")[2].upper()
        assert final(fw.transact("AT+CFUN=4")) == "OK"
        fw.expect(r"\r\n\+CEREG: 0\r\n")
        assert final(fw.transact("AT+CFUN=1")) == "OK"
        fw.expect(r'\r\n\+CEREG: [15],"[0-9A-F]+","[0-9A-F]+",7\r\n')
        assert re.fullmatch(r"460\d{12}", identity_value(info(fw.transact("AT+CIMI"))[0], "CIMI", host_dialect))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_serial_number_forms(dialect, tmp_path):
    """RT-Thread at_device ml307 sends AT+GSN=1 and parses "+GSN:%s"; 27.007 AT+CGSN=1 -> +CGSN: <imei>."""
    with emulator(dialect, tmp_path) as (host, _):
        imei = one(host, "AT+GSN=1", "+GSN")
        assert len(imei) == 1 and re.fullmatch(r"\d{15}", imei[0]), imei
        assert one(host, "AT+CGSN=1", "+CGSN") == imei
        assert info(host.transact("AT+GSN")) in ([imei[0]], [f"+GSN: {imei[0]}"])
        assert is_error(host.transact("AT+GSN=4"))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_pdp_context_activation(dialect, tmp_path):
    """RT-Thread at_device ml307's link check: AT+CGACT? -> "+CGACT: <cid>,<state>", 1 = active."""
    with emulator(dialect, tmp_path) as (host, _):
        assert one(host, "AT+CGACT?", "+CGACT") == ["1", "1"]
        assert one(host, "AT+CGACT=?", "+CGACT") == ["(0", "1)"]
        assert final(host.transact('AT+CGDCONT=2,"IP","iot"')) == "OK"
        states = [arguments(line, "+CGACT") for line in info(host.transact("AT+CGACT?"))]
        assert states == [["1", "1"], ["2", "0"]]
        assert final(host.transact("AT+CGACT=1,2")) == "OK"
        assert final(host.transact("AT+CGACT=0,1")) == "OK"
        states = [arguments(line, "+CGACT") for line in info(host.transact("AT+CGACT?"))]
        assert states == [["1", "0"], ["2", "1"]]
        assert is_error(host.transact("AT+CGACT=1,9"))  # no such context
        assert final(host.transact("AT+CFUN=0")) == "OK"
        assert [arguments(line, "+CGACT")[1] for line in info(host.transact("AT+CGACT?"))] == ["0", "0"]
        assert is_error(host.transact("AT+CGACT=1,1"))  # detached: nothing to activate in
