"""The peer of bench/word_vectors.rhai: gensim's loader, the reference's glove_mean loop
(../shared/bench/python_reference/reference.py, section B) and scikit-learn's MLPClassifier
on the same features, timed in one sitting.

    python3 -m venv /tmp/wvref && /tmp/wvref/bin/pip install numpy scikit-learn gensim
    cargo run --release -- run bench/word_vectors.rhai      (writes out/wv-bench/*.npy first)
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /tmp/wvref/bin/python bench/word_vectors.py
"""
import csv
import os
import re
import sys
import time

import numpy as np
from gensim.models import KeyedVectors
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "out", "wv-bench")
sys.path.insert(0, os.path.join(SHARED, "bench", "python_reference"))
src = open(os.path.join(SHARED, "bench", "python_reference", "reference.py")).read()
start = src.index("def load_word2vec_bin")
exec(src[start:src.index("# ====", src.index("def glove_mean"))])  # the reference's own functions

path = os.path.join(SHARED, "models", "glove.6B.50d.100k.bin")
loads = []
for _ in range(5):
    t = time.perf_counter()
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    loads.append(time.perf_counter() - t)
ref_loads = []
for _ in range(5):
    t = time.perf_counter()
    vocab, vecs = load_word2vec_bin(path)
    ref_loads.append(time.perf_counter() - t)
print(f"load: gensim {min(loads) * 1000:.1f} ms, the reference's reader {min(ref_loads) * 1000:.1f} ms (best of 5)")

docs = []
for table in ("movies", "tmdb-text"):
    with open(os.path.join(SHARED, "data", table, "movies.csv"), newline="") as f:
        docs += [r["overview"] for r in csv.DictReader(f)]
stop = set(ENGLISH_STOP_WORDS)
means = []
for _ in range(5):
    t = time.perf_counter()
    glove_mean(docs, vocab, vecs, stop)
    means.append(time.perf_counter() - t)
print(f"mean vectors of {len(docs)} overviews (reference loop): {min(means) * 1000:.1f} ms (best of 5)")

X = np.load(os.path.join(OUT, "x_train.npy"))
Y = np.load(os.path.join(OUT, "y_train.npy")).astype(int)
Xs = StandardScaler().fit_transform(X)
m = MLPClassifier(hidden_layer_sizes=(300,), activation="relu", solver="adam", alpha=3.0,
                  learning_rate_init=1e-3, batch_size=200, random_state=0, shuffle=True)
ep = []
for e in range(30):
    t = time.perf_counter()
    if e == 0:
        m.partial_fit(Xs, Y, classes=np.arange(Y.shape[1]))
    else:
        m.partial_fit(Xs, Y)
    ep.append(time.perf_counter() - t)
print(f"MLPClassifier 50-300-20, {len(X)} rows, batch 200: epoch min {min(ep) * 1000:.1f} ms, "
      f"median {np.median(ep) * 1000:.1f} ms")
