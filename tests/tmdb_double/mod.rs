//! A local stand-in for TMDB (API v3 and the image server) on 127.0.0.1,
//! serving JSON in TMDB's shapes and small JPEGs, with failures scripted per
//! path, and a log of every request (time, path, query) for assertions.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const KEY: &str = "s3cr3t-test-key-0123456789";

/// A scripted answer for the next request to a path.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Serve this request normally (to let a number of requests through first).
    Pass,
    Status(u16, &'static str, Option<&'static str>), // status, body, Retry-After
    Delay(Duration),
    BadJson,
}

#[derive(Clone, Debug)]
pub struct Request {
    pub at: Instant,
    pub path: String,
    pub query: String,
    pub authorization: Option<String>,
}

#[derive(Default)]
struct State {
    log: Vec<Request>,
    faults: HashMap<String, VecDeque<Fault>>,
}

pub struct Double {
    pub base_url: String,
    pub image_base_url: String,
    state: Arc<Mutex<State>>,
}

pub const GENRES: [(i64, &str); 3] = [(28, "Action"), (35, "Comedy"), (18, "Drama")];
/// Pages of `movie/popular` and of each `discover/movie` list.
pub const POPULAR_PAGES: u32 = 5;
pub const DISCOVER_PAGES: u32 = 3;
pub const PER_PAGE: i64 = 20;

/// A movie in TMDB's list shape; ids ≡ 0 mod 17 lack an overview, ≡ 0 mod 19 a poster,
/// ≡ 0 mod 23 point at a poster the image server does not have.
pub fn movie(id: i64) -> serde_json::Value {
    let genres: Vec<i64> = match id % 4 {
        0 => vec![28],
        1 => vec![35, 18],
        2 => vec![18],
        _ => vec![28, 35],
    };
    serde_json::json!({
        "id": id,
        "title": format!("Movie {id}"),
        "release_date": format!("{}-0{}-1{}", 1990 + id % 30, 1 + id % 9, id % 10),
        "genre_ids": genres,
        "overview": if id % 17 == 0 { String::new() } else { format!("A story, number {id}, about {} things.", ["brave", "funny", "sad", "odd"][(id % 4) as usize]) },
        "poster_path": if id % 19 == 0 { serde_json::Value::Null } else if id % 23 == 0 { format!("/missing{id}.jpg").into() } else { format!("/p{id}.jpg").into() },
        "popularity": 100.0 - id as f64 * 0.1,
    })
}

fn list(ids: impl Iterator<Item = i64>, page: u32, total_pages: u32) -> serde_json::Value {
    let results: Vec<_> = ids.map(movie).collect();
    serde_json::json!({ "page": page, "results": results, "total_pages": total_pages, "total_results": total_pages as i64 * PER_PAGE })
}

fn jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(37, 56, |x, y| {
        image::Rgb([(x * 6) as u8, (y * 4) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageOutputFormat::Jpeg(80))
        .unwrap();
    out.into_inner()
}

impl Double {
    pub fn start() -> Double {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let poster = Arc::new(jpeg());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (state, poster) = (shared.clone(), poster.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &state, &poster, addr.port());
                });
            }
        });
        Double {
            base_url: format!("http://{addr}/3"),
            image_base_url: format!("http://{addr}/img"),
            state,
        }
    }

    /// Answers the next requests to `path` (e.g. "/3/movie/popular") with `faults`, in order.
    pub fn script(&self, path: &str, faults: Vec<Fault>) {
        self.state
            .lock()
            .unwrap()
            .faults
            .entry(path.to_string())
            .or_default()
            .extend(faults);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn count(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path == path).count()
    }
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    kind: &str,
    body: &[u8],
    extra: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Error",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

fn serve(
    mut stream: TcpStream,
    state: &Mutex<State>,
    poster: &[u8],
    port: u16,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut authorization = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((name, value)) = h.split_once(':')
            && name.eq_ignore_ascii_case("authorization")
        {
            authorization = Some(value.trim().to_string());
        }
    }
    let (path, query) = target
        .split_once('?')
        .map_or((target.clone(), String::new()), |(p, q)| {
            (p.to_string(), q.to_string())
        });
    let fault = {
        let mut s = state.lock().unwrap();
        s.log.push(Request {
            at: Instant::now(),
            path: path.clone(),
            query: query.clone(),
            authorization: authorization.clone(),
        });
        s.faults.get_mut(&path).and_then(VecDeque::pop_front)
    };
    let json = "application/json;charset=utf-8";
    match fault {
        Some(Fault::Status(code, body, retry_after)) => {
            let extra = retry_after
                .map(|s| format!("Retry-After: {s}\r\n"))
                .unwrap_or_default();
            return respond(&mut stream, code, json, body.as_bytes(), &extra);
        }
        Some(Fault::Delay(d)) => std::thread::sleep(d),
        Some(Fault::BadJson) => {
            return respond(&mut stream, 200, json, b"{\"page\": 1, \"results\": [", "");
        }
        Some(Fault::Pass) | None => {}
    }
    if let Some(name) = path.strip_prefix("/img/w185/") {
        return if name.starts_with('p') {
            respond(&mut stream, 200, "image/jpeg", poster, "")
        } else {
            respond(&mut stream, 404, "text/plain", b"not found", "")
        };
    }
    let params: HashMap<&str, &str> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let authorized = params.get("api_key") == Some(&KEY)
        || authorization.as_deref() == Some(&format!("Bearer {KEY}"));
    if !authorized {
        return respond(&mut stream, 401, json, br#"{"status_code":7,"status_message":"Invalid API key: You must be granted a valid key.","success":false}"#, "");
    }
    let page: u32 = params.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let body = match path.as_str() {
        "/3/configuration" => serde_json::json!({
            "images": { "secure_base_url": format!("http://127.0.0.1:{port}/img/"), "base_url": format!("http://127.0.0.1:{port}/img/"),
                        "poster_sizes": ["w92", "w154", "w185", "w342", "w500", "w780", "original"] }
        }),
        "/3/genre/movie/list" => serde_json::json!({ "genres": GENRES.iter().map(|(id, name)| serde_json::json!({"id": id, "name": name})).collect::<Vec<_>>() }),
        "/3/movie/popular" => list((1..=PER_PAGE).map(|i| (page as i64 - 1) * PER_PAGE + i), page, POPULAR_PAGES),
        "/3/movie/top_rated" => list((1..=PER_PAGE).map(|i| 5000 + (page as i64 - 1) * PER_PAGE + i), page, POPULAR_PAGES),
        "/3/discover/movie" => {
            // Each genre's list overlaps the popular one (ids 1..100) and runs past it.
            let genre: i64 = params.get("with_genres").and_then(|g| g.parse().ok()).unwrap_or(0);
            list((1..=PER_PAGE).map(|i| 60 + genre * 3 + (page as i64 - 1) * PER_PAGE + i), page, DISCOVER_PAGES)
        }
        p if p.starts_with("/3/movie/") && p.ends_with("/external_ids") => {
            let id: i64 = p["/3/movie/".len()..p.len() - "/external_ids".len()].parse().unwrap_or(0);
            // Every fifth movie has no IMDb id on TMDB.
            let tt = if id % 5 == 0 { serde_json::Value::Null } else { format!("tt{:07}", 100_000 + id).into() };
            serde_json::json!({ "id": id, "imdb_id": tt })
        }
        p if p.starts_with("/3/movie/") => match p["/3/movie/".len()..].parse::<i64>() {
            Ok(id) if id < 100_000 => movie(id),
            _ => return respond(&mut stream, 404, json, br#"{"status_code":34,"status_message":"The resource you requested could not be found.","success":false}"#, ""),
        },
        "/3/search/movie" => list((1..=3).map(|i| 900 + i), 1, 1),
        p if p.starts_with("/3/find/") => serde_json::json!({ "movie_results": [movie(42)] }),
        _ => return respond(&mut stream, 404, json, br#"{"status_code":34,"status_message":"The resource you requested could not be found.","success":false}"#, ""),
    };
    respond(&mut stream, 200, json, body.to_string().as_bytes(), "")
}
