#!/usr/bin/env python3
"""Verify an `mdr audit export` file offline, with the Python 3 standard library only.

    python3 ops/verify-audit-export.py EXPORT.jsonl

For every event line it recomputes the hash exactly as PostgreSQL computed it when the event was appended:

    canonical(n) = PostgreSQL's jsonb text of
                   [tenant, position, stream, version, event_id, type, schema_version, recorded_at_us, data, metadata]
    hash(n)      = SHA-256( hash(n-1) || SHA-256( UTF-8 bytes of canonical(n) ) )

starting from the header's anchor_hash (32 zero bytes before position 1). It checks that positions run without a gap
from the header's first_position to its last_position, that each prev_hash is the hash before it, and that the last
hash is the header's last_hash. An event whose content a retention cut removed (format /2) is a line with
"removed": true and its digest, SHA-256(canonical(n)), which stands in for the content: hash(n) = SHA-256(hash(n-1) ||
digest). Prints "OK: ..." and exits 0, or prints the first broken line and exits 1. See docs/audit.md.
"""
import datetime
import hashlib
import json
import sys

FORMATS = ("mdr-audit-export/1", "mdr-audit-export/2")


class Number(str):
    """A JSON number kept as the exact text it was written in (PostgreSQL's numeric output)."""


def pg_jsonb_text(value):
    """The text PostgreSQL's jsonb output gives for a value: object keys shorter-first then bytewise,
    ", " between items, ": " after keys, strings escaped as PostgreSQL does (non-ASCII kept as is)."""
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(pg_jsonb_text(item) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode("utf-8")), k.encode("utf-8")))
        return "{" + ", ".join(pg_jsonb_text(k) + ": " + pg_jsonb_text(value[k]) for k in keys) + "}"
    raise ValueError("unexpected JSON value %r" % (value,))


def parse(line):
    return json.loads(line, parse_int=Number, parse_float=Number)


def utc_micros_text(micros):
    seconds, fraction = divmod(micros, 1_000_000)
    moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % fraction


def verify(path):
    with open(path, encoding="utf-8") as lines:
        header_text = lines.readline()
        if not header_text.strip():
            return 1, "BROKEN line 1: the file is empty (no header)"
        try:
            header = parse(header_text)
        except ValueError as error:
            return 1, "BROKEN line 1: the header is not JSON (%s)" % error
        if not isinstance(header, dict) or header.get("format") not in FORMATS:
            return 1, "BROKEN line 1: not an %s header" % " or ".join(FORMATS)
        allows_removed = header["format"] == FORMATS[1]
        removed = 0
        tenant = header["tenant"]
        count = int(header["event_count"])
        first = int(header["first_position"]) if header["first_position"] is not None else None
        last = int(header["last_position"]) if header["last_position"] is not None else None
        previous = bytes.fromhex(header["anchor_hash"]) if header["anchor_hash"] is not None else None
        expected_position = first
        seen = 0
        line_number = 1
        for text in lines:
            line_number += 1
            if not text.strip():
                return 1, "BROKEN line %d: empty line" % line_number
            try:
                event = parse(text)
                position = int(event["position"])
                if expected_position is None or previous is None:
                    return 1, "BROKEN line %d: the header announces no events" % line_number
                if event["tenant"] != tenant:
                    return 1, "BROKEN line %d: tenant %r is not the header's %r" % (line_number, event["tenant"], tenant)
                if position != expected_position:
                    return 1, "BROKEN line %d: position %d where %d was expected (an event is missing or moved)" % (
                        line_number, position, expected_position)
                if bytes.fromhex(event["prev_hash"]) != previous:
                    return 1, "BROKEN line %d (position %d): prev_hash is not the hash before it" % (line_number, position)
                if event.get("removed") is True:
                    if not allows_removed:
                        return 1, "BROKEN line %d (position %d): a removed event in a %s export" % (line_number, position, FORMATS[0])
                    computed = hashlib.sha256(previous + bytes.fromhex(event["digest"])).digest()
                    if computed.hex() != event["hash"]:
                        return 1, "BROKEN line %d (position %d): hash mismatch (the removed event's digest was changed)" % (
                            line_number, position)
                    previous = computed
                    expected_position += 1
                    seen += 1
                    removed += 1
                    continue
                micros = int(event["recorded_at_us"])
                if event["recorded_at"] != utc_micros_text(micros):
                    return 1, "BROKEN line %d (position %d): recorded_at does not match recorded_at_us" % (line_number, position)
                canonical = pg_jsonb_text([
                    event["tenant"], event["position"], event["stream"], event["version"], event["event_id"],
                    event["type"], event["schema_version"], event["recorded_at_us"], event["data"], event["metadata"],
                ])
                digest = hashlib.sha256(canonical.encode("utf-8")).digest()
                computed = hashlib.sha256(previous + digest).digest()
                if computed.hex() != event["hash"]:
                    return 1, "BROKEN line %d (position %d): hash mismatch (the event was changed, inserted or reordered)" % (
                        line_number, position)
            except (ValueError, KeyError, TypeError) as error:
                return 1, "BROKEN line %d: unreadable event (%s: %s)" % (line_number, type(error).__name__, error)
            previous = computed
            expected_position += 1
            seen += 1
        if seen != count or (last is not None and expected_position - 1 != last):
            return 1, "BROKEN line %d: the file ends after %d of %d events (truncated)" % (line_number, seen, count)
        if count and previous.hex() != header["last_hash"]:
            return 1, "BROKEN line %d: the last hash is not the header's last_hash" % line_number
        if count == 0:
            return 0, "OK: tenant %s, no events in the range" % tenant
        gone = " (%d removed by retention, verified by digest)" % removed if removed else ""
        return 0, "OK: tenant %s, positions %d-%d, %d events%s, anchor %s, last hash %s" % (
            tenant, first, last, count, gone, header["anchor_hash"], header["last_hash"])


def main(argv):
    if len(argv) != 2:
        print("usage: verify-audit-export.py EXPORT.jsonl", file=sys.stderr)
        return 2
    try:
        status, message = verify(argv[1])
    except OSError as error:
        print("cannot read %s: %s" % (argv[1], error), file=sys.stderr)
        return 2
    print(message)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
