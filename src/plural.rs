//! Counts with their noun for text output: `1 address`, `2 addresses`, `0 servers`.

use std::fmt::Display;

/// `n` and the noun, singular when `n` is 1: `plural(1, "address", "addresses")` is
/// `1 address`, `plural(3, "address", "addresses")` is `3 addresses`.
pub fn plural<N: Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    let noun = if n == N::from(1) { one } else { many };
    format!("{n} {noun}")
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(plural(1usize, "address", "addresses"), "1 address");
        assert_eq!(plural(0usize, "address", "addresses"), "0 addresses");
        assert_eq!(plural(2u64, "machine", "machines"), "2 machines");
        assert_eq!(plural(1u32, "workgroup", "workgroups"), "1 workgroup");
        assert_eq!(plural(11u64, "server", "servers"), "11 servers");
        assert_eq!(plural(1u64, "entry", "entries"), "1 entry");
    }
}
