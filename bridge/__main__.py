"""`python -m bridge` is the `atbridge` command."""
from bridge.app.cli import main

main()
