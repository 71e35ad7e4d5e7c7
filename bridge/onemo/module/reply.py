"""What every OneMO command handler (bringup, config, http, tls) uses of the module side: the
answers, the dialect and model they follow, a refusal turned into the answer, and data typed in
the command or after the prompt.  Each handler adds what else it reads in its own `Side`."""
from __future__ import annotations

from typing import Callable, Optional, Protocol

from bridge.at.dialect import Dialect, ModelProfile, ParamSpec
from bridge.roles.reply import Reply


class CommandReply(Reply, Protocol):
    dialect: Dialect
    profile: ModelProfile

    def guard(self, function: Callable[..., None], *args: object) -> None:
        """Run `function`; a refusal or a bug becomes the command's error answer."""

    def inline_data(self, text: str, spec: ParamSpec, input_format: int, length: Optional[int]) -> bytes:
        """Data given inside the command, decoded and checked."""

    def take_data(self, length: Optional[int], max_len: int, timeout: Optional[float], now: float,
                  use: Callable[[bytes], None], partial: bool = True) -> None:
        """Prompt, read raw data and hand it to `use`."""

    def default_input_timeout(self) -> float: ...
