//! The session's thread: one [`Session`] (the REPL's engine and scope, which
//! are not `Send`), the completer and the help pages. It runs cells and
//! answers completion, inspection, is-complete and history requests; what a
//! cell prints, tables, figures, warnings and progress bars are published
//! on iopub as they happen.

use std::collections::HashSet;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::display::{self, help_markdown};
use super::server::Publisher;
use super::wire::Message;
use crate::completion::{Completions, word_at};
use crate::docs::{self, FunctionDoc};
use crate::engine::{EngineConfig, Output};
use crate::record::{self, Table};
use crate::session::{ScriptError, Session};

/// A request for the session and where its reply content goes.
pub struct Job {
    pub request: Message,
    pub reply: tokio::sync::oneshot::Sender<Value>,
}

/// Starts the session's thread; requests go in through the returned sender.
pub fn start(publisher: Publisher) -> std::sync::mpsc::Sender<Job> {
    let (sender, jobs) = std::sync::mpsc::channel::<Job>();
    let spawned = std::thread::Builder::new()
        .name("genrelab-session".into())
        // Deeply nested scripts recurse in Rhai's evaluator; the main thread's size.
        .stack_size(8 << 20)
        .spawn(move || {
            let mut cells = Cells::new(publisher);
            for job in jobs {
                let content = cells.answer(&job.request);
                let _ = job.reply.send(content);
            }
        });
    if let Err(e) = spawned {
        eprintln!("error: cannot start the session thread: {e}");
    }
    sender
}

/// The parent header outputs are published under; `None` between cells and
/// for silent ones (their outputs are not broadcast).
type Parent = Arc<Mutex<Option<Value>>>;

/// Publishes a cell's output as it happens.
struct CellOutput {
    publisher: Publisher,
    parent: Parent,
}

impl CellOutput {
    fn publish(&self, msg_type: &str, content: Value) {
        if let Some(parent) = self
            .parent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            self.publisher.publish(parent, msg_type, content);
        }
    }

    fn stream(&self, name: &str, text: String) {
        self.publish("stream", json!({ "name": name, "text": text }));
    }
}

impl record::Listener for CellOutput {
    fn text(&self, line: &str) {
        self.stream("stdout", format!("{line}\n"));
    }

    fn stderr(&self, line: &str) {
        self.stream("stderr", format!("{line}\n"));
    }

    fn table(&self, table: &Table, printed: &str) {
        let data = json!({ "text/plain": printed, "text/html": record::html::table(table) });
        self.publish("display_data", json!({ "data": data, "metadata": {} }));
    }

    fn figure(&self, caption: &str, png: &[u8], svg: &str) {
        let text = if caption.is_empty() {
            "<figure>".to_string()
        } else {
            format!("<figure {caption}>")
        };
        let data = json!({
            "image/png": record::base64(png),
            "image/svg+xml": svg,
            "text/plain": text,
        });
        self.publish("display_data", json!({ "data": data, "metadata": {} }));
    }

    fn warning(&self, message: &str) {
        self.stream("stderr", format!("warning: {message}\n"));
    }
}

/// Progress bars as one display each, updated in place (bars are drawn
/// from worker threads too).
struct ProgressDisplay {
    publisher: Publisher,
    parent: Parent,
    shown: Mutex<HashSet<u64>>,
}

impl crate::progress::Sink for ProgressDisplay {
    fn show(&self, id: u64, line: &str, _finished: bool) {
        let Some(parent) = self
            .parent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        else {
            return;
        };
        let first = self
            .shown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id);
        let msg_type = if first {
            "display_data"
        } else {
            "update_display_data"
        };
        let content = json!({
            "data": { "text/plain": line },
            "metadata": {},
            "transient": { "display_id": format!("progress-{}-{id}", self.publisher.session()) },
        });
        self.publisher.publish(&parent, msg_type, content);
    }
}

/// One input kept for `history_request`.
struct HistoryEntry {
    line: u64,
    input: String,
    output: Option<String>,
}

/// History entries are numbered within this kernel's session.
const SESSION_NUMBER: i64 = 1;

struct Cells {
    session: Session,
    docs: Vec<FunctionDoc>,
    completions: Completions,
    publisher: Publisher,
    parent: Parent,
    execution_count: u64,
    history: Vec<HistoryEntry>,
}

impl Cells {
    fn new(publisher: Publisher) -> Cells {
        let config = EngineConfig {
            output: Output::Listener,
            ..EngineConfig::default()
        };
        let session = Session::new(config, Vec::new());
        let docs = docs::collect(session.engine());
        let completions = Completions::new(&session, &docs);
        let parent: Parent = Arc::new(Mutex::new(None));
        record::listen(Some(Rc::new(CellOutput {
            publisher: publisher.clone(),
            parent: parent.clone(),
        })));
        crate::progress::set_sink(Some(Arc::new(ProgressDisplay {
            publisher: publisher.clone(),
            parent: parent.clone(),
            shown: Mutex::new(HashSet::new()),
        })));
        Cells {
            session,
            docs,
            completions,
            publisher,
            parent,
            execution_count: 0,
            history: Vec::new(),
        }
    }

    fn answer(&mut self, request: &Message) -> Value {
        let c = &request.content;
        match request.msg_type() {
            "execute_request" => self.execute(request),
            "complete_request" => self.complete(text(c, "code"), cursor(c)),
            "inspect_request" => self.inspect(text(c, "code"), cursor(c)),
            "is_complete_request" => self.is_complete(text(c, "code")),
            "history_request" => self.history_reply(c),
            other => json!({ "status": "error", "ename": "UnknownRequest",
                             "evalue": other, "traceback": [] }),
        }
    }

    fn set_parent(&self, parent: Option<Value>) {
        *self.parent.lock().unwrap_or_else(|e| e.into_inner()) = parent;
    }

    fn execute(&mut self, request: &Message) -> Value {
        let c = &request.content;
        let code = text(c, "code");
        let silent = c["silent"].as_bool().unwrap_or(false);
        let store_history = !silent && c["store_history"].as_bool().unwrap_or(true);
        if store_history && !code.trim().is_empty() {
            self.execution_count += 1;
        }
        let count = self.execution_count;
        if !silent {
            self.publisher.publish(
                &request.header,
                "execute_input",
                json!({ "code": code, "execution_count": count }),
            );
        }
        self.set_parent((!silent).then(|| request.header.clone()));
        let result = self.session.eval(code, &format!("In[{count}]"));
        let mut shown = None;
        let reply = match result {
            Ok(value) => {
                if !silent && let Some(data) = display::bundle(&mut self.session, &value) {
                    shown = data["text/plain"].as_str().map(str::to_string);
                    self.publisher.publish(
                        &request.header,
                        "execute_result",
                        json!({ "execution_count": count, "data": data, "metadata": {} }),
                    );
                }
                let expressions = self.user_expressions(&c["user_expressions"]);
                json!({ "status": "ok", "execution_count": count, "payload": [],
                        "user_expressions": expressions })
            }
            Err(error) => {
                let mut content = error_content(&error);
                if !silent {
                    self.publisher
                        .publish(&request.header, "error", content.clone());
                }
                content["status"] = json!("error");
                content["execution_count"] = json!(count);
                content
            }
        };
        self.set_parent(None);
        if store_history && !code.trim().is_empty() {
            self.history.push(HistoryEntry {
                line: count,
                input: code.to_string(),
                output: shown,
            });
        }
        self.completions.refresh(&self.session);
        reply
    }

    /// `user_expressions`: each evaluated after the cell, as its MIME bundle.
    fn user_expressions(&mut self, requested: &Value) -> Value {
        let mut out = serde_json::Map::new();
        for (name, expression) in requested.as_object().into_iter().flatten() {
            let code = expression.as_str().unwrap_or("");
            let result = match self.session.eval(code, name) {
                Ok(value) => {
                    let data = display::bundle(&mut self.session, &value).unwrap_or_default();
                    json!({ "status": "ok", "data": data, "metadata": {} })
                }
                Err(error) => {
                    let mut content = error_content(&error);
                    content["status"] = json!("error");
                    content
                }
            };
            out.insert(name.clone(), result);
        }
        Value::Object(out)
    }

    fn complete(&self, code: &str, cursor: usize) -> Value {
        let at = byte_offset(code, cursor);
        let (start, found) = self.completions.complete(code, at);
        let matches: Vec<&str> = found.iter().map(|c| c.display.as_str()).collect();
        json!({
            "status": "ok",
            "matches": matches,
            "cursor_start": code[..start].chars().count(),
            "cursor_end": code[..at].chars().count(),
            "metadata": {},
        })
    }

    /// Help on the word at the cursor: a function or module's page, the
    /// method of a variable's type, or a variable's type and value.
    fn inspect(&mut self, code: &str, cursor: usize) -> Value {
        let word = word_at(code, byte_offset(code, cursor)).to_string();
        let page = self.help_on(&word);
        match page {
            Some((plain, markdown)) => json!({
                "status": "ok",
                "found": true,
                "data": { "text/plain": plain, "text/markdown": markdown },
                "metadata": {},
            }),
            None => json!({ "status": "ok", "found": false, "data": {}, "metadata": {} }),
        }
    }

    fn help_on(&mut self, word: &str) -> Option<(String, String)> {
        if word.is_empty() {
            return None;
        }
        let page = |query: &str| docs::help(&self.docs, query).ok().map(|h| h.0);
        if let Some((receiver, method)) = word.rsplit_once('.') {
            let typed = self
                .completions
                .variable_type(receiver)
                .and_then(|t| page(&format!("{t}.{method}")));
            let text = typed.or_else(|| page(method))?;
            return Some((text.clone(), help_markdown(&text)));
        }
        if let Some(text) = page(word) {
            return Some((text.clone(), help_markdown(&text)));
        }
        let (_, type_name) = self
            .session
            .variables()
            .into_iter()
            .rev()
            .find(|(name, _)| name == word)?;
        let value = self.session.eval(word, "inspect").ok()?;
        let shown = self.session.display(&value).unwrap_or_default();
        let plain = format!("{word}: {type_name}\n{shown}");
        let markdown = format!("`{word}`: {type_name}\n\n```\n{shown}\n```");
        Some((plain, markdown))
    }

    fn is_complete(&self, code: &str) -> Value {
        if crate::input::is_incomplete(code) {
            return json!({ "status": "incomplete", "indent": "" });
        }
        match self.session.engine().compile(code) {
            Ok(_) => json!({ "status": "complete" }),
            Err(_) => json!({ "status": "invalid" }),
        }
    }

    fn history_reply(&self, c: &Value) -> Value {
        let with_output = c["output"].as_bool().unwrap_or(false);
        let n = c["n"].as_u64().map(|n| n as usize);
        let chosen: Vec<&HistoryEntry> = match c["hist_access_type"].as_str().unwrap_or("tail") {
            "range" => {
                let session = c["session"].as_i64().unwrap_or(0);
                let start = c["start"].as_u64().unwrap_or(0);
                let stop = c["stop"].as_u64().unwrap_or(u64::MAX);
                // 0 is the current session; negative numbers count back to earlier
                // sessions, which this kernel does not keep.
                if session == 0 || session == SESSION_NUMBER {
                    self.history
                        .iter()
                        .filter(|e| e.line >= start && e.line < stop)
                        .collect()
                } else {
                    Vec::new()
                }
            }
            "search" => {
                let pattern = c["pattern"].as_str().unwrap_or("*");
                let mut found: Vec<&HistoryEntry> = self
                    .history
                    .iter()
                    .filter(|e| glob(pattern, &e.input))
                    .collect();
                if c["unique"].as_bool().unwrap_or(false) {
                    let mut seen = HashSet::new();
                    found = found
                        .into_iter()
                        .rev()
                        .filter(|e| seen.insert(e.input.as_str()))
                        .collect();
                    found.reverse();
                }
                last(found, n)
            }
            _ => last(self.history.iter().collect(), Some(n.unwrap_or(10))),
        };
        let history: Vec<Value> = chosen
            .into_iter()
            .map(|e| {
                if with_output {
                    json!([SESSION_NUMBER, e.line, [e.input, e.output]])
                } else {
                    json!([SESSION_NUMBER, e.line, e.input])
                }
            })
            .collect();
        json!({ "status": "ok", "history": history })
    }
}

fn text<'a>(content: &'a Value, key: &str) -> &'a str {
    content[key].as_str().unwrap_or("")
}

fn cursor(content: &Value) -> usize {
    let code = text(content, "code");
    content["cursor_pos"]
        .as_u64()
        .map_or(code.chars().count(), |p| p as usize)
}

/// The byte offset of code point `cursor` (Jupyter counts code points).
fn byte_offset(code: &str, cursor: usize) -> usize {
    code.char_indices()
        .nth(cursor)
        .map_or(code.len(), |(i, _)| i)
}

fn last<T>(mut items: Vec<T>, n: Option<usize>) -> Vec<T> {
    if let Some(n) = n
        && items.len() > n
    {
        items.drain(..items.len() - n);
    }
    items
}

/// The `error` content of a failed cell: no colour codes, the rendered
/// message (file:line:col, the line and a caret) as the traceback.
pub fn error_content(error: &ScriptError) -> Value {
    let rendered = error.render();
    let ename = if error.is_interrupt() {
        "Interrupted"
    } else {
        "Error"
    };
    let evalue = rendered
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("error: ")
        .to_string();
    let traceback: Vec<&str> = rendered.lines().collect();
    json!({ "ename": ename, "evalue": evalue, "traceback": traceback })
}

/// IPython's history search pattern: `*` any run, `?` one character, over
/// the whole input.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_ipython_history_search() {
        assert!(glob("1?2*", "1+2+3"));
        assert!(!glob("1?2*", "[1, 2]"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b", "ac"));
    }

    #[test]
    fn cursor_positions_are_code_points() {
        assert_eq!(byte_offset("é1", 1), 2);
        assert_eq!(byte_offset("é1", 5), 3);
        assert_eq!(last(vec![1, 2, 3], Some(2)), vec![2, 3]);
        assert_eq!(last(vec![1], Some(2)), vec![1]);
    }
}
