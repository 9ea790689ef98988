"""Model interpretation: attribution maps, first-layer filters as motifs, motif matching.

Functions take a trained :class:`~gnngeno.models.SequenceModel` (or a
:class:`~gnngeno.nn.SequenceCNN`) and one-hot ``(N, 4, L)`` sequences or strings.
"""

from ._attribution import in_silico_mutagenesis, input_x_gradient, saliency
from ._motifs import (
    filter_importance,
    filter_weights_to_pwms,
    filters_to_pwms,
    information_content,
    match_motifs,
    trim_pwm,
)

__all__ = [
    "saliency", "input_x_gradient", "in_silico_mutagenesis", "filters_to_pwms",
    "filter_weights_to_pwms", "filter_importance", "match_motifs", "information_content",
    "trim_pwm",
]
