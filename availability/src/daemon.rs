//! The probe loop: every `interval_secs`, check every target concurrently and
//! record the cycle (heartbeat + samples) in one transaction under the slot of
//! the wall-clock time the cycle started. `--once` runs one cycle (cron,
//! systemd timers, Kubernetes CronJobs).
//!
//! Clock jumps: sleeping uses the wall clock only to find the next slot
//! boundary and never sleeps longer than one interval, so a backwards jump
//! re-visits slots already recorded (the store keeps the first observation,
//! nothing is duplicated) and a forwards jump leaves the skipped slots without
//! samples or heartbeats: unknown, never up or down.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;

use crate::check::{CheckOutcome, Checker, Target};
use crate::cloudwatch::Publisher;
use crate::store::Store;
use crate::{Config, Error};

/// What one cycle did.
#[derive(Debug, Clone)]
pub struct Cycle {
    pub slot: i64,
    pub at: DateTime<Utc>,
    pub results: Vec<(String, CheckOutcome)>,
    /// Samples that were new in the store (0 for a replayed slot).
    pub inserted: usize,
    /// CloudWatch publishing failed (the samples are still in the store).
    pub publish_error: Option<String>,
}

pub struct Probe {
    store: Store,
    checker: Checker,
    targets: Vec<(i64, Target)>,
    probe_name: String,
    slot_secs: i64,
    publisher: Option<Publisher>,
}

impl Probe {
    pub fn new(cfg: &Config, publisher: Option<Publisher>) -> Result<Self, Error> {
        if cfg.targets.is_empty() {
            return Err(Error::Config("no [[availability.targets]] to probe".into()));
        }
        let store = Store::open(&cfg.store, cfg.slot_secs)?;
        let targets = cfg
            .targets
            .iter()
            .map(|t| -> Result<(i64, Target), Error> { Ok((store.target_id(&t.name, &t.spec())?, t.clone())) })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { store, checker: Checker::new()?, targets, probe_name: cfg.probe_name.clone(), slot_secs: cfg.slot_secs, publisher })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Run one cycle as if the clock said `at` (tests inject the clock).
    pub async fn cycle_at(&mut self, at: DateTime<Utc>) -> Result<Cycle, Error> {
        let slot = at.timestamp().div_euclid(self.slot_secs);
        let checker = &self.checker;
        let results: Vec<CheckOutcome> = join_all(self.targets.iter().map(|(_, t)| checker.run(&t.check))).await;
        let rows: Vec<(i64, &CheckOutcome)> = self.targets.iter().map(|(id, _)| *id).zip(results.iter()).collect();
        let inserted = self.store.record(&self.probe_name, slot, at.timestamp_millis(), &rows)?;
        let named: Vec<(String, CheckOutcome)> = self.targets.iter().map(|(_, t)| t.name.clone()).zip(results).collect();
        for (name, r) in &named {
            if r.ok {
                tracing::debug!(target = %name, slot, latency_ms = r.latency_ms, "up");
            } else {
                tracing::warn!(target = %name, slot, reason = r.detail.as_deref().unwrap_or(""), "check failed");
            }
        }
        let publish_error = match &self.publisher {
            Some(p) => p.publish(&self.probe_name, slot * self.slot_secs, &named).await.err(),
            None => None,
        };
        if let Some(e) = &publish_error {
            tracing::warn!(error = %e, "CloudWatch publishing failed; the samples are in the local store");
        }
        Ok(Cycle { slot, at, results: named, inserted, publish_error })
    }

    /// One cycle now.
    pub async fn once(&mut self) -> Result<Cycle, Error> {
        self.cycle_at(Utc::now()).await
    }

    /// Cycles until `stop` resolves, `max_cycles` if given. `on_cycle` sees each.
    pub async fn run(&mut self, max_cycles: Option<u64>, stop: impl std::future::Future<Output = ()>, mut on_cycle: impl FnMut(&Cycle)) -> Result<u64, Error> {
        tokio::pin!(stop);
        let mut done = 0u64;
        let mut last_slot = None;
        loop {
            let now = Utc::now();
            let slot = now.timestamp().div_euclid(self.slot_secs);
            if last_slot != Some(slot) {
                let c = self.cycle_at(now).await?;
                on_cycle(&c);
                last_slot = Some(slot);
                done += 1;
                if max_cycles.is_some_and(|m| done >= m) {
                    return Ok(done);
                }
            }
            let wait = sleep_until_next_slot(Utc::now(), self.slot_secs);
            tokio::select! {
                _ = &mut stop => return Ok(done),
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// Time to the next slot boundary, in (0, slot] whatever the clock did.
pub fn sleep_until_next_slot(now: DateTime<Utc>, slot_secs: i64) -> Duration {
    let ms = now.timestamp_millis();
    let period = slot_secs * 1000;
    let next = (ms.div_euclid(period) + 1) * period;
    Duration::from_millis(u64::try_from((next - ms).clamp(1, period)).unwrap_or(1000))
}

/// How the command line runs the probe.
#[derive(Debug, Clone, Default)]
pub struct RunOpts {
    /// One cycle, then exit (cron / systemd timer / CronJob).
    pub once: bool,
    /// Stop after this many cycles.
    pub cycles: Option<u64>,
    /// Injected clock for tests: cycle i runs at this Unix time + i·interval,
    /// back to back, without sleeping.
    pub simulate_from: Option<i64>,
    /// Print `committed SLOT NEW` on stdout after each committed cycle.
    pub print_commits: bool,
}

/// Run the probe as the command line asked; stops on Ctrl-C / SIGTERM.
pub async fn run_with(cfg: &Config, publisher: Option<Publisher>, opts: &RunOpts) -> Result<u64, Error> {
    let mut probe = Probe::new(cfg, publisher)?;
    let report = |c: &Cycle, print: bool| {
        let down: Vec<&str> = c.results.iter().filter(|(_, r)| !r.ok).map(|(n, _)| n.as_str()).collect();
        if print {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "committed {} {}", c.slot, c.inserted);
            let _ = out.flush();
        } else {
            eprintln!(
                "availability: {} slot {} — {}/{} up{}",
                crate::calendar::to_jst(c.at).format("%Y-%m-%d %H:%M:%S JST"),
                c.slot,
                c.results.len() - down.len(),
                c.results.len(),
                if down.is_empty() { String::new() } else { format!(", down: {}", down.join(", ")) }
            );
        }
    };
    if let Some(start) = opts.simulate_from {
        let n = if opts.once { 1 } else { opts.cycles.unwrap_or(1) };
        for i in 0..n {
            let at = DateTime::from_timestamp(start + i64::try_from(i).unwrap_or(0) * cfg.slot_secs, 0).unwrap_or_else(Utc::now);
            let c = probe.cycle_at(at).await?;
            report(&c, opts.print_commits);
        }
        return Ok(n);
    }
    if opts.once {
        let c = probe.once().await?;
        report(&c, opts.print_commits);
        return Ok(1);
    }
    let stop = shutdown_signal();
    probe.run(opts.cycles, stop, |c| report(c, opts.print_commits)).await
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_is_bounded_by_one_interval_even_after_a_jump() {
        let t = DateTime::from_timestamp(1_800_000_030, 0).unwrap();
        assert_eq!(sleep_until_next_slot(t, 60), Duration::from_secs(30));
        let boundary = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(sleep_until_next_slot(boundary, 60), Duration::from_secs(60));
    }
}
