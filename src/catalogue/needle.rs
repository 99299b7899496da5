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
}

impl CompiledNeedle {
    pub fn new(needle: &str) -> CompiledNeedle {
        CompiledNeedle {
            finder: memchr::memmem::Finder::new(needle.as_bytes()).into_owned(),
            word: is_word(needle),
        }
    }

    pub fn found_in(&self, text: &[u8]) -> bool {
        let n = self.finder.needle();
        self.finder
            .find_iter(text)
            .any(|at| found_at(text, at, n, self.word))
    }
}
