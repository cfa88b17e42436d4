//! Names of other businesses (platforms, banks, apps) in customer text, and which
//! of the knowledge's documents mention each.
//!
//! A text naming another business is most likely a question for it: "淘宝买的衣服
//!怎么退款" is for that platform, though it reads like the shop's return question.
//! It may be answered only by a document that names the business too: the shop's
//! payment entry names 花呗 as a way to pay, so "能用花呗付款吗" is its question,
//! while "花呗额度怎么提升" is not the credit-limit entry's.

use std::collections::BTreeSet;

/// The names and, per document, the names it mentions. Works on normalised text.
#[derive(Debug, Clone, Default)]
pub struct BusinessNames {
    names: Vec<String>,
    /// Per document (index), the indices of the names its texts mention.
    mentioned: Vec<BTreeSet<usize>>,
}

impl BusinessNames {
    /// `names` and `docs` (each document's normalised texts, answers included) are
    /// normalised; empty names are ignored.
    pub fn new<D, T>(names: impl IntoIterator<Item = String>, docs: impl IntoIterator<Item = D>) -> Self
    where
        D: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let mut names: Vec<String> = names.into_iter().filter(|n| !n.is_empty()).collect();
        let mut seen = BTreeSet::new();
        names.retain(|n| seen.insert(n.clone()));
        let mentioned = docs
            .into_iter()
            .map(|texts| {
                let texts: Vec<T> = texts.into_iter().collect();
                (0..names.len()).filter(|&i| texts.iter().any(|t| t.as_ref().contains(names[i].as_str()))).collect()
            })
            .collect();
        Self { names, mentioned }
    }

    /// The first name `normalized` contains that document `doc` never mentions;
    /// without a document, the first that no document mentions.
    pub fn unmentioned_in(&self, normalized: &str, doc: Option<usize>) -> Option<&str> {
        let named = |i: &usize| normalized.contains(self.names[*i].as_str());
        let unmentioned = |i: &usize| match doc {
            Some(d) => self.mentioned.get(d).is_none_or(|m| !m.contains(i)),
            None => self.mentioned.iter().all(|m| !m.contains(i)),
        };
        (0..self.names.len()).find(|i| named(i) && unmentioned(i)).map(|i| self.names[i].as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> BusinessNames {
        let docs = vec![
            vec!["商城支持哪些付款方式".to_owned(), "支持微信、支付宝、花呗".to_owned()],
            vec!["信用额度是什么".to_owned(), "信用额度可以先用后付".to_owned()],
        ];
        BusinessNames::new(["淘宝", "花呗", "支付宝", ""].map(String::from), &docs)
    }

    #[test]
    fn a_name_counts_only_against_documents_that_never_mention_it() {
        let n = names();
        assert_eq!(n.unmentioned_in("能用花呗付款吗", Some(0)), None);
        assert_eq!(n.unmentioned_in("花呗额度怎么提升", Some(1)), Some("花呗"));
        assert_eq!(n.unmentioned_in("淘宝的订单能用支付宝吗", Some(0)), Some("淘宝"));
    }

    #[test]
    fn without_a_document_only_names_no_document_mentions_count() {
        let n = names();
        assert_eq!(n.unmentioned_in("花呗额度怎么提升", None), None);
        assert_eq!(n.unmentioned_in("淘宝买的衣服怎么退款", None), Some("淘宝"));
        assert_eq!(n.unmentioned_in("话费怎么查", Some(1)), None);
        assert_eq!(n.unmentioned_in("淘宝", Some(9)), Some("淘宝"));
    }
}
