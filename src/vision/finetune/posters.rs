//! The posters of a fine-tune, decoded once: each kept as torchvision's
//! `Resize(256)` and a centred 256 × 256 crop, 8-bit (192 KB a poster), so
//! that epochs never decode a JPEG again. An epoch's input is the centred
//! 224 × 224 crop (exactly what `extract` feeds the network) or an
//! augmented view drawn from a seed: torchvision's `RandomResizedCrop(224,
//! scale=(0.25, 1))`, `RandomHorizontalFlip()` and `ColorJitter(0.2, 0.2,
//! 0.2)`.

use std::path::PathBuf;

use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::error::Result;
use crate::vision::preprocess::{self, Normalize};

/// The side of a kept poster.
pub const SIDE: usize = 256;
/// The side of the network's input.
pub const CROP: usize = preprocess::SIZE as usize;

/// How an epoch's views are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augment {
    /// The smallest share of the poster's area a random crop keeps.
    pub min_scale: f64,
    pub flip: bool,
    /// Brightness, contrast and saturation factors are drawn from
    /// [1 − jitter, 1 + jitter].
    pub jitter: f32,
}

impl Default for Augment {
    fn default() -> Self {
        Augment {
            min_scale: 0.25,
            flip: true,
            jitter: 0.2,
        }
    }
}

/// Decodes every path in parallel, calling `progress(done)` as they come:
/// each poster's bytes, or why it could not be read.
pub fn decode(paths: &[PathBuf], progress: impl Fn(usize) + Sync) -> Vec<Result<Vec<u8>>> {
    let done = std::sync::atomic::AtomicUsize::new(0);
    paths
        .par_iter()
        .map(|p| {
            let out = preprocess::load_square(p, SIDE as u32).map(|img| img.into_raw());
            progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
            out
        })
        .collect()
}

/// The centred crop, normalised: `extract`'s input for the same poster.
pub fn center(poster: &[u8]) -> Vec<f32> {
    let off = (SIDE - CROP) / 2;
    let mut rgb = Vec::with_capacity(CROP * CROP * 3);
    for y in off..off + CROP {
        rgb.extend_from_slice(&poster[(y * SIDE + off) * 3..(y * SIDE + off + CROP) * 3]);
    }
    preprocess::to_input(&rgb, Normalize::Torch)
}

/// A view drawn from `seed`: random resized crop (bilinear), flip, colour
/// jitter, then torchvision's normalisation.
pub fn augmented(poster: &[u8], a: Augment, seed: u64) -> Vec<f32> {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let (x0, y0, w, h) = crop_box(&mut rng, a.min_scale);
    let flip = a.flip && rng.gen_bool(0.5);
    let mut factor = || 1.0 + a.jitter * (2.0 * rng.r#gen::<f32>() - 1.0);
    let (brightness, contrast, saturation) = (factor(), factor(), factor());
    let (sx, sy) = (w / CROP as f64, h / CROP as f64);
    let mut rgb = vec![0f32; CROP * CROP * 3];
    let at = |x: usize, y: usize, c: usize| f32::from(poster[(y * SIDE + x) * 3 + c]) / 255.0;
    // Half-pixel centres, as torchvision's bilinear resize (align_corners=False).
    let source = |o: usize, start: f64, scale: f64| {
        let f = (start + (o as f64 + 0.5) * scale - 0.5).clamp(0.0, (SIDE - 1) as f64);
        let lo = f.floor() as usize;
        (lo, (lo + 1).min(SIDE - 1), (f - f.floor()) as f32)
    };
    let columns: Vec<(usize, usize, f32)> = (0..CROP).map(|ox| source(ox, x0, sx)).collect();
    for oy in 0..CROP {
        let (ya, yb, ty) = source(oy, y0, sy);
        for (ox, &(xa, xb, tx)) in columns.iter().enumerate() {
            let dst = if flip { CROP - 1 - ox } else { ox };
            for c in 0..3 {
                let top = at(xa, ya, c) * (1.0 - tx) + at(xb, ya, c) * tx;
                let bottom = at(xa, yb, c) * (1.0 - tx) + at(xb, yb, c) * tx;
                rgb[(oy * CROP + dst) * 3 + c] = (top * (1.0 - ty) + bottom * ty) * brightness;
            }
        }
    }
    rgb.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
    // Contrast blends with the mean grey, saturation with each pixel's grey
    // (ITU-R 601 weights, as torchvision).
    let grey = |p: &[f32]| 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
    let mean = rgb.chunks(3).map(grey).sum::<f32>() / (CROP * CROP) as f32;
    for p in rgb.chunks_mut(3) {
        p.iter_mut()
            .for_each(|v| *v = ((*v - mean) * contrast + mean).clamp(0.0, 1.0));
        let g = grey(p);
        p.iter_mut()
            .for_each(|v| *v = ((*v - g) * saturation + g).clamp(0.0, 1.0));
    }
    rgb.chunks_mut(3).for_each(|p| {
        for (c, v) in p.iter_mut().enumerate() {
            *v = preprocess::torch_normalized(*v, c);
        }
    });
    rgb
}

/// torchvision's `RandomResizedCrop.get_params` on a SIDE² image: (x, y,
/// width, height), ratio in [3/4, 4/3], ten tries, then the whole image.
fn crop_box(rng: &mut impl Rng, min_scale: f64) -> (f64, f64, f64, f64) {
    let area = (SIDE * SIDE) as f64;
    let (lo, hi) = ((3.0f64 / 4.0).ln(), (4.0f64 / 3.0).ln());
    for _ in 0..10 {
        let target = area * rng.gen_range(min_scale..=1.0);
        let ratio = rng.gen_range(lo..=hi).exp();
        let w = (target * ratio).sqrt().round();
        let h = (target / ratio).sqrt().round();
        if w >= 1.0 && h >= 1.0 && w <= SIDE as f64 && h <= SIDE as f64 {
            let x = rng.gen_range(0..=SIDE - w as usize) as f64;
            let y = rng.gen_range(0..=SIDE - h as usize) as f64;
            return (x, y, w, h);
        }
    }
    (0.0, 0.0, SIDE as f64, SIDE as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poster(dir: &std::path::Path) -> PathBuf {
        let path = dir.join("p.png");
        image::RgbImage::from_fn(185, 278, |x, y| {
            image::Rgb([(x % 256) as u8, ((x * y) % 251) as u8, (y % 256) as u8])
        })
        .save(&path)
        .unwrap();
        path
    }

    #[test]
    fn the_centre_of_a_kept_poster_is_what_extract_feeds_the_network() {
        let dir = tempfile::tempdir().unwrap();
        let path = poster(dir.path());
        let kept = decode(std::slice::from_ref(&path), |_| {})
            .remove(0)
            .unwrap();
        assert_eq!(kept.len(), SIDE * SIDE * 3);
        let expected =
            preprocess::load(&path, preprocess::Resize::ShorterSideCrop, Normalize::Torch).unwrap();
        assert_eq!(center(&kept), expected);
    }

    #[test]
    fn views_are_drawn_from_the_seed() {
        let kept: Vec<u8> = (0..SIDE * SIDE * 3).map(|i| (i * 7 % 251) as u8).collect();
        let a = augmented(&kept, Augment::default(), 5);
        assert_eq!(a.len(), CROP * CROP * 3);
        assert_eq!(a, augmented(&kept, Augment::default(), 5));
        assert_ne!(a, augmented(&kept, Augment::default(), 6));
        // No crop, flip or jitter: the bilinear resize of the whole poster.
        let none = Augment {
            min_scale: 1.0,
            flip: false,
            jitter: 0.0,
        };
        let flat = vec![200u8; SIDE * SIDE * 3];
        let v = augmented(&flat, none, 1);
        let expected = preprocess::torch_normalized(200.0 / 255.0, 0);
        assert!((v[0] - expected).abs() < 1e-5, "{} vs {expected}", v[0]);
        let (x, y, w, h) = crop_box(
            &mut rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3),
            0.25,
        );
        assert!(w * h >= 0.25 * (SIDE * SIDE) as f64 - 2.0 * SIDE as f64);
        assert!(x + w <= SIDE as f64 && y + h <= SIDE as f64);
    }

    #[test]
    fn a_poster_that_cannot_be_read_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.jpg");
        std::fs::write(&bad, b"\xff\xd8\xff\xe0 not a jpeg").unwrap();
        let out = decode(&[bad, dir.path().join("missing.jpg")], |_| {});
        let messages: Vec<String> = out
            .into_iter()
            .map(|r| r.unwrap_err().to_string())
            .collect();
        assert!(
            messages[0].contains("bad.jpg: the JPEG is truncated"),
            "{}",
            messages[0]
        );
        assert!(messages[1].contains("missing.jpg"), "{}", messages[1]);
    }
}
