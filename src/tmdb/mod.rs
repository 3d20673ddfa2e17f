//! A TMDB API v3 client that behaves: a shared rate limit, retries with
//! exponential backoff and jitter for 5xx, timeouts and dropped connections,
//! `Retry-After` on 429, TMDB's JSON errors as clear messages, and an on-disk
//! response cache so a rerun costs no requests. The API key or read-access
//! token never appears in values, errors, logs or cache files: the cache key
//! and every message use the URL without credentials.

pub mod dataset;
pub mod endpoints;
pub mod handle;
pub mod limiter;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use serde_json::Value;

use crate::error::{Error, Result};
use limiter::RateLimiter;

/// A credential; prints as `***` however it is formatted.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// How a client talks to TMDB.
#[derive(Clone, Debug)]
pub struct Config {
    pub api_key: Option<Secret>,
    pub access_token: Option<Secret>,
    pub base_url: String,
    pub image_base_url: Option<String>,
    pub language: Option<String>,
    /// Requests per second, shared by all threads.
    pub rate: f64,
    pub cache_dir: Option<PathBuf>,
    pub timeout: Duration,
    /// Retries after the first attempt for 5xx, 429, timeouts, connection errors.
    pub retries: u32,
    /// First backoff delay; doubles per retry (plus up to as much jitter), capped at 30 s.
    pub backoff: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            api_key: std::env::var("TMDB_API_KEY")
                .ok()
                .filter(|k| !k.is_empty())
                .map(Secret::new),
            access_token: std::env::var("TMDB_ACCESS_TOKEN")
                .ok()
                .filter(|k| !k.is_empty())
                .map(Secret::new),
            // Overridable from the environment for proxies and test doubles.
            base_url: std::env::var("TMDB_BASE_URL")
                .ok()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| "https://api.themoviedb.org/3".into()),
            image_base_url: std::env::var("TMDB_IMAGE_BASE_URL")
                .ok()
                .filter(|u| !u.is_empty()),
            language: None,
            rate: 40.0,
            cache_dir: None,
            timeout: Duration::from_secs(15),
            retries: 4,
            backoff: Duration::from_millis(500),
        }
    }
}

pub struct Client {
    pub config: Config,
    http: reqwest::blocking::Client,
    limiter: RateLimiter,
    requests: AtomicU64,
    cache_hits: AtomicU64,
}

/// FNV-1a, 64 bits: a stable file name for a cache key.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Client {
    pub fn new(config: Config) -> Result<Client> {
        if config.api_key.is_none() && config.access_token.is_none() {
            return Err(Error::invalid(
                "tmdb::client: no credentials; set TMDB_API_KEY (v3 key) or TMDB_ACCESS_TOKEN (read access token), or pass api_key / access_token",
            ));
        }
        if !(config.rate > 0.0 && config.rate.is_finite()) {
            return Err(Error::invalid(format!(
                "tmdb::client: rate must be positive, got {}",
                config.rate
            )));
        }
        let http = reqwest::blocking::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("genrelab/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::invalid(format!("tmdb::client: {}", e.without_url())))?;
        Ok(Client {
            limiter: RateLimiter::new(config.rate, 1.0),
            config,
            http,
            requests: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
        })
    }

    /// (requests sent, responses served from the cache) so far.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.cache_hits.load(Ordering::Relaxed),
        )
    }

    /// The request's URL without credentials: the cache key and the name in messages.
    fn public_url(&self, path: &str, params: &[(String, String)]) -> String {
        let mut params: Vec<&(String, String)> = params.iter().collect();
        params.sort();
        let mut url = format!(
            "{}/{}",
            self.config.base_url.trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        let mut sep = '?';
        for (k, v) in params {
            url.push(sep);
            url.push_str(&format!("{k}={}", encode(v)));
            sep = '&';
        }
        url
    }

    /// GET a JSON document, from the cache when it is there.
    pub fn get_json(&self, path: &str, params: &[(String, String)]) -> Result<Value> {
        let mut params = params.to_vec();
        if let Some(language) = &self.config.language
            && !params.iter().any(|(k, _)| k == "language")
        {
            params.push(("language".into(), language.clone()));
        }
        let url = self.public_url(path, &params);
        let cache_file = self
            .config
            .cache_dir
            .as_ref()
            .map(|d| d.join(format!("{:016x}.json", fnv1a(&url))));
        if let Some(file) = &cache_file
            && let Ok(text) = std::fs::read_to_string(file)
            && let Ok(Value::Object(mut entry)) = serde_json::from_str::<Value>(&text)
            && entry.get("url").and_then(Value::as_str) == Some(url.as_str())
            && let Some(body) = entry.remove("body")
        {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(body);
        }
        let body = self.fetch(&url, path, &params)?;
        let value: Value = serde_json::from_slice(&body).map_err(|e| {
            Error::invalid(format!("TMDB {url}: the response is not valid JSON ({e})"))
        })?;
        if let Some(file) = &cache_file {
            let entry = serde_json::json!({ "url": url, "body": value });
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
            crate::io_util::write_bytes_atomic(file, entry.to_string().as_bytes())?;
        }
        Ok(value)
    }

    /// The bytes at an absolute URL (an image), with the same retries.
    pub fn get_bytes(&self, url: &str) -> Result<Vec<u8>> {
        self.send(url, url, None)
    }

    fn fetch(&self, url: &str, path: &str, params: &[(String, String)]) -> Result<Vec<u8>> {
        let full = format!(
            "{}/{}",
            self.config.base_url.trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        let mut query: Vec<(String, String)> = params.to_vec();
        if self.config.access_token.is_none()
            && let Some(key) = &self.config.api_key
        {
            query.push(("api_key".into(), key.expose().to_string()));
        }
        self.send(url, &full, Some(&query))
    }

    /// Sends with retries; `shown` is the credential-free URL for messages.
    fn send(&self, shown: &str, url: &str, query: Option<&[(String, String)]>) -> Result<Vec<u8>> {
        let mut attempt = 0u32;
        loop {
            crate::interrupt::check()?;
            self.limiter.acquire();
            self.requests.fetch_add(1, Ordering::Relaxed);
            let mut request = self.http.get(url);
            if let Some(q) = query {
                request = request.query(q);
            }
            if let Some(token) = &self.config.access_token {
                request = request.bearer_auth(token.expose());
            }
            let retry_in = match request.send() {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        return response.bytes().map(|b| b.to_vec()).map_err(|e| {
                            Error::invalid(format!(
                                "TMDB {shown}: reading the response failed: {}",
                                e.without_url()
                            ))
                        });
                    }
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<f64>().ok());
                    let body = response.text().unwrap_or_default();
                    if status.as_u16() == 429 {
                        Duration::from_secs_f64(retry_after.unwrap_or(1.0).clamp(0.0, 120.0))
                    } else if status.is_server_error() {
                        self.backoff(attempt)
                    } else {
                        return Err(Error::invalid(format!(
                            "TMDB {shown}: {}",
                            describe_error(status.as_u16(), &body)
                        )));
                    }
                }
                Err(e) if e.is_timeout() || e.is_connect() || e.is_request() => {
                    if attempt >= self.config.retries {
                        return Err(Error::invalid(format!(
                            "TMDB {shown}: no response after {} attempts: {}",
                            attempt + 1,
                            e.without_url()
                        )));
                    }
                    self.backoff(attempt)
                }
                Err(e) => return Err(Error::invalid(format!("TMDB {shown}: {}", e.without_url()))),
            };
            if attempt >= self.config.retries {
                return Err(Error::invalid(format!(
                    "TMDB {shown}: still failing after {} attempts (server errors or rate limiting); try again later",
                    attempt + 1
                )));
            }
            std::thread::sleep(retry_in);
            attempt += 1;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.config.backoff.as_secs_f64() * 2f64.powi(attempt.min(16) as i32);
        let jitter = rand::thread_rng().gen_range(0.0..=base.max(1e-9));
        Duration::from_secs_f64((base + jitter).min(30.0))
    }
}

/// A failed status as a sentence, with TMDB's own `status_message` when the
/// body is its JSON error.
fn describe_error(status: u16, body: &str) -> String {
    let tmdb = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        Some(format!(
            "{} (TMDB status_code {})",
            v.get("status_message")?.as_str()?,
            v.get("status_code").and_then(Value::as_i64).unwrap_or(0)
        ))
    });
    let what = match status {
        401 => "HTTP 401 unauthorized (check TMDB_API_KEY / TMDB_ACCESS_TOKEN)",
        404 => "HTTP 404 not found",
        _ => "HTTP error",
    };
    match tmdb {
        Some(message) => format!("{what}: {message}"),
        None if what == "HTTP error" => format!("HTTP {status}"),
        None => what.to_string(),
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
