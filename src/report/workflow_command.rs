//! One GitHub Actions workflow command (`::error file=…,line=…::message`), escaped as the
//! Actions toolkit escapes it. Shared by `--format github` and `--scan-scripts`.

use std::io::{self, Write};

/// Escape a command's message (`%`, CR, LF), as the Actions toolkit does.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value: also `:` and `,`, which separate properties.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command, escaped: also what `--scan-scripts --format github` prints.
pub fn annotation(
    w: &mut dyn Write,
    command: &str,
    path: &str,
    position: Option<(usize, usize)>,
    title: &str,
    message: &str,
) -> io::Result<()> {
    let mut props = Vec::new();
    if path != "<stdin>" {
        props.push(format!("file={}", property(path)));
        if let Some((line, col)) = position {
            props.push(format!("line={line}"));
            props.push(format!("col={col}"));
        }
    }
    props.push(format!("title={}", property(title)));
    writeln!(w, "::{command} {}::{}", props.join(","), data(message))
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_like_the_actions_toolkit() {
        assert_eq!(super::data("50% a\nb\r"), "50%25 a%0Ab%0D");
        assert_eq!(super::property("a:b,c"), "a%3Ab%2Cc");
    }
}
