//! C.4.5.1 業務上必要となる連携処理: each 連携処理 the scenario lists is checked
//! by its result, not by reachability — an HTTP answer that must match, the
//! newest exchanged file (S3) that must be fresh and non-empty, or a query on
//! the system's database. Every process is one observation with its name;
//! a process that does not work is NG, one that could not be looked at ERROR.

use std::sync::Arc;
use std::time::Duration;

use gcverify_scenarios::{FileProcessCheck, HttpProcessCheck, IntegrationProcess, SqlProcessCheck};

use super::sql::session::Session;
use super::{Findings, ProbeInput};
use crate::model::Msg;
use gcverify_availability::check::describe;

/// S3's IAM action for ListObjectsV2 (the policy maps the API to it), and the
/// database password's secret for `sql` processes.
pub const ACTIONS: &[&str] = &["s3:ListObjectsV2", "secretsmanager:GetSecretValue"];

/// This module's probes (see `registry`).
pub const PROBES: &[super::registry::ProbeDef] = &[super::registry::ProbeDef {
    name: "integration.processes",
    ja: "連携処理ごとに結果を確認（HTTP応答の内容、交換ファイルの鮮度と中身、DBの照会結果）",
    en: "Each integration process is checked by its result: an HTTP answer, the exchanged file's freshness and content, or a database query",
    detail: "Every `[[integrations.process]]` has one functional check: `http` (status, a header, body text, a JSON pointer's value), `file` (the newest S3 object under a prefix/suffix is younger than `max_age_hours` and at least `min_bytes`), or `sql` (a query on `[database]` in its READ ONLY session returns at least `min`). A wrong status, a stale or empty file, a short count → NG naming the process; an observation that failed (denied, no [database]) → ERROR; no process declared → ERROR.",
    section: "[[integrations.process]]",
    actions: ACTIONS,
    emulator: "local HTTP servers; moto for S3 files; a throwaway PostgreSQL for sql",
    claims: &[super::registry::claim("process-results", "各連携処理が結果（応答・ファイル・件数）で動作を示す", "Each integration process shows it works by its result", super::registry::Basis::Effect)],
    counterfeits: &[crate::probes::registry::counterfeit("http_and_file_processes_are_judged_by_their_results", crate::probes::registry::Class::HappyPathOnly, "an endpoint that answers but returns the wrong result, a stale file", crate::model::Outcome::Ng), crate::probes::registry::counterfeit("sql_processes_use_the_read_only_session_and_one_failure_does_not_spoil_the_next", crate::probes::registry::Class::PartialObservation, "one failing process among several", crate::model::Outcome::Ng)],
    unseen: &[crate::probes::registry::unseen(crate::probes::registry::Class::UnlistedData, "Only the processes the scenario declares are checked.")],
    run: |i| Box::pin(processes(i)),
}];

const SRC_HTTP: &str = "http";
const SRC_S3: &str = "s3:ListObjectsV2";
const SRC_SQL: &str = "sql";

pub async fn processes(input: Arc<ProbeInput>) -> Findings {
    let list = &input.scenario.integrations.processes;
    if list.is_empty() {
        return Findings::cannot(
            "シナリオに [[integrations.process]]（連携処理とその確認方法）がない（対象なし）",
            "no [[integrations.process]] in the scenario (nothing to judge)",
        );
    }
    let timeout = Duration::from_secs(input.scenario.integrations.timeout_secs.max(1));
    // One client for every HTTP process of the run (the aws-lc-rs provider the
    // AWS SDK links; "already installed" is fine).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let client = reqwest::Client::builder().timeout(timeout).user_agent(concat!("gcverify/", env!("CARGO_PKG_VERSION"))).build();
    let mut f = Findings::new();
    let mut session: Option<Result<Session, Msg>> = None;
    for p in list {
        let name = p.name.get_ref().as_str();
        match p {
            IntegrationProcess { http: Some(h), .. } => match &client {
                Ok(c) => http(c, name, h, timeout, &mut f).await,
                Err(e) => f.error(name, None, crate::msg!("HTTP クライアントを作れない: {e}", "HTTP client: {e}"), SRC_HTTP),
            },
            IntegrationProcess { file: Some(c), .. } => file(&input, name, c, &mut f).await,
            IntegrationProcess { sql: Some(q), .. } => {
                if session.is_none() {
                    session = Some(match input.scenario.database.as_ref() {
                        Some(db) => Session::open(db, &input.aws).await.map_err(|e| crate::msg!("データベースに接続できない: {e}", "{e}")),
                        None => Err(Msg::new("シナリオに [database] がない", "no [database] in the scenario")),
                    });
                }
                match session.as_mut() {
                    Some(Ok(s)) => sql(s, name, q, &mut f).await,
                    Some(Err(why)) => f.error(name, None, why.clone(), SRC_SQL),
                    None => {}
                }
            }
            _ => f.error(name, None, Msg::new("http・file・sql のいずれもない", "none of http, file, sql"), "scenario"),
        }
    }
    if let Some(Ok(s)) = session {
        s.close().await;
    }
    f.ok_summary(Msg::new(
        format!("連携処理 {}件すべて結果を確認（HTTP応答・交換ファイル・DB照会）", list.len()),
        format!("all {} integration process(es) checked by their results", list.len()),
    ));
    f
}

async fn http(client: &reqwest::Client, name: &str, h: &HttpProcessCheck, timeout: Duration, f: &mut Findings) {
    let method = match reqwest::Method::from_bytes(h.method.to_ascii_uppercase().as_bytes()) {
        Ok(m) => m,
        Err(_) => return f.error(name, None, crate::msg!("不明な HTTP メソッド {0}", "unknown HTTP method {0}", h.method), "scenario"),
    };
    let mut req = client.request(method.clone(), &h.url);
    for (k, v) in &h.headers {
        req = req.header(k, v);
    }
    if let Some(b) = &h.body {
        req = req.body(b.clone());
    }
    let started = std::time::Instant::now();
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            let url = &h.url;
            let msg = if e.is_timeout() {
                let secs = timeout.as_secs();
                crate::msg!("{method} {url}: {secs} 秒以内に応答なし", "{method} {url}: no answer within {secs} s")
            } else {
                let why = describe(&e);
                crate::msg!("{method} {url}: 接続失敗: {why}", "{method} {url}: {why}")
            };
            return f.fail(name, None, msg, SRC_HTTP);
        }
    };
    let status = resp.status().as_u16();
    let header = h.expect_header.as_ref().map(|eh| (eh.name.clone(), resp.headers().get(eh.name.as_str()).and_then(|v| v.to_str().ok()).map(str::to_string)));
    let body = match resp.text().await {
        Ok(b) => b,
        Err(e) => {
            return f.fail(
                name,
                None,
                crate::msg!("{method} {0}: 応答を読めない: {1}", "{method} {0}: reading the answer failed: {1}", h.url, describe(&e)),
                SRC_HTTP,
            )
        }
    };
    let ms = started.elapsed().as_millis();
    let mut wrong: Vec<Msg> = Vec::new();
    if !h.expect_status.contains(&status) {
        let expected = format!("{:?}", h.expect_status);
        wrong.push(crate::msg!("ステータス {status}、期待 {expected}", "status {status}, expected {expected}"));
    }
    if let (Some(eh), Some((hname, value))) = (&h.expect_header, &header) {
        match (value, &eh.contains) {
            (None, _) => wrong.push(crate::msg!("{hname} ヘッダーなし", "no {hname} header")),
            (Some(v), Some(want)) if !v.contains(want.as_str()) => {
                wrong.push(crate::msg!("{hname} が {want:?} を含まない", "{hname} does not contain {want:?}"))
            }
            _ => {}
        }
    }
    if let Some(want) = &h.body_contains {
        if !body.contains(want.as_str()) {
            wrong.push(crate::msg!("本文に {want:?} がない", "body lacks {want:?}"));
        }
    }
    if let (Some(ptr), Some(want)) = (&h.json_pointer, &h.json_equals) {
        match serde_json::from_str::<serde_json::Value>(&body) {
            Err(_) => wrong.push(Msg::new("応答が JSON でない", "answer is not JSON")),
            Ok(v) => match v.pointer(ptr) {
                None => wrong.push(crate::msg!("JSON に {ptr} がない", "JSON has no {ptr}")),
                Some(found) => {
                    let text = found.as_str().map(str::to_string).unwrap_or_else(|| found.to_string());
                    if &text != want {
                        // The expected value is the scenario's; the answer's value is not repeated.
                        wrong.push(crate::msg!("JSON {ptr} が {want:?} でない", "JSON {ptr} is not {want:?}"));
                    }
                }
            },
        }
    }
    let url = &h.url;
    let what = crate::msg!("{method} {url} → {status}（{ms} ms）", "{method} {url} → {status} in {ms} ms");
    if wrong.is_empty() {
        f.pass(name, None, what, SRC_HTTP);
    } else {
        f.fail(name, None, joined(what, &wrong), SRC_HTTP);
    }
}

/// 「what: 問題1、問題2」 / "what: problem 1; problem 2".
fn joined(what: Msg, wrong: &[Msg]) -> Msg {
    let ja = wrong.iter().map(|m| m.ja.as_str()).collect::<Vec<_>>().join("、");
    let en = wrong.iter().map(|m| m.en.as_str()).collect::<Vec<_>>().join("; ");
    Msg::new(format!("{}: {ja}", what.ja), format!("{}: {en}", what.en))
}

async fn file(input: &ProbeInput, name: &str, c: &FileProcessCheck, f: &mut Findings) {
    let region = c.region.clone().unwrap_or_else(|| input.scenario.aws.primary_region.clone());
    let s3 = input.aws.s3(&region);
    let mut newest: Option<(chrono::DateTime<chrono::Utc>, i64, String)> = None;
    let mut matched = 0usize;
    let mut pages = s3.list_objects_v2().bucket(&c.bucket).prefix(&c.prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => return f.aws_error(SRC_S3, Some(&region), &e),
        };
        for o in page.contents() {
            let key = o.key().unwrap_or("");
            if !key.ends_with(c.suffix.as_str()) {
                continue;
            }
            matched += 1;
            let Some(t) = super::continuity::ts(o.last_modified()) else { continue };
            if newest.as_ref().is_none_or(|(n, _, _)| t > *n) {
                newest = Some((t, o.size().unwrap_or(0), key.to_string()));
            }
        }
    }
    let place = format!("s3://{}/{}*{}", c.bucket, c.prefix, c.suffix);
    let Some((t, size, key)) = newest else {
        return f.fail(
            name,
            None,
            crate::msg!("{place}: ファイルなし（一致したオブジェクト {matched}件）", "{place}: no file ({matched} objects matched)"),
            SRC_S3,
        );
    };
    let age_h = (input.now - t).num_seconds() as f64 / 3600.0;
    let mut wrong: Vec<Msg> = Vec::new();
    if age_h > c.max_age_hours {
        let max = c.max_age_hours;
        wrong.push(crate::msg!("最新が {age_h:.1} 時間前（> {max} 時間）", "newest is {age_h:.1} h old (> {max} h)"));
    }
    if size < c.min_bytes {
        let min = c.min_bytes;
        wrong.push(crate::msg!("最新が {size} バイト（< {min}）", "newest is {size} bytes (< {min})"));
    }
    let what = crate::msg!(
        "{place}: 最新 {key}、{age_h:.1} 時間前、{size} バイト（{matched} ファイル）",
        "{place}: newest {key}, {age_h:.1} h old, {size} bytes ({matched} files)"
    );
    if wrong.is_empty() {
        f.pass(name, Some(&region), what, SRC_S3);
    } else {
        f.fail(name, Some(&region), joined(what, &wrong), SRC_S3);
    }
}

async fn sql(session: &mut Session, name: &str, q: &SqlProcessCheck, f: &mut Findings) {
    // The scenario's own query, inside the READ ONLY transaction with its timeout.
    match session.count(q.query.as_str()).await {
        Ok(v) if v >= q.min => f.pass(name, None, crate::msg!("照会の結果 {v}（≥ {0}）", "query returned {v} (≥ {0})", q.min), SRC_SQL),
        Ok(v) => f.fail(name, None, crate::msg!("照会の結果 {v}（< {0}）", "query returned {v} (< {0})", q.min), SRC_SQL),
        Err(why) => f.error(name, None, crate::msg!("照会できない: {why}", "{why}"), SRC_SQL),
    }
}
