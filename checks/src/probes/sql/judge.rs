//! Is a stored value encrypted? Pure functions over the bytes read from a
//! personal-data column; the caller keeps only the counts, never a value.

/// What a stored value looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Readable as the declared kind of personal data (a name in kana/kanji, a 12-digit 個人番号 ...).
    Readable,
    /// In the declared ciphertext form, or (none declared) binary / high-entropy data.
    Ciphertext,
    /// Neither readable as the kind nor in the declared form (or text-like without a form).
    Unrecognised,
}

fn is_kana(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}' | '\u{31f0}'..='\u{31ff}' | '\u{ff66}'..='\u{ff9f}')
}

fn is_kanji(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}' | '々')
}

fn japanese(s: &str) -> bool {
    s.chars().any(|c| is_kana(c) || is_kanji(c))
}

/// Shannon entropy in bits per byte.
pub fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0usize; 256];
    for b in bytes {
        counts[*b as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts.iter().filter(|c| **c > 0).map(|c| *c as f64 / n).map(|p| -p * p.log2()).sum()
}

/// Readable as the declared kind (`kind` is one of the scenario's PERSONAL_KINDS).
fn readable(s: &str, kind: &str) -> bool {
    let t = s.trim();
    let digits: String = t.chars().filter(|c| !matches!(c, '-' | ' ' | '　' | '(' | ')' | '+')).collect();
    let all_digits = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || ('０'..='９').contains(&c));
    match kind {
        // Kanji/kana names, or romanised names ("Yamada Taro").
        "name" => japanese(t) || (t.contains(' ') && t.split(' ').all(|w| !w.is_empty() && w.chars().all(|c| c.is_alphabetic()))),
        "kana" => t.chars().any(is_kana),
        "address" => japanese(t),
        "my_number" => all_digits && digits.chars().count() == 12,
        "phone" => all_digits && (10..=11).contains(&digits.chars().count()),
        "birth_date" => {
            let ascii_date =
                t.len() >= 8 && t.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '/' | '.')) && t.chars().filter(|c| c.is_ascii_digit()).count() >= 6;
            ascii_date || ["年", "月", "日", "昭和", "平成", "令和"].iter().any(|m| t.contains(m))
        }
        // Any other personal text: Japanese, or plain words.
        _ => japanese(t) || (t.contains(' ') && entropy(t.as_bytes()) < 4.2),
    }
}

/// OpenPGP message as pgcrypto writes it: ASCII armor, or a binary packet
/// (new-format tag 1 public-key / 3 symmetric-key session key, as pgp_*_encrypt starts).
fn pgcrypto(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"-----BEGIN PGP MESSAGE-----") {
        return true;
    }
    match bytes.first() {
        Some(b) if b & 0xc0 == 0xc0 => matches!(b & 0x3f, 1 | 3),
        Some(b) if b & 0xc0 == 0x80 => matches!((b >> 2) & 0x0f, 1 | 3),
        _ => false,
    }
}

fn base64_decoded(s: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let t = s.trim().trim_end_matches('=');
    if t.len() < 16 {
        return None;
    }
    let mut out = Vec::with_capacity(t.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in t.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn hex_decoded(s: &str) -> Option<Vec<u8>> {
    let t = s.trim().trim_start_matches("\\x");
    if t.len() < 16 || !t.len().is_multiple_of(2) || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..t.len()).step_by(2).map(|i| u8::from_str_radix(&t[i..i + 2], 16).ok()).collect()
}

/// Decoded bytes that look like ciphertext rather than an encoding of readable text.
fn random_like(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(text) => !japanese(text) && bytes.len() >= 16 && entropy(bytes) > 3.5 && bytes.iter().any(|b| !b.is_ascii_graphic() && *b != b' '),
        Err(_) => bytes.len() >= 8,
    }
}

/// Classify one stored value of a column declared to hold `kind`, whose ciphertext takes `form`.
pub fn classify(bytes: &[u8], kind: &str, form: Option<&str>) -> Stored {
    let text = std::str::from_utf8(bytes).ok();
    if let Some(t) = text {
        if readable(t, kind) {
            return Stored::Readable;
        }
    }
    let in_form = match form {
        Some("pgcrypto") => pgcrypto(bytes) || text.and_then(hex_decoded).is_some_and(|d| pgcrypto(&d)),
        Some("base64") => text.and_then(base64_decoded).is_some_and(|d| random_like(&d) && classify_decoded_is_not_readable(&d, kind)),
        Some("hex") => text.and_then(hex_decoded).is_some_and(|d| random_like(&d) && classify_decoded_is_not_readable(&d, kind)),
        Some(f) => match f.strip_prefix("prefix:") {
            Some(p) => text.is_some_and(|t| t.starts_with(p) && t.len() > p.len()),
            None => false,
        },
        // No declared form: binary, or a long text of high entropy with no spaces.
        None => match text {
            None => bytes.len() >= 8,
            Some(t) => t.len() >= 16 && !t.contains(' ') && entropy(bytes) >= 4.0,
        },
    };
    if in_form {
        Stored::Ciphertext
    } else {
        Stored::Unrecognised
    }
}

/// An encoding (base64/hex) of readable personal data is not encryption.
fn classify_decoded_is_not_readable(decoded: &[u8], kind: &str) -> bool {
    !std::str::from_utf8(decoded).is_ok_and(|t| readable(t, kind))
}

/// The 個人番号's check digit (番号法施行令 第8条): the 12th digit from the first 11.
fn my_number_check_digit_holds(digits: &[u32]) -> bool {
    if digits.len() != 12 {
        return false;
    }
    // P_n: the n-th digit counted from the right of the first eleven; Q_n = n + 1 (n ≤ 6), n − 5 (n ≥ 7).
    let sum: u32 = (1..=11).map(|n| digits[11 - n] * if n <= 6 { n as u32 + 1 } else { n as u32 - 5 }).sum();
    let r = sum % 11;
    digits[11] == if r <= 1 { 0 } else { 11 - r }
}

const ADDRESS_MARKS: &[&str] = &["都", "道", "府", "県", "市", "区", "町", "村", "丁目", "番地"];

/// The kind of personal data a value of an undeclared column reads as, if
/// any. Stricter than [`classify`] where a code could look alike: a
/// 12-digit number must carry a valid 個人番号 check digit, a phone number
/// starts with 0, an address has a place mark and a number; dates and plain
/// ASCII words are not inferred. Japanese text is readable whatever it is.
pub fn reads_as(bytes: &[u8]) -> Option<&'static str> {
    let t = std::str::from_utf8(bytes).ok()?.trim();
    if t.is_empty() {
        return None;
    }
    if readable(t, "my_number") {
        let d: Vec<u32> = t.chars().filter_map(|c| c.to_digit(10).or_else(|| ('０'..='９').contains(&c).then(|| c as u32 - '０' as u32))).collect();
        if my_number_check_digit_holds(&d) {
            return Some("my_number");
        }
    }
    if readable(t, "phone") && t.trim_start_matches(['(', '（']).starts_with(['0', '０']) {
        return Some("phone");
    }
    if japanese(t) {
        let numbered = t.chars().any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c) || "一二三四五六七八九十".contains(c));
        if numbered && ADDRESS_MARKS.iter().any(|m| t.contains(m)) {
            return Some("address");
        }
        if !t.chars().any(is_kanji) {
            return Some("kana");
        }
        return Some(if t.chars().count() <= 20 { "name" } else { "text" });
    }
    // A romanised name: two to four capitalised words ("Yamada Taro").
    let words: Vec<&str> = t.split(' ').collect();
    let capitalised = |w: &&str| {
        let mut cs = w.chars();
        cs.next().is_some_and(|c| c.is_ascii_uppercase()) && cs.clone().count() > 0 && cs.all(|c| c.is_ascii_lowercase())
    };
    ((2..=4).contains(&words.len()) && words.iter().all(capitalised)).then_some("name")
}

/// Fewer distinct readable values than this in a column read as codes or
/// flags (転入 / 転出, 有効 / 無効), not as people's data.
pub const DISTINCT_MIN: usize = 5;

/// What an undeclared column's values read as: counts per kind and (up to
/// [`DISTINCT_MIN`]) distinct readable values, kept as hashes, never values.
#[derive(Debug, Default)]
pub struct Undeclared {
    pub values: u64,
    pub readable: u64,
    kinds: std::collections::BTreeMap<&'static str, u64>,
    distinct: std::collections::HashSet<u64>,
}

impl Undeclared {
    pub fn add(&mut self, bytes: &[u8]) {
        use std::hash::{Hash, Hasher};
        self.values += 1;
        if let Some(kind) = reads_as(bytes) {
            self.readable += 1;
            *self.kinds.entry(kind).or_default() += 1;
            if self.distinct.len() < DISTINCT_MIN {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                bytes.hash(&mut h);
                self.distinct.insert(h.finish());
            }
        }
    }

    /// The kind most values read as, when enough distinct values are readable to be people's data.
    pub fn personal(&self) -> Option<(&'static str, u64)> {
        if self.distinct.len() < DISTINCT_MIN {
            return None;
        }
        self.kinds.iter().max_by_key(|(_, n)| **n).map(|(k, n)| (*k, *n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_personal_data_of_each_kind() {
        assert_eq!(classify("山田 太郎".as_bytes(), "name", None), Stored::Readable);
        assert_eq!(classify(b"Yamada Taro", "name", None), Stored::Readable);
        assert_eq!(classify("ヤマダ タロウ".as_bytes(), "kana", None), Stored::Readable);
        assert_eq!(classify("東京都千代田区霞が関1-1-1".as_bytes(), "address", None), Stored::Readable);
        assert_eq!(classify(b"1234-5678-9012", "my_number", None), Stored::Readable);
        assert_eq!(classify("１２３４５６７８９０１２".as_bytes(), "my_number", None), Stored::Readable);
        assert_eq!(classify(b"1980-04-01", "birth_date", None), Stored::Readable);
        assert_eq!(classify("昭和55年4月1日".as_bytes(), "birth_date", None), Stored::Readable);
        assert_eq!(classify(b"03-1234-5678", "phone", None), Stored::Readable);
    }

    #[test]
    fn ciphertext_forms() {
        // pgp_sym_encrypt output starts with a symmetric-key session key packet (0xc3).
        let pgp = [0xc3u8, 0x0d, 0x04, 0x07, 0x03, 0x02, 0x9a, 0x11, 0x42, 0x55, 0xee];
        assert_eq!(classify(&pgp, "name", Some("pgcrypto")), Stored::Ciphertext);
        assert_eq!(classify(b"-----BEGIN PGP MESSAGE-----\n\nww0EBwMC...", "name", Some("pgcrypto")), Stored::Ciphertext);
        assert_eq!(classify(b"ENC:v1:8f3a9c0d", "my_number", Some("prefix:ENC:")), Stored::Ciphertext);
        assert_eq!(classify(b"ENC:", "my_number", Some("prefix:ENC:")), Stored::Unrecognised, "the prefix alone");
        let random: Vec<u8> = (0u32..48).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        assert_eq!(classify(&random, "address", None), Stored::Ciphertext);
    }

    /// The cases that would fool a naive check.
    #[test]
    fn encodings_of_plaintext_are_not_encryption() {
        // base64 of "山田太郎" is ASCII, high-ish entropy, but decodes to a readable name.
        let b64 = "5bGx55Sw5aSq6YOO5bGx55Sw5aSq6YOO";
        assert_eq!(classify(b64.as_bytes(), "name", Some("base64")), Stored::Unrecognised);
        // hex of a 個人番号 written as text.
        assert_eq!(classify(b"313233343536373839303132", "my_number", Some("hex")), Stored::Unrecognised);
        // A value in the wrong form for what the scenario declared.
        assert_eq!(classify(b"ENC:abcdef", "name", Some("pgcrypto")), Stored::Unrecognised);
        // A plaintext number in a column declared as prefix-encrypted is still readable.
        assert_eq!(classify(b"123456789012", "my_number", Some("prefix:ENC:")), Stored::Readable);
        // Short ASCII without a declared form is not assumed encrypted.
        assert_eq!(classify(b"abc", "text", None), Stored::Unrecognised);
    }

    #[test]
    fn undeclared_values_read_as_the_most_specific_kind() {
        assert_eq!(reads_as("東京都千代田区霞が関1-1-1".as_bytes()), Some("address"));
        assert_eq!(reads_as("ジュウキ ハナコ3".as_bytes()), Some("kana"));
        assert_eq!(reads_as("住基 花子".as_bytes()), Some("name"));
        assert_eq!(reads_as(b"Yamada Taro"), Some("name"));
        assert_eq!(reads_as(b"090-1234-5678"), Some("phone"));
        // 12 digits: a 個人番号 only with its check digit (1234 5678 901 → 8).
        assert_eq!(reads_as(b"123456789018"), Some("my_number"));
        assert_eq!(reads_as(b"123456789012"), None);
        // Codes, flags, dates, ciphertext.
        for code in ["ACTIVE", "A-0001", "2024-04-01", "1234567890", "ENC:8f3a9c0d1e2f", "ww0EBwMCx8d9", "active user"] {
            assert_eq!(reads_as(code.as_bytes()), None, "{code}");
        }
        assert_eq!(reads_as(&[0xc3, 0x0d, 0x04, 0x07, 0xff, 0x00]), None);
    }

    #[test]
    fn a_handful_of_repeated_words_is_a_flag_not_personal_data() {
        let mut flags = Undeclared::default();
        for i in 0..100 {
            flags.add(["転入", "転出", "死亡", "有効"][i % 4].as_bytes());
        }
        assert_eq!((flags.readable, flags.personal()), (100, None));
        let mut addresses = Undeclared::default();
        for i in 0..20 {
            addresses.add(format!("東京都千代田区霞が関{i}-1-1").as_bytes());
        }
        addresses.add(b"ENC:00");
        assert_eq!((addresses.values, addresses.personal()), (21, Some(("address", 20))));
    }

    #[test]
    fn entropy_bounds() {
        assert_eq!(entropy(b""), 0.0);
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(&(0u8..=255).collect::<Vec<_>>()) - 8.0).abs() < 1e-9);
    }
}
