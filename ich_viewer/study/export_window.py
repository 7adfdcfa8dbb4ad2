"""Estimate the HU window an 8-bit head-CT export was rendered with.

Why: the network reads the CT-ICH convention (brain window level 40 / width 120
HU rendered to 0..255). A JPG/PNG folder from another exporter may use another
window (L40/W80, L50/W150, a subdural W250...); read as if it were L40/W120,
its brain is too bright or too dark and its contrast wrong. The preprocessing
maps display values back to HU through Study.export_window, so the loader needs
that window; an 8-bit file does not carry it, so it is read off the image.

How: landmarks the rendering cannot move. Air outside the head is black and the
skull white in any brain-type window; the region the skull ring encloses is the
brain, whose HU distribution (grey and white matter 25-40 HU, CSF 0-15 HU) is
centred on much the same HU in every patient (its spread varies more: below).
The intracranial grey levels of the middle slices are pooled; for every
candidate window (level 0-100 HU, width 40-500 HU in 2 % steps) they are read
back to HU and their CDF is compared with a reference intracranial CDF from
CT-ICH (mean absolute difference over -16..92 HU, where both are known; where a
candidate would have saturated pixels the images only bound the CDF). The best
candidate is the estimate; it is "uncertain" when no brain is found inside a
skull, when even the best fit does not look like brain, when it lies at the
edge of the candidates, or when windows far apart fit about as well (the cost
landscape is flat).

Measured (benchmarks/bench_export_window.py; 0.05 s for a 40-slice 650x650
study on one core):

(a) the 82 CT-ICH patients' brain JPGs (known L40/W120), each estimated with a
    reference built from the other 81 patients. Signed errors:

        error         p5     p25    p50    p75    p95   max|err|
        level (HU)   -3.0   -2.0   +0.0   +2.0   +5.0    14.0
        width (%)   -19.9   -5.8   +1.7  +11.9  +26.7    42.5

    Within 10 HU of level: 81 of 82; within 15 % of width: 58; both: 57.
    None flagged uncertain.

(b) the 26 ct-ich-hu-subset slices (raw HU), each one alone (a single slice:
    the hardest case), rendered by us at a window and quantised to 8 bits,
    then also JPEG re-encoded at quality 75; reference from patients 095-130
    only (the subset is 049-094). Absolute errors, median / max (rounded), and
    how many of the 26 slices are within 10 HU of level / 15 % of width / both:

                      8-bit PNG                        JPEG q75
        window     level HU  width %   within      level HU  width %   within
        L40/W80     2 / 7  12.5 / 30   26 17 17     2 / 7    10 / 35   26 15 15
        L50/W150    3 / 9    15 / 37   26 13 13     3 / 9    15 / 37   26 13 13
        L35/W250    1 / 6    12 / 37   26 17 17     1 / 6    12 / 37   26 17 17
        L60/W100  3.5 / 11   12 / 39   24 15 15     3 / 11   10 / 39   24 15 15
        L30/W200    1 / 7    13 / 38   26 17 17     1 / 7    13 / 39   26 17 17
        L40/W120    2 / 7    16 / 36   26 12 12     2 / 7    14 / 34   26 14 14
        L80/W200    6 / 18 12.5 / 36.5 20 14 14     6 / 18   13 / 36.5 21 14 14
        L50/W400    3 / 11   14 / 82   25 14 14     3 / 11   15 / 82   25 13 13

    Flagged uncertain: 0-4 slices per window, 15 in all (11 of them outside
    the target) for 8-bit PNG, 14 (11) after JPEG.

So the level meets the issue's target (10 HU) almost always, and the width
(15 %) for about two studies in three and half to two thirds of single
slices. The limit is the brain itself, not the fit: the spread of
intracranial HU differs between patients (interquartile range 7-14 HU across
the HU-subset slices), and a wide brain seen through a wide window looks the
same as a narrow one through a narrow window. The error is the patient's:
it is the same at every window (patients 050, 071, 080, 092 are 20-28 % off
at each), and the level of a window centred far from the brain (L80) inherits
it. The histogram cannot tell these cases apart, so "uncertain" does not catch
them; it catches images that are not a brain-window head CT. Hence the
reader can set the window (View > Export window…), and the study's QC
information says how its window is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ich_viewer.study.model import CT_ICH_BRAIN_WINDOW, Study, Window


@dataclass(frozen=True)
class WindowEstimate:
    """What the images say about their export window, and whether to trust it."""

    window: Window  # level and width in HU
    uncertain: bool
    note: str  # one line for the study's QC information


def window_text(window: Window) -> str:
    """A window as readers write it: L40/W120."""
    return f"L{window.level:g}/W{window.width:g}"


# What the preprocessing does without an export window.
ASSUMED_WINDOW_TEXT = f"CT-ICH brain window {window_text(CT_ICH_BRAIN_WINDOW)} assumed"

# --- landmarks in the 8-bit image ------------------------------------------------------------
AIR_MAX = 8  # air (-1000 HU) is black in any brain-type window; JPEG noise lifts it to 1..5
BONE_MIN = 240  # the skull is white in any brain-type window; JPEG noise lowers 255 a little
WORK_SIZE = 256  # masks are found at about this many pixels across: enough for the skull ring
CLOSINGS_PX = (3, 7)  # seal gaps in the skull ring (sutures, thin bone, JPEG noise), at WORK_SIZE
INNER_TABLE_PX = 2  # erosion that drops the partial-volume rim at the inner table, at WORK_SIZE
MIN_CAVITY_FRACTION = 0.03  # an enclosed region smaller than this part of the slice is not the brain
MIN_BONE_PIECE = 0.002  # smaller white specks are calcifications or noise, not skull
MAX_AIR_INSIDE = 0.25  # an enclosed region mostly black is air (gantry ring, headrest), not brain
MIN_AIR_OUTSIDE = 0.5  # outside the skull of a head slice is mostly air
MIN_AREA_OF_LARGEST = 0.5  # slices with less brain than this part of the largest are skull base
MAX_SLICES = 12  # middle slices pooled: supratentorial, with a closed skull ring
MIN_PIXELS = 2000  # fewer intracranial pixels than this give too ragged a histogram

# --- the reference: intracranial HU in CT-ICH ------------------------------------------------
# Fraction of intracranial pixels at or below each REFERENCE_HU, from the brain JPGs
# (L40/W120) of all 82 CT-ICH patients by `benchmarks/bench_export_window.py --reference`:
# each patient's pooled intracranial_grey_levels histogram, read back to HU through
# L40/W120, shifted so its median falls on the median of the patients' medians (else the
# spread of brain levels between patients would widen it), then averaged over patients.
# -16..92 HU: the grey levels between AIR_MAX and BONE_MIN in that window.
REFERENCE_HU = np.arange(-16.0, 93.0, 3.0)
INTRACRANIAL_HU_CDF = np.array([
    0.0041, 0.0042, 0.0044, 0.0045, 0.0046, 0.0050, 0.0058, 0.0078,
    0.0113, 0.0160, 0.0219, 0.0292, 0.0401, 0.0623, 0.1161, 0.2241,
    0.3642, 0.5083, 0.6677, 0.8174, 0.9172, 0.9650, 0.9832, 0.9903,
    0.9933, 0.9950, 0.9961, 0.9969, 0.9975, 0.9979, 0.9983, 0.9984,
    0.9985, 0.9986, 0.9987, 0.9987, 0.9988,
])

# --- candidate windows, and when not to trust the best one ----------------------------------
LEVELS_HU = np.arange(0.0, 101.0, 1.0)
WIDTHS_HU = np.geomspace(40.0, 500.0, 128)  # steps of 2 %
NEAR_BEST = 1.1  # candidates within 10 % of the best cost fit about as well as it
MAX_LEVEL_SPREAD_HU = 15.0  # near-best candidates spanning more levels than this: ambiguous
MAX_WIDTH_SPREAD = 1.3  # ... or widths in a ratio above this
MAX_BRAIN_COST = 0.04  # a best cost above this: the histogram does not look like brain


def estimate_export_window(slices: np.ndarray) -> WindowEstimate:
    """The export window of an 8-bit head-CT study (z, y, x), from its intracranial grey levels.

    With no brain found the CT-ICH brain window is returned, as assumed elsewhere, and
    the estimate is uncertain.
    """
    grey = intracranial_grey_levels(slices)
    if grey.size < MIN_PIXELS:
        return WindowEstimate(CT_ICH_BRAIN_WINDOW, True, "Export window not estimated: no brain found "
                              f"inside a skull on the middle slices; {ASSUMED_WINDOW_TEXT}")
    costs = window_costs(grey_level_cdf(np.bincount(grey, minlength=256)))
    i, j = np.unravel_index(np.argmin(costs), costs.shape)
    window = Window(float(LEVELS_HU[i]), float(round(WIDTHS_HU[j])))
    doubts = _doubts(costs, i, j)
    note = f"Export window estimated from the images: level {window.level:g} / width {window.width:g} HU"
    if doubts:
        note += f" (uncertain: {'; '.join(doubts)})"
    return WindowEstimate(window, bool(doubts), note)


def export_window_text(study: Study) -> str:
    """How an 8-bit study's export window is known, for the QC information ("" for HU studies)."""
    if study.is_hu:
        return ""
    return study.export_window_note or f"Export window unknown: {ASSUMED_WINDOW_TEXT}"


def _doubts(costs: np.ndarray, i: int, j: int) -> list[str]:
    """Why the best candidate (level i, width j) may be wrong, read off the cost landscape."""
    doubts = []
    if costs[i, j] > MAX_BRAIN_COST:
        doubts.append("the grey levels inside the skull do not look like brain")
    if i in (0, LEVELS_HU.size - 1) or j in (0, WIDTHS_HU.size - 1):
        doubts.append(f"the best fit lies at the edge of the windows considered (level {LEVELS_HU[0]:g}-"
                      f"{LEVELS_HU[-1]:g}, width {WIDTHS_HU[0]:g}-{WIDTHS_HU[-1]:g} HU)")
    near = np.nonzero(costs <= NEAR_BEST * costs[i, j])
    levels, widths = LEVELS_HU[near[0]], WIDTHS_HU[near[1]]
    if np.ptp(levels) > MAX_LEVEL_SPREAD_HU or widths.max() / widths.min() > MAX_WIDTH_SPREAD:
        doubts.append(f"windows from level {levels.min():g} to {levels.max():g} and width "
                      f"{widths.min():.0f} to {widths.max():.0f} HU fit about as well")
    return doubts


def middle_slices(n_slices: int) -> np.ndarray:
    """Indices of the middle half of the study, at most MAX_SLICES of them."""
    first = n_slices // 4
    last = max(first + 1, n_slices - n_slices // 4)
    return np.unique(np.linspace(first, last - 1, min(MAX_SLICES, last - first)).round().astype(int))


def intracranial_grey_levels(slices: np.ndarray) -> np.ndarray:
    """The grey levels inside the skull on the study's middle slices (uint8, 1-D).

    Only slices whose brain area is at least half the largest one's count: near the skull
    base the "enclosed" region may be an orbit or the nasal cavity rather than brain.
    """
    slices = np.asarray(slices)
    step = max(1, round(max(slices.shape[1:]) / WORK_SIZE))
    found = []
    for z in middle_slices(slices.shape[0]):
        image = np.clip(slices[z, ::step, ::step], 0, 255).astype(np.uint8)
        region = intracranial_region(image)
        if region is not None:
            found.append(image[region])
    largest = max((pixels.size for pixels in found), default=0)
    pooled = [pixels for pixels in found if pixels.size >= MIN_AREA_OF_LARGEST * largest]
    return np.concatenate(pooled) if pooled else np.empty(0, np.uint8)


def intracranial_region(image: np.ndarray) -> np.ndarray | None:
    """The brain inside the skull on one 8-bit slice, or None if it is not a head slice.

    A suture or thin temporal bone can leave a gap in the white ring: a wider closing
    seals it, tried only when the narrow one finds no enclosed brain (it also bridges
    sulci at the vertex). An infant's open fontanelles are too wide to close; there the
    skull's convex hull stands in for the ring.
    """
    for closing_px in CLOSINGS_PX:
        region = _skull_cavity(image, closing_px)
        if region is not None:
            return region
    return _inside_skull_hull(image)


def _skull_cavity(image: np.ndarray, closing_px: int) -> np.ndarray | None:
    """The brain-sized, not-black region the white ring encloses, with air around the head."""
    import cv2  # imported here: only image studies need it

    skull = _bone(image, closing_px)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(1 - skull, connectivity=4)
    air = np.bincount(labels.ravel(), weights=(image <= AIR_MAX).ravel(), minlength=n)
    area = stats[:, cv2.CC_STAT_AREA].astype(float)
    labelled = np.arange(n) > 0  # label 0 is the skull itself
    outside = _touches_border(stats, image.shape) & labelled
    if air[outside].sum() < MIN_AIR_OUTSIDE * area[outside].sum():
        return None  # no air around it: not a head
    brain = labelled & ~outside & (area >= MIN_CAVITY_FRACTION * image.size) & (air <= MAX_AIR_INSIDE * area)
    if not brain.any():
        return None
    return _without_inner_table(_fill_holes(brain[labels].astype(np.uint8)), image)


def _inside_skull_hull(image: np.ndarray) -> np.ndarray | None:
    """What lies inside the convex hull of the skull's pieces and is not bone."""
    import cv2

    bone = _bone(image, CLOSINGS_PX[0])
    _n, labels, stats, _ = cv2.connectedComponentsWithStats(bone, connectivity=8)
    # The skull's pieces; white arcs reaching the image edge are the headrest or the gantry.
    big = stats[:, cv2.CC_STAT_AREA] >= MIN_BONE_PIECE * image.size
    pieces = big & ~_touches_border(stats, image.shape)
    pieces[0] = False  # label 0 is what is not bone
    if not pieces.any():
        return None  # nothing white: no skull
    skull = pieces[labels].astype(np.uint8)
    hull = np.zeros_like(skull)
    cv2.fillConvexPoly(hull, cv2.convexHull(cv2.findNonZero(skull)), 1)
    if (image[hull == 0] <= AIR_MAX).mean() < MIN_AIR_OUTSIDE:
        return None  # no air around it: not a head
    return _without_inner_table(((hull > 0) & (skull == 0)).astype(np.uint8), image)


def _bone(image: np.ndarray, closing_px: int) -> np.ndarray:
    """White (saturated) pixels, small gaps closed: the skull in any brain-type window."""
    import cv2

    kernel = np.ones((closing_px, closing_px), np.uint8)
    return cv2.morphologyEx((image >= BONE_MIN).astype(np.uint8), cv2.MORPH_CLOSE, kernel)


def _without_inner_table(region: np.ndarray, image: np.ndarray) -> np.ndarray | None:
    """Erode off the partial-volume rim; the largest piece left drops sinus cells that leaked in.

    None unless that piece is brain-sized and not mostly air (the air between the head
    and a headrest can pass for a cavity).
    """
    import cv2

    region = cv2.erode(region, np.ones((2 * INNER_TABLE_PX + 1,) * 2, np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(region, connectivity=4)
    if n < 2:
        return None
    largest = labels == 1 + np.argmax(stats[1:, cv2.CC_STAT_AREA])
    too_small = largest.sum() < MIN_CAVITY_FRACTION * image.size
    if too_small or (image[largest] <= AIR_MAX).mean() > MAX_AIR_INSIDE:
        return None
    return largest


def _touches_border(stats: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    right, bottom = x + stats[:, cv2.CC_STAT_WIDTH], y + stats[:, cv2.CC_STAT_HEIGHT]
    return (x == 0) | (y == 0) | (right == shape[1]) | (bottom == shape[0])


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """The mask with everything it encloses (blood or calcification saturated to white)."""
    import cv2

    padded = np.pad(mask, 1)
    outside = padded.copy()
    cv2.floodFill(outside, None, (0, 0), 1)
    return (padded | (1 - outside))[1:-1, 1:-1]


def grey_level_cdf(counts: np.ndarray) -> np.ndarray:
    """From a 256-bin grey-level histogram, the fraction below each bin edge -0.5 .. 255.5 (257)."""
    counts = np.asarray(counts, np.float64)
    return np.concatenate([[0.0], np.cumsum(counts) / max(counts.sum(), 1.0)])


def window_costs(cdf: np.ndarray, levels=LEVELS_HU, widths=WIDTHS_HU) -> np.ndarray:
    """Mean |reference CDF - observed CDF| over the reference HU range, per (level, width).

    The observed grey levels are read back to HU through each candidate window. Where the
    candidate would have saturated the pixels (below its low or above its high end) the
    images only bound the CDF, so only a violation of that bound counts.
    """
    hu = np.arange(REFERENCE_HU[0], REFERENCE_HU[-1] + 0.5, 1.0)
    reference = np.interp(hu, REFERENCE_HU, INTRACRANIAL_HU_CDF)
    level, width = levels[:, None, None], widths[None, :, None]
    grey = (hu - (level - width / 2)) * (255.0 / width)
    observed = np.interp(grey, np.arange(-0.5, 256.0), cdf)
    # JPEG noise and exporters' offsets blur the ends of the scale: near-black and
    # near-white pixels count as saturated.
    black, white = cdf[AIR_MAX + 1], cdf[BONE_MIN]  # fractions at most AIR_MAX, and below BONE_MIN
    gap = np.abs(reference - observed)
    gap = np.where(grey < AIR_MAX + 0.5, np.maximum(reference - black, 0.0), gap)
    gap = np.where(grey > BONE_MIN - 0.5, np.maximum(white - reference, 0.0), gap)
    return gap.mean(axis=-1)
