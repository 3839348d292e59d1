//! Vietnamese licence-plate parsing and validation (pure, no I/O).
//!
//! Formats (plate alphabet 0-9 A-Z; dashes and dots are layout only):
//! - one-line car plates: province (2 digits), series (a letter, optionally followed by a letter
//!   or digit), number (4 or 5 digits): `51G-123.45`, `30A-1234`, `51LD-123.45`;
//! - two-line plates (motorbikes, square car plates): top line province + series (`59-X1`,
//!   `29-BN`, `60K`, and for electric motorbikes `60-MĐ5`, the only series of two letters and a
//!   digit), bottom line the number (`234.56`, `2345`). The digit of a letter-and-digit series
//!   (`X1`) is 1 to 9, never 0;
//! - old motorbike plates, still on the road: the province over three digits and the series
//!   (`60` over `759-AN`), read only on motorbikes;
//! - military plates: two unit letters and four digits (`KP-47-90`), red.
//!
//! A five-digit number is written with a dot (`123.45`) and a four-digit one without; codes
//! that name no province (13, 42, 44-46, 87, 91, 96) are refused.
//!
//! OCR confuses some characters; the position of a character in the format decides which
//! reading is possible (a province is digits, a series starts with a letter), so confusable
//! characters are corrected by position: 0/O/D/Q, 1/I/T, 8/B, 5/S, 2/Z, 6/G, 4/A.

use serde::Serialize;

/// The character classes one position of a plate format admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// 0-9.
    Digit,
    /// A civil series letter: A-Z except I, J, O, Q and W, which no series uses.
    Letter,
    /// The first letter of a military unit code, which names the kind of unit: A (corps),
    /// B (arms), C, D, H (academies), K (military regions), P, Q (services), T (general
    /// departments), V (`KP-47-90`, `QA-59-01`).
    UnitKind,
    /// The second letter of a military unit code: A-Z except I, J, O and W.
    UnitLetter,
    /// The second series character: a civil series letter or a digit 1 to 9 (`X1`, `BN`). No
    /// series digit is 0: where the recogniser reads one, the letter it scores next is taken
    /// (mostly the `D` of `60-LĐ`, sometimes a `U`).
    LetterOrDigit,
    /// The second character of a motorbike's series (`59-X1`, `60-AA`): admits what
    /// [`Slot::LetterOrDigit`] admits, but is mostly a digit ([`Slot::prior_ln`]).
    SeriesSecond,
    /// The `M` of `MĐ`, the electric-motorbike series and the only series of two letters and a
    /// digit (`60-MĐ5`). The recogniser, trained on Chinese and Latin text, reads this `M` beside
    /// a `Đ` as `H`, `N` or `W`; at this position those are the `M`.
    ElectricM,
    /// The `Đ` of `MĐ`: read as `D`, or as its look-alikes `O`, `Q`, `U` and `0`.
    ElectricD,
    /// Exactly this plate character (a digit also as the letter the recogniser reads for it:
    /// `O`, `Q` for `0`, `I` for `1`): to score a given plate text under a line.
    Exact(char),
}

impl Slot {
    /// Whether `c` may stand at this position.
    pub fn admits(self, c: char) -> bool {
        self.spell(c).is_some()
    }

    /// What a character the recogniser reads at this position is on the plate. Plates never
    /// use the letters O and I (nor Q outside military units), so where a digit must stand
    /// they are the digits 0 and 1 they look like; any other letter is no digit.
    pub fn spell(self, c: char) -> Option<char> {
        let letter = |c: char| c.is_ascii_uppercase() && !matches!(c, 'I' | 'J' | 'O' | 'W');
        let ok = match self {
            Slot::Digit => {
                return match c {
                    '0'..='9' => Some(c),
                    'O' | 'Q' => Some('0'),
                    'I' => Some('1'),
                    _ => None,
                };
            }
            Slot::Letter => letter(c) && c != 'Q',
            Slot::UnitKind => {
                matches!(c, 'A' | 'B' | 'C' | 'D' | 'H' | 'K' | 'P' | 'Q' | 'T' | 'V')
            }
            Slot::UnitLetter => letter(c),
            Slot::LetterOrDigit | Slot::SeriesSecond => {
                matches!(c, '1'..='9') || (letter(c) && c != 'Q')
            }
            Slot::ElectricM => return electric_m(c),
            Slot::ElectricD => return electric_d(c),
            Slot::Exact(want) => {
                let read = if want.is_ascii_digit() {
                    Slot::Digit.spell(c)
                } else {
                    Some(c)
                };
                return (read == Some(want)).then_some(want);
            }
        };
        ok.then_some(c)
    }

    /// The log-weight a path pays for reading `c` at this position, beside the recogniser's
    /// own probability: how much rarer plates with `c` here are than the format's other
    /// admitted characters. Zero except for a letter as a motorbike's second series character
    /// ([`Slot::SeriesSecond`]): most motorbike series are a letter and a digit (`59-X1`), and
    /// at the plate sizes scenes show the recogniser reads that digit as a letter of the same
    /// shape (`1` as `T`, `2` as `Z`, `4` as `L`). Two letters are mostly the mopeds' `AA` and
    /// the `Đ` of `LĐ` (which looks like the `0` no series has), so `A` and `D` pay nothing.
    /// Car series (`51LD`, `68HC`) and the series of old motorbike plates, on their bottom
    /// line (`759-AN`), are as often two letters: no prior there.
    pub fn prior_ln(self, c: char) -> f32 {
        match self {
            Slot::SeriesSecond if c.is_ascii_uppercase() && !matches!(c, 'A' | 'D') => {
                SERIES_LETTER_PRIOR.ln()
            }
            _ => 0.0,
        }
    }
}

/// How much less likely a letter is than a digit as a motorbike's second series character
/// ([`Slot::prior_ln`]): of the 202 motorbike plates with a two-character series in
/// vn_scenes_labelled, 78% have a digit there and 6% a letter other than `A` or `D`, each such
/// letter about 20 times rarer than each digit; the weight is milder because the recogniser's
/// scores are not calibrated probabilities.
pub const SERIES_LETTER_PRIOR: f32 = 0.25;

/// The families of plates, told apart before reading: military plates are red with white
/// characters, every civil plate (white, yellow, blue) is not; a civil plate on a vehicle the
/// detector found to be a motorbike carries a motorbike series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Civil,
    Military,
    /// A civil plate on a motorbike: two lines whose series is a letter and a digit (`59-X1`),
    /// two letters (`60-AA`, mopeds) or `MĐ` and a digit, never a lone letter (`60A` over the
    /// number is a square car plate). Read `60A` over `443.79`, a motorbike's plate is the
    /// `60-AA 443.79` whose repeated `A` the recogniser ran together.
    Motorbike,
}

/// One-line civil plates: province, series (one letter, or two for special series such as `LD`,
/// `KT`, `TĐ`), number (4 or 5 digits).
pub const ONE_LINE_FORMATS: &[&[Slot]] = {
    use Slot::{Digit as D, Letter as L};
    &[
        &[D, D, L, D, D, D, D],
        &[D, D, L, D, D, D, D, D],
        &[D, D, L, L, D, D, D, D],
        &[D, D, L, L, D, D, D, D, D],
    ]
};

/// Top lines of two-line civil plates: province and series (`59-X1`, `29-BN`, `60K`, `60-MĐ5`).
pub const TOP_LINE_FORMATS: &[&[Slot]] = {
    use Slot::{Digit as D, ElectricD, ElectricM, Letter as L, LetterOrDigit as X};
    &[&[D, D, L], &[D, D, L, X], &[D, D, ElectricM, ElectricD, D]]
};

/// What the recogniser's reading `c` of the `M` of `MĐ` stands for.
fn electric_m(c: char) -> Option<char> {
    matches!(c, 'M' | 'H' | 'N' | 'W').then_some('M')
}

/// What the recogniser's reading `c` of the `Đ` of `MĐ` stands for.
fn electric_d(c: char) -> Option<char> {
    matches!(c, 'D' | 'O' | 'Q' | 'U' | '0').then_some('D')
}

/// Bottom lines of two-line civil plates: the number.
pub const BOTTOM_LINE_FORMATS: &[&[Slot]] = {
    use Slot::Digit as D;
    &[&[D, D, D, D], &[D, D, D, D, D]]
};

/// Bottom lines of motorbike plates: the number, or on old plates three digits and the series
/// (`60` over `759-AN`, `43` over `475-M`).
pub const MOTORBIKE_BOTTOM_LINE_FORMATS: &[&[Slot]] = {
    use Slot::{Digit as D, Letter as L, LetterOrDigit as X};
    &[
        &[D, D, D, D],
        &[D, D, D, D, D],
        &[D, D, D, L],
        &[D, D, D, L, X],
    ]
};

/// Top lines of motorbike plates: province and a series of a letter and a digit or letter
/// (`59-X1`, `60-AA`), or `MĐ` and a digit; or the province alone (old plates, whose series is
/// on the bottom line: [`MOTORBIKE_BOTTOM_LINE_FORMATS`]).
pub const MOTORBIKE_TOP_LINE_FORMATS: &[&[Slot]] = {
    use Slot::{Digit as D, ElectricD, ElectricM, Letter as L, SeriesSecond as X};
    &[&[D, D, L, X], &[D, D, ElectricM, ElectricD, D], &[D, D]]
};

/// Where a format's number is written with a dot: a number of five digits is `123.45`, so a
/// format ending in five digits (after a non-digit) has its dot after all but two of its
/// characters; other formats have none.
pub fn dot_split(format: &[Slot]) -> Option<usize> {
    let digits = format
        .iter()
        .rev()
        .take_while(|s| **s == Slot::Digit)
        .count();
    (digits == 5).then(|| format.len() - 2)
}

/// Military plates on one line: two unit letters, four digits (`KP-47-90`).
pub const MILITARY_ONE_LINE_FORMATS: &[&[Slot]] = {
    use Slot::{Digit as D, UnitKind as K, UnitLetter as U};
    &[&[K, U, D, D, D, D]]
};

/// Military plates on two lines: the unit (`KP`) over the number (`47-90`).
pub const MILITARY_TOP_LINE_FORMATS: &[&[Slot]] = &[&[Slot::UnitKind, Slot::UnitLetter]];
/// See [`MILITARY_TOP_LINE_FORMATS`].
pub const MILITARY_BOTTOM_LINE_FORMATS: &[&[Slot]] = &[&[Slot::Digit; 4]];

impl Family {
    /// The families to read a plate as, in order: a red region that gives no military reading
    /// is read as civil (a white plate on a red car); a civil one is never read as military.
    pub fn fallbacks(self) -> &'static [Family] {
        match self {
            Family::Civil => &[Family::Civil],
            Family::Military => &[Family::Military, Family::Civil],
            // The vehicle may be misjudged (a car behind a motorbike): any civil plate next.
            Family::Motorbike => &[Family::Motorbike, Family::Civil],
        }
    }

    /// Formats of a one-line plate of this family.
    pub fn one_line_formats(self) -> &'static [&'static [Slot]] {
        match self {
            Family::Civil | Family::Motorbike => ONE_LINE_FORMATS,
            Family::Military => MILITARY_ONE_LINE_FORMATS,
        }
    }

    /// Formats of the top and bottom lines of a two-line plate of this family.
    pub fn two_line_formats(self) -> (&'static [&'static [Slot]], &'static [&'static [Slot]]) {
        match self {
            Family::Civil => (TOP_LINE_FORMATS, BOTTOM_LINE_FORMATS),
            Family::Motorbike => (MOTORBIKE_TOP_LINE_FORMATS, MOTORBIKE_BOTTOM_LINE_FORMATS),
            Family::Military => (MILITARY_TOP_LINE_FORMATS, MILITARY_BOTTOM_LINE_FORMATS),
        }
    }
}

/// Which layout a plate matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateFormat {
    /// One line: `51G-123.45`.
    OneLine,
    /// Two lines: `59-X1` over `234.56`.
    TwoLine,
    /// Military: two letters and four digits, `KP-47-90`.
    Military,
    /// Old motorbike plates: the province over the number and series, `60 759-AN`.
    OldTwoLine,
}

/// A plate that parsed as a valid Vietnamese plate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedPlate {
    /// Canonical text: `51G-123.45` (one line) or `59-X1 234.56` (two lines, top then bottom).
    pub text: String,
    /// Only 0-9 A-Z, lines joined top to bottom: `51G12345`.
    pub normalized: String,
    pub format: PlateFormat,
    pub province: String,
    pub series: String,
    pub number: String,
    /// Characters changed by the positional confusable correction.
    pub corrections: usize,
}

/// Keeps only the plate alphabet, upper-cased. The Vietnamese `Đ` of special series
/// (`TĐ`, `MĐ1`) is embossed as a `D` with a bar and read as `D`, so it normalises to `D`.
pub fn normalize(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let c = match c {
                'Đ' | 'đ' => 'D',
                c => c.to_ascii_uppercase(),
            };
            c.is_ascii_alphanumeric().then_some(c)
        })
        .collect()
}

/// A character that must be a digit: confusable letters become digits.
fn as_digit(c: char) -> Option<(char, bool)> {
    if c.is_ascii_digit() {
        return Some((c, false));
    }
    let d = match c {
        'O' | 'D' | 'Q' | 'U' => '0',
        'I' | 'L' | 'T' | 'J' => '1',
        'Z' => '2',
        'A' => '4',
        'S' => '5',
        'G' | 'C' => '6',
        'B' => '8',
        _ => return None,
    };
    Some((d, true))
}

/// Series letters never use I, J, O, Q or W; OCR readings of them are their look-alikes.
fn unused_letter(c: char) -> Option<char> {
    match c {
        'W' => Some('M'),
        'O' | 'Q' => Some('D'),
        'I' | 'J' => Some('T'),
        _ => None,
    }
}

/// A character that must be a letter: confusable digits (and letters no series uses) become
/// letters.
fn as_letter(c: char) -> Option<(char, bool)> {
    if let Some(l) = unused_letter(c) {
        return Some((l, true));
    }
    if c.is_ascii_uppercase() {
        return Some((c, false));
    }
    let l = match c {
        '0' => 'D',
        '1' => 'T',
        '2' => 'Z',
        '4' => 'A',
        '5' => 'S',
        '6' => 'G',
        '8' => 'B',
        _ => return None,
    };
    Some((l, true))
}

fn digits(s: &[char]) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut fixes = 0;
    for &c in s {
        let (d, fixed) = as_digit(c)?;
        out.push(d);
        fixes += fixed as usize;
    }
    Some((out, fixes))
}

/// Two-digit codes between 11 and 99 that name no province (Circular 58/2020/TT-BCA, appendix
/// 2: 13 is retired, 42, 44-46, 87, 91 and 96 were never given; 80 is the central agencies').
const NO_PROVINCE: &[u32] = &[13, 42, 44, 45, 46, 87, 91, 96];

fn valid_province(p: &str) -> bool {
    p.parse::<u32>()
        .is_ok_and(|n| (11..=99).contains(&n) && !NO_PROVINCE.contains(&n))
}

fn format_number(n: &str) -> String {
    if n.len() == 5 {
        format!("{}.{}", &n[..3], &n[3..])
    } else {
        n.to_string()
    }
}

/// Province + series from the first characters (`series_len` 1 to 3: a letter, then a letter
/// or digit; three characters only for the electric-motorbike series, `MĐ` and a digit).
fn head(chars: &[char], series_len: usize) -> Option<(String, String, usize)> {
    if chars.len() < 2 + series_len {
        return None;
    }
    let (province, mut fixes) = digits(&chars[..2])?;
    if !valid_province(&province) {
        return None;
    }
    if series_len == 3 {
        // Two letters then a digit is the electric-motorbike series MĐ and no other series: its
        // letters are read as what they are misread as at these positions.
        let (m, d) = (electric_m(chars[2])?, electric_d(chars[3])?);
        let (digit, f) = as_digit(chars[4])?;
        fixes += usize::from(m != chars[2]) + usize::from(d != chars[3]) + usize::from(f);
        return Some((province, format!("{m}{d}{digit}"), fixes));
    }
    let (series, f) = series(&chars[2..2 + series_len])?;
    Some((province, series, fixes + f))
}

/// A one- or two-character civil series (`G`, `X1`, `LD`) and the corrections it needed.
fn series(chars: &[char]) -> Option<(String, usize)> {
    let (&first, rest) = chars.split_first()?;
    let (first, f) = as_letter(first)?;
    let mut fixes = f as usize;
    let mut series = first.to_string();
    match rest {
        [] => {}
        &[c] => {
            // The second series character is a letter or a digit 1 to 9; only letters no
            // series uses, and the 0 no series has, are corrected.
            if !c.is_ascii_alphanumeric() {
                return None;
            }
            match unused_letter(c).or((c == '0').then_some('D')) {
                Some(l) => {
                    series.push(l);
                    fixes += 1;
                }
                None => series.push(c),
            }
        }
        _ => return None,
    }
    Some((series, fixes))
}

/// Parses OCR text of a one-line plate (or of both lines joined) into a valid plate, choosing
/// the segmentation that needs the fewest corrections.
pub fn parse_one_line(raw: &str) -> Option<ParsedPlate> {
    let chars: Vec<char> = normalize(raw).chars().collect();
    let mut best: Option<ParsedPlate> = None;
    if let Some(p) = parse_military(&chars) {
        best = Some(p);
    }
    for series_len in [1, 2, 3] {
        for number_len in [5, 4] {
            if chars.len() != 2 + series_len + number_len {
                continue;
            }
            let Some((province, series, f1)) = head(&chars, series_len) else {
                continue;
            };
            let Some((number, f2)) = digits(&chars[2 + series_len..]) else {
                continue;
            };
            let p = ParsedPlate {
                text: format!("{province}{series}-{}", format_number(&number)),
                normalized: format!("{province}{series}{number}"),
                format: PlateFormat::OneLine,
                province,
                series,
                number,
                corrections: f1 + f2,
            };
            if best.as_ref().is_none_or(|b| p.corrections < b.corrections) {
                best = Some(p);
            }
        }
    }
    best
}

/// Parses a two-line plate from its top line (province + series) and bottom line (number).
pub fn parse_two_line(top: &str, bottom: &str) -> Option<ParsedPlate> {
    let t: Vec<char> = normalize(top).chars().collect();
    let b: Vec<char> = normalize(bottom).chars().collect();
    if t.len() == 2 {
        // Military: the unit letters over the number (`KP` over `47-90`); or an old motorbike
        // plate: the province over the number and series (`60` over `759-AN`).
        let joined: Vec<char> = t.iter().chain(&b).copied().collect();
        return (b.len() == 4)
            .then(|| parse_military(&joined))
            .flatten()
            .or_else(|| parse_old_motorbike(&t, &b));
    }
    if !(3..=5).contains(&t.len()) || !(4..=5).contains(&b.len()) {
        return None;
    }
    let (province, series, f1) = head(&t, t.len() - 2)?;
    let (number, f2) = digits(&b)?;
    Some(ParsedPlate {
        text: format!("{province}-{series} {}", format_number(&number)),
        normalized: format!("{province}{series}{number}"),
        format: PlateFormat::TwoLine,
        province,
        series,
        number,
        corrections: f1 + f2,
    })
}

/// Old motorbike plates, still on the road: the province on the top line, three digits and the
/// series (a letter, then a letter or digit) on the bottom line: `60` over `759-AN`, `43` over
/// `475-M`. Written `60 759-AN`, normalised `60759AN` (top line first).
fn parse_old_motorbike(top: &[char], bottom: &[char]) -> Option<ParsedPlate> {
    if top.len() != 2 || !(4..=5).contains(&bottom.len()) {
        return None;
    }
    let (province, f1) = digits(top)?;
    if !valid_province(&province) {
        return None;
    }
    let (number, f2) = digits(&bottom[..3])?;
    // The series starts with a letter read as one: a digit there is the number's fourth digit.
    if !bottom[3].is_ascii_uppercase() {
        return None;
    }
    let (series, f3) = series(&bottom[3..])?;
    Some(ParsedPlate {
        text: format!("{province} {number}-{series}"),
        normalized: format!("{province}{number}{series}"),
        format: PlateFormat::OldTwoLine,
        province,
        series,
        number,
        corrections: f1 + f2 + f3,
    })
}

/// Military plates: two letters (unit) and four digits, `KP-47-90`.
fn parse_military(chars: &[char]) -> Option<ParsedPlate> {
    if chars.len() != 6 {
        return None;
    }
    let mut fixes = 0;
    let mut unit = String::new();
    for &c in &chars[..2] {
        // Unit letters must be read as letters: digits turned into letters here mostly come
        // from a civil plate read short.
        if !c.is_ascii_uppercase() {
            return None;
        }
        // Q is a military unit letter (`QA`, `QB`, `QH`), unlike in civil series.
        let (l, f) = if c == 'Q' {
            ('Q', false)
        } else {
            as_letter(c)?
        };
        unit.push(l);
        fixes += f as usize;
    }
    let (number, f) = digits(&chars[2..])?;
    Some(ParsedPlate {
        text: format!("{unit}-{}-{}", &number[..2], &number[2..]),
        normalized: format!("{unit}{number}"),
        format: PlateFormat::Military,
        province: String::new(),
        series: unit,
        number,
        corrections: fixes + f,
    })
}

/// Levenshtein distance over chars (insertions, deletions and substitutions each count 1):
/// how far a reading is from a plate, for scoring and for fuzzy plate search.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_red_plate_falls_back_to_civil_but_a_civil_one_is_never_read_as_military() {
        assert_eq!(
            Family::Military.fallbacks(),
            &[Family::Military, Family::Civil]
        );
        assert_eq!(Family::Civil.fallbacks(), &[Family::Civil]);
        assert_eq!(
            Family::Motorbike.fallbacks(),
            &[Family::Motorbike, Family::Civil],
            "a misjudged vehicle still gets a civil reading"
        );
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("51G12345", "51G12345"), 0);
        assert_eq!(edit_distance("51G12345", "51G1234"), 1);
        assert_eq!(edit_distance("51G12345", "52G12345"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn a_two_line_military_plate_is_the_unit_over_the_number() {
        let p = parse_two_line("KP", "47-90").expect("valid");
        assert_eq!(p.text, "KP-47-90");
        assert_eq!(p.format, PlateFormat::Military);
        assert!(
            parse_two_line("K1", "47-90").is_none(),
            "unit letters must be letters"
        );
    }

    #[test]
    fn the_vietnamese_d_with_stroke_normalises_to_d() {
        assert_eq!(normalize("28TĐ-000.67"), "28TD00067");
        assert_eq!(normalize("60-mđ5 502.55"), "60MD550255");
    }

    #[test]
    fn a_car_plate_is_parsed_and_written_canonically() {
        let p = parse_one_line("51G-123.45").expect("valid");
        assert_eq!(p.text, "51G-123.45");
        assert_eq!(p.normalized, "51G12345");
        assert_eq!(
            (p.province.as_str(), p.series.as_str(), p.number.as_str()),
            ("51", "G", "12345")
        );
        assert_eq!(p.corrections, 0);
    }

    #[test]
    fn an_old_four_digit_plate_is_valid() {
        assert_eq!(parse_one_line("30A 1234").expect("valid").text, "30A-1234");
    }

    #[test]
    fn a_two_line_motorbike_plate_is_joined_top_to_bottom() {
        let p = parse_two_line("59-X1", "234.56").expect("valid");
        assert_eq!(p.text, "59-X1 234.56");
        assert_eq!(p.normalized, "59X123456");
        assert_eq!(p.format, PlateFormat::TwoLine);
    }

    #[test]
    fn confusable_characters_are_corrected_by_position() {
        // Province "S1" -> 51, series "6" -> G, number "I23.4S" -> 12345.
        let p = parse_one_line("S16-I23.4S").expect("valid");
        assert_eq!(p.text, "51G-123.45");
        assert_eq!(p.corrections, 4);
        // In a two-line plate a 0 where the series letter stands is a D.
        assert_eq!(
            parse_two_line("290", "12345").expect("valid").text,
            "29-D 123.45"
        );
    }

    #[test]
    fn letters_no_series_uses_are_read_as_their_look_alikes() {
        assert_eq!(
            parse_two_line("37W1", "07918").expect("valid").text,
            "37-M1 079.18"
        );
        assert_eq!(
            parse_one_line("51O-12345").expect("valid").text,
            "51D-123.45"
        );
    }

    #[test]
    fn military_and_three_character_special_series_are_valid() {
        let m = parse_one_line("KP-47-90").expect("military");
        assert_eq!(
            (m.text.as_str(), m.format),
            ("KP-47-90", PlateFormat::Military)
        );
        let s = parse_two_line("60-MD5", "502.55").expect("special series");
        assert_eq!(s.text, "60-MD5 502.55");
        assert!(
            parse_two_line("60-LA5", "502.55").is_none(),
            "MĐ is the only series of two letters and a digit"
        );
        assert_eq!(
            parse_one_line("28TD-000.67").expect("valid").normalized,
            "28TD00067"
        );
    }

    #[test]
    fn the_electric_motorbike_series_is_read_through_its_usual_misreadings() {
        for top in ["60HD1", "60ND1", "60WD1", "60HU1", "60H01", "60MO1"] {
            let p = parse_two_line(top, "01868").expect(top);
            assert_eq!(p.text, "60-MD1 018.68", "{top}");
            assert!(p.corrections >= 1, "{top}: a misreading is a correction");
        }
        assert_eq!(
            parse_two_line("60MD1", "01868").expect("valid").corrections,
            0
        );
    }

    #[test]
    fn no_series_digit_is_zero_so_a_zero_there_is_a_d() {
        assert_eq!(
            parse_two_line("60L0", "02777").expect("valid").text,
            "60-LD 027.77"
        );
        assert_eq!(Slot::LetterOrDigit.spell('0'), None);
        assert_eq!(Slot::LetterOrDigit.spell('7'), Some('7'));
    }

    #[test]
    fn a_five_digit_number_has_its_dot_before_the_last_two_digits() {
        assert_eq!(dot_split(ONE_LINE_FORMATS[1]), Some(6)); // 51G-123|.45
        assert_eq!(dot_split(ONE_LINE_FORMATS[3]), Some(7)); // 51LD-123|.45
        assert_eq!(dot_split(BOTTOM_LINE_FORMATS[1]), Some(3)); // 234|.56
        assert_eq!(dot_split(ONE_LINE_FORMATS[0]), None); // 51G-1234
        assert_eq!(dot_split(BOTTOM_LINE_FORMATS[0]), None);
        assert_eq!(dot_split(MILITARY_ONE_LINE_FORMATS[0]), None); // KP-47-90
        assert_eq!(dot_split(TOP_LINE_FORMATS[1]), None);
    }

    #[test]
    fn a_province_code_no_province_has_is_refused() {
        assert!(parse_one_line("60K12345").is_some());
        for code in ["13", "42", "44", "45", "46", "87", "91", "96", "10"] {
            assert_eq!(parse_one_line(&format!("{code}K12345")), None, "{code}");
            assert_eq!(
                parse_two_line(&format!("{code}B1"), "23456"),
                None,
                "{code}"
            );
        }
    }

    #[test]
    fn an_old_motorbike_plate_is_the_province_over_the_number_and_series() {
        for (top, bottom, text, normalized) in [
            ("60", "759AN", "60 759-AN", "60759AN"),
            ("43", "475-M", "43 475-M", "43475M"),
            ("32", "953K6", "32 953-K6", "32953K6"),
        ] {
            let p = parse_two_line(top, bottom).expect(text);
            assert_eq!(p.text, text);
            assert_eq!(p.normalized, normalized);
            assert_eq!(p.format, PlateFormat::OldTwoLine);
            assert_eq!(p.corrections, 0);
        }
        // A number read short is no old plate: its series must be read as a letter.
        assert_eq!(parse_two_line("85", "00244"), None);
        assert_eq!(parse_two_line("13", "759AN"), None, "no province 13");
        // Two letters over four digits are still a military plate.
        let m = parse_two_line("KP", "4675").expect("military");
        assert_eq!(m.format, PlateFormat::Military);
    }

    #[test]
    fn text_that_is_no_plate_is_refused() {
        assert!(parse_one_line("HELLO").is_none());
        assert!(
            parse_one_line("05A-12345").is_none(),
            "province 05 does not exist"
        );
        assert!(parse_two_line("59-X1", "23").is_none());
        assert!(parse_one_line("").is_none());
    }
}
