"""Name -> search space lookup."""

from __future__ import annotations

import importlib
from functools import cache

from predictor.spaces.base import SearchSpace, UnknownSpaceError

#: Space name -> "module:class" implementing it.
_SPACE_CLASSES: dict[str, str] = {
    "nasbench201": "predictor.spaces.nasbench201:NasBench201",
    "fbnet": "predictor.spaces.fbnet:FBNet",
    "mobilenet": "predictor.spaces.mobilenet:MobileNet",
    "resnet": "predictor.spaces.resnet:ResNet",
    "efficientnet": "predictor.spaces.efficientnet:EfficientNet",
    "kws": "predictor.spaces.kws:KeywordSpotting",
    "rnn": "predictor.spaces.rnn:RecurrentSpace",
    "vit": "predictor.spaces.vit:VisionTransformerSpace",
    "llm": "predictor.spaces.llm:DecoderLMSpace",
    "plaincnn": "predictor.spaces.plaincnn:PlainCNN",
    "shufflenet": "predictor.spaces.shufflenet:ShuffleNet",
    "densenet": "predictor.spaces.densenet:DenseNet",
    "inception": "predictor.spaces.inception:InceptionNet",
    "convnext": "predictor.spaces.convnext:ConvNeXt",
    "audio1d": "predictor.spaces.audio1d:Audio1D",
    "hybrid": "predictor.spaces.hybrid:HybridSpace",
    "swin": "predictor.spaces.swin:WindowTransformerSpace",
}

#: Names of all search spaces, in display order.
SPACES: tuple[str, ...] = tuple(_SPACE_CLASSES)


@cache
def get_space(name: str) -> SearchSpace:
    """The search space called ``name`` (one shared instance per name).

    Raises:
        UnknownSpaceError: ``name`` is not one of :data:`SPACES` (the message lists them).
    """
    if name not in _SPACE_CLASSES:
        raise UnknownSpaceError(f"unknown search space {name!r}; valid spaces: {list(SPACES)}")
    module_name, class_name = _SPACE_CLASSES[name].split(":")
    space: SearchSpace = getattr(importlib.import_module(module_name), class_name)()
    return space
