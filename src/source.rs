//! A file's text and the facts about it that edits must respect: byte-order mark, line
//! endings, and a line index for turning byte offsets into `line:col` only when printing.

use std::cell::{Cell, OnceCell};

use thiserror::Error;

/// Why a file's bytes could not be taken as YAML text.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error("file contains a NUL byte at offset {0}; it looks binary, not YAML")]
    Nul(usize),
    #[error("file is not valid UTF-8 (invalid byte at offset {0}); re-encode it as UTF-8")]
    NotUtf8(usize),
    #[error("file is UTF-16 or UTF-32 encoded; kubemig reads UTF-8 only, re-encode it as UTF-8")]
    WideEncoding,
}

/// The decoded text of one input, with the BOM kept in place so that every byte offset
/// the parser reports is an offset into the original file.
#[derive(Debug, Clone)]
pub struct Source {
    pub text: String,
    /// Lines before each [`BLOCK`] of the text, and in all (the end's block when the text
    /// fills its last block), built once a file is asked for more than
    /// [`COUNTED`] positions: most files are asked for none or a few, each counted on the
    /// spot for less than a table costs. A table per block, not per line, so that a large
    /// stream's table is a thousandth of its size, not a quarter (8 bytes per ~30-byte line).
    line_blocks: OnceCell<Vec<usize>>,
    /// Positions asked for so far.
    asked: Cell<usize>,
}

/// How many positions of a file are found by counting line breaks before the line table is
/// built: counting is a fraction of an instruction per byte, the table tens per line.
const COUNTED: usize = 8;

/// The bytes per entry of the line table: a position is found by counting at most this many.
const BLOCK: usize = 1024;

impl Source {
    pub fn decode(bytes: Vec<u8>) -> Result<Source, DecodeError> {
        if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
            return Err(DecodeError::WideEncoding);
        }
        if let Some(pos) = memchr::memchr(0, &bytes) {
            return Err(DecodeError::Nul(pos));
        }
        let text = String::from_utf8(bytes)
            .map_err(|e| DecodeError::NotUtf8(e.utf8_error().valid_up_to()))?;
        Ok(Source::new(text))
    }

    pub fn new(text: String) -> Source {
        Source {
            text,
            line_blocks: OnceCell::new(),
            asked: Cell::new(0),
        }
    }

    fn line_blocks(&self) -> &[usize] {
        self.line_blocks.get_or_init(|| {
            let mut lines = 0;
            let mut table: Vec<usize> = self
                .text
                .as_bytes()
                .chunks(BLOCK)
                .map(|block| {
                    let before = lines;
                    lines += count_newlines(block);
                    before
                })
                .collect();
            table.push(lines);
            table
        })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        self.asked.set(self.asked.get() + 1);
        let bytes = self.text.as_bytes();
        let line = if self.asked.get() <= COUNTED && self.line_blocks.get().is_none() {
            count_newlines(&bytes[..offset])
        } else {
            let block = offset / BLOCK;
            // `offset` is at most the text's length, so its block is in the table.
            self.line_blocks()[block] + count_newlines(&bytes[block * BLOCK..offset])
        };
        let start = line_start(&self.text, offset);
        let mut col = self.text[start..floor_char(&self.text, offset)]
            .chars()
            .count()
            + 1;
        // The BOM is invisible to editors; do not count it as a column.
        if line == 0 && self.text.starts_with('\u{feff}') && offset > 0 {
            col -= 1;
        }
        (line + 1, col)
    }
}

/// How many `\n` bytes `bytes` holds, counted in runs short enough for a byte counter (a
/// loop the compiler turns into vector compares).
fn count_newlines(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|run| {
            run.iter()
                .fold(0u8, |n, &b| n.wrapping_add(u8::from(b == b'\n'))) as usize
        })
        .sum()
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The line break to use for text inserted at `offset`: the one ending that line, or the
/// file's first line break when the line has none (last line without a newline).
pub fn newline_at(text: &str, offset: usize) -> &'static str {
    let rest = &text.as_bytes()[offset.min(text.len())..];
    let found = memchr::memchr(b'\n', rest)
        .map(|i| offset + i)
        .or_else(|| memchr::memchr(b'\n', text.as_bytes()));
    match found {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// 1-based line of a byte offset, counted on the spot: for the odd message about a text
/// that has no [`Source`] (a Helm template's lines, once per finding).
pub fn line_of(text: &str, offset: usize) -> usize {
    memchr::memchr_iter(b'\n', &text.as_bytes()[..offset.min(text.len())]).count() + 1
}

/// Byte offset of the start of the line containing `offset`.
pub fn line_start(text: &str, offset: usize) -> usize {
    memchr::memrchr(b'\n', &text.as_bytes()[..offset]).map_or(0, |i| i + 1)
}

/// Byte offset of the end of the line containing `offset`, before any `\r\n` or `\n`.
pub fn line_end(text: &str, offset: usize) -> usize {
    let bytes = text.as_bytes();
    let nl = memchr::memchr(b'\n', &bytes[offset..]).map_or(bytes.len(), |i| offset + i);
    if nl > offset && nl > 0 && bytes[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    }
}

/// Offset just past the line break ending the line that contains `offset` (or EOF).
pub fn next_line_start(text: &str, offset: usize) -> usize {
    memchr::memchr(b'\n', &text.as_bytes()[offset..]).map_or(text.len(), |i| offset + i + 1)
}

/// Visual column (in characters) of `offset` within its line, counting `- ` and any other
/// prefix as spaces: this is the indentation a sibling inserted on a new line must use.
pub fn column(text: &str, offset: usize) -> usize {
    let start = line_start(text, offset);
    let prefix = &text[start..offset];
    // Counting the bytes that start a character is `chars().count()`, whose setup is made
    // for long texts; an indentation is a few bytes (the emitter asks for the column of
    // every block node of a changed document).
    let col = if prefix.len() < 32 {
        prefix.bytes().filter(|&b| (b as i8) >= -0x40).count()
    } else {
        prefix.chars().count()
    };
    if start == 0 && text.starts_with('\u{feff}') {
        col.saturating_sub(1)
    } else {
        col
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars_not_bytes() {
        let s = Source::new("a: é\nbb: ü x\n".to_string());
        assert_eq!(s.line_col(0), (1, 1));
        let x = s.text.find('x').unwrap();
        assert_eq!(s.line_col(x), (2, 7));
    }

    #[test]
    fn counted_positions_are_the_table_s() {
        // Several blocks of the table, with blocks that end inside a line and in a `\r\n`.
        let text = "\u{feff}a: 1\r\n\nb: é\n  - x\n\n".repeat(5 * BLOCK / 20) + "end";
        let table = Source::new(text.clone());
        // Past COUNTED positions: the table.
        for _ in 0..=COUNTED {
            table.line_col(0);
        }
        assert!(table.line_blocks.get().is_some());
        for offset in (0..=text.len() + 2).filter(|&i| i > text.len() || text.is_char_boundary(i)) {
            // A fresh source counts.
            let counted = Source::new(text.clone());
            assert_eq!(counted.line_col(offset), table.line_col(offset), "{offset}");
            assert!(counted.line_blocks.get().is_none());
        }
    }

    /// A text that fills its last block: its end is a position too.
    #[test]
    fn the_end_of_a_text_of_whole_blocks_is_on_its_last_line() {
        let text = "a: 1\n".repeat(2 * BLOCK / 5) + &"x".repeat(2 * BLOCK % 5);
        assert_eq!(text.len(), 2 * BLOCK);
        let table = Source::new(text.clone());
        for _ in 0..=COUNTED {
            table.line_col(0);
        }
        let counted = Source::new(text.clone());
        assert_eq!(table.line_col(text.len()), counted.line_col(text.len()));
        assert_eq!(table.line_col(text.len()).0, 2 * BLOCK / 5 + 1);
    }

    #[test]
    fn bom_is_not_a_column() {
        let s = Source::new("\u{feff}apiVersion: v1\n".to_string());
        assert_eq!(s.line_col(3), (1, 1));
        assert_eq!(column(&s.text, 3), 0);
    }

    #[test]
    fn decode_rejects_binary_and_wide() {
        assert!(matches!(
            Source::decode(vec![b'a', 0, b'b']),
            Err(DecodeError::Nul(1))
        ));
        assert!(matches!(
            Source::decode(vec![0xFF, 0xFE, b'a', 0]),
            Err(DecodeError::WideEncoding)
        ));
        assert!(matches!(
            Source::decode(vec![b'a', 0xC3]),
            Err(DecodeError::NotUtf8(1))
        ));
    }

    #[test]
    fn crlf_line_end_stops_before_cr() {
        let t = "a: 1\r\nb: 2\r\n";
        assert_eq!(line_end(t, 0), 4);
        assert_eq!(newline_at(t, 0), "\r\n");
        assert_eq!(next_line_start(t, 0), 6);
    }
}
