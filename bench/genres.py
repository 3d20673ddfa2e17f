"""Python side of bench/genres.rhai: the seed's list2pairs loop and
scikit-learn's SpectralCoclustering(n_clusters=5), best of 20."""
import csv, itertools, os, time
import numpy as np
from sklearn.cluster import SpectralCoclustering

DATA = os.environ.get("GENRELAB_DATA", os.path.join(os.path.dirname(__file__), "../../shared/data"))
rows = [r for r in csv.DictReader(open(f"{DATA}/movies/movies.csv", newline="", encoding="utf-8")) if r["split"] == "train"]
def pairs():
    names = sorted({g for r in rows for g in r["genres"].split("|") if g}); idx = {g: i for i, g in enumerate(names)}
    M = np.zeros((len(names), len(names)))
    for r in rows:
        l = [g for g in r["genres"].split("|") if g]
        for a, b in itertools.combinations(l, 2):
            M[idx[a], idx[b]] += 1; M[idx[b], idx[a]] += 1
        for g in l: M[idx[g], idx[g]] += 1
    return M
bp = bc = 1e9
for i in range(20):
    t = time.perf_counter(); M = pairs(); bp = min(bp, time.perf_counter() - t)
    t = time.perf_counter(); SpectralCoclustering(n_clusters=5, random_state=i).fit(M); bc = min(bc, time.perf_counter() - t)
print(f"pair counts: {bp*1000:.2f} ms; cocluster: {bc*1000:.2f} ms")
