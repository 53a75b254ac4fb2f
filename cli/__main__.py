"""`python -m ms_cli` runs msctl."""

from .main import run

run()
