//! Half-open runs of time slots `[start, end)`, sorted and disjoint, and the
//! set arithmetic the computation needs (scope minus maintenance, down ∪ ...).

/// Sorted, disjoint, non-empty half-open slot ranges.
pub type Runs = Vec<(i64, i64)>;

/// Sort and merge overlapping or touching runs; drop empty ones.
pub fn normalize(mut v: Runs) -> Runs {
    v.retain(|(a, b)| a < b);
    v.sort_unstable();
    let mut out: Runs = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

pub fn total(v: &[(i64, i64)]) -> i64 {
    v.iter().map(|(a, b)| b - a).sum()
}

pub fn union(a: &[(i64, i64)], b: &[(i64, i64)]) -> Runs {
    normalize(a.iter().chain(b.iter()).copied().collect())
}

pub fn intersect(a: &[(i64, i64)], b: &[(i64, i64)]) -> Runs {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        if lo < hi {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// `a` minus `b`.
pub fn subtract(a: &[(i64, i64)], b: &[(i64, i64)]) -> Runs {
    let mut out = Vec::new();
    let mut j = 0;
    for &(mut lo, hi) in a {
        while j < b.len() && b[j].1 <= lo {
            j += 1;
        }
        let mut k = j;
        while k < b.len() && b[k].0 < hi {
            if b[k].0 > lo {
                out.push((lo, b[k].0));
            }
            lo = lo.max(b[k].1);
            k += 1;
        }
        if lo < hi {
            out.push((lo, hi));
        }
    }
    out
}

/// Runs of consecutive slot numbers in a sorted list of slots.
pub fn from_sorted_slots(slots: &[i64]) -> Runs {
    let mut out: Runs = Vec::new();
    for &s in slots {
        match out.last_mut() {
            Some(last) if last.1 == s => last.1 = s + 1,
            _ => out.push((s, s + 1)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let a = vec![(0, 10), (20, 30)];
        let b = vec![(5, 22), (25, 26)];
        assert_eq!(intersect(&a, &b), vec![(5, 10), (20, 22), (25, 26)]);
        assert_eq!(subtract(&a, &b), vec![(0, 5), (22, 25), (26, 30)]);
        assert_eq!(union(&a, &b), vec![(0, 30)]);
        assert_eq!(total(&subtract(&a, &b)), 5 + 3 + 4);
        assert_eq!(normalize(vec![(3, 4), (1, 2), (2, 3), (7, 7)]), vec![(1, 4)]);
        assert_eq!(from_sorted_slots(&[1, 2, 3, 5, 7, 8]), vec![(1, 4), (5, 6), (7, 9)]);
        assert_eq!(subtract(&[(0, 10)], &[]), vec![(0, 10)]);
        assert_eq!(subtract(&[(0, 10)], &[(0, 10)]), Vec::<(i64, i64)>::new());
    }
}
