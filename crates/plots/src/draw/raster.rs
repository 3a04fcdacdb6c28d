//! Pixels written straight into an RGB buffer, clipped to a rectangle: the marks a
//! figure draws over an image it has scaled up (squares, a path, markers), where the
//! exact pixel matters more than antialiasing, so tests can name the pixel a mark lands on.

/// A `width`-wide row-major RGB buffer and the rectangle drawing is clipped to:
/// columns `clip.0..clip.2`, rows `clip.1..clip.3` (end exclusive).
pub(super) struct Raster<'a> {
    pub(super) rgb: &'a mut [u8],
    pub(super) width: usize,
    pub(super) clip: (i64, i64, i64, i64),
}

impl<'a> Raster<'a> {
    /// The whole `width × height` buffer, unclipped.
    pub(super) fn whole(rgb: &'a mut [u8], width: usize, height: usize) -> Raster<'a> {
        Raster {
            rgb,
            width,
            clip: (0, 0, width as i64, height as i64),
        }
    }

    /// Sets pixel (x, y) when it lies inside the clip rectangle.
    pub(super) fn put(&mut self, x: i64, y: i64, colour: [u8; 3]) {
        let (x0, y0, x1, y1) = self.clip;
        if x < x0 || x >= x1 || y < y0 || y >= y1 {
            return;
        }
        let at = 3 * (y as usize * self.width + x as usize);
        if let Some(px) = self.rgb.get_mut(at..at + 3) {
            px.copy_from_slice(&colour);
        }
    }

    /// Fills the rectangle of columns `x0..x1`, rows `y0..y1`.
    pub(super) fn fill(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), colour: [u8; 3]) {
        for y in y0..y1 {
            for x in x0..x1 {
                self.put(x, y, colour);
            }
        }
    }

    /// An image scaled up by `scale` (nearest neighbour), its top-left at `(left, top)`:
    /// image pixel (y, x), coloured `colour(y, x)`, becomes a `scale × scale` block.
    pub(super) fn blit(
        &mut self,
        (left, top): (i64, i64),
        scale: usize,
        (height, width): (usize, usize),
        colour: impl Fn(usize, usize) -> [u8; 3],
    ) {
        let s = scale as i64;
        for y in 0..height {
            for x in 0..width {
                let (x0, y0) = (left + x as i64 * s, top + y as i64 * s);
                self.fill((x0, y0), (x0 + s, y0 + s), colour(y, x));
            }
        }
    }

    /// The outline of the square of columns `left..left + side`, rows `top..top + side`,
    /// `thickness` pixels wide, drawn inside the square (its outermost pixels are the
    /// square's own).
    pub(super) fn square_outline(
        &mut self,
        (left, top): (i64, i64),
        side: i64,
        thickness: i64,
        colour: [u8; 3],
    ) {
        let t = thickness.min(side);
        let (right, bottom) = (left + side, top + side);
        self.fill((left, top), (right, top + t), colour);
        self.fill((left, bottom - t), (right, bottom), colour);
        self.fill((left, top), (left + t, bottom), colour);
        self.fill((right - t, top), (right, bottom), colour);
    }

    /// A line from `a` to `b` (Bresenham), each of its pixels a `thickness`-wide square.
    pub(super) fn line(&mut self, a: (i64, i64), b: (i64, i64), thickness: i64, colour: [u8; 3]) {
        let (mut x, mut y) = a;
        let (dx, dy) = ((b.0 - a.0).abs(), -(b.1 - a.1).abs());
        let (sx, sy) = ((b.0 - a.0).signum(), (b.1 - a.1).signum());
        let mut err = dx + dy;
        let lo = -(thickness - 1) / 2;
        loop {
            self.fill(
                (x + lo, y + lo),
                (x + lo + thickness, y + lo + thickness),
                colour,
            );
            if (x, y) == b {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// The pixels whose centres lie within `outer` of `centre` and farther than `inner`
    /// (a disc for `inner < 0`, a ring otherwise).
    pub(super) fn ring(&mut self, centre: (f64, f64), inner: f64, outer: f64, colour: [u8; 3]) {
        let (cx, cy) = centre;
        let reach = outer.ceil() as i64 + 1;
        let (px, py) = (cx.floor() as i64, cy.floor() as i64);
        for y in py - reach..=py + reach {
            for x in px - reach..=px + reach {
                let d = ((x as f64 + 0.5 - cx).powi(2) + (y as f64 + 0.5 - cy).powi(2)).sqrt();
                if d <= outer && d > inner {
                    self.put(x, y, colour);
                }
            }
        }
    }
}
