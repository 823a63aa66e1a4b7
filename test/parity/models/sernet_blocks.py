"""Reference for segkit's DAM block (HSNet's dual attention as FastSeg reads it, architectures.md
§6.2), without FastSeg's two unused convs. PReLU slopes are randomised so a wrong slope shows."""
import torch
from torch import nn


class CAM(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.attn = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cout, cout, 1), nn.PReLU(),
                                  nn.Conv2d(cout, cout, 1, bias=False), nn.Sigmoid())

    def forward(self, x):
        y = self.conv(x)
        return y + y * self.attn(y)


class ChannelMean(nn.Module):
    def forward(self, x):
        return x.mean(1, keepdim=True)


class SAM(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.attn = nn.Sequential(ChannelMean(), nn.Conv2d(1, 1, 7, padding=3), nn.PReLU(),
                                  nn.Conv2d(1, 1, 7, padding=6, dilation=2), nn.Sigmoid())

    def forward(self, x):
        y = self.conv(x)
        return y + y * self.attn(y)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.cam = CAM(c, c // 2)
        self.sam = SAM(c, c - c // 2)

    def forward(self, x):
        return torch.cat([self.cam(x), self.sam(x)], 1)


class DAM(nn.Module):
    def __init__(self, c, n):
        super().__init__()
        self.dam = nn.ModuleList([Block(c) for _ in range(n)])

    def forward(self, x):
        for b in self.dam:
            x = b(x)
        return x


def build(block='dam', channels=8, nBlocks=2):
    if block != 'dam':
        raise ValueError(f'unknown block {block!r}')
    m = DAM(channels, nBlocks)
    with torch.no_grad():
        for p in m.modules():
            if isinstance(p, nn.PReLU):
                p.weight.uniform_(0.05, 0.5)
    return m
