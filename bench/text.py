"""Python side of bench/text.rhai: the reference implementation's text steps
(shared/bench/python_reference/reference.py), timed the same way (best of n).
    python bench/text.py          (numpy, scipy, scikit-learn installed)"""
import csv, os, time
import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import MultinomialNB

DATA = os.environ.get("GENRELAB_DATA", os.path.join(os.path.dirname(__file__), "../../shared/data"))
rows = list(csv.DictReader(open(f"{DATA}/movies/movies.csv", newline="", encoding="utf-8")))
rows2 = list(csv.DictReader(open(f"{DATA}/tmdb-text/movies.csv", newline="", encoding="utf-8")))
clean = lambda t: t.replace(",", "").replace(".", "")
genres = sorted({g for r in rows for g in r["genres"].split("|") if g})
def binarize(rs):
    idx = {g: i for i, g in enumerate(genres)}
    Y = np.zeros((len(rs), len(genres)), np.int64)
    for i, r in enumerate(rs):
        for g in r["genres"].split("|"):
            if g in idx: Y[i, idx[g]] = 1
    return Y
def best(n, f):
    out = None; b = 1e9
    for _ in range(n):
        t = time.perf_counter(); out = f(); b = min(b, time.perf_counter() - t)
    return out, b
ms = lambda s: f"{s*1000:.1f} ms"
tr = [clean(r["overview"]) for r in rows if r["split"] == "train"]
te = [clean(r["overview"]) for r in rows if r["split"] == "test"]
Ytr = binarize([r for r in rows if r["split"] == "train"])
def vec(docs):
    cv = CountVectorizer(max_df=0.95, min_df=0.005); tf = TfidfTransformer()
    return cv, tf, tf.fit_transform(cv.fit_transform(docs))
(cv, tf, Xtr), fit_s = best(5, lambda: vec(tr))
_, tr_s = best(5, lambda: tf.transform(cv.transform(te)))
print(f"vectorize train fit_transform {len(tr)} docs: {ms(fit_s)}; test transform {len(te)} docs: {ms(tr_s)}")
nb, nb_fit = best(5, lambda: OneVsRestClassifier(MultinomialNB()).fit(Xtr, Ytr))
Xte = tf.transform(cv.transform(te))
_, nb_pred = best(5, lambda: nb.predict_proba(Xte))
print(f"naive Bayes fit {ms(nb_fit)}, predict_proba {ms(nb_pred)}")
docs = [clean(r["overview"]) for r in rows] + [clean(r["overview"]) for r in rows2]
Y = np.vstack([binarize(rows), binarize(rows2)])
for k in (1, 2, 4):
    if k > 1: docs = docs + docs; Y = np.vstack([Y, Y])
    reps = 2 if k == 4 else 3
    (c, t, X), vs = best(reps, lambda: vec(docs))
    m, fs = best(reps, lambda: OneVsRestClassifier(MultinomialNB()).fit(X, Y))
    _, ps = best(reps, lambda: m.predict_proba(X))
    print(f"x{k}: {len(docs)} docs vocab {len(c.vocabulary_)} count+tfidf {ms(vs)} NB fit {ms(fs)} NB predict {ms(ps)}")
