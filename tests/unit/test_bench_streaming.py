"""``make bench``'s measurement of stored files streamed through S3 and on disk (issue 17,
benchmarks/streaming.py) runs end to end, at small sizes so it is quick.

Only that it runs and that every object comes back byte for byte is asserted: memory and
speed are measured by ``make bench``, never by a timed test.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.report import streaming_lines
from benchmarks.streaming import streaming_runs


def test_a_stored_file_goes_through_s3_and_disk_and_comes_back_the_same(tmp_path: Path) -> None:
    found = streaming_runs(tmp_path, sizes_mib=(8, 2))

    assert [item["backend"] for item in found["backends"]] == ["s3", "file"]
    for item in found["backends"]:
        assert [run["size_mib"] for run in item["runs"]] == [2, 8]
        for run in item["runs"]:
            assert run["matches"]
            assert run["sha256"] == run["expected_sha256"]
            assert run["bytes"] == run["size_mib"] * 1024 * 1024
            for phase in (run["put"], run["read"]):
                assert phase["peak_kib"] >= phase["baseline_kib"] > 0
    assert list((tmp_path / "stored").rglob("bench-*")) == []  # each read deletes its object


def test_the_report_shows_both_backends_and_every_size() -> None:
    phase = {"baseline_kib": 51200, "growth_kib": 1024, "seconds": 0.1}
    runs = [{"size_mib": size, "matches": True, "growth_kib": 1024, "put": phase,
             "read": phase} for size in (5, 50)]
    found = {"bucket": "portal-bench", "backends": [
        {"backend": "s3", "runs": runs, "flat": True},
        {"backend": "file", "runs": runs, "flat": False}]}

    text = "\n".join(streaming_lines(found))

    assert "## Stored files through S3" in text
    assert "- s3: 50 MiB: peak +1.0 MiB over baseline (put +1.0, read +1.0); 5 MiB" in text
    assert text.count("| s3 |") == 2 and text.count("| file |") == 2
    assert "**no**" in text
