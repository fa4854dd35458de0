"""Run the whole pytest suite once per Keras backend and say which backend failed.

    python tests/run_all_backends.py                   # tensorflow, jax, torch
    python tests/run_all_backends.py --backends jax    # one backend
    python tests/run_all_backends.py -- -k export      # extra pytest arguments
    python tests/run_all_backends.py --workers 1       # one pytest process per backend

Each backend's suite runs in ``--workers`` pytest-xdist processes (default: the CPU
count, at most 4): most of a test's time is one thread compiling or dispatching
small ops, so two processes on two cores finish in about two thirds of the time.

Exit status 0 only if every backend passed.
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

BACKENDS = ("tensorflow", "jax", "torch")
ROOT = pathlib.Path(__file__).resolve().parent.parent


def counts(junit_file):
    """(passed, failed, skipped) from a pytest JUnit XML report."""
    if not junit_file.is_file():
        return 0, 1, 0  # pytest died before writing a report
    suite = ET.parse(junit_file).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    total, skipped = int(suite.get("tests")), int(suite.get("skipped"))
    failed = int(suite.get("failures")) + int(suite.get("errors"))
    return total - failed - skipped, failed, skipped


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 4),
                        help="pytest-xdist processes per backend (1: none)")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            print(f"\n===== KERAS_BACKEND={backend} =====", flush=True)
            junit = pathlib.Path(tmp) / f"{backend}.xml"
            # One digit scorer for every backend's chapter-6 runs (conftest.scorer_cache).
            env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
                   "DLBASIC_TEST_CACHE": str(pathlib.Path(tmp) / "cache")}
            start = time.perf_counter()
            # Work stealing: a worker that runs out takes tests queued for the other, so
            # a few long tests at the end do not leave one core idle.
            parallel = ["-n", str(args.workers), "--dist", "worksteal"] if args.workers > 1 else []
            code = subprocess.call(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *parallel,
                 f"--junitxml={junit}", *args.pytest_args],
                cwd=ROOT, env=env,
            )
            results[backend] = (code, *counts(junit), time.perf_counter() - start)
    print("\n===== summary =====")
    for backend, (code, passed, failed, skipped, seconds) in results.items():
        verdict = "ok" if code == 0 else f"FAILED (pytest exit {code})"
        print(f"{backend:<11} {verdict:<24} {passed} passed, {failed} failed, "
              f"{skipped} skipped in {seconds:.0f} s")
    passed = sum(r[1] for r in results.values())
    failed = sum(r[2] for r in results.values())
    skipped = sum(r[3] for r in results.values())
    bad = [b for b, r in results.items() if r[0] != 0]
    print(f"total: {passed} passed, {failed} failed, {skipped} skipped")
    if bad:
        print(f"failing backends: {', '.join(bad)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
