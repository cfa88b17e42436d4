//! Customer vocabulary: groups of synonyms mapped to their canonical term.
//!
//! A customer's `WIFI` and the knowledge's `WLAN` become the same index term, at
//! index time and at query time. Pure data; parsing the file is the knowledge
//! loader's job.

use std::collections::HashMap;

/// Maps every variant to the canonical (first) term of its group.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    canonical: HashMap<String, String>,
}

impl Synonyms {
    /// Build from groups of already normalised terms, canonical term first. A term
    /// listed in two groups keeps the first (the loader reports it as a problem).
    pub fn new(groups: &[Vec<String>]) -> Self {
        let mut canonical = HashMap::new();
        for group in groups {
            let Some(head) = group.first() else { continue };
            for term in group {
                canonical.entry(term.clone()).or_insert_with(|| head.clone());
            }
        }
        Self { canonical }
    }

    /// The canonical term for `term`, or `term` itself.
    pub fn canonical<'a>(&'a self, term: &'a str) -> &'a str {
        self.canonical.get(term).map_or(term, String::as_str)
    }

    /// Whether `term` belongs to a group.
    pub fn contains(&self, term: &str) -> bool {
        self.canonical.contains_key(term)
    }

    /// Every term of every group, canonical ones included.
    pub fn terms(&self) -> impl Iterator<Item = &str> {
        self.canonical.keys().map(String::as_str)
    }

    /// Number of terms known.
    pub fn len(&self) -> usize {
        self.canonical.len()
    }

    /// Whether no synonyms are known.
    pub fn is_empty(&self) -> bool {
        self.canonical.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_map_to_head() {
        let s = Synonyms::new(&[vec!["wlan".into(), "wifi".into(), "无线网".into()]]);
        assert_eq!(s.canonical("wifi"), "wlan");
        assert_eq!(s.canonical("无线网"), "wlan");
        assert_eq!(s.canonical("wlan"), "wlan");
        assert_eq!(s.canonical("宽带"), "宽带");
    }

    #[test]
    fn first_group_wins_for_a_repeated_term() {
        let s = Synonyms::new(&[vec!["a".into(), "x".into()], vec!["b".into(), "x".into()]]);
        assert_eq!(s.canonical("x"), "a");
    }
}
