//! The customer vocabulary files: `synonyms.txt` (one group per line, canonical term
//! first, separated by whitespace) and `userdict.txt` (jieba format `word [freq] [tag]`).
//! `#` starts a comment line in both.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::Problem;
use crate::text::{NormalizeConfig, UserWord, normalize};

fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// Where each synonym term was first seen, to report a term listed in two groups.
pub(super) type SeenTerms = HashMap<String, (PathBuf, usize)>;

/// Parse synonym groups. A group needs at least two terms; a term may belong to
/// one group only (compared after normalisation, so `WIFI` and `wifi` are the same).
pub(super) fn parse_synonyms(
    path: &Path,
    text: &str,
    seen: &mut SeenTerms,
    problems: &mut Vec<Problem>,
) -> Vec<Vec<String>> {
    let mut groups = Vec::new();
    for (line, content) in content_lines(text) {
        let terms: Vec<String> = content.split_whitespace().map(str::to_owned).collect();
        if terms.len() < 2 {
            problems.push(Problem::new(
                path,
                line,
                "synonyms",
                "a group needs a canonical term and at least one synonym",
            ));
            continue;
        }
        let mut in_group = Vec::new();
        for term in &terms {
            let key = normalize(term, &NormalizeConfig::default());
            if in_group.contains(&key) {
                continue;
            }
            match seen.get(&key) {
                Some((file, first)) => problems.push(Problem::new(
                    path,
                    line,
                    "synonyms",
                    format!("term {term:?} is already in the group at {}:{first}", file.display()),
                )),
                None => {
                    seen.insert(key.clone(), (path.to_path_buf(), line));
                }
            }
            in_group.push(key);
        }
        groups.push(terms);
    }
    groups
}

/// Parse a jieba user dictionary: `word [freq] [tag]` per line.
pub(super) fn parse_user_dict(path: &Path, text: &str, problems: &mut Vec<Problem>) -> Vec<UserWord> {
    let mut words = Vec::new();
    for (line, content) in content_lines(text) {
        let mut parts = content.split_whitespace();
        let word = parts.next().expect("content lines are not empty").to_owned();
        let freq = match parts.next() {
            None => None,
            Some(f) => match f.parse::<usize>() {
                Ok(f) => Some(f),
                Err(_) => {
                    problems.push(Problem::new(path, line, "freq", format!("{f:?} is not a whole number")));
                    continue;
                }
            },
        };
        let tag = parts.next().map(str::to_owned);
        if parts.next().is_some() {
            problems.push(Problem::new(path, line, "userdict", "expected `word [freq] [tag]`"));
            continue;
        }
        words.push(UserWord { word, freq, tag });
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_term_in_two_groups_is_reported() {
        let mut seen = SeenTerms::new();
        let mut problems = Vec::new();
        let groups =
            parse_synonyms(Path::new("s.txt"), "WLAN WIFI\n# c\n\nWi-Fi wifi\nsolo\n", &mut seen, &mut problems);
        assert_eq!(groups.len(), 2);
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![4, 5], "{problems:?}");
    }

    #[test]
    fn user_dict_lines() {
        let mut problems = Vec::new();
        let words = parse_user_dict(Path::new("u.txt"), "畅享套餐 300 n\n亲情号\n坏 x\n", &mut problems);
        assert_eq!(words.len(), 2);
        assert_eq!(words[0].freq, Some(300));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 3);
    }
}
