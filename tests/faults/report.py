"""What a campaign measured, and the suite's one-line report (also ``test-output/faults.json``)."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.faults.checks import Verdict

RECOVERY_LIMIT = 5.0  # seconds from a server being back to the service answering again
MIN_FAULTS = 20
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "faults.json"


@dataclass
class Fault:
    kind: str  # e.g. "postgres stop", "api kill", "broker SIGKILL"
    down: float  # seconds from the fault to the server being back
    recovered: dict[str, float]  # path ("http", "mqtt") → seconds from back to an answer
    started: float = 0.0  # seconds into the campaign

    @property
    def slowest(self) -> float:
        return max(self.recovered.values(), default=0.0)


@dataclass
class Campaign:
    database: str  # "postgresql" or "sqlite"
    faults: list[Fault] = field(default_factory=list)
    verdict: Verdict = field(default_factory=Verdict)
    seconds: float = 0.0
    retries: int = 0  # requests sent again after an error
    uncertain: int = 0  # of which the first copy may have been handled (answer lost)
    in_doubt: int = 0  # writes committed whose answer was lost: settled by the retry
    mqtt_bounced: int = 0  # PUBACKed "no matching subscribers", published again
    mqtt_resent: int = 0  # published again after a broker SIGKILL
    errors: list[str] = field(default_factory=list)  # traffic threads that died

    def late(self) -> list[str]:
        return [
            f"{f.kind} at {f.started:.1f} s: {path} answered after {seconds:.2f} s"
            for f in self.faults
            for path, seconds in f.recovered.items()
            if not seconds <= RECOVERY_LIMIT
        ]


# Campaigns of this session, in the order they ran (filled by the fixtures in conftest).
CAMPAIGNS: list[Campaign] = []


def line(campaigns: list[Campaign]) -> str:
    faults = [f for c in campaigns for f in c.faults]
    kinds = Counter(f.kind for f in faults)
    verdicts = [c.verdict for c in campaigns]
    bookings = sum(v.acknowledged_bookings for v in verdicts)
    events = sum(v.acknowledged_events for v in verdicts)
    slowest = max((f.slowest for f in faults), default=0.0)
    return (
        f"fault injection ({' + '.join(c.database for c in campaigns)}): {len(faults)} faults"
        f" ({', '.join(f'{n} {kind}' for kind, n in kinds.items())}),"
        f" {bookings + events:,} acknowledged writes ({bookings:,} bookings, {events:,} gate"
        f" events), lost {sum(len(v.lost) for v in verdicts)},"
        f" doubled {sum(len(v.doubled) for v in verdicts)},"
        f" drift {sum(len(v.drift) for v in verdicts)},"
        f" repeats answered differently {sum(len(v.differing) for v in verdicts)}"
        f" ({sum(c.in_doubt for c in campaigns)} in-doubt writes settled by their retry),"
        f" answered again within max {slowest:.2f} s"
        f" in {sum(c.seconds for c in campaigns):.0f} s"
    )


def write_json(campaigns: list[Campaign]) -> Path:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "line": line(campaigns),
        "faults": sum(len(c.faults) for c in campaigns),
        "recovery_limit_s": RECOVERY_LIMIT,
        "campaigns": [_plain(asdict(c)) for c in campaigns],
    }
    OUTPUT.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    return OUTPUT


def _plain(value: object) -> object:
    """JSON has no infinity: a path that never answered is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return round(value, 3) if isinstance(value, float) else value
