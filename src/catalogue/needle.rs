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
    /// Found in a scalar's value only where it is found in the scalar as written too: no
    /// white space (folded or indented lines), quote or backslash (escapes) in it.
    verbatim: bool,
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
            verbatim: !needle
                .bytes()
                .any(|b| b.is_ascii_whitespace() || matches!(b, b'\'' | b'"' | b'\\')),
        }
    }

    /// Whether the needle is found in a key or value only where it is found in the source
    /// text that wrote it (given no backslash in that text): see `prefilter::ObjectText`.
    pub fn is_verbatim(&self) -> bool {
        self.verbatim
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
        self.may_be_in(pairs) && self.found_in(text)
    }

    /// Whether a text (or texts) whose pairs are `pairs` can hold the needle at all.
    pub fn may_be_in(&self, pairs: &Pairs) -> bool {
        self.pairs.iter().all(|&b| pairs.has(b))
    }
}

/// The pairs of adjacent bytes in a text, folded into 4,096 of 16,384 slots. A needle with a
/// pair the text lacks is not in it: an object's text is tested against some thirty needles
/// (the `mentions` of the field migrations for its kind), most of them absent, and this rules
/// most out without a search.
///
/// One byte a slot, not one bit: marking a pair is then a two-byte load, a mask and a store
/// (about 3 instructions a byte of text, where setting a bit took 8). A slot holds the stamp
/// of the text that marked it, so a table is reused without zeroing its 16 KiB (zeroing, or a
/// fresh zeroed allocation, cost more than marking a typical object's pairs).
#[derive(Debug)]
pub struct Pairs {
    /// Always there but while the table goes back to [`SPARE`] on drop.
    slots: Option<Box<[u8; SLOTS]>>,
    /// What this text's pairs hold in `slots`; other values are older texts'.
    stamp: u8,
}

/// Slots of [`Pairs`]: a pair's index is its two bytes read little-endian, masked by
/// [`PAIR_MASK`].
const SLOTS: usize = PAIR_MASK as usize + 1;
const PAIR_MASK: u16 = 0x3f3f;

/// Tables kept for reuse, a thread.
const MAX_SPARE: usize = 4;

thread_local! {
    /// Tables of dropped [`Pairs`], with the last stamp each was given.
    static SPARE: std::cell::RefCell<Vec<(Box<[u8; SLOTS]>, u8)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl Pairs {
    pub fn of(text: &[u8]) -> Pairs {
        let (mut slots, stamp) = match SPARE.with(|s| s.borrow_mut().pop()) {
            Some((slots, last)) if last < u8::MAX => (slots, last + 1),
            Some((mut slots, _)) => {
                // Every stamp used: start again from a clean table.
                slots.fill(0);
                (slots, 1)
            }
            None => {
                let fresh: Box<[u8; SLOTS]> = vec![0u8; SLOTS]
                    .into_boxed_slice()
                    .try_into()
                    .expect("a table of SLOTS bytes");
                (fresh, 1)
            }
        };
        mark(&mut slots, stamp, text);
        Pairs {
            slots: Some(slots),
            stamp,
        }
    }

    /// Marks the pairs of `text` too: the table then holds the pairs of both texts (a
    /// superset of either's, which only ever costs a search).
    pub fn add(&mut self, text: &[u8]) {
        let stamp = self.stamp;
        if let Some(slots) = self.slots.as_mut() {
            mark(slots, stamp, text);
        }
    }

    fn has(&self, b: u16) -> bool {
        // Without a table (never, while it is in use) nothing is ruled out.
        self.slots
            .as_ref()
            .is_none_or(|s| s[usize::from(b)] == self.stamp)
    }
}

/// Marks every pair of `text` in `slots` with `stamp`.
fn mark(slots: &mut [u8; SLOTS], stamp: u8, text: &[u8]) {
    // The first byte is paired with a 0 before it too: one more pair only ever costs a
    // search, never skips one.
    if let Some(&first) = text.first() {
        slots[usize::from(pair_bit(0, first))] = stamp;
    }
    // Eight pairs a step from nine bytes, so that each pair is a load, a mask and a store.
    let mut rest = text;
    while let Some((nine, _)) = rest.split_first_chunk::<9>() {
        for k in 0..8 {
            slots[usize::from(pair_bit(nine[k], nine[k + 1]))] = stamp;
        }
        rest = &rest[8..];
    }
    for w in rest.windows(2) {
        slots[usize::from(pair_bit(w[0], w[1]))] = stamp;
    }
}

impl Drop for Pairs {
    fn drop(&mut self) {
        if let Some(slots) = self.slots.take() {
            let stamp = self.stamp;
            // A few tables a thread are enough (one object's at a time in the planner); during
            // a thread's teardown the table is just freed.
            let _ = SPARE.try_with(|s| {
                let mut spare = s.borrow_mut();
                if spare.len() < MAX_SPARE {
                    spare.push((slots, stamp));
                }
            });
        }
    }
}

/// Which slot of [`Pairs`] stands for the pair `a b`: the low six bits of each byte (a cheap
/// fold; the letters, digits and `./-` of needles stay mostly apart), as one little-endian
/// `u16` so that a two-byte load and a mask make it.
fn pair_bit(a: u8, b: u8) -> u16 {
    u16::from_le_bytes([a, b]) & PAIR_MASK
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
        texts.extend(crate::testdata_texts());
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

    /// The pairs a text has, the plain way: every slot a pair of it (and the 0 before its first
    /// byte) folds to.
    fn reference(text: &[u8]) -> std::collections::HashSet<u16> {
        let mut out: std::collections::HashSet<u16> =
            text.windows(2).map(|w| pair_bit(w[0], w[1])).collect();
        out.extend(text.first().map(|&b| pair_bit(0, b)));
        out
    }

    /// A reused table (stamped, never zeroed but when its stamps run out) holds exactly the
    /// pairs of its text: over more texts than there are stamps, with tables alive at once,
    /// texts of every length around the eight-byte step, and every slot checked.
    #[test]
    fn reused_tables_hold_exactly_their_texts_pairs() {
        let mut texts: Vec<Vec<u8>> = (0..20)
            .map(|n| (0..n).map(|i| b"abcXYZ09./-\n:"[i * 7 % 14]).collect())
            .collect();
        texts.extend(crate::testdata_files().into_iter().map(|(_, bytes)| bytes));
        assert!(texts.len() > 100, "testdata read");
        let mut held: Vec<(Pairs, std::collections::HashSet<u16>)> = Vec::new();
        for round in 0..600 {
            let text = &texts[round % texts.len()];
            let pairs = Pairs::of(text);
            let want = reference(text);
            for b in 0..SLOTS as u16 {
                assert_eq!(pairs.has(b), want.contains(&b), "round {round} slot {b:#x}");
            }
            // Now and then keep one alive across the next texts, and check it again later.
            if round % 5 == 0 {
                held.push((pairs, want));
            }
            if round % 11 == 0 {
                for (p, want) in &held {
                    assert!((0..SLOTS as u16).all(|b| p.has(b) == want.contains(&b)));
                }
                held.truncate(held.len() / 2);
            }
        }
        for (p, want) in &held {
            assert!((0..SLOTS as u16).all(|b| p.has(b) == want.contains(&b)));
        }
    }
}
