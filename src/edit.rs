//! Byte edits and the one splice pass that applies them. Every byte outside an edit is
//! copied through unchanged, so format preservation holds by construction.

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("edits overlap at bytes {0:?} and {1:?}")]
    Overlap(Range<usize>, Range<usize>),
    #[error("edit {0:?} is outside the text or not on a character boundary")]
    OutOfBounds(Range<usize>),
}

impl Edit {
    pub fn replace(range: Range<usize>, text: impl Into<String>) -> Edit {
        Edit {
            range,
            text: text.into(),
        }
    }

    pub fn insert(at: usize, text: impl Into<String>) -> Edit {
        Edit {
            range: at..at,
            text: text.into(),
        }
    }
}

/// Apply `edits` to `src` in one pass. Insertions at the same offset keep their order.
pub fn apply(src: &str, edits: &[Edit]) -> Result<String, EditError> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    for e in &sorted {
        let Range { start, end } = e.range;
        if start > end
            || end > src.len()
            || !src.is_char_boundary(start)
            || !src.is_char_boundary(end)
        {
            return Err(EditError::OutOfBounds(e.range.clone()));
        }
    }
    for pair in sorted.windows(2) {
        let (a, b) = (&pair[0].range, &pair[1].range);
        // Two edits touch the same byte, or an insertion lands inside a replacement.
        if a.end > b.start || (a.start == b.start && !a.is_empty() && b.start < b.end) {
            return Err(EditError::Overlap(a.clone(), b.clone()));
        }
    }
    let growth: usize = sorted.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity(src.len() + growth);
    let mut pos = 0;
    for e in sorted {
        out.push_str(&src[pos..e.range.start]);
        out.push_str(&e.text);
        pos = e.range.end;
    }
    out.push_str(&src[pos..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_in_order_and_keeps_insert_order() {
        let src = "a: 1\nb: 2\n";
        let out = apply(
            src,
            &[
                Edit::replace(3..4, "10"),
                Edit::insert(4, "\nx: 1"),
                Edit::insert(4, "\ny: 2"),
                Edit::replace(8..9, "3"),
            ],
        )
        .unwrap();
        assert_eq!(out, "a: 10\nx: 1\ny: 2\nb: 3\n");
    }

    #[test]
    fn rejects_overlap_and_bad_boundaries() {
        assert!(matches!(
            apply(
                "abcdef",
                &[Edit::replace(0..3, "x"), Edit::replace(2..4, "y")]
            ),
            Err(EditError::Overlap(..))
        ));
        assert!(matches!(
            apply("abcdef", &[Edit::replace(0..3, "x"), Edit::insert(1, "y")]),
            Err(EditError::Overlap(..))
        ));
        assert!(matches!(
            apply("é", &[Edit::insert(1, "x")]),
            Err(EditError::OutOfBounds(..))
        ));
        assert_eq!(
            apply("abc", &[Edit::replace(0..1, "x"), Edit::insert(1, "y")]).unwrap(),
            "xybc"
        );
    }
}
