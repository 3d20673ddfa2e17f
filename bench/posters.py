"""The reference's MobileNetV2 poster loop (../shared/bench/python_reference, section C),
alone, so that it can be timed beside `bench/posters.rhai` in one sitting.

    python3 -m venv /tmp/ortref && /tmp/ortref/bin/pip install numpy pillow onnx onnxruntime
    /tmp/ortref/bin/python bench/posters.py [N]        (N: 256; 0 = all 7,128)

Same code path as reference.py: mnv2.preprocess (PIL) single-threaded in the loop, batch 32,
onnxruntime with 2 intra-op threads. Prints end-to-end, decode-only and inference-only rates.
"""
import csv
import os
import random
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared")
sys.path.insert(0, os.path.join(SHARED, "bench", "python_reference"))
import mnv2  # noqa: E402

n = int(sys.argv[1]) if len(sys.argv) > 1 else 256
with open(os.path.join(SHARED, "data", "movies", "movies.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
paths = [os.path.join(SHARED, "data", "movies", r["poster"]) for r in rows]
if n:
    paths = random.Random(0).sample(paths, n)
sess = mnv2.make_session(os.path.join(SHARED, "models", "mobilenet_v2-b0353104.pth"), 2)
B = 32
sess.run(["features"], {"input": np.stack([mnv2.preprocess(p) for p in paths[:B]])})
decode = infer = 0.0
t0 = time.perf_counter()
for s in range(0, len(paths), B):
    a = time.perf_counter()
    X = np.stack([mnv2.preprocess(p) for p in paths[s:s + B]])
    b = time.perf_counter()
    sess.run(["features"], {"input": X})
    infer += time.perf_counter() - b
    decode += b - a
total = time.perf_counter() - t0
print(f"{len(paths)} posters in {total:.1f} s: {len(paths) / total:.1f} images/s end to end "
      f"(decode {len(paths) / decode:.0f}/s on one thread, inference {len(paths) / infer:.1f}/s)")
