"""`python -m cli` runs msctl."""

from cli.main import run

run()
