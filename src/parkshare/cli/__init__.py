"""The ``parkshare`` command: wires commands to services, nothing else."""

from parkshare.cli import booking, registry  # noqa: F401  (registers the commands)
from parkshare.cli.common import app

__all__ = ["app"]
