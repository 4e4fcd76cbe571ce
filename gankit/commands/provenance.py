"""``gankit provenance``: keys and verification of the invisible marks gankit puts in images.

gankit provenance keygen -o mark.key                 # a new random key (keep it secret)
gankit sample runs/digits -n 64 -o pngs/ --mark mark.key    # marked samples
gankit provenance verify pngs/*.png --key mark.key   # bits matching, p-value, decision per image
gankit provenance verify photo.jpg --key mark.key --fpr 1e-9 --json

``verify`` exits with 0 when every image carries the key's mark, 1 when one does not, and 2 when
an image cannot be read (each unreadable image gets one line; the others are still checked).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gankit.data.folder import read_image
from gankit.errors import GankitError
from gankit.provenance import (
    DEFAULT_FPR,
    PAYLOAD_BITS,
    read_key,
    threshold,
    verify,
    write_new_key,
)

# Exit statuses of `verify`: all marked, one not marked (a finding, not an error), unreadable.
ALL_MARKED, NOT_MARKED, UNREADABLE = 0, 1, 2


def _keygen(args: argparse.Namespace) -> int:
    write_new_key(args.output)
    print(f"wrote a new provenance key to {args.output}; keep it secret and keep a copy")
    return ALL_MARKED


def _line(path: str, verdict: Any) -> str:
    decision = "MARKED" if verdict.marked else "not marked"
    return (
        f"{path}: {verdict.matches}/{verdict.bits} bits match, p = {verdict.p_value:.3g}: "
        f"{decision} (at FPR {verdict.fpr:g}, needs {verdict.threshold})"
    )


def _verify(args: argparse.Namespace) -> int:
    key = read_key(args.key)
    threshold(args.fpr)  # a bad --fpr is one error, not one per image
    status = ALL_MARKED
    for path in args.images:
        try:
            # RGB always: a gray file's R = G = B, so its luma is its gray level.
            (verdict,) = verify(read_image(path, 3).unsqueeze(0), key, fpr=args.fpr)
        except GankitError as err:
            print(f"gankit: error: {path}: {err}", file=sys.stderr)
            status = UNREADABLE
            continue
        if args.json:
            print(json.dumps({"image": path, **verdict.to_dict()}))
        else:
            print(_line(path, verdict))
        if not verdict.marked and status == ALL_MARKED:
            status = NOT_MARKED
    return status


def add_parser(sub: Any) -> None:
    """Add ``gankit provenance`` (``keygen``, ``verify``) to the ``gankit`` sub-parsers."""
    parser = sub.add_parser(
        "provenance",
        help="provenance marks: make a key, verify images",
        description="Invisible provenance marks in generated images (see docs/provenance.md). "
        "Mark with `gankit sample --mark KEYFILE` or `gankit serve --mark KEYFILE`; check with "
        "`gankit provenance verify`.",
    )
    verbs = parser.add_subparsers(dest="provenance_command", required=True, metavar="ACTION")
    keygen = verbs.add_parser("keygen", help="write a new random key to a file")
    keygen.add_argument("-o", "--output", required=True, metavar="KEYFILE", help="the key file")
    keygen.set_defaults(func=_keygen)
    check = verbs.add_parser(
        "verify",
        help="say, per image, whether it carries a key's mark",
        description=f"Read the {PAYLOAD_BITS}-bit mark from each image and compare it with the "
        "key's: prints the matching bits, the p-value (the chance an unmarked image matches as "
        "well: binomial tail) and the decision at --fpr. Exit status 0: all marked; 1: one is "
        "not; 2: one could not be read.",
    )
    check.add_argument("images", nargs="+", metavar="IMG", help="image files (PNG, JPEG, ...)")
    check.add_argument("--key", required=True, metavar="KEYFILE", help="the key file")
    check.add_argument(
        "--fpr",
        type=float,
        default=DEFAULT_FPR,
        help="false-positive rate of the decision: the chance an unmarked image is called "
        "marked (default %(default)g)",
    )
    check.add_argument("--json", action="store_true", help="one JSON object per image")
    check.set_defaults(func=_verify)
