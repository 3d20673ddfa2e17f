//! genrelab as a Jupyter kernel (`genrelab kernel CONNECTION_FILE`),
//! messaging protocol 5.3.
//!
//! - [`wire`]: frames, HMAC-SHA256 signatures, headers;
//! - [`server`]: the five ZeroMQ sockets (the pure-Rust `zeromq` crate on a
//!   single-threaded tokio runtime): heartbeat, iopub, shell, control, stdin;
//! - [`cells`]: the session on its own thread — the REPL's engine, completer,
//!   help and incomplete-input check — running cells and answering requests;
//! - [`display`]: values as MIME bundles (text, HTML tables, Markdown);
//! - [`install`]: `genrelab kernel install`, the kernelspec.
//!
//! Control messages are read while a cell runs: an interrupt stops the cell
//! as Ctrl-C does in the REPL, and the session keeps its variables.

pub mod cells;
pub mod display;
pub mod install;
pub mod server;
pub mod wire;

use std::path::Path;

use serde::Deserialize;

/// What the connection file Jupyter writes for a kernel tells it.
#[derive(Clone, Debug, Deserialize)]
pub struct ConnectionInfo {
    pub ip: String,
    pub transport: String,
    pub shell_port: u16,
    pub iopub_port: u16,
    pub stdin_port: u16,
    pub control_port: u16,
    pub hb_port: u16,
    #[serde(default)]
    pub key: String,
    #[serde(default = "default_scheme")]
    pub signature_scheme: String,
}

fn default_scheme() -> String {
    "hmac-sha256".into()
}

impl ConnectionInfo {
    /// Reads and checks a connection file; the error names the file and
    /// what is wrong with it.
    pub fn read(path: &Path) -> Result<ConnectionInfo, String> {
        let name = path.display();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("connection file '{name}': {e}"))?;
        let info: ConnectionInfo = serde_json::from_str(&text).map_err(|e| {
            format!("connection file '{name}' is not a Jupyter connection file: {e}")
        })?;
        if info.transport != "tcp" {
            return Err(format!(
                "connection file '{name}': transport '{}' is not supported; genrelab's kernel speaks 'tcp'",
                info.transport
            ));
        }
        wire::Signer::new(&info.signature_scheme, &info.key)
            .map_err(|e| format!("connection file '{name}': {e}"))?;
        Ok(info)
    }

    /// `tcp://IP:PORT`; Jupyter's `*` means every interface.
    pub fn endpoint(&self, port: u16) -> String {
        let ip = if self.ip == "*" { "0.0.0.0" } else { &self.ip };
        format!("{}://{ip}:{port}", self.transport)
    }
}

/// `genrelab kernel CONNECTION_FILE`: serves until Jupyter shuts it down.
/// Returns the exit code: 0 after a shutdown, 2 when the connection file
/// or a port is unusable.
pub fn run(connection_file: &Path) -> i32 {
    let info = match ConnectionInfo::read(connection_file) {
        Ok(info) => info,
        Err(why) => {
            eprintln!("error: {why}");
            return 2;
        }
    };
    match server::serve(&info, connection_file) {
        Ok(()) => 0,
        Err(why) => {
            eprintln!("error: {why}");
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<ConnectionInfo, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kernel-1.json");
        std::fs::write(&path, text).unwrap();
        ConnectionInfo::read(&path)
    }

    const GOOD: &str = r#"{"shell_port": 5001, "iopub_port": 5002, "stdin_port": 5003,
        "control_port": 5004, "hb_port": 5005, "ip": "127.0.0.1", "key": "k",
        "transport": "tcp", "signature_scheme": "hmac-sha256", "kernel_name": "genrelab"}"#;

    #[test]
    fn reads_a_connection_file_and_names_its_problems() {
        let info = read(GOOD).unwrap();
        assert_eq!(info.endpoint(info.shell_port), "tcp://127.0.0.1:5001");
        let missing = ConnectionInfo::read(Path::new("/no/such/kernel.json")).unwrap_err();
        assert!(
            missing.starts_with("connection file '/no/such/kernel.json': "),
            "{missing}"
        );
        let not_json = read("shell_port = 1").unwrap_err();
        assert!(
            not_json
                .contains("is not a Jupyter connection file: expected value at line 1 column 1"),
            "{not_json}"
        );
        let no_port = read(r#"{"ip": "127.0.0.1", "transport": "tcp"}"#).unwrap_err();
        assert!(no_port.contains("missing field `shell_port`"), "{no_port}");
        let md5 = read(&GOOD.replace("hmac-sha256", "hmac-md5")).unwrap_err();
        assert!(
            md5.contains("signature_scheme 'hmac-md5' is not supported"),
            "{md5}"
        );
        let ipc = read(&GOOD.replace("\"tcp\"", "\"ipc\"")).unwrap_err();
        assert!(ipc.contains("transport 'ipc' is not supported"), "{ipc}");
        let any = read(&GOOD.replace("127.0.0.1", "*")).unwrap();
        assert_eq!(any.endpoint(1), "tcp://0.0.0.0:1");
    }
}
