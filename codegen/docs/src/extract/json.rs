//! The JSON examples of the pages, read leniently: comments and trailing
//! commas, which the pages' examples often have, are dropped first.

use serde_json::Value;

/// Parses an example, also when it carries `//` comments or trailing commas, as some pages' do.
pub fn parse_json(code: &str) -> Option<Value> {
    if let Ok(value) = serde_json::from_str(code.trim()) {
        return Some(value);
    }
    serde_json::from_str(&strip_comments_and_trailing_commas(code)).ok()
}

fn strip_comments_and_trailing_commas(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                // `"^\d{9}$"`: an escape JSON does not know is a literal backslash.
                '\\' if !matches!(
                    chars.peek(),
                    Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't' | 'u')
                ) =>
                {
                    out.push('\\')
                }
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            out.push(c);
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '/' if chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '}' | ']' => {
                let trimmed_len = out.trim_end().len();
                if out[..trimmed_len].ends_with(',') {
                    out.truncate(trimmed_len - 1);
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}
