"""Python side of bench/mlp.rhai: scikit-learn's MLPClassifier as the reference
trains C2 (StandardScaler, 1024 relu, alpha 30, Adam lr 1e-3, batch 200), one
partial_fit per epoch, timed per epoch like reference.py's fit_mlp_early_stop.
    python bench/mlp.py [OUT_DIR]     (after bench/mlp.rhai wrote the .npy files)"""
import sys, time
import numpy as np
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

d = sys.argv[1] if len(sys.argv) > 1 else "out/mlp-bench"
X = StandardScaler().fit_transform(np.load(f"{d}/x_train.npy"))
Y = np.load(f"{d}/y_train.npy").astype(int)
m = MLPClassifier(hidden_layer_sizes=(1024,), activation="relu", solver="adam", alpha=30.0,
                  learning_rate_init=1e-3, batch_size=200, random_state=0, shuffle=True)
times = []
for ep in range(10):
    t = time.perf_counter()
    if ep == 0:
        m.partial_fit(X, Y, classes=np.arange(Y.shape[1]))
    else:
        m.partial_fit(X, Y)
    times.append(time.perf_counter() - t)
times.sort()
print(f"sklearn MLPClassifier 1280-1024-{Y.shape[1]}, {X.shape[0]} rows ({X.dtype}), batch 200: "
      f"epoch min {times[0]*1000:.0f} ms, median {times[5]*1000:.0f} ms")
