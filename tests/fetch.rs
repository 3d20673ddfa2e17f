//! Fetching on first use (src/fetch) against an HTTP server this test
//! starts on 127.0.0.1 — no test touches the internet: a download, resume
//! after a cut connection, a hash mismatch, a 404, a redirect, offline mode,
//! two processes fetching one file at once, the cache listing, and a hub
//! model by name (HF_ENDPOINT pointed at the local server).

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// 300 kB of a fixed pattern.
fn content() -> Vec<u8> {
    (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

fn sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the server saw: requests per path, and the Range headers.
#[derive(Default)]
struct Seen {
    hits: HashMap<String, usize>,
    ranges: Vec<String>,
}

struct Server {
    base: String,
    seen: Arc<Mutex<Seen>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = shared.clone();
                std::thread::spawn(move || serve(stream, &seen));
            }
        });
        Server { base, seen }
    }

    fn hits(&self, path: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

fn serve(mut stream: TcpStream, seen: &Mutex<Seen>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut range = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("range: bytes=") {
            range = v.trim().trim_end_matches('-').parse::<usize>().ok();
        }
    }
    let hit = {
        let mut s = seen.lock().unwrap();
        if let Some(r) = range {
            s.ranges.push(format!("{path} {r}"));
        }
        let n = s.hits.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    let body = content();
    let send = |stream: &mut TcpStream, status: &str, headers: &str, body: &[u8]| {
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
            body.len()
        );
        let _ = stream.write_all(body);
    };
    let tiny = common::root().join("tests/fixtures/finetune/tiny_bert");
    match path.as_str() {
        "/missing.bin" => send(&mut stream, "404 Not Found", "", b"no"),
        "/moved.bin" => send(&mut stream, "302 Found", "Location: /file.bin\r\n", b""),
        "/wrong.bin" => send(&mut stream, "200 OK", "", &body[..1000]),
        "/cut.bin" if hit == 1 => {
            // Promise the whole file, send half, hang up.
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body[..body.len() / 2]);
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return;
        }
        "/slow.bin" => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            for chunk in body.chunks(30_000) {
                let _ = stream.write_all(chunk);
                std::thread::sleep(Duration::from_millis(60));
            }
        }
        "/glove.6B.zip" => send(&mut stream, "200 OK", "", &glove_zip()),
        p if p.starts_with("/org/tiny/resolve/main/") => {
            let file = tiny.join(&p["/org/tiny/resolve/main/".len()..]);
            match std::fs::read(file) {
                Ok(bytes) => send(&mut stream, "200 OK", "", &bytes),
                Err(_) => send(&mut stream, "404 Not Found", "", b"no"),
            }
        }
        _ => match range {
            Some(from) if from < body.len() => send(
                &mut stream,
                "206 Partial Content",
                &format!(
                    "Content-Range: bytes {from}-{}/{}\r\n",
                    body.len() - 1,
                    body.len()
                ),
                &body[from..],
            ),
            _ => send(&mut stream, "200 OK", "", &body),
        },
    }
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
}

/// `genrelab run` of one line of script with the cache in `cache`.
fn run(cache: &Path, code: &str, env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let script = common::write(dir.path(), "f.rhai", code.as_bytes());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_genrelab"));
    cmd.arg("run")
        .arg(&script)
        .env("GENRELAB_CACHE", cache)
        .env_remove("GENRELAB_OFFLINE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn fetch_code(base: &str, path: &str) -> String {
    format!(
        "print(data::fetch(\"{base}{path}\", #{{ sha256: \"{}\" }}));",
        sha256(&content())
    )
}

#[test]
fn a_download_lands_once_and_is_read_from_the_cache_after() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let out = run(cache.path(), &fetch_code(&server.base, "/file.bin"), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let path = text(&out.stdout).trim().to_string();
    assert_eq!(Path::new(&path), cache.path().join("downloads/file.bin"));
    assert_eq!(std::fs::read(&path).unwrap(), content());
    let again = run(cache.path(), &fetch_code(&server.base, "/file.bin"), &[]);
    assert!(again.status.success());
    assert_eq!(
        server.hits("/file.bin"),
        1,
        "the second call reads the cache"
    );
    // The listing shows it with its size.
    let list = Command::new(env!("CARGO_BIN_EXE_genrelab"))
        .arg("fetch")
        .env("GENRELAB_CACHE", cache.path())
        .output()
        .unwrap();
    let shown = text(&list.stdout);
    assert!(
        shown.contains("downloads/file.bin") && shown.contains("0.3 MB"),
        "{shown}"
    );
}

#[test]
fn a_cut_connection_resumes_with_a_range_request() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let first = run(cache.path(), &fetch_code(&server.base, "/cut.bin"), &[]);
    assert_eq!(first.status.code(), Some(1));
    let stderr = text(&first.stderr);
    assert!(
        stderr.contains("after 150000 bytes") && stderr.contains("run again to resume"),
        "{stderr}"
    );
    assert!(cache.path().join("downloads/cut.bin.part").is_file());
    assert!(!cache.path().join("downloads/cut.bin").exists());
    let second = run(cache.path(), &fetch_code(&server.base, "/cut.bin"), &[]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(
        std::fs::read(cache.path().join("downloads/cut.bin")).unwrap(),
        content()
    );
    assert_eq!(server.seen.lock().unwrap().ranges, ["/cut.bin 150000"]);
    assert!(!cache.path().join("downloads/cut.bin.part").exists());
}

#[test]
fn a_hash_mismatch_removes_the_file_and_says_so() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let out = run(cache.path(), &fetch_code(&server.base, "/wrong.bin"), &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("expected {}", sha256(&content())))
            && stderr.contains("the file was removed"),
        "{stderr}"
    );
    assert!(!cache.path().join("downloads/wrong.bin").exists());
    assert!(!cache.path().join("downloads/wrong.bin.part").exists());
}

#[test]
fn http_errors_redirects_and_offline_mode() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let out = run(cache.path(), &fetch_code(&server.base, "/missing.bin"), &[]);
    assert!(
        text(&out.stderr).contains("HTTP 404 Not Found"),
        "{}",
        text(&out.stderr)
    );
    let out = run(cache.path(), &fetch_code(&server.base, "/moved.bin"), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(cache.path().join("downloads/moved.bin")).unwrap(),
        content()
    );
    let out = run(
        cache.path(),
        &fetch_code(&server.base, "/other.bin"),
        &[("GENRELAB_OFFLINE", "1")],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("GENRELAB_OFFLINE forbids downloading")
            && stderr.contains("genrelab fetch other.bin")
            && stderr.contains(&format!("{}/other.bin", server.base)),
        "{stderr}"
    );
    assert_eq!(server.hits("/other.bin"), 0);
}

#[test]
fn two_processes_fetching_one_file_download_it_once() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let code = fetch_code(&server.base, "/slow.bin");
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run(cache.path(), &code, &[]));
        let b = s.spawn(|| run(cache.path(), &code, &[]));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(a.status.success(), "{}", text(&a.stderr));
    assert!(b.status.success(), "{}", text(&b.stderr));
    assert_eq!(text(&a.stdout), text(&b.stdout));
    assert_eq!(server.hits("/slow.bin"), 1);
    assert_eq!(
        std::fs::read(cache.path().join("downloads/slow.bin")).unwrap(),
        content()
    );
}

#[test]
fn a_hub_model_by_name_is_fetched_into_the_cache() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let out = run(
        cache.path(),
        "let enc = text::encoder(\"org/tiny\"); print(enc.dim());",
        &[("HF_ENDPOINT", &server.base)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let folder = cache.path().join("huggingface/org--tiny");
    assert!(
        folder.join("model.safetensors").is_file()
            && folder.join("1_Pooling/config.json").is_file()
    );
    let offline = run(
        cache.path(),
        "text::encoder(\"org/tiny\").dim()",
        &[("HF_ENDPOINT", &server.base), ("GENRELAB_OFFLINE", "1")],
    );
    assert!(
        offline.status.success(),
        "the cached model needs no network: {}",
        text(&offline.stderr)
    );
}

/// Three 50-d GloVe rows.
fn glove_text() -> String {
    ["the", "movie", "film"]
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let values: Vec<String> = (0..50)
                .map(|j| format!("{}", (i * 50 + j) as f32 / 100.0))
                .collect();
            format!("{w} {}\n", values.join(" "))
        })
        .collect()
}

/// A zip holding glove.6B.50d.txt (deflated) and a stored readme, written
/// field by field (APPNOTE 4.3.7, 4.3.12, 4.3.16).
fn glove_zip() -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let members: [(&str, Vec<u8>, bool); 2] = [
        ("README.txt", b"GloVe 6B\n".to_vec(), false),
        ("glove.6B.50d.txt", glove_text().into_bytes(), true),
    ];
    for (name, data, deflate) in members {
        let mut crc = flate2::Crc::new();
        crc.update(&data);
        let stored = if deflate {
            let mut e =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&data).unwrap();
            e.finish().unwrap()
        } else {
            data.clone()
        };
        let method: u16 = if deflate { 8 } else { 0 };
        let offset = out.len() as u32;
        let fields = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend(sig.to_le_bytes());
            if central {
                h.extend(20u16.to_le_bytes());
            }
            h.extend(20u16.to_le_bytes());
            h.extend(0u16.to_le_bytes());
            h.extend(method.to_le_bytes());
            h.extend([0u8; 4]);
            h.extend(crc.sum().to_le_bytes());
            h.extend((stored.len() as u32).to_le_bytes());
            h.extend((data.len() as u32).to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes());
            if central {
                // comment length, disk, internal and external attributes
                h.extend([0u8; 10]);
                h.extend(offset.to_le_bytes());
            }
            h.extend(name.as_bytes());
            h
        };
        out.extend(fields(0x0403_4b50, false));
        out.extend(&stored);
        central.extend(fields(0x0201_4b50, true));
    }
    let cd_offset = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend(2u16.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

#[test]
fn glove_by_name_is_fetched_extracted_and_converted_once() {
    let server = Server::start();
    let cache = tempfile::tempdir().unwrap();
    let url = format!("{}/glove.6B.zip", server.base);
    let code = "let wv = text::word_vectors(\"glove.6B.50d\"); print([wv.len(), wv.dim()]); print(wv.get(\"movie\")[0]);";
    let out = run(cache.path(), code, &[("GENRELAB_GLOVE_URL", &url)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "[3, 50]\n0.5\n");
    assert!(
        cache
            .path()
            .join("glove/glove.6B.50d.safetensors")
            .is_file()
    );
    assert!(!cache.path().join("glove/glove.6B.50d.txt.part").exists());
    // Converted once: later runs need neither the server nor the zip.
    std::fs::remove_file(cache.path().join("glove/glove.6B.zip")).unwrap();
    let again = run(cache.path(), code, &[("GENRELAB_OFFLINE", "1")]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(server.hits("/glove.6B.zip"), 1);
    // A member the archive does not hold is named with what it holds.
    let missing = run(
        cache.path(),
        "text::word_vectors(\"glove.6B.100d\")",
        &[("GENRELAB_GLOVE_URL", &url)],
    );
    let stderr = text(&missing.stderr);
    assert!(
        stderr.contains("no member glove.6B.100d.txt (it holds README.txt, glove.6B.50d.txt)"),
        "{stderr}"
    );
}
