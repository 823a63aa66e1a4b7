"""SETR (architectures.md §4) in PyTorch: the reference segkit's SETR must match.

Written from the doc, following the structure and module names of the official fudan-zvg/SETR
code that §4 describes (VisionTransformer / VIT_MLA backbones, VisionTransformerUpHead,
VIT_MLAHead, VIT_MLA_AUXIHead), with two documented departures: the cls token is always dropped as
token 0 (§4.7, §8 #13) and every resize takes both axes from the input so H != W works. The unused
`conv_seg` of mmseg's BaseDecodeHead is not built. The position embedding is resized to the input's
patch grid inside forward (bilinear, align_corners=False, cls slot kept) - the same computation the
official code does once at load time.

build(variant='pup', encoder='vit-l16', numClasses=19, imgSize=768, inChannels=3)
eval mode returns the main logits, training mode [main, *aux].
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

ENCODERS = {  # embed_dim, depth, num_heads
    'vit-t16': (192, 12, 3),
    'vit-s16': (384, 12, 6),
    'vit-b16': (768, 12, 12),
    'vit-l16': (1024, 24, 16),
}
# Block indices (0-based) the heads read: ViT-L from §4.2-4.4; 12 blocks from the released
# Naive-Base / PUP-DeiT / MLA-DeiT configs.
TAPS = {
    24: {'naive': [9, 14, 19], 'pup': [9, 14, 19, 23], 'mla': [5, 11, 17, 23]},
    12: {'naive': [2, 5, 8], 'pup': [4, 7, 9, 11], 'mla': [2, 5, 8, 11]},
}
EPS = 1e-6
PATCH = 16


def bilinear(x, size, align_corners=False):
    return F.interpolate(x, size=size, mode='bilinear', align_corners=align_corners)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        a = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=EPS)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=EPS)
        self.mlp = Mlp(dim, 4 * dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, PATCH, stride=PATCH)

    def forward(self, x):
        return self.proj(x)


class VisionTransformer(nn.Module):
    """Returns the token sequences after every block; `keep_cls=False` is VIT_MLA's early drop."""

    def __init__(self, dim, depth, heads, img_size, cin, keep_cls=True):
        super().__init__()
        self.grid = img_size // PATCH
        self.keep_cls = keep_cls
        self.patch_embed = PatchEmbed(cin, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid * self.grid + 1, dim))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])

    def pos_for(self, gh, gw):
        # At the stored grid size this resize is an exact copy; no branch keeps the ONNX export clean.
        n, _, c = self.pos_embed.shape
        grid = self.pos_embed[:, 1:].transpose(1, 2).reshape(n, c, self.grid, self.grid)
        grid = bilinear(grid, (gh, gw)).reshape(n, c, gh * gw).transpose(1, 2)
        return torch.cat([self.pos_embed[:, :1], grid], dim=1)

    def forward(self, x):
        y = self.patch_embed(x)
        gh, gw = y.shape[2], y.shape[3]
        y = y.flatten(2).transpose(1, 2)
        y = torch.cat([self.cls_token.expand(y.shape[0], -1, -1), y], dim=1) + self.pos_for(gh, gw)
        if not self.keep_cls:
            y = y[:, 1:]
        outs = []
        for blk in self.blocks:
            y = blk(y)
            outs.append(y)
        return outs, (gh, gw)


def to_2d(tokens, grid):
    b, n, c = tokens.shape
    return tokens.transpose(1, 2).reshape(b, c, grid[0], grid[1])


class VisionTransformerUpHead(nn.Module):
    """kind: 'naive' (§4.2), 'pup' (§4.3 main), 'pup_aux' (§4.3 auxiliary)."""

    def __init__(self, kind, dim, num_classes):
        super().__init__()
        self.kind = kind
        self.norm = nn.LayerNorm(dim, eps=EPS)
        if kind == 'pup':
            self.conv_0 = nn.Conv2d(dim, 256, 3, padding=1)
            self.conv_1 = nn.Conv2d(256, 256, 3, padding=1)
            self.conv_2 = nn.Conv2d(256, 256, 3, padding=1)
            self.conv_3 = nn.Conv2d(256, 256, 3, padding=1)
            self.conv_4 = nn.Conv2d(256, num_classes, 1)
            self.syncbn_fc_0 = nn.BatchNorm2d(256)
            self.syncbn_fc_1 = nn.BatchNorm2d(256)
            self.syncbn_fc_2 = nn.BatchNorm2d(256)
            self.syncbn_fc_3 = nn.BatchNorm2d(256)
        else:
            self.conv_0 = nn.Conv2d(dim, 256, 1) if kind == 'naive' else nn.Conv2d(dim, 256, 3, padding=1)
            self.conv_1 = nn.Conv2d(256, num_classes, 1)
            self.syncbn_fc_0 = nn.BatchNorm2d(256)

    def forward(self, tokens, grid, size):
        x = to_2d(self.norm(tokens[:, 1:]), grid)
        if self.kind == 'pup':
            x = F.relu(self.syncbn_fc_0(self.conv_0(x)))
            x = bilinear(x, (2 * x.shape[2], 2 * x.shape[3]))
            x = F.relu(self.syncbn_fc_1(self.conv_1(x)))
            x = bilinear(x, (2 * x.shape[2], 2 * x.shape[3]))
            x = F.relu(self.syncbn_fc_2(self.conv_2(x)))
            x = bilinear(x, (2 * x.shape[2], 2 * x.shape[3]))
            x = F.relu(self.syncbn_fc_3(self.conv_3(x)))
            x = self.conv_4(x)
            return bilinear(x, (2 * x.shape[2], 2 * x.shape[3]))
        x = F.relu(self.syncbn_fc_0(self.conv_0(x)))
        if self.kind == 'pup_aux':
            x = bilinear(x, (4 * x.shape[2], 4 * x.shape[3]))
        return bilinear(self.conv_1(x), size)


def cbr(cin, cout, k):
    return [nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class Conv_MLA(nn.Module):
    def __init__(self, dim, ch=256):
        super().__init__()
        for lvl in (2, 3, 4, 5):
            setattr(self, f'mla_p{lvl}_1x1', nn.Sequential(*cbr(dim, ch, 1)))
        for lvl in (2, 3, 4, 5):
            setattr(self, f'mla_p{lvl}', nn.Sequential(*cbr(ch, ch, 3)))

    def forward(self, r2, r3, r4, r5):
        p5 = self.mla_p5_1x1(r5)
        p4 = p5 + self.mla_p4_1x1(r4)
        p3 = p4 + self.mla_p3_1x1(r3)
        p2 = p3 + self.mla_p2_1x1(r2)
        return self.mla_p2(p2), self.mla_p3(p3), self.mla_p4(p4), self.mla_p5(p5)


class VIT_MLA(VisionTransformer):
    def __init__(self, dim, depth, heads, img_size, cin, mla_index):
        super().__init__(dim, depth, heads, img_size, cin, keep_cls=False)
        self.mla_index = mla_index
        self.mla = Conv_MLA(dim)
        self.norm_0 = nn.LayerNorm(dim, eps=EPS)
        self.norm_1 = nn.LayerNorm(dim, eps=EPS)
        self.norm_2 = nn.LayerNorm(dim, eps=EPS)
        self.norm_3 = nn.LayerNorm(dim, eps=EPS)

    def forward(self, x):
        outs, grid = super().forward(x)
        norms = [self.norm_0, self.norm_1, self.norm_2, self.norm_3]
        maps = [to_2d(n(outs[i]), grid) for n, i in zip(norms, self.mla_index)]
        return self.mla(*maps)


class MLAHead(nn.Module):
    def __init__(self, ch=256, hch=128):
        super().__init__()
        for lvl in (2, 3, 4, 5):
            setattr(self, f'head{lvl}', nn.Sequential(*cbr(ch, hch, 3), *cbr(hch, hch, 3)))

    def forward(self, p2, p3, p4, p5):
        ys = []
        for p, head in zip((p2, p3, p4, p5), (self.head2, self.head3, self.head4, self.head5)):
            ys.append(bilinear(head(p), (4 * p.shape[2], 4 * p.shape[3]), align_corners=True))
        return torch.cat(ys, dim=1)


class VIT_MLAHead(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.mlahead = MLAHead()
        self.cls = nn.Conv2d(4 * 128, num_classes, 3, padding=1)

    def forward(self, ps, size):
        return bilinear(self.cls(self.mlahead(*ps)), size)


class VIT_MLA_AUXIHead(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.aux = nn.Conv2d(256, num_classes, 1, bias=False)

    def forward(self, p, size):
        return bilinear(self.aux(p), size)


class SETR(nn.Module):
    def __init__(self, variant, encoder, num_classes, img_size, cin):
        super().__init__()
        dim, depth, heads = ENCODERS[encoder]
        self.variant = variant
        self.taps = TAPS[depth][variant]
        if variant == 'mla':
            self.backbone = VIT_MLA(dim, depth, heads, img_size, cin, self.taps)
            self.decode_head = VIT_MLAHead(num_classes)
            self.auxiliary_head = nn.ModuleList([VIT_MLA_AUXIHead(num_classes) for _ in self.taps])
        else:
            self.backbone = VisionTransformer(dim, depth, heads, img_size, cin)
            self.decode_head = VisionTransformerUpHead(variant, dim, num_classes)
            aux = 'pup_aux' if variant == 'pup' else 'naive'
            self.auxiliary_head = nn.ModuleList([VisionTransformerUpHead(aux, dim, num_classes) for _ in self.taps])

    def forward(self, x):
        size = (x.shape[2], x.shape[3])
        if self.variant == 'mla':
            ps = self.backbone(x)
            main = self.decode_head(ps, size)
            aux = [h(p, size) for h, p in zip(self.auxiliary_head, ps)]
        else:
            outs, grid = self.backbone(x)
            main = self.decode_head(outs[-1], grid, size)
            aux = [h(outs[i], grid, size) for h, i in zip(self.auxiliary_head, self.taps)]
        return [main, *aux] if self.training else main


def build(variant='pup', encoder='vit-l16', numClasses=19, imgSize=768, inChannels=3):
    return SETR(variant, encoder, numClasses, imgSize, inChannels)
