"""Reference networks in plain torch, exporters, and analytic MAC counts independent of costs.py.

The analytic counts come from layer hyperparameters and the activation shapes torch itself
produces (forward hooks), with textbook formulas written here, never from the IR cost code.
"""

from __future__ import annotations

import io
import math
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

# ---------------------------------------------------------------- reference CNNs


class BasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convs, identity or 1x1 projection shortcut)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.down(x))


class ResNet18(nn.Module):
    """ResNet-18 as in He et al. 2016 (torchvision layout)."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, 2, 3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
        )
        layers: list[nn.Module] = []
        cin = 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, 1x1 project (ReLU6)."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.residual else self.body(x)


class MobileNetV2(nn.Module):
    """MobileNetV2 (width 1.0) as in Sandler et al. 2018."""

    SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                (6, 160, 3, 2), (6, 320, 1, 1))  # fmt: skip

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6()
        ]  # fmt: skip
        cin = 32
        for expand, cout, repeats, stride in self.SETTINGS:
            for i in range(repeats):
                layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expand))
                cin = cout
        layers += [nn.Conv2d(cin, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU6()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x).mean(dim=(2, 3))
        return self.classifier(x)


# ---------------------------------------------------------------- small test networks


class TorchMHA(nn.Module):
    """nn.MultiheadAttention self-attention (batch first)."""

    def __init__(self, dim: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(x, x, x, need_weights=False)[0]


class ManualAttention(nn.Module):
    """Q/K/V projections, scaled dot product, softmax, output projection, residual, LayerNorm."""

    def __init__(self, dim: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.heads, self.dim = heads, dim
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        d = self.dim // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(b, n, self.heads, d).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        attn = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d), dim=-1)
        y = (attn @ v).transpose(1, 2).reshape(b, n, self.dim)
        return self.norm(x + self.o(y))


class ConvMix(nn.Module):
    """Grouped conv, depthwise conv, pointwise conv, hardswish, pooling, linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.grouped = nn.Conv2d(16, 32, 3, padding=1, groups=4)
        self.bn = nn.BatchNorm2d(32)
        self.depthwise = nn.Conv2d(32, 32, 5, stride=2, padding=2, groups=32, bias=False)
        self.pointwise = nn.Conv2d(32, 24, 1)
        self.head = nn.Linear(24, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.hardswish(self.bn(self.grouped(x)))
        x = torch.relu(self.pointwise(self.depthwise(x)))
        x = nn.functional.max_pool2d(x, 2)
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class Conv1dNet(nn.Module):
    """Conv1d stack with a linear head on the flattened sequence."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv1d(4, 16, 5, stride=2)
        self.c2 = nn.Conv1d(16, 16, 3, padding=1, groups=16)
        self.head = nn.Linear(16 * 14, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.c2(torch.relu(self.c1(x))))
        return self.head(torch.flatten(x, 1))


class Recurrent(nn.Module):
    """LSTM / GRU layer stack returning the full output sequence."""

    def __init__(self, kind: str, layers: int, bidirectional: bool) -> None:
        super().__init__()
        cls = nn.LSTM if kind == "lstm" else nn.GRU
        self.rnn = cls(12, 20, num_layers=layers, bidirectional=bidirectional)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x)[0]


class MLP(nn.Module):
    """Linear layers on a 3-D (batch, tokens, features) input and a 2-D one."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(16, 48)
        self.b = nn.Linear(48, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(nn.functional.gelu(self.a(x)))


class MiscOps(nn.Module):
    """SiLU, ConvTranspose + BN, nearest resize, pad/slice, concat, avg pool, embedding, LayerNorm,
    tanh-GELU, BatchNorm1d after Linear, mean and softmax."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(8, 16, 3, padding=1)
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.AvgPool2d(2)
        self.emb = nn.Embedding(20, 8)
        self.norm = nn.LayerNorm(8)
        self.fc = nn.Linear(8, 4)
        self.bn1d = nn.BatchNorm1d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn(self.up(nn.functional.silu(self.conv(x))))
        y = nn.functional.interpolate(y, scale_factor=0.5, mode="nearest")
        y = torch.cat([y, nn.functional.pad(x, (1, 1, 1, 1))[:, :, 1:-1, 1:-1]], dim=1)
        y = self.pool(y).flatten(2).transpose(1, 2)
        y = y[..., :8] + self.emb(torch.arange(y.shape[1]) % 20)
        y = self.fc(nn.functional.gelu(self.norm(y), approximate="tanh")).mean(1)
        return torch.softmax(self.bn1d(y), -1)


class TinyTransformer(nn.Module):
    """Two post-norm nn.TransformerEncoder layers (MHA + feed-forward)."""

    def __init__(self) -> None:
        super().__init__()
        layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)


class ChunkedAttention(nn.Module):
    """Fused QKV projection split with ``chunk``, scaled_dot_product_attention, depthwise Conv1d,
    a conv head with SiLU and adaptive pooling, ``split`` and max-reduction."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(32, 96)
        self.mix = nn.Conv1d(32, 32, 3, padding=1, groups=32)
        self.conv = nn.Conv2d(4, 8, 3)
        self.head = nn.Linear(8 * 4, 32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, e = x.shape
        q, k, v = (t.view(b, n, 4, 8).transpose(1, 2) for t in self.qkv(x).chunk(3, dim=-1))
        y = nn.functional.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, e)
        y = self.mix(y.transpose(1, 2)).transpose(1, 2)
        z = nn.functional.silu(self.conv(y.reshape(b, 4, 8, 20)))
        z = self.head(nn.functional.adaptive_avg_pool2d(z, (2, 2)).flatten(1)) + y.mean(1)
        return z.unsqueeze(1) + torch.split(y, [10, 22], dim=-1)[1].amax(-1, keepdim=True)


def randomize(model: nn.Module, seed: int = 0) -> nn.Module:
    """Random non-zero parameters and BN statistics (as a trained network would have)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.dtype.is_floating_point:
                tensor.copy_(torch.rand(tensor.shape, generator=generator) * 0.5 + 0.25)
    return model.eval()


# ---------------------------------------------------------------- exporters


def export_onnx(model: nn.Module, x: torch.Tensor, *, dynamo: bool) -> bytes:
    """Export ``model`` with the TorchScript (``dynamo=False``) or torch.export exporter."""
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not dynamo:
            buffer = io.BytesIO()
            torch.onnx.export(model, (x,), buffer, dynamo=False)  # type: ignore[arg-type]
            return buffer.getvalue()
        program = torch.onnx.export(model, (x,), dynamo=True, verbose=False)
        assert program is not None
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.onnx"
            program.save(str(path))
            return path.read_bytes()


# ---------------------------------------------------------------- analytic MACs


_COUNTED = (
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.Linear,
    nn.MultiheadAttention,
)


def _layer_macs(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    if isinstance(module, nn.Conv1d | nn.Conv2d | nn.Conv3d):
        kernel = math.prod(module.kernel_size)
        return out.numel() * (module.in_channels // module.groups) * kernel
    if isinstance(module, nn.ConvTranspose1d | nn.ConvTranspose2d | nn.ConvTranspose3d):
        kernel = math.prod(module.kernel_size)
        return inp.numel() * (module.out_channels // module.groups) * kernel
    if isinstance(module, nn.Linear):
        return out.numel() * module.in_features
    if isinstance(module, nn.MultiheadAttention):  # batch_first (B, L, E) inputs
        return mha_macs(inp.shape[0], inp.shape[1], module.embed_dim)
    return 0


def analytic_macs(model: nn.Module, x: torch.Tensor) -> int:
    """Conv/Linear MACs from the shapes torch produces, plus attention and recurrent formulas."""
    total = 0
    hooks = []

    def hook(module: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        total += _layer_macs(module, args[0], out)

    for module in model.modules():
        is_layer = isinstance(module, _COUNTED)
        # MHA's out_proj is counted by mha_macs (its forward is never called as a module)
        if is_layer and not any(module is getattr(m, "out_proj", None) for m in model.modules()):
            hooks.append(module.register_forward_hook(hook))
    with torch.no_grad():
        model(x)
    for handle in hooks:
        handle.remove()
    return total + _special_macs(model, x)


def mha_macs(batch: int, tokens: int, dim: int) -> int:
    """Q, K, V and output projections plus Q·K^T and attn·V (summed over heads)."""
    projections = 4 * batch * tokens * dim * dim
    scores = batch * tokens * tokens * dim
    return projections + 2 * scores


def recurrent_macs(
    kind: str, seq: int, batch: int, inp: int, hidden: int, layers: int, dirs: int
) -> int:
    """Per step and direction: every gate's input and recurrent matmul, over all layers."""
    gates = 4 if kind == "lstm" else 3
    total = 0
    for layer in range(layers):
        layer_in = inp if layer == 0 else hidden * dirs
        total += seq * batch * dirs * gates * hidden * (layer_in + hidden)
    return total


def _special_macs(model: nn.Module, x: torch.Tensor) -> int:
    if isinstance(model, ManualAttention):
        return 2 * x.shape[0] * x.shape[1] * x.shape[1] * model.dim
    if isinstance(model, ChunkedAttention):
        return 2 * x.shape[0] * x.shape[1] * x.shape[1] * x.shape[2]
    if isinstance(model, Recurrent):
        rnn = model.rnn
        kind = "lstm" if isinstance(rnn, nn.LSTM) else "gru"
        dirs = 2 if rnn.bidirectional else 1
        seq, batch, inp = x.shape
        return recurrent_macs(kind, seq, batch, inp, rnn.hidden_size, rnn.num_layers, dirs)
    return 0


#: name -> (model factory, input shape) of the small networks the exporter tests cover.
SMALL_NETS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "torch_mha": (TorchMHA, (2, 10, 32)),
    "manual_attention": (ManualAttention, (2, 10, 32)),
    "conv_mix": (ConvMix, (1, 16, 32, 32)),
    "conv1d": (Conv1dNet, (2, 4, 32)),
    "lstm_1x_uni": (lambda: Recurrent("lstm", 1, False), (7, 3, 12)),
    "lstm_2x_bi": (lambda: Recurrent("lstm", 2, True), (7, 3, 12)),
    "gru_1x_bi": (lambda: Recurrent("gru", 1, True), (7, 3, 12)),
    "gru_2x_uni": (lambda: Recurrent("gru", 2, False), (7, 3, 12)),
    "mlp": (MLP, (2, 5, 16)),
    "misc_ops": (MiscOps, (2, 8, 8, 8)),
    "chunked_attention": (ChunkedAttention, (2, 20, 32)),
    "tiny_transformer": (TinyTransformer, (2, 10, 32)),
    "resnet18_64": (lambda: ResNet18(num_classes=10), (1, 3, 64, 64)),
    "mobilenetv2_64": (lambda: MobileNetV2(num_classes=10), (1, 3, 64, 64)),
}
