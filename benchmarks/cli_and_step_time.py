"""Side-by-side timings: CLI start-up against `import keras`, and cnn step time per backend.

    python benchmarks/cli_and_step_time.py [--repeats 5] [--steps 50]

Everything is measured in one run on one machine, so compare the ratios, not
the absolute numbers.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

BACKENDS = ("tensorflow", "jax", "torch")

STEP_TIMER = """
import time, numpy as np, keras
from keras_dlbasic import get_model
model = get_model("cnn")
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
rng = np.random.default_rng(0)
x = rng.random((64, 28, 28, 1), dtype=np.float32); y = rng.integers(0, 10, 64)
for _ in range(5):
    model.train_on_batch(x, y)  # compile / warm up
start = time.perf_counter()
for _ in range({steps}):
    model.train_on_batch(x, y)
print((time.perf_counter() - start) / {steps} * 1000)
"""


def wall(command, env=None, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

    dlbasic = shutil.which("dlbasic") or sys.exit("install the package first: pip install -e .")
    cli = wall([dlbasic, "--help"], env, args.repeats)
    print(f"{'command':<40} {'median wall s':>14} {'vs dlbasic --help':>18}")
    print(f"{'dlbasic --help':<40} {cli:>14.3f} {1.0:>18.1f}")
    for backend in BACKENDS:
        seconds = wall([sys.executable, "-c", "import keras"],
                       {**env, "KERAS_BACKEND": backend}, args.repeats)
        label = f"python -c 'import keras' ({backend})"
        print(f"{label:<40} {seconds:>14.3f} {seconds / cli:>18.1f}")

    print(f"\ncnn training step, batch 64, mean over {args.steps} steps after warm-up")
    print(f"{'backend':<12} {'ms / step':>10} {'vs tensorflow':>14}")
    reference = None
    for backend in BACKENDS:
        out = subprocess.run([sys.executable, "-c", STEP_TIMER.format(steps=args.steps)],
                             env={**env, "KERAS_BACKEND": backend}, check=True,
                             capture_output=True, text=True).stdout
        ms = float(out.strip().splitlines()[-1])
        reference = reference or ms
        print(f"{backend:<12} {ms:>10.2f} {ms / reference:>14.2f}")


if __name__ == "__main__":
    main()
