"""Memory of a stored file streamed through the storage backends (issue 17).

A file the portal stores (``portal.storage``) must go to S3 and come back without being held
in memory: ``Store.put`` reads its source in chunks and ``Store.chunks`` yields the object a
piece at a time. This measures it: moto's standalone S3 server on loopback
(``python -m moto.server``), a bucket made with boto3, and for each object size (5, 50 and
100 MiB) a file of random bytes written to disk beforehand, put through
``open_store("s3://<bucket>/bench")`` by one fresh process and read back with ``chunks()``
by another (so each phase's memory is its own, not what the other left behind), its
SHA-256 checked. The same for the ``file:`` backend, for comparison.

Each child reads its memory from ``/proc/self/status``: the resident set (``VmRSS``) once
the store is open and checked (imports done, the S3 client made and its first request
answered) is the baseline; the peak (``VmHWM``, reset then through ``/proc/self/clear_refs``)
is read when the phase ends. Growth is peak minus baseline: a store that streams grows by
a bounded amount whatever the object's size, one that holds the object by its size. Three
sizes, because boto3 sends a small file in one request streamed from the file and a large
one in parts, a few of them held in memory at once: 5 MiB shows the first path, 50 and
100 MiB the second, and it is between those two that memory must not grow.

``python -m benchmarks.streaming`` runs it alone (``--sizes 5 50 100``, in MiB); ``make bench``
runs it after the export memory and puts it in the report.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "portal-bench"
SIZES_MIB = (5, 50, 100)
MIB = 1024 * 1024
# Fake credentials for moto, and no instance-metadata lookups or profiles from the machine.
AWS_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}


# --- in a child: one phase, one object, one store -------------------------------------------------


def _status_kib(field: str) -> int:
    """A figure of /proc/self/status in KiB (VmRSS: resident now; VmHWM: peak)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak() -> bool:
    """Make VmHWM the resident set now (Linux 4.0 and later), so the next peak is the phase's;
    False where the kernel refuses (the peak then includes the imports')."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def stream_once(phase: str, url: str, folder: Path, source: Path,
                chunk_kib: int = 256) -> dict:
    """One phase for ``source`` in the store at ``url``, measuring memory: "put" stores it
    (read from disk by ``Store.put``); "read" reads it back with ``Store.chunks`` and deletes it.

    Returns {phase, url, bytes, sha256 (of what came back; "" for put), imports_kib,
    baseline_kib, peak_kib, peak_reset, seconds}; memory in KiB. Raises whatever the store raises
    (``portal.storage.StoreError``, ``MissingFile``)."""
    from portal.storage import open_store

    imports = _status_kib("VmRSS")
    store = open_store(url, folder=str(folder))
    store.check()
    name = f"bench-{source.name}"
    gc.collect()
    baseline = _status_kib("VmRSS")
    reset = _reset_peak()
    digest, size = hashlib.sha256(), 0
    started = time.perf_counter()
    if phase == "put":
        with source.open("rb") as handle:
            store.put(name, handle)
        size = source.stat().st_size
    else:
        for chunk in store.chunks(name, chunk_kib * 1024):
            digest.update(chunk)
            size += len(chunk)
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM")
    if phase == "read":
        store.delete(name)
    return {"phase": phase, "url": store.url, "bytes": size,
            "sha256": digest.hexdigest() if phase == "read" else "", "imports_kib": imports,
            "baseline_kib": baseline, "peak_kib": peak, "peak_reset": reset,
            "seconds": round(seconds, 2)}


# --- in the parent: files, the S3 server, two children per object ------------------------------


def random_file(path: Path, size: int) -> str:
    """Write ``size`` random bytes to ``path`` a MiB at a time; their SHA-256 (hex)."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for start in range(0, size, MIB):
            block = os.urandom(min(MIB, size - start))
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server(log: Path, timeout: float = 30.0) -> Iterator[str]:
    """moto's standalone S3 server on loopback, stopped at the end; yields its endpoint."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise SystemExit(f"moto's S3 server stopped:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(endpoint + "/", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise SystemExit(f"moto's S3 server did not answer on {endpoint}") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def make_bucket(endpoint: str, bucket: str) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name=AWS_ENV["AWS_DEFAULT_REGION"],
                          aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"])
    client.create_bucket(Bucket=bucket)


def _child(phase: str, url: str, folder: Path, source: Path, env: dict[str, str]) -> dict:
    command = [sys.executable, "-m", "benchmarks.streaming", "child", phase, "--url", url,
               "--folder", str(folder), "--source", str(source)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False,
                            cwd=ROOT, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{phase} of {source.name} through {url} failed:\n"
                         f"{result.stderr[-3000:]}")
    figures: dict = json.loads(result.stdout.strip().splitlines()[-1])
    figures["growth_kib"] = figures["peak_kib"] - figures["baseline_kib"]
    return figures


def measure_in_child(url: str, folder: Path, source: Path, env: dict[str, str]) -> dict:
    """``stream_once`` put, then read, each in a fresh process (``python -m
    benchmarks.streaming child put|read``): {bytes, sha256, put: figures, read: figures,
    growth_kib (the larger phase's)}."""
    put = _child("put", url, folder, source, env)
    read = _child("read", url, folder, source, env)
    return {"bytes": read["bytes"], "sha256": read["sha256"], "put": put, "read": read,
            "growth_kib": max(put["growth_kib"], read["growth_kib"])}


def flat(runs: Sequence[dict]) -> bool:
    """Memory flat as the object grows: the largest object's growth exceeds the next largest's
    by at most a quarter of the difference in their sizes, or 4 MiB, whichever is larger (a
    store that holds the object grows by the whole difference). ``runs`` by size, ascending."""
    small, large = runs[-2] if len(runs) > 1 else runs[0], runs[-1]
    allowance = max((large["bytes"] - small["bytes"]) / 4 / 1024, 4 * 1024)
    return large["growth_kib"] - small["growth_kib"] <= allowance


def streaming_runs(work: Path, sizes_mib: Sequence[int] = SIZES_MIB) -> dict:
    """Each size through S3 (moto) and ``file:``, each in a process of its own.

    Returns {sizes_mib, bucket, backends: [{backend, url, runs: [``measure_in_child``'s
    figures with size_mib, expected_sha256, matches], flat}]}, sizes ascending; memory in
    KiB. Raises SystemExit when the server or a child fails or an object comes back
    different."""
    sizes = sorted(sizes_mib)
    files = {size: work / f"random-{size}mib.bin" for size in sizes}
    hashes = {size: random_file(path, size * MIB) for size, path in files.items()}
    folder = work / "stored"
    folder.mkdir(exist_ok=True)
    # The machine's own AWS_* settings (a profile, AWS_ENDPOINT_URL_S3…) must not send the
    # children elsewhere.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("AWS_")} | AWS_ENV
    found: dict = {"sizes_mib": sizes, "bucket": BUCKET, "backends": []}
    with moto_server(work / "moto.log") as endpoint:
        make_bucket(endpoint, BUCKET)
        env["AWS_ENDPOINT_URL"] = endpoint
        for backend, url in (("s3", f"s3://{BUCKET}/bench"), ("file", f"file:{folder}")):
            runs = []
            for size in sizes:
                figures = measure_in_child(url, folder, files[size], env)
                figures |= {"size_mib": size, "expected_sha256": hashes[size],
                            "matches": figures["sha256"] == hashes[size]
                            and figures["bytes"] == size * MIB}
                if not figures["matches"]:
                    raise SystemExit(f"{size} MiB through {url} came back different")
                runs.append(figures)
            found["backends"].append({"backend": backend, "url": url, "runs": runs,
                                      "flat": flat(runs)})
    return found


def _mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def summary(found: dict) -> list[str]:
    """One line per backend, largest object first: "s3: 100 MiB: peak +X MiB over baseline
    (put +P, read +R); 50 MiB: …; 5 MiB: …; baseline B MiB: flat"."""
    lines = []
    for item in found["backends"]:
        parts = "; ".join(
            f"{run['size_mib']} MiB: peak +{_mib(run['growth_kib'])} MiB over baseline "
            f"(put +{_mib(run['put']['growth_kib'])}, read +{_mib(run['read']['growth_kib'])})"
            for run in reversed(item["runs"]))
        baseline = _mib(item["runs"][-1]["put"]["baseline_kib"])
        lines.append(f"{item['backend']}: {parts}; baseline {baseline} MiB: "
                     f"{'flat' if item['flat'] else 'NOT flat'}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    child = commands.add_parser("child", help="one phase, one object, one store (internal)")
    child.add_argument("phase", choices=["put", "read"])
    child.add_argument("--url", required=True)
    child.add_argument("--folder", required=True, type=Path)
    child.add_argument("--source", required=True, type=Path)
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES_MIB),
                        help="object sizes in MiB (default 5 50 100)")
    args = parser.parse_args()
    if args.command == "child":
        print(json.dumps(stream_once(args.phase, args.url, args.folder, args.source)))
        return
    with tempfile.TemporaryDirectory(prefix="portal-bench-streaming-") as work:
        found = streaming_runs(Path(work), args.sizes)
    print("\n".join(summary(found)))
    print(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
