//! Masking personal data in logged text: mobile numbers, ID card numbers, bank
//! card numbers. Pure; works on maximal digit runs, so order numbers (12 digits)
//! and prices are left alone.

/// Mask PII in `text`:
/// - an 11-digit mobile number `1[3-9]…` keeps its first 3 and last 4 digits
///   (`138****5678`);
/// - an ID number (15 or 18 characters, the last may be `X`) and a bank card
///   number (16–19 digits) keep their last 4 (`**************123X`).
pub fn mask_pii(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i < chars.len() && (chars[i] == 'X' || chars[i] == 'x') && i - start == 17 {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        out.push_str(&mask_run(&run));
    }
    out
}

fn mask_run(run: &str) -> String {
    let n = run.chars().count();
    let is_mobile = n == 11 && run.starts_with('1') && run.as_bytes()[1].is_ascii_digit() && run.as_bytes()[1] >= b'3';
    if is_mobile {
        return format!("{}****{}", &run[..3], &run[7..]);
    }
    if n == 15 || (16..=19).contains(&n) {
        return format!("{}{}", "*".repeat(n - 4), &run[n - 4..]);
    }
    run.to_owned()
}

#[cfg(test)]
mod tests {
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
}
