//! The `/stats` picture, `stats.png`: a GitHub-style heatmap of the last 12 weeks' reviews,
//! accuracy bars per topic and a caption, drawn in-process from plain data.
//!
//! Pure: no clock, no I/O, no system fonts. The font is embedded (`assets/fonts/`), so the
//! same input gives the same bytes on every host. Shapes are drawn with tiny-skia (anti-aliased
//! rounded rectangles), text with ab_glyph, and the PNG is written as opaque RGB with `png`.
//! Colours follow Discord's dark theme, where the picture is seen.

use std::fmt;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use jiff::civil::{Date, Weekday};
use tiny_skia::{FillRule, Paint, Path, PathBuilder, Pixmap, Rect, Stroke, Transform};

/// Width of the picture in pixels.
pub const WIDTH: u32 = 800;
/// Height of the picture in pixels.
pub const HEIGHT: u32 = 480;

/// Days in the heatmap: 12 weeks, one column per week, one row per day of the week.
const DAYS: usize = 84;
const WEEKS: usize = 12;
/// Topics drawn at most; the rest are counted in a "+N more" line.
const MAX_TOPICS: usize = 12;

/// The data behind the picture. The numbers are the caller's; this module only draws them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsPicture {
    /// Activity per local day, oldest first: exactly 84 days (12 weeks) ending today.
    pub days: Vec<(Date, u32)>,
    /// Accuracy per topic: (topic, right, answered); at most 12 are drawn, in the given order.
    pub topics: Vec<(String, u32, u32)>,
    /// A short caption, e.g. "12-week activity · accuracy by topic".
    pub caption: String,
}

/// Why no picture was made. The first two are the caller's mistakes: the heatmap's layout
/// (and `day_cell_centre`) assumes 84 consecutive days, so anything else is refused rather
/// than drawn with wrong weekday and month labels.
#[derive(Debug)]
pub enum StatsPngError {
    /// `days` did not hold exactly 84 entries.
    DayCount { got: usize },
    /// `days[at]` is not the day after `days[at - 1]`.
    DaysNotConsecutive { at: usize },
    /// The embedded font could not be parsed (a broken build, not bad input).
    Font,
    /// The canvas could not be allocated.
    Canvas,
    /// PNG encoding failed.
    Encode(png::EncodingError),
}

impl fmt::Display for StatsPngError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DayCount { got } => write!(f, "stats picture needs {DAYS} days, got {got}"),
            Self::DaysNotConsecutive { at } => {
                write!(f, "stats picture days are not consecutive at index {at}")
            }
            Self::Font => f.write_str("the embedded font could not be parsed"),
            Self::Canvas => f.write_str("the stats picture canvas could not be allocated"),
            Self::Encode(e) => write!(f, "encoding the stats picture as PNG: {e}"),
        }
    }
}

impl std::error::Error for StatsPngError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Encode(e) => Some(e),
            _ => None,
        }
    }
}

static FONT: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans.ttf"
));

type Rgb = [u8; 3];

// Discord's dark theme: the picture's background is the embed background, so it sits in an
// embed without a visible edge; text colours are Discord's own primary/secondary/muted.
const BACKGROUND: Rgb = [0x2B, 0x2D, 0x31];
const TEXT: Rgb = [0xF2, 0xF3, 0xF5];
const TEXT_SECONDARY: Rgb = [0xB5, 0xBA, 0xC1];
const TEXT_MUTED: Rgb = [0x94, 0x9B, 0xA4];
/// An empty cell and a bar's track: lighter than the background, so an empty day still
/// reads as a slot rather than a hole.
const EMPTY: Rgb = [0x3F, 0x41, 0x47];
/// GitHub's dark-theme greens for the four activity levels, quietest first.
const LEVELS: [Rgb; 4] = [
    [0x0E, 0x44, 0x29],
    [0x00, 0x6D, 0x32],
    [0x26, 0xA6, 0x41],
    [0x39, 0xD3, 0x53],
];
// Accuracy bars in Discord's red/yellow/green: the band is readable at a glance, and the
// percentage next to each bar carries the exact figure for those who cannot tell the hues.
const BAR_LOW: Rgb = [0xF2, 0x3F, 0x43];
const BAR_MID: Rgb = [0xF0, 0xB2, 0x32];
const BAR_HIGH: Rgb = [0x23, 0xA5, 0x5A];

// Layout, in pixels. Text sizes are large for an 800 px picture because Discord shows it
// scaled down to about two thirds in a chat.
const MARGIN: f32 = 24.0;
const CAPTION_SIZE: f32 = 26.0;
const CAPTION_BASELINE: f32 = 46.0;
const HEADING_SIZE: f32 = 18.0;
const HEADING_BASELINE: f32 = 88.0;
const LABEL_SIZE: f32 = 14.0;
const BODY_SIZE: f32 = 16.0;

/// Left edge of the heatmap grid; the weekday labels sit in the margin before it.
const GRID_X: u32 = 66;
/// Top edge of the heatmap grid; the month labels sit just above it.
const GRID_Y: u32 = 124;
const CELL: u32 = 24;
const PITCH: u32 = 28;
const GRID_RIGHT: f32 = (GRID_X + (WEEKS as u32 - 1) * PITCH + CELL) as f32;
const GRID_BOTTOM: f32 = (GRID_Y + 6 * PITCH + CELL) as f32;

const PANEL_X: f32 = 432.0;
const PANEL_RIGHT: f32 = WIDTH as f32 - MARGIN;
const ROW_Y: f32 = 100.0;
const ROW_H: f32 = 29.0;
/// Within a topic row: the name's baseline, then the bar below it.
const ROW_TEXT_BASELINE: f32 = 15.0;
const BAR_TOP: f32 = 19.0;
const BAR_H: f32 = 7.0;

/// The colour used for a day with `n` reviews given the busiest day `max` (for tests).
///
/// Four levels by quarters of the busiest day, as GitHub does: a continuous scale would make
/// a day with 11 and one with 12 reviews look different only to a colour meter. Any review
/// at all gets at least the first level, so a quiet day is never mistaken for an empty one.
pub fn day_colour(n: u32, max: u32) -> [u8; 3] {
    if n == 0 || max == 0 {
        return EMPTY;
    }
    // ceil(4n / max) in 1..=4; u64 so 4n cannot overflow.
    let level = (4 * u64::from(n)).div_ceil(u64::from(max)).clamp(1, 4);
    LEVELS[level as usize - 1]
}

/// Where day `i` (0 = oldest) is drawn: the pixel at the centre of its square (for tests).
///
/// Column `i / 7` is week `i / 7`, row `i % 7` the day within it, so today (index 83) is the
/// bottom-right square and every row is one weekday.
pub fn day_cell_centre(i: usize) -> (u32, u32) {
    let (x, y) = cell_origin(i);
    (x + CELL / 2, y + CELL / 2)
}

fn cell_origin(i: usize) -> (u32, u32) {
    let (col, row) = ((i / 7) as u32, (i % 7) as u32);
    (GRID_X + col * PITCH, GRID_Y + row * PITCH)
}

/// The fill colour of a topic's bar.
fn bar_colour(right: u32, answered: u32) -> Rgb {
    match accuracy(right, answered) {
        Some(a) if a >= 0.8 => BAR_HIGH,
        Some(a) if a >= 0.5 => BAR_MID,
        _ => BAR_LOW,
    }
}

/// `right / answered` in 0..=1, or `None` when nothing was answered. A `right` above
/// `answered` is the caller's bug; it is drawn as 100% rather than as a bar off the track.
fn accuracy(right: u32, answered: u32) -> Option<f64> {
    (answered > 0).then(|| (f64::from(right) / f64::from(answered)).min(1.0))
}

/// The track of topic row `j`: x, y, width, height.
fn bar_track(j: usize) -> (f32, f32, f32, f32) {
    let top = ROW_Y + j as f32 * ROW_H + BAR_TOP;
    (PANEL_X, top, PANEL_RIGHT - PANEL_X, BAR_H)
}

/// Draws the picture and returns it as PNG bytes.
pub fn render(p: &StatsPicture) -> Result<Vec<u8>, StatsPngError> {
    check_days(&p.days)?;
    let font = FontRef::try_from_slice(FONT).map_err(|_| StatsPngError::Font)?;
    let mut canvas = Canvas {
        pixmap: Pixmap::new(WIDTH, HEIGHT).ok_or(StatsPngError::Canvas)?,
        font,
    };
    canvas.fill_rect(0.0, 0.0, WIDTH as f32, HEIGHT as f32, 0.0, BACKGROUND);

    let caption = one_line(&p.caption);
    canvas.text_fitted(
        &caption,
        CAPTION_SIZE,
        MARGIN,
        CAPTION_BASELINE,
        WIDTH as f32 - 2.0 * MARGIN,
        TEXT,
    );
    draw_heatmap(&mut canvas, &p.days);
    draw_topics(&mut canvas, &p.topics);
    canvas.encode()
}

fn check_days(days: &[(Date, u32)]) -> Result<(), StatsPngError> {
    if days.len() != DAYS {
        return Err(StatsPngError::DayCount { got: days.len() });
    }
    for (at, pair) in days.windows(2).enumerate() {
        if pair[0].0.tomorrow().ok() != Some(pair[1].0) {
            return Err(StatsPngError::DaysNotConsecutive { at: at + 1 });
        }
    }
    Ok(())
}

fn draw_heatmap(c: &mut Canvas, days: &[(Date, u32)]) {
    c.text(
        "Reviews per day",
        HEADING_SIZE,
        MARGIN,
        HEADING_BASELINE,
        TEXT_SECONDARY,
    );

    let max = days.iter().map(|&(_, n)| n).max().unwrap_or(0);
    // Every row is one weekday (84 = 12 × 7), so the first week names them all.
    for (row, (date, _)) in days.iter().take(7).enumerate() {
        let (_, y) = day_cell_centre(row);
        let label = weekday_abbr(date.weekday());
        c.text(label, LABEL_SIZE, MARGIN, y as f32 + 5.0, TEXT_MUTED);
    }
    // A month's name above the first week that starts in it, as on GitHub.
    for col in 0..WEEKS {
        let month = days[col * 7].0.month();
        if col == 0 || month != days[(col - 1) * 7].0.month() {
            let (x, _) = cell_origin(col * 7);
            let label = month_abbr(month);
            c.text(label, LABEL_SIZE, x as f32, GRID_Y as f32 - 8.0, TEXT_MUTED);
        }
    }
    for (i, &(_, n)) in days.iter().enumerate() {
        let (x, y) = cell_origin(i);
        let rect = (x as f32, y as f32, CELL as f32, CELL as f32);
        c.fill_rect(rect.0, rect.1, rect.2, rect.3, 4.0, day_colour(n, max));
    }
    // Today, the last square, outlined so the reader knows where "now" is.
    let (x, y) = cell_origin(DAYS - 1);
    c.stroke_rect(x as f32 - 2.0, y as f32 - 2.0, CELL as f32 + 4.0, 1.5, TEXT);

    // The legend: Less ■■■■■ More.
    let legend_baseline = GRID_BOTTOM + 30.0;
    let mut x = GRID_X as f32;
    x = c.text("Less", LABEL_SIZE, x, legend_baseline, TEXT_MUTED) + 6.0;
    for colour in std::iter::once(EMPTY).chain(LEVELS) {
        c.fill_rect(x, legend_baseline - 12.0, 14.0, 14.0, 3.0, colour);
        x += 18.0;
    }
    c.text("More", LABEL_SIZE, x + 2.0, legend_baseline, TEXT_MUTED);

    let total: u64 = days.iter().map(|&(_, n)| u64::from(n)).sum();
    let active = days.iter().filter(|&&(_, n)| n > 0).count();
    let lines = [
        format!("{total} {} in 12 weeks", plural(total, "review", "reviews")),
        format!(
            "{active} active {} · busiest: {max}",
            plural(active as u64, "day", "days")
        ),
    ];
    for (k, line) in lines.iter().enumerate() {
        let baseline = legend_baseline + 34.0 + 26.0 * k as f32;
        c.text_fitted(line, BODY_SIZE, MARGIN, baseline, GRID_RIGHT - MARGIN, TEXT);
    }
}

fn draw_topics(c: &mut Canvas, topics: &[(String, u32, u32)]) {
    c.text(
        "Accuracy by topic",
        HEADING_SIZE,
        PANEL_X,
        HEADING_BASELINE,
        TEXT_SECONDARY,
    );
    if topics.is_empty() {
        let baseline = ROW_Y + ROW_TEXT_BASELINE;
        c.text("No answers yet", BODY_SIZE, PANEL_X, baseline, TEXT_MUTED);
        return;
    }
    for (j, (name, right, answered)) in topics.iter().take(MAX_TOPICS).enumerate() {
        let baseline = ROW_Y + j as f32 * ROW_H + ROW_TEXT_BASELINE;
        let figure = match accuracy(*right, *answered) {
            // Rounded down so 99.6% never shows as a perfect 100%.
            Some(a) => format!("{}% · {right}/{answered}", (a * 100.0).floor() as u32),
            None => "no answers".to_string(),
        };
        let figure_w = c.width(&figure, BODY_SIZE);
        let figure_x = PANEL_RIGHT - figure_w;
        c.text(&figure, BODY_SIZE, figure_x, baseline, TEXT_SECONDARY);
        let name_w = figure_x - PANEL_X - 12.0;
        c.text_fitted(&one_line(name), BODY_SIZE, PANEL_X, baseline, name_w, TEXT);

        let (x, y, w, h) = bar_track(j);
        c.fill_rect(x, y, w, h, h / 2.0, EMPTY);
        if let Some(a) = accuracy(*right, *answered) {
            let fill = (w * a as f32).round();
            if fill >= 1.0 {
                c.fill_rect(x, y, fill, h, h / 2.0, bar_colour(*right, *answered));
            }
        }
    }
    if topics.len() > MAX_TOPICS {
        let more = topics.len() - MAX_TOPICS;
        let line = format!("+{more} more {}", plural(more as u64, "topic", "topics"));
        let baseline = ROW_Y + MAX_TOPICS as f32 * ROW_H + 14.0;
        c.text(&line, LABEL_SIZE, PANEL_X, baseline, TEXT_MUTED);
    }
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// User text on one line: a newline or tab in a topic name would otherwise draw as a
/// missing-glyph box.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn weekday_abbr(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

fn month_abbr(m: i8) -> &'static str {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    NAMES[(m.clamp(1, 12) - 1) as usize]
}

/// The pixmap and the font, with the few drawing operations the picture needs.
struct Canvas<'f> {
    pixmap: Pixmap,
    font: FontRef<'f>,
}

impl Canvas<'_> {
    /// A filled rectangle with corners of radius `r` (0 for square), anti-aliased.
    fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, r: f32, colour: Rgb) {
        if let Some(path) = rounded_rect(x, y, w, h, r) {
            let paint = paint(colour);
            self.pixmap.fill_path(
                &path,
                &paint,
                FillRule::Winding,
                Transform::identity(),
                None,
            );
        }
    }

    /// The outline of a square with side `side`, drawn `width` wide.
    fn stroke_rect(&mut self, x: f32, y: f32, side: f32, width: f32, colour: Rgb) {
        if let Some(path) = rounded_rect(x, y, side, side, 5.0) {
            let stroke = Stroke {
                width,
                ..Stroke::default()
            };
            let paint = paint(colour);
            self.pixmap
                .stroke_path(&path, &paint, &stroke, Transform::identity(), None);
        }
    }

    /// The advance width of `text` at `size` px, kerning included.
    fn width(&self, text: &str, size: f32) -> f32 {
        let font = self.font.as_scaled(PxScale::from(size));
        let mut w = 0.0;
        let mut prev = None;
        for ch in text.chars() {
            let id = font.glyph_id(ch);
            if let Some(p) = prev {
                w += font.kern(p, id);
            }
            w += font.h_advance(id);
            prev = Some(id);
        }
        w
    }

    /// Draws `text` with its baseline at `baseline`, starting at `x`; returns where it ends.
    /// Pixels outside the canvas are skipped, so no text can panic.
    fn text(&mut self, text: &str, size: f32, x: f32, baseline: f32, colour: Rgb) -> f32 {
        let scale = PxScale::from(size);
        let font = self.font.as_scaled(scale);
        let (w, h) = (self.pixmap.width() as i64, self.pixmap.height() as i64);
        let data = self.pixmap.data_mut();
        let mut caret = x;
        let mut prev = None;
        for ch in text.chars() {
            let id = font.glyph_id(ch);
            if let Some(p) = prev {
                caret += font.kern(p, id);
            }
            let glyph = id.with_scale_and_position(scale, point(caret, baseline));
            caret += font.h_advance(id);
            prev = Some(id);
            let Some(outlined) = self.font.outline_glyph(glyph) else {
                continue; // a space
            };
            let bounds = outlined.px_bounds();
            let (ox, oy) = (bounds.min.x as i64, bounds.min.y as i64);
            outlined.draw(|gx, gy, coverage| {
                let (px, py) = (ox + i64::from(gx), oy + i64::from(gy));
                if px < 0 || py < 0 || px >= w || py >= h {
                    return;
                }
                let at = ((py * w + px) * 4) as usize;
                blend(&mut data[at..at + 3], colour, coverage);
            });
        }
        caret
    }

    /// Draws `text`, cut with "…" to fit `max_w` px.
    fn text_fitted(&mut self, text: &str, size: f32, x: f32, baseline: f32, max_w: f32, c: Rgb) {
        let fitted = self.fit(text, size, max_w);
        self.text(&fitted, size, x, baseline, c);
    }

    fn fit(&self, text: &str, size: f32, max_w: f32) -> String {
        if self.width(text, size) <= max_w {
            return text.to_string();
        }
        // Longest prefix that fits with the ellipsis; widths grow with the prefix, so a
        // binary search over char boundaries finds it in a few measurements.
        let ends: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        let (mut lo, mut hi) = (0, ends.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let candidate = format!("{}…", text[..ends[mid]].trim_end());
            if self.width(&candidate, size) <= max_w {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        format!("{}…", text[..ends[lo]].trim_end())
    }

    /// The picture as an RGB PNG. The canvas is opaque everywhere (the background is drawn
    /// first), so its premultiplied RGBA is plain RGBA and the alpha byte can be dropped:
    /// a quarter less data to compress and upload.
    fn encode(&self) -> Result<Vec<u8>, StatsPngError> {
        let rgb: Vec<u8> = self
            .pixmap
            .data()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.pixmap.width(), self.pixmap.height());
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        // fdeflate's PNG-tuned compressor: the default (miniz, "Balanced") spent three
        // quarters of a render compressing; flat areas squeeze well with either.
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header().map_err(StatsPngError::Encode)?;
        writer
            .write_image_data(&rgb)
            .map_err(StatsPngError::Encode)?;
        writer.finish().map_err(StatsPngError::Encode)?;
        Ok(out)
    }
}

/// `colour` over the pixel with coverage `a` (0..=1); the pixel stays opaque.
fn blend(px: &mut [u8], colour: Rgb, a: f32) {
    let a = a.clamp(0.0, 1.0);
    for (d, s) in px.iter_mut().zip(colour) {
        *d = (f32::from(*d) + (f32::from(s) - f32::from(*d)) * a).round() as u8;
    }
}

fn paint(colour: Rgb) -> Paint<'static> {
    let mut paint = Paint::default();
    paint.set_color_rgba8(colour[0], colour[1], colour[2], 255);
    paint.anti_alias = true;
    paint
}

/// A rectangle with rounded corners (quadratic corners: at these radii they cannot be told
/// from arcs). `None` for an empty rectangle.
fn rounded_rect(x: f32, y: f32, w: f32, h: f32, r: f32) -> Option<Path> {
    if r <= 0.0 {
        return Rect::from_xywh(x, y, w, h).map(PathBuilder::from_rect);
    }
    let r = r.min(w / 2.0).min(h / 2.0);
    let (right, bottom) = (x + w, y + h);
    let mut pb = PathBuilder::new();
    pb.move_to(x + r, y);
    pb.line_to(right - r, y);
    pb.quad_to(right, y, right, y + r);
    pb.line_to(right, bottom - r);
    pb.quad_to(right, bottom, right - r, bottom);
    pb.line_to(x + r, bottom);
    pb.quad_to(x, bottom, x, bottom - r);
    pb.line_to(x, y + r);
    pb.quad_to(x, y, x + r, y);
    pb.close();
    pb.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    /// 84 consecutive days ending 2026-03-15 (a Sunday), with the given counts.
    fn days(counts: impl Fn(usize) -> u32) -> Vec<(Date, u32)> {
        let mut d = date(2025, 12, 22);
        (0..DAYS)
            .map(|i| {
                let day = (d, counts(i));
                d = d.tomorrow().unwrap();
                day
            })
            .collect()
    }

    fn picture(days: Vec<(Date, u32)>, topics: Vec<(String, u32, u32)>) -> StatsPicture {
        StatsPicture {
            days,
            topics,
            caption: "12-week activity · accuracy by topic".into(),
        }
    }

    struct Decoded {
        width: u32,
        height: u32,
        rgb: Vec<u8>,
    }

    impl Decoded {
        fn at(&self, x: u32, y: u32) -> Rgb {
            let i = ((y * self.width + x) * 3) as usize;
            [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
        }
    }

    fn decode(bytes: &[u8]) -> Decoded {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        buf.truncate(info.buffer_size());
        Decoded {
            width: info.width,
            height: info.height,
            rgb: buf,
        }
    }

    /// Pixels of exactly `colour` along the middle row of topic `j`'s bar track.
    fn bar_pixels(img: &Decoded, j: usize, colour: Rgb) -> usize {
        let (x, y, w, h) = bar_track(j);
        let row = (y + h / 2.0) as u32;
        (x as u32..(x + w) as u32)
            .filter(|&px| img.at(px, row) == colour)
            .count()
    }

    #[test]
    fn the_png_has_the_declared_size() {
        let bytes = render(&picture(days(|i| i as u32 % 5), vec![])).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let img = decode(&bytes);
        assert_eq!((img.width, img.height), (WIDTH, HEIGHT));
    }

    #[test]
    fn day_squares_have_their_colours() {
        // Day 10 is empty, day 83 (today) the busiest, day 40 half of it and day 5 a single
        // review: four different colours, each at its own square.
        let counts = |i| match i {
            10 => 0,
            83 => 20,
            40 => 10,
            5 => 1,
            _ => 3,
        };
        let img = decode(&render(&picture(days(counts), vec![])).unwrap());
        for i in [10, 83, 40, 5, 0] {
            let (x, y) = day_cell_centre(i);
            assert_eq!(
                img.at(x, y),
                day_colour(counts(i), 20),
                "day {i} at ({x}, {y})"
            );
        }
        // The four colours above really differ, so the checks could tell squares apart.
        let seen: std::collections::HashSet<Rgb> =
            [0, 20, 10, 1].iter().map(|&n| day_colour(n, 20)).collect();
        assert_eq!(seen.len(), 4);
    }

    #[test]
    fn the_colour_scale_runs_from_none_to_busiest() {
        assert_eq!(day_colour(0, 0), EMPTY);
        assert_eq!(day_colour(0, 7), EMPTY);
        assert_eq!(day_colour(1, 100), LEVELS[0]);
        assert_eq!(day_colour(50, 100), LEVELS[1]);
        assert_eq!(day_colour(51, 100), LEVELS[2]);
        assert_eq!(day_colour(100, 100), LEVELS[3]);
        assert_eq!(day_colour(u32::MAX, u32::MAX), LEVELS[3]);
        // A count above the stated maximum is clamped, not an index out of bounds.
        assert_eq!(day_colour(9, 3), LEVELS[3]);
    }

    #[test]
    fn cells_sit_week_by_week_inside_the_picture() {
        assert_eq!(
            day_cell_centre(0).0,
            day_cell_centre(6).0,
            "a week is a column"
        );
        assert_eq!(
            day_cell_centre(0).1,
            day_cell_centre(7).1,
            "a weekday is a row"
        );
        let (x, y) = day_cell_centre(DAYS - 1);
        assert!(x < PANEL_X as u32 && y < HEIGHT, "today at ({x}, {y})");
    }

    #[test]
    fn a_full_bar_is_longer_than_a_half_one() {
        let topics = vec![
            ("Half".to_string(), 5, 10),
            ("Full".to_string(), 10, 10),
            ("None".to_string(), 0, 10),
        ];
        let img = decode(&render(&picture(days(|_| 1), topics)).unwrap());
        let half = bar_pixels(&img, 0, bar_colour(5, 10));
        let full = bar_pixels(&img, 1, bar_colour(10, 10));
        let track = bar_track(0).2 as usize;
        assert!(full > half, "full {full} px, half {half} px");
        // Tolerance for the anti-aliased rounded ends.
        assert!(full + 4 >= track, "full {full} px of {track}");
        assert!(half.abs_diff(track / 2) <= 4, "half {half} px of {track}");
        assert_eq!(
            bar_pixels(&img, 2, bar_colour(0, 10)),
            0,
            "0% draws no fill"
        );
    }

    #[test]
    fn awkward_inputs_render() {
        let long = "x".repeat(100);
        let many: Vec<_> = (0..20)
            .map(|k| (format!("{k} {long}\nline two"), k, 20))
            .collect();
        let mut p = picture(days(|_| 0), many);
        p.caption = "é".repeat(300);
        decode(&render(&p).unwrap());

        let zeros: Vec<_> = (0..3).map(|k| (format!("t{k}"), 0, 0)).collect();
        decode(&render(&picture(days(|_| 0), zeros)).unwrap());
        decode(&render(&picture(days(|_| u32::MAX), vec![("x".into(), 9, 3)])).unwrap());
        decode(
            &render(&StatsPicture {
                days: days(|_| 0),
                ..StatsPicture::default()
            })
            .unwrap(),
        );
    }

    #[test]
    fn topics_past_twelve_are_not_drawn() {
        // Topic 12's bar would be in row 12, where only the "+N more" line may be.
        let mut topics: Vec<_> = (0..12).map(|k| (format!("t{k}"), 0, 1)).collect();
        topics.push(("extra".into(), 1, 1));
        let img = decode(&render(&picture(days(|_| 0), topics)).unwrap());
        assert_eq!(bar_pixels(&img, 12, BAR_HIGH), 0);
        assert_eq!(bar_pixels(&img, 12, EMPTY), 0);
        assert!(bar_pixels(&img, 11, EMPTY) > 0, "row 11 has a track");
    }

    #[test]
    fn long_names_are_cut_to_fit() {
        let font = FontRef::try_from_slice(FONT).unwrap();
        let canvas = Canvas {
            pixmap: Pixmap::new(1, 1).unwrap(),
            font,
        };
        let long = "Distributed systems ".repeat(5);
        let fitted = canvas.fit(&long, BODY_SIZE, 200.0);
        assert!(
            fitted.ends_with('…') && fitted.len() < long.len(),
            "{fitted}"
        );
        assert!(canvas.width(&fitted, BODY_SIZE) <= 200.0);
        assert_eq!(canvas.fit("Rust", BODY_SIZE, 200.0), "Rust");
    }

    #[test]
    fn wrong_days_are_refused() {
        let mut d = days(|_| 1);
        d.pop();
        let e = render(&picture(d, vec![])).unwrap_err();
        assert!(matches!(e, StatsPngError::DayCount { got: 83 }), "{e}");

        let mut d = days(|_| 1);
        d[30].0 = d[29].0;
        let e = render(&picture(d, vec![])).unwrap_err();
        assert!(
            matches!(e, StatsPngError::DaysNotConsecutive { at: 30 }),
            "{e}"
        );
    }
}
