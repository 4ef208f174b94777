"""Search spaces: sample, validate, build, export and describe architectures as graph IR."""

from predictor.spaces.base import InvalidSpecError, SearchSpace, Spec, UnknownSpaceError
from predictor.spaces.registry import SPACES, get_space

__all__ = ["SPACES", "InvalidSpecError", "SearchSpace", "Spec", "UnknownSpaceError", "get_space"]
