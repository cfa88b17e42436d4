//! Masking personal data in logged text: mobile numbers, ID card numbers, bank
//! card numbers here, and the other kinds (e-mail, landlines, names, addresses …)
//! in `mask_patterns`. Pure.
//!
//! Numbers are read the way people type them: ASCII or full-width digits (mixed
//! too) or Chinese numerals (一三八…), groups split by up to three spaces, tabs,
//! dashes, dots, slashes, underscores, brackets or commas (`138 1234 5678`,
//! `(138)1234-5678`, `6222-0212-…`), invisible zero-width characters anywhere,
//! mobiles with a `+86`/`86` prefix, ID numbers ending in `X`. Groups are joined
//! only when the joined digits form one of the kinds, so an order number next to a
//! phone number stays readable; order numbers (12 digits) and prices are left alone.

/// Most digits a masked number may have (bank cards up to 19, some up to 21).
const MAX_DIGITS: usize = 21;

/// Mask PII in `text`:
/// - a mobile number (11 digits `1[3-9]…`, optionally after `+86`) keeps its first
///   3 and last 4 digits (`138****5678`);
/// - an ID number (15 or 18 characters, the last may be `X`) and a bank card
///   number (16–21 digits) keep their last 4 (`**************123X`).
///
/// A masked number is written in ASCII without its separators. Then the other
/// kinds (`mask_patterns`) become labels: `[邮箱]`, `[固话]`, `[姓名]` …
pub fn mask_pii(text: &str) -> String {
    let visible: String = text.chars().filter(|&c| !zero_width(c)).collect();
    let numerals = mask_chinese_numerals(&visible);
    super::mask_patterns::mask_patterns(&mask_numbers(&numerals))
}

/// Characters that show nothing and may be slipped between digits.
fn zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}')
}

/// A Chinese numeral's digit (幺 and 两 as said in phone numbers).
fn chinese_digit(c: char) -> Option<char> {
    Some(match c {
        '〇' | '零' | '洞' => '0',
        '一' | '幺' | '壹' => '1',
        '二' | '两' | '贰' => '2',
        '三' | '叁' => '3',
        '四' | '肆' => '4',
        '五' | '伍' => '5',
        '六' | '陆' => '6',
        '七' | '柒' => '7',
        '八' | '捌' => '8',
        '九' | '玖' => '9',
        _ => return None,
    })
}

/// A run of Chinese numerals (spaces between allowed) that reads as a mobile, ID
/// or card number is masked like one; shorter runs ("一二三") are words.
fn mask_chinese_numerals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chinese_digit(chars[i]).is_none() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = String::new();
        while i < chars.len() && (chinese_digit(chars[i]).is_some() || (chars[i] == ' ' && digits.len() < MAX_DIGITS)) {
            if let Some(d) = chinese_digit(chars[i]) {
                digits.push(d);
            }
            i += 1;
        }
        match (digits.len() >= 11).then(|| mask_digits(&digits, false)).flatten() {
            Some(masked) => out.push_str(&masked),
            None => out.extend(&chars[start..i]),
        }
    }
    out
}

/// Mobile, ID and bank card numbers (see [`mask_pii`]).
fn mask_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_number = digit(chars[i]).is_some() || (chars[i] == '+' || chars[i] == '＋');
        let after_digit = i > 0 && digit(chars[i - 1]).is_some();
        if starts_number
            && !after_digit
            && let Some((end, masked)) = pii_at(&chars, i)
        {
            out.push_str(&masked);
            i = end;
            continue;
        }
        // Not PII here: copy the whole digit run, so no tail of it is read as one.
        if digit(chars[i]).is_some() {
            while i < chars.len() && digit(chars[i]).is_some() {
                out.push(chars[i]);
                i += 1;
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The first mobile number in `text` as 11 ASCII digits (full-width digits,
/// separators and a `+86` prefix read as in [`mask_pii`]).
pub fn find_mobile(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len()).find_map(|i| {
        let starts = digit(chars[i]).is_some() || chars[i] == '+' || chars[i] == '＋';
        let after_digit = i > 0 && digit(chars[i - 1]).is_some();
        if !starts || after_digit {
            return None;
        }
        let (end, masked) = pii_at(&chars, i)?;
        // A mobile is masked as 138****5678; ID and card numbers keep only 4 digits.
        if masked.len() != 11 || !masked[..3].bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: String = chars[i..end].iter().filter_map(|&c| digit(c)).collect();
        Some(digits[digits.len() - 11..].to_owned())
    })
}

/// An ASCII or full-width digit's value.
fn digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
        _ => None,
    }
}

fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '-'
            | '.'
            | '/'
            | '_'
            | '('
            | ')'
            | ','
            | '\u{3000}'
            | '－'
            | '—'
            | '–'
            | '．'
            | '／'
            | '（'
            | '）'
    )
}

/// Digits a group of a number split by separators has: mobiles are written 3-4-4,
/// cards 4-4-4-4, IDs 6-8-4. A longer or shorter group (an order number, a day of
/// a date, a price) is not part of one.
const GROUP_DIGITS: std::ops::RangeInclusive<usize> = 3..=8;

/// Most separator characters between two groups of one number ("138  1234", "(138) 1234").
const MAX_SEPARATORS: usize = 3;

/// The longest PII number starting at `start`: where it ends and its masked form.
fn pii_at(chars: &[char], start: usize) -> Option<(usize, String)> {
    let mut i = start;
    let mut prefix = false;
    if chars[i] == '+' || chars[i] == '＋' {
        let rest: String = chars[i + 1..].iter().take(2).filter_map(|&c| digit(c)).collect();
        if rest != "86" {
            return None;
        }
        prefix = true;
        i += 3;
        while i < chars.len() && is_separator(chars[i]) {
            i += 1;
        }
    }
    let mut digits = String::new();
    let mut best = None;
    let mut first_group = None;
    loop {
        // One group of digits.
        let group_start = i;
        while i < chars.len() && digits.len() < MAX_DIGITS + 2 {
            match digit(chars[i]) {
                Some(d) => digits.push(d),
                None => break,
            }
            i += 1;
        }
        if i == group_start || (i < chars.len() && digit(chars[i]).is_some()) {
            break;
        }
        // A number split into groups starts with a group of 3 or more digits
        // (138 1234 5678, 6222 0212 …), not a lone country code (+1 415 …).
        if *first_group.get_or_insert(i - group_start) < 3 {
            break;
        }
        let grouped = digits.len() > i - group_start;
        if grouped && !GROUP_DIGITS.contains(&(i - group_start)) {
            break;
        }
        let x = i < chars.len() && matches!(chars[i], 'X' | 'x' | 'Ｘ' | 'ｘ');
        let ends_word = |at: usize| at >= chars.len() || !chars[at].is_ascii_alphanumeric();
        if x && digits.len() == 17 && ends_word(i + 1) {
            best = Some((i + 1, mask_digits(&format!("{digits}X"), prefix)?));
            break;
        }
        if ends_word(i)
            && let Some(masked) = mask_digits(&digits, prefix)
        {
            best = Some((i, masked));
        }
        // Another group after a few separators?
        let gap = chars[i..].iter().take(MAX_SEPARATORS + 1).take_while(|&&c| is_separator(c)).count();
        let next_is_group = gap > 0
            && gap <= MAX_SEPARATORS
            && GROUP_DIGITS.contains(&(i - group_start))
            && chars.get(i + gap).is_some_and(|&c| digit(c).is_some());
        if !next_is_group || digits.len() >= MAX_DIGITS {
            break;
        }
        i += gap;
    }
    best
}

/// The masked form of `digits` when they are a mobile, ID or bank card number.
fn mask_digits(digits: &str, prefix: bool) -> Option<String> {
    let mobile = |d: &str| d.len() == 11 && d.starts_with('1') && d.as_bytes()[1] >= b'3';
    let national = if prefix { Some(digits) } else { digits.strip_prefix("86").filter(|d| mobile(d)) };
    if let Some(d) = national {
        return mobile(d).then(|| format!("{}****{}", &d[..3], &d[7..]));
    }
    if mobile(digits) {
        return Some(format!("{}****{}", &digits[..3], &digits[7..]));
    }
    let n = digits.len();
    (n == 15 || (16..=MAX_DIGITS).contains(&n)).then(|| format!("{}{}", "*".repeat(n - 4), &digits[n - 4..]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn mobiles_are_found_as_typed() {
        for (text, want) in [
            ("回电 138 1234 5678 谢谢", Some("13812345678")),
            ("+86-139-0000-1111", Some("13900001111")),
            ("电话１５９００００１１１１", Some("15900001111")),
            ("订单 123456789012", None),
            ("卡号 6222021234567890", None),
            ("没有号码", None),
        ] {
            assert_eq!(find_mobile(text).as_deref(), want, "{text}");
        }
    }

    use super::*;

    #[test]
    fn masks_each_kind_and_keeps_the_rest() {
        assert_eq!(mask_pii("我的手机13812345678欠费了"), "我的手机138****5678欠费了");
        assert_eq!(mask_pii("身份证11010519491231002X"), "身份证**************002X");
        assert_eq!(mask_pii("卡号6222021234567890123"), "卡号***************0123");
        assert_eq!(mask_pii("订单202311220123到哪了，花了59元"), "订单202311220123到哪了，花了59元");
        assert_eq!(mask_pii("电话 12345678901"), "电话 12345678901");
        assert_eq!(mask_pii(""), "");
    }

    /// The formats customers type, each masked.
    #[test]
    fn formats_as_typed() {
        let mobile = "138****5678";
        let table: &[(&str, &str)] = &[
            ("138 1234 5678", mobile),
            ("138-1234-5678", mobile),
            ("138.1234.5678", mobile),
            ("+86 138 1234 5678", mobile),
            ("+8613812345678", mobile),
            ("+86-138-1234-5678", mobile),
            ("8613812345678", mobile),
            ("１３８１２３４５６７８", mobile),
            ("１３８1234５６７８", mobile),
            ("１３８　１２３４　５６７８", mobile),
            ("＋８６１３８１２３４５６７８", mobile),
            ("110105 19491231 002X", "**************002X"),
            ("110105-19491231-002x", "**************002X"),
            ("１１０１０５１９４９１２３１００２Ｘ", "**************002X"),
            ("110105491231002", "***********1002"),
            ("6222 0212 3456 7890 123", "***************0123"),
            ("6222-0212-3456-7890", "************7890"),
            ("６２２２０２１２３４５６７８９０", "************7890"),
            ("62220212345678901234", "****************1234"),
        ];
        for (typed, masked) in table {
            assert_eq!(mask_pii(&format!("号码{typed}谢谢")), format!("号码{masked}谢谢"), "{typed}");
        }
    }

    /// Every format of personal data a customer may type: none of the secret
    /// part may survive (the label it becomes is checked where it matters).
    #[test]
    fn every_kind_of_personal_data_is_masked() {
        let table: &[(&str, &str)] = &[
            ("我的手机13812345678", "12345678"),
            ("手机 138/1234/5678", "1234/5678"),
            ("手机 138_1234_5678", "1234_5678"),
            ("手机 (138) 1234 5678", "1234 5678"),
            ("手机（138）1234-5678", "1234-5678"),
            ("手机 138  1234  5678", "1234  5678"),
            ("手机 138\t1234\t5678", "1234\t5678"),
            ("手机 1\u{200B}3\u{200B}8\u{200B}1234\u{200B}5678", "5678\u{200B}"),
            ("手机138,1234,5678", "1234,5678"),
            ("手机一三八一二三四五六七八", "一二三四五六七八"),
            ("电话幺三八 一二三四 五六七八", "一二三四 五六七八"),
            ("身份证11010519491231002X", "19491231"),
            ("卡号6222 0212 3456 7890", "0212 3456"),
            ("邮箱 zhang.san@example.com", "zhang.san"),
            ("发到 zs_1990＠qq.com", "zs_1990"),
            ("座机010-62345678", "62345678"),
            ("家里电话(0755)87654321", "87654321"),
            ("固话 021 5432 1234", "5432 1234"),
            ("住在北京市朝阳区建国路88号院3号楼2单元301室", "建国路88号"),
            ("地址：幸福小区5栋2单元601", "5栋2单元601"),
            ("送到阳光花园12号楼1501室", "阳光花园12号"),
            ("我叫张三，帮我查一下", "张三"),
            ("姓名：李小明", "李小明"),
            ("收件人：王芳", "王芳"),
            ("QQ 123456789", "123456789"),
            ("扣扣号：87654321", "87654321"),
            ("微信号 zhangsan_1990", "zhangsan_1990"),
            ("vx: abc12345", "abc12345"),
            ("车牌京A12345被拍了", "A12345"),
            ("粤B·D12345的车", "D12345"),
            ("护照号E12345678", "E12345678"),
            ("我的护照 G87654321 过期了", "G87654321"),
            ("我家IP是 192.168.1.23", "192.168.1.23"),
            ("生日1990年1月1日", "1990年1月1日"),
            ("出生日期：1988-12-31", "1988-12-31"),
            ("生日是19900101", "19900101"),
        ];
        for (typed, secret) in table {
            let masked = mask_pii(typed);
            assert!(!masked.contains(secret), "{typed:?} → {masked:?} still shows {secret:?}");
        }
        assert_eq!(mask_pii("我叫张三"), "我叫[姓名]");
        assert_eq!(mask_pii("邮箱 a@b.cn 谢谢"), "邮箱 [邮箱] 谢谢");
        assert_eq!(mask_pii("QQ 123456789"), "QQ [QQ]");
    }

    #[test]
    fn ordinary_text_is_not_taken_for_personal_data() {
        for text in [
            "我叫了个外卖",
            "订单202311220123到哪了",
            "2024-05-18 下的单",
            "5G套餐多少钱一个月",
            "一二三都试过了",
            "宽带200M够用吗",
            "套餐59元，流量30G",
            "我叫你们经理来",
            "第三季度的账单",
            "版本 1.2.3 的 app",
            "订单202311220123，1299元",
            "订单202311220123,1299元",
            "2024-05-12，2024-05-13 两天都断网",
            "2024-05-12,2024-05-13",
            "收货人信息怎么改",
            "姓名填错了怎么办",
            "联系人电话怎么改",
            "新Mate60能用5G吗",
            "问你们在中山路有营业厅吗",
        ] {
            assert_eq!(mask_pii(text), text);
        }
    }

    #[test]
    fn neighbours_stay_readable() {
        assert_eq!(mask_pii("订单 202311220123 手机 13812345678"), "订单 202311220123 手机 138****5678");
        assert_eq!(mask_pii("2024-05-18 下的单"), "2024-05-18 下的单");
        assert_eq!(mask_pii("价格 59.9 元"), "价格 59.9 元");
        assert_eq!(mask_pii("+1 415 555 0100"), "+1 415 555 0100");
        assert_eq!(mask_pii("订单ab13812345678x"), "订单ab13812345678x");
    }
}
