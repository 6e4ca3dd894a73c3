//! The one rule for http(s) addresses people configure (webhook and Slack channels, probes,
//! deployer targets, repository and CI links): a scheme, a host that URL parsers accept, an
//! optional port, no spaces or control characters. Checked where they are entered, so a bad one
//! is a 422 at once rather than a failure at 3 a.m. when the address is first used.

const MAX_LEN: usize = 2048;

/// `Ok` for an http:// or https:// URL with a host; otherwise what is wrong, naming `field`.
pub fn check(field: &str, url: &str) -> Result<(), String> {
    if problem(url) {
        Err(format!(
            "{field} must be an http:// or https:// URL with a host (https://host[:port]/path), without spaces, at most {MAX_LEN} characters."
        ))
    } else {
        Ok(())
    }
}

/// Whether `url` passes [`check`]: what a page may link to of an address someone sent.
pub fn is_web(url: &str) -> bool {
    !problem(url)
}

fn problem(url: &str) -> bool {
    // Schemes are case-insensitive (RFC 3986 3.1).
    let scheme_end = url.find("://").unwrap_or(0);
    let scheme = url[..scheme_end].to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return true;
    }
    let rest = &url[scheme_end + 3..];
    if url.len() > MAX_LEN || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return true;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.strip_prefix('[') {
        // An IPv6 literal: [address] then an optional :port.
        Some(v6) => match v6.split_once(']') {
            Some((address, after)) if !address.is_empty() => match after {
                "" => (address, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (address, Some(port)),
                    None => return true,
                },
            },
            _ => return true,
        },
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    let bad_host =
        host.is_empty() || host.contains(['[', ']', '<', '>', '"', '\\', '^', '`', '{', '|', '}']);
    let bad_port = port.is_some_and(|p| !p.is_empty() && p.parse::<u16>().is_err());
    bad_host || bad_port
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_people_use_pass() {
        for ok in [
            "https://hooks.slack.com/services/T0/B0/x",
            "http://127.0.0.1:9090/api",
            "http://[::1]:8080/healthz",
            "https://user:pass@example.com/path?q=1#f",
            "http://svc",
            "HTTPS://Example.com/",
        ] {
            assert!(check("url", ok).is_ok(), "{ok}");
            assert!(is_web(ok), "{ok}");
        }
    }

    #[test]
    fn what_breaks_a_parser_or_has_no_host_is_refused() {
        for bad in [
            "ftp://example.com",
            "http://",
            "http://[",
            "http://[::1",
            "http://[::1]x",
            "http:///path",
            "http://host:99999/",
            "http://host:port/",
            "http://exa mple.com",
            "http://a\u{1}b",
            "https://ex[ample.com",
            "javascript:alert(1)",
        ] {
            assert!(check("url", bad).is_err(), "{bad}");
            assert!(!is_web(bad), "{bad}");
        }
        assert!(check("url", &format!("https://a.b/{}", "x".repeat(2048))).is_err());
    }
}
