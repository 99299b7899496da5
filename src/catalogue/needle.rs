//! A word or substring searched for in the text of a file or object, compiled once: what the
//! prefilter tests before parsing and what a field migration's `mentions` tests on each
//! object. It lives with the catalogue, which compiles its rules' needles when it loads.

/// Whether `needle` is a word: letters and digits only, so that it is found only as a whole
/// word (`serviceAccount` in `serviceAccount:` or `"serviceAccount"`, not in
/// `serviceAccountName`). A key or value the catalogue looks for is a whole YAML scalar, so
/// its characters are never touched by a letter or digit in the source; the one way to spell
/// it otherwise is a double-quoted escape, which `Prefilter::may_need_work` catches apart.
pub fn is_word(needle: &str) -> bool {
    !needle.is_empty() && needle.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether `text` contains `needle` at `at`, as a whole word if `word`.
pub(crate) fn found_at(text: &[u8], at: usize, needle: &[u8], word: bool) -> bool {
    text[at..].starts_with(needle)
        && (!word
            || !(at > 0 && text[at - 1].is_ascii_alphanumeric()
                || text
                    .get(at + needle.len())
                    .is_some_and(u8::is_ascii_alphanumeric)))
}

/// A needle searched for in many texts, compiled once: what `prefilter::contains_needle` does
/// without building a searcher on every call (field migrations test each object's text
/// against every field's `mentions`).
#[derive(Debug, Clone)]
pub struct CompiledNeedle {
    finder: memchr::memmem::Finder<'static>,
    word: bool,
    /// Its pairs of adjacent bytes, as [`Pairs`] folds them.
    pairs: Vec<u16>,
}

impl CompiledNeedle {
    pub fn new(needle: &str) -> CompiledNeedle {
        let mut pairs: Vec<u16> = needle
            .as_bytes()
            .windows(2)
            .map(|w| pair_bit(w[0], w[1]))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        CompiledNeedle {
            finder: memchr::memmem::Finder::new(needle.as_bytes()).into_owned(),
            word: is_word(needle),
            pairs,
        }
    }

    pub fn found_in(&self, text: &[u8]) -> bool {
        let n = self.finder.needle();
        self.finder
            .find_iter(text)
            .any(|at| found_at(text, at, n, self.word))
    }
}

impl CompiledNeedle {
    /// [`CompiledNeedle::found_in`] for a text whose pairs are `pairs`: no search when the
    /// text lacks a pair of the needle.
    pub fn found_in_with(&self, text: &[u8], pairs: &Pairs) -> bool {
        self.pairs.iter().all(|&b| pairs.has(b)) && self.found_in(text)
    }
}

/// The pairs of adjacent bytes in a text, folded into 4,096 bits. A needle with a pair the
/// text lacks is not in it: an object's text is tested against some thirty needles (the
/// `mentions` of the field migrations for its kind), most of them absent, and this rules
/// most out without a search.
#[derive(Debug)]
pub struct Pairs([u64; 64]);

impl Pairs {
    pub fn of(text: &[u8]) -> Pairs {
        let mut bits = [0u64; 64];
        // The first byte is paired with a 0 before it too: one more bit only ever costs a
        // search, never skips one.
        let mut prev = 0u8;
        for &b in text {
            bits[usize::from(prev & 63)] |= 1 << (b & 63);
            prev = b;
        }
        Pairs(bits)
    }

    fn has(&self, b: u16) -> bool {
        self.0[usize::from(b >> 6)] & (1 << (b & 63)) != 0
    }
}

/// Which of the 4,096 bits of [`Pairs`] stands for the pair `a b`: the low six bits of each
/// byte (a cheap fold; the letters, digits and `./-` of needles stay mostly apart).
fn pair_bit(a: u8, b: u8) -> u16 {
    u16::from(a & 63) << 6 | u16::from(b & 63)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pairs only ever skip a search that would find nothing: every catalogue needle,
    /// and some that share pairs or are too short to have one, on every file of testdata.
    #[test]
    fn pairs_skip_only_searches_that_find_nothing() {
        let cat = crate::catalogue::Catalogue::embedded().unwrap();
        let mut needles: Vec<&str> = vec!["", "a", "io/cin", "serviceAccount", "ab"];
        needles.extend(
            cat.fields
                .iter()
                .flat_map(|f| &f.meta.mentions)
                .map(|m| m.as_str()),
        );
        let needles: Vec<CompiledNeedle> = needles.into_iter().map(CompiledNeedle::new).collect();
        let mut texts = vec![String::new(), "serviceAccountName\nab".to_string()];
        let mut dirs = vec![std::path::PathBuf::from("testdata")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    texts.push(text);
                }
            }
        }
        let (mut found, mut skipped) = (0, 0);
        for text in &texts {
            let pairs = Pairs::of(text.as_bytes());
            for n in &needles {
                let want = n.found_in(text.as_bytes());
                assert_eq!(n.found_in_with(text.as_bytes(), &pairs), want, "{text}");
                found += usize::from(want);
                skipped += usize::from(!n.pairs.iter().all(|&b| pairs.has(b)));
            }
        }
        // Both ways happen, and the pairs do rule out searches.
        assert!(
            found > texts.len() && skipped > texts.len(),
            "{found} {skipped}"
        );
    }
}
