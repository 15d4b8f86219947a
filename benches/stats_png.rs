//! Time to draw the `/stats` picture (`discord::render::stats_png::render`), PNG encoding
//! included.
//!
//! `cargo bench --bench stats_png [-- --renders N]` renders a busy picture (84 days of
//! varied activity, 12 topics with long names, more topics than fit) N times (200) after a
//! few warm-up renders and prints the median, p99 and max time per render and the PNG's
//! size; `--save PATH` also writes the picture there, to look at. The target is ≤ 50 ms per render in a release build; it is marked ✓/✗ but never
//! fails the run. Outside `cargo bench` (e.g. `cargo test --benches`, which runs bench
//! targets without `--bench`) it renders once, so the target still proves it can draw.

use std::time::{Duration, Instant};

use jiff::civil::date;
use prepbot::discord::render::stats_png::{render, StatsPicture};

const TARGET_MS: f64 = 50.0;
const WARMUP: usize = 5;

fn picture() -> StatsPicture {
    let mut d = date(2026, 1, 5);
    let days = (0..84u32)
        .map(|i| {
            // Deterministic spread of quiet, empty and busy days, weekends lighter.
            let n = (i * 37 + 11) % 23 * u32::from(i % 7 < 5) + (i % 3);
            let day = (d, n);
            d = d.tomorrow().expect("dates in range");
            day
        })
        .collect();
    let topics = (0..15u32)
        .map(|k| {
            let name = format!("Topic {k}: system design, concurrency and distributed caches");
            (name, (k * 7) % 20, 20)
        })
        .collect();
    StatsPicture {
        days,
        topics,
        caption: "12-week activity · accuracy by topic".into(),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let mut renders = 200usize;
    let mut bench = false;
    let mut save = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bench" => bench = true,
            "--renders" => {
                renders = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n| n > 0)
                    .expect("--renders needs a positive number");
            }
            "--save" => save = Some(args.next().expect("--save needs a path")),
            _ => {} // cargo passes filters and flags meant for test harnesses
        }
    }
    let p = picture();
    if let Some(path) = save {
        std::fs::write(&path, render(&p).expect("render")).expect("write the PNG");
        println!("stats_png: wrote {path}");
    }
    if !bench {
        let png = render(&p).expect("render");
        println!(
            "stats_png: rendered once ({} bytes); run `cargo bench --bench stats_png` for timings",
            png.len()
        );
        return;
    }

    let mut size = 0;
    for _ in 0..WARMUP {
        size = render(&p).expect("render").len();
    }
    let mut times: Vec<Duration> = (0..renders)
        .map(|_| {
            let start = Instant::now();
            let png = render(&p).expect("render");
            let t = start.elapsed();
            std::hint::black_box(png);
            t
        })
        .collect();
    times.sort();
    // Nearest-rank percentiles.
    let rank = |q: f64| times[((q * renders as f64).ceil() as usize).clamp(1, renders) - 1];
    let (median, p99, max) = (rank(0.5), rank(0.99), times[renders - 1]);
    let mark = if ms(p99) <= TARGET_MS { '✓' } else { '✗' };
    println!("stats_png: {renders} renders after {WARMUP} warm-up, {size} bytes per PNG");
    println!(
        "  median {:.2} ms · p99 {:.2} ms · max {:.2} ms   (target p99 ≤ {TARGET_MS} ms {mark})",
        ms(median),
        ms(p99),
        ms(max)
    );
}
