"""The ``parkshare`` command: wires commands to services, nothing else."""

from parkshare.cli import (  # noqa: F401
    accounts,
    booking,
    ingest,
    interop,
    mqtt,
    ops,
    registry,
    simulate,
)
from parkshare.cli.common import app

__all__ = ["app"]
