"""Writes a VGG16 checkpoint with torchvision's names and shapes and random
weights (conv part, 14.7M parameters) as .safetensors, for timing
bench/vgg16.rhai without downloading vgg16-397923af.pth. numpy only.
    python bench/vgg16_weights.py out/vgg16-random.safetensors"""
import json, struct, sys
import numpy as np

rng = np.random.default_rng(0)
tensors, index, cin = {}, 0, 3
for c in [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]:
    if c == 0:
        index += 1
        continue
    tensors[f"features.{index}.weight"] = (rng.standard_normal((c, cin, 3, 3)) * np.sqrt(2 / (9 * cin))).astype("<f4")
    tensors[f"features.{index}.bias"] = np.zeros(c, "<f4")
    cin, index = c, index + 2
header, offset, blobs = {}, 0, []
for name, t in tensors.items():
    b = t.tobytes()
    header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
    offset += len(b)
    blobs.append(b)
h = json.dumps(header).encode()
with open(sys.argv[1] if len(sys.argv) > 1 else "out/vgg16-random.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
