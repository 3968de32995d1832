//! What a million MCP calls cost, from what `make bench` counted and timed in the same
//! run, at the published on-demand prices. Every price and assumption is here, once.
//! Function URLs cost nothing beyond the function's own requests and duration.

use serde_json::{json, Value};

/// Published prices, US East (N. Virginia), read 2026-12-07 from
/// <https://aws.amazon.com/lambda/pricing/> and
/// <https://aws.amazon.com/dynamodb/pricing/on-demand/> (on-demand throughput since the
/// 2024-11-01 reduction). The first tier of Lambda's duration pricing; free tiers left out.
pub const LAMBDA_PER_MILLION_REQUESTS: f64 = 0.20;
pub const LAMBDA_ARM64_PER_GB_SECOND: f64 = 0.000_013_333_4;
pub const DYNAMODB_PER_MILLION_READ_UNITS: f64 = 0.125;
pub const DYNAMODB_PER_MILLION_WRITE_UNITS: f64 = 0.625;
/// The MCP function's memory in template.yaml; the Node peer is priced at the same.
pub const MEMORY_MB: f64 = 256.0;
/// The share of calls that start an instance: an assumption (traffic that keeps
/// instances warm makes it far smaller; a call every quarter hour, nearly all).
pub const COLD_SHARE: f64 = 0.01;

/// One implementation's counted and timed figures.
pub struct Measured {
    /// Billed duration of a warm call: its wall time, rounded up to the millisecond as
    /// Lambda bills it.
    pub warm_ms: f64,
    /// Billed duration of a cold start (init is billed, from 2025-08-01): exec to the
    /// first answer, rounded up.
    pub cold_ms: f64,
    /// DynamoDB units per call as DynamoDB reported them, background writes included.
    pub read_units: f64,
    pub write_units: f64,
}

/// Dollars per million calls, by line, and the assumptions.
pub fn per_million(m: &Measured) -> Value {
    let billed_ms = m.warm_ms.ceil() * (1.0 - COLD_SHARE) + m.cold_ms.ceil() * COLD_SHARE;
    let gb_seconds = billed_ms / 1000.0 * MEMORY_MB / 1024.0 * 1e6;
    let round = |dollars: f64| (dollars * 1000.0).round() / 1000.0;
    let requests = LAMBDA_PER_MILLION_REQUESTS;
    let duration = gb_seconds * LAMBDA_ARM64_PER_GB_SECOND;
    let reads = m.read_units * DYNAMODB_PER_MILLION_READ_UNITS;
    let writes = m.write_units * DYNAMODB_PER_MILLION_WRITE_UNITS;
    json!({
        "billed_ms_per_call": (billed_ms * 100.0).round() / 100.0,
        "read_units_per_call": (m.read_units * 1000.0).round() / 1000.0,
        "write_units_per_call": (m.write_units * 1000.0).round() / 1000.0,
        "lambda_requests": round(requests),
        "lambda_duration": round(duration),
        "dynamodb_reads": round(reads),
        "dynamodb_writes": round(writes),
        "total": round(requests + duration + reads + writes),
    })
}

/// The assumptions a reader needs beside the table.
pub fn assumptions() -> Value {
    json!({
        "memory_mb": MEMORY_MB,
        "cold_share": COLD_SHARE,
        "prices_usd": {
            "lambda_per_million_requests": LAMBDA_PER_MILLION_REQUESTS,
            "lambda_arm64_per_gb_second": LAMBDA_ARM64_PER_GB_SECOND,
            "dynamodb_per_million_read_units": DYNAMODB_PER_MILLION_READ_UNITS,
            "dynamodb_per_million_write_units": DYNAMODB_PER_MILLION_WRITE_UNITS,
            "read": "2026-12-07, US East (N. Virginia), aws.amazon.com/lambda/pricing and aws.amazon.com/dynamodb/pricing/on-demand",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_millisecond_call_costs_its_request_its_duration_and_its_units() {
        let m = Measured {
            warm_ms: 0.4,
            cold_ms: 0.0,
            read_units: 1.0,
            write_units: 0.0,
        };
        let cost = per_million(&m);
        // 0.99 ms billed a call at 256 MB: 247.5 GB-s a million calls.
        assert_eq!(cost["lambda_duration"], 0.003);
        assert_eq!(cost["dynamodb_reads"], 0.125);
        assert_eq!(cost["total"], 0.328);
    }
}
