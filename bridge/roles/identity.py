"""The state the 3GPP basics answer from (bridge/roles/basics.py)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Identity:
    """What ATI, AT+CGMR, AT+CGSN and the network queries answer: the emulated module and its SIM
    and network (a China Mobile-like LTE network).  The basics (bridge/roles/basics.py) keep it current."""

    manufacturer: str = "atbridge"
    model: str = ""
    revision: str = "atbridge-emulator-0.1"
    imei: str = "861234567890123"
    serial: str = ""           # bare AT+CGSN where the model answers a serial number, not the IMEI (ML307C)
    ip: str = "10.0.0.2"
    csq: tuple[int, int] = (25, 99)
    registered: bool = True   # follows `fun`: AT+CFUN=0/4 deregisters, AT+CFUN=1 registers again
    attached: bool = True     # PS attach (AT+CGATT); follows `fun` too
    pdp: dict[int, tuple[str, str]] = field(default_factory=lambda: {1: ("IP", "cmnet")})
    pdp_active: set[int] = field(default_factory=lambda: {1})  # AT+CGACT: contexts activated (while attached)
    iccid: str = "89860012345678901234"       # SIM ICCID, 20 digits (898600: China Mobile)
    imsi: str = "460001234567890"              # AT+CIMI: MCC 460, MNC 00
    operator: str = "CHINA MOBILE"             # AT+COPS? long alphanumeric name (format 0)
    operator_short: str = "CMCC"               # format 1
    plmn: str = "46000"                        # format 2 (numeric MCC+MNC)
    act: int = 7                               # access technology of the serving cell (7: E-UTRAN)
    tac: str = "5A1F"                          # tracking/location area code, 4 hex digits
    cell_id: str = "0C8A2B01"                  # cell id, 8 hex digits (28-bit E-UTRAN cell)
    fun: int = 1                               # AT+CFUN level: 0 minimum, 1 full, 4 flight mode
    cops_mode: int = 0                         # AT+COPS <mode>: 0 automatic
    cops_format: int = 0                       # AT+COPS <format>: 0 long, 1 short, 2 numeric
    # Unsolicited report level <n> per registration command ("CREG", "CGREG", "CEREG"), set by
    # AT+CREG=<n> etc.; the read form starts with it and n > 0 sends +CEREG: <stat>... on changes.
    reg_report: dict[str, int] = field(default_factory=lambda: {"CREG": 0, "CGREG": 0, "CEREG": 0})
    # The network's time (AT+CCLK?): wall-clock seconds since the epoch, injectable so tests can fix
    # it (the module side itself only ever gets a monotonic `now`), and the network's time zone in
    # quarters of an hour east of GMT (China Standard Time: +32).
    clock: Callable[[], float] = time.time
    time_zone: int = 32
