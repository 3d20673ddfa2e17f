//! Reading torchvision's legacy checkpoint `mobilenet_v2-b0353104.pth`
//! (../shared/models), compared with the reference implementation's own
//! reader (shared/bench/python_reference/mnv2.py, `load_state_dict`).

mod common;

use genrelab::vision::pth::{TensorData, read_legacy};

fn checkpoint() -> Option<std::path::PathBuf> {
    let path = common::root().join("../shared/models/mobilenet_v2-b0353104.pth");
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("SKIPPED: ../shared/models/mobilenet_v2-b0353104.pth is absent (CI has it)");
        None
    }
}

// sd = mnv2.load_state_dict('mobilenet_v2-b0353104.pth')
//   len(sd) 314; first 'features.0.0.weight' (32, 3, 3, 3), last 'classifier.1.bias' (1000,)
//   features.0.0.weight: sum -0.7730716340520303, first 0.013185339979827404
//   features.0.1.running_var: sum 39.618109631119296, first 0.07017417252063751
//   classifier.1.bias: sum -0.00010184831626247615, first 0.04718802496790886
//   dtypes {float32, int64}
#[test]
fn reads_torchvision_mobilenet_v2() {
    let Some(path) = checkpoint() else { return };
    let tensors = read_legacy(&path).unwrap();
    assert_eq!(tensors.len(), 314);
    assert_eq!(tensors[0].name, "features.0.0.weight");
    assert_eq!(tensors[0].shape, vec![32, 3, 3, 3]);
    assert_eq!(tensors.last().unwrap().name, "classifier.1.bias");
    let find = |n: &str| tensors.iter().find(|t| t.name == n).unwrap();
    for (name, sum, first) in [
        (
            "features.0.0.weight",
            -0.7730716340520303,
            0.013185339979827404,
        ),
        (
            "features.0.1.running_var",
            39.618109631119296,
            0.07017417252063751,
        ),
        (
            "classifier.1.bias",
            -0.00010184831626247615,
            0.04718802496790886,
        ),
    ] {
        let values = find(name).to_f32();
        let total: f64 = values.iter().map(|&v| f64::from(v)).sum();
        assert!((total - sum).abs() < 1e-5, "{name}: {total} vs {sum}");
        assert_eq!(f64::from(values[0]), first, "{name}");
    }
    assert!(
        tensors.iter().any(|t| matches!(t.data, TensorData::I64(_))),
        "num_batches_tracked is int64"
    );
    assert!(tensors.iter().all(|t| t.numel() == t.to_f32().len()));
}

#[test]
fn truncated_and_foreign_files_are_errors() {
    let Some(path) = checkpoint() else { return };
    let bytes = std::fs::read(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = common::write(dir.path(), "cut.pth", &bytes[..bytes.len() / 2]);
    let msg = read_legacy(&cut).unwrap_err().to_string();
    assert!(
        msg.contains("cut.pth") && msg.contains("ends early (truncated?)"),
        "{msg}"
    );
    let header_only = common::write(dir.path(), "head.pth", &bytes[..200]);
    let msg = read_legacy(&header_only).unwrap_err().to_string();
    assert!(msg.contains("truncated"), "{msg}");
    let csv = common::write(dir.path(), "x.pth", b"id,title\n1,a\n");
    let msg = read_legacy(&csv).unwrap_err().to_string();
    assert!(msg.contains("x.pth"), "{msg}");
}

// ../shared/models/mobilenet_v2-reference: input.npy (6, 3, 224, 224) through torchvision's
// MobileNetV2 in onnxruntime gives features.npy (6, 1280) and logits.npy (6, 1000);
// differences of ~1e-4 are float noise.
#[test]
fn mobilenet_v2_matches_the_reference_outputs() {
    use genrelab::vision::mobilenet::MobileNetV2;
    use ndarray::{Array2, Array4};
    use ndarray_npy::ReadNpyExt;

    let Some(path) = checkpoint() else { return };
    let refs = common::root().join("../shared/models/mobilenet_v2-reference");
    let read2 = |name: &str| {
        Array2::<f32>::read_npy(std::fs::File::open(refs.join(name)).unwrap()).unwrap()
    };
    let input =
        Array4::<f32>::read_npy(std::fs::File::open(refs.join("input.npy")).unwrap()).unwrap();
    let net = MobileNetV2::from_tensors(read_legacy(&path).unwrap()).unwrap();
    let x = genrelab::vision::layers::Maps::from_nchw(input.as_slice().unwrap(), 6, 3, 224, 224);
    let (features, logits) = net.forward(&x).unwrap();
    let rows = |m: Array2<f32>| m.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>();
    let features = rows(features);
    let logits = rows(logits.unwrap());
    let max_diff = |ours: &[Vec<f32>], theirs: &Array2<f32>| {
        ours.iter()
            .flatten()
            .zip(theirs.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max)
    };
    let df = max_diff(&features, &read2("features.npy"));
    let dl = max_diff(&logits, &read2("logits.npy"));
    eprintln!("MobileNetV2 max abs diff: features {df:e}, logits {dl:e}");
    assert!(df < 1e-3, "features differ by {df}");
    assert!(dl < 1e-3, "logits differ by {dl}");
}

#[test]
fn missing_and_misshaped_weights_are_named() {
    use genrelab::vision::mobilenet::MobileNetV2;
    let Some(path) = checkpoint() else { return };
    let mut tensors = read_legacy(&path).unwrap();
    tensors.retain(|t| t.name != "features.3.conv.1.0.weight");
    let msg = MobileNetV2::from_tensors(tensors)
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("missing tensor 'features.3.conv.1.0.weight'"),
        "{msg}"
    );
    let mut tensors = read_legacy(&path).unwrap();
    tensors[0].shape = vec![32, 3, 9, 1];
    let msg = MobileNetV2::from_tensors(tensors)
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("'features.0.0.weight' has shape [32, 3, 9, 1], expected [32, 3, 3, 3]"),
        "{msg}"
    );
}

#[test]
fn extract_caches_resumes_and_reports_unreadable_images() {
    let Some(path) = checkpoint() else { return };
    let data = common::root().join("../shared/data/movies/posters");
    let dir = tempfile::tempdir().unwrap();
    let broken = common::write(
        dir.path(),
        "broken.jpg",
        b"\xff\xd8\xff\xe0 this is not a jpeg",
    );
    let cache = dir.path().join("cache.safetensors");
    let (mut s, _) = genrelab::Session::capturing(Err("no data".into()));
    let code = format!(
        "let net = vision::backbone(\"mobilenet_v2\", \"{}\");
         let paths = [\"{1}/278.jpg\", \"{2}\", \"{1}/238.jpg\"];
         let a = net.extract(paths, #{{ batch: 2, cache: \"{3}\" }});
         let z = net.extract(paths, #{{ batch: 2, on_error: \"zero\" }});
         let again = net.extract(paths, #{{ cache: \"{3}\" }});
         [a.shape, z.shape, z.row(1).filter(|v| v != 0.0).len(), a.row(1) == again.row(1)]",
        path.display(),
        data.display(),
        broken.display(),
        cache.display()
    );
    let v = s
        .eval(&code, "t")
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(s.display(&v).unwrap(), "[[2, 1280], [3, 1280], 0, true]");
    assert!(cache.is_file());
    // A cache written by another output is refused, not silently mixed.
    let code = format!(
        "vision::backbone(\"mobilenet_v2\", \"{}\", #{{ output: \"logits\" }}).extract([\"{}/278.jpg\"], #{{ cache: \"{}\" }})",
        path.display(),
        data.display(),
        cache.display()
    );
    let err = s.eval(&code, "t").map(|_| ()).unwrap_err().render();
    assert!(
        err.contains("this cache holds 'mobilenet_v2/Features"),
        "{err}"
    );
}
