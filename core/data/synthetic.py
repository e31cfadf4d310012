"""Synthetic street scenes: the embedded default dataset, so a user with no data can train.

Each pair is drawn from (seed, index) alone, deterministically: a label map in Cityscapes label ids
and a matching photo-like image. The scene is a pinhole-camera view down a straight street:

    ground point (X lateral, Z depth) -> x = vx + fx·X/Z,  y = yh + fy·(hc − Yworld)/Z

so every ground row has one depth Z = fy·hc/(y − yh) and every wall column one depth
Z = fx·|Xwall|/|x − vx|. That turns road, lane markings, sidewalk tiles, facades and windows into a
handful of whole-image numpy operations on per-row and per-column vectors (no per-pixel Python),
and textures are sampled in world coordinates, so they shrink into the distance for free.
The background is coloured once from a per-scene colour table (a material map × a shade map);
objects (trees, poles, lamps, signs, traffic lights, cars, buses, trucks, people, cyclists) are then
drawn far to near into their own bounding boxes, and sometimes the recording car's bonnet ("ego
vehicle", as in Cityscapes) along the bottom.

Speed target: >= 50 pairs/s at 256×512 on one core (benchmarks/data_bench.py measures it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.data.files import LoadedPair

# Cityscapes label ids used here (see core.labels; kept as names for readability).
ROAD, SIDEWALK, BUILDING, WALL, FENCE = 7, 8, 11, 12, 13
POLE, TRAFFIC_LIGHT, TRAFFIC_SIGN = 17, 19, 20
VEGETATION, TERRAIN, SKY = 21, 22, 23
EGO_VEHICLE = 1
PERSON, RIDER, CAR, TRUCK, BUS, BICYCLE = 24, 25, 26, 27, 28, 33

_NOISE_SIZE = 256  # power of two: world-coordinate lookups wrap with a bit mask


@lru_cache(maxsize=1)
def _noise_tiles() -> tuple[np.ndarray, np.ndarray]:
    """Two tileable float32 noise textures in about [-1, 1], made once per process from a fixed
    seed: `fine` (grain, 1-2 px features) and `blotch` (smooth multi-octave value noise)."""
    rng = np.random.default_rng(20240611)
    n = _NOISE_SIZE
    fine = rng.standard_normal((n, n)).astype(np.float32)
    fine = (fine + np.roll(fine, 1, 0) + np.roll(fine, 1, 1)) / 3.0
    blotch = np.zeros((n, n), np.float32)
    for octave, amp in ((8, 1.0), (16, 0.5), (32, 0.25), (64, 0.125)):
        coarse = rng.standard_normal((octave, octave)).astype(np.float32)
        rep = n // octave
        # Bilinear upsampling of a periodic grid keeps the tile seamless.
        t = (np.arange(n, dtype=np.float32) % rep) / rep
        i0 = np.arange(n) // rep
        i1 = (i0 + 1) % octave
        rows = coarse[i0] * (1 - t)[:, None] + coarse[i1] * t[:, None]
        blotch += amp * (rows[:, i0] * (1 - t)[None, :] + rows[:, i1] * t[None, :])
    blotch /= np.abs(blotch).max()
    fine /= np.abs(fine).max()
    return fine, blotch


@lru_cache(maxsize=1)
def _combo_tile() -> np.ndarray:
    """Grain plus blotches in one tile: one lookup per pixel instead of two."""
    fine, blotch = _noise_tiles()
    combo = 0.45 * fine + 0.75 * blotch
    return (combo / np.abs(combo).max()).astype(np.float32)


@lru_cache(maxsize=8)
def _tiled(which: int, h: int, w: int) -> np.ndarray:
    """Noise tile `which` (0 fine grain, 1 blotches) repeated to cover (h + N) × (w + N), so any
    h × w window at an offset below N is a cheap slice."""
    tex = _noise_tiles()[which]
    reps = (h // _NOISE_SIZE + 2, w // _NOISE_SIZE + 2)
    return np.tile(tex, reps)[: h + _NOISE_SIZE, : w + _NOISE_SIZE].copy()


def _frac(v: np.ndarray) -> np.ndarray:
    """v mod 1 (faster than np.mod for float32, which takes the exact fmod path)."""
    return v - np.floor(v)


def _tile(tex: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Sample a noise tile at integer world-grid coordinates (wrapping)."""
    return tex[rows & (_NOISE_SIZE - 1), cols & (_NOISE_SIZE - 1)]


@dataclass(frozen=True)
class _Look:
    """Time of day and weather: light colour, brightness, sky gradient, shadow strength."""

    tint: np.ndarray  # (3,) multiplier on the final image
    sky_top: np.ndarray
    sky_horizon: np.ndarray
    sun_left: bool  # which facade side is lit
    shadow: float  # brightness in shadow (1 = no shadow, overcast)
    clouds: float

    def __post_init__(self) -> None:  # float32 everywhere: float64 would double the pixel work
        for name in ("tint", "sky_top", "sky_horizon"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), np.float32))


def _pick_look(rng: np.random.Generator) -> _Look:
    kind = rng.choice(4, p=[0.45, 0.25, 0.2, 0.1])  # sunny, overcast, evening, dusk
    jitter = rng.uniform(-8, 8, 3)
    if kind == 0:
        return _Look(np.array([1.0, 1.0, 0.98]) * rng.uniform(0.95, 1.1), np.array([70, 120, 200]) + jitter,
                     np.array([175, 200, 230]) + jitter, bool(rng.random() < 0.5), rng.uniform(0.5, 0.7),
                     rng.uniform(0.0, 0.5))
    if kind == 1:
        grey = rng.uniform(175, 215)
        return _Look(np.array([0.95, 0.97, 1.0]) * rng.uniform(0.85, 1.0), np.array([grey - 25] * 3) + jitter,
                     np.array([grey + 15] * 3) + jitter, bool(rng.random() < 0.5), rng.uniform(0.85, 0.95),
                     rng.uniform(0.6, 1.0))
    if kind == 2:
        return _Look(np.array([1.08, 0.95, 0.8]) * rng.uniform(0.85, 1.0), np.array([90, 110, 170]) + jitter,
                     np.array([235, 180, 120]) + jitter, bool(rng.random() < 0.5), rng.uniform(0.45, 0.65),
                     rng.uniform(0.2, 0.6))
    return _Look(np.array([0.85, 0.8, 0.95]) * rng.uniform(0.55, 0.7), np.array([30, 40, 90]) + jitter,
                 np.array([200, 120, 90]) + jitter, bool(rng.random() < 0.5), rng.uniform(0.75, 0.9),
                 rng.uniform(0.1, 0.4))


_FACADE_COLORS = np.array([
    [200, 190, 170], [170, 160, 150], [150, 90, 70], [190, 170, 130], [120, 115, 110], [215, 210, 200],
    [160, 130, 100], [180, 185, 190], [140, 140, 135], [205, 180, 150], [110, 90, 80], [230, 220, 195],
], dtype=np.float32)
_CAR_COLORS = np.array([
    [30, 30, 32], [200, 200, 205], [120, 120, 125], [150, 20, 25], [20, 40, 110], [235, 235, 235],
    [60, 70, 60], [170, 150, 110], [90, 90, 100], [40, 40, 45],
], dtype=np.float32)
_CLOTHES = np.array([
    [30, 30, 35], [60, 60, 80], [120, 30, 30], [40, 70, 120], [160, 150, 130], [90, 90, 90], [200, 200, 200],
    [50, 90, 60],
], dtype=np.float32)


class _Canvas:
    """The label map and photo being drawn, plus the camera that projects world points."""

    def __init__(self, h: int, w: int, fx: float, fy: float, hc: float, yh: float, vx: float) -> None:
        self.h, self.w = h, w
        self.fx, self.fy, self.hc, self.yh, self.vx = fx, fy, hc, yh, vx
        self.labels = np.empty((h, w), np.uint8)
        self.photo = np.empty((3, h, w), np.float32)  # channel-first: per-pixel maps broadcast cheaply
        self.horizon = np.zeros(3, np.float32)

    def x_of(self, X: float, Z: float) -> float:
        return self.vx + self.fx * X / Z

    def y_of(self, Y: float, Z: float) -> float:
        return self.yh + self.fy * (self.hc - Y) / Z

    def box(self, x0: float, x1: float, y0: float, y1: float) -> tuple[slice, slice] | None:
        """Pixel slices of a screen rectangle clipped to the image, or None when empty."""
        c0, c1 = max(int(round(x0)), 0), min(int(round(x1)), self.w)
        r0, r1 = max(int(round(y0)), 0), min(int(round(y1)), self.h)
        if c1 <= c0 or r1 <= r0:
            return None
        return slice(r0, r1), slice(c0, c1)

    def fill(self, sl: tuple[slice, slice], label: int, color: np.ndarray, mask: np.ndarray | None = None,
             shade: np.ndarray | float = 1.0, z: float | None = None) -> None:
        """Paint `label` and `color * shade` into the box (where `mask`); an object at depth `z`
        fades into the horizon colour like the facades behind it."""
        color = np.asarray(color, np.float32)
        if z is not None:
            fade = np.float32(min(max((z - 25.0) / 280.0, 0.0), 0.6))
            color = color * (1 - fade) + self.horizon * fade
        if mask is None:
            self.labels[sl] = label
            region = self.photo[:, sl[0], sl[1]]
            if isinstance(shade, np.ndarray):
                np.multiply(color[:, None, None], shade[None], out=region)
            else:
                region[:] = (color * np.float32(shade))[:, None, None]
        else:
            self.labels[sl][mask] = label
            region = self.photo[:, sl[0], sl[1]]
            if isinstance(shade, np.ndarray):
                region[:, mask] = color[:, None] * shade[mask][None, :]
            else:
                region[:, mask] = (color * np.float32(shade))[:, None]

    def rect(self, X0: float, X1: float, Y0: float, Y1: float, Z: float, label: int, color: np.ndarray,
             shade: float = 1.0) -> tuple[slice, slice] | None:
        """A frontal rectangle (constant depth Z) in world metres."""
        sl = self.box(self.x_of(X0, Z), self.x_of(X1, Z), self.y_of(Y1, Z), self.y_of(Y0, Z))
        if sl is not None:
            self.fill(sl, label, color, shade=shade, z=Z)
        return sl


def _background(c: _Canvas, rng: np.random.Generator, look: _Look) -> dict:
    """Sky, facades (or parks), the end of the street, and the ground.

    Speed: everything is computed on single-channel maps — a label map, a *material* map (an index
    into a small per-scene colour table) and a multiplicative shade — and turned into RGB once, at
    the end, with one table lookup. Three-channel work per pixel is the expensive part."""
    h, w, fx, fy, hc, yh, vx = c.h, c.w, c.fx, c.fy, c.hc, c.yh, c.vx
    _, blotch = _noise_tiles()
    combo = _combo_tile()

    road_half = rng.uniform(3.5, 8.0)
    road_center = rng.uniform(-0.8, 0.8)
    lanes = int(np.clip(round(road_half * 2 / rng.uniform(3.0, 3.8)), 2, 4))
    sw = [rng.uniform(1.8, 4.5), rng.uniform(1.8, 4.5)]  # sidewalk widths left, right
    verge = [rng.uniform(0.8, 2.5) if rng.random() < 0.3 else 0.0 for _ in range(2)]  # grass strips
    park = [rng.random() < 0.15, rng.random() < 0.15]  # a side with trees instead of buildings
    wall_x = [road_center - road_half - sw[0] - verge[0], road_center + road_half + sw[1] + verge[1]]
    z_end = rng.uniform(70, 220) if rng.random() < 0.6 else np.inf

    rows = np.arange(h, dtype=np.float32)[:, None] + 0.5
    cols = np.arange(w, dtype=np.float32)[None, :] + 0.5
    dy = rows - np.float32(yh)  # (H, 1)
    dxc = cols - np.float32(vx)  # (1, W)
    z_ground = np.where(dy > 0, fy * hc / np.maximum(dy, 1e-3), np.inf).astype(np.float32)  # (H, 1)
    z_wall = fx * np.where(dxc < 0, wall_x[0] / np.minimum(dxc, -1e-3), wall_x[1] / np.maximum(dxc, 1e-3))
    z_wall = np.minimum(z_wall, z_end).astype(np.float32)  # (1, W): depth of the facade in each column
    end_col = z_wall >= z_end
    left_col = dxc < 0

    # Facade segments along the street, per side: buildings of varied height, low walls, fences,
    # hedges. u = position along the facade in metres: depth Z on the two sides, lateral X on the
    # facade closing the street.
    u_col = np.where(end_col, dxc * np.float32(min(z_end, 1e6) / fx), z_wall)[0].astype(np.float32)  # (W,)
    heights: list[float] = []
    labels: list[int] = []
    colors: list[np.ndarray] = []
    windows: list[tuple[float, float, float, float, float]] = []
    edges_per_side: list[np.ndarray] = []
    first: list[int] = []
    for side, (start, stop) in enumerate(((0.0, 450.0), (0.0, 450.0), (-300.0, 300.0))):
        first.append(len(heights))
        edges, pos = [], start
        while pos < stop:
            pos += rng.uniform(8, 30) if side < 2 else rng.uniform(10, 40)
            edges.append(pos)
            roll = rng.random()
            if side < 2 and park[side]:
                label, height = VEGETATION, rng.uniform(3, 8)
            elif roll < 0.78:
                label, height = BUILDING, rng.uniform(7, 28)
            elif roll < 0.86:
                label, height = WALL, rng.uniform(1.0, 2.5)
            elif roll < 0.93:
                label, height = FENCE, rng.uniform(1.0, 2.0)
            else:
                label, height = VEGETATION, rng.uniform(4, 10)
            color = _FACADE_COLORS[rng.integers(len(_FACADE_COLORS))] + rng.uniform(-12, 12, 3)
            if label == VEGETATION:
                color = np.array([62, 92, 45]) + rng.uniform(-15, 15, 3)
            elif label == FENCE:
                color = np.array([110, 105, 95]) + rng.uniform(-20, 20, 3)
            heights.append(height)
            labels.append(label)
            colors.append(color)
            # window spacing, floor height, window width and height (shares), ground floor height
            windows.append((rng.uniform(1.6, 3.2), rng.uniform(2.8, 3.6), rng.uniform(0.35, 0.65),
                            rng.uniform(0.4, 0.6), rng.uniform(2.5, 4.5)))
        edges_per_side.append(np.array(edges, np.float32))
    seg = np.empty(w, np.int64)
    for side, cols_of_side in enumerate((left_col[0] & ~end_col[0], ~left_col[0] & ~end_col[0], end_col[0])):
        found = np.searchsorted(edges_per_side[side], u_col[cols_of_side])
        seg[cols_of_side] = first[side] + np.minimum(found, len(edges_per_side[side]) - 1)
    height_col = np.array(heights, np.float32)[seg][None, :]  # (1, W)
    label_col = np.array(labels, np.uint8)[seg][None, :]
    win = np.array(windows, np.float32)[seg]  # (W, 5)
    spacing, floor_h, win_w, win_h, ground_floor = (win[:, i][None, :] for i in range(5))
    u_row = u_col[None, :]

    # The per-scene colour table: sky gradient bins, ground bands, marks, glass, shop, facades.
    sky_bins = 24
    t = np.linspace(0, 1, sky_bins, dtype=np.float32)[:, None]
    sky_lut = look.sky_top * (1 - t) + look.sky_horizon * t
    asphalt, paving = rng.uniform(70, 110), rng.uniform(130, 175)
    grass = np.array([85, 110, 55]) + rng.uniform(-15, 15, 3)
    band_lut = np.array([
        grass, [paving, paving * 0.98, paving * 0.95], [paving + 25] * 3, [asphalt, asphalt, asphalt * 1.03],
        [paving + 25] * 3, [paving, paving * 0.98, paving * 0.95], grass], np.float32)
    band_lut += rng.uniform(-8, 8, (7, 3)).astype(np.float32)
    mark = [225, 225, 215] if rng.random() < 0.85 else [220, 190, 60]
    extras = np.array([mark, [60, 70, 88], [38, 42, 48]], np.float32)  # lane mark, glass, shop front
    lut = np.concatenate([sky_lut, band_lut, extras, np.array(colors, np.float32)]).astype(np.float32)
    m_band, m_mark, m_glass, m_shop = sky_bins, sky_bins + 7, sky_bins + 8, sky_bins + 9
    m_facade = sky_bins + 10

    # Sky: gradient bins by row, brightened by clouds.
    sky_row = np.clip(rows[:, 0] / max(yh, 1.0) * (sky_bins - 1), 0, sky_bins - 1).astype(np.uint8)[:, None]
    oy, ox = rng.integers(0, _NOISE_SIZE, 2)
    cloud = _tiled(1, h, w)[oy:oy + h, ox:ox + w]  # a view: no per-pixel lookup
    labels_map = np.full((h, w), SKY, np.uint8)
    material = np.broadcast_to(sky_row.astype(np.uint16), (h, w)).copy()
    shade = 1.0 + np.float32(look.clouds * 0.3) * np.maximum(cloud, 0)

    # Facades: windows on a floor grid, a shop front, a darker cornice, lit or shaded side.
    sees_wall = z_wall < z_ground  # (H, W): the facade is nearer than the ground in this pixel
    y_world = hc - dy * (z_wall / fy)  # (H, W) height on the facade, metres
    on_facade = sees_wall & (y_world < height_col)
    u_grid = (u_row * 20).astype(np.int32)
    yw_grid = (y_world * 20).astype(np.int32)
    facade_tex = _tile(combo, yw_grid, u_grid)
    # Hedges and trees have ragged tops, not flat ones (noise along the facade only: cheap).
    is_veg_col = label_col == VEGETATION
    ragged = np.where(is_veg_col, (0.4 * height_col) * np.abs(_tile(blotch, u_grid[:1] // 3, u_grid[:1] // 7)), 0)
    ragged = ragged.astype(np.float32)
    on_facade &= y_world < height_col - ragged
    bay_u = _frac(u_row / spacing)  # (1, W) position across a window bay
    bay_y = _frac((y_world - ground_floor) * (1 / floor_h))
    is_building = on_facade & (label_col == BUILDING)
    window = is_building & (np.abs(bay_u - 0.5) < win_w / 2) & (np.abs(bay_y - 0.5) < win_h / 2) & \
        (y_world > ground_floor) & (y_world < height_col - 0.6)
    shop = is_building & (y_world < ground_floor - 0.3) & (y_world > 0.2) & (np.abs(bay_u - 0.5) < 0.38)
    side_light = np.where(end_col, 0.9, np.where(left_col == look.sun_left, 1.05, look.shadow + 0.2)).astype(np.float32)
    facade_material = np.where(window, m_glass, np.where(shop, m_shop, (m_facade + seg[None, :]).astype(np.uint16)))
    cornice = is_building & (y_world > height_col - 0.5)
    tex_gain = np.where(is_veg_col, np.float32(0.43), np.float32(0.08))  # foliage is rougher than plaster
    facade_shade = side_light * (1 + tex_gain * facade_tex)
    facade_shade = np.where(window, 0.75 + 0.6 * (1 - bay_y), facade_shade)
    facade_shade[cornice] *= np.float32(0.7)
    labels_map = np.where(on_facade, label_col, labels_map)
    material = np.where(on_facade, facade_material, material)
    shade = np.where(on_facade, facade_shade, shade)

    # Ground: road, curbs, sidewalks, grass verges; patterns in world metres recede correctly.
    # Only the rows below the horizon can show ground, so the ground maps cover just those (g).
    g = slice(int(np.clip(np.floor(yh), 0, h)), h)
    dy_g, zg = dy[g], np.minimum(z_ground[g], 1e4)  # (Hg, 1)
    ground = ~sees_wall[g] & (dy_g > 0)
    x_world = dxc * np.float32(hc * fy / fx) / np.maximum(dy_g, 1e-3)  # (Hg, W) lateral metres on the ground
    rel = x_world - np.float32(road_center)
    bands = np.array([-road_half - sw[0], -road_half - 0.18, -road_half, road_half, road_half + 0.18,
                      road_half + sw[1]], np.float32)
    band = np.searchsorted(bands, rel).astype(np.uint8)  # 0 verge, 1 sidewalk, 2 curb, 3 road, ...
    band_label = np.array([TERRAIN, SIDEWALK, SIDEWALK, ROAD, SIDEWALK, SIDEWALK, TERRAIN], np.uint8)
    ground_tex = _tile(combo, (zg * 12).astype(np.int32), (x_world * 12).astype(np.int32))
    tile = rng.uniform(0.4, 0.8)
    on_sidewalk = (band == 1) | (band == 5)
    joints = on_sidewalk & ((_frac(x_world * (1 / tile)) < 0.04 / tile) | (_frac(zg * (1 / tile)) < 0.04 / tile))
    lane_w = 2 * road_half / lanes
    lane_pos = _frac((rel + np.float32(road_half)) * np.float32(1 / lane_w)) * np.float32(lane_w)
    dashes = _frac((zg + rng.uniform(0, 9)) / 9.0) < rng.uniform(2.5, 4.5) / 9.0  # (Hg, 1)
    on_road = band == 3
    inner = dashes & (np.minimum(lane_pos, lane_w - lane_pos) < 0.08) & (np.abs(rel) < road_half - 0.5)
    edge_line = np.abs(np.abs(rel) - (road_half - 0.35)) < 0.08
    marks = on_road & (inner | edge_line)
    if rng.random() < 0.25:  # a zebra crossing
        zc = rng.uniform(8, 25)
        marks |= on_road & (np.abs(zg - zc) < 1.6) & (_frac(rel) < 0.5)
    ground_shade = 1 + np.float32(0.12) * ground_tex
    ground_shade[joints] *= np.float32(0.8)
    if look.shadow < 0.8:  # shadow of the facades on the shaded side of the street
        reach = rng.uniform(0.0, 0.7) * road_half * 2
        shaded = (rel < -road_half - sw[0] + reach) if not look.sun_left else (rel > road_half + sw[1] - reach)
        ground_shade[shaded] *= np.float32(look.shadow)
    labels_map[g] = np.where(ground, band_label[band], labels_map[g])
    material[g] = np.where(ground, np.where(marks, m_mark, (m_band + band).astype(np.uint16)), material[g])
    shade[g] = np.where(ground, ground_shade, shade[g])

    # Colour once; then haze: far ground and facades fade into the horizon colour.
    depth = np.where(on_facade, z_wall, np.float32(0))
    depth[g] = np.where(ground, zg, depth[g])
    haze = np.clip((depth - np.float32(25)) * np.float32(1 / 280), 0, 0.6)
    # rgb·(1 − haze) + horizon·haze, with the (1 − haze) folded into the shade: two 3-channel ops.
    gain = shade * (1 - haze)
    for ch in range(3):  # channel planes: np.take on a 1-D table is the fast gather
        np.multiply(np.take(lut[:, ch], material), gain, out=c.photo[ch])
        c.photo[ch] += look.sky_horizon[ch] * haze
    c.labels[:] = labels_map
    return {"road_center": road_center, "road_half": road_half, "sw": sw, "wall_x": wall_x, "lanes": lanes,
            "z_end": z_end, "park": park}


def _tree(c: _Canvas, rng: np.random.Generator, X: float, Z: float) -> None:
    fine, blotch = _noise_tiles()
    trunk_h = rng.uniform(2.0, 3.5)
    crown_r = rng.uniform(1.5, 3.0)
    trunk_col = np.array([70, 55, 40], np.float32) + rng.uniform(-10, 10, 3)
    c.rect(X - 0.15, X + 0.15, 0, trunk_h + crown_r * 0.5, Z, VEGETATION, trunk_col)
    cx, cy = c.x_of(X, Z), c.y_of(trunk_h + crown_r, Z)
    rx, ry = c.fx * crown_r / Z, c.fy * crown_r / Z
    sl = c.box(cx - rx * 1.2, cx + rx * 1.2, cy - ry * 1.2, cy + ry * 1.2)
    if sl is None:
        return
    yy = (np.arange(sl[0].start, sl[0].stop, dtype=np.float32)[:, None] - cy) / ry
    xx = (np.arange(sl[1].start, sl[1].stop, dtype=np.float32)[None, :] - cx) / rx
    off = rng.integers(256)
    gy = ((yy * 24).astype(np.int32) + off)
    gx = ((xx * 24).astype(np.int32) + off)
    wobble = _tile(blotch, gy // 2, gx // 2)
    mask = yy * yy * 1.1 + xx * xx < (0.85 + 0.3 * wobble) ** 2
    leaf = np.array([55, 85, 40], np.float32) + rng.uniform(-15, 15, 3)
    shade = (0.75 + 0.35 * _tile(fine, gy, gx) * 0.5 + 0.25 * wobble - 0.2 * yy).astype(np.float32)
    c.fill(sl, VEGETATION, leaf, mask, shade, z=Z)


def _pole(c: _Canvas, rng: np.random.Generator, X: float, Z: float) -> None:
    height = rng.uniform(3.5, 7.0)
    grey = np.array([95, 95, 100], np.float32) + rng.uniform(-20, 20)
    c.rect(X - 0.07, X + 0.07, 0, height, Z, POLE, grey)
    kind = rng.random()
    if kind < 0.4:  # a traffic sign: round, square or triangular plate
        size = rng.uniform(0.5, 0.8)
        top = height - rng.uniform(0.0, 1.0)
        sl = c.box(c.x_of(X - size / 2, Z), c.x_of(X + size / 2, Z), c.y_of(top, Z), c.y_of(top - size, Z))
        if sl is None:
            return
        hh, ww = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        yy = (np.arange(hh, dtype=np.float32)[:, None] + 0.5) / max(hh, 1) - 0.5
        xx = (np.arange(ww, dtype=np.float32)[None, :] + 0.5) / max(ww, 1) - 0.5
        shape = rng.integers(3)
        if shape == 0:
            mask = xx * xx + yy * yy < 0.25
            color = np.array([[200, 30, 30], [30, 70, 170]][rng.integers(2)], np.float32)
            inner = xx * xx + yy * yy < 0.12
        elif shape == 1:
            mask = np.ones((hh, ww), bool)
            color = np.array([[30, 70, 170], [240, 200, 40], [30, 120, 60]][rng.integers(3)], np.float32)
            inner = (np.abs(xx) < 0.3) & (np.abs(yy) < 0.3)
        else:
            mask = np.abs(xx) < (yy + 0.5) * 0.5 + 0.02
            color = np.array([200, 30, 30], np.float32)
            inner = np.abs(xx) < (yy + 0.3) * 0.35
        shade = np.where(inner, 1.6, 1.0).astype(np.float32) * np.ones((hh, ww), np.float32)
        c.fill(sl, TRAFFIC_SIGN, color, mask, shade, z=Z)
    elif kind < 0.7:  # a traffic light box with one lamp lit
        top = height
        sl = c.rect(X - 0.2, X + 0.2, top - 1.0, top, Z, TRAFFIC_LIGHT, np.array([30, 32, 30], np.float32))
        if sl is not None:
            lamp = rng.integers(3)
            colors = np.array([[255, 60, 40], [255, 190, 40], [60, 255, 120]], np.float32)
            y_lamp = top - 0.17 - lamp * 0.33
            c.rect(X - 0.09, X + 0.09, y_lamp - 0.09, y_lamp + 0.09, Z, TRAFFIC_LIGHT, colors[lamp])
    elif kind < 0.9:  # a street lamp with an arm over the road
        arm = rng.uniform(0.8, 1.6) * (1 if X < 0 else -1)
        c.rect(min(X, X + arm), max(X, X + arm), height - 0.12, height, Z, POLE, grey)


def _car(c: _Canvas, rng: np.random.Generator, X: float, Z: float, big: bool = False) -> None:
    """A car (or bus/truck) seen from behind, with its side visible when it is off-axis."""
    label = CAR
    width, height, length = rng.uniform(1.7, 1.95), rng.uniform(1.4, 1.65), rng.uniform(3.8, 4.8)
    body = _CAR_COLORS[rng.integers(len(_CAR_COLORS))] + rng.uniform(-10, 10, 3).astype(np.float32)
    if big:
        label = BUS if rng.random() < 0.5 else TRUCK
        width, height, length = 2.5, rng.uniform(2.8, 3.4), rng.uniform(7, 12)
        body = np.array([[220, 200, 40], [200, 50, 40], [230, 230, 230], [60, 90, 150]][rng.integers(4)], np.float32)
    x0w, x1w = X - width / 2, X + width / 2
    # Its shadow on the road first: a darker patch under the body (photo only).
    shadow = c.box(c.x_of(x0w - 0.1, Z), c.x_of(x1w + 0.1, Z), c.y_of(0, Z + length * 0.9), c.y_of(0, Z - 0.25))
    if shadow is not None:
        c.photo[:, shadow[0], shadow[1]] *= np.float32(0.5)
    # Side face: a quad from the back (Z) to the front (Z + length) at the side nearer the centre.
    side_x = x1w if (c.x_of(X, Z) < c.vx) else x0w
    xa, xb = c.x_of(side_x, Z), c.x_of(side_x, Z + length)
    sl = c.box(min(xa, xb), max(xa, xb), c.y_of(height, Z), c.y_of(0, Z + 0.01))
    if sl is not None and abs(xb - xa) >= 1:
        cols = np.arange(sl[1].start, sl[1].stop, dtype=np.float32)[None, :] + 0.5
        with np.errstate(divide="ignore", invalid="ignore"):
            zc = c.fx * side_x / (cols - c.vx)  # depth of the side face in each column
        valid = (zc >= Z) & (zc <= Z + length)
        rows = np.arange(sl[0].start, sl[0].stop, dtype=np.float32)[:, None] + 0.5
        y_top = c.yh + c.fy * (c.hc - height * 0.95) / zc
        y_bot = c.yh + c.fy * (c.hc - 0.15) / zc
        y_win = c.yh + c.fy * (c.hc - height * 0.62) / zc
        mask = valid & (rows >= y_top) & (rows <= y_bot)
        shade = np.where(rows < y_win, 0.45, 0.8).astype(np.float32) * np.ones_like(mask, np.float32)
        c.fill(sl, label, body, mask, shade, z=Z)
    # Back face: body, rear window, lights, wheels (shadow) and bumper.
    sl = c.rect(x0w, x1w, 0.15, height, Z, label, body, 0.9)
    if sl is None:
        return
    c.rect(x0w + 0.15, x1w - 0.15, height * 0.62, height * 0.93, Z, label, np.array([40, 45, 55], np.float32))
    c.rect(x0w, x0w + 0.3, height * 0.45, height * 0.55, Z, label, np.array([170, 20, 20], np.float32))
    c.rect(x1w - 0.3, x1w, height * 0.45, height * 0.55, Z, label, np.array([170, 20, 20], np.float32))
    c.rect(x0w + 0.1, x0w + 0.45, 0.0, 0.35, Z, label, np.array([20, 20, 20], np.float32))
    c.rect(x1w - 0.45, x1w - 0.1, 0.0, 0.35, Z, label, np.array([20, 20, 20], np.float32))
    c.rect(x0w, x1w, 0.15, 0.4, Z, label, body * 0.5)


def _person(c: _Canvas, rng: np.random.Generator, X: float, Z: float) -> None:
    height = rng.uniform(1.55, 1.9)
    shirt = _CLOTHES[rng.integers(len(_CLOTHES))]
    trousers = _CLOTHES[rng.integers(len(_CLOTHES))] * 0.8
    skin = np.array([[225, 185, 160], [180, 130, 100], [120, 85, 60]][rng.integers(3)], np.float32)
    stride = rng.uniform(0, 0.18)
    c.rect(X - 0.17 - stride, X - 0.02, 0, height * 0.48, Z, PERSON, trousers)
    c.rect(X + 0.02, X + 0.17 + stride, 0, height * 0.48, Z, PERSON, trousers)
    c.rect(X - 0.22, X + 0.22, height * 0.46, height * 0.84, Z, PERSON, shirt)
    c.rect(X - 0.27, X - 0.2, height * 0.5, height * 0.82, Z, PERSON, shirt * 0.85)
    c.rect(X + 0.2, X + 0.27, height * 0.5, height * 0.82, Z, PERSON, shirt * 0.85)
    c.rect(X - 0.1, X + 0.1, height * 0.84, height, Z, PERSON, skin)
    c.rect(X - 0.11, X + 0.11, height * 0.95, height * 1.0, Z, PERSON, np.array([40, 30, 25], np.float32))


def _objects(c: _Canvas, rng: np.random.Generator, scene: dict) -> None:
    rc, rh, sw = scene["road_center"], scene["road_half"], scene["sw"]
    z_max = min(scene["z_end"] - 5, 120.0)
    z_min = c.fy * c.hc / max(c.h - c.yh, 1.0) * 0.9  # nearest depth the camera sees on the ground
    items: list[tuple[float, int, float, bool]] = []  # (Z, kind, X, big)

    def depths(n: int, lo: float = 0.0) -> np.ndarray:
        return rng.uniform(max(z_min, lo) if lo else z_min * 1.1, z_max, n) if z_max > z_min * 1.2 else np.array([])

    for side, sign in ((0, -1.0), (1, 1.0)):
        edge = rc + sign * rh
        for z in depths(int(rng.integers(0, 7))):  # trees in the sidewalk or verge
            items.append((z, 0, edge + sign * rng.uniform(0.6, max(sw[side] - 0.3, 0.7)), False))
        for z in depths(int(rng.integers(1, 6))):  # poles near the curb
            items.append((z, 1, edge + sign * rng.uniform(0.3, 0.6), False))
        for z in depths(int(rng.integers(0, 6))):  # parked cars along the curb
            items.append((z, 2, edge - sign * 1.1, False))
        for z in depths(int(rng.integers(0, 5))):  # pedestrians on the sidewalk
            items.append((z, 3, edge + sign * rng.uniform(0.5, max(sw[side] - 0.3, 0.6)), False))
        for z in depths(int(rng.random() < 0.35) * int(rng.integers(1, 3)), lo=6.0):  # cyclists at the road edge
            items.append((z, 4, edge - sign * rng.uniform(0.6, 1.2), False))
    lane_w = 2 * rh / scene["lanes"]
    for z in depths(int(rng.integers(0, 5)), lo=8.0):  # traffic in the lanes
        lane = rng.integers(scene["lanes"])
        items.append((z, 2, rc - rh + lane_w * (lane + 0.5) + rng.uniform(-0.3, 0.3), rng.random() < 0.12))
    if rng.random() < 0.3:  # someone crossing the road
        items.append((rng.uniform(z_min * 1.3, min(z_max, 30.0)) if z_max > z_min * 1.4 else z_max, 3,
                      rc + rng.uniform(-rh, rh), False))
    items.sort(key=lambda item: -item[0])  # painter's order: far first
    for z, kind, X, big in items:
        if z <= 0.5:
            continue
        if kind == 0:
            _tree(c, rng, X, z)
        elif kind == 1:
            _pole(c, rng, X, z)
        elif kind == 2:
            _car(c, rng, X, z, big)
        elif kind == 3:
            _person(c, rng, X, z)
        else:
            _cyclist(c, rng, X, z)


def _cyclist(c: _Canvas, rng: np.random.Generator, X: float, Z: float) -> None:
    """A rider on a bicycle, seen from behind: the wheels are a thin dark strip, the handlebar a bar."""
    frame = np.array([[30, 30, 30], [150, 30, 30], [40, 60, 120], [200, 200, 200]][rng.integers(4)], np.float32)
    c.rect(X - 0.05, X + 0.05, 0.0, 0.95, Z, BICYCLE, np.array([25, 25, 25], np.float32))
    c.rect(X - 0.3, X + 0.3, 0.95, 1.02, Z, BICYCLE, frame)
    c.rect(X - 0.08, X + 0.08, 0.55, 0.8, Z, BICYCLE, frame)
    jacket = _CLOTHES[rng.integers(len(_CLOTHES))]
    legs = _CLOTHES[rng.integers(len(_CLOTHES))] * 0.8
    c.rect(X - 0.17, X - 0.04, 0.35, 0.95, Z, RIDER, legs)
    c.rect(X + 0.04, X + 0.17, 0.35, 0.95, Z, RIDER, legs)
    c.rect(X - 0.22, X + 0.22, 0.95, 1.55, Z, RIDER, jacket)
    helmet = np.array([[220, 220, 220], [30, 30, 30], [200, 60, 40]][rng.integers(3)], np.float32)
    c.rect(X - 0.11, X + 0.11, 1.55, 1.8, Z, RIDER, helmet)


def _ego_hood(c: _Canvas, rng: np.random.Generator) -> None:
    """The bonnet of the recording car along the bottom edge, as in Cityscapes ("ego vehicle")."""
    top = c.h * rng.uniform(0.08, 0.16)  # hood height at the centre
    cx = c.w * rng.uniform(0.45, 0.55)
    cols = np.arange(c.w, dtype=np.float32) + 0.5
    height = top * (1 - ((cols - cx) / (c.w * 0.75)) ** 2) - 0.02 * c.h  # (W,) a flat arc
    r0 = int(max(c.h - top - 1, 0))
    rows = np.arange(r0, c.h, dtype=np.float32)[:, None] + 0.5
    mask = rows > (c.h - height)[None, :]
    if not mask.any():
        return
    paint = np.array([[14, 14, 16], [24, 24, 28], [38, 38, 42]][rng.integers(3)], np.float32)
    # A sky reflection brightening toward the hood's edge.
    shade = (1.0 + 0.9 * np.clip(1 - (rows - (c.h - height)[None, :]) / max(top, 1.0), 0, 1) ** 4)
    c.fill((slice(r0, c.h), slice(0, c.w)), EGO_VEHICLE, paint, mask, shade.astype(np.float32))


def generate_pair(seed: int, index: int, size: tuple[int, int] = (256, 512)) -> tuple[np.ndarray, np.ndarray]:
    """One street scene: (uint8 H×W Cityscapes label ids, uint8 H×W×3 photo), a pure function of
    (seed, index, size)."""
    h, w = int(size[0]), int(size[1])
    if h < 8 or w < 8:
        raise ValueError(f"synthetic scenes need at least 8×8 pixels, got {h}×{w}")
    rng = np.random.default_rng([abs(int(seed)), int(index), 0x5EED])
    look = _pick_look(rng)
    # Camera: focal length, height above the road, horizon row (pitch) and vanishing column (yaw)
    # vary per scene. The view is always that of a 2:1 street image (Cityscapes: f ≈ 1.1·W),
    # squeezed or stretched horizontally to the requested size, the way the pix2pix Cityscapes set
    # squeezes 2048×1024 frames into 256×256: a 286×286 scene shows the same street as a 256×512 one.
    fy = 2 * h * rng.uniform(0.75, 1.2)
    fx = fy * w / (2 * h)
    hc = rng.uniform(1.2, 2.6)
    yh = h * rng.uniform(0.34, 0.52)
    vx = w * rng.uniform(0.38, 0.62)
    c = _Canvas(h, w, fx, fy, hc, yh, vx)
    c.horizon = look.sky_horizon
    scene = _background(c, rng, look)
    _objects(c, rng, scene)
    if rng.random() < 0.35:
        _ego_hood(c, rng)
    oy, ox = rng.integers(0, _NOISE_SIZE, 2)
    grain = _tiled(0, h, w)[oy:oy + h, ox:ox + w]
    photo = c.photo * look.tint[:, None, None] + grain * np.float32(6.0)
    # A light blur: real photos have no perfectly hard 1-px edges.
    photo[:, 1:] = 0.7 * photo[:, 1:] + 0.3 * photo[:, :-1]
    photo[:, :, 1:] = 0.7 * photo[:, :, 1:] + 0.3 * photo[:, :, :-1]
    np.clip(photo, 0, 255, out=photo)
    return c.labels, np.ascontiguousarray(photo.astype(np.uint8).transpose(1, 2, 0))


def street_labels(seed: int = 0, height: int = 256, width: int = 512, index: int = 0) -> np.ndarray:
    """Just the label map of scene (seed, index): e.g. a starting scene for the painting canvas."""
    return generate_pair(seed, index, (height, width))[0]


class SyntheticStreets:
    """`count` procedural street scenes; pair i is generate_pair(seed, first_index + i, size)."""

    def __init__(self, count: int, seed: int = 0, size: tuple[int, int] = (256, 512), first_index: int = 0,
                 name: str = "synthetic") -> None:
        if count <= 0:
            raise ValueError("count must be positive")
        self.count = int(count)
        self.seed = int(seed)
        self.size = (int(size[0]), int(size[1]))
        self.first_index = int(first_index)
        self.name = name

    def __len__(self) -> int:
        return self.count

    def _index(self, index: int) -> int:
        if not -self.count <= index < self.count:
            raise IndexError(index)
        return self.first_index + (index % self.count)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return generate_pair(self.seed, self._index(index), self.size)

    def load_pair(self, index: int) -> LoadedPair:
        labels, photo = self[index]
        return LoadedPair(labels=labels, photo=photo, snapped=0, files=())

    def describe(self, index: int) -> str:
        return f"synthetic #{self._index(index)} (seed {self.seed})"
