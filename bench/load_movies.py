"""The Python side of bench/load_movies.rhai: the reference implementation's
own loading (csv.DictReader) and binarizing, plus pandas.read_csv.
    python bench/load_movies.py   (numpy and pandas installed)"""
import csv, os, time
import numpy as np
import pandas as pd

DATA = os.environ.get("GENRELAB_DATA", os.path.join(os.path.dirname(__file__), "../../shared/data"))

def load_csv(path):  # as shared/bench/python_reference/reference.py
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))

def binarize(rows, genres):
    idx = {g: i for i, g in enumerate(genres)}
    Y = np.zeros((len(rows), len(genres)), np.int64)
    for r, row in enumerate(rows):
        for g in row["genres"].split("|"):
            if g:
                Y[r, idx[g]] = 1
    return Y

best = {"csv": 1e9, "pandas": 1e9, "labels": 1e9}
for _ in range(20):
    t = time.perf_counter()
    a = load_csv(f"{DATA}/movies/movies.csv"); b = load_csv(f"{DATA}/tmdb-text/movies.csv")
    best["csv"] = min(best["csv"], time.perf_counter() - t)
    t = time.perf_counter()
    pd.read_csv(f"{DATA}/movies/movies.csv", keep_default_na=False); pd.read_csv(f"{DATA}/tmdb-text/movies.csv", keep_default_na=False)
    best["pandas"] = min(best["pandas"], time.perf_counter() - t)
    t = time.perf_counter()
    genres = sorted({g for r in a for g in r["genres"].split("|") if g})
    binarize(a, genres); binarize(b, genres)
    best["labels"] = min(best["labels"], time.perf_counter() - t)
print(f"read 16,192 movies (csv.DictReader): {best['csv']*1000:.1f} ms")
print(f"read 16,192 movies (pandas.read_csv): {best['pandas']*1000:.1f} ms")
print(f"binarize genres: {best['labels']*1000:.1f} ms")
