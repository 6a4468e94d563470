"""Logging that never writes a plate in full.

Plates reach logs in places we do not write ourselves (the access log prints request paths,
percent-encoded). Every handler gets ``PlateFilter``, which masks anything shaped like a
Chinese plate in the message and its arguments, decoded or not.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import unquote

import uvicorn.config

from parkshare.plates import PROVINCES, mask_plate

PLATE_LIKE = re.compile(f"[{''.join(sorted(PROVINCES))}][A-Za-z][A-Za-z0-9]{{4,6}}[挂学警港澳领]?")


def redact(text: str) -> str:
    decoded = unquote(text) if "%" in text else text
    masked = PLATE_LIKE.sub(lambda match: mask_plate(match.group()), decoded)
    return masked if masked != decoded else text


class PlateFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def log_config() -> dict[str, Any]:
    """Uvicorn's logging configuration, plus our loggers, every handler filtered."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {"plates": {"()": "parkshare.logs.PlateFilter"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["plates"]
    config["loggers"]["parkshare"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
