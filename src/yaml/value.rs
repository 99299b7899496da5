//! The meaning of a document, independent of its formatting: what self-verification
//! compares. Plain scalars are resolved to a type so that `80` and `"80"` differ while
//! `80` and `0x50`… also differ (we compare spelling within a type: a migration copies
//! tokens verbatim, so a changed spelling is a bug we want to see).

use super::events::Style;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    Null,
    Bool(bool),
    Int(String),
    Float(String),
    Str(String),
    /// A scalar with an explicit non-core tag, e.g. `!Ref x`.
    Tagged(String, String),
    Seq(Vec<Value>),
    /// Entries sorted by key, one per key (built by [`Value::map`]). A sorted vector, not a
    /// `BTreeMap`: same order and comparison, but a small mapping takes what its entries
    /// take instead of a whole B-tree node (a tenth of the memory on big documents).
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// A mapping from entries in document order; of equal keys the last one counts.
    pub fn map(mut entries: Vec<(Value, Value)>) -> Value {
        // Stable: equal keys stay in document order, and the last of each run is kept.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(Value, Value)> = Vec::with_capacity(entries.len());
        for e in entries {
            match out.last_mut() {
                Some(last) if last.0 == e.0 => *last = e,
                _ => out.push(e),
            }
        }
        Value::Map(out)
    }
}

/// How a plain scalar is read. This is the union of YAML 1.2's core schema and the YAML 1.1
/// words (`yes`, `off`, …) that Kubernetes' go-yaml still reads as booleans, so a string that
/// either reader would take as non-string is never written unquoted.
pub fn resolve_plain(v: &str) -> Value {
    match plain_kind(v) {
        PlainKind::Null => Value::Null,
        PlainKind::Bool(b) => Value::Bool(b),
        PlainKind::Int => Value::Int(v.to_string()),
        PlainKind::Float => Value::Float(v.to_string()),
        PlainKind::Str => Value::Str(v.to_string()),
    }
}

/// Whether the plain scalar `v` reads as a string (`resolve_plain` gives `Value::Str`),
/// worked out without building the value: the planner asks it of every string it writes.
pub fn plain_is_str(v: &str) -> bool {
    matches!(plain_kind(v), PlainKind::Str)
}

/// What a plain scalar resolves to, without its text.
enum PlainKind {
    Null,
    Bool(bool),
    Int,
    Float,
    Str,
}

fn plain_kind(v: &str) -> PlainKind {
    match v {
        "" | "~" | "null" | "Null" | "NULL" => PlainKind::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
            PlainKind::Bool(true)
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => {
            PlainKind::Bool(false)
        }
        _ if is_int(v) => PlainKind::Int,
        _ if is_float(v) => PlainKind::Float,
        _ => PlainKind::Str,
    }
}

/// Resolve a scalar given its style and tag.
pub fn resolve_scalar(value: &str, style: Style, tag: Option<&str>) -> Value {
    match tag {
        Some("!!str") => Value::Str(value.to_string()),
        Some("!!int") => Value::Int(value.to_string()),
        Some("!!float") => Value::Float(value.to_string()),
        Some("!!bool") | Some("!!null") | Some("!") | None => match style {
            Style::Plain if tag != Some("!") => resolve_plain(value),
            _ => Value::Str(value.to_string()),
        },
        Some(other) => Value::Tagged(other.to_string(), value.to_string()),
    }
}

fn is_int(v: &str) -> bool {
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if let Some(hex) = digits.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if let Some(oct) = digits.strip_prefix("0o") {
        return !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b));
    }
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && digits.as_bytes()[0].is_ascii_digit()
}

fn is_float(v: &str) -> bool {
    let body = v.strip_prefix(['-', '+']).unwrap_or(v);
    if matches!(body, ".inf" | ".Inf" | ".INF") || matches!(v, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let mut seen_digit = false;
    let mut seen_dot = false;
    let mut seen_exp = false;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'0'..=b'9' | b'_' => seen_digit = true,
            b'.' if !seen_dot && !seen_exp => seen_dot = true,
            b'e' | b'E' if seen_digit && !seen_exp => {
                seen_exp = true;
                if matches!(bytes.get(i + 1), Some(b'+' | b'-')) {
                    i += 1;
                }
                if i + 1 >= bytes.len() {
                    return false;
                }
            }
            _ => return false,
        }
        i += 1;
    }
    seen_digit && (seen_dot || seen_exp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_resolution() {
        assert_eq!(resolve_plain("80"), Value::Int("80".into()));
        assert_eq!(resolve_plain("1.5"), Value::Float("1.5".into()));
        assert_eq!(resolve_plain("1e3"), Value::Float("1e3".into()));
        assert_eq!(resolve_plain("yes"), Value::Bool(true));
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain("512Mi"), Value::Str("512Mi".into()));
        assert_eq!(
            resolve_plain("autoscaling/v2"),
            Value::Str("autoscaling/v2".into())
        );
        assert_eq!(resolve_plain("."), Value::Str(".".into()));
        assert_eq!(resolve_plain("-"), Value::Str("-".into()));
    }

    #[test]
    fn maps_are_sorted_and_the_last_of_equal_keys_counts() {
        let s = |v: &str| Value::Str(v.into());
        let m = Value::map(vec![(s("b"), s("1")), (s("a"), s("2")), (s("b"), s("3"))]);
        assert_eq!(m, Value::Map(vec![(s("a"), s("2")), (s("b"), s("3"))]));
        // Order of the document does not matter.
        assert_eq!(m, Value::map(vec![(s("b"), s("3")), (s("a"), s("2"))]));
    }

    #[test]
    fn quoted_is_always_string() {
        assert_eq!(
            resolve_scalar("80", Style::Double, None),
            Value::Str("80".into())
        );
        assert_eq!(
            resolve_scalar("80", Style::Plain, Some("!!str")),
            Value::Str("80".into())
        );
    }
}
