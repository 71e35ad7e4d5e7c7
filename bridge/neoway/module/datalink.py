"""The data link (PPP/PDP) that every HTTP command needs: AT+XIIC on N58, AT$MYNETACT on N720.

It starts down, as on a module fresh from power-up.  It is up once brought up and while the
module is attached (AT+CGATT=0 takes it down with the attachment).

AT$MYNETACT is not in neoway.yaml (the N720 profile only names it); it is answered in the form
N720 firmware uses: AT$MYNETACT=<channel>,<action> (action 1 up, 0 down) and
AT$MYNETACT? -> $MYNETACT: <channel>,<state>,"<ip>".
"""
from __future__ import annotations

from bridge.at.frames import Command
from bridge.roles.module import Identity
from bridge.neoway.params import ParamError, parse_int

NO_ADDRESS = "0.0.0.0"
XIIC_SPACES = "    "          # real N58 answers "+XIIC:    1,<ip>"
MYNETACT = "$MYNETACT"
MYNETACT_CHANNELS = (0, 5)    # N720 channels (contexts) 0..5


class DataLink:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.requested = False
        self.channel = 0

    @property
    def up(self) -> bool:
        return self.requested and self.identity.attached

    @property
    def address(self) -> str:
        return self.identity.ip if self.up else NO_ADDRESS

    def xiic_read(self) -> str:
        return f"+XIIC:{XIIC_SPACES}{1 if self.up else 0},{self.address}"

    def mynetact(self, command: Command) -> list[str]:
        """The information lines of an AT$MYNETACT command; raises ParamError."""
        if command.form == "read":
            return [f'{MYNETACT}: {self.channel},{1 if self.up else 0},"{self.address}"']
        if command.form == "test":
            low, high = MYNETACT_CHANNELS
            return [f"{MYNETACT}: ({low}-{high}),(0,1)"]
        if command.form != "set" or len(command.params) != 2:
            raise ParamError("AT$MYNETACT=<channel>,<action>")
        self.channel = parse_int(command.params[0].text, *MYNETACT_CHANNELS)
        self.requested = parse_int(command.params[1].text, 0, 1) == 1
        return []
