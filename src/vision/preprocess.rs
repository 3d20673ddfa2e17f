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

/// The 3 × 224 × 224 (CHW) input of one image file.
pub fn load(path: &Path, resize: Resize, normalize: Normalize) -> Result<Vec<f32>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let decoded = image::load_from_memory(&bytes)
        .map_err(|e| Error::file(path, format!("cannot decode the image: {e}")))?;
    let rgb = decoded.to_rgb8();
    let (w, h) = rgb.dimensions();
    if w == 0 || h == 0 {
        return Err(Error::file(path, "the image is empty"));
    }
    let square = match resize {
        Resize::Stretch => image::imageops::resize(&rgb, SIZE, SIZE, FilterType::Nearest),
        Resize::ShorterSideCrop => {
            let short = 256.0 / f64::from(w.min(h));
            let (nw, nh) = (
                ((f64::from(w) * short).round() as u32).max(SIZE),
                ((f64::from(h) * short).round() as u32).max(SIZE),
            );
            let scaled = image::imageops::resize(&rgb, nw, nh, FilterType::Triangle);
            let (x0, y0) = (
                ((nw - SIZE) as f64 / 2.0).round() as u32,
                ((nh - SIZE) as f64 / 2.0).round() as u32,
            );
            image::imageops::crop_imm(&scaled, x0, y0, SIZE, SIZE).to_image()
        }
    };
    let plane = (SIZE * SIZE) as usize;
    let mut out = vec![0f32; 3 * plane];
    for (i, px) in square.pixels().enumerate() {
        for c in 0..3 {
            let v = f32::from(px[c]);
            match normalize {
                Normalize::Torch => {
                    const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
                    const STD: [f32; 3] = [0.229, 0.224, 0.225];
                    out[c * plane + i] = (v / 255.0 - MEAN[c]) / STD[c];
                }
                Normalize::Caffe => {
                    // BGR planes; means of the B, G, R channels.
                    const MEAN_BGR: [f32; 3] = [103.939, 116.779, 123.68];
                    out[(2 - c) * plane + i] = v - MEAN_BGR[2 - c];
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greyscale_png_becomes_rgb_and_corrupt_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.png");
        image::GrayImage::from_pixel(300, 200, image::Luma([128]))
            .save(&path)
            .unwrap();
        let x = load(&path, Resize::ShorterSideCrop, Normalize::Torch).unwrap();
        assert_eq!(x.len(), 3 * 224 * 224);
        // (128/255 − 0.485) / 0.229 for the red plane
        assert!((x[0] - (128.0 / 255.0 - 0.485) / 0.229).abs() < 1e-5);
        let caffe = load(&path, Resize::Stretch, Normalize::Caffe).unwrap();
        assert!(
            (caffe[0] - (128.0 - 103.939)).abs() < 1e-4,
            "blue plane first"
        );
        let bad = dir.path().join("bad.jpg");
        std::fs::write(&bad, b"\xff\xd8\xff\xe0 not really a jpeg").unwrap();
        let msg = load(&bad, Resize::Stretch, Normalize::Torch)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("bad.jpg: cannot decode the image"), "{msg}");
    }
}
