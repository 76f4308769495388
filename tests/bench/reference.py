#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PyTorch reference for `winnow bench --reference`.

Does the same work as winnow's benchmark the way a PyTorch / fastai user would write it: torchvision ImageFolder +
DataLoader with worker processes, PIL decoding, torchvision transforms, the same network (torchvision body + fastai
head), the same batch size, image size and torch thread count. Prints one JSON object on stdout.

Run with Debian's interpreter (/usr/bin/python3) and python3-torch + python3-torchvision; no other packages.
"""

import argparse
import glob
import json
import math
import os
import resource
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
from PIL import Image

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def now():
    return time.perf_counter()


# ---------------------------------------------------------------------------------------------------------------------
# Peak memory (main process; workers are reported apart)

def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def children_peak_mb():
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


# ---------------------------------------------------------------------------------------------------------------------
# Model: torchvision body + fastai's create_head, as vision_learner builds it

class AdaptiveConcatPool2d(nn.Module):
    def forward(self, x):
        return torch.cat([F.adaptive_max_pool2d(x, 1), F.adaptive_avg_pool2d(x, 1)], 1)


def read_safetensors(path):
    """A tiny safetensors reader (the safetensors package is not in Debian's torch stack)."""
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64,
              "I32": torch.int32, "U8": torch.uint8}
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = dtypes[info["dtype"]]
        if end > begin:
            t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype)
        else:
            t = torch.zeros(0, dtype=dtype)
        out[name] = t.reshape(info["shape"])
    return out


def make_model(arch, n_classes, weights=None):
    full = getattr(torchvision.models, arch)()
    if weights:
        full.load_state_dict(read_safetensors(weights), strict=False)
    if arch.startswith("mobilenet"):
        body, nf = full.features, full.last_channel
    else:
        body = nn.Sequential(*list(full.children())[:-2])
        nf = full.fc.in_features
    head = nn.Sequential(
        AdaptiveConcatPool2d(), nn.Flatten(),
        nn.BatchNorm1d(2 * nf), nn.Dropout(0.25), nn.Linear(2 * nf, 512, bias=False), nn.ReLU(inplace=True),
        nn.BatchNorm1d(512), nn.Dropout(0.5), nn.Linear(512, n_classes, bias=False))
    return nn.Sequential(body, head)


def param_groups(model, arch):
    body, head = model[0], model[1]
    if arch.startswith("mobilenet"):
        g0 = [p for m in list(body)[:7] for p in m.parameters()]
        g1 = [p for m in list(body)[7:] for p in m.parameters()]
    else:
        kids = list(body)
        g0 = [p for m in kids[:6] for p in m.parameters()]
        g1 = [p for m in kids[6:] for p in m.parameters()]
    return [g0, g1, list(head.parameters())]


def set_frozen(model, frozen):
    """fastai freeze(): the body stops training except its BatchNorm layers (train_bn=True)."""
    for m in model[0].modules():
        bn = isinstance(m, nn.modules.batchnorm._BatchNorm)
        for p in m.parameters(recurse=False):
            p.requires_grad_(bn or not frozen)


# ---------------------------------------------------------------------------------------------------------------------
# Data

def valid_extra(size):
    return int(math.ceil(size * 0.14 / 8) * 8)


def train_transform(size):
    # fastai's item_tfms=RandomResizedCrop(size, min_scale=0.5) + batch_tfms=aug_transforms(), in torchvision terms
    # (aug_transforms' perspective warp is left out: less work for the reference, not more).
    return T.Compose([
        T.RandomResizedCrop(size, scale=(0.5, 1.0)),
        T.RandomHorizontalFlip(),
        T.RandomAffine(degrees=10, scale=(1.0, 1.1)),
        T.ColorJitter(brightness=0.2, contrast=0.2),
        T.ToTensor(),
        T.Normalize(MEAN, STD),
    ])


def valid_transform(size):
    s = size + valid_extra(size)
    return T.Compose([T.Resize((s, s)), T.CenterCrop(size), T.ToTensor(), T.Normalize(MEAN, STD)])


def split_indices(folder, split_file, valid_pct, seed):
    """Train/valid indices into `folder`'s samples. With winnow's split file (relative path, label, split per line)
    the very same files are used; otherwise a seeded random split of the same size."""
    if split_file:
        pos = {os.path.relpath(p, folder.root).replace(os.sep, "/"): i for i, (p, _) in enumerate(folder.samples)}
        train, valid = [], []
        with open(split_file) as f:
            for line in f:
                rel, _label, split = line.rstrip("\n").split("\t")
                if rel in pos:
                    (train if split == "train" else valid).append(pos[rel])
        return train, valid
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(folder), generator=g).tolist()
    n_valid = int(valid_pct * len(perm))
    return perm[n_valid:], perm[:n_valid]


def loader(dataset, bs, workers, train):
    return torch.utils.data.DataLoader(dataset, batch_size=bs, shuffle=train, drop_last=train, num_workers=workers)


# ---------------------------------------------------------------------------------------------------------------------
# Benchmarks

def bench_train(a):
    """fastai fine_tune(epochs, freeze_epochs) with an ImageFolder + DataLoader pipeline."""
    torch.manual_seed(a.seed)
    folder_train = torchvision.datasets.ImageFolder(a.dataset, transform=train_transform(a.size))
    folder_valid = torchvision.datasets.ImageFolder(a.dataset, transform=valid_transform(a.size))
    train_idx, valid_idx = split_indices(folder_train, a.split_file, a.valid_pct, a.seed)
    n_classes = len(folder_train.classes)
    reset_peak()
    t_start = now()
    model = make_model(a.arch, n_classes, a.weights)
    train_dl = loader(torch.utils.data.Subset(folder_train, train_idx), a.bs, a.workers, True)
    valid_dl = loader(torch.utils.data.Subset(folder_valid, valid_idx), a.bs, a.workers, False)
    groups = param_groups(model, a.arch)
    epochs_out = []
    images = 0

    def fit_one_cycle(n_epochs, lrs, pct_start, div, stage, first_epoch):
        nonlocal images
        opt = torch.optim.AdamW([{"params": g, "lr": lr} for g, lr in zip(groups, lrs)], betas=(0.9, 0.99), eps=1e-5,
                                weight_decay=0.01)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lrs, total_steps=max(1, n_epochs * len(train_dl)),
                                                    pct_start=pct_start, div_factor=div, final_div_factor=1e5,
                                                    base_momentum=0.85, max_momentum=0.95)
        for e in range(n_epochs):
            t0 = now()
            model.train()
            smooth, count = 0.0, 0
            for x, y in train_dl:
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                count += 1
                smooth = 0.98 * smooth + 0.02 * loss.item()
                images += x.shape[0]
            t1 = now()
            model.eval()
            vloss, wrong, n = 0.0, 0, 0
            with torch.no_grad():
                for x, y in valid_dl:
                    out = model(x)
                    vloss += F.cross_entropy(out, y, reduction="sum").item()
                    wrong += (out.argmax(1) != y).sum().item()
                    n += x.shape[0]
            t2 = now()
            epochs_out.append({
                "epoch": first_epoch + e, "stage": stage,
                "train_loss": smooth / (1 - 0.98 ** max(1, count)),
                "valid_loss": vloss / max(1, n), "error_rate": wrong / max(1, n),
                "train_s": t1 - t0, "valid_s": t2 - t1, "seconds": t2 - t0,
                "train_img_per_s": count * a.bs / max(1e-9, t1 - t0),
            })

    base_lr = a.lr
    if a.freeze_epochs > 0:
        set_frozen(model, True)
        fit_one_cycle(a.freeze_epochs, [base_lr] * 3, 0.99, 25.0, "frozen", 0)
    set_frozen(model, False)
    base_lr /= 2
    fit_one_cycle(a.epochs, [base_lr / 100, base_lr / 10, base_lr], 0.3, 5.0, "unfrozen", a.freeze_epochs)
    wall = now() - t_start
    return model, folder_valid, train_idx + valid_idx, {
        "train_items": len(train_idx), "valid_items": len(valid_idx), "classes": n_classes,
        "epochs": epochs_out, "images_trained": images, "wall_s": wall,
        "img_per_s": images / max(1e-9, wall),
        "peak_rss_mb": peak_mb(), "workers_peak_rss_mb": children_peak_mb(),
    }


def bench_score(a, model, folder_valid, indices):
    """Scores every labeled image (validation transform), twice: a PyTorch DataLoader has no cache to reuse."""
    dl = loader(torch.utils.data.Subset(folder_valid, sorted(indices)), a.bs, a.workers, False)
    model.eval()
    passes = []
    for _ in range(2):
        t0 = now()
        probs, losses = [], []
        with torch.no_grad():
            for x, y in dl:
                out = model(x)
                probs.append(torch.softmax(out, 1))
                losses.append(F.cross_entropy(out, y, reduction="none"))
        torch.cat(probs)
        dt = now() - t0
        passes.append({"seconds": dt, "img_per_s": len(indices) / max(1e-9, dt)})
    return {"items": len(indices), "passes": passes}


def bench_model(a, n_classes):
    """Model-only throughput on synthetic tensors: forward + backward + AdamW step; then no_grad + softmax."""
    torch.manual_seed(0)
    model = make_model(a.arch, n_classes)
    x = torch.randn(a.bs, 3, a.size, a.size)
    y = torch.randint(n_classes, (a.bs,))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01)
    model.train()

    def train_step():
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    for _ in range(a.warmup):
        train_step()
    t0 = now()
    for _ in range(a.steps):
        train_step()
    train_s = now() - t0
    model.eval()
    with torch.no_grad():
        for _ in range(a.warmup):
            torch.softmax(model(x), 1)
        t0 = now()
        for _ in range(a.steps):
            torch.softmax(model(x), 1)
        infer_s = now() - t0
    n = a.steps * a.bs
    return {"steps": a.steps, "train_img_per_s": n / train_s, "infer_img_per_s": n / infer_s,
            "train_s": train_s, "infer_s": infer_s}


def bench_decode(a):
    """PIL decode + torchvision validation transform of full-size photos, one thread (torchvision's default loader:
    Image.open + convert('RGB'), no draft mode)."""
    files = sorted(glob.glob(os.path.join(a.photos, "*.jpg")))
    if not files:
        return {"error": "no photos in " + a.photos}
    for p in files:  # warm the page cache, as the winnow side does
        with open(p, "rb") as f:
            f.read()
    size = a.decode_size
    s = size + valid_extra(size)
    full = valid_transform(size)
    rounds = a.decode_rounds

    def run(fn):
        t0 = now()
        for _ in range(rounds):
            for p in files:
                fn(p)
        return len(files) * rounds / (now() - t0)

    def pil_load(p):
        with open(p, "rb") as f:
            return Image.open(f).convert("RGB")

    def decode_only(p):
        pil_load(p)

    def decode_resize(p):
        pil_load(p).resize((s, s), Image.BILINEAR).crop(((s - size) // 2, (s - size) // 2,
                                                         (s - size) // 2 + size, (s - size) // 2 + size))

    def decode_tensor(p):
        full(pil_load(p))

    for p in files:  # warm-up pass (allocator, caches), untimed
        decode_tensor(p)
    w, h = Image.open(files[0]).size
    return {"photos": len(files), "width": w, "height": h, "size": size, "rounds": rounds,
            "decode_img_per_s": run(decode_only), "decode_resize_img_per_s": run(decode_resize),
            "decode_tensor_img_per_s": run(decode_tensor)}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dataset")
    p.add_argument("--split-file", help="winnow's split: relative path, label, split per line (tab-separated)")
    p.add_argument("--arch", default="mobilenet_v2")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--bs", type=int, default=32)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--workers", type=int, default=min(16, os.cpu_count() or 1),
                   help="DataLoader num_workers (fastai's default: the CPU count, at most 16)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--freeze-epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--valid-pct", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--weights")
    p.add_argument("--steps", type=int, default=10, help="model-only: timed steps")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--photos", help="folder of full-size JPEGs for the decode benchmark")
    p.add_argument("--decode-size", type=int, default=224)
    p.add_argument("--decode-rounds", type=int, default=2)
    p.add_argument("--parts", default="decode,model,train,score")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    parts = set(a.parts.split(","))
    out = {"python": sys.version.split()[0], "torch": torch.__version__, "torchvision": torchvision.__version__,
           "threads": torch.get_num_threads(), "workers": a.workers, "arch": a.arch, "size": a.size, "bs": a.bs}
    n_classes = 3
    if a.dataset:
        n_classes = len(torchvision.datasets.ImageFolder(a.dataset).classes)
    if "decode" in parts and a.photos:
        out["decode"] = bench_decode(a)
    if "model" in parts:
        out["model"] = bench_model(a, n_classes)
    if "train" in parts and a.dataset:
        model, folder_valid, indices, out["train"] = bench_train(a)
        if "score" in parts:
            out["score"] = bench_score(a, model, folder_valid, indices)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
