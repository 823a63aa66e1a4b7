"""SERNet-Former references, written from shared/docs/architectures.md.

variant='fastseg': FastSeg's SERNet_Former (§2.1-2.2), with FastSeg's module names, so the state
dict equals FastSeg's (encoder.initial_conv.conv.weight, decoder.afn1.upsample_block1.bn.bias, ...).
variant='paper': the paper-style reconstruction (§1.3) as segkit specifies it: torchvision
ResNet-50/101 at output stride 8 with attention-boosting modules replacing the final ReLU of the
stem and of each stage's last bottleneck, a DbN bridge 2048 -> 256 and an AfN decoder.

PReLU slopes are randomised (the harness only randomises norms) so a wrong slope shows.
"""
import torch
import torch.nn.functional as F
import torchvision
from torch import nn


def gate(y):
    """Attention-boosting gate: y * sigmoid(y)."""
    return y * torch.sigmoid(y)


class ConvBlock(nn.Module):
    """AbG conv unit: Conv3x3 (no bias) -> BN -> PReLU(y) + y*sigmoid(y)."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.PReLU()

    def forward(self, x):
        y = self.bn(self.conv(x))
        return self.relu(y) + gate(y)


class DilationBlock(nn.Module):
    def __init__(self, cin, cout, d):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=d, dilation=d, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.PReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class DilationBasedNetwork(nn.Module):
    def __init__(self, cin, cout=None):
        super().__init__()
        cout = cout or cin
        self.dilated_conv1 = DilationBlock(cin, cout, 12)
        self.dilated_conv2 = DilationBlock(cin, cout, 16)
        self.dilated_conv3 = DilationBlock(cin, cout, 18)

    def forward(self, x):
        return self.dilated_conv1(x) + self.dilated_conv2(x) + self.dilated_conv3(x)


class AFN(nn.Module):
    """Three gated conv units with flat names conv1/bn1/relu1 ... (Spatial: strides 1,1,1; Context: 2,2,1)."""

    def __init__(self, c, strides):
        super().__init__()
        for i, s in enumerate(strides, 1):
            setattr(self, f'conv{i}', nn.Conv2d(c, c, 3, stride=s, padding=1, bias=False))
            setattr(self, f'bn{i}', nn.BatchNorm2d(c))
            setattr(self, f'relu{i}', nn.PReLU())

    def forward(self, x):
        for i in (1, 2, 3):
            y = getattr(self, f'bn{i}')(getattr(self, f'conv{i}')(x))
            x = getattr(self, f'relu{i}')(y) + gate(y)
        return x


class UpsampleBlock(nn.Module):
    def __init__(self, cin, cout, factor):
        super().__init__()
        self.factor = factor
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.PReLU()

    def forward(self, x, size=None):
        if size is not None:
            x = F.interpolate(x, size=size, mode='bilinear', align_corners=True)
        elif self.factor != 1:
            x = F.interpolate(x, scale_factor=self.factor, mode='bilinear', align_corners=True)
        return self.relu(self.bn(self.conv(x)))


class AfnDecoderBlock(nn.Module):
    """u = up1(x); u + up2(afn(u)). FastSeg upsamples by factors; with `size` given (the paper
    variant, any input size) up1 lands on it and up2 on u's size."""

    def __init__(self, cin, cout, spatial, up=4):
        super().__init__()
        self.afn = AFN(cout, (1, 1, 1) if spatial else (2, 2, 1))
        self.upsample_block1 = UpsampleBlock(cin, cout, 1 if spatial else up)
        self.upsample_block2 = UpsampleBlock(cout, cout, 1 if spatial else 4)

    def forward(self, x, size=None):
        u = self.upsample_block1(x, size)
        return u + self.upsample_block2(self.afn(u), None if size is None else u.shape[-2:])


class Encoder(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.initial_conv = ConvBlock(cin, 64, 2)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.conv1 = ConvBlock(64, 64, 1)
        self.conv2 = ConvBlock(64, 128, 2)
        self.conv3 = ConvBlock(128, 256, 2)
        self.conv4 = ConvBlock(256, 512, 1)
        self.dbn = DilationBasedNetwork(512)

    def forward(self, x):
        acts = []
        for m in (self.initial_conv, self.maxpool, self.conv1, self.conv2, self.conv3, self.conv4, self.dbn):
            x = m(x)
            acts.append(x)
        return acts


class Decoder(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.afn1 = AfnDecoderBlock(64, 64, True)
        self.afn2 = AfnDecoderBlock(512, 32, False, 4)
        self.conv1 = nn.Conv2d(160, 64, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu1 = nn.PReLU()
        self.upsample1 = UpsampleBlock(64, 64, 2)
        self.upsample2 = UpsampleBlock(128, 128, 2)
        self.cls_head = nn.Linear(128, k)

    def forward(self, acts):
        skip1, skip2, skip3 = acts[0], acts[2], acts[6]
        x = torch.cat([skip2, self.afn1(skip2), self.afn2(skip3)], 1)
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.upsample2(torch.cat([skip1, self.upsample1(x)], 1))
        return self.cls_head(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class FastSegSERNet(nn.Module):
    def __init__(self, k, cin):
        super().__init__()
        self.encoder = Encoder(cin)
        self.decoder = Decoder(k)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class PaperDecoder(nn.Module):
    def __init__(self, low, high, k):
        super().__init__()
        self.afn1 = AfnDecoderBlock(low, 64, True)
        self.afn2 = AfnDecoderBlock(high, 64, False, 2)
        self.conv1 = nn.Conv2d(low + 128, 256, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(256)
        self.relu1 = nn.PReLU()
        self.classifier = nn.Conv2d(256, k, 1)

    def forward(self, low, high):
        x = torch.cat([low, self.afn1(low), self.afn2(high, low.shape[-2:])], 1)
        return self.classifier(self.relu1(self.bn1(self.conv1(x))))


def abm(y):
    """Attention-boosting module with ReLU: relu(y) + y*sigmoid(y)."""
    return torch.relu(y) + gate(y)


def bottleneck_abm(b, x):
    """A torchvision Bottleneck whose final ReLU is replaced by the AbM on the pre-ReLU sum."""
    y = b.relu(b.bn1(b.conv1(x)))
    y = b.relu(b.bn2(b.conv2(y)))
    y = b.bn3(b.conv3(y))
    return abm(y + (b.downsample(x) if b.downsample is not None else x))


class PaperSERNet(nn.Module):
    def __init__(self, k, cin, encoder):
        super().__init__()
        fn = {'resnet50': torchvision.models.resnet50, 'resnet101': torchvision.models.resnet101}[encoder]
        self.backbone = fn(replace_stride_with_dilation=[False, True, True])
        if cin != 3:
            self.backbone.conv1 = nn.Conv2d(cin, 64, 7, 2, 3, bias=False)
        self.backbone.fc = None
        self.dbn = DilationBasedNetwork(2048, 256)
        self.decoder = PaperDecoder(256, 256, k)

    def forward(self, x):
        r = self.backbone
        y = r.maxpool(abm(r.bn1(r.conv1(x))))
        feats = []
        for layer in (r.layer1, r.layer2, r.layer3, r.layer4):
            for b in list(layer)[:-1]:
                y = b(y)
            y = bottleneck_abm(layer[-1], y)
            feats.append(y)
        logits = self.decoder(feats[0], self.dbn(feats[3]))
        return F.interpolate(logits, size=x.shape[-2:], mode='bilinear', align_corners=False)


def build(variant='fastseg', numClasses=1, inChannels=3, encoder='resnet50'):
    m = FastSegSERNet(numClasses, inChannels) if variant == 'fastseg' else PaperSERNet(numClasses, inChannels, encoder)
    with torch.no_grad():
        for p in m.modules():
            if isinstance(p, nn.PReLU):
                p.weight.uniform_(0.05, 0.5)
    return m
