#!/usr/bin/env python3
"""The peer of `npm run bench -- train`: one training step of each Screener stage, written in PyTorch.

Reads the project's model configuration (the JSON that travels in every .safetensors file) on stdin
and builds the same networks at the same sizes: the dense UNet (conv-GroupNorm-activation blocks,
strided-conv downsampling, 1x1x1-reduced decoder levels, d-channel heads merged top-down by trilinear
x2 upsampling), the projector MLP with DenseVICReg on voxel pairs of two crops, the condition network
on masked two-channel input, and the density stage (frozen networks forward, average pooling, noise,
then a conditional Glow or Gaussian NLL). Crops are random: this times a step, it does not learn.
Prints one JSON object: median milliseconds per step for each stage, after one untimed warm-up step.

  python3 bench/peers/torch_train_step.py [--steps N] [--threads T] [--device cpu|cuda] < config.json

On CUDA, TF32 is off so that the arithmetic is the f32 the engine does.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def activation(kind):
    return nn.SiLU() if kind == "silu" else nn.LeakyReLU(0.01)


def block(cin, cout, groups, act, stride=1):
    return nn.Sequential(nn.Conv3d(cin, cout, 3, stride, 1, bias=False), nn.GroupNorm(min(groups, cout), cout), activation(act))


class DenseUNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c, g, act = cfg["channels"], cfg["groups"], cfg["activation"]
        self.encoder = nn.ModuleList(
            nn.Sequential(block(cfg["inputChannels"] if i == 0 else c[i - 1], ch, g, act, 2 if i > 0 else 1), block(ch, ch, g, act))
            for i, ch in enumerate(c)
        )
        self.heads = nn.ModuleList(nn.Conv3d(ch, cfg["embedding"], 1, bias=i == 0) for i, ch in enumerate(c))
        self.reduce = nn.ModuleList(nn.Conv3d(c[i + 1], c[i], 1, bias=False) for i in range(len(c) - 1))
        self.fuse = nn.ModuleList(block(2 * c[i], c[i], g, act) for i in range(len(c) - 1))

    def forward(self, x):
        skips = []
        for level in self.encoder:
            x = level(x)
            skips.append(x)
        levels = len(skips)
        decoded = [None] * levels
        decoded[-1] = x
        for i in range(levels - 2, -1, -1):
            up = F.interpolate(self.reduce[i](decoded[i + 1]), scale_factor=2, mode="trilinear", align_corners=False)
            decoded[i] = self.fuse[i](torch.cat([up, skips[i]], 1))
        merged = self.heads[-1](decoded[-1])
        for i in range(levels - 2, -1, -1):
            merged = F.interpolate(merged, scale_factor=2, mode="trilinear", align_corners=False) + self.heads[i](decoded[i])
        return merged


def mlp(widths):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def vicreg(za, zb, weights):
    inv = F.mse_loss(za, zb)
    var = cov = 0.0
    for z in (za, zb):
        z = z - z.mean(0)
        std = torch.sqrt(z.var(0) + 1e-4)
        var = var + F.relu(1 - std).mean() / 2
        c = (z.T @ z) / (z.shape[0] - 1)
        off = c - torch.diag(torch.diag(c))
        cov = cov + off.pow(2).sum() / z.shape[1]
    return weights[0] * inv + weights[1] * var + weights[2] * cov


class GlowBlock(nn.Module):
    """ActNorm modulated by the condition, invertible 1x1x1 (LU), affine coupling seeing the condition."""

    def __init__(self, d, c, hidden):
        super().__init__()
        self.log_scale = nn.Parameter(torch.zeros(d))
        self.bias = nn.Parameter(torch.zeros(d))
        self.modulate = nn.Linear(c, 2 * d) if c else None
        w = torch.linalg.qr(torch.randn(d, d))[0]
        p, l, u = torch.linalg.lu(w)
        self.register_buffer("p", p)
        self.l = nn.Parameter(l)
        self.log_s = nn.Parameter(torch.log(torch.abs(torch.diag(u))))
        self.register_buffer("sign_s", torch.sign(torch.diag(u)))
        self.u = nn.Parameter(torch.triu(u, 1))
        self.half = d // 2
        self.net = mlp([self.half + c, hidden, hidden, 2 * (d - self.half)])

    def forward(self, x, cond):
        log_scale, bias = self.log_scale, self.bias
        if self.modulate is not None:
            ds, db = self.modulate(cond).chunk(2, -1)
            log_scale, bias = log_scale + ds, bias + db
        x = (x + bias) * torch.exp(log_scale)
        logdet = log_scale.sum(-1) if log_scale.dim() > 1 else log_scale.sum().expand(x.shape[0])
        d = x.shape[1]
        eye = torch.eye(d, device=x.device)
        w = self.p @ (torch.tril(self.l, -1) + eye) @ (torch.triu(self.u, 1) + torch.diag(self.sign_s * torch.exp(self.log_s)))
        x = x @ w.T
        logdet = logdet + self.log_s.sum()
        xa, xb = x[:, : self.half], x[:, self.half :]
        shift, s = self.net(torch.cat([xa, cond], -1) if cond is not None else xa).chunk(2, -1)
        log_sig = -F.softplus(-(s + 2))
        return torch.cat([xa, (xb + shift) * torch.exp(log_sig)], -1), logdet + log_sig.sum(-1)


class Flow(nn.Module):
    def __init__(self, d, c, blocks, hidden):
        super().__init__()
        self.blocks = nn.ModuleList(GlowBlock(d, c, hidden) for _ in range(blocks))

    def nll(self, x, cond):
        logdet = 0
        for b in self.blocks:
            x, ld = b(x, cond)
            logdet = logdet + ld
        return (0.5 * (x * x).sum(-1) + 0.5 * x.shape[1] * math.log(2 * math.pi) - logdet).mean()


class Gaussian(nn.Module):
    def __init__(self, d, c, hidden):
        super().__init__()
        self.hidden = nn.Conv3d(c, hidden, 3, padding=1)
        self.out = nn.Conv3d(hidden, 2 * d, 3, padding=1)

    def nll(self, x, cond):
        mean, log_var = self.out(F.leaky_relu(self.hidden(cond), 0.01)).chunk(2, 1)
        return (0.5 * (log_var + (x - mean) ** 2 * torch.exp(-log_var) + math.log(2 * math.pi))).sum(1).mean()


def median_ms(step, steps, sync):
    step()
    sync()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: every core, as the engine's adapter uses them)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    cfg = json.load(sys.stdin)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    dev = torch.device(args.device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)
    torch.manual_seed(0)
    batch = cfg["train"]["batch"]
    crop = cfg["train"]["cropSize"]
    positions = cfg["ssl"]["positions"]
    result = {"torch": torch.__version__, "device": str(dev), "threads": torch.get_num_threads(), "steps": args.steps}

    def ssl_stage(net_cfg):
        net = DenseUNet(net_cfg).to(dev)
        head = mlp([net_cfg["embedding"], *cfg["ssl"]["projector"]]).to(dev)
        opt = torch.optim.AdamW([*net.parameters(), *head.parameters()], lr=1e-3, weight_decay=1e-4)
        cin = net_cfg["inputChannels"]

        def step():
            x = torch.rand(2 * batch, cin, *crop, device=dev)
            feats = net(x).permute(0, 2, 3, 4, 1).reshape(2, batch, -1, net_cfg["embedding"])
            idx = torch.randint(0, feats.shape[2], (batch, positions), device=dev)
            za = head(torch.stack([feats[0, b, idx[b]] for b in range(batch)]).reshape(-1, net_cfg["embedding"]))
            zb = head(torch.stack([feats[1, b, idx[b]] for b in range(batch)]).reshape(-1, net_cfg["embedding"]))
            loss = vicreg(za, zb, cfg["ssl"]["vicregWeights"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([*net.parameters(), *head.parameters()], cfg["train"]["ssl"]["clipNorm"])
            opt.step()

        return net, median_ms(step, args.steps, sync)

    descriptor, result["descriptor"] = ssl_stage(cfg["descriptor"])
    condition, result["condition"] = ssl_stage(cfg["condition"])

    dens = cfg["density"]
    d = cfg["descriptor"]["embedding"]
    c = cfg["condition"]["embedding"] if dens["condition"] == "masked" else (6 * dens["sincosFrequencies"] if dens["condition"] == "sincos" else 0)
    model = (Flow(d, c, dens["flowBlocks"], dens["flowHidden"]) if dens["kind"] == "flow" else Gaussian(d, c, dens["gaussianHidden"])).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    pool = dens["poolStride"]

    def density_step():
        with torch.no_grad():
            x = torch.rand(2 * batch, 1, *crop, device=dev)
            desc = F.avg_pool3d(descriptor(x), pool)
            desc = desc + dens["noiseStd"] * torch.randn_like(desc)
            cond = F.avg_pool3d(condition(torch.cat([x, torch.ones_like(x)], 1)), pool) if dens["condition"] == "masked" else None
        if dens["kind"] == "flow":
            flat = lambda t: t.permute(0, 2, 3, 4, 1).reshape(-1, t.shape[1])
            loss = model.nll(flat(desc), flat(cond) if cond is not None else None)
        else:
            loss = model.nll(desc, cond)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    result["density"] = median_ms(density_step, args.steps, sync)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
