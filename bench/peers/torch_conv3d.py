#!/usr/bin/env python3
"""PyTorch as a second peer of `npm run bench -- conv3d`: times the same cases, read from that
benchmark's JSON, so the shapes live in one place. Forward is F.conv3d; backward-data and
backward-weight are torch.nn.grad.conv3d_input / conv3d_weight (what autograd runs). On CUDA, TF32 is
off (the engine computes in f32) and each timing is a batch of launches per synchronisation, as the
engine's is on a GPU. Prints a table and, with --json, writes each case with the engine's and
PyTorch's median milliseconds and their ratio (above 1: the engine is faster).

  python3 bench/peers/torch_conv3d.py BENCH_CONV3D.json [--device cuda] [--json OUT.json]
"""
import argparse
import json
import re
import statistics
import time

import torch
import torch.nn.functional as F

SHAPE = re.compile(r"\[1, (\d+), (\d+), (\d+), (\d+)\] -> \[1, (\d+), (\d+), (\d+), (\d+)\], k (\d+), s (\d+), p (\d+)")


def timed(fn, device, runs, batch):
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    fn()
    sync()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        sync()
        times.append((time.perf_counter() - start) * 1000 / batch)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bench_json")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--json")
    args = ap.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    gpu = device.type == "cuda"
    runs, batch = (20, 20) if gpu else (3, 1)
    cases = [c for c in json.load(open(args.bench_json))["cases"] if c["benchmark"] == "conv3d"]
    rows = []
    for c in cases:
        d, h, w, cin, od, oh, ow, cout, k, s, p = map(int, SHAPE.match(c["shape"]).groups())
        x = torch.randn(1, cin, d, h, w, device=device)
        wt = torch.randn(cout, cin, k, k, k, device=device)
        dy = torch.randn(1, cout, od, oh, ow, device=device)
        fn = {
            "forward": lambda: F.conv3d(x, wt, stride=s, padding=p),
            "backwardData": lambda: torch.nn.grad.conv3d_input(x.shape, wt, dy, stride=s, padding=p),
            "backwardWeight": lambda: torch.nn.grad.conv3d_weight(x, wt.shape, dy, stride=s, padding=p),
        }[c["direction"]]
        ms = timed(fn, device, runs, batch)
        rows.append({"name": c["name"], "engineMs": c["medianMs"], "torchMs": ms, "engineVsTorch": ms / c["medianMs"]})
        print(f"{c['name']:<40} engine {c['medianMs']:10.4f} ms   torch {ms:10.4f} ms   engine/torch speed {ms / c['medianMs']:.3f}x")
    if args.json:
        info = {"torch": torch.__version__, "device": str(device), "name": torch.cuda.get_device_name() if gpu else "cpu", "tf32": False, "cases": rows}
        json.dump(info, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
