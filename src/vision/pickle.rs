//! A small, safe unpickler: enough of Python's pickle protocols 2–4 to read
//! PyTorch checkpoints. It never imports or runs anything: `GLOBAL` yields a
//! name, `REDUCE` and `BUILD` yield inert descriptions that the checkpoint
//! reader interprets (tensor rebuilds, ordered dicts) and rejects otherwise.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// A Python value as the checkpoint reader needs it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    /// Key/value pairs in insertion order.
    Dict(Vec<(Value, Value)>),
    /// `module.name` from GLOBAL / STACK_GLOBAL.
    Global(String, String),
    /// `callable(*args)` from REDUCE / NEWOBJ.
    Call(Box<Value>, Vec<Value>),
    /// `obj.__setstate__(state)` from BUILD.
    Build(Box<Value>, Box<Value>),
    /// A persistent id from BINPERSID (storages in torch checkpoints).
    Persistent(Box<Value>),
    Mark,
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// The items of a tuple or list.
    pub fn items(&self) -> Option<&[Value]> {
        match self {
            Value::Tuple(v) | Value::List(v) => Some(v),
            _ => None,
        }
    }
}

/// Reads one pickle from `data` starting at `*pos`; advances `*pos` past STOP.
pub fn load(data: &[u8], pos: &mut usize) -> Result<Value> {
    let mut stack: Vec<Value> = Vec::new();
    let mut memo: HashMap<u64, Value> = HashMap::new();
    let bad = |at: usize, why: &str| Error::invalid(format!("pickle at byte {at}: {why}"));
    let take = |pos: &mut usize, n: usize| -> Result<&[u8]> {
        let end = pos
            .checked_add(n)
            .filter(|&e| e <= data.len())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "pickle at byte {}: the file ends early (truncated?)",
                    *pos
                ))
            })?;
        let out = &data[*pos..end];
        *pos = end;
        Ok(out)
    };
    let le = |b: &[u8]| {
        b.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
    };
    let pop_mark = |stack: &mut Vec<Value>, at: usize| -> Result<Vec<Value>> {
        let mark = stack
            .iter()
            .rposition(|v| *v == Value::Mark)
            .ok_or_else(|| bad(at, "MARK expected"))?;
        let items = stack.split_off(mark + 1);
        stack.pop();
        Ok(items)
    };
    loop {
        let at = *pos;
        let op = take(pos, 1)?[0];
        let pop = |stack: &mut Vec<Value>| stack.pop().ok_or_else(|| bad(at, "stack underflow"));
        match op {
            0x80 => {
                take(pos, 1)?; // PROTO n
            }
            0x95 => {
                take(pos, 8)?; // FRAME length
            }
            b'.' => return pop(&mut stack), // STOP
            b'(' => stack.push(Value::Mark),
            b'N' => stack.push(Value::None),
            0x88 => stack.push(Value::Bool(true)),
            0x89 => stack.push(Value::Bool(false)),
            b'J' => stack.push(Value::Int(i64::from(i32::from_le_bytes(
                take(pos, 4)?.try_into().unwrap(),
            )))),
            b'K' => stack.push(Value::Int(i64::from(take(pos, 1)?[0]))),
            b'M' => stack.push(Value::Int(le(take(pos, 2)?) as i64)),
            0x8a => {
                // LONG1: n bytes little-endian two's complement
                let n = usize::from(take(pos, 1)?[0]);
                let bytes = take(pos, n)?;
                if n > 8 {
                    // Wider integers (torch's magic number) stay as their bytes.
                    stack.push(Value::Bytes(bytes.to_vec()));
                    continue;
                }
                let mut v = le(bytes) as i64;
                if n > 0 && n < 8 && bytes[n - 1] & 0x80 != 0 {
                    v -= 1i64 << (8 * n);
                }
                stack.push(Value::Int(v));
            }
            b'G' => stack.push(Value::Float(f64::from_be_bytes(
                take(pos, 8)?.try_into().unwrap(),
            ))),
            b'X' | 0x8c | 0x8d => {
                let n = match op {
                    b'X' => le(take(pos, 4)?),
                    0x8c => le(take(pos, 1)?),
                    _ => le(take(pos, 8)?),
                } as usize;
                let text = std::str::from_utf8(take(pos, n)?)
                    .map_err(|_| bad(at, "string is not UTF-8"))?;
                stack.push(Value::Str(text.to_string()));
            }
            b'C' | b'B' | 0x8e => {
                let n = match op {
                    b'C' => le(take(pos, 1)?),
                    b'B' => le(take(pos, 4)?),
                    _ => le(take(pos, 8)?),
                } as usize;
                stack.push(Value::Bytes(take(pos, n)?.to_vec()));
            }
            b'c' => {
                // GLOBAL "module\nname\n"
                let line = |pos: &mut usize| -> Result<String> {
                    let start = *pos;
                    let end = data[start..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .ok_or_else(|| {
                            bad(
                                at,
                                "GLOBAL name without a newline: the file ends early (truncated?)",
                            )
                        })?;
                    *pos = start + end + 1;
                    Ok(String::from_utf8_lossy(&data[start..start + end]).into_owned())
                };
                let module = line(pos)?;
                let name = line(pos)?;
                stack.push(Value::Global(module, name));
            }
            0x93 => {
                // STACK_GLOBAL
                let name = pop(&mut stack)?;
                let module = pop(&mut stack)?;
                match (module, name) {
                    (Value::Str(m), Value::Str(n)) => stack.push(Value::Global(m, n)),
                    _ => return Err(bad(at, "STACK_GLOBAL needs two strings")),
                }
            }
            b'}' => stack.push(Value::Dict(Vec::new())),
            b']' => stack.push(Value::List(Vec::new())),
            b')' => stack.push(Value::Tuple(Vec::new())),
            b't' => {
                let items = pop_mark(&mut stack, at)?;
                stack.push(Value::Tuple(items));
            }
            b'l' => {
                let items = pop_mark(&mut stack, at)?;
                stack.push(Value::List(items));
            }
            b'd' => {
                let items = pop_mark(&mut stack, at)?;
                stack.push(Value::Dict(
                    items
                        .chunks(2)
                        .filter(|c| c.len() == 2)
                        .map(|c| (c[0].clone(), c[1].clone()))
                        .collect(),
                ));
            }
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                if stack.len() < n {
                    return Err(bad(at, "stack underflow"));
                }
                let items = stack.split_off(stack.len() - n);
                stack.push(Value::Tuple(items));
            }
            b'a' => {
                let item = pop(&mut stack)?;
                match stack.last_mut() {
                    Some(Value::List(l)) => l.push(item),
                    _ => return Err(bad(at, "APPEND to a non-list")),
                }
            }
            b'e' => {
                let items = pop_mark(&mut stack, at)?;
                match stack.last_mut() {
                    Some(Value::List(l)) => l.extend(items),
                    _ => return Err(bad(at, "APPENDS to a non-list")),
                }
            }
            b's' => {
                let value = pop(&mut stack)?;
                let key = pop(&mut stack)?;
                dict_insert(stack.last_mut(), key, value).map_err(|why| bad(at, why))?;
            }
            b'u' => {
                let items = pop_mark(&mut stack, at)?;
                for pair in items.chunks(2) {
                    if let [k, v] = pair {
                        dict_insert(stack.last_mut(), k.clone(), v.clone())
                            .map_err(|why| bad(at, why))?;
                    }
                }
            }
            b'R' | 0x81 => {
                // REDUCE / NEWOBJ
                let args = pop(&mut stack)?;
                let callable = pop(&mut stack)?;
                let args = match args {
                    Value::Tuple(a) => a,
                    other => vec![other],
                };
                stack.push(Value::Call(Box::new(callable), args));
            }
            b'b' => {
                let state = pop(&mut stack)?;
                let obj = pop(&mut stack)?;
                stack.push(Value::Build(Box::new(obj), Box::new(state)));
            }
            b'Q' => {
                let pid = pop(&mut stack)?;
                stack.push(Value::Persistent(Box::new(pid)));
            }
            b'q' => {
                let key = le(take(pos, 1)?);
                memo.insert(
                    key,
                    stack
                        .last()
                        .cloned()
                        .ok_or_else(|| bad(at, "BINPUT on an empty stack"))?,
                );
            }
            b'r' => {
                let key = le(take(pos, 4)?);
                memo.insert(
                    key,
                    stack
                        .last()
                        .cloned()
                        .ok_or_else(|| bad(at, "LONG_BINPUT on an empty stack"))?,
                );
            }
            0x94 => {
                let key = memo.len() as u64;
                memo.insert(
                    key,
                    stack
                        .last()
                        .cloned()
                        .ok_or_else(|| bad(at, "MEMOIZE on an empty stack"))?,
                );
            }
            b'h' | b'j' => {
                let key = if op == b'h' {
                    le(take(pos, 1)?)
                } else {
                    le(take(pos, 4)?)
                };
                stack.push(
                    memo.get(&key)
                        .cloned()
                        .ok_or_else(|| bad(at, "memo key not found"))?,
                );
            }
            b'0' => {
                pop(&mut stack)?;
            }
            other => return Err(bad(at, &format!("unsupported opcode 0x{other:02x}"))),
        }
    }
}

fn dict_insert(
    target: Option<&mut Value>,
    key: Value,
    value: Value,
) -> std::result::Result<(), &'static str> {
    match target {
        Some(Value::Dict(d)) => {
            d.push((key, value));
            Ok(())
        }
        // An OrderedDict is built as `OrderedDict()` then filled by SETITEMS.
        Some(Value::Call(_, args)) => {
            if let Some(Value::Dict(d)) = args.last_mut() {
                d.push((key, value));
            } else {
                args.push(Value::Dict(vec![(key, value)]));
            }
            Ok(())
        }
        _ => Err("SETITEM on a non-dict"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // pickle.dumps({'a': [1, -2, 3.5], 'b': (True, None, 'x' * 3), 'c': 2**40}, protocol=2)
    #[test]
    fn reads_python_pickles() {
        let bytes: &[u8] = b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01]q\x02(K\x01J\xfe\xff\xff\xffG@\x0c\x00\x00\x00\x00\x00\x00eX\x01\x00\x00\x00bq\x03\x88NX\x03\x00\x00\x00xxxq\x04\x87q\x05X\x01\x00\x00\x00cq\x06\x8a\x06\x00\x00\x00\x00\x00\x01u.";
        let mut pos = 0;
        let v = load(bytes, &mut pos).unwrap();
        assert_eq!(pos, bytes.len());
        let Value::Dict(items) = v else {
            panic!("dict expected")
        };
        assert_eq!(
            items[0].1,
            Value::List(vec![Value::Int(1), Value::Int(-2), Value::Float(3.5)])
        );
        assert_eq!(
            items[1].1,
            Value::Tuple(vec![
                Value::Bool(true),
                Value::None,
                Value::Str("xxx".into())
            ])
        );
        assert_eq!(items[2].1, Value::Int(1 << 40));
        let mut pos = 0;
        assert!(
            load(&bytes[..20], &mut pos)
                .unwrap_err()
                .to_string()
                .contains("ends early")
        );
    }
}
