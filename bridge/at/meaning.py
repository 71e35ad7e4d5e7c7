"""The one enum mapper: what a dialect's enum value means in the request model, both ways.

An enum value in `dialects/*.yaml` may say what it stands for with `means:` (dialects/SCHEMA.md):
a member of a model enum ("Method.HEAD", "VerifyMode.SERVER", "TlsVersion.TLS1_2"), a YAML
boolean (on/off values), or one word of :data:`WORDS` for what the model has no type of its own for.  Code asks for the token
of a meaning (``dialect.means("authmode").token(VerifyMode.SERVER)`` -> "1") or the meaning of a
token, and never spells a dialect's codes itself.
"""
from __future__ import annotations

import enum
from typing import Any, Iterator, Optional, Protocol, Union

from bridge.model import Method, TlsVersion, VerifyMode

Meaning = Union[enum.Enum, bool, str]

# The model types a `means:` may name, as "Type.MEMBER".
MODEL_TYPES: dict[str, type[enum.Enum]] = {"Method": Method, "VerifyMode": VerifyMode, "TlsVersion": TlsVersion}

# The words a `means:` may use where the model has no type (each with what it says).
WORDS: dict[str, str] = {
    "raw_request": "the host writes the whole HTTP request itself (Neoway OPEN_MODE)",
    "raw": "the response comes unframed, as the server sent it",
    "framed": "the response comes in length-framed pieces",
    "failed": "the operation failed",
    "succeeded": "the operation succeeded",
    "unknown": "no result yet",
    "downloaded": "download succeeded",
    "download_failed": "download failed",
    "decompressed": "decompression succeeded",
    "decompress_failed": "decompression failed",
    "verified": "verification succeeded",
    "verify_failed": "verification failed",
    "none": "nothing (no decompression, no authentication)",
    "zip": "zip decompression",
    "pap": "PAP authentication",
    "chap": "CHAP authentication",
    "last": "the last piece of input",
    "more": "more input follows",
    "clear": "clear what was input so far",
    "overwrite": "write the file from its start",
    "append": "write at the end of the file",
    "ascii": "data as it is",
    "hex": "data as two hex digits per byte",
    "escaped": "data with backslash escapes",
    "md5": "an MD5 digest",
    "serial_number": "the product serial number",
    "imei": "the IMEI",
    "imeisv": "the IMEI and software version",
    "software_version": "the software version number",
    "all_versions": "every TLS version the module has (no pin)",
    "network_error": "the network is unusable (no data link)",
    "name_unknown": "the name does not resolve",
}


class Checker(Protocol):
    """What the loader's validation context gives (bridge/at/dialect.py `_Ctx`)."""

    def fail(self, path: str, message: str) -> Exception: ...
    def mapping(self, node: Any, path: str, required: bool = True) -> dict: ...
    def text(self, node: Any, path: str, required: bool = True) -> Optional[str]: ...


class MeaningError(ValueError):
    """A `means:` that is not a model member, a boolean or a known word; or a lookup that fails."""


def parse_meaning(node: Any) -> Meaning:
    """A `means:` value of the YAML as a model value; raises MeaningError saying what is wrong."""
    if isinstance(node, bool):
        return node
    if not isinstance(node, str):
        raise MeaningError(f"expected a quoted string or a boolean, got {node!r}")
    type_name, dot, member = node.partition(".")
    if dot:
        if type_name not in MODEL_TYPES:
            raise MeaningError(f"{node!r}: no model type {type_name!r}; known: {', '.join(MODEL_TYPES)}")
        try:
            return MODEL_TYPES[type_name][member]
        except KeyError:
            raise MeaningError(f"{node!r}: {type_name} has no member {member!r}") from None
    if node not in WORDS:
        raise MeaningError(f"{node!r} is no model member (Type.MEMBER), boolean or known word ({', '.join(WORDS)})")
    return node


class EnumMeanings:
    """One enum's meanings: token -> meaning and meaning -> token."""

    def __init__(self, where: str, meanings: dict[str, Meaning]) -> None:
        self.where = where  # "dialects/neoway.yaml: enums.authmode", for messages
        self._by_token = dict(meanings)
        self._by_meaning: dict[tuple[type, Meaning], str] = {}
        for token, meaning in meanings.items():
            key = (type(meaning), meaning)
            if key in self._by_meaning:
                raise MeaningError(f"{where}: {token!r} and {self._by_meaning[key]!r} both mean {meaning!r}")
            self._by_meaning[key] = token

    def token(self, meaning: Meaning) -> str:
        """The token that means `meaning`; raises MeaningError if none does."""
        try:
            return self._by_meaning[(type(meaning), meaning)]
        except KeyError:
            raise MeaningError(f"{self.where}: no value means {meaning!r}") from None

    def find(self, meaning: Meaning) -> Optional[str]:
        """The token that means `meaning`, or None."""
        return self._by_meaning.get((type(meaning), meaning))

    def meaning(self, token: str, default: Optional[Meaning] = None) -> Optional[Meaning]:
        """What `token` means; `default` for a token without a meaning."""
        return self._by_token.get(token, default)

    def of_type(self, kind: type) -> dict[str, Any]:
        """token -> meaning for the meanings of type `kind` (e.g. Method)."""
        return {token: value for token, value in self._by_token.items() if isinstance(value, kind)}

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_token)

    def __contains__(self, token: object) -> bool:
        return token in self._by_token

    def __bool__(self) -> bool:
        return bool(self._by_token)


_DESCRIBED = ("text", "text_zh", "means")


def parse_enum(ctx: Checker, node: Any, path: str) -> tuple[dict[str, str], dict[str, Meaning]]:
    """An enum's texts, and what its values mean (`means:` of a value written as a mapping)."""
    texts, means = {}, {}
    for key, value in ctx.mapping(node, path).items():
        if not isinstance(value, dict):
            texts[key] = str(ctx.text(value, f"{path}.{key}"))
            continue
        unknown = sorted(set(value) - set(_DESCRIBED))
        if unknown:
            raise ctx.fail(f"{path}.{key}", f"unknown keys {unknown}; a value takes {', '.join(_DESCRIBED)}")
        texts[key] = str(ctx.text(value.get("text", ""), f"{path}.{key}.text"))
        if "means" in value:
            try:
                means[key] = parse_meaning(value["means"])
            except MeaningError as exc:
                raise ctx.fail(f"{path}.{key}.means", str(exc)) from None
    try:
        EnumMeanings(path, means)  # one value per meaning, so that the mapping goes both ways
    except MeaningError as exc:
        raise ctx.fail(path, str(exc).partition(": ")[2]) from None
    return texts, means
