//! Is a chunk of source finished, or is the user still typing? Used by the
//! REPL's multi-line input and by piped stdin: an open `(`, `[`, `{`, string,
//! back-tick string or block comment means "wait for more lines".

/// True when `source` ends inside an open bracket, string or comment.
pub fn is_incomplete(source: &str) -> bool {
    let mut depth: i64 = 0;
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut nesting = 1;
                let mut prev = ' ';
                loop {
                    let Some(c) = chars.next() else { return true };
                    match (prev, c) {
                        ('*', '/') => {
                            nesting -= 1;
                            prev = ' ';
                            if nesting == 0 {
                                break;
                            }
                            continue;
                        }
                        ('/', '*') => {
                            nesting += 1;
                            prev = ' ';
                            continue;
                        }
                        _ => {}
                    }
                    prev = c;
                }
            }
            '"' | '\'' | '`' => {
                let quote = c;
                let mut closed = false;
                while let Some(c) = chars.next() {
                    if c == '\\' && quote != '`' {
                        chars.next();
                    } else if c == quote {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return true;
                }
            }
            _ => {}
        }
    }
    depth > 0
}

#[cfg(test)]
mod tests {
    use super::is_incomplete;

    #[test]
    fn open_constructs_wait_for_more() {
        assert!(is_incomplete("fn f(a) {"));
        assert!(is_incomplete("let x = foo(1,"));
        assert!(is_incomplete("let s = \"abc"));
        assert!(is_incomplete("let s = `multi\nline"));
        assert!(is_incomplete("/* comment"));
        assert!(is_incomplete("let a = [1,\n 2"));
    }

    #[test]
    fn finished_input_is_complete() {
        assert!(!is_incomplete("fn f(a) { a + 2 }"));
        assert!(!is_incomplete("let s = \"{ not a brace\";"));
        assert!(!is_incomplete("let c = '(';"));
        assert!(!is_incomplete("// a comment with {\nlet x = 1;"));
        assert!(!is_incomplete("let s = \"esc \\\" quote\";"));
        assert!(!is_incomplete("}"));
        assert!(!is_incomplete("/* a /* nested */ comment */ 1"));
    }
}
