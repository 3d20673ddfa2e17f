"""The peer's side of bench/compare: the Python reference's way of doing each step of
bench/steps.rhai (scikit-learn, numpy, onnxruntime, the reference's own functions), timed
the same way, printed as `step NAME VALUE UNIT`.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHON bench/steps.py OUT_DIR STEP...

PYTHON needs numpy, scipy, scikit-learn, threadpoolctl, pillow, onnx and onnxruntime.
`mlp_epoch` reads OUT_DIR/x_train.npy and y_train.npy (bench/steps.rhai's `prepare`).
"""
import csv
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared")
DATA = os.environ.get("GENRELAB_DATA", os.path.join(SHARED, "data"))
MODELS = os.path.join(DATA, "..", "models")
REFERENCE = os.path.join(SHARED, "bench", "python_reference")
sys.path.insert(0, REFERENCE)


def best_of(n, f):
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def read(table):
    with open(os.path.join(DATA, table, "movies.csv"), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def reference_functions(first, last):
    """reference.py's own functions from `first` to the end of `last`'s section."""
    src = open(os.path.join(REFERENCE, "reference.py")).read()
    namespace = {"np": np, "re": __import__("re")}
    exec(src[src.index(first):src.index("# ====", src.index(last))], namespace)
    return namespace


def genre_matrix(rows):
    names = sorted({g for r in rows for g in r["genres"].split("|") if g})
    idx = {g: i for i, g in enumerate(names)}
    y = np.zeros((len(rows), len(names)), dtype=int)
    for i, r in enumerate(rows):
        for g in r["genres"].split("|"):
            if g:
                y[i, idx[g]] = 1
    return y


def main(out, steps):
    movies = read("movies")
    train = [r for r in movies if r["split"] == "train"]
    for step in steps:
        if step == "read_movies":
            s = best_of(5, lambda: (read("movies"), read("tmdb-text")))
            print(f"step read_movies {s} s")
        elif step == "tfidf_x4":
            from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
            docs = [r["overview"] for r in movies + read("tmdb-text")] * 4
            s = best_of(3, lambda: TfidfTransformer().fit_transform(
                CountVectorizer(max_df=0.95, min_df=0.005).fit_transform(docs)))
            print(f"step tfidf_x4 {s} s")
        elif step == "svd":
            from sklearn.decomposition import TruncatedSVD
            from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
            docs = [r["overview"].replace(",", "").replace(".", "") for r in train]
            x = TfidfTransformer().fit_transform(
                CountVectorizer(max_df=0.95, min_df=0.005).fit_transform(docs))
            s = best_of(5, lambda: TruncatedSVD(n_components=300, random_state=0).fit(x))
            print(f"step svd {s} s")
        elif step == "mean_vectors":
            from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
            ns = reference_functions("def load_word2vec_bin", "def glove_mean")
            vocab, vecs = ns["load_word2vec_bin"](os.path.join(MODELS, "glove.6B.50d.100k.bin"))
            docs = [r["overview"] for r in movies + read("tmdb-text")]
            stop = set(ENGLISH_STOP_WORDS)
            s = best_of(5, lambda: ns["glove_mean"](docs, vocab, vecs, stop))
            print(f"step mean_vectors {s} s")
        elif step == "logistic_ovr":
            from sklearn.feature_extraction.text import TfidfVectorizer
            from sklearn.linear_model import LogisticRegression
            from sklearn.multiclass import OneVsRestClassifier
            x = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.95,
                                sublinear_tf=True).fit_transform([r["overview"] for r in train])
            y = genre_matrix(train)
            s = best_of(2, lambda: OneVsRestClassifier(LogisticRegression(C=10, max_iter=2000)).fit(x, y))
            print(f"step logistic_ovr {s} s")
        elif step == "mlp_epoch":
            from sklearn.neural_network import MLPClassifier
            from sklearn.preprocessing import StandardScaler
            x = StandardScaler().fit_transform(np.load(os.path.join(out, "x_train.npy")))
            y = np.load(os.path.join(out, "y_train.npy")).astype(int)
            m = MLPClassifier(hidden_layer_sizes=(1024,), alpha=30.0, learning_rate_init=1e-3,
                              batch_size=200, random_state=0)
            epochs = []
            for e in range(10):
                t = time.perf_counter()
                m.partial_fit(x, y, classes=np.arange(y.shape[1])) if e == 0 else m.partial_fit(x, y)
                epochs.append(time.perf_counter() - t)
            print(f"step mlp_epoch {min(epochs)} s")
        elif step == "cocluster":
            import itertools
            from sklearn.cluster import SpectralCoclustering
            names = sorted({g for r in train for g in r["genres"].split("|") if g})
            idx = {g: i for i, g in enumerate(names)}
            m = np.zeros((len(names), len(names)))
            for r in train:
                gs = [g for g in r["genres"].split("|") if g]
                for a, b in itertools.combinations(gs, 2):
                    m[idx[a], idx[b]] += 1
                    m[idx[b], idx[a]] += 1
                for g in gs:
                    m[idx[g], idx[g]] += 1
            s = best_of(20, lambda: SpectralCoclustering(n_clusters=5, random_state=0).fit(m))
            print(f"step cocluster {s} s")
        elif step in ("mobilenet_e2e", "mobilenet_infer"):
            import mnv2
            sess = mnv2.make_session(os.path.join(MODELS, "mobilenet_v2-b0353104.pth"), 2)
            paths = [os.path.join(DATA, "movies", r["poster"]) for r in movies]
            batch = 32
            if step == "mobilenet_infer":
                inputs = np.stack([mnv2.preprocess(p) for p in paths[:512]])
                sess.run(["features"], {"input": inputs[:batch]})
                t = time.perf_counter()
                for s in range(0, len(inputs), batch):
                    sess.run(["features"], {"input": inputs[s:s + batch]})
                print(f"step mobilenet_infer {len(inputs) / (time.perf_counter() - t)} img/s")
            else:
                t = time.perf_counter()
                for s in range(0, len(paths), batch):
                    sess.run(["features"], {"input": np.stack([mnv2.preprocess(p) for p in paths[s:s + batch]])})
                print(f"step mobilenet_e2e {len(paths) / (time.perf_counter() - t)} img/s")
        else:
            sys.exit(f"bench/steps.py: unknown step {step!r}")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
