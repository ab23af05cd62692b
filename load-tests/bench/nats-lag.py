#!/usr/bin/env python3
"""Reads `allot events tail` lines (subject, a space, the event's JSON) from stdin and, at the
end, prints how long after its commit (`at`) each event reached this NATS subscriber:
count, p50, p99 and max in milliseconds. Same machine, so one clock."""
import datetime
import json
import sys

lags = []
for line in sys.stdin:
    now = datetime.datetime.now(datetime.timezone.utc)
    _, _, body = line.partition(" ")
    try:
        at = datetime.datetime.fromisoformat(json.loads(body)["at"].replace("Z", "+00:00"))
    except (ValueError, KeyError):
        continue
    lags.append((now - at).total_seconds() * 1000)
lags.sort()
if not lags:
    print("nats lag: no events")
    sys.exit(1)
pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]
print(f"nats lag: {len(lags)} events, p50 {pick(0.5):.0f} ms, p99 {pick(0.99):.0f} ms, max {lags[-1]:.0f} ms")
