//! Poster images -> network input: decode (JPEG, PNG, WebP; greyscale,
//! palette and CMYK become RGB), resize, and normalise the way each
//! pretrained network expects.

use std::path::Path;

use image::imageops::FilterType;

use crate::error::{Error, Result};

/// How an image is brought to 224 × 224.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resize {
    /// Keras `load_img(target_size=(224, 224))`: both sides to 224 (nearest).
    Stretch,
    /// torchvision `Resize(256)` + `CenterCrop(224)` (bilinear).
    ShorterSideCrop,
}

/// How pixel values are scaled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Normalize {
    /// Keras VGG16 `preprocess_input`: BGR order, ImageNet mean subtracted, 0-255 scale.
    Caffe,
    /// torchvision: /255, then (x − mean) / std per RGB channel.
    Torch,
}

impl Resize {
    pub fn parse(name: &str) -> Result<Resize> {
        match name {
            "stretch" => Ok(Resize::Stretch),
            "shorter_side_crop" => Ok(Resize::ShorterSideCrop),
            other => Err(Error::invalid(format!(
                "unknown resize '{other}'; use \"stretch\" or \"shorter_side_crop\""
            ))),
        }
    }
}

impl Normalize {
    pub fn parse(name: &str) -> Result<Normalize> {
        match name {
            "caffe" => Ok(Normalize::Caffe),
            "torch" => Ok(Normalize::Torch),
            other => Err(Error::invalid(format!(
                "unknown preprocess '{other}'; use \"caffe\" or \"torch\""
            ))),
        }
    }
}

pub const SIZE: u32 = 224;

/// The format of an image file cut short: a JPEG without its end-of-image
/// marker, a PNG without its IEND chunk (trailing padding allowed).
fn truncated(bytes: &[u8]) -> Option<&'static str> {
    let end = bytes.len() - bytes.iter().rev().take_while(|b| **b == 0).count();
    let body = &bytes[..end];
    if body.starts_with(&[0xff, 0xd8]) && !body.ends_with(&[0xff, 0xd9]) {
        return Some("JPEG");
    }
    if body.starts_with(b"\x89PNG") && !body.windows(4).rev().take(16).any(|w| w == b"IEND") {
        return Some("PNG");
    }
    None
}

/// The 224 × 224 × 3 input of one image file, channels last (HWC): the
/// layout of `vision::layers::Maps`, so a batch is the images one after
/// the other, without a transpose.
pub fn load(path: &Path, resize: Resize, normalize: Normalize) -> Result<Vec<f32>> {
    let rgb = decode(path)?;
    let (w, h) = rgb.dimensions();
    let square = match resize {
        Resize::Stretch => image::imageops::resize(&rgb, SIZE, SIZE, FilterType::Nearest),
        Resize::ShorterSideCrop => {
            let (nw, nh, x0, y0) = shorter_side_crop(w, h, SIZE);
            resize_crop(&rgb, nw, nh, x0, y0, SIZE)
        }
    };
    Ok(to_input(square.as_raw(), normalize))
}

/// torchvision's `Resize(256)` and a centred `side` × `side` crop, as bytes:
/// what fine-tuning keeps of each poster (its centred 224 × 224 crop is
/// exactly `load`'s `shorter_side_crop`).
pub fn load_square(path: &Path, side: u32) -> Result<image::RgbImage> {
    let rgb = decode(path)?;
    let (w, h) = rgb.dimensions();
    let (nw, nh, x0, y0) = shorter_side_crop(w, h, side);
    Ok(resize_crop(&rgb, nw, nh, x0, y0, side))
}

/// An image file as RGB: read, checked for truncation, decoded.
fn decode(path: &Path) -> Result<image::RgbImage> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    // A file cut short may still decode, grey below the cut; PIL refuses it
    // ("image file is truncated"), and so does this.
    if let Some(format) = truncated(&bytes) {
        return Err(Error::file(
            path,
            format!(
                "the {format} is truncated ({} bytes, no end marker); download it again",
                bytes.len()
            ),
        ));
    }
    let decoded = image::load_from_memory(&bytes)
        .map_err(|e| Error::file(path, format!("cannot decode the image: {e}")))?;
    let rgb = decoded.to_rgb8();
    let (w, h) = rgb.dimensions();
    if w == 0 || h == 0 {
        return Err(Error::file(path, "the image is empty"));
    }
    Ok(rgb)
}

/// RGB bytes (HWC) as the network's input.
pub fn to_input(rgb: &[u8], normalize: Normalize) -> Vec<f32> {
    let mut out = vec![0f32; rgb.len()];
    for (px, o) in rgb.chunks_exact(3).zip(out.chunks_exact_mut(3)) {
        for c in 0..3 {
            let v = f32::from(px[c]);
            match normalize {
                Normalize::Torch => o[c] = torch_normalized(v / 255.0, c),
                Normalize::Caffe => {
                    // BGR order; means of the B, G, R channels.
                    const MEAN_BGR: [f32; 3] = [103.939, 116.779, 123.68];
                    o[2 - c] = v - MEAN_BGR[2 - c];
                }
            }
        }
    }
    out
}

/// torchvision's normalisation of channel `c`'s value in 0..=1.
pub fn torch_normalized(v: f32, c: usize) -> f32 {
    const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
    const STD: [f32; 3] = [0.229, 0.224, 0.225];
    (v - MEAN[c]) / STD[c]
}

/// torchvision's `Resize(256)` + `CenterCrop(crop)` geometry: the resized
/// size (shorter side 256) and the crop's top-left corner.
fn shorter_side_crop(w: u32, h: u32, crop: u32) -> (u32, u32, u32, u32) {
    let short = 256.0 / f64::from(w.min(h));
    let (nw, nh) = (
        ((f64::from(w) * short).round() as u32).max(crop),
        ((f64::from(h) * short).round() as u32).max(crop),
    );
    let (x0, y0) = (
        ((nw - crop) as f64 / 2.0).round() as u32,
        ((nh - crop) as f64 / 2.0).round() as u32,
    );
    (nw, nh, x0, y0)
}

/// Per output index, the first input index and the normalised weights of
/// image 0.24's separable triangle filter (`imageops::resize` with
/// `FilterType::Triangle`), computed exactly as it does.
fn triangle_weights(input: u32, output: u32, wanted: std::ops::Range<u32>) -> Vec<(u32, Vec<f32>)> {
    let ratio = input as f32 / output as f32;
    let sratio = if ratio < 1.0 { 1.0 } else { ratio };
    let support = sratio;
    wanted
        .map(|o| {
            let center = (o as f32 + 0.5) * ratio;
            let left = ((center - support).floor() as i64).clamp(0, i64::from(input) - 1) as u32;
            let right = ((center + support).ceil() as i64)
                .clamp(i64::from(left) + 1, i64::from(input)) as u32;
            let center = center - 0.5;
            let mut ws: Vec<f32> = (left..right)
                .map(|i| {
                    let x = (i as f32 - center) / sratio;
                    if x.abs() < 1.0 { 1.0 - x.abs() } else { 0.0 }
                })
                .collect();
            let sum: f32 = ws.iter().fold(0.0, |a, w| a + w);
            ws.iter_mut().for_each(|w| *w /= sum);
            (left, ws)
        })
        .collect()
}

/// `resize(image, nw, nh, Triangle)` then the `crop`² crop at (x0, y0),
/// bit for bit, computing only the pixels the crop keeps (a poster of
/// 185 × 278 is resized to 256 × 385, of which 224 × 224 are used).
fn resize_crop(
    rgb: &image::RgbImage,
    nw: u32,
    nh: u32,
    x0: u32,
    y0: u32,
    crop: u32,
) -> image::RgbImage {
    let (w, h) = rgb.dimensions();
    if (nw, nh) == (w, h) {
        return image::imageops::crop_imm(rgb, x0, y0, crop, crop).to_image();
    }
    let raw = rgb.as_raw();
    // Vertical pass (image 0.24 filters rows first), only the kept rows.
    let rows = triangle_weights(h, nh, y0..y0 + crop);
    let mut vertical = vec![0f32; (crop * w * 3) as usize];
    for (r, (left, ws)) in rows.iter().enumerate() {
        let out = &mut vertical[r * (w * 3) as usize..(r + 1) * (w * 3) as usize];
        for x in 0..w as usize {
            let mut t = [0f32; 3];
            for (i, wt) in ws.iter().enumerate() {
                let at = ((*left as usize + i) * w as usize + x) * 3;
                for c in 0..3 {
                    t[c] += f32::from(raw[at + c]) * wt;
                }
            }
            out[x * 3..x * 3 + 3].copy_from_slice(&t);
        }
    }
    // Horizontal pass, only the kept columns, rounded to bytes like image's.
    let cols = triangle_weights(w, nw, x0..x0 + crop);
    image::RgbImage::from_fn(crop, crop, |x, y| {
        let (left, ws) = &cols[x as usize];
        let row = &vertical[(y * w * 3) as usize..((y + 1) * w * 3) as usize];
        let mut t = [0f32; 3];
        for (i, wt) in ws.iter().enumerate() {
            let at = (*left as usize + i) * 3;
            for c in 0..3 {
                t[c] += row[at + c] * wt;
            }
        }
        image::Rgb(t.map(|v| round_to_byte(v.clamp(0.0, 255.0))))
    })
}

/// `v.round() as u8` for `v` in 0..=255 without the libm call `round`
/// compiles to on baseline x86-64 (a sixth of the resize's time): the
/// truncation is exact, and so is the fraction `v − trunc(v)`.
fn round_to_byte(v: f32) -> u8 {
    let whole = v as u8;
    if v - f32::from(whole) >= 0.5 {
        whole + 1
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_to_bytes_is_rounding_half_away_from_zero() {
        let mut v = 0.0f32;
        while v <= 255.0 {
            assert_eq!(round_to_byte(v), v.round() as u8, "{v}");
            v = f32::from_bits(v.to_bits() + 997);
        }
        for v in [0.49999997f32, 0.5, 1.5, 2.5, 254.5, 254.49998, 255.0] {
            assert_eq!(round_to_byte(v), v.round() as u8, "{v}");
        }
    }

    #[test]
    fn crop_first_resize_equals_resize_then_crop() {
        for (w, h) in [
            (185, 278),
            (300, 200),
            (500, 500),
            (224, 300),
            (256, 385),
            (90, 60),
        ] {
            let img = image::RgbImage::from_fn(w, h, |x, y| {
                image::Rgb([
                    ((x * 31 + y * 7) % 256) as u8,
                    ((x * x + 3 * y) % 256) as u8,
                    ((y * y + x) % 251) as u8,
                ])
            });
            let (nw, nh, x0, y0) = shorter_side_crop(w, h, SIZE);
            let full = image::imageops::resize(&img, nw, nh, FilterType::Triangle);
            let expected = image::imageops::crop_imm(&full, x0, y0, SIZE, SIZE).to_image();
            assert_eq!(resize_crop(&img, nw, nh, x0, y0, SIZE), expected, "{w}x{h}");
        }
    }

    #[test]
    fn greyscale_png_becomes_rgb_and_corrupt_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.png");
        image::GrayImage::from_pixel(300, 200, image::Luma([128]))
            .save(&path)
            .unwrap();
        let x = load(&path, Resize::ShorterSideCrop, Normalize::Torch).unwrap();
        assert_eq!(x.len(), 3 * 224 * 224);
        // (128/255 − 0.485) / 0.229 for the red channel of the first pixel
        assert!((x[0] - (128.0 / 255.0 - 0.485) / 0.229).abs() < 1e-5);
        let caffe = load(&path, Resize::Stretch, Normalize::Caffe).unwrap();
        assert!(
            (caffe[0] - (128.0 - 103.939)).abs() < 1e-4,
            "blue channel first"
        );
        let bad = dir.path().join("bad.jpg");
        std::fs::write(&bad, b"\xff\xd8\xff\xe0 not really a jpeg").unwrap();
        let msg = load(&bad, Resize::Stretch, Normalize::Torch)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("bad.jpg: the JPEG is truncated (22 bytes, no end marker)"),
            "{msg}"
        );
    }
}
