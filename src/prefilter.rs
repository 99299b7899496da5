//! A cheap test, before parsing, for whether a file can need any work: it must mention one
//! of the catalogue's old apiVersions. A JSON file may escape the slash (`v1beta1` after
//! `extensions\/`), so that spelling is searched too.

use aho_corasick::AhoCorasick;

use crate::catalogue::Catalogue;

pub struct Prefilter {
    needles: AhoCorasick,
}

impl Prefilter {
    pub fn new(cat: &Catalogue) -> Prefilter {
        let mut patterns: Vec<String> = Vec::new();
        for api in cat.old_api_strings() {
            patterns.push(api.to_string());
            if api.contains('/') {
                patterns.push(api.replace('/', "\\/"));
            }
        }
        let needles =
            AhoCorasick::new(&patterns).expect("catalogue apiVersions are valid patterns");
        Prefilter { needles }
    }

    pub fn may_need_work(&self, text: &[u8]) -> bool {
        self.needles.is_match(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_plain_and_json_escaped_spellings() {
        let pf = Prefilter::new(&Catalogue::embedded().unwrap());
        assert!(pf.may_need_work(b"apiVersion: autoscaling/v2beta2\n"));
        assert!(pf.may_need_work(br#"{"apiVersion": "autoscaling\/v2beta1"}"#));
        assert!(!pf.may_need_work(b"apiVersion: autoscaling/v2\n"));
    }
}
