//! `amp sandbox`: a local AMP server until Ctrl-C.
//!
//! The first three lines on stdout are what a user pastes into another shell
//! to point `amp` (or the library) at it; they are flushed at once so a script
//! reading them does not wait for the server to stop. Two comment lines
//! follow (harmless if the whole output is sourced): how to reach the
//! simulated Elements node, by URL with `rpcuser:rpcpassword` and by cookie.

use std::io::Write;
use std::time::Duration;

use amp_client::{PASSWORD_VAR, USERNAME_VAR};
use amp_sandbox::{Fault, Sandbox};

use crate::cli::SandboxArgs;
use crate::failure::{CliResult, Failure};
use crate::output;

/// Starts the sandbox, prints how to reach it, and serves until interrupted.
pub async fn run(args: SandboxArgs) -> CliResult {
    let mut builder = Sandbox::builder()
        .port(args.port)
        .refresh_revokes_old(args.refresh_revokes_old);
    if let Some(seconds) = args.token_life {
        if seconds == 0 {
            return Err(Failure::usage("--token-life: must be more than 0"));
        }
        builder = builder.token_life(Duration::from_secs(seconds));
    }
    if let Some(seed) = args.seed {
        builder = builder.seed(seed);
    }
    builder = builder.node_port(args.node_port);
    if let Some(seconds) = args.block_interval {
        let interval = Duration::try_from_secs_f64(seconds)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                Failure::usage("--block-interval: must be a number of seconds above 0")
            })?;
        builder = builder.block_interval(interval);
    }
    for spec in &args.fault {
        let (route, fault) =
            parse_fault(spec).map_err(|e| Failure::usage(format!("--fault {spec:?}: {e}")))?;
        builder = builder.fault(&route, fault);
    }
    for spec in &args.fault_rate {
        let (route, fault, p) = parse_fault_rate(spec)
            .map_err(|e| Failure::usage(format!("--fault-rate {spec:?}: {e}")))?;
        builder = builder.fault_rate(&route, fault, p);
    }
    let sandbox = builder.start().await.map_err(|e| {
        Failure::runtime(format!(
            "cannot start the sandbox on 127.0.0.1:{}: {e}",
            args.port
        ))
    })?;
    output::write_stdout(&format!(
        "{}={}\n{USERNAME_VAR}={}\n{PASSWORD_VAR}={}\n\
         # Elements node (simulated): {}\n\
         # node cookie: {}\n",
        amp_client::config::vars::BASE_URL,
        sandbox.base_url(),
        sandbox.username(),
        sandbox.password(),
        sandbox.node_url_with_credentials(),
        sandbox.node_cookie_path().display(),
    ))?;
    // A note for people; a closed stderr is no reason to stop serving.
    let _ = writeln!(
        std::io::stderr(),
        "amp sandbox: serving {} (control: {}/stats, /faults, /revoke); Elements node at {} \
         (blocks: {}; control: {}/node/mine, /node/faults); Ctrl-C stops it",
        sandbox.base_url(),
        sandbox.control_url(),
        sandbox.node_url(),
        args.block_interval
            .map_or_else(|| "on request".to_owned(), |s| format!("every {s} s")),
        sandbox.control_url()
    );
    wait_for_stop().await?;
    sandbox.shutdown().await;
    Ok(())
}

/// Ctrl-C, or on Unix also SIGTERM (what `kill` and service managers send).
async fn wait_for_stop() -> CliResult {
    let signal_error = |e: std::io::Error| Failure::runtime(format!("cannot wait for Ctrl-C: {e}"));
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).map_err(signal_error)?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map_err(signal_error),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map_err(signal_error)
    }
}

/// `ROUTE=FAULT`, e.g. `/assets=status:503`.
fn parse_fault(spec: &str) -> Result<(String, Fault), String> {
    let (route, fault) = spec
        .split_once('=')
        .ok_or("expected ROUTE=FAULT, e.g. /assets=status:503")?;
    if route.is_empty() {
        return Err("the route is empty (use * for every route)".into());
    }
    Ok((route.to_string(), fault_kind(fault)?))
}

/// `ROUTE=FAULT@P`, e.g. `/assets=status:500@0.1`.
fn parse_fault_rate(spec: &str) -> Result<(String, Fault, f64), String> {
    let (head, p) = spec
        .rsplit_once('@')
        .ok_or("expected ROUTE=FAULT@P, e.g. /assets=status:500@0.1")?;
    let p: f64 = p
        .parse()
        .ok()
        .filter(|p: &f64| (0.0..=1.0).contains(p))
        .ok_or_else(|| format!("{p:?} is not a probability between 0 and 1"))?;
    let (route, fault) = parse_fault(head)?;
    Ok((route, fault, p))
}

/// `status:CODE`, `rate-limit:SECONDS`, `rate-limit-date:SECONDS`, `delay:MS`,
/// `drop`, `malformed`.
fn fault_kind(text: &str) -> Result<Fault, String> {
    let (kind, arg) = match text.split_once(':') {
        Some((kind, arg)) => (kind, Some(arg)),
        None => (text, None),
    };
    let number = |what: &str| -> Result<u64, String> {
        arg.ok_or_else(|| format!("{kind} needs {what}, e.g. {kind}:5"))?
            .parse()
            .map_err(|_| format!("{kind}: {what} must be a whole number"))
    };
    let fault = match kind {
        "status" => {
            let code = number("a status code")?;
            let code = u16::try_from(code)
                .ok()
                .filter(|c| (200..=999).contains(c))
                .ok_or("status: the code must be between 200 and 999")?;
            Fault::Status(code)
        }
        "rate-limit" => Fault::RateLimitSeconds(number("seconds")?),
        "rate-limit-date" => Fault::RateLimitDate(Duration::from_secs(number("seconds")?)),
        "delay" => Fault::Delay(Duration::from_millis(number("milliseconds")?)),
        "drop" => Fault::DropConnection,
        "malformed" => Fault::MalformedBody,
        other => {
            return Err(format!(
                "unknown fault {other:?}: expected status:CODE, rate-limit:SECONDS, \
                 rate-limit-date:SECONDS, delay:MS, drop or malformed"
            ))
        }
    };
    if arg.is_some() && matches!(fault, Fault::DropConnection | Fault::MalformedBody) {
        return Err(format!("{kind} takes no argument"));
    }
    Ok(fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse() {
        assert_eq!(
            parse_fault("/assets=status:503").unwrap(),
            ("/assets".to_string(), Fault::Status(503))
        );
        assert_eq!(
            parse_fault("/user/obtain_token=rate-limit:5").unwrap().1,
            Fault::RateLimitSeconds(5)
        );
        assert_eq!(
            parse_fault("*=delay:1500").unwrap(),
            ("*".to_string(), Fault::Delay(Duration::from_millis(1500)))
        );
        assert_eq!(parse_fault("/x=drop").unwrap().1, Fault::DropConnection);
        assert_eq!(parse_fault("/x=malformed").unwrap().1, Fault::MalformedBody);
        assert_eq!(
            parse_fault("/x=rate-limit-date:2").unwrap().1,
            Fault::RateLimitDate(Duration::from_secs(2))
        );
        for bad in [
            "/x",
            "=drop",
            "/x=status",
            "/x=status:99",
            "/x=teapot",
            "/x=drop:1",
            "/x=delay:soon",
        ] {
            assert!(parse_fault(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fault_rates_parse() {
        let (route, fault, p) = parse_fault_rate("/assets=status:500@0.25").unwrap();
        assert_eq!(
            (route.as_str(), fault, p),
            ("/assets", Fault::Status(500), 0.25)
        );
        assert!(parse_fault_rate("/assets=status:500").is_err());
        assert!(parse_fault_rate("/assets=status:500@2").is_err());
    }
}
