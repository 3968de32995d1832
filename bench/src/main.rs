//! `make bench`: the Rust MCP endpoint and its Node.js peer (`bench/peers/node`), on
//! loopback against the same DynamoDB Local, measured in one run: cold start (for Rust,
//! the deployed `mcp` bootstrap under the Runtime API emulator), warm latency and
//! throughput, server CPU per call, peak RSS, DynamoDB requests per call (for Rust also
//! with a connected app's OAuth access token), and the floor —
//! a bare strongly consistent GetItem. The machine is shared and noisy, so the two
//! servers alternate and the verdicts are ratios from the same run.
//!
//! Settings (environment): `DYNAMODB_ENDPOINT`, `SECRETS_ENDPOINT` (moto),
//! `MCP_BOOTSTRAP` (the `mcp` function's binary), `RUST_SERVER` (the `knotie-bench-server`
//! binary), `NODE_PEER` (its `server.mjs`, or
//! another build's `knotie-bench-server`: two builds compared in one run, with
//! `PEER_BOOTSTRAP` its `mcp` bootstrap for the cold starts), `COLD_STARTS` (15), `WARM_CALLS` (3000),
//! `FLOOR_WARMUP` (10000), `OUT_DIR` (where results.json and RESULTS.md go).

use std::time::Duration;

use serde_json::{json, Value};

use knotie_bench::measure::{percentile, Bench, Caller, ColdFloor, Kind, PepperFrom, Sample};
use knotie_bench::{cost, limits};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), knotie_local::BoxError> {
    let bench = Bench::set_up().await?;
    let cold_starts = setting("COLD_STARTS", 15);
    let warm_calls = setting("WARM_CALLS", 3000);

    eprintln!(
        "floor: warming DynamoDB Local up ({} GetItems)",
        setting("FLOOR_WARMUP", 10_000)
    );
    let floor = bench
        .floor(setting("FLOOR_WARMUP", 10_000), 1000.min(warm_calls))
        .await?;

    eprintln!(
        "cold starts: {cold_starts} of each, alternating, each Rust one beside its floor's \
         parts: an empty program's exec, the pepper's round trip, the cold start's requests \
         alone in a fresh process"
    );
    let mut cold = Cold::default();
    for _ in 0..cold_starts {
        cold.floor.push(bench.cold_floor().await?);
        let (answered, init) = bench.cold_start_rust().await?;
        cold.rust.push(answered);
        cold.rust_init.push(init);
        // Another build in the peer's place: its bootstrap, cold, the same way.
        if let Ok(peer) = std::env::var("PEER_BOOTSTRAP") {
            let (answered, _) = bench.cold_start_bootstrap(peer.as_ref()).await?;
            cold.node.push(answered);
            continue;
        }
        cold.node
            .push(bench.cold_start_node(PepperFrom::SecretsManager).await?);
        cold.node_pepper_in_env
            .push(bench.cold_start_node(PepperFrom::Env).await?);
    }

    eprintln!(
        "warm: {warm_calls} tools/call get_account each at concurrency 1 and 16, interleaved"
    );
    let warm = bench.warm(warm_calls).await?;

    eprintln!("DynamoDB requests per tools/call, counted by a proxy");
    let mut requests = Vec::new();
    for kind in Kind::BOTH {
        requests.push(
            bench
                .count_requests(kind, 100, Caller::Personal, None)
                .await?,
        );
    }
    let oauth = bench
        .count_requests(Kind::Rust, 100, Caller::ConnectedApp, None)
        .await?;

    eprintln!("cost: units at the default rate limit, and the bootstrap's billed duration");
    // At the template's default limit (120 a minute), below it: the rate counts are
    // written as deployed.
    let mut units = Vec::new();
    for kind in Kind::BOTH {
        units.push(
            bench
                .count_requests(kind, 60, Caller::Fresh, Some(120))
                .await?,
        );
    }
    let billed = bench.billed_rust(5, warm_calls.min(500)).await?;

    eprintln!("the rate limit across instances: a burst from each, simulated");
    let limits = limits::simulate(&knotie_local::Local::from_env().await?).await?;

    let mut results = report(&bench, floor, &cold, &warm, &requests);
    results["dynamodb_requests_per_call"]["rust_oauth_access_token"] = oauth;
    results["rate_limit_across_instances"] = limits;
    results["cost_per_million_calls"] = costs(&results, &cold, &billed, &units);
    // A cold start's floor (the issue's): exec, the pepper, then the first call's two
    // reads one after the other (the token, then its account).
    let getitem = results["floor_getitem_p50_ms"].as_f64().unwrap_or(f64::NAN);
    let median = |part: fn(&ColdFloor) -> Duration| {
        let samples: Vec<Duration> = cold.floor.iter().map(part).collect();
        ms(percentile(&samples, 50))
    };
    let (exec, pepper) = (median(|f| f.exec), median(|f| f.pepper));
    let floor = exec + pepper + 2.0 * getitem;
    let cold_median = results["cold_start_ms"]["rust"]["median"]
        .as_f64()
        .unwrap_or(f64::NAN);
    let bare = median(|f| f.requests);
    let ratio = |a: f64, b: f64| (a / b * 100.0).round() / 100.0;
    results["cold_start_floor_ms"] = json!({
        "exec_empty_program": exec,
        "pepper_first_read": pepper,
        "first_call_reads": (2.0 * getitem * 100.0).round() / 100.0,
        "total": (floor * 100.0).round() / 100.0,
        "cold_start_over_floor": ratio(cold_median, floor),
        "requests_alone_fresh_process": bare,
        "cold_start_over_requests_alone": ratio(cold_median, bare),
    });
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| "bench".into());
    // Minutes of measuring must not be lost to a directory that is not there yet.
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        format!("{out}/results.json"),
        serde_json::to_string_pretty(&results)? + "\n",
    )?;
    let table = markdown(&results);
    std::fs::write(format!("{out}/RESULTS.md"), &table)?;
    println!("{table}");
    Ok(())
}

/// Dollars per million calls for each side, from this run's figures: Rust's warm calls
/// billed as the bootstrap ran them under the emulator, the peer's as its warm latency at
/// concurrency 1 (it has no Lambda handler to time); cold starts as measured above.
fn costs(results: &Value, cold: &Cold, billed: &[Duration], units: &[Value]) -> Value {
    let measured = |warm_ms: f64, cold_ms: f64, units: &Value| cost::Measured {
        warm_ms,
        cold_ms,
        read_units: units["read_units"].as_f64().unwrap_or(f64::NAN),
        write_units: units["write_units"].as_f64().unwrap_or(f64::NAN),
    };
    let node_warm = results["warm"]["concurrency_1"]["node"]["p50_ms"]
        .as_f64()
        .unwrap_or(f64::NAN);
    let rust = measured(
        ms(percentile(billed, 50)),
        ms(percentile(&cold.rust, 50)),
        &units[Kind::Rust as usize],
    );
    let node = measured(
        node_warm,
        ms(percentile(&cold.node, 50)),
        &units[Kind::Node as usize],
    );
    json!({
        "rust": cost::per_million(&rust),
        "node": cost::per_million(&node),
        "assumptions": cost::assumptions(),
    })
}

/// Cold starts, each from exec to its first answer (and the Rust bootstrap's init).
#[derive(Default)]
struct Cold {
    rust: Vec<Duration>,
    rust_init: Vec<Duration>,
    /// Its pepper from Secrets Manager, as the Rust bootstrap: the comparison.
    node: Vec<Duration>,
    /// Its pepper in its environment: what the peer skips that a deployed function
    /// cannot.
    node_pepper_in_env: Vec<Duration>,
    /// Beside each Rust cold start.
    floor: Vec<ColdFloor>,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 100.0
}

fn report(
    bench: &Bench,
    floor: Vec<Duration>,
    cold: &Cold,
    warm: &[Sample],
    requests: &[Value],
) -> Value {
    let floor_p50 = ms(percentile(&floor, 50));
    let by = |kind: Kind, concurrency: usize| {
        warm.iter()
            .find(|s| s.kind == kind && s.concurrency == concurrency)
            .expect("every run was measured")
    };
    let side = |kind: Kind| {
        let c1 = by(kind, 1);
        let c16 = by(kind, 16);
        json!({
            "c1": { "p50_ms": ms(c1.p(50)), "p99_ms": ms(c1.p(99)), "rps": c1.rps() },
            "c16": { "p50_ms": ms(c16.p(50)), "p99_ms": ms(c16.p(99)), "rps": c16.rps() },
            "cpu_us_per_call": ((c1.cpu_us_per_call() + c16.cpu_us_per_call()) / 2.0).round(),
            "peak_rss_mb": c16.peak_rss_mb.max(c1.peak_rss_mb),
            "overhead_above_floor_p50_ms": ((ms(c1.p(50)) - floor_p50) * 100.0).round() / 100.0,
            "dynamodb_requests_per_call": requests[kind as usize],
        })
    };
    let cold_ms = |times: &[Duration]| json!({ "median": ms(percentile(times, 50)), "p90": ms(percentile(times, 90)), "n": times.len() });
    let (mut rust, mut node) = (side(Kind::Rust), side(Kind::Node));
    rust["cold_start_ms"] = cold_ms(&cold.rust);
    rust["cold_start_ms"]["init_median"] = ms(percentile(&cold.rust_init, 50)).into();
    node["cold_start_ms"] = cold_ms(&cold.node);
    node["cold_start_ms"]["pepper_in_env"] = cold_ms(&cold.node_pepper_in_env);
    let ratio = |path: &[&str]| {
        let get = |v: &Value| {
            path.iter()
                .fold(v.clone(), |v, k| v[*k].clone())
                .as_f64()
                .unwrap_or(f64::NAN)
        };
        ((get(&node) / get(&rust)) * 10.0).round() / 10.0
    };
    let pepper_in_env = {
        let env = node["cold_start_ms"]["pepper_in_env"]["median"].as_f64();
        let rust = rust["cold_start_ms"]["median"].as_f64();
        (env.unwrap_or(f64::NAN) / rust.unwrap_or(f64::NAN) * 10.0).round() / 10.0
    };
    json!({
        "machine": bench.machine(),
        "floor_getitem_p50_ms": floor_p50,
        "cold_start_ms": { "rust": rust["cold_start_ms"], "node": node["cold_start_ms"] },
        "cpu_us_per_call": { "rust": rust["cpu_us_per_call"], "node": node["cpu_us_per_call"] },
        "peak_rss_mb": { "rust": rust["peak_rss_mb"], "node": node["peak_rss_mb"] },
        "warm": { "concurrency_1": { "rust": rust["c1"], "node": node["c1"] }, "concurrency_16": { "rust": rust["c16"], "node": node["c16"] } },
        "overhead_above_floor_p50_ms": { "rust": rust["overhead_above_floor_p50_ms"], "node": node["overhead_above_floor_p50_ms"] },
        "dynamodb_requests_per_call": { "rust": rust["dynamodb_requests_per_call"], "node": node["dynamodb_requests_per_call"] },
        "node_over_rust": {
            "cold_start": ratio(&["cold_start_ms", "median"]),
            "cold_start_node_pepper_in_env": pepper_in_env,
            "cpu_per_call": ratio(&["cpu_us_per_call"]),
            "peak_rss": ratio(&["peak_rss_mb"]),
        },
    })
}

fn markdown(r: &Value) -> String {
    let cell = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let row = |label: &str, rust: &Value, node: &Value, ratio: &Value| {
        format!(
            "| {label} | {} | {} | {} |\n",
            cell(rust),
            cell(node),
            cell(ratio)
        )
    };
    let warm = &r["warm"];
    let mut t = String::from("# Benchmark: Rust MCP endpoint vs the Node.js peer\n\n");
    t += &format!(
        "Machine: {}. Floor (bare consistent GetItem, p50): {} ms.\n\n",
        r["machine"]["summary"].as_str().unwrap_or("?"),
        r["floor_getitem_p50_ms"]
    );
    t += "| measure | Rust | Node | Node ÷ Rust |\n|---|---|---|---|\n";
    t += &row(
        "cold start, exec → first tools/call answered, pepper from Secrets Manager, median ms",
        &r["cold_start_ms"]["rust"]["median"],
        &r["cold_start_ms"]["node"]["median"],
        &r["node_over_rust"]["cold_start"],
    );
    // Not measured when another build takes the peer's place.
    if r["cold_start_ms"]["node"]["pepper_in_env"]["median"].as_f64() != Some(0.0) {
        t += &row(
            "… Node given its pepper in its environment instead",
            &Value::Null,
            &r["cold_start_ms"]["node"]["pepper_in_env"]["median"],
            &r["node_over_rust"]["cold_start_node_pepper_in_env"],
        );
    }
    t += &row(
        "cold start p90 ms",
        &r["cold_start_ms"]["rust"]["p90"],
        &r["cold_start_ms"]["node"]["p90"],
        &Value::Null,
    );
    t += &row(
        "of which init (exec → first poll for an event), median ms",
        &r["cold_start_ms"]["rust"]["init_median"],
        &Value::Null,
        &Value::Null,
    );
    t += &row(
        "server CPU per call, µs",
        &r["cpu_us_per_call"]["rust"],
        &r["cpu_us_per_call"]["node"],
        &r["node_over_rust"]["cpu_per_call"],
    );
    t += &row(
        "peak RSS, MB",
        &r["peak_rss_mb"]["rust"],
        &r["peak_rss_mb"]["node"],
        &r["node_over_rust"]["peak_rss"],
    );
    for (label, key) in [
        ("concurrency 1", "concurrency_1"),
        ("concurrency 16", "concurrency_16"),
    ] {
        for (what, field) in [("p50 ms", "p50_ms"), ("p99 ms", "p99_ms"), ("req/s", "rps")] {
            t += &row(
                &format!("{label}: {what}"),
                &warm[key]["rust"][field],
                &warm[key]["node"][field],
                &Value::Null,
            );
        }
    }
    t += &row(
        "p50 above the GetItem floor, ms",
        &r["overhead_above_floor_p50_ms"]["rust"],
        &r["overhead_above_floor_p50_ms"]["node"],
        &Value::Null,
    );
    t += &row(
        "DynamoDB requests per tools/call",
        &r["dynamodb_requests_per_call"]["rust"]["total"],
        &r["dynamodb_requests_per_call"]["node"]["total"],
        &Value::Null,
    );
    t += &row(
        "… with a connected app's OAuth access token",
        &r["dynamodb_requests_per_call"]["rust_oauth_access_token"]["total"],
        &Value::Null,
        &Value::Null,
    );
    let f = &r["cold_start_floor_ms"];
    t += &format!(
        "\nCold start against its floor (each part timed alone in this run): exec to exit of \
         an empty program {} ms + the pepper's first read {} ms + the first call's two reads \
         {} ms = {} ms; the cold start is {}× that. The cold start's own requests alone \
         (the pepper, the token, then its account beside the rate count's write) made by a \
         fresh process through the same SDK, exec to exit: {} ms; the cold start is {}× \
         that.\n",
        f["exec_empty_program"],
        f["pepper_first_read"],
        f["first_call_reads"],
        f["total"],
        f["cold_start_over_floor"],
        f["requests_alone_fresh_process"],
        f["cold_start_over_requests_alone"]
    );
    let c = &r["cost_per_million_calls"];
    t += "\n## What a million calls cost\n\n";
    t += &format!(
        "US dollars, on-demand: arm64 Lambda at {} MB, DynamoDB on demand (prices read {}); \
         {}% of calls start an instance; every call a `tools/call get_account` at the \
         default rate limit (its rate counts written as deployed). Billed duration: Rust's \
         bootstrap under the Runtime API emulator, event to next poll; the Node peer's warm \
         latency at concurrency 1; each rounded up to the ms as Lambda bills. The peer \
         neither limits rates nor records last use: it writes nothing.\n\n",
        c["assumptions"]["memory_mb"].as_f64().unwrap_or(0.0),
        c["assumptions"]["prices_usd"]["read"]
            .as_str()
            .unwrap_or("?"),
        c["assumptions"]["cold_share"].as_f64().unwrap_or(0.0) * 100.0,
    );
    t += "| per million calls | Rust | Node |\n|---|---|---|\n";
    for (label, key) in [
        ("billed ms per call (average)", "billed_ms_per_call"),
        ("DynamoDB read units per call", "read_units_per_call"),
        ("DynamoDB write units per call", "write_units_per_call"),
        ("Lambda requests, $", "lambda_requests"),
        ("Lambda duration, $", "lambda_duration"),
        ("DynamoDB reads, $", "dynamodb_reads"),
        ("DynamoDB writes, $", "dynamodb_writes"),
        ("total, $", "total"),
    ] {
        t += &format!("| {label} | {} | {} |\n", c["rust"][key], c["node"][key]);
    }
    t += "\n## The rate limit across instances\n\n";
    t += "One token, a burst from every instance at once within one minute (each instance \
          one call at a time, its counts sent before its next call, as on Lambda): calls \
          admitted.\n\n";
    t += "| instances | limit / min | admitted | over | over % | bound stated before |\n|---|---|---|---|---|---|\n";
    for run in r["rate_limit_across_instances"]
        .as_array()
        .into_iter()
        .flatten()
    {
        t += &format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            run["instances"],
            run["limit"],
            run["admitted"],
            run["over"],
            run["over_pct"],
            run["stated_bound"]
        );
    }
    t
}
