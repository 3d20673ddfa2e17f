//! VGG16 from torchvision-layout checkpoints that these tests write
//! themselves (random weights, the real shapes) in the three formats
//! `vision::backbone` reads: legacy `torch.save`, zip `torch.save`, and
//! safetensors. The writers follow PyTorch's `torch/serialization.py`.

mod common;

use std::path::Path;

use genrelab::vision::backbone::{Backbone, Output};
use genrelab::vision::pth;

/// VGG16's convolutions as torchvision names them: (key index, cout, cin).
fn vgg16_convs() -> Vec<(usize, usize, usize)> {
    let config = [
        64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0,
    ];
    let (mut index, mut cin, mut out) = (0, 3, Vec::new());
    for c in config {
        if c == 0 {
            index += 1;
        } else {
            out.push((index, c, cin));
            cin = c;
            index += 2;
        }
    }
    out
}

/// (name, shape, values): He-scaled pseudo-random weights, small biases.
fn vgg16_tensors() -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    let mut out = Vec::new();
    for (i, cout, cin) in vgg16_convs() {
        let scale = (6.0 / (cin * 9) as f32).sqrt();
        let w = (0..cout * cin * 9).map(|_| next() * scale).collect();
        out.push((format!("features.{i}.weight"), vec![cout, cin, 3, 3], w));
        out.push((
            format!("features.{i}.bias"),
            vec![cout],
            (0..cout).map(|_| next() * 0.01).collect(),
        ));
    }
    out
}

/// The state-dict pickle (protocol 2): an OrderedDict of
/// `torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())`,
/// storage i persisted as ('storage', torch.FloatStorage, 'i', 'cpu', numel).
fn state_dict_pickle(tensors: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
    let mut p = vec![0x80, 2];
    let string = |p: &mut Vec<u8>, s: &str| {
        p.push(b'X');
        p.extend((s.len() as u32).to_le_bytes());
        p.extend(s.as_bytes());
    };
    let int = |p: &mut Vec<u8>, i: usize| {
        p.push(b'J');
        p.extend((i as i32).to_le_bytes());
    };
    p.extend(b"ccollections\nOrderedDict\n)R");
    for (k, (name, shape, values)) in tensors.iter().enumerate() {
        string(&mut p, name);
        p.extend(b"ctorch._utils\n_rebuild_tensor_v2\n(");
        p.push(b'(');
        string(&mut p, "storage");
        p.extend(b"ctorch\nFloatStorage\n");
        string(&mut p, &k.to_string());
        string(&mut p, "cpu");
        int(&mut p, values.len());
        p.extend(b"tQ");
        int(&mut p, 0);
        p.push(b'(');
        shape.iter().for_each(|&d| int(&mut p, d));
        p.push(b't');
        p.push(b'(');
        let mut stride = vec![1; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            stride[d] = stride[d + 1] * shape[d + 1];
        }
        stride.iter().for_each(|&s| int(&mut p, s));
        p.push(b't');
        p.push(0x89);
        p.extend(b"ccollections\nOrderedDict\n)Rt");
        p.extend(b"Rs");
    }
    p.push(b'.');
    p
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// `torch.save(sd, f, _use_new_zipfile_serialization=False)`.
fn write_legacy(path: &Path, tensors: &[(String, Vec<usize>, Vec<f32>)]) {
    let mut out = vec![
        0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, b'.',
    ];
    out.extend([0x80, 2, b'M', 0xe9, 0x03, b'.']); // protocol 1001
    out.extend([0x80, 2, b'}', b'.']); // sys_info
    out.extend(state_dict_pickle(tensors));
    out.extend([0x80, 2, b']', b'(']);
    for k in 0..tensors.len() {
        let key = k.to_string();
        out.push(b'X');
        out.extend((key.len() as u32).to_le_bytes());
        out.extend(key.as_bytes());
    }
    out.extend([b'e', b'.']);
    for (_, _, values) in tensors {
        out.extend((values.len() as u64).to_le_bytes());
        out.extend(f32_bytes(values));
    }
    std::fs::write(path, out).unwrap();
}

/// `torch.save(sd, f)`: a zip of stored entries `archive/data.pkl`,
/// `archive/data/<key>`, `archive/version`.
fn write_zip(path: &Path, tensors: &[(String, Vec<usize>, Vec<f32>)]) {
    let mut entries: Vec<(String, Vec<u8>)> =
        vec![("archive/data.pkl".into(), state_dict_pickle(tensors))];
    for (k, (_, _, values)) in tensors.iter().enumerate() {
        entries.push((format!("archive/data/{k}"), f32_bytes(values)));
    }
    entries.push(("archive/version".into(), b"3\n".to_vec()));
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in &entries {
        let offset = out.len() as u32;
        let header = |sig: u32| {
            let mut h = sig.to_le_bytes().to_vec();
            h.extend([20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method 0, time, date, crc (unchecked)
            h.extend((data.len() as u32).to_le_bytes());
            h.extend((data.len() as u32).to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes());
            h
        };
        out.extend(header(0x0403_4b50));
        out.extend(name.as_bytes());
        out.extend(data);
        let mut c = 0x0201_4b50u32.to_le_bytes().to_vec();
        c.extend([20, 0]);
        c.extend(&header(0)[4..]);
        c.extend([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // comment len, disk, internal and external attributes
        c.extend(offset.to_le_bytes());
        c.extend(name.as_bytes());
        central.extend(c);
    }
    let start = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0, 0, 0, 0]);
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend([0, 0]);
    std::fs::write(path, out).unwrap();
}

fn write_safetensors(path: &Path, tensors: &[(String, Vec<usize>, Vec<f32>)]) {
    use safetensors::tensor::{Dtype, TensorView};
    let bytes: Vec<Vec<u8>> = tensors.iter().map(|t| f32_bytes(&t.2)).collect();
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .zip(&bytes)
        .map(|(t, b)| {
            (
                t.0.clone(),
                TensorView::new(Dtype::F32, t.1.clone(), b).unwrap(),
            )
        })
        .collect();
    safetensors::serialize_to_file(views, None, path).unwrap();
}

/// A 224 × 224 PNG poster the network can read.
fn poster(dir: &Path) -> std::path::PathBuf {
    let img = image::RgbImage::from_fn(300, 450, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let path = dir.join("poster.png");
    img.save(&path).unwrap();
    path
}

#[test]
fn vgg16_builds_from_all_three_formats_and_gives_25088_conv_features() {
    let dir = tempfile::tempdir().unwrap();
    let tensors = vgg16_tensors();
    let files = [
        (
            "legacy.pth",
            write_legacy as fn(&Path, &[(String, Vec<usize>, Vec<f32>)]),
        ),
        ("zip.pth", write_zip),
        ("weights.safetensors", write_safetensors),
    ];
    let image = poster(dir.path());
    let items = vec![("poster".to_string(), image)];
    let mut outputs = Vec::new();
    for (name, write) in files {
        let path = dir.path().join(name);
        write(&path, &tensors);
        let read = pth::read(&path).unwrap();
        assert_eq!(read.len(), 26, "{name}");
        let net = Backbone::open("vgg16", &path, None, None, None).unwrap();
        assert_eq!(net.output, Output::Conv);
        assert_eq!(net.width(), 25_088);
        let x = net
            .extract(
                &items,
                1,
                None,
                genrelab::vision::backbone::OnError::Skip,
                |_, _| {},
            )
            .unwrap();
        assert_eq!(x.matrix.values().dim(), (1, 25_088), "{name}");
        assert!(
            x.matrix.values().iter().all(|v| v.is_finite() && *v >= 0.0),
            "ReLU + max pool output"
        );
        outputs.push(x.matrix.values().clone());
    }
    assert_eq!(
        outputs[0], outputs[1],
        "legacy and zip give the same network"
    );
    assert_eq!(
        outputs[0], outputs[2],
        "legacy and safetensors give the same network"
    );

    let avg = Backbone::open(
        "vgg16",
        &dir.path().join("zip.pth"),
        Some(Output::Features),
        None,
        None,
    )
    .unwrap();
    assert_eq!(avg.width(), 512);
    let e = Backbone::open(
        "vgg16",
        &dir.path().join("zip.pth"),
        Some(Output::Fc2),
        None,
        None,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.ends_with("zip.pth: these weights have no classifier; use output \"conv\" or \"avg\""),
        "{e}"
    );
}

#[test]
fn broken_and_foreign_checkpoints_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let tensors = vgg16_tensors();
    let zip = dir.path().join("zip.pth");
    write_zip(&zip, &tensors);
    // Truncated: the central directory is gone.
    let bytes = std::fs::read(&zip).unwrap();
    let cut = dir.path().join("cut.pth");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = pth::read(&cut).unwrap_err().to_string();
    assert!(
        e.ends_with("cut.pth: zip checkpoint: the file ends early (truncated?)"),
        "{e}"
    );
    // A conv weight missing, and one with the wrong shape.
    let mut missing = tensors.clone();
    missing.retain(|t| t.0 != "features.10.weight");
    let path = dir.path().join("missing.safetensors");
    write_safetensors(&path, &missing);
    let e = Backbone::open("vgg16", &path, None, None, None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.ends_with("missing.safetensors: VGG16 weights: missing tensor 'features.10.weight'"),
        "{e}"
    );
    let mut wrong = tensors.clone();
    wrong[0].1 = vec![64, 3, 9, 1];
    write_legacy(&path, &wrong);
    let e = Backbone::open("vgg16", &path, None, None, None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("tensor 'features.0.weight' has shape [64, 3, 9, 1], expected [64, 3, 3, 3]"),
        "{e}"
    );
    // The wrong architecture: VGG16 weights offered as MobileNetV2.
    let e = Backbone::open("mobilenet_v2", &zip, None, None, None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("MobileNetV2 weights: missing tensor 'features.0.0.weight'"),
        "{e}"
    );
    // Not a checkpoint at all.
    let text = common::write(dir.path(), "notes.pth", b"just some text\n");
    let e = pth::read(&text).unwrap_err().to_string();
    assert!(
        e.ends_with("notes.pth: not a PyTorch checkpoint (legacy or zip) or a safetensors file"),
        "{e}"
    );
}
