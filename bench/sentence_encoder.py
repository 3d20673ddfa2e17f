"""The peer of examples/encode_overviews.rs: sentence-transformers on PyTorch (CPU)
encoding the same overviews (movies/ then tmdb-text/, the first N), for BENCHMARKS.md.

    python bench/sentence_encoder.py [N] [--threads T] [--batch B]

Needs a venv with sentence-transformers (and torch); ../shared beside the checkout.
"""
import argparse, csv, os, time

ap = argparse.ArgumentParser()
ap.add_argument("n", nargs="?", type=int, default=None)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--batch", type=int, default=32)
args = ap.parse_args()

import torch
torch.set_num_threads(args.threads)
from sentence_transformers import SentenceTransformer

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")
texts = []
for table in ["data/movies/movies.csv", "data/tmdb-text/movies.csv"]:
    with open(os.path.join(root, table), encoding="utf-8") as f:
        texts += [r["overview"] for r in csv.DictReader(f)]
texts = texts[: args.n]
t0 = time.perf_counter()
model = SentenceTransformer(os.path.join(root, "models/all-MiniLM-L6-v2"), device="cpu")
loaded = time.perf_counter() - t0
t0 = time.perf_counter()
with torch.inference_mode():
    emb = model.encode(texts, batch_size=args.batch, convert_to_numpy=True)
secs = time.perf_counter() - t0
print(f"load {loaded:.2f} s; {len(texts)} overviews in {secs:.2f} s: {len(texts) / secs:.1f} overviews/s "
      f"({torch.get_num_threads()} threads, batch {args.batch}, torch {torch.__version__}); first value {emb[0, 0]:.6f}")
print(f"step sentence_encoder {len(texts) / secs} overviews/s")  # what bench/compare reads
