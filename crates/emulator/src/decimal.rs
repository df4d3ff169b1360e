//! Exact decimal arithmetic for money and decimal columns: a JSON number's text (which may have
//! a fraction and an exponent) to an integer count of `10^-scale` units, and back.
//!
//! Money is stored as INTEGER ten-thousandths (SQL Server's `money` is the same: an int64 scaled
//! by 10^4), so storage and comparisons are exact over Dataverse's whole money range.

/// Largest money value Dataverse accepts (spec §2.1 money; Dataverse's documented range).
pub(crate) const MONEY_MAX: i128 = 922_337_203_685_477;
/// Money scale: four decimals.
pub(crate) const MONEY_SCALE: u32 = 4;
/// Decimal-column scale: ten decimals (Dataverse's maximum decimal precision).
pub(crate) const DECIMAL_SCALE: u32 = 10;
/// Largest decimal-column value Dataverse accepts.
pub(crate) const DECIMAL_MAX: i128 = 100_000_000_000;

/// `text × 10^scale`, rounded half away from zero; `None` if `text` is not a JSON number or
/// the result does not fit in 38 digits.
pub(crate) fn scaled(text: &str, scale: u32) -> Option<i128> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    // value = digits × 10^shift after scaling.
    let shift = exponent.checked_sub(i64::try_from(frac.len()).ok()?)?.checked_add(i64::from(scale))?;
    let magnitude: i128 = if shift >= 0 {
        let digit_count = i64::try_from(digits.len()).ok()?;
        if digit_count.checked_add(shift)? > 38 {
            return None;
        }
        let base: i128 = digits.parse().ok()?;
        base.checked_mul(10i128.checked_pow(u32::try_from(shift).ok()?)?)?
    } else {
        let cut = usize::try_from(shift.unsigned_abs()).ok()?;
        if cut > digits.len() {
            0
        } else {
            let (keep, dropped) = digits.split_at(digits.len() - cut);
            if keep.len() > 38 {
                return None;
            }
            let kept: i128 = if keep.is_empty() { 0 } else { keep.parse().ok()? };
            let round_up = dropped.as_bytes().first().is_some_and(|&d| d >= b'5');
            kept.checked_add(i128::from(round_up))?
        }
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// Whether `text` is exactly representable at `scale` (no rounding happened).
pub(crate) fn is_exact(text: &str, scale: u32) -> bool {
    match (scaled(text, scale), scaled(text, scale + 12)) {
        (Some(a), Some(b)) => a.checked_mul(10i128.pow(12)) == Some(b),
        _ => false,
    }
}

/// Formats `units × 10^-scale` with exactly `scale` decimals (`1234.5000`).
pub(crate) fn format(units: i128, scale: u32) -> String {
    let divisor = 10i128.pow(scale);
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    let divisor = divisor.unsigned_abs();
    if scale == 0 {
        return format!("{sign}{abs}");
    }
    format!("{sign}{}.{:0width$}", abs / divisor, abs % divisor, width = scale as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_rounds() {
        assert_eq!(scaled("5000000", 4), Some(50_000_000_000));
        assert_eq!(scaled("12.5", 4), Some(125_000));
        assert_eq!(scaled("-0.00005", 4), Some(-1));
        assert_eq!(scaled("0.00004", 4), Some(0));
        assert_eq!(scaled("1e3", 4), Some(10_000_000));
        assert_eq!(scaled("1.5E-2", 4), Some(150));
        assert_eq!(scaled("1e-400", 4), Some(0));
        assert_eq!(scaled("1e400", 4), None);
        assert_eq!(scaled("0", 4), Some(0));
        assert_eq!(scaled("-0", 4), Some(0));
        assert_eq!(scaled("abc", 4), None);
        assert_eq!(scaled("922337203685477", 4), Some(9_223_372_036_854_770_000));
    }

    #[test]
    fn exactness() {
        assert!(is_exact("12.3456", 4));
        assert!(is_exact("1e2", 4));
        assert!(!is_exact("12.34565", 4));
    }

    #[test]
    fn formats() {
        assert_eq!(format(125_000, 4), "12.5000");
        assert_eq!(format(-1, 4), "-0.0001");
        assert_eq!(format(10_000_000_000, 10), "1.0000000000");
        assert_eq!(format(7, 0), "7");
    }
}
