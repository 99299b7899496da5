//! Paths into a document as written in the catalogue: `spec.metrics[*].resource`,
//! `metadata.annotations["kubernetes.io/ingress.class"]`, `items[0]`.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    /// A key; shared, since rule matching copies deep paths by the thousand (CRD schemas).
    Key(std::sync::Arc<str>),
    Index(usize),
    /// `[*]`: every item of a sequence.
    AnyItem,
    /// `*` as a key: every value of a mapping.
    AnyKey,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Path(pub Vec<Seg>);

impl Path {
    pub fn parse(text: &str) -> Result<Path, String> {
        let mut segs = Vec::new();
        let mut rest = text.trim();
        let mut expect_key = true;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('[') {
                let close = r
                    .find(']')
                    .ok_or_else(|| format!("unclosed `[` in path `{text}`"))?;
                let inner = &r[..close];
                if inner == "*" {
                    segs.push(Seg::AnyItem);
                } else if let Some(q) = inner.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
                    segs.push(Seg::Key(q.into()));
                } else {
                    // `[-1]`: the last item, resolved against the document when a rule runs.
                    let i = if inner == "-1" {
                        Ok(usize::MAX)
                    } else {
                        inner.parse()
                    };
                    let i = i.map_err(|_| format!("bad index `[{inner}]` in path `{text}`"))?;
                    segs.push(Seg::Index(i));
                }
                rest = &r[close + 1..];
                expect_key = false;
            } else if let Some(r) = rest.strip_prefix('.') {
                if expect_key {
                    return Err(format!("empty key in path `{text}`"));
                }
                rest = r;
                expect_key = true;
            } else {
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                if end == 0 || !expect_key {
                    return Err(format!("bad path `{text}`"));
                }
                let key = &rest[..end];
                segs.push(if key == "*" {
                    Seg::AnyKey
                } else {
                    Seg::Key(key.into())
                });
                rest = &rest[end..];
                expect_key = false;
            }
        }
        if expect_key && !segs.is_empty() {
            return Err(format!("path `{text}` ends with `.`"));
        }
        Ok(Path(segs))
    }

    pub fn join(&self, other: &Path) -> Path {
        // Sized once: a clone then an extend reallocated nearly every time.
        let mut segs = Vec::with_capacity(self.0.len() + other.0.len());
        segs.extend(self.0.iter().cloned());
        segs.extend(other.0.iter().cloned());
        Path(segs)
    }

    pub fn child(&self, seg: Seg) -> Path {
        let mut segs = Vec::with_capacity(self.0.len() + 1);
        segs.extend(self.0.iter().cloned());
        segs.push(seg);
        Path(segs)
    }

    pub fn split_last(&self) -> Option<(Path, &Seg)> {
        let (last, init) = self.0.split_last()?;
        Some((Path(init.to_vec()), last))
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if k.contains(['.', '[', ']', '"', '/']) => write!(f, "[\"{k}\"]")?,
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?
                }
                Seg::Index(usize::MAX) => f.write_str("[-1]")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
                Seg::AnyItem => f.write_str("[*]")?,
                Seg::AnyKey => f.write_str(if i > 0 { ".*" } else { "*" })?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_indexes_wildcards_and_quoted_keys() {
        let p = Path::parse(r#"metadata.annotations["a.b/c"].x[*].y[2]"#).unwrap();
        assert_eq!(
            p.0,
            vec![
                Seg::Key("metadata".into()),
                Seg::Key("annotations".into()),
                Seg::Key("a.b/c".into()),
                Seg::Key("x".into()),
                Seg::AnyItem,
                Seg::Key("y".into()),
                Seg::Index(2)
            ]
        );
        assert_eq!(p.to_string(), r#"metadata.annotations["a.b/c"].x[*].y[2]"#);
        assert_eq!(Path::parse("").unwrap(), Path::default());
        assert!(Path::parse("a..b").is_err());
        assert!(Path::parse("a.").is_err());
        assert!(Path::parse("a[x]").is_err());
    }
}
