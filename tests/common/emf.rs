//! The rules of CloudWatch's embedded metric format that a line can break, checked
//! independently of the code that writes the lines.

use serde_json::Value;

/// The rules of the EMF specification a line can break
/// (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
pub fn violations(line: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let aws = &line["_aws"];
    if !aws["Timestamp"].is_u64() {
        found.push("_aws.Timestamp is not a number of milliseconds".to_owned());
    }
    let Some(directives) = aws["CloudWatchMetrics"].as_array() else {
        return vec!["_aws.CloudWatchMetrics is not an array".to_owned()];
    };
    for d in directives {
        let namespace = d["Namespace"].as_str().unwrap_or_default();
        if namespace.is_empty() || namespace.len() > 255 {
            found.push(format!("bad namespace {namespace:?}"));
        }
        for set in d["Dimensions"].as_array().into_iter().flatten() {
            let names = set.as_array().cloned().unwrap_or_default();
            if names.len() > 30 {
                found.push("more than 30 dimensions in a set".to_owned());
            }
            for name in names {
                let value = name.as_str().map(|n| &line[n]);
                if value.is_none_or(|v| v.as_str().is_none_or(|s| s.len() > 1024)) {
                    found.push(format!("dimension {name} has no string value at the top"));
                }
            }
        }
        let metrics = d["Metrics"].as_array().cloned().unwrap_or_default();
        if metrics.len() > 100 {
            found.push("more than 100 metrics".to_owned());
        }
        for m in metrics {
            let name = m["Name"].as_str().unwrap_or_default();
            if !line[name].is_number() {
                found.push(format!("metric {name} has no number at the top"));
            }
            let unit = m["Unit"].as_str().unwrap_or("None");
            if !["Count", "Milliseconds", "Seconds", "None", "Bytes"].contains(&unit) {
                found.push(format!("unit {unit}"));
            }
        }
    }
    found
}
