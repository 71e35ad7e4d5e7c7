"""bridge.at.params.check_value: the one check of a value against its ParamSpec, both dialects."""
from __future__ import annotations

import pytest

from bridge.at.dialect import ParamSpec
from bridge.at.frames import Param
from bridge.at.params import ParamError, check_value, read_int

PORT = ParamSpec("port", type="int", range=(1, 65535))
MODE = ParamSpec("mode", type="int", values={"0": "GET", "1": "HEAD"})
URL = ParamSpec("url", quoted="required", max_len=6)


@pytest.mark.parametrize("param,spec,value", [
    (Param("080", False), PORT, 80), (Param("1", False), MODE, 1), (Param("a/ü", True), URL, "a/ü"),
])
def test_values_that_fit(param, spec, value):
    assert check_value(param, spec, max_digits=10) == value


@pytest.mark.parametrize("param,spec", [
    (Param("0", False), PORT), (Param("65536", False), PORT), (Param("2", False), MODE),
    (Param("８０", False), PORT),  # fullwidth digits: int() takes them, a module does not
    (Param("-1", False), PORT), (Param("", False), PORT), (Param("1" * 11, False), PORT),
    (Param("a", False), URL), (Param("abcdefg", True), URL),
    (Param("aaaaaü", True), URL),  # 6 characters, 7 bytes: lengths are in bytes
])
def test_values_that_do_not(param, spec):
    with pytest.raises(ParamError):
        check_value(param, spec, max_digits=10)


def test_the_longest_number_is_the_dialects():
    assert read_int("123456789", max_digits=9) == 123456789
    with pytest.raises(ParamError):
        read_int("1234567890", max_digits=9)
