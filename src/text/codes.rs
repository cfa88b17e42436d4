//! Codes typed in pieces: an order number written "XH 2024 0527 1146" or
//! "2024-0527-1146" is one code to a slot pattern. Pure.

/// The codes of `text` typed in pieces: runs of ASCII letters and digits (full-width
/// ones folded) joined by single spaces, hyphens or underscores, with the
/// separators taken out. Only runs of two pieces or more; a code typed in one piece
/// is in the text as it is.
pub fn joined_codes(text: &str) -> Vec<String> {
    let mut codes = Vec::new();
    let mut current = String::new();
    let mut pieces = 0;
    let mut after_separator = false;
    let mut flush = |current: &mut String, pieces: &mut usize| {
        if *pieces >= 2 {
            codes.push(std::mem::take(current));
        }
        current.clear();
        *pieces = 0;
    };
    for c in text.chars().map(fold_width) {
        if c.is_ascii_alphanumeric() {
            if current.is_empty() || after_separator {
                pieces += 1;
            }
            current.push(c);
            after_separator = false;
        } else if matches!(c, ' ' | '-' | '_') && !current.is_empty() && !after_separator {
            after_separator = true;
        } else {
            flush(&mut current, &mut pieces);
            after_separator = false;
        }
    }
    flush(&mut current, &mut pieces);
    codes
}

/// A full-width letter, digit or space as its ASCII form.
fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::joined_codes;

    #[test]
    fn codes_typed_in_pieces_are_joined() {
        assert_eq!(joined_codes("订单号是 XH 2024 0527 1146 麻烦查下"), ["XH202405271146"]);
        assert_eq!(joined_codes("2024-0527-1146"), ["202405271146"]);
        assert_eq!(joined_codes("２０２４　０５２７　１１４６"), ["202405271146"]);
        assert_eq!(joined_codes("单号 1234 5678，手机 138 0013 8000"), ["12345678", "13800138000"]);
    }

    #[test]
    fn single_pieces_and_double_separators_are_not_codes() {
        assert!(joined_codes("订单 202405271146").is_empty());
        assert!(joined_codes("宽带 100M 多少钱").is_empty());
        assert_eq!(joined_codes("a  b"), Vec::<String>::new());
        assert!(joined_codes("").is_empty());
    }
}
