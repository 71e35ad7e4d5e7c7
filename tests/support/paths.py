"""Where the tests' files are, whichever folder a test lives in."""
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent
DATA = TESTS / "data"  # the manuals' examples as data
FIRMWARE = TESTS / "firmware"  # the public firmware corpus
