"""``python -m parkshare`` runs the command line."""

from parkshare.cli import app

app()
