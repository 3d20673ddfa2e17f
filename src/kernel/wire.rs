//! Jupyter's wire format (messaging protocol 5.3): a message is the
//! routing identities, the `<IDS|MSG>` delimiter, an HMAC-SHA256 signature
//! in hex, four JSON frames (header, parent header, metadata, content) and
//! optional binary buffers. The signature covers the four JSON frames
//! exactly as they were sent.
//!
//! The JSON is kept as `serde_json::Value`: requests are read leniently
//! (clients send only the fields they use) and replies are written with
//! exactly the keys the protocol's schema asks for.

use bytes::Bytes;
use ring::hmac;
use serde_json::{Value, json};

pub const DELIMITER: &[u8] = b"<IDS|MSG>";
/// The protocol version our headers and kernel_info announce.
pub const PROTOCOL_VERSION: &str = "5.3";

/// Signs and checks messages with the connection file's key. An empty key
/// means "no signing", as the protocol defines it.
pub struct Signer {
    key: Option<hmac::Key>,
}

impl Signer {
    /// `scheme` is the connection file's `signature_scheme`; only
    /// `hmac-sha256` is known (and what every Jupyter client sends).
    pub fn new(scheme: &str, key: &str) -> Result<Signer, String> {
        if scheme != "hmac-sha256" {
            return Err(format!(
                "signature_scheme '{scheme}' is not supported; genrelab's kernel knows 'hmac-sha256'"
            ));
        }
        Ok(Signer {
            key: (!key.is_empty()).then(|| hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes())),
        })
    }

    /// The hex signature of the four JSON frames.
    pub fn sign(&self, parts: &[&[u8]; 4]) -> String {
        let Some(key) = &self.key else {
            return String::new();
        };
        let mut context = hmac::Context::with_key(key);
        for part in parts {
            context.update(part);
        }
        hex(context.sign().as_ref())
    }

    /// Whether `signature` (hex) is right for the four frames, compared in
    /// constant time (ring's `hmac::verify`).
    pub fn verify(&self, signature: &[u8], parts: &[&[u8]]) -> bool {
        let Some(key) = &self.key else {
            return true;
        };
        let Some(tag) = unhex(signature) else {
            return false;
        };
        // Requests are small (a cell's code); one copy lets ring compare in constant time.
        let signed: Vec<u8> = parts.concat();
        hmac::verify(key, &signed, &tag).is_ok()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2)
        .map(|pair| {
            let digits = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(digits, 16).ok()
        })
        .collect()
}

/// One message, parsed.
#[derive(Clone, Debug)]
pub struct Message {
    /// The routing frames before the delimiter (ROUTER sockets put the
    /// peer's identity first); a reply goes back with the same ones.
    pub identities: Vec<Bytes>,
    pub header: Value,
    pub parent_header: Value,
    pub metadata: Value,
    pub content: Value,
    pub buffers: Vec<Bytes>,
}

/// Why a received message was dropped.
#[derive(Debug, PartialEq)]
pub enum WireError {
    NoDelimiter,
    TooFewFrames(usize),
    BadSignature,
    BadJson(&'static str, String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::NoDelimiter => write!(f, "no <IDS|MSG> delimiter among the frames"),
            WireError::TooFewFrames(n) => {
                write!(
                    f,
                    "{n} frame(s) after the delimiter; a message has at least 5"
                )
            }
            WireError::BadSignature => {
                write!(f, "the HMAC signature does not match; message dropped")
            }
            WireError::BadJson(frame, why) => write!(f, "the {frame} frame is not JSON: {why}"),
        }
    }
}

const FRAMES: [&str; 4] = ["header", "parent_header", "metadata", "content"];

impl Message {
    /// Parses the frames of a received message and checks its signature.
    pub fn parse(frames: Vec<Bytes>, signer: &Signer) -> Result<Message, WireError> {
        let at = frames
            .iter()
            .position(|f| f.as_ref() == DELIMITER)
            .ok_or(WireError::NoDelimiter)?;
        let rest = &frames[at + 1..];
        if rest.len() < 5 {
            return Err(WireError::TooFewFrames(rest.len()));
        }
        let json_parts: Vec<&[u8]> = rest[1..5].iter().map(|f| f.as_ref()).collect();
        if !signer.verify(&rest[0], &json_parts) {
            return Err(WireError::BadSignature);
        }
        let mut values = Vec::with_capacity(4);
        for (part, name) in json_parts.iter().zip(FRAMES) {
            let value: Value = serde_json::from_slice(part)
                .map_err(|e| WireError::BadJson(name, e.to_string()))?;
            values.push(value);
        }
        let mut values = values.into_iter();
        let mut next = || values.next().unwrap_or(Value::Null);
        Ok(Message {
            identities: frames[..at].to_vec(),
            header: next(),
            parent_header: next(),
            metadata: next(),
            content: next(),
            buffers: rest[5..].to_vec(),
        })
    }

    /// The frames to send: identities, delimiter, signature, JSON, buffers.
    pub fn frames(&self, signer: &Signer) -> Vec<Bytes> {
        let json: [Vec<u8>; 4] = [
            &self.header,
            &self.parent_header,
            &self.metadata,
            &self.content,
        ]
        .map(|v| serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec()));
        let signature = signer.sign(&[&json[0], &json[1], &json[2], &json[3]]);
        let mut frames = self.identities.clone();
        frames.push(Bytes::from_static(DELIMITER));
        frames.push(Bytes::from(signature));
        frames.extend(json.into_iter().map(Bytes::from));
        frames.extend(self.buffers.iter().cloned());
        frames
    }

    pub fn msg_type(&self) -> &str {
        self.header["msg_type"].as_str().unwrap_or("")
    }

    /// A message answering or caused by this one: `msg_type`, with this
    /// message's header as parent and (for replies on the same socket) its
    /// identities.
    pub fn child(&self, session: &str, msg_type: &str, content: Value) -> Message {
        Message {
            identities: Vec::new(),
            header: header(session, msg_type),
            parent_header: self.header.clone(),
            metadata: json!({}),
            content,
            buffers: Vec::new(),
        }
    }

    /// The reply to this request, routed back to its sender.
    pub fn reply(&self, session: &str, content: Value) -> Message {
        let msg_type = self.msg_type().replace("_request", "_reply");
        Message {
            identities: self.identities.clone(),
            ..self.child(session, &msg_type, content)
        }
    }
}

/// A fresh header from this kernel's session.
pub fn header(session: &str, msg_type: &str) -> Value {
    json!({
        "msg_id": uuid4(),
        "session": session,
        "username": "kernel",
        "date": iso_now(),
        "msg_type": msg_type,
        "version": PROTOCOL_VERSION,
    })
}

/// A random (version 4) UUID. Jupyter drops a message whose signature it has
/// seen before, so every id must be new.
pub fn uuid4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Now as ISO 8601 with microseconds, UTC (`2026-12-05T10:30:00.123456Z`).
pub fn iso_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let day_time = crate::record::utc(now.as_secs()); // "YYYY-MM-DD HH:MM:SS UTC"
    let (date, time) = day_time.split_at(10);
    format!("{date}T{}.{:06}Z", &time[1..9], now.subsec_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(parts: &[&str]) -> Vec<Bytes> {
        parts.iter().map(|p| Bytes::from(p.to_string())).collect()
    }

    // The signature jupyter_client computes for these frames with key "secret":
    //   import hmac, hashlib
    //   h = hmac.new(b"secret", digestmod=hashlib.sha256)
    //   for p in [b'{"msg_type":"kernel_info_request"}', b'{}', b'{}', b'{}']: h.update(p)
    //   h.hexdigest()
    const SIGNED: &str = "da987989801f25e9398e6a2aee42649d93bf7451e56a863c9f755263d32e6ef1";

    fn request(signature: &str) -> Vec<Bytes> {
        frames(&[
            "client-identity",
            "<IDS|MSG>",
            signature,
            r#"{"msg_type":"kernel_info_request"}"#,
            "{}",
            "{}",
            "{}",
        ])
    }

    #[test]
    fn signature_matches_python_hmac() {
        let signer = Signer::new("hmac-sha256", "secret").unwrap();
        let parts: [&[u8]; 4] = [
            br#"{"msg_type":"kernel_info_request"}"#,
            b"{}",
            b"{}",
            b"{}",
        ];
        assert_eq!(signer.sign(&parts), SIGNED);
    }

    #[test]
    fn valid_signature_is_accepted_with_identities_kept() {
        let signer = Signer::new("hmac-sha256", "secret").unwrap();
        let message = Message::parse(request(SIGNED), &signer).unwrap();
        assert_eq!(message.identities, frames(&["client-identity"]));
        assert_eq!(message.msg_type(), "kernel_info_request");
        assert!(message.buffers.is_empty());
    }

    #[test]
    fn wrong_key_and_tampered_frames_are_rejected() {
        let other = Signer::new("hmac-sha256", "not the key").unwrap();
        assert_eq!(
            Message::parse(request(SIGNED), &other).unwrap_err(),
            WireError::BadSignature
        );
        let signer = Signer::new("hmac-sha256", "secret").unwrap();
        let mut tampered = request(SIGNED);
        tampered[6] = Bytes::from_static(br#"{"code":"x"}"#);
        assert_eq!(
            Message::parse(tampered, &signer).unwrap_err(),
            WireError::BadSignature
        );
        assert_eq!(
            Message::parse(request("zz"), &signer).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn empty_key_means_unsigned_and_bad_framing_is_named() {
        let unsigned = Signer::new("hmac-sha256", "").unwrap();
        assert!(Message::parse(request(""), &unsigned).is_ok());
        assert_eq!(
            Message::parse(frames(&["a", "b"]), &unsigned).unwrap_err(),
            WireError::NoDelimiter
        );
        assert_eq!(
            Message::parse(frames(&["<IDS|MSG>", "", "{}"]), &unsigned).unwrap_err(),
            WireError::TooFewFrames(2)
        );
        assert!(Signer::new("hmac-md5", "k").is_err());
    }

    #[test]
    fn replies_round_trip_with_identities_and_parent() {
        let signer = Signer::new("hmac-sha256", "secret").unwrap();
        let request = Message::parse(request(SIGNED), &signer).unwrap();
        let reply = request.reply("S", json!({"status": "ok"}));
        let sent = reply.frames(&signer);
        assert_eq!(sent[0], Bytes::from_static(b"client-identity"));
        assert_eq!(sent[1], Bytes::from_static(DELIMITER));
        let back = Message::parse(sent, &signer).unwrap();
        assert_eq!(back.msg_type(), "kernel_info_reply");
        assert_eq!(back.parent_header, request.header);
        assert_eq!(back.header["session"], "S");
        assert_eq!(back.header["version"], "5.3");
    }

    #[test]
    fn ids_and_dates_have_the_protocol_shape() {
        let id = uuid4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(uuid4(), id);
        let date = iso_now();
        assert_eq!(date.len(), 27, "{date}");
        assert!(date.ends_with('Z') && &date[10..11] == "T" && &date[19..20] == ".");
    }
}
