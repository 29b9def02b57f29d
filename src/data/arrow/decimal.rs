//! Exact decimal helpers: rescaling, precision bounds, and decimal text of unscaled integers of
//! any length (VariableScaleDecimal values can exceed 76 digits).

use arrow::datatypes::i256;

/// 10^p as i256, for p ≤ 76.
pub fn pow10(p: u32) -> Option<i256> {
    i256::from_i128(10).checked_pow(p)
}

/// Whether `unscaled` has at most `precision` digits.
pub fn fits_precision(unscaled: i256, precision: u8) -> bool {
    match pow10(precision as u32) {
        Some(max) => unscaled < max && unscaled > max.wrapping_neg(),
        // 10^77 exceeds i256: every i256 with ≤ 76 digits fits, and i256 holds 77 digits only
        // partially; precision > 76 is never asked for.
        None => true,
    }
}

/// Why a decimal does not fit a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RescaleError {
    /// Dropping digits would change the value.
    FractionalDigits,
    /// The rescaled value exceeds 76 digits.
    Overflow,
}

/// `unscaled × 10^-from` expressed at scale `to`, exactly.
pub fn rescale(unscaled: i256, from: i32, to: i32) -> Result<i256, RescaleError> {
    if from == to {
        return Ok(unscaled);
    }
    let diff = (to as i64 - from as i64).unsigned_abs();
    if diff > 76 {
        return if unscaled == i256::ZERO {
            Ok(i256::ZERO)
        } else if to > from {
            Err(RescaleError::Overflow)
        } else {
            Err(RescaleError::FractionalDigits)
        };
    }
    let f = pow10(diff as u32).ok_or(RescaleError::Overflow)?;
    if to > from {
        unscaled.checked_mul(f).ok_or(RescaleError::Overflow)
    } else {
        let (q, r) = unscaled
            .checked_div_rem(f)
            .ok_or(RescaleError::FractionalDigits)?;
        if r != i256::ZERO {
            return Err(RescaleError::FractionalDigits);
        }
        Ok(q)
    }
}

/// Plain decimal text (`-1.500`) of big-endian two's complement `bytes` at `scale`, for any
/// length (base 10^9 long division).
pub fn text_from_be_bytes(bytes: &[u8], scale: i32) -> String {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    // Magnitude as big-endian bytes.
    let mut mag: Vec<u8> = bytes.to_vec();
    if negative {
        // Two's complement negation: invert and add one.
        for b in mag.iter_mut() {
            *b = !*b;
        }
        for b in mag.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
    }
    // Big-endian u32 limbs.
    let mut limbs: Vec<u32> = Vec::with_capacity(mag.len() / 4 + 1);
    let pad = (4 - mag.len() % 4) % 4;
    let mut padded = vec![0u8; pad];
    padded.extend_from_slice(&mag);
    for chunk in padded.chunks(4) {
        limbs.push(u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
    }
    let mut groups: Vec<u32> = Vec::new();
    while limbs.iter().any(|&l| l != 0) {
        let mut rem: u64 = 0;
        for l in limbs.iter_mut() {
            let cur = (rem << 32) | *l as u64;
            *l = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        groups.push(rem as u32);
        while limbs.first() == Some(&0) {
            limbs.remove(0);
        }
    }
    let mut digits = match groups.pop() {
        None => "0".to_string(),
        Some(top) => top.to_string(),
    };
    for g in groups.iter().rev() {
        digits.push_str(&format!("{g:09}"));
    }
    place_point(negative && digits != "0", &digits, scale)
}

/// `digits × 10^-scale` as plain text.
fn place_point(negative: bool, digits: &str, scale: i32) -> String {
    let sign = if negative { "-" } else { "" };
    if scale <= 0 {
        if digits == "0" {
            return "0".into();
        }
        return format!(
            "{sign}{digits}{}",
            "0".repeat(scale.unsigned_abs() as usize)
        );
    }
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// Inverse of [`text_from_be_bytes`]: plain decimal text → (minimal big-endian two's complement
/// bytes of the unscaled value, scale = number of fractional digits). `None` if not plain text.
pub fn be_bytes_from_text(text: &str) -> Option<(Vec<u8>, i32)> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Magnitude in little-endian u32 limbs: multiply-add per digit.
    let mut limbs: Vec<u32> = vec![0];
    for d in int.bytes().chain(frac.bytes()) {
        let mut carry = (d - b'0') as u64;
        for l in limbs.iter_mut() {
            let cur = *l as u64 * 10 + carry;
            *l = cur as u32;
            carry = cur >> 32;
        }
        if carry != 0 {
            limbs.push(carry as u32);
        }
    }
    let mut mag: Vec<u8> = limbs.iter().rev().flat_map(|l| l.to_be_bytes()).collect();
    // One extra leading byte leaves room for the sign bit.
    mag.insert(0, 0);
    if negative {
        for b in mag.iter_mut() {
            *b = !*b;
        }
        for b in mag.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
    }
    // Minimal form, as Java's BigInteger.toByteArray.
    let mut start = 0;
    while start + 1 < mag.len() {
        let (b, next) = (mag[start], mag[start + 1]);
        let redundant = (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    Some((mag[start..].to_vec(), frac.len() as i32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::json::{unscaled_from_be_bytes, unscaled_to_be_bytes};

    #[test]
    fn text_of_any_length() {
        assert_eq!(text_from_be_bytes(&[0x00, 0x9f], 2), "1.59");
        assert_eq!(text_from_be_bytes(&[0x01, 0xe2], 3), "0.482");
        assert_eq!(text_from_be_bytes(&[0xff], 3), "-0.001");
        assert_eq!(text_from_be_bytes(&[], 0), "0");
        assert_eq!(text_from_be_bytes(&[0x00], 2), "0.00");
        assert_eq!(text_from_be_bytes(&[0x07], -2), "700");
        // 2^256 − 1 has 78 digits: beyond i256, still exact.
        let mut big = vec![0u8];
        big.extend([0xff; 32]);
        let t = text_from_be_bytes(&big, 0);
        assert_eq!(
            t,
            "115792089237316195423570985008687907853269984665640564039457584007913129639935"
        );
        assert_eq!(be_bytes_from_text(&t), Some((big, 0)));
        for v in [
            0i128,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            159,
            -(1i128 << 100),
            i128::MAX,
        ] {
            let b = unscaled_to_be_bytes(i256::from_i128(v));
            let text = text_from_be_bytes(&b, 4);
            let (back, scale) = be_bytes_from_text(&text).unwrap();
            assert_eq!(scale, 4);
            assert_eq!(back, b, "{v} {text}");
            assert_eq!(unscaled_from_be_bytes(&back), Some(i256::from_i128(v)));
        }
    }

    #[test]
    fn rescales_exactly() {
        let v = i256::from_i128(1500);
        assert_eq!(rescale(v, 3, 1), Ok(i256::from_i128(15)));
        assert_eq!(rescale(v, 3, 5), Ok(i256::from_i128(150_000)));
        assert_eq!(
            rescale(i256::from_i128(1501), 3, 1),
            Err(RescaleError::FractionalDigits)
        );
        assert_eq!(rescale(i256::MAX, 0, 1), Err(RescaleError::Overflow));
        assert!(fits_precision(i256::from_i128(99_999), 5));
        assert!(!fits_precision(i256::from_i128(100_000), 5));
        assert!(!fits_precision(i256::from_i128(-100_000), 5));
    }
}
