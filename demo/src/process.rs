//! A program run by a test with a time limit: killed by its own pid (never
//! by name, so nothing else is touched) when it overruns.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Run `cmd` (stdin closed, output captured) and wait at most `limit`.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Result<Output> {
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().with_context(|| format!("starting {cmd:?}"))?;
    let id = child.id();
    let deadline = Instant::now() + limit;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(out) => return out.with_context(|| format!("waiting for {cmd:?}")),
            Err(_) if Instant::now() > deadline => {
                let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
                bail!("{cmd:?} did not finish within {limit:?}");
            }
            Err(_) => {}
        }
    }
}
