"""The one way a Study slice becomes network input, for training and inference alike.

The network sees, per slice, four channels at NETWORK_SIZE x NETWORK_SIZE:

- the CT-ICH brain window (level 40, width 120 HU) scaled to [0, 1], for the
  slice and its neighbour on each side (2.5D);
- the CT-ICH bone window (level 700, width 3200 HU) of the slice itself, which
  tells bone (the inner table, the skull base) from blood where the brain
  window saturates both to white. A study without a bone window (a folder of
  brain-window images) gets a channel of zeros, which the network was trained
  to read as "absent" (channel dropout).

When its manifest asks for it (head_span), the network reads a square around
the head rather than the whole frame, so a head in a wide field of view is
seen at the size it was trained on (field_of_view.py).

A Hounsfield-unit slice is windowed directly. An 8-bit display slice is first
mapped back to HU through the window it was exported with (Study.export_window:
known for the CT-ICH layout, estimated from the image otherwise, or set by the
reader), then windowed the same way; with no export window the CT-ICH brain
window is assumed, so a CT-ICH JPG is simply divided by 255. Checked on the HU
subset: the windowed HU slice matches the JPG of the same slice (mean absolute
difference about 5 grey levels of 255, the JPEG noise), after a 90-degree
rotation that the subset's NIfTI export introduced.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ich_viewer.segmentation.field_of_view import SEARCH_SIZE, Square, crop, head_square, uncrop
from ich_viewer.study.model import CT_ICH_BONE_WINDOW, CT_ICH_BRAIN_WINDOW, Units, Window

NETWORK_SIZE = 256
CONTEXT_SLICES = 1  # neighbours on each side given as channels
BRAIN_CHANNELS = 2 * CONTEXT_SLICES + 1
N_CHANNELS = BRAIN_CHANNELS + 1  # and the slice's bone window
# 8-bit values that mean "beyond the export window" (JPEG noise moves 0 and 255 a little).
SATURATED_WHITE = 250
SATURATED_BLACK = 3
# CT-ICH's heads span 0.70-0.98 of their frame's side, median 0.91 (all 82 patients).
CT_ICH_HEAD_SPAN = 0.9


@dataclass(frozen=True)
class NetworkInput:
    """What a network expects; read from its manifest, so a new network needs no code change."""

    size: int = NETWORK_SIZE
    context_slices: int = CONTEXT_SLICES
    brain_window: Window = CT_ICH_BRAIN_WINDOW
    bone_window: Window | None = CT_ICH_BONE_WINDOW  # None: the network has no bone channel
    # The network reads a square around the head in which the head spans this much of
    # the side; None: the whole frame, squashed to a square if it is not one.
    head_span: float | None = None
    # The reference notebook's contrast step (equalise_and_stretch) after resizing; its networks need it.
    equalised: bool = False

    @property
    def channels(self) -> int:
        return 2 * self.context_slices + 1 + (self.bone_window is not None)

    def describe(self) -> str:
        """One line for the report and the model card."""
        brain = self.brain_window
        text = (f"brain window L{brain.level:g}/W{brain.width:g} HU scaled to 0-1 (8-bit images mapped "
                f"through their export window), slice plus {self.context_slices} neighbour each side")
        if self.bone_window is not None:
            bone = self.bone_window
            text += f", bone window L{bone.level:g}/W{bone.width:g} of the slice (zeros when absent)"
        if self.head_span is not None:
            text += f", framed on the head (spanning {self.head_span:.0%} of the side)"
        text += f", resized to {self.size}x{self.size}"
        if self.equalised:
            text += ", histogram-equalised and stretched (2nd-98th percentile)"
        return text


CT_ICH_INPUT = NetworkInput(head_span=CT_ICH_HEAD_SPAN)


def display_to_hu(slices: np.ndarray, export_window: Window) -> np.ndarray:
    """8-bit display values back to the HU they stood for in the window they were exported with."""
    return export_window.low + np.asarray(slices, np.float32) * (export_window.width / 255.0)


def in_window(hu: np.ndarray, window: Window) -> np.ndarray:
    return np.clip((np.asarray(hu, np.float32) - window.low) / window.width, 0.0, 1.0)


def to_unit_range(slices: np.ndarray, units: Units, export_window: Window | None = None,
                  brain_window: Window = CT_ICH_BRAIN_WINDOW) -> np.ndarray:
    """Map HU or 8-bit display values to the brain window in [0, 1] (float32).

    An 8-bit slice with no export window is taken to be in the CT-ICH brain window.
    Through another export window, white stays white and black stays black: a
    saturated pixel is "at least" the window's edge, and in a head that is bone
    (or air). Read back as the edge value instead, the skull of a narrow export
    (L30/W80: 70 HU) looked like a rim of blood to the network.
    """
    slices = np.asarray(slices, dtype=np.float32)
    if units is Units.HU:
        return in_window(slices, brain_window)
    export_window = export_window or CT_ICH_BRAIN_WINDOW
    if export_window == brain_window:
        return np.clip(slices / 255.0, 0.0, 1.0)
    unit = in_window(display_to_hu(slices, export_window), brain_window)
    unit[slices >= SATURATED_WHITE] = 1.0
    unit[slices <= SATURATED_BLACK] = 0.0
    return unit


def resize_slices(slices: np.ndarray, size: int) -> np.ndarray:
    """Resize a (z, y, x) stack to (z, size, size); area averaging when shrinking."""
    out = np.empty((slices.shape[0], size, size), dtype=np.float32)
    for i, image in enumerate(slices):
        shrinking = image.shape[0] > size or image.shape[1] > size
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        out[i] = cv2.resize(image, (size, size), interpolation=interpolation)
    return out


def equalise_and_stretch(slices: np.ndarray) -> np.ndarray:
    """The reference notebook's contrast step, slice by slice: histogram equalisation, then the
    2nd-98th percentile stretched to 0-1. (z, h, w) in [0, 1] -> same, float32."""
    out = np.empty(slices.shape, dtype=np.float32)
    for i, image in enumerate(slices):
        grey = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
        equalised = cv2.equalizeHist(grey).astype(np.float32) / 255.0
        low, high = np.percentile(equalised, (2, 98))
        out[i] = np.clip((equalised - low) / max(high - low, 1e-6), 0.0, 1.0)
    return out


def neighbours(index: int, n_slices: int, context: int = CONTEXT_SLICES) -> list[int]:
    """A slice and its context slices on each side, in order; past the first or last slice, that one repeated."""
    return [min(max(index + offset, 0), n_slices - 1) for offset in range(-context, context + 1)]


def stack_neighbours(slices, indices=None, context: int = CONTEXT_SLICES, n_slices: int | None = None) -> np.ndarray:
    """(z, h, w) -> (n, h, w, 2 * context + 1): each slice with its neighbours, edges repeated.

    slices: the study's (z, h, w) stack, or a dict by slice number holding only the slices asked
    for and their neighbours (n_slices then says how many slices the study has).
    """
    z = len(slices) if n_slices is None else n_slices
    indices = range(z) if indices is None else indices
    return np.stack([np.stack([slices[j] for j in neighbours(i, z, context)], axis=-1) for i in indices])


def network_batch(brain, bone, indices, context: int = CONTEXT_SLICES, n_slices: int | None = None) -> np.ndarray:
    """The network's input for these slices: (n, h, w, channels); bone None for a network without one.

    brain and bone: (z, h, w) stacks, or dicts by slice number (see stack_neighbours).
    """
    indices = list(indices)
    brain_channels = stack_neighbours(brain, indices, context, n_slices)
    if bone is None:
        return brain_channels
    return np.concatenate([brain_channels, np.stack([bone[i] for i in indices])[..., None]], axis=-1)


def _framed(image: np.ndarray, size: int, square: Square | None) -> np.ndarray:
    """One slice (y, x) as the network's (size, size): the square around the head, or the whole frame."""
    if square is not None:
        image = crop(image, square)
    return resize_slices(image[None], size)[0]


def network_view(voxels: np.ndarray, units: Units, size: int = NETWORK_SIZE,
                 export_window: Window | None = None, brain_window: Window = CT_ICH_BRAIN_WINDOW,
                 square: Square | None = None) -> np.ndarray:
    """A study's brain window as the network sees it: (z, size, size) in [0, 1].

    Slice by slice, so a 300-slice study never needs a full-size float copy.
    """
    out = np.empty((voxels.shape[0], size, size), dtype=np.float32)
    for z in range(voxels.shape[0]):
        out[z] = _framed(to_unit_range(voxels[z], units, export_window, brain_window), size, square)
    return out


def bone_view(voxels: np.ndarray, units: Units, bone_voxels: np.ndarray | None,
              size: int = NETWORK_SIZE, bone_window: Window = CT_ICH_BONE_WINDOW,
              square: Square | None = None) -> np.ndarray:
    """A study's bone window as the network sees it: (z, size, size) in [0, 1]; zeros if it has none.

    8-bit bone images (bone_voxels) are taken to be in the CT-ICH bone window.
    """
    out = np.zeros((voxels.shape[0], size, size), dtype=np.float32)
    if units is Units.HU:
        for z in range(voxels.shape[0]):
            out[z] = _framed(in_window(voxels[z], bone_window), size, square)
    elif bone_voxels is not None:
        for z in range(voxels.shape[0]):
            out[z] = _framed(np.asarray(bone_voxels[z], np.float32) / 255.0, size, square)
    return out


def study_square(study, spec: NetworkInput = CT_ICH_INPUT) -> Square | None:
    """The square the network reads of this study (None: the whole frame)."""
    if spec.head_span is None:
        return None
    # Every few pixels is enough to find a head, and windows a 512-pixel slice in a sixteenth of the time.
    step = max(1, max(study.voxels.shape[1:]) // SEARCH_SIZE)
    brain = (to_unit_range(image[::step, ::step], study.units, study.export_window, spec.brain_window)
             for image in study.voxels)
    return head_square(brain, study.voxels.shape[1:], spec.head_span)


def study_views(study, spec: NetworkInput = CT_ICH_INPUT, with_bone: bool = True,
                square: Square | None = None, slices: list[int] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(brain, bone) views of a Study for a network; with_bone=False withholds the bone window.

    bone is None for a network without a bone channel, zeros when the study has none.
    square: the part of the frame the network reads (study_square), None for all of it.
    slices: the slices to view, in that order (None: all). Each slice is viewed on its own, so
    a slice's view is the same whether it is made alone or with the whole study.
    """
    voxels = study.voxels if slices is None else study.voxels[slices]
    brain = network_view(voxels, study.units, spec.size, study.export_window, spec.brain_window, square)
    if spec.equalised:
        brain = equalise_and_stretch(brain)
    if spec.bone_window is None:
        return brain, None
    if not with_bone:
        return brain, np.zeros_like(brain)
    bone_voxels = study.bone_voxels
    if bone_voxels is not None and slices is not None:
        bone_voxels = bone_voxels[slices]
    return brain, bone_view(voxels, study.units, bone_voxels, spec.size, spec.bone_window, square)


def batch_input(study, spec: NetworkInput, indices, with_bone: bool = True,
                square: Square | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(network input (n, S, S, channels), brain, bone (n, S, S) of the slices themselves) for some slices.

    Made from those slices and their neighbours only, so the views of a whole long series (two
    float32 (z, S, S) stacks) never need to exist; the values are those of
    network_batch(*study_views(study, spec, with_bone, square), indices). bone is None for a
    network without a bone channel.
    """
    indices = list(indices)
    needed = sorted({j for i in indices for j in neighbours(i, study.n_slices, spec.context_slices)})
    brain_views, bone_views = study_views(study, spec, with_bone, square, needed)
    brain = dict(zip(needed, brain_views))
    bone = None if bone_views is None else dict(zip(needed, bone_views))
    batch = network_batch(brain, bone, indices, spec.context_slices, study.n_slices)
    own_bone = None if bone is None else np.stack([bone[i] for i in indices])
    return batch, np.stack([brain[i] for i in indices]), own_bone


def to_study_grid(maps: np.ndarray, shape_yx: tuple[int, int], square: Square | None = None) -> np.ndarray:
    """Network-resolution maps (z, h, w) back to the study's (z, y, x) grid (into the square, if given)."""
    rows, cols = shape_yx
    out = np.empty((maps.shape[0], rows, cols), dtype=np.float32)
    for i, m in enumerate(maps):
        m = m.astype(np.float32)
        if square is None:
            out[i] = cv2.resize(m, (cols, rows), interpolation=cv2.INTER_LINEAR)
        else:
            out[i] = uncrop(cv2.resize(m, (square.side, square.side), interpolation=cv2.INTER_LINEAR),
                            square, shape_yx)
    return out
