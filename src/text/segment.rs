//! Chinese word segmentation with jieba, extended by a user dictionary and by the
//! knowledge's own terms.
//!
//! Works on normalised text; knows nothing of synonyms or stop words.

use jieba_rs::Jieba;

/// Frequency given to knowledge terms (tags, synonyms) so jieba keeps them whole.
const KNOWLEDGE_TERM_FREQ: usize = 100_000;

/// A jieba segmenter with the default dictionary plus domain words.
pub struct ChineseSegmenter {
    jieba: Jieba,
}

impl std::fmt::Debug for ChineseSegmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChineseSegmenter").finish_non_exhaustive()
    }
}

/// One word of a user dictionary (jieba format: `word [freq] [tag]`).
#[derive(Debug, Clone, PartialEq)]
pub struct UserWord {
    /// The word, already normalised.
    pub word: String,
    /// Its frequency; `None` lets jieba pick one that keeps the word whole.
    pub freq: Option<usize>,
    /// Part-of-speech tag, if given.
    pub tag: Option<String>,
}

impl ChineseSegmenter {
    /// A segmenter with jieba's default dictionary, the user dictionary and extra
    /// knowledge terms (each kept as one word).
    pub fn new<'a>(user_words: &[UserWord], terms: impl IntoIterator<Item = &'a str>) -> Self {
        let mut jieba = Jieba::new();
        for w in user_words {
            jieba.add_word(&w.word, w.freq, w.tag.as_deref());
        }
        for term in terms {
            if !term.is_empty() && !term.contains(' ') {
                jieba.add_word(term, Some(KNOWLEDGE_TERM_FREQ), None);
            }
        }
        Self { jieba }
    }

    /// Segment normalised text in search mode: words plus their in-dictionary
    /// sub-words (`无线网络` → `无线`, `网络`, `无线网络`), spaces dropped.
    pub fn segment<'a>(&self, text: &'a str) -> Vec<&'a str> {
        self.jieba
            .cut_for_search(text, true)
            .into_iter()
            .map(|t| t.word)
            .filter(|w| !w.trim().is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knowledge_terms_stay_whole() {
        let plain = ChineseSegmenter::new(&[], []);
        let with_term = ChineseSegmenter::new(&[], ["亲情号"]);
        assert!(!plain.segment("办理亲情号").contains(&"亲情号"));
        assert!(with_term.segment("办理亲情号").contains(&"亲情号"));
    }

    #[test]
    fn user_dictionary_words_stay_whole() {
        let words = [UserWord { word: "畅享套餐".into(), freq: Some(50_000), tag: Some("n".into()) }];
        let seg = ChineseSegmenter::new(&words, []);
        assert!(seg.segment("我想改畅享套餐").contains(&"畅享套餐"));
    }
}
