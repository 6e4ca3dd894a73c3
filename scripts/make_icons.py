#!/usr/bin/env python3
"""Draws Flightdeck's PWA icons (PNG, standard library only): a rising arrow over a horizon on
the app's dark background. Run from the repository root; writes public/icons/*.png."""
import struct
import zlib

BG = (15, 20, 27)
PANEL = (22, 33, 52)
ACCENT = (77, 163, 255)
GREEN = (63, 185, 80)


def inside_polygon(x, y, pts):
    inside = False
    j = len(pts) - 1
    for i in range(len(pts)):
        xi, yi = pts[i]
        xj, yj = pts[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def colour_at(u, v, maskable):
    """u, v in [0, 1): the colour of the icon at that point."""
    # Maskable icons keep their drawing inside the central 80 % safe zone.
    scale = 0.72 if maskable else 1.0
    cu, cv = (u - 0.5) / scale + 0.5, (v - 0.5) / scale + 0.5
    if not maskable:
        r = 0.2  # rounded square
        dx = max(abs(u - 0.5) - (0.5 - r), 0)
        dy = max(abs(v - 0.5) - (0.5 - r), 0)
        if dx * dx + dy * dy > r * r:
            return None
    colour = BG
    # panel circle
    if (cu - 0.5) ** 2 + (cv - 0.5) ** 2 < 0.40 ** 2:
        colour = PANEL
    # horizon bar
    if 0.66 < cv < 0.71 and 0.22 < cu < 0.78:
        colour = GREEN
    # rising arrow
    arrow = [(0.5, 0.18), (0.72, 0.44), (0.58, 0.44), (0.58, 0.60), (0.42, 0.60), (0.42, 0.44), (0.28, 0.44)]
    if inside_polygon(cu, cv, arrow):
        colour = ACCENT
    return colour


def render(size, maskable, samples=3):
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(samples):
                for sx in range(samples):
                    c = colour_at((x + (sx + 0.5) / samples) / size, (y + (sy + 0.5) / samples) / size, maskable)
                    if c is not None:
                        acc[0] += c[0]; acc[1] += c[1]; acc[2] += c[2]; acc[3] += 255
            n = samples * samples
            alpha = acc[3] // n
            if acc[3]:
                k = acc[3] // 255
                row += bytes([acc[0] // k, acc[1] // k, acc[2] // k, alpha])
            else:
                row += bytes([0, 0, 0, 0])
        rows.append(bytes(row))
    return png(size, size, b"".join(rows))


def png(w, h, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    for name, size, maskable in [
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("maskable-512.png", 512, True),
    ]:
        with open(f"public/icons/{name}", "wb") as f:
            f.write(render(size, maskable))
        print("wrote", name)
