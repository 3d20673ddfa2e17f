"""The PyTorch side of the fine-tuning benchmark (BENCHMARKS.md): one
epoch of all-MiniLM-L6-v2 fine-tuned on train overviews as genrelab's
`Encoder.fine_tune` does it — mean pooling, dropout 0.1, a linear head,
BCEWithLogitsLoss, AdamW (lr 5e-5, weight decay 0.01 off biases and layer
norms), linear warm-up and decay, gradient clipping at 1.0, batches of
texts of similar length (padded to the longest of each batch) — and its
training throughput in real (unpadded) tokens per second.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/fine_tune.py \
        [--texts N] [--batch 32] [--max-length 128] [--threads 2] [--steps S]

Needs torch and transformers (a throwaway venv); reads ../shared.
"""
import argparse, csv, os, random, time

import torch
from transformers import AutoModel, AutoTokenizer

ap = argparse.ArgumentParser()
ap.add_argument("--texts", type=int, default=0, help="train texts (0: all)")
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--max-length", type=int, default=128)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--steps", type=int, default=0, help="stop after S steps (0: the epoch)")
ap.add_argument("--skip", type=int, default=2, help="warm-up steps left out of the rate")
ap.add_argument("--freeze", default="", help='"embeddings", or N: the embeddings and the lowest N layers stay fixed')
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
random.seed(0)

root = os.path.join(os.path.dirname(__file__), "..", "..", "shared")
model_dir = os.path.join(root, "models", "all-MiniLM-L6-v2")
rows = [r for r in csv.DictReader(open(os.path.join(root, "data", "movies", "movies.csv"), encoding="utf-8"))
        if r["split"] == "train"]
if a.texts:
    rows = random.sample(rows, a.texts)
genres = sorted({g for r in rows for g in r["genres"].split("|") if g})
y = torch.tensor([[1.0 if g in r["genres"].split("|") else 0.0 for g in genres] for r in rows])
tok = AutoTokenizer.from_pretrained(model_dir)
enc = [tok(r["overview"], truncation=True, max_length=a.max_length)["input_ids"] for r in rows]

model = AutoModel.from_pretrained(model_dir)
head = torch.nn.Linear(model.config.hidden_size, len(genres))
torch.nn.init.normal_(head.weight, std=0.02)
torch.nn.init.zeros_(head.bias)
drop = torch.nn.Dropout(0.1)
if a.freeze:
    frozen = ["embeddings."] + [f"encoder.layer.{i}." for i in range(0 if a.freeze == "embeddings" else int(a.freeze))]
    for n, p in model.named_parameters():
        if any(n.startswith(f) for f in frozen):
            p.requires_grad_(False)
decay, no_decay = [], []
for n, p in list(model.named_parameters()) + [("head." + n, p) for n, p in head.named_parameters()]:
    if not p.requires_grad:
        continue
    (no_decay if n.endswith("bias") or "LayerNorm" in n else decay).append(p)
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=5e-5)

# Batches of similar length: shuffled, sorted by length in chunks of 50 batches.
order = list(range(len(rows)))
random.shuffle(order)
batches = []
for c in range(0, len(order), a.batch * 50):
    chunk = sorted(order[c:c + a.batch * 50], key=lambda i: -len(enc[i]))
    batches += [chunk[i:i + a.batch] for i in range(0, len(chunk), a.batch)]
random.shuffle(batches)
if a.steps:
    batches = batches[:a.steps]
total = len(batches)
warmup = round(0.1 * total)
sched = torch.optim.lr_scheduler.LambdaLR(
    opt, lambda s: s / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
loss_fn = torch.nn.BCEWithLogitsLoss()
model.train()
tokens = 0
seconds = 0.0
started = time.time()
for k, b in enumerate(batches):
    t0 = time.perf_counter()
    longest = max(len(enc[i]) for i in b)
    ids = torch.tensor([enc[i] + [0] * (longest - len(enc[i])) for i in b])
    mask = torch.tensor([[1] * len(enc[i]) + [0] * (longest - len(enc[i])) for i in b])
    out = model(input_ids=ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).float()
    pooled = (out * m).sum(1) / m.sum(1).clamp(min=1e-9)
    loss = loss_fn(head(drop(pooled)), y[b])
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad] + list(head.parameters()), 1.0)
    opt.step()
    sched.step()
    dt = time.perf_counter() - t0
    if k >= a.skip:
        seconds += dt
        tokens += sum(len(enc[i]) for i in b)
print(f"torch {torch.__version__}, {a.threads} threads: {len(rows)} texts, {total} steps of {a.batch}, "
      f"max_length {a.max_length}, freeze {a.freeze or '()'}: {tokens / seconds:.0f} tokens/s ({tokens} tokens in {seconds:.1f} s, "
      f"wall {time.time() - started:.1f} s)")
