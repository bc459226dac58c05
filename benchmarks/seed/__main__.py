"""``python -m benchmarks.seed [--scale 1.0] [--suffix bench]``: a new database, seeded."""

from __future__ import annotations

import argparse
import json
import os

from benchmarks import database
from benchmarks.seed import seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float,
                        default=float(os.environ.get("BENCH_SCALE", "1.0")))
    parser.add_argument("--suffix", default="bench", help="database name suffix / file name")
    args = parser.parse_args()
    db = database.database(database.backend(), args.suffix)
    print(f"Seeding {db.label} at scale {args.scale}")
    engine = database.create(db)
    counts = seed(engine, args.scale)
    engine.dispose()
    print(json.dumps(counts, indent=1))


if __name__ == "__main__":
    main()
