//! `amp assets distribute | reissue | burn | update-blinders`: the on-chain
//! jobs of `amp_elements`, with their progress on stderr and the outcome on
//! stdout.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use amp_client::model::DistributionResponse;
use amp_elements::journal::JobKind;
use amp_elements::{ElementsRpc, Event, JobOptions, Outcome, Progress, Treasury};
use serde_json::json;

use super::Ctx;
use crate::body::Sources;
use crate::cli::{DistributeArgs, JobArgs, NodeArgs, SupplyArgs};
use crate::failure::{CliResult, Failure};
use crate::output;

/// `amp assets distribute`.
pub async fn distribute(ctx: &Ctx, args: DistributeArgs) -> CliResult {
    let request: Option<DistributionResponse> = match &args.request {
        Some(raw) => Some(Sources::default().typed("--request", raw, "distribution request")?),
        None => None,
    };
    let treasury = treasury(ctx, &args.node, &args.job)?;
    let journal = journal(ctx, &args.job, JobKind::Distribute, &args.asset_uuid)?;
    let done = treasury
        .distribute(
            &args.asset_uuid,
            args.distribution_uuid.as_deref(),
            request,
            &journal,
        )
        .await
        .map_err(|e| failure(ctx, &e))?;
    print(&done, ctx.json)
}

/// `amp assets reissue` and `amp assets burn`.
pub async fn supply(ctx: &Ctx, kind: JobKind, args: SupplyArgs) -> CliResult {
    let treasury = treasury(ctx, &args.node, &args.job)?;
    let journal = journal(ctx, &args.job, kind, &args.asset_uuid)?;
    let done = match kind {
        JobKind::Burn => treasury.burn(&args.asset_uuid, args.amount, &journal).await,
        _ => {
            treasury
                .reissue(&args.asset_uuid, args.amount, &journal)
                .await
        }
    };
    print(&done.map_err(|e| failure(ctx, &e))?, ctx.json)
}

/// `amp assets update-blinders ASSET` without blinders: from the node.
pub async fn update_blinders(ctx: &Ctx, asset_uuid: &str, node: &NodeArgs) -> CliResult {
    let treasury =
        Treasury::new(ctx.client.clone(), node_client(node)?).progress(Arc::new(StderrProgress));
    let done = treasury
        .update_blinders(asset_uuid)
        .await
        .map_err(|e| failure(ctx, &e))?;
    if ctx.json {
        return output::print_json(&json!({"txid": done.txid, "updated": done.updated}));
    }
    let message = if done.updated.is_empty() {
        format!(
            "AMP has the blinders of every output of issuance {}: nothing sent",
            done.txid
        )
    } else {
        let vouts: Vec<String> = done.updated.iter().map(u32::to_string).collect();
        format!(
            "blinders of issuance {} given to AMP for output{} {}",
            done.txid,
            if vouts.len() == 1 { "" } else { "s" },
            vouts.join(", ")
        )
    };
    output::write_stdout(&format!("{message}\n"))
}

/// The node client the flags describe.
fn node_client(args: &NodeArgs) -> CliResult<ElementsRpc> {
    let url = args.node.as_deref().ok_or_else(|| {
        Failure::usage(
            "configuration error: --node (AMP_NODE_URL): the Elements node's URL is needed, \
             e.g. AMP_NODE_URL=http://USER:PASSWORD@127.0.0.1:7041/",
        )
    })?;
    let mut builder = ElementsRpc::builder(url)
        .allow_insecure_http(args.node_allow_insecure_http)
        .timeout(Duration::from_secs(args.node_timeout));
    if let Some(cookie) = &args.node_cookie {
        builder = builder.cookie_file(cookie);
    }
    builder.build().map_err(|e| {
        Failure::usage(format!(
            "--node (AMP_NODE_URL): {}",
            e.to_string().trim_start_matches("configuration error: ")
        ))
    })
}

/// The jobs over the command's client and the node, reporting on stderr.
fn treasury(ctx: &Ctx, node: &NodeArgs, job: &JobArgs) -> CliResult<Treasury> {
    if job.confirmations == 0 {
        return Err(Failure::usage(
            "configuration error: --confirmations (AMP_CONFIRMATIONS): must be at least 1",
        ));
    }
    let options = JobOptions {
        confirmations: job.confirmations,
        poll_interval: Duration::from_millis(job.poll_interval_ms.max(1)),
        timeout: Duration::from_secs(job.timeout),
        resend_grace: Duration::from_secs(job.resend_grace),
    };
    Ok(Treasury::new(ctx.client.clone(), node_client(node)?)
        .options(options)
        .progress(Arc::new(StderrProgress)))
}

/// `--journal`, or the job's file in the jobs folder.
fn journal(ctx: &Ctx, job: &JobArgs, kind: JobKind, asset_uuid: &str) -> CliResult<PathBuf> {
    if let Some(path) = &job.journal {
        return Ok(path.clone());
    }
    let dir = ctx.jobs_dir.clone().ok_or_else(|| {
        Failure::usage("configuration error: --journal (AMP_JOURNAL): there is no cache folder to keep the journal in; give its path")
    })?;
    Ok(amp_elements::journal_path(&dir, kind, asset_uuid))
}

/// A job's error as the command's failure: usage (exit 2) for what the
/// user typed, AMP's errors as the other commands report them, else 1.
fn failure(ctx: &Ctx, e: &amp_elements::Error) -> Failure {
    match e {
        amp_elements::Error::Amp(e) => Failure::from_client(e, &ctx.flags),
        e if e.is_usage() => Failure::usage(e.to_string()),
        e => Failure::runtime(e.to_string()),
    }
}

/// The outcome: one line for people, the fields with `--json`.
fn print(done: &Outcome, json: bool) -> CliResult {
    if json {
        return output::print_json(&json!({
            "job": done.job.as_str(),
            "asset_uuid": done.asset_uuid,
            "distribution_uuid": done.distribution_uuid,
            "txid": done.txid,
            "vin": done.vin,
            "sent_now": done.sent_now,
            "already_confirmed": done.already_confirmed,
            "journal": done.journal,
        }));
    }
    let what = match (done.job, &done.distribution_uuid) {
        (JobKind::Distribute, Some(d)) => format!("distribution {d}"),
        (kind, _) => kind.as_str().to_string(),
    };
    let how = if done.already_confirmed {
        " (AMP had it already; nothing sent)"
    } else if !done.sent_now {
        " (sent by an earlier run; not sent again)"
    } else {
        ""
    };
    output::write_stdout(&format!(
        "{what} of asset {} confirmed: transaction {}{how}\n",
        done.asset_uuid, done.txid
    ))
}

/// Progress lines on stderr, so stdout carries only the outcome.
struct StderrProgress;

impl Progress for StderrProgress {
    fn event(&self, event: &Event) {
        let line = match event {
            Event::Resumed { phase } => {
                format!("taking the job up from its journal (it got as far as: {phase})")
            }
            Event::WaitingForLateSend { wait } => format!(
                "an earlier run wrote its intent but no txid, and the wallet has no transaction \
                 of this job: looking again in {} s (a send the node was still carrying out may \
                 land) before sending anew",
                wait.as_secs().max(1)
            ),
            Event::Sending => "checks passed; intent written; sending the transaction".to_string(),
            Event::Sent { txid, found: false } => format!("sent: transaction {txid}"),
            Event::Sent { txid, found: true } => {
                format!("found transaction {txid} in the wallet (sent by an earlier run)")
            }
            // The node may mine several blocks between two polls: the last
            // line says the wait is over, not "3/2".
            Event::Confirmations { txid, have, want } if *have >= i64::from(*want) => {
                format!("{txid} has {have} confirmations ({want} wanted)")
            }
            Event::Confirmations { txid, have, want } => {
                format!("waiting for {want} confirmations of {txid}: {have}/{want}")
            }
            Event::AmpConfirmed { txid } => format!("AMP accepted the confirmation of {txid}"),
            Event::AlreadyConfirmed { txid } => format!("AMP has {txid} confirmed already"),
            Event::BlindersUpdated { txid, vout } => {
                format!("blinders of {txid}:{vout} given to AMP")
            }
            _ => return,
        };
        let line = amp_client::text::escape_controls_line(&line).into_owned();
        // Nothing better to do if stderr itself is gone.
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}
