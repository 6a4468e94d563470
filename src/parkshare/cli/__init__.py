"""The ``parkshare`` command: wires commands to services, nothing else."""

from parkshare.cli import accounts, booking, ingest, interop, mqtt, registry, simulate  # noqa: F401
from parkshare.cli.common import app

__all__ = ["app"]
