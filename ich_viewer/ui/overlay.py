"""Named overlay layers drawn over the slice: masks (filled or contour) and heat maps.

Each layer turns one slice into a small uint8 index image plus a fixed RGBA
lookup table, so pyqtgraph paints it as an 8-bit indexed QImage: no float
maths and no RGBA allocation per frame. The stack keeps one ImageItem per
layer, parented to the CT image item so that the layers inherit its pixel
spacing transform and always sit exactly on the anatomy.

Adding the model's output later is one call each:

    stack.add_layer(MaskLayer(MODEL_LAYER, result.mask, MODEL_COLOUR))
    stack.add_layer(HeatMapLayer(PROBABILITY_LAYER, result.probability))
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QGraphicsItem

from ich_viewer.rendering import HEMORRHAGE_RED, outline

REFERENCE_LAYER = "Reference (CT-ICH)"
MODEL_LAYER = "Model"
PROBABILITY_LAYER = "Model probability"

# Cyan for the reference and red for the model stay distinct for red-green colour blindness.
REFERENCE_COLOUR = (0, 230, 255)
MODEL_COLOUR = HEMORRHAGE_RED  # the key images' and the report's red
# Heat maps stay transparent below this probability so normal brain is not tinted.
HEAT_MAP_FLOOR = 0.1


class OverlayLayer:
    """A (z, y, x) volume drawn over the slice. Subclasses turn a slice into indices into `lut`."""

    supports_contour = False

    def __init__(self, name: str, shape: tuple[int, ...], lut: np.ndarray) -> None:
        self.name = name
        self.shape = tuple(shape)
        self.lut = lut  # uint8 (n, 4) RGBA
        self.visible = True

    @property
    def colour(self) -> tuple[int, int, int]:
        """The colour of the layer at full strength."""
        return tuple(int(c) for c in self.lut[-1, :3])

    def legend_colours(self) -> list[tuple[int, int, int]]:
        """The colours the legend swatch shows, left to right: one for a mask, the scale for a heat map."""
        return [self.colour]

    def slice_indices(self, z: int, contour: bool) -> np.ndarray:
        raise NotImplementedError

    def draws_on(self, z: int) -> bool:
        """False when slice z would be fully transparent: the view then skips the layer."""
        return True

    def refresh(self, z: int | None = None) -> None:
        """The volume changed in place (slice z, or anywhere): forget what was derived from it."""


class MaskLayer(OverlayLayer):
    """A bool mask in one colour, drawn filled or as its outline.

    A C-contiguous bool mask is drawn from without copying, so a mask the
    reader edits in place shows its edits after OverlayStack.refresh_layer.
    """

    supports_contour = True

    def __init__(self, name: str, mask: np.ndarray, colour: tuple[int, int, int]) -> None:
        if mask.ndim != 3:
            raise ValueError(f"mask {name!r} must be (z, y, x), got shape {mask.shape}")
        lut = np.array([[0, 0, 0, 0], [*colour, 255]], dtype=np.uint8)
        super().__init__(name, mask.shape, lut)
        # uint8 0/1 view: the LUT index itself, and what OpenCV wants, without copying.
        self._indices = np.ascontiguousarray(mask, dtype=bool).view(np.uint8)
        self._contour = np.empty(mask.shape[1:], np.uint8)
        # Most slices hold no bleed; knowing which lets scrolling skip them outright.
        self._drawn_slices = self._indices.any(axis=(1, 2))

    def draws_on(self, z: int) -> bool:
        return bool(self._drawn_slices[z])

    def refresh(self, z: int | None = None) -> None:
        if z is None:
            self._drawn_slices = self._indices.any(axis=(1, 2))
        else:
            self._drawn_slices[z] = self._indices[z].any()

    def slice_indices(self, z: int, contour: bool) -> np.ndarray:
        if not contour:
            return self._indices[z]
        return outline(self._indices[z], dst=self._contour)


# Purple -> blue -> teal -> yellow (viridis' anchors): no probability looks like the red mask
# or the cyan reference, and brightness rises with probability for colour-blind readers too.
HEAT_MAP_ANCHORS = np.array([
    [0.00, 68, 1, 84],
    [0.25, 59, 82, 139],
    [0.50, 33, 145, 140],
    [0.75, 94, 201, 98],
    [1.00, 253, 231, 37],
])


def _heat_lut() -> np.ndarray:
    """256-entry viridis-like ramp, transparent below HEAT_MAP_FLOOR, alpha rising with probability."""
    p = np.linspace(0.0, 1.0, 256)
    rgba = np.empty((256, 4), np.uint8)
    for channel in range(3):
        rgba[:, channel] = np.interp(p, HEAT_MAP_ANCHORS[:, 0], HEAT_MAP_ANCHORS[:, channel + 1])
    rgba[:, 3] = np.where(p < HEAT_MAP_FLOOR, 0, 90 + 165 * p)
    return rgba


class HeatMapLayer(OverlayLayer):
    """A probability map in [0, 1] drawn as a colour ramp (no contour form)."""

    def __init__(self, name: str, probability) -> None:
        """probability: a (z, y, x) array, or anything whose [z] gives one slice (a SegmentationResult's
        probability, resampled from the network's resolution a slice at a time)."""
        if probability.ndim != 3:
            raise ValueError(f"heat map {name!r} must be (z, y, x), got shape {probability.shape}")
        super().__init__(name, probability.shape, _heat_lut())
        self._probability = probability
        self._indices = np.empty(probability.shape[1:], np.uint8)
        self._shown_z, self._shown = -1, None  # the slice last asked for: draws_on and slice_indices share it

    def _slice(self, z: int) -> np.ndarray:
        if z != self._shown_z:
            self._shown_z, self._shown = z, np.asarray(self._probability[z])
        return self._shown

    def draws_on(self, z: int) -> bool:
        return bool(self._slice(z).max() >= HEAT_MAP_FLOOR)

    def legend_colours(self) -> list[tuple[int, int, int]]:
        """The drawn part of the scale, from the floor to certainty."""
        first = int(np.ceil(HEAT_MAP_FLOOR * 255))
        return [tuple(int(c) for c in self.lut[i, :3]) for i in np.linspace(first, 255, 12).astype(int)]

    def slice_indices(self, z: int, contour: bool) -> np.ndarray:
        np.multiply(self._slice(z), 255, out=self._indices, casting="unsafe")
        return self._indices


class OverlayStack(QObject):
    """The overlay layers of one slice view: order, visibility, opacity and fill mode."""

    layers_changed = Signal()  # a layer was added, removed, shown or hidden
    display_changed = Signal()  # shown / opacity / contour of the whole stack

    def __init__(self, base_item: QGraphicsItem, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._base_item = base_item
        self._layers: dict[str, OverlayLayer] = {}
        self._items: dict[str, pg.ImageItem] = {}
        self._z = 0
        self._opacity = 0.5
        self._contour = False
        self._shown = True

    # -- layers -------------------------------------------------------------------------
    def add_layer(self, layer: OverlayLayer) -> None:
        """Add a layer on top, or replace the layer of the same name in place.

        A replaced layer keeps the reader's show / hide switch: a new model
        result must not bring back a heat map the reader turned off.
        """
        if layer.name in self._items:
            item = self._items[layer.name]
            layer.visible = self._layers[layer.name].visible
        else:
            item = pg.ImageItem(axisOrder="row-major")
            item.setParentItem(self._base_item)  # inherit the mm scaling of the CT image
            item.setZValue(len(self._items) + 1)
            self._items[layer.name] = item
        item.setLookupTable(layer.lut, update=False)
        # Levels (0, n) make pyqtgraph map index i to lut[i]; without them it
        # stretches 0..255 over the n entries and a 0/1 mask shows as all transparent.
        item.setLevels((0, len(layer.lut)), update=False)
        item.setOpacity(self._opacity)
        self._layers[layer.name] = layer
        self._draw(layer)
        self.layers_changed.emit()

    def remove_layer(self, name: str) -> None:
        item = self._items.pop(name, None)
        self._layers.pop(name, None)
        if item is not None:
            item.setParentItem(None)
            if item.scene() is not None:
                item.scene().removeItem(item)
        self.layers_changed.emit()

    def clear(self) -> None:
        for name in list(self._layers):
            self.remove_layer(name)

    def layers(self) -> list[OverlayLayer]:
        return list(self._layers.values())

    def layer(self, name: str) -> OverlayLayer | None:
        return self._layers.get(name)

    def item(self, name: str) -> pg.ImageItem:
        return self._items[name]

    def refresh_layer(self, name: str, z: int | None = None) -> None:
        """Redraw a layer whose volume was changed in place (on slice z, or anywhere)."""
        layer = self._layers[name]
        layer.refresh(z)
        if z is None or z == self._z:
            self._draw(layer)

    def set_layer_visible(self, name: str, visible: bool) -> None:
        self._layers[name].visible = visible
        self._draw(self._layers[name])
        self.layers_changed.emit()

    # -- whole-stack state --------------------------------------------------------------
    @property
    def shown(self) -> bool:
        return self._shown

    def set_shown(self, shown: bool) -> None:
        """Show or hide every layer at once (the O key), keeping each layer's own switch."""
        self._shown = shown
        self._redraw()
        self.display_changed.emit()

    @property
    def opacity(self) -> float:
        return self._opacity

    def set_opacity(self, opacity: float) -> None:
        self._opacity = min(max(float(opacity), 0.0), 1.0)
        for item in self._items.values():
            item.setOpacity(self._opacity)
        self.display_changed.emit()

    @property
    def contour(self) -> bool:
        return self._contour

    def set_contour(self, contour: bool) -> None:
        self._contour = contour
        self._redraw()
        self.display_changed.emit()

    def show_slice(self, z: int) -> None:
        self._z = z
        self._redraw()

    # -- drawing --------------------------------------------------------------------------
    def _redraw(self) -> None:
        for layer in self._layers.values():
            self._draw(layer)

    def _draw(self, layer: OverlayLayer) -> None:
        item = self._items[layer.name]
        visible = self._shown and layer.visible and 0 <= self._z < layer.shape[0] and layer.draws_on(self._z)
        item.setVisible(visible)
        if visible:
            contour = self._contour and layer.supports_contour
            item.setImage(layer.slice_indices(self._z, contour), autoLevels=False)
