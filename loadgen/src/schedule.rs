//! Open-model arrival schedule: the intended send time of the k-th request
//! of one operation, fixed in advance from the rate (and a linear ramp),
//! independent of how fast the server answers.

/// Arrivals of one operation: `rate` per second, reached linearly over `ramp` seconds.
#[derive(Debug, Clone, Copy)]
pub struct Arrivals {
    pub rate: f64,
    pub ramp: f64,
}

impl Arrivals {
    /// Seconds from the phase start at which request `k` (0-based) is due.
    /// During the ramp the count sent by time t is rate·t²/(2·ramp); after it,
    /// rate·ramp/2 + rate·(t − ramp).
    pub fn intended(&self, k: u64) -> f64 {
        let k = k as f64;
        if self.ramp <= 0.0 {
            return k / self.rate;
        }
        let during_ramp = self.rate * self.ramp / 2.0;
        if k < during_ramp {
            (2.0 * self.ramp * k / self.rate).sqrt()
        } else {
            self.ramp + (k - during_ramp) / self.rate
        }
    }

    /// How many requests are due before `t` seconds.
    pub fn count_before(&self, t: f64) -> u64 {
        let mut n = if self.ramp <= 0.0 {
            (t * self.rate).ceil() as u64
        } else if t <= self.ramp {
            (self.rate * t * t / (2.0 * self.ramp)).ceil() as u64
        } else {
            (self.rate * self.ramp / 2.0 + self.rate * (t - self.ramp)).ceil() as u64
        };
        // Float rounding at the boundary: make it exact by the definition.
        while n > 0 && self.intended(n - 1) >= t {
            n -= 1;
        }
        while self.intended(n) < t {
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_is_evenly_spaced() {
        let a = Arrivals { rate: 100.0, ramp: 0.0 };
        assert_eq!(a.intended(0), 0.0);
        assert!((a.intended(50) - 0.5).abs() < 1e-12);
        assert_eq!(a.count_before(1.0), 100);
    }

    #[test]
    fn ramp_is_monotonic_and_reaches_the_rate() {
        let a = Arrivals { rate: 100.0, ramp: 2.0 };
        let mut last = -1.0;
        for k in 0..500 {
            let t = a.intended(k);
            assert!(t > last, "k={k}");
            last = t;
        }
        // 100 requests during the 2 s ramp, then 100/s.
        assert_eq!(a.count_before(2.0), 100);
        assert_eq!(a.count_before(3.0), 200);
        // spacing after the ramp is 1/rate
        assert!((a.intended(301) - a.intended(300) - 0.01).abs() < 1e-9);
    }
}
