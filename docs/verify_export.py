#!/usr/bin/env python3
"""Check a unit's ledger evidence file from `colift ledger export`, without colift.

    python3 verify_export.py 3-2-ledger.json [--head HASH ...]

Plain Python 3 (standard library only). What it checks:

1. every entry of the unit: its record (chain, seq, time, actor, action, subject, unit,
   payload) hashes to the digest listed for its place in the chain, and its hash and the hash
   before it are the ones the chain gives;
2. the chain: starting from 64 zeros, hash = sha256(previous hash + digest) for every entry
   from the first to the head, which must give the head hash the file states;
3. every kept text the entries refer to: sha256(salt + text) is the digest in the entry
   (a text erased on request is listed as erased: its digest still holds the chain);
4. with --head: each given hash (from a signature sheet, a notice, an agreement) is a hash of
   this chain, so nothing before it was changed after it was printed.

Exit code 0 when everything holds, 1 at the first thing that does not (said on stderr).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from typing import Any

GENESIS = "0" * 64
FORMAT = "colift-ledger-export/1"
TEXT_KEY = "$text"


def canonical(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_digest(entry: dict[str, Any]) -> str:
    record = {k: entry[k] for k in ("chain", "seq", "at", "actor", "action", "subject", "unit")}
    record["payload"] = entry["payload"]
    return sha256(canonical(record))


def text_refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        if set(value) == {TEXT_KEY}:
            return [value[TEXT_KEY]]
        return [ref for item in value.values() for ref in text_refs(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in text_refs(item)]
    return []


class Broken(Exception):
    pass


def check(data: dict[str, Any], anchors: list[str]) -> list[str]:
    """The lines of a good report; raises Broken at the first thing that does not hold."""
    if data.get("format") != FORMAT:
        raise Broken(f"not a colift ledger export ({data.get('format')!r})")
    links: list[str] = data["links"]
    head = data["head"]
    if head["seq"] != len(links):
        raise Broken(f"the head is entry {head['seq']} but the file links {len(links)} entries")
    hashes = [GENESIS]
    for digest in links:
        hashes.append(sha256(hashes[-1] + digest))
    if hashes[-1] != head["hash"]:
        raise Broken("the links do not lead to the head hash the file states")
    for entry in data["entries"]:
        seq = entry["seq"]
        if entry["chain"] != data["chain"] or not 1 <= seq <= len(links):
            raise Broken(f"entry {seq} is not in chain {data['chain']} up to its head")
        if record_digest(entry) != links[seq - 1]:
            raise Broken(f"entry {seq} ({entry['action']}) was changed: its record does not hash to its link")
        if entry["prev_hash"] != hashes[seq - 1] or entry["hash"] != hashes[seq]:
            raise Broken(f"entry {seq} does not sit where the chain puts it")
        for ref in text_refs(entry["payload"]):
            kept = data["texts"].get(ref)
            if kept is None:
                raise Broken(f"entry {seq} refers to a text the file does not include")
            if not kept.get("erased") and sha256(kept["salt"] + kept["text"]) != ref:
                raise Broken(f"a text of entry {seq} was changed")
    known = set(hashes[1:])
    for anchor in anchors:
        if anchor.strip().lower() not in known:
            raise Broken(f"the head {anchor} is not in this chain: the record was changed after it")
    erased = sum(1 for kept in data["texts"].values() if kept.get("erased"))
    lines = [
        f"OK: {len(data['entries'])} entries of {data['unit']['label']} "
        f"({data['compound']['name']}) check out",
        f"chain {data['chain']}: {len(links)} entries linked from the first to the head",
        f"head: {head['hash']} (entry {head['seq']}, {head['at']})",
    ]
    if anchors:
        lines.append(f"{len(anchors)} printed heads found in the chain")
    if erased:
        lines.append(f"{erased} texts were erased on request; their digests still hold the chain")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a colift ledger export offline.")
    parser.add_argument("file", help="the .json file written by `colift ledger export`")
    parser.add_argument("--head", action="append", default=[], help="a printed head hash")
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as f:
            data = json.load(f)
        lines = check(data, args.head)
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    except (Broken, KeyError, TypeError) as exc:
        print(f"BROKEN: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
