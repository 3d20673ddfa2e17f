"""The PyTorch side of the poster fine-tuning benchmark (BENCHMARKS.md): one
epoch of torchvision's MobileNetV2 fine-tuned on the train posters as
genrelab's `Backbone.fine_tune` does it — the posters decoded once into
memory (Resize(256), centre crop 256, 8-bit), each step a batch of views
(RandomResizedCrop(224, scale=(0.25, 1)), RandomHorizontalFlip,
ColorJitter(0.2, 0.2, 0.2), normalised) or of centred crops, the fixed
blocks under no_grad, the last `--trainable` blocks in eval() mode (frozen
batch-norm statistics) and a new classifier (Dropout(0.2), Linear) trained
with BCEWithLogitsLoss and AdamW — and its throughput in posters per second
of the epoch's steps (decoding excluded on both sides).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/poster_fine_tune.py \
        [--posters N] [--batch 32] [--trainable 3] [--threads 2] [--no-augment]

Needs torch and torchvision (a throwaway venv); reads ../shared.
"""
import argparse, csv, os, random, time

import torch
import torchvision
from PIL import Image
from torchvision.transforms import v2 as T

ap = argparse.ArgumentParser()
ap.add_argument("--posters", type=int, default=0, help="train posters (0: all)")
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--trainable", type=int, default=3)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--no-augment", action="store_true")
ap.add_argument("--skip", type=int, default=2, help="warm-up steps left out of the rate")
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
random.seed(0)

root = os.path.join(os.path.dirname(__file__), "..", "..", "shared")
data = os.path.join(root, "data", "movies")
rows = [r for r in csv.DictReader(open(os.path.join(data, "movies.csv"), encoding="utf-8")) if r["split"] == "train"]
if a.posters:
    rows = random.sample(rows, a.posters)
genres = sorted({g for r in rows for g in r["genres"].split("|") if g})
y = torch.tensor([[1.0 if g in r["genres"].split("|") else 0.0 for g in genres] for r in rows])

started = time.perf_counter()
keep = T.Compose([T.PILToTensor(), T.Resize(256, antialias=True), T.CenterCrop(256)])
posters = torch.stack([keep(Image.open(os.path.join(data, r["poster"])).convert("RGB")) for r in rows])
decode_s = time.perf_counter() - started
norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
if a.no_augment:
    view = T.Compose([T.CenterCrop(224), T.ToDtype(torch.float32, scale=True), norm])
else:
    view = T.Compose([T.RandomResizedCrop(224, scale=(0.25, 1.0), antialias=False), T.RandomHorizontalFlip(),
                      T.ColorJitter(0.2, 0.2, 0.2), T.ToDtype(torch.float32, scale=True), norm])

net = torchvision.models.mobilenet_v2()
net.load_state_dict(torch.load(os.path.join(root, "models", "mobilenet_v2-b0353104.pth")))
net.classifier = torch.nn.Sequential(torch.nn.Dropout(0.2), torch.nn.Linear(1280, len(genres)))
torch.nn.init.normal_(net.classifier[1].weight, 0, 0.01)
torch.nn.init.zeros_(net.classifier[1].bias)
first = 19 - a.trainable
fixed, tail = net.features[:first], net.features[first:]
for p in fixed.parameters():
    p.requires_grad_(False)
fixed.eval()
tail.eval()  # frozen batch-norm statistics, genrelab's default
decay = [p for n, p in list(tail.named_parameters()) + list(net.classifier.named_parameters()) if p.ndim > 1]
no_decay = [p for n, p in list(tail.named_parameters()) + list(net.classifier.named_parameters()) if p.ndim == 1]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 1e-4}, {"params": no_decay, "weight_decay": 0.0}], lr=3e-4)
loss_fn = torch.nn.BCEWithLogitsLoss()

order = torch.randperm(len(rows))
steps, seen, timed = 0, 0, 0.0
for start in range(0, len(rows), a.batch):
    idx = order[start:start + a.batch]
    t0 = time.perf_counter()
    x = torch.stack([view(posters[i]) for i in idx])
    with torch.no_grad():
        x = fixed(x)
    logits = net.classifier(torch.nn.functional.adaptive_avg_pool2d(tail(x), 1).flatten(1))
    loss = loss_fn(logits, y[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    dt = time.perf_counter() - t0
    steps += 1
    if steps > a.skip:
        timed += dt
        seen += len(idx)
print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, {a.threads} threads: {len(rows)} posters "
      f"(decoded in {decode_s:.1f} s), trainable {a.trainable}, batch {a.batch}, augment {not a.no_augment}: "
      f"{seen / timed:.1f} posters/s over {steps - a.skip} steps (loss {loss.item():.4f})")
