//! Poster files the preprocessing must survive: each bad one is an error
//! that names the file, never a panic; odd but valid ones (1 × 1, greyscale,
//! palette PNG) become a 3 × 224 × 224 input.

mod common;

use genrelab::vision::preprocess::{Normalize, Resize, load};

fn jpeg(path: &std::path::Path, w: u32, h: u32) {
    image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 3) as u8, 90]))
        .save(path)
        .unwrap();
}

#[test]
fn odd_but_valid_images_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = dir.path().join("tiny.png");
    image::RgbImage::from_pixel(1, 1, image::Rgb([200, 10, 10]))
        .save(&tiny)
        .unwrap();
    let grey = dir.path().join("grey.png");
    image::GrayImage::from_fn(40, 60, |x, _| image::Luma([x as u8 * 5]))
        .save(&grey)
        .unwrap();
    for path in [&tiny, &grey] {
        for resize in [Resize::Stretch, Resize::ShorterSideCrop] {
            for normalize in [Normalize::Torch, Normalize::Caffe] {
                let x = load(path, resize, normalize).unwrap();
                assert_eq!(x.len(), 3 * 224 * 224);
                assert!(x.iter().all(|v| v.is_finite()));
            }
        }
    }
    // A 1 × 1 red pixel stretched is red everywhere: torch-normalised R channel
    // (200/255 − 0.485) / 0.229.
    let x = load(&tiny, Resize::Stretch, Normalize::Torch).unwrap();
    assert!((x[0] - (200.0 / 255.0 - 0.485) / 0.229).abs() < 1e-5);
}

#[test]
fn bad_files_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.jpg");
    jpeg(&good, 300, 450);
    let bytes = std::fs::read(&good).unwrap();
    let truncated = common::write(dir.path(), "truncated.jpg", &bytes[..bytes.len() / 3]);
    let text = common::write(
        dir.path(),
        "notes.jpg",
        b"Title: Toy Story\nGenres: Animation\n",
    );
    let empty = common::write(dir.path(), "empty.png", b"");
    let missing = dir.path().join("missing.jpg");
    for (path, why) in [
        (&text, "cannot decode the image"),
        (&empty, "cannot decode the image"),
        (&missing, "No such file"),
    ] {
        let e = load(path, Resize::ShorterSideCrop, Normalize::Torch)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&path.display().to_string()), "{e}");
        assert!(e.contains(why), "{e}");
    }
    // A truncated JPEG is refused as PIL refuses it, and called truncated.
    let e = load(&truncated, Resize::ShorterSideCrop, Normalize::Torch)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with(&truncated.display().to_string()), "{e}");
    assert!(
        e.contains(&format!(
            "the JPEG is truncated ({} bytes, no end marker)",
            bytes.len() / 3
        )),
        "{e}"
    );
}
