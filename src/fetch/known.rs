//! The models genrelab can fetch by name: torchvision's ImageNet weights
//! (`mobilenet_v2`, `vgg16`) and sentence-transformers models of the
//! Hugging Face hub (`all-MiniLM-L6-v2`, or any `org/name`), in the URL
//! layouts those libraries use.

use std::path::{Path, PathBuf};

use super::{Check, Remote, cache_dir, fetch};
use crate::error::{Error, Result};

/// torchvision's file for a backbone: URL, file name (its 8 hex digits are
/// the start of the file's sha256, which torchvision checks), full sha256
/// where known (../shared/data/README.md gives MobileNetV2's).
fn torchvision_file(name: &str) -> Option<(&'static str, Check<'static>)> {
    match name {
        "mobilenet_v2" => Some((
            "mobilenet_v2-b0353104.pth",
            Check::Sha256("b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"),
        )),
        "vgg16" => Some(("vgg16-397923af.pth", Check::Sha256Prefix("397923af"))),
        _ => None,
    }
}

/// The weights of a torchvision backbone, from the cache or downloaded.
pub fn torchvision(name: &str) -> Result<PathBuf> {
    let (file, check) = torchvision_file(name).ok_or_else(|| {
        Error::invalid(format!(
            "vision::backbone: no weights to fetch for '{name}'; known: mobilenet_v2, vgg16"
        ))
    })?;
    fetch(&Remote {
        url: format!("https://download.pytorch.org/models/{file}"),
        dest: cache_dir().join("torchvision").join(file),
        check,
        name,
    })
}

/// The hub repository a short name stands for.
fn repository(name: &str) -> String {
    if name.contains('/') {
        name.to_string()
    } else {
        format!("sentence-transformers/{name}")
    }
}

/// Whether `arg` names a hub model rather than a folder: it is not a path
/// that exists, and it is `all-MiniLM-L6-v2` or `org/name`.
pub fn is_hub_name(arg: &str) -> bool {
    if Path::new(arg).exists() || arg.starts_with('.') || arg.starts_with('/') {
        return false;
    }
    let bare = arg
        .split_once('@')
        .map_or(arg, |(b, rev)| if rev.is_empty() { "" } else { b });
    bare == "all-MiniLM-L6-v2"
        || matches!(bare.split('/').collect::<Vec<_>>()[..], [org, name]
            if !org.is_empty() && !name.is_empty()
                && bare.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)))
}

/// The files of a sentence-transformers folder that genrelab reads.
const HUB_FILES: &[&str] = &[
    "modules.json",
    "config.json",
    "tokenizer.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
    "model.safetensors",
];

/// all-MiniLM-L6-v2 at a pinned revision (the one sentence-transformers'
/// model card names), with the sha256 of its weights, config and tokenizer
/// (the same as ../shared's copies and as other projects pin); other models
/// at the revision the name gives (`org/name@REV`), else `main`. The small
/// JSON files carry no sha256 the hub publishes (their ETag is a git blob
/// id): the pinned revision fixes them.
fn revision_and_check<'a>(
    repo: &str,
    revision: Option<&'a str>,
    file: &str,
) -> (&'a str, Check<'static>) {
    if repo == "sentence-transformers/all-MiniLM-L6-v2" && revision.is_none() {
        let check = match file {
            "model.safetensors" => {
                Check::Sha256("53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db")
            }
            "config.json" => {
                Check::Sha256("953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41")
            }
            "tokenizer.json" => {
                Check::Sha256("be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037")
            }
            _ => Check::Unchecked,
        };
        ("c9745ed1d9f207416be6d2e6f8de32d1f16199bf", check)
    } else {
        (revision.unwrap_or("main"), Check::Unchecked)
    }
}

/// A hub model's folder in the cache, its files downloaded where missing
/// (hf-hub's URL layout; `HF_ENDPOINT` replaces https://huggingface.co, as
/// in hf-hub and huggingface_hub).
pub fn hub_model(name: &str) -> Result<PathBuf> {
    let (bare, revision) = match name.split_once('@') {
        Some((bare, rev)) => (bare, Some(rev)),
        None => (name, None),
    };
    let repo = repository(bare);
    let endpoint =
        std::env::var("HF_ENDPOINT").unwrap_or_else(|_| "https://huggingface.co".to_string());
    let mut folder_name = repo.replace('/', "--");
    if let Some(rev) = revision {
        folder_name.push_str(&format!("@{rev}"));
    }
    let folder = cache_dir().join("huggingface").join(folder_name);
    for file in HUB_FILES {
        let (revision, check) = revision_and_check(&repo, revision, file);
        fetch(&Remote {
            url: format!(
                "{}/{repo}/resolve/{revision}/{file}",
                endpoint.trim_end_matches('/')
            ),
            dest: folder.join(file),
            check,
            name,
        })?;
    }
    Ok(folder)
}

/// `genrelab fetch NAME`: the files of a named model, fetched.
pub fn fetch_named(name: &str) -> Result<PathBuf> {
    if let Some(path) = glove(name)? {
        Ok(path)
    } else if torchvision_file(name).is_some() {
        torchvision(name)
    } else if is_hub_name(name) {
        hub_model(name)
    } else {
        Err(Error::invalid(format!(
            "nothing named '{name}' to fetch; known: mobilenet_v2, vgg16, all-MiniLM-L6-v2, a hub model as org/name, glove.6B.50d (100d, 200d, 300d)"
        )))
    }
}

/// The GloVe 6B vectors (Wikipedia 2014 + Gigaword 5, PDDL) by name:
/// `glove.6B.50d` … `glove.6B.300d`. Stanford ships them as one 822 MB zip
/// (`GENRELAB_GLOVE_URL` names a mirror); the member is extracted and
/// converted once to genrelab's .safetensors, which loads in a copy.
/// Stanford publishes no hash for the zip: each member is checked against
/// the CRC-32 the archive holds, and the result by its word count.
pub fn glove(name: &str) -> Result<Option<PathBuf>> {
    let Some(dim) = name
        .strip_prefix("glove.6B.")
        .and_then(|d| d.strip_suffix('d'))
        .filter(|d| ["50", "100", "200", "300"].contains(d))
    else {
        return Ok(None);
    };
    let folder = cache_dir().join("glove");
    let native = folder.join(format!("{name}.safetensors"));
    if native.is_file() {
        return Ok(Some(native));
    }
    let url = std::env::var("GENRELAB_GLOVE_URL")
        .unwrap_or_else(|_| "https://nlp.stanford.edu/data/glove.6B.zip".to_string());
    let zip = fetch(&Remote {
        url,
        dest: folder.join("glove.6B.zip"),
        check: Check::Unchecked,
        name,
    })?;
    let txt = folder.join(format!("{name}.txt.part"));
    {
        let mut out =
            std::io::BufWriter::new(std::fs::File::create(&txt).map_err(|e| Error::io(&txt, e))?);
        super::zip::extract(&zip, &format!("{name}.txt"), &mut out)?;
        std::io::Write::flush(&mut out).map_err(|e| Error::io(&txt, e))?;
    }
    let opts = crate::text::vectors::ReadOptions {
        format: crate::text::vectors::Format::Glove,
        ..Default::default()
    };
    let (wv, _) = crate::text::vectors::read::read(&txt, &opts)?;
    if wv.dim().to_string() != dim {
        return Err(Error::file(
            &zip,
            format!("{name}.txt holds {}-dimensional vectors", wv.dim()),
        ));
    }
    crate::text::vectors::native::save(&wv, &native)?;
    let _ = std::fs::remove_file(&txt);
    Ok(Some(native))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths_are_told_apart() {
        assert!(is_hub_name("all-MiniLM-L6-v2"));
        assert!(is_hub_name("sentence-transformers/all-mpnet-base-v2"));
        assert!(!is_hub_name("/models/all-MiniLM-L6-v2"));
        assert!(!is_hub_name("./mine"));
        assert!(!is_hub_name("a/b/c"));
        assert!(!is_hub_name("src"));
        assert!(is_hub_name("org/model@0123abc"));
        assert!(!is_hub_name("org/model@"));
        assert_eq!(
            repository("all-MiniLM-L6-v2"),
            "sentence-transformers/all-MiniLM-L6-v2"
        );
        assert!(torchvision_file("mobilenet_v2").is_some() && torchvision_file("resnet").is_none());
    }
}
