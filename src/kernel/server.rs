//! The kernel's sockets, on one single-threaded tokio runtime:
//! - heartbeat (REP): echoes;
//! - iopub (PUB): everything published goes through one channel, so status,
//!   outputs and replies keep their order (busy → outputs → idle);
//! - shell (ROUTER): one request at a time, each between a busy and an idle
//!   status; the session's requests wait for the cells thread;
//! - control (ROUTER): read all the time, so an interrupt reaches a running
//!   cell; shutdown ends the process;
//! - stdin (ROUTER): bound so that clients can connect; genrelab never asks
//!   for input.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use zeromq::prelude::*;
use zeromq::{PubSocket, RepSocket, RouterSocket, ZmqError, ZmqMessage};

use super::ConnectionInfo;
use super::cells::{self, Job};
use super::wire::{self, Message, Signer};

/// Publishes on iopub, from any thread, in order.
#[derive(Clone)]
pub struct Publisher {
    session: Arc<str>,
    sender: mpsc::UnboundedSender<Message>,
}

impl Publisher {
    /// A publisher whose messages arrive on the returned receiver (the
    /// iopub loop, or a test).
    pub fn channel(session: &str) -> (Publisher, mpsc::UnboundedReceiver<Message>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let publisher = Publisher {
            session: Arc::from(session),
            sender,
        };
        (publisher, receiver)
    }

    /// This kernel's session id (every header carries it).
    pub fn session(&self) -> &str {
        &self.session
    }

    pub fn publish(&self, parent: &Value, msg_type: &str, content: Value) {
        let message = Message {
            identities: Vec::new(),
            header: wire::header(&self.session, msg_type),
            parent_header: parent.clone(),
            metadata: json!({}),
            content,
            buffers: Vec::new(),
        };
        // The receiver is gone only while the process shuts down.
        let _ = self.sender.send(message);
    }

    pub fn status(&self, parent: &Value, state: &str) {
        self.publish(parent, "status", json!({ "execution_state": state }));
    }
}

/// Binds the sockets, starts the cells thread and serves until a shutdown
/// request. A port that cannot be bound is an error naming it.
pub fn serve(info: &ConnectionInfo, file: &std::path::Path) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the kernel's event loop: {e}"))?;
    runtime.block_on(serve_sockets(info, &file.display().to_string()))
}

async fn bind<S: Socket>(
    info: &ConnectionInfo,
    port: u16,
    key: &str,
    file: &str,
) -> Result<S, String> {
    let mut socket = S::new();
    let endpoint = info.endpoint(port);
    socket.bind(&endpoint).await.map_err(|e| {
        let why = match e {
            ZmqError::Network(io) if io.kind() == std::io::ErrorKind::AddrInUse => {
                "the port is already in use".to_string()
            }
            other => other.to_string(),
        };
        format!("cannot listen on {endpoint} ({key} of connection file '{file}'): {why}")
    })?;
    Ok(socket)
}

async fn serve_sockets(info: &ConnectionInfo, file: &str) -> Result<(), String> {
    let signer = Arc::new(Signer::new(&info.signature_scheme, &info.key)?);
    let heartbeat: RepSocket = bind(info, info.hb_port, "hb_port", file).await?;
    let iopub: PubSocket = bind(info, info.iopub_port, "iopub_port", file).await?;
    let shell: RouterSocket = bind(info, info.shell_port, "shell_port", file).await?;
    let control: RouterSocket = bind(info, info.control_port, "control_port", file).await?;
    let stdin: RouterSocket = bind(info, info.stdin_port, "stdin_port", file).await?;

    let (publisher, published) = Publisher::channel(&wire::uuid4());
    tokio::spawn(publish_loop(iopub, published, signer.clone()));
    tokio::spawn(heartbeat_loop(heartbeat));
    tokio::spawn(ignore_loop(stdin));
    publisher.status(&json!({}), "starting");
    // SIGINT as well as interrupt_request (a kernelspec may use either mode).
    crate::interrupt::install_handler();
    let cells = cells::start(publisher.clone());
    let shell_task = tokio::spawn(shell_loop(shell, cells, publisher.clone(), signer.clone()));
    control_loop(control, &publisher, &signer).await;
    shell_task.abort();
    // Let the last replies and statuses leave before the runtime stops.
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(())
}

async fn send(socket: &mut RouterSocket, message: &Message, signer: &Signer) {
    match ZmqMessage::try_from(message.frames(signer)) {
        Ok(frames) => {
            if let Err(e) = socket.send(frames).await {
                eprintln!("warning: cannot send {}: {e}", message.msg_type());
            }
        }
        Err(e) => eprintln!("warning: cannot frame {}: {e}", message.msg_type()),
    }
}

/// The next signed message on `socket`; bad ones are dropped with a warning
/// on stderr (the kernel keeps running).
async fn receive(socket: &mut RouterSocket, signer: &Signer, channel: &str) -> Message {
    loop {
        match socket.recv().await {
            Ok(frames) => match Message::parse(frames.into_vec(), signer) {
                Ok(message) => return message,
                Err(why) => eprintln!("warning: {channel}: {why}"),
            },
            Err(e) => {
                eprintln!("warning: {channel}: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

async fn heartbeat_loop(mut socket: RepSocket) {
    loop {
        match socket.recv().await {
            Ok(ping) => {
                let _ = socket.send(ping).await;
            }
            // A client that went away; the next one reconnects.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn ignore_loop(mut socket: RouterSocket) {
    loop {
        if socket.recv().await.is_err() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn publish_loop(
    mut socket: PubSocket,
    mut published: mpsc::UnboundedReceiver<Message>,
    signer: Arc<Signer>,
) {
    while let Some(first) = published.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = published.try_recv() {
            batch.push(more);
        }
        for mut message in merge_streams(batch) {
            let topic = format!(
                "kernel.{}.{}",
                message.header["session"].as_str().unwrap_or(""),
                message.msg_type()
            );
            message.identities = vec![Bytes::from(topic)];
            if let Ok(frames) = ZmqMessage::try_from(message.frames(&signer)) {
                let _ = socket.send(frames).await;
            }
        }
    }
}

/// Joins consecutive `stream` messages of the same stream and cell, so a
/// loop printing thousands of lines sends a few messages, not thousands.
pub fn merge_streams(batch: Vec<Message>) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::with_capacity(batch.len());
    for message in batch {
        if let Some(last) = out.last_mut()
            && message.msg_type() == "stream"
            && last.msg_type() == "stream"
            && last.content["name"] == message.content["name"]
            && last.parent_header["msg_id"] == message.parent_header["msg_id"]
        {
            let joined = format!(
                "{}{}",
                last.content["text"].as_str().unwrap_or(""),
                message.content["text"].as_str().unwrap_or("")
            );
            last.content["text"] = Value::String(joined);
            continue;
        }
        out.push(message);
    }
    out
}

/// What `kernel_info_request` answers.
pub fn kernel_info() -> Value {
    json!({
        "status": "ok",
        "protocol_version": wire::PROTOCOL_VERSION,
        "implementation": "genrelab",
        "implementation_version": env!("CARGO_PKG_VERSION"),
        "language_info": {
            "name": "rhai",
            "version": "1.27",
            "mimetype": "text/x-rhai",
            "file_extension": ".rhai",
            "pygments_lexer": "rust",
            "codemirror_mode": "rust",
            "nbconvert_exporter": "script",
        },
        "banner": format!(
            "genrelab {} — Rhai workbench for movie genres. help(\"help\") lists the modules; Tab completes; Shift-Tab shows help.",
            env!("CARGO_PKG_VERSION")
        ),
        "help_links": [{ "text": "Rhai language", "url": "https://rhai.rs/book/" }],
        "debugger": false,
    })
}

/// The requests the cells thread answers (they need the session).
const SESSION_REQUESTS: &[&str] = &[
    "execute_request",
    "complete_request",
    "inspect_request",
    "is_complete_request",
    "history_request",
];

async fn shell_loop(
    mut socket: RouterSocket,
    cells: std::sync::mpsc::Sender<Job>,
    publisher: Publisher,
    signer: Arc<Signer>,
) {
    // After a failed cell with stop_on_error, the execute requests already
    // waiting (a "run all") are aborted, as ipykernel does.
    let mut aborting = false;
    loop {
        let request = if aborting {
            match waiting_request(&mut socket, &signer).await {
                Some(request) => request,
                None => {
                    aborting = false;
                    continue;
                }
            }
        } else {
            receive(&mut socket, &signer, "shell").await
        };
        let socket = &mut socket;
        let signer = &signer;
        serve_request(
            &request,
            &cells,
            &publisher,
            &mut aborting,
            |reply| async move { send(socket, &reply, signer).await },
        )
        .await;
    }
}

/// A request that has already arrived, if any. A zero timeout does not do
/// this: the runtime's timer fires only after its next park, by when the
/// client's next request (sent after our error reply) may have arrived and
/// would be aborted wrongly. Yielding first lets the runtime poll its I/O
/// driver, so bytes already on the socket are seen; then one poll decides.
async fn waiting_request(socket: &mut RouterSocket, signer: &Signer) -> Option<Message> {
    tokio::task::yield_now().await;
    tokio::select! {
        biased;
        request = receive(socket, signer, "shell") => Some(request),
        _ = std::future::ready(()) => None,
    }
}

/// One shell request: busy, the request's outputs (published by whoever
/// makes them), the reply (handed to `reply`), idle.
pub async fn serve_request<F: std::future::Future<Output = ()>>(
    request: &Message,
    cells: &std::sync::mpsc::Sender<Job>,
    publisher: &Publisher,
    aborting: &mut bool,
    reply: impl FnOnce(Message) -> F,
) {
    publisher.status(&request.header, "busy");
    let kind = request.msg_type();
    let content = match kind {
        "kernel_info_request" => Some(kernel_info()),
        "comm_info_request" => Some(json!({ "status": "ok", "comms": {} })),
        "execute_request" if *aborting => Some(json!({ "status": "aborted" })),
        k if SESSION_REQUESTS.contains(&k) => Some(ask(cells, request.clone()).await),
        other => {
            eprintln!("warning: shell: '{other}' is not supported; ignored");
            None
        }
    };
    if let Some(content) = content {
        if kind == "execute_request"
            && content["status"] == "error"
            && request.content["stop_on_error"].as_bool().unwrap_or(true)
        {
            *aborting = true;
        }
        reply(request.reply(publisher.session(), content)).await;
    }
    publisher.status(&request.header, "idle");
}

/// Hands a request to the cells thread and waits for its reply content.
async fn ask(cells: &std::sync::mpsc::Sender<Job>, request: Message) -> Value {
    let (reply, answer) = oneshot::channel();
    if cells.send(Job { request, reply }).is_ok()
        && let Ok(content) = answer.await
    {
        return content;
    }
    json!({
        "status": "error",
        "ename": "KernelError",
        "evalue": "the session thread has stopped; restart the kernel",
        "traceback": ["the session thread has stopped; restart the kernel"],
    })
}

/// Serves control until a shutdown request (answered before returning).
async fn control_loop(mut socket: RouterSocket, publisher: &Publisher, signer: &Signer) {
    loop {
        let request = receive(&mut socket, signer, "control").await;
        let content = match request.msg_type() {
            "interrupt_request" => {
                crate::interrupt::request();
                json!({ "status": "ok" })
            }
            "kernel_info_request" => kernel_info(),
            "shutdown_request" => {
                let restart = request.content["restart"].as_bool().unwrap_or(false);
                let content = json!({ "status": "ok", "restart": restart });
                // Stop a running cell too, so its thread does not hold anything.
                crate::interrupt::request();
                send(
                    &mut socket,
                    &request.reply(publisher.session(), content.clone()),
                    signer,
                )
                .await;
                publisher.publish(&request.header, "shutdown_reply", content);
                return;
            }
            other => {
                eprintln!("warning: control: '{other}' is not supported; ignored");
                continue;
            }
        };
        send(
            &mut socket,
            &request.reply(publisher.session(), content),
            signer,
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(parent: &str, name: &str, text: &str) -> Message {
        Message {
            identities: Vec::new(),
            header: wire::header("S", "stream"),
            parent_header: json!({ "msg_id": parent }),
            metadata: json!({}),
            content: json!({ "name": name, "text": text }),
            buffers: Vec::new(),
        }
    }

    #[test]
    fn consecutive_lines_of_one_stream_and_cell_are_sent_together() {
        let status = Message {
            content: json!({ "execution_state": "idle" }),
            header: wire::header("S", "status"),
            ..stream("a", "", "")
        };
        let merged = merge_streams(vec![
            stream("a", "stdout", "1\n"),
            stream("a", "stdout", "2\n"),
            stream("a", "stderr", "w\n"),
            stream("b", "stderr", "x\n"),
            status,
            stream("b", "stderr", "y\n"),
        ]);
        let texts: Vec<String> = merged
            .iter()
            .map(|m| {
                format!(
                    "{}:{}",
                    m.msg_type(),
                    m.content["text"].as_str().unwrap_or("-")
                )
            })
            .collect();
        assert_eq!(
            texts,
            [
                "stream:1\n2\n",
                "stream:w\n",
                "stream:x\n",
                "status:-",
                "stream:y\n"
            ]
        );
    }

    #[test]
    fn kernel_info_has_what_the_protocol_requires() {
        let info = kernel_info();
        for key in [
            "status",
            "protocol_version",
            "implementation",
            "language_info",
            "banner",
        ] {
            assert!(info.get(key).is_some(), "{key}");
        }
        assert_eq!(info["language_info"]["file_extension"], ".rhai");
    }

    fn request(msg_type: &str, content: Value) -> Message {
        Message {
            identities: vec![Bytes::from_static(b"peer-1")],
            header: wire::header("client", msg_type),
            parent_header: json!({}),
            metadata: json!({}),
            content,
            buffers: Vec::new(),
        }
    }

    /// Runs `requests` through `serve_request` with a stand-in session
    /// thread that prints one line per request and fails on "boom"; returns
    /// everything in the order it happened: iopub messages and replies.
    fn served(requests: Vec<Message>) -> Vec<String> {
        let (publisher, mut published) = Publisher::channel("kernel");
        let (cells, jobs) = std::sync::mpsc::channel::<Job>();
        let session = publisher.clone();
        std::thread::spawn(move || {
            for job in jobs {
                let code = job.request.content["code"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                session.publish(
                    &job.request.header,
                    "stream",
                    json!({ "name": "stdout", "text": code }),
                );
                let status = if code == "boom" { "error" } else { "ok" };
                let _ = job.reply.send(json!({ "status": status }));
            }
        });
        let log = std::cell::RefCell::new(Vec::new());
        let drain = |published: &mut mpsc::UnboundedReceiver<Message>| {
            while let Ok(m) = published.try_recv() {
                let what = m.content["execution_state"]
                    .as_str()
                    .or(m.content["text"].as_str())
                    .unwrap_or("");
                log.borrow_mut().push(format!("{} {what}", m.msg_type()));
            }
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let published = std::cell::RefCell::new(&mut published);
        runtime.block_on(async {
            let mut aborting = false;
            for r in &requests {
                serve_request(r, &cells, &publisher, &mut aborting, |reply| {
                    drain(&mut published.borrow_mut());
                    assert_eq!(
                        reply.identities, r.identities,
                        "the reply goes back to the sender"
                    );
                    assert_eq!(reply.parent_header, r.header);
                    let status = reply.content["status"].as_str().unwrap_or("").to_string();
                    log.borrow_mut()
                        .push(format!("{} {status}", reply.msg_type()));
                    async {}
                })
                .await;
                drain(&mut published.borrow_mut());
            }
        });
        log.into_inner()
    }

    #[test]
    fn a_request_is_busy_then_outputs_then_reply_then_idle() {
        let log = served(vec![request("execute_request", json!({ "code": "hi" }))]);
        assert_eq!(
            log,
            [
                "status busy",
                "stream hi",
                "execute_reply ok",
                "status idle"
            ]
        );
    }

    #[test]
    fn after_an_error_queued_cells_are_aborted_but_other_requests_answered() {
        // serve_request alone: `aborting` stays set until the shell loop
        // finds no request already waiting.
        let log = served(vec![
            request("execute_request", json!({ "code": "boom" })),
            request("execute_request", json!({ "code": "never" })),
            request("kernel_info_request", json!({})),
        ]);
        assert_eq!(
            log,
            [
                "status busy",
                "stream boom",
                "execute_reply error",
                "status idle",
                "status busy",
                "execute_reply aborted",
                "status idle",
                "status busy",
                "kernel_info_reply ok",
                "status idle",
            ]
        );
        let unstopped = served(vec![
            request(
                "execute_request",
                json!({ "code": "boom", "stop_on_error": false }),
            ),
            request("execute_request", json!({ "code": "next" })),
        ]);
        assert!(
            unstopped.contains(&"stream next".to_string()),
            "{unstopped:?}"
        );
    }
}
