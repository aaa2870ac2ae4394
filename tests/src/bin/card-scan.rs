//! The card-number sweep's last step (PLANS.md B4), run by `.ci/run` after
//! the suites with `PETBRIDGE_CARD_SCAN` set: reads the tests' log line by
//! line, the findings each test database left when it was read before being
//! dropped, and every key left in Redis (`TEST_REDIS_URL`), and fails when
//! any holds a Luhn-valid 13–19-digit number (or the log shows the token
//! of a link that acts without a login).

use anyhow::{Context, bail};
use petbridge_domain::kernel::cards::contains_card_number;
use petbridge_tests::{card_scan, redis_url};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Some(dir) = card_scan::directory() else { bail!("set PETBRIDGE_CARD_SCAN to the sweep's directory") };
    let mut found: Vec<String> = Vec::new();
    let log = std::fs::read_to_string(dir.join("tests.log")).context("the tests' log")?;
    let mut lines = 0;
    for (n, line) in log.lines().enumerate() {
        lines += 1;
        if contains_card_number(line.as_bytes()) {
            found.push(format!("tests.log line {}", n + 1));
        }
        if shows_a_signed_token(line) {
            found.push(format!("tests.log line {}: a signed link's token", n + 1));
        }
    }
    let databases = std::fs::read_to_string(dir.join("scanned.txt")).unwrap_or_default().lines().count();
    found.extend(std::fs::read_to_string(dir.join("findings.txt")).unwrap_or_default().lines().map(str::to_owned));
    let mut keys = 0;
    if let Some(url) = redis_url() {
        let mut redis = redis::Client::open(url)?.get_multiplexed_async_connection().await?;
        let mut cursor = 0_u64;
        loop {
            let (next, batch): (u64, Vec<String>) =
                redis::cmd("SCAN").arg(cursor).arg("COUNT").arg(1_000).query_async(&mut redis).await?;
            for key in batch {
                keys += 1;
                let kind: String = redis::cmd("TYPE").arg(&key).query_async(&mut redis).await?;
                let read = match kind.as_str() {
                    "string" => redis::cmd("GET").arg(&key).to_owned(),
                    "list" => redis::cmd("LRANGE").arg(&key).arg(0).arg(-1).to_owned(),
                    "hash" => redis::cmd("HGETALL").arg(&key).to_owned(),
                    "set" => redis::cmd("SMEMBERS").arg(&key).to_owned(),
                    "zset" => redis::cmd("ZRANGE").arg(&key).arg(0).arg(-1).to_owned(),
                    "stream" => redis::cmd("XRANGE").arg(&key).arg("-").arg("+").to_owned(),
                    _ => continue,
                };
                let value: redis::Value = read.query_async(&mut redis).await?;
                let holds = if kind == "stream" { stream_holds_card(&value) } else { holds_card(&value) };
                if contains_card_number(key.as_bytes()) || holds {
                    found.push(format!("Redis key {key}"));
                }
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
    println!("card sweep: {lines} log lines, {databases} test databases, {keys} Redis keys: {} findings", found.len());
    if !found.is_empty() {
        for place in &found {
            eprintln!("  {place}");
        }
        bail!("card numbers were stored or logged");
    }
    Ok(())
}

/// Whether a log line shows the token of a link that acts without a login
/// (a pay page, a preference centre), which the request log redacts.
fn shows_a_signed_token(line: &str) -> bool {
    ["/pay/", "/preferences/"].iter().any(|prefix| {
        line.match_indices(prefix).any(|(at, _)| {
            let rest = &line[at + prefix.len()..];
            rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
    })
}

/// Whether any entry of an XRANGE reply holds a card number in its fields
/// (not in its id: Redis makes `<milliseconds>-<n>`, which reads as 14 or
/// more digits and passes the Luhn check one time in ten).
fn stream_holds_card(entries: &redis::Value) -> bool {
    let redis::Value::Array(entries) = entries else { return holds_card(entries) };
    entries.iter().any(|entry| match entry {
        redis::Value::Array(parts) => parts.iter().skip(1).any(holds_card),
        other => holds_card(other),
    })
}

/// Whether any text inside a Redis reply is a card number.
fn holds_card(value: &redis::Value) -> bool {
    use redis::Value;
    match value {
        Value::BulkString(bytes) => contains_card_number(bytes),
        Value::SimpleString(text) => contains_card_number(text.as_bytes()),
        Value::Array(items) | Value::Set(items) => items.iter().any(holds_card),
        Value::Map(pairs) => pairs.iter().any(|(k, v)| holds_card(k) || holds_card(v)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use redis::Value;

    #[test]
    fn a_signed_token_in_a_request_path_is_found_and_a_redacted_one_is_not() {
        assert!(super::shows_a_signed_token("request{path=/pay/KBLaVh_UTg6f/confirmed}: handled"));
        assert!(!super::shows_a_signed_token("request{path=/pay/[redacted]/confirmed}: handled"));
        assert!(!super::shows_a_signed_token("request{path=/dashboard/plans}: handled"));
    }

    #[test]
    fn a_card_number_in_a_stream_entrys_fields_is_found_and_its_id_is_not_read() {
        let entry = |text: &str| {
            Value::Array(vec![Value::Array(vec![
                Value::BulkString(b"1700000000000-0".to_vec()),
                Value::Array(vec![Value::BulkString(b"row".to_vec()), Value::BulkString(text.as_bytes().to_vec())]),
            ])])
        };
        assert!(super::stream_holds_card(&entry(r#"{"note":"card 4242 4242 4242 4242"}"#)));
        assert!(!super::stream_holds_card(&entry(r#"{"amount_cents":8899,"last4":"4242"}"#)));
        // An entry id that reads as a Luhn-valid 14-digit number is Redis's, not ours.
        let id = Value::Array(vec![Value::Array(vec![
            Value::BulkString(b"1796691512596-0".to_vec()),
            Value::Array(vec![Value::BulkString(b"row".to_vec()), Value::BulkString(b"{}".to_vec())]),
        ])]);
        assert!(super::holds_card(&id), "the id alone would be found");
        assert!(!super::stream_holds_card(&id));
    }
}
