//! `genrelab kernel` from the outside, as a Jupyter client talks to it:
//! signed messages over ZeroMQ (a client written here with the same
//! `zeromq` crate), routing by identity, the iopub order of a cell, a bad
//! signature dropped, interrupt and shutdown on the control channel, and
//! the bad-input exits. Jupyter's own client and test suite run in
//! tests/jupyter.rs.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use genrelab::kernel::wire::{self, Message, Signer};
use serde_json::{Value, json};
use zeromq::prelude::*;
use zeromq::{DealerSocket, SocketOptions, SubSocket, ZmqMessage};

const KEY: &str = "a0436f6c-1916-498b-8eb9-e81ab9368e84";

fn free_ports() -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..5)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

fn connection_file(dir: &Path, ports: &[u16], scheme: &str) -> PathBuf {
    let path = dir.join("kernel-test.json");
    let info = json!({
        "shell_port": ports[0], "iopub_port": ports[1], "stdin_port": ports[2],
        "control_port": ports[3], "hb_port": ports[4], "ip": "127.0.0.1",
        "key": KEY, "transport": "tcp", "signature_scheme": scheme, "kernel_name": "genrelab",
    });
    std::fs::write(&path, info.to_string()).unwrap();
    path
}

fn kernel_command(file: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_genrelab"));
    command
        .args(["kernel"])
        .arg(file)
        .env_remove("GENRELAB_DATA")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A running kernel and a client connected to it.
struct Client {
    kernel: Child,
    shell: DealerSocket,
    control: DealerSocket,
    iopub: SubSocket,
    signer: Signer,
    _dir: tempfile::TempDir,
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.kernel.kill();
        let _ = self.kernel.wait();
    }
}

fn dealer(identity: &str) -> DealerSocket {
    let mut options = SocketOptions::default();
    options.peer_identity(identity.as_bytes().to_vec().try_into().unwrap());
    DealerSocket::with_options(options)
}

fn endpoint(port: u16) -> String {
    format!("tcp://127.0.0.1:{port}")
}

fn request(msg_type: &str, content: Value) -> Message {
    Message {
        identities: Vec::new(),
        header: wire::header("test-client", msg_type),
        parent_header: json!({}),
        metadata: json!({}),
        content,
        buffers: Vec::new(),
    }
}

async fn send(socket: &mut DealerSocket, message: &Message, signer: &Signer) {
    let frames = ZmqMessage::try_from(message.frames(signer)).unwrap();
    socket.send(frames).await.unwrap();
}

async fn receive<S: SocketRecv>(
    socket: &mut S,
    signer: &Signer,
    within: Duration,
) -> Option<Message> {
    let frames = tokio::time::timeout(within, socket.recv())
        .await
        .ok()?
        .ok()?;
    Some(Message::parse(frames.into_vec(), signer).expect("the kernel signs what it sends"))
}

impl Client {
    async fn start() -> Client {
        let dir = tempfile::tempdir().unwrap();
        let ports = free_ports();
        let file = connection_file(dir.path(), &ports, "hmac-sha256");
        let kernel = kernel_command(&file).spawn().unwrap();
        let mut client = Client {
            kernel,
            shell: dealer("shell-client"),
            control: dealer("control-client"),
            iopub: SubSocket::new(),
            signer: Signer::new("hmac-sha256", KEY).unwrap(),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // The kernel may still be binding: connecting retries.
            if client.shell.connect(&endpoint(ports[0])).await.is_ok()
                && client.control.connect(&endpoint(ports[3])).await.is_ok()
                && client.iopub.connect(&endpoint(ports[1])).await.is_ok()
            {
                break;
            }
            assert!(Instant::now() < deadline, "the kernel never listened");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        client.iopub.subscribe("").await.unwrap();
        // As jupyter_client's wait_for_ready: kernel_info until iopub speaks too.
        loop {
            let info = request("kernel_info_request", json!({}));
            send(&mut client.shell, &info, &client.signer).await;
            let reply = receive(&mut client.shell, &client.signer, Duration::from_secs(5)).await;
            if reply.is_some()
                && receive(
                    &mut client.iopub,
                    &client.signer,
                    Duration::from_millis(300),
                )
                .await
                .is_some()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the kernel never answered kernel_info"
            );
        }
        while receive(
            &mut client.iopub,
            &client.signer,
            Duration::from_millis(200),
        )
        .await
        .is_some()
        {}
        client
    }

    /// Sends `code` and collects, in arrival order, the iopub messages of
    /// this request up to idle, and the reply.
    async fn execute(&mut self, code: &str) -> (Vec<Message>, Message) {
        let r = request(
            "execute_request",
            json!({ "code": code, "silent": false, "store_history": true,
            "user_expressions": {}, "allow_stdin": false, "stop_on_error": true }),
        );
        send(&mut self.shell, &r, &self.signer).await;
        let mut published = Vec::new();
        let mut reply = None;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            tokio::select! {
                frames = self.shell.recv() => {
                    reply = Some(Message::parse(frames.unwrap().into_vec(), &self.signer).unwrap());
                }
                frames = self.iopub.recv() => {
                    let m = Message::parse(frames.unwrap().into_vec(), &self.signer).unwrap();
                    if m.parent_header["msg_id"] == r.header["msg_id"] {
                        let idle = m.msg_type() == "status" && m.content["execution_state"] == "idle";
                        published.push(m);
                        if idle && reply.is_some() {
                            break;
                        }
                    }
                }
                _ = tokio::time::sleep(Duration::from_millis(50)) => {
                    assert!(Instant::now() < deadline, "no idle after {code}");
                }
            }
            if reply.is_some()
                && published
                    .last()
                    .is_some_and(|m| m.content["execution_state"] == "idle")
            {
                break;
            }
        }
        (published, reply.unwrap())
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn kinds(published: &[Message]) -> Vec<String> {
    published
        .iter()
        .map(|m| match m.msg_type() {
            "status" => format!("status {}", m.content["execution_state"].as_str().unwrap()),
            "stream" => format!(
                "stream {} {:?}",
                m.content["name"].as_str().unwrap(),
                m.content["text"].as_str().unwrap()
            ),
            other => other.to_string(),
        })
        .collect()
}

#[test]
fn a_cell_publishes_busy_input_outputs_result_idle_and_replies_to_its_sender() {
    runtime().block_on(async {
        let mut c = Client::start().await;
        let (published, reply) = c
            .execute("print(\"hello\"); debug(\"careful\"); 40 + 2")
            .await;
        assert_eq!(
            kinds(&published),
            [
                "status busy",
                "execute_input",
                "stream stdout \"hello\\n\"",
                // Rhai's debug() shows a string with its quotes, as in the REPL.
                "stream stderr \"In[1]:1: \\\"careful\\\"\\n\"",
                "execute_result",
                "status idle"
            ]
        );
        assert_eq!(published[4].content["data"]["text/plain"], "42");
        assert_eq!(reply.msg_type(), "execute_reply");
        assert_eq!(reply.content["status"], "ok");
        assert_eq!(reply.content["execution_count"], 1);
        assert_eq!(reply.header["session"], published[0].header["session"]);

        // A second client, with its own identity, gets its own replies.
        let mut other = dealer("second-client");
        other.connect(&endpoint(c.shell_port())).await.unwrap();
        let r = request("kernel_info_request", json!({}));
        send(&mut other, &r, &c.signer).await;
        let got = receive(&mut other, &c.signer, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(got.parent_header["msg_id"], r.header["msg_id"]);
        assert!(
            receive(&mut c.shell, &c.signer, Duration::from_millis(300))
                .await
                .is_none(),
            "the first client does not get the second one's reply"
        );
    });
}

impl Client {
    fn shell_port(&self) -> u16 {
        let file = self._dir.path().join("kernel-test.json");
        let info: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        info["shell_port"].as_u64().unwrap() as u16
    }
}

#[test]
fn errors_are_one_error_output_with_the_position_and_no_colour() {
    runtime().block_on(async {
        let mut c = Client::start().await;
        let (published, reply) = c.execute("let x = 1;\nx + undefined_name").await;
        let outputs: Vec<&Message> = published
            .iter()
            .filter(|m| !matches!(m.msg_type(), "status" | "execute_input"))
            .collect();
        assert_eq!(outputs.len(), 1, "{:?}", kinds(&published));
        assert_eq!(outputs[0].msg_type(), "error");
        let traceback: Vec<&str> = outputs[0].content["traceback"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        let text = traceback.join("\n");
        assert!(text.contains("In[1]:2:5"), "{text}");
        assert!(text.contains("undefined_name"), "{text}");
        assert!(
            !text.contains('\u{1b}'),
            "no terminal colour codes: {text:?}"
        );
        assert_eq!(reply.content["status"], "error");
        assert_eq!(reply.content["ename"], "Error");
    });
}

#[test]
fn a_bad_signature_is_dropped_and_the_kernel_keeps_running() {
    runtime().block_on(async {
        let mut c = Client::start().await;
        let forged = Signer::new("hmac-sha256", "not-the-key").unwrap();
        send(
            &mut c.shell,
            &request("kernel_info_request", json!({})),
            &forged,
        )
        .await;
        assert!(
            receive(&mut c.shell, &c.signer, Duration::from_millis(500))
                .await
                .is_none(),
            "a forged request gets no reply"
        );
        let (_, reply) = c.execute("1").await;
        assert_eq!(reply.content["status"], "ok");
    });
}

#[test]
fn interrupt_stops_a_running_cell_and_keeps_the_variables() {
    interrupt_and_check(Interrupt::Message);
}

#[test]
fn sigint_stops_a_running_cell_and_keeps_the_variables() {
    interrupt_and_check(Interrupt::Signal);
}

/// The two ways a Jupyter client interrupts (the kernelspec's interrupt_mode).
enum Interrupt {
    Message,
    Signal,
}

fn interrupt_and_check(how: Interrupt) {
    runtime().block_on(async {
        let mut c = Client::start().await;
        c.execute("let kept = 41;").await;
        let long = request("execute_request", json!({ "code": "let i = 0; loop { i += 1; }", "silent": false,
            "store_history": true, "user_expressions": {}, "allow_stdin": false, "stop_on_error": true }));
        send(&mut c.shell, &long, &c.signer).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let asked = Instant::now();
        match how {
            Interrupt::Message => {
                send(&mut c.control, &request("interrupt_request", json!({})), &c.signer).await;
                let ack = receive(&mut c.control, &c.signer, Duration::from_secs(5)).await.unwrap();
                assert_eq!(ack.msg_type(), "interrupt_reply");
            }
            Interrupt::Signal => {
                let kill = std::process::Command::new("kill")
                    .args(["-INT", &c.kernel.id().to_string()])
                    .status()
                    .unwrap();
                assert!(kill.success());
            }
        }
        let reply = receive(&mut c.shell, &c.signer, Duration::from_secs(5)).await.unwrap();
        assert!(asked.elapsed() < Duration::from_secs(1), "stopped in {:?}", asked.elapsed());
        assert_eq!(reply.content["status"], "error");
        assert_eq!(reply.content["ename"], "Interrupted");
        while receive(&mut c.iopub, &c.signer, Duration::from_millis(200)).await.is_some() {}
        let (published, _) = c.execute("kept + 1").await;
        let result = published.iter().find(|m| m.msg_type() == "execute_result").unwrap();
        assert_eq!(result.content["data"]["text/plain"], "42");
        assert!(c.kernel.try_wait().unwrap().is_none(), "the kernel must survive the interrupt");
    });
}

#[test]
fn a_progress_bar_is_one_display_updated_in_place() {
    runtime().block_on(async {
        let mut c = Client::start().await;
        let started = Instant::now();
        let (published, reply) = c
            .execute(
                "let x = data::matrix([[0.0, 1.0], [1.0, 0.0]]);
                 let y = data::binarizer([[\"A\"]]).transform([[], [\"A\"]]);
                 nn::mlp(#{ hidden: [64], seed: 1 }).fit(x, y, #{ epochs: 40000 }); 1",
            )
            .await;
        let took = started.elapsed();
        assert_eq!(reply.content["status"], "ok", "{}", reply.content);
        let bars: Vec<&Message> = published
            .iter()
            .filter(|m| m.content["transient"]["display_id"].is_string())
            .collect();
        let first = bars.first().expect("a progress display");
        assert_eq!(first.msg_type(), "display_data");
        assert!(bars.len() >= 2, "the first draw, then the finished one");
        let id = &first.content["transient"]["display_id"];
        assert!(
            bars[1..]
                .iter()
                .all(|m| m.msg_type() == "update_display_data"
                    && &m.content["transient"]["display_id"] == id)
        );
        let last = bars.last().unwrap().content["data"]["text/plain"]
            .as_str()
            .unwrap();
        assert!(
            last.starts_with("fit ") && last.contains("40000/40000"),
            "{last}"
        );
        // At most ten draws a second, plus the first and the last.
        let limit = (took.as_secs_f64() * 10.0).ceil() as usize + 2;
        assert!(bars.len() <= limit, "{} draws in {took:?}", bars.len());
        assert!(
            !published.iter().any(|m| m.msg_type() == "stream"),
            "no bar as lines"
        );
    });
}

#[test]
fn shutdown_is_answered_and_the_process_exits() {
    runtime().block_on(async {
        let mut c = Client::start().await;
        send(
            &mut c.control,
            &request("shutdown_request", json!({ "restart": false })),
            &c.signer,
        )
        .await;
        let reply = receive(&mut c.control, &c.signer, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(reply.content, json!({ "status": "ok", "restart": false }));
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = c.kernel.try_wait().unwrap() {
                assert!(status.success(), "{status:?}");
                break;
            }
            assert!(Instant::now() < deadline, "the kernel did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    });
}

fn fails_with(file: &Path, expected: &str) {
    let out = kernel_command(file).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(expected),
        "expected '{expected}' in: {stderr}"
    );
}

#[test]
fn bad_connection_files_and_busy_ports_exit_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    fails_with(
        &dir.path().join("missing.json"),
        "missing.json': No such file or directory",
    );
    let not_json = dir.path().join("bad.json");
    std::fs::write(&not_json, "{ shell_port: 1 }").unwrap();
    fails_with(
        &not_json,
        "is not a Jupyter connection file: key must be a string at line 1 column 3",
    );
    let ports = free_ports();
    let md5 = connection_file(dir.path(), &ports, "hmac-md5");
    fails_with(&md5, "signature_scheme 'hmac-md5' is not supported");
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut ports = free_ports();
    ports[0] = busy.local_addr().unwrap().port();
    let file = connection_file(dir.path(), &ports, "hmac-sha256");
    fails_with(
        &file,
        &format!(
            "cannot listen on tcp://127.0.0.1:{} (shell_port of connection file",
            ports[0]
        ),
    );
    fails_with(&file, "the port is already in use");
    let out = Command::new(env!("CARGO_BIN_EXE_genrelab"))
        .arg("kernel")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs the connection file"));
}

#[test]
fn install_writes_a_kernelspec_for_this_binary() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_genrelab"))
        .args(["kernel", "install", "--prefix"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spec_path = dir
        .path()
        .join("share/jupyter/kernels/genrelab/kernel.json");
    let spec: Value = serde_json::from_slice(&std::fs::read(&spec_path).unwrap()).unwrap();
    let program = Path::new(spec["argv"][0].as_str().unwrap());
    assert!(program.is_absolute() && program.exists(), "{program:?}");
    let out = Command::new(env!("CARGO_BIN_EXE_genrelab"))
        .args(["kernel", "install", "--sys-prefix"])
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Python environment is active"));
}
